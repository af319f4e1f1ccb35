#!/usr/bin/env bash
# Cached halo == layer mode at scale (not a test): MobileNetV2, split 13, 4x4, every patch op that can
# cache its halo cached: top-1 / top-5 on all 500 dev images next to layer mode's, and the output
# bytes of both modes compared on a sample of 20 images.
# usage: bench/halo_exact.sh   (QUANTMCU_DATA, default ../shared; QUANTMCU_BIN, default build/quantmcu)
set -euo pipefail
cd "$(dirname "$0")/.."
D=${QUANTMCU_DATA:-$(cd .. && pwd)/shared}
Q=${QUANTMCU_BIN:-build/quantmcu}
M=$D/models/mobilenet_v2_1.0_224_quant.tflite
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
$Q plan "$M" --split 13 --grid 4x4 --halo cached --input-in-sram no -o "$T/cached.json" --quiet | grep -E "MACs|halo"
for mode in layer patch; do
  $Q eval "$M" --images "$D/imagenet-dev" --mode $mode --plan "$T/cached.json" --threads 2 --json 2> /dev/null > "$T/$mode.json"
done
python3 - "$T/layer.json" "$T/patch.json" <<'PY'
import json, sys
l, p = (json.load(open(f)) for f in sys.argv[1:3])
print("layer : %d images, top-1 %.2f %%, top-5 %.2f %%" % (l["images"], l["top1_pct"], l["top5_pct"]))
print("cached: %d images, top-1 %.2f %%, top-5 %.2f %%, patch MACs redundant %d" % (p["images"], p["top1_pct"], p["top5_pct"], p["redundant_macs"]))
PY
jpegs=("$D"/imagenet-dev/*)
same=0
for ((k = 0; k < 500 && k < ${#jpegs[@]}; k += 25)); do
  $Q run "$M" "${jpegs[$k]}" --mode layer --dump-output "$T/l.bin" > /dev/null
  $Q run "$M" "${jpegs[$k]}" --mode patch --plan "$T/cached.json" --dump-output "$T/c.bin" > /dev/null
  if cmp -s "$T/l.bin" "$T/c.bin"; then same=$((same + 1)); else echo "DIFFERENT: ${jpegs[$k]}"; fi
done
echo "identical output bytes on $same of 20 sampled images"
