#!/usr/bin/env bash
# Emulated Cortex-M4 instructions per inference, layer / patch / QuantMCU (not a test):
# MobileNetV1 0.25 on f746 (plan --sram 64K + calibration), MobileNetV2 on big (split 13,
# 4x4 + calibration). Checks the firmware output against the host for every run. Ends with
# the ratios patch / QuantMCU for the whole model and for the patch stage (--profile runs:
# ~60 instructions of profiling per op execution, the same in both modes).
# usage: bench/mcu_modes.sh [IMAGES_PER_MODEL]   (QUANTMCU_DATA, default ../shared; build/ must exist;
#        QUANTMCU_PLAN_OPTS: extra QuantMCU plan options, e.g. "--quant-scheme v1")
set -euo pipefail
cd "$(dirname "$0")/.."
D=${QUANTMCU_DATA:-$(cd .. && pwd)/shared}
N=${1:-2}
Q=build/quantmcu
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
V1=$D/models/mobilenet_v1_0.25_128_quant.tflite
V2=$D/models/mobilenet_v2_1.0_224_quant.tflite
$Q plan "$V1" --sram 64K --calib "$D/imagenet-dev" ${QUANTMCU_PLAN_OPTS:-} -o "$T/v1.json" --quiet > /dev/null
$Q plan "$V2" --split 13 --grid 4x4 --calib "$D/imagenet-dev" ${QUANTMCU_PLAN_OPTS:-} -o "$T/v2.json" --quiet > /dev/null
imgs=$(ls "$D/imagenet-dev" | sort | sed -n "33,$((32 + N))p" | sed "s|^|$D/imagenet-dev/|")
printf "| model | board | mode | instructions / inference | arena (ELF) | planner | flash | firmware = host |\n|---|---|---|---|---|---|---|---|\n"
for spec in "v1 $V1 f746 layer" "v1 $V1 f746 patch" "v1 $V1 f746 quantmcu" "v2 $V2 big layer" "v2 $V2 big patch" "v2 $V2 big quantmcu"; do
  set -- $spec
  if ! $Q mcu "$2" --plan "$T/$1.json" --mode $4 --board $3 $imgs --json --profile > "$T/r.json" 2> "$T/err"; then
    echo "| $(basename "$2" .tflite) | $3 | $4 | refused: $(cut -c1-120 "$T/err") | | | | |"; continue
  fi
  same=yes
  for img in $imgs; do
    $Q run "$2" "$img" --mode $4 --plan "$T/$1.json" --dump-output "$T/h.bin" > /dev/null
    $Q mcu "$2" --plan "$T/$1.json" --mode $4 --board $3 "$img" --dump-output "$T/m.bin" > /dev/null
    cmp -s "$T/h.bin" "$T/m.bin" || same=NO
  done
  cp "$T/r.json" "$T/$1_$4.json"
  python3 - "$T/r.json" "$(basename "$2" .tflite)" $3 $4 $same <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
ins = d["instructions"]
print("| %s | %s | %s | %s (mean %.0f) | %d | %d | %d | %s |" % (sys.argv[2], sys.argv[3], sys.argv[4], ", ".join(str(i) for i in ins),
      sum(ins) / len(ins), d["arena_bytes"], d["planned_arena_bytes"], d["flash_bytes"], sys.argv[5]))
PY
done
echo
printf "| model | patch / QuantMCU, whole model | patch / QuantMCU, patch stage |\n|---|---|---|\n"
for v in v1 v2; do
  python3 - "$T/${v}_patch.json" "$T/${v}_quantmcu.json" <<'PY'
import json, os, sys
p, q = (json.load(open(f)) for f in sys.argv[1:3])
mean = lambda d, k: sum(d[k]) / len(d[k])
print("| %s | %.3f | %.3f |" % (os.path.basename(p["model"]).replace(".tflite", ""), mean(p, "instructions") / mean(q, "instructions"),
      mean(p, "patch_stage_instructions") / mean(q, "patch_stage_instructions")))
PY
done
