#!/usr/bin/env bash
# Reports and their screenshots (not a test): MobileNetV2 planned for 320K with QuantMCU (calibrated
# on dev 0..31), evaluated on dev 32..131, and MobileNetV1-0.25 planned for 64K with QuantMCU and
# per-op emulated Cortex-M4 instructions (--mcu). Writes build/report_v2.html, build/report_v1.html
# and a full-page PNG of each (headless Chromium).
# usage: bench/report.sh [FRONTIER.jsonl]   (QUANTMCU_DATA, default ../shared; QUANTMCU_BIN, default build/quantmcu)
set -euo pipefail
cd "$(dirname "$0")/.."
D=${QUANTMCU_DATA:-$(cd .. && pwd)/shared}
Q=${QUANTMCU_BIN:-build/quantmcu}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/calib"
jpegs=("$D"/imagenet-dev/*)
for f in "${jpegs[@]:0:32}"; do ln -s "$f" "$T/calib/"; done
FR=()
[ $# -ge 1 ] && FR=(--frontier "$1")
V2=$D/models/mobilenet_v2_1.0_224_quant.tflite
V1=$D/models/mobilenet_v1_0.25_128_quant.tflite
$Q plan "$V2" --sram 320K --calib "$T/calib" -o "$T/v2.json" --quiet > /dev/null 2>&1
$Q report "$V2" --plan "$T/v2.json" --images "$D/imagenet-dev" --skip 32 --limit 100 --sram 320K "${FR[@]}" -o build/report_v2.html
$Q plan "$V1" --sram 64K --calib "$T/calib" -o "$T/v1.json" --quiet > /dev/null 2>&1
$Q report "$V1" --plan "$T/v1.json" --images "$D/imagenet-dev" --skip 32 --limit 100 --sram 64K --mcu -o build/report_v1.html
for r in v2 v1; do
  chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1100,3400 \
    --screenshot="$(pwd)/build/report_$r.png" "file://$(pwd)/build/report_$r.html" > /dev/null 2>&1
  echo "screenshot: build/report_$r.png"
done
