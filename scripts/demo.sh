#!/usr/bin/env bash
# Sets up, builds and runs the demo on a shared model: the per-layer table with peak SRAM,
# an automatic patch-based plan for a 320 kB SRAM budget, and a 100-image ImageNet evaluation
# layer by layer and with the plan (same accuracy, far less SRAM). Data: QUANTMCU_DATA
# (default ../shared).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export QUANTMCU_DATA=${QUANTMCU_DATA:-$(cd .. && pwd)/shared}
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DQUANTMCU_TFLITE_DIR="$(pwd)/.cache/tflite/package" >/dev/null
cmake --build build -j"$(nproc)"
M=$QUANTMCU_DATA/models/mobilenet_v2_1.0_224_quant.tflite
build/quantmcu info "$M" | tail -4
build/quantmcu plan "$M" --sram 320K -o build/plan_v2_320k.json
build/quantmcu run "$M" "$QUANTMCU_DATA/imagenet-dev/0010_n01530575_brambling.JPEG" --mode patch --plan build/plan_v2_320k.json \
  --labels "$QUANTMCU_DATA/models/imagenet_labels.txt" --top 3
build/quantmcu eval "$M" --images "$QUANTMCU_DATA/imagenet-dev" --limit 100 --threads "$(nproc)"
build/quantmcu eval "$M" --images "$QUANTMCU_DATA/imagenet-dev" --limit 100 --threads "$(nproc)" --mode patch --plan build/plan_v2_320k.json
