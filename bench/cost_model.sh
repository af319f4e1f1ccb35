#!/usr/bin/env bash
# Fits and checks the cost model (src/planning/cost_model.c; not a test). For each plan below:
# `quantmcu mcu --profile` on one dev image (per-op instructions and what each op executes) and a
# plain `mcu` run (the instructions of the firmware as shipped). The fit (bench/fit_cost_model.py:
# per op kind, instructions = a*MACs + b*output elements + c*input elements + d*output rows + e*calls, least squares
# on relative error, the ~60 instructions of profiling per op execution removed) uses the plans
# marked "fit"; the table compares predicted and measured whole-plan instructions on every plan.
# usage: bench/cost_model.sh [--write]   (--write: store the fitted coefficients in
#        src/planning/cost_model_coef.inc; rebuild to use them)      QUANTMCU_DATA, default ../shared
set -euo pipefail
cd "$(dirname "$0")/.."
D=${QUANTMCU_DATA:-$(cd .. && pwd)/shared}
Q=build/quantmcu
T=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
V1=$D/models/mobilenet_v1_0.25_128_quant.tflite
V2=$D/models/mobilenet_v2_1.0_224_quant.tflite
MC=$D/models/mcunet_vww_int8.tflite
VW=$D/models/mlperf_vww_96_int8.tflite
img=$D/imagenet-dev/$(ls "$D/imagenet-dev" | sort | sed -n 33p)
# role|name|model|board|plan options
plans=(
  "fit|v2 13 3x3 recompute|$V2|big|--split 13 --grid 3x3 --halo recompute"
  "fit|v2 13 4x4 cached|$V2|big|--split 13 --grid 4x4 --halo cached"
  "fit|v2 13 6x6 recompute|$V2|big|--split 13 --grid 6x6 --halo recompute"
  "fit|v2 256K streamed|$V2|big|--sram 256K --input-in-sram no"
  "fit|v1 layer|$V1|f746|--split 0 --grid 1x1"
  "fit|v1 64K|$V1|f746|--sram 64K"
  "fit|mcunet layer|$MC|big|--split 0 --grid 1x1"
  "fit|mcunet 96K|$MC|big|--sram 96K"
  "check|v2 13 3x3 cached|$V2|big|--split 13 --grid 3x3 --halo cached"
  "check|v2 13 4x4 recompute|$V2|big|--split 13 --grid 4x4 --halo recompute"
  "check|v2 13 7x7 recompute|$V2|big|--split 13 --grid 7x7 --halo recompute"
  "check|v2 172K streamed|$V2|big|--sram 172K --input-in-sram no"
  "check|v2 320K|$V2|big|--sram 320K"
  "check|v1 8 4x4 cached|$V1|f746|--split 8 --grid 4x4 --halo cached"
  "check|v1 24K streamed|$V1|big|--sram 24K --input-in-sram no"
  "check|vww layer|$VW|f746|--split 0 --grid 1x1"
)
k=0
for spec in "${plans[@]}"; do
  IFS='|' read -r role name model board opts <<< "$spec"
  k=$((k + 1))
  # shellcheck disable=SC2086
  $Q plan "$model" $opts -o "$T/p$k.json" --quiet > /dev/null
  mode=patch; grep -q '"split": 0' "$T/p$k.json" && mode=layer
  $Q mcu "$model" "$img" --plan "$T/p$k.json" --mode $mode --board "$board" --profile > "$T/prof$k.txt"
  $Q mcu "$model" "$img" --plan "$T/p$k.json" --mode $mode --board "$board" --json > "$T/run$k.json"
  echo "$role|$name|$T/prof$k.txt|$T/run$k.json" >> "$T/list"
  echo "cost_model: $k/${#plans[@]} $name" >&2
done
python3 bench/fit_cost_model.py "$T/list" ${1:+"$1"}
