#!/usr/bin/env bash
# The whole pipeline on shared models (set-up included):
#  1. MobileNetV2 planned for a 320 kB SRAM budget (split x grid x halo search);
#  2. QuantMCU version 3: geometry and bits searched together at 320 kB; then on split 13, 4x4, halo
#     cached, calibrated on dev images 0..31, bit widths searched (VDPC + VDQS), stored at their bits;
#  3. 8-bit patch vs QuantMCU on 100 other dev images (32..131): accuracy, BitOPs;
#  4. MobileNetV1-0.25 as generated C firmware on an emulated Cortex-M4 (STM32F746 budget, QEMU):
#     prediction, instructions, arena, checked against the host;
#  5. build/report.html: the report of the QuantMCU plan (memory timeline, tile map, per-layer bars).
# Data: QUANTMCU_DATA (default ../shared).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
bash scripts/setup.sh
export QUANTMCU_DATA=${QUANTMCU_DATA:-$(cd .. && pwd)/shared}
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DQUANTMCU_TFLITE_DIR="$(pwd)/.cache/tflite/package" > /dev/null
cmake --build build -j"$(nproc)" > /dev/null
Q=build/quantmcu
D=$QUANTMCU_DATA
M=$D/models/mobilenet_v2_1.0_224_quant.tflite
V1=$D/models/mobilenet_v1_0.25_128_quant.tflite
jpegs=("$D"/imagenet-dev/*)
mkdir -p build/demo/calib build/demo/eval
rm -f build/demo/calib/* build/demo/eval/*
for f in "${jpegs[@]:0:32}"; do ln -s "$f" build/demo/calib/; done
for f in "${jpegs[@]:32:100}"; do ln -s "$f" build/demo/eval/; done
t0=$(date +%s)

echo "== 1. MobileNetV2: the plan for 320 kB of SRAM (layer by layer it needs $($Q info "$M" | grep -o 'peak SRAM: [0-9]* bytes' | head -1 | grep -o '[0-9]*') bytes)"
$Q plan "$M" --sram 320K -o build/demo/v2_patch.json --quiet
echo
echo "== 2. QuantMCU (version 3) at 320 kB: geometry and bits searched together for the fewest device instructions"
$Q plan "$M" --sram 320K --input-in-sram no --calib build/demo/calib -o build/demo/v2_search.json --quiet \
  | grep -E "QuantMCU v3|geometry:|bits:|accuracy guard|predicted:" || true
echo "   ... and on split 13, 4x4, halo cached: calibrate on 32 dev images, search the bit widths (VDPC + VDQS)"
$Q plan "$M" --split 13 --grid 4x4 --halo cached --input-in-sram no --calib build/demo/calib -o build/demo/v2_quantmcu.json --quiet \
  | grep -E "patch-stage BitOPs|on the calibration|accuracy guard|peak SRAM: " || true
echo
echo "== 3. 100 other dev images: 8-bit patch vs QuantMCU"
$Q eval "$M" --images build/demo/eval --threads "$(nproc)" --mode patch --plan build/demo/v2_patch.json 2> /dev/null | grep -E "top-1|MACs" || true
$Q eval "$M" --images build/demo/eval --threads "$(nproc)" --mode quantmcu --plan build/demo/v2_quantmcu.json --vs-int8 2> /dev/null \
  | grep -E "top-1|BitOPs|outlier|agreement" || true
echo
echo "== 4. MobileNetV1-0.25 as firmware on an emulated Cortex-M4 (f746: 320 kB SRAM, 1 MB flash)"
$Q plan "$V1" --sram 64K -o build/demo/v1_64k.json --quiet | grep -E "plan:|peak SRAM|halo"
img=${jpegs[34]}
$Q run "$V1" "$img" --mode patch --plan build/demo/v1_64k.json --labels "$D/models/imagenet_labels.txt" --top 1 \
  --dump-output build/demo/host.bin | sed -n 2p
$Q mcu "$V1" --plan build/demo/v1_64k.json --mode patch --board f746 "$img" --dump-output build/demo/mcu.bin
cmp -s build/demo/host.bin build/demo/mcu.bin && echo "firmware output bytes == host output bytes"
echo
echo "== 5. the report"
$Q report "$M" --plan build/demo/v2_quantmcu.json --images build/demo/eval --limit 100 --sram 320K -o build/report.html
echo
echo "demo: $(( $(date +%s) - t0 )) s after set-up and build ($(( $(date +%s) - start )) s in all); open build/report.html"
