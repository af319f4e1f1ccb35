#!/usr/bin/env bash
# QuantMCU benchmark (not a test): calibrate on the first 32 dev images, evaluate on the other
# 468, paired against --mode patch with the same plan geometry. Prints markdown tables.
# usage: bench/quantmcu_sweep.sh [OUT_DIR]   (QUANTMCU_DATA, default ../shared; build/ must exist)
set -euo pipefail
cd "$(dirname "$0")/.."
D=${QUANTMCU_DATA:-$(cd .. && pwd)/shared}
OUT=${1:-build/quantmcu_sweep}
Q=build/quantmcu
T=${THREADS:-$(nproc)}
mkdir -p "$OUT"
V2=$D/models/mobilenet_v2_1.0_224_quant.tflite
V1=$D/models/mobilenet_v1_0.25_128_quant.tflite
CAL="--calib $D/imagenet-dev --calib-count 32"
EV="--images $D/imagenet-dev --skip 32 --threads $T --json"

run() { # name model plan-args...
  local name=$1 model=$2; shift 2
  local t0=$SECONDS
  $Q plan "$model" "$@" $CAL -o "$OUT/$name.plan.json" --quiet > "$OUT/$name.plan.txt"
  $Q eval "$model" $EV --mode quantmcu --plan "$OUT/$name.plan.json" > "$OUT/$name.eval.json" 2>/dev/null
  echo "$name done ($((SECONDS - t0)) s)" >&2
}

# baselines: patch mode (all 8-bit) with the same geometry
$Q eval "$V2" $EV --mode patch --split 13 --grid 4x4 > "$OUT/v2_patch.eval.json" 2>/dev/null
for l in 0.2 0.35 0.5 0.65 0.8; do run "v2_lambda$l" "$V2" --split 13 --grid 4x4 --lambda $l; done
for f in 0.05 0.1 0.4; do run "v2_f$f" "$V2" --split 13 --grid 4x4 --outlier-tiles $f; done
cp "$OUT/v2_lambda0.5.plan.json" "$OUT/v2_f0.2.plan.json"; cp "$OUT/v2_lambda0.5.eval.json" "$OUT/v2_f0.2.eval.json"
cp "$OUT/v2_lambda0.5.plan.txt" "$OUT/v2_f0.2.plan.txt"
$Q eval "$V2" $EV --mode quantmcu --plan "$OUT/v2_lambda0.5.plan.json" --no-vdpc > "$OUT/v2_novdpc.eval.json" 2>/dev/null
run v2_bits864 "$V2" --split 13 --grid 4x4 --bits 8,6,4
run v2_guard1 "$V2" --split 13 --grid 4x4 --bits 8,6,5,4,3,2 --max-agreement-drop 1

# MobileNetV1: the plan `plan --sram 128K` picks, and the 64K one
$Q plan "$V1" --sram 128K --quiet > "$OUT/v1_128k.plan.txt" || true
$Q plan "$V1" --sram 64K -o "$OUT/v1_64k_geom.json" --quiet > /dev/null
SPLIT=$(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(d['split'], '%dx%d' % tuple(d['grid']))" "$OUT/v1_64k_geom.json")
set -- $SPLIT
$Q eval "$V1" $EV --mode patch --split $1 --grid $2 > "$OUT/v1_patch.eval.json" 2>/dev/null
run v1_64k "$V1" --split $1 --grid $2

python3 bench/quantmcu_tables.py "$OUT"
