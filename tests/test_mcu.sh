#!/usr/bin/env bash
# Generated code and Cortex-M firmware: MobileNetV1 0.25 on the f746 budget in layer, patch and
# QuantMCU modes, 3 dev images: output bytes of the firmware under QEMU (and of the generated
# module compiled for the host) equal quantmcu run's; a plan that does not fit f746 is refused.
# The generated resize/arg-max models (float arithmetic in the uint8 and float paths) too.
# usage: test_mcu.sh QUANTMCU SOURCE_DIR QMCU_RUNTIME_LIBRARY EXTRA_CFLAGS GENERATED_MODELS_DIR
set -u
QM=$1
SRC=$2
RUNTIME_LIB=$3
EXTRA_CFLAGS=${4:-}
GEN=$5
. "$(dirname "$0")/test_lib.sh"
require_tool arm-none-eabi-gcc
require_tool qemu-system-arm
export QUANTMCU_CACHE=$T/cache
imgs=$(ls "$IMG" | sort | head -3 | sed "s|^|$IMG/|")

$QM plan "$V1" --sram 64K --calib "$IMG" --calib-count 4 --lambda 0.3 -o "$T/plan.json" > /dev/null || bad "plan"
for mode in layer patch quantmcu; do
  for img in $imgs; do
    $QM run "$V1" "$img" --mode $mode --plan "$T/plan.json" --dump-output "$T/host.bin" > /dev/null || bad "host run $mode"
    $QM mcu "$V1" --plan "$T/plan.json" --mode $mode --board f746 "$img" --dump-output "$T/mcu.bin" --json > "$T/mcu.json" \
      || { bad "mcu $mode $(basename "$img")"; continue; }
    cmp -s "$T/host.bin" "$T/mcu.bin" && ok || bad "mcu $mode $(basename "$img"): firmware output differs from the host"
  done
  python3 - "$T/mcu.json" <<'PY' && ok || bad "mcu --json ($mode)"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["instructions"][0] > 1000000 and d["flash_bytes"] > 400000 and d["arena_bytes"] == d["planned_arena_bytes"]
assert len(d["predictions"]) == 1
PY
done
# halo caching and fused conv+add on the MCU: MCUNet-VWW (residual blocks) under 96K caches the halo
# of its patch stage and fuses its adds; the firmware's bytes equal the host's
MC=$DATA/models/mcunet_vww_int8.tflite
$QM plan "$MC" --sram 96K -o "$T/mc.json" > /dev/null || bad "plan mcunet"
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert 'cached' in d['halo'] and any(o['fused_with_next'] for o in d['memory'])" "$T/mc.json" \
  && ok || bad "mcunet 96K plan: expected cached halo and fused adds"
for img in $(echo $imgs | cut -d' ' -f1-2); do
  $QM run "$MC" "$img" --mode patch --plan "$T/mc.json" --dump-output "$T/host.bin" > /dev/null || bad "host run mcunet"
  $QM mcu "$MC" --plan "$T/mc.json" --mode patch --board f746 "$img" --dump-output "$T/mcu.bin" > /dev/null \
    && cmp -s "$T/host.bin" "$T/mcu.bin" && ok || bad "mcunet cached plan: firmware output differs from the host ($(basename "$img"))"
done
# QuantMCU on a cached plan with tiles in both formats (about a third of the tiles switch to 8 bits
# with this 4-image calibration): the tagged caches convert the same way on the MCU
$QM plan "$V1" --split 8 --grid 4x4 --halo cached --calib "$IMG" --calib-count 4 -o "$T/qc.json" > /dev/null || bad "plan cached QuantMCU"
for img in $(echo $imgs | cut -d' ' -f1-2); do
  $QM run "$V1" "$img" --mode quantmcu --plan "$T/qc.json" --dump-output "$T/host.bin" > /dev/null || bad "host run cached QuantMCU"
  $QM mcu "$V1" --plan "$T/qc.json" --mode quantmcu --board f746 "$img" --dump-output "$T/mcu.bin" > /dev/null \
    && cmp -s "$T/host.bin" "$T/mcu.bin" && ok || bad "cached QuantMCU plan: firmware output differs from the host ($(basename "$img"))"
done
# version 2 (maps a code per byte, tagged caches) still runs the same on the MCU
$QM plan "$V1" --split 8 --grid 4x4 --halo cached --calib "$IMG" --calib-count 4 --quant-scheme v2 -o "$T/qc2.json" > /dev/null || bad "plan cached QuantMCU v2"
img=$(echo $imgs | cut -d' ' -f1)
$QM run "$V1" "$img" --mode quantmcu --plan "$T/qc2.json" --dump-output "$T/host.bin" > /dev/null || bad "host run QuantMCU v2"
$QM mcu "$V1" --plan "$T/qc2.json" --mode quantmcu --board f746 "$img" --dump-output "$T/mcu.bin" > /dev/null \
  && cmp -s "$T/host.bin" "$T/mcu.bin" && ok || bad "cached QuantMCU v2 plan: firmware output differs from the host"
# version 3 with every tile falling back: split 8 at 4x4 needs 70,816 B at int8; 4-bit maps packed in
# buffers sized for them fit 64K; every threshold forced to 0 and a noise image, so every tile re-runs
# as 8-bit sub-tiles; the firmware's arena is the plan's and its bytes equal the host's
$QM plan "$V1" --split 8 --grid 4x4 --sram 64K --calib "$IMG" --calib-count 4 --bits 8,4 --max-kl 0 -o "$T/q3.json" > "$T/q3.txt" || bad "plan v3 64K"
grep -q "runs again as [0-9]x[0-9] 8-bit sub-tiles" "$T/q3.txt" && ok || bad "v3 64K plan: expected outlier sub-tiles: $(grep 'peak SRAM' "$T/q3.txt")"
python3 - "$T/q3.json" "$T/q3tau0.json" "$T/noise/0000_n01440764_noise.bmp" <<'PY' || bad "tau0 plan / noise image"
import json, os, random, struct, sys
d = json.load(open(sys.argv[1]))
assert any(f["bits"] == 4 for f in d["quantmcu"]["feature_maps"]), "no 4-bit map"
for f in d["quantmcu"]["feature_maps"]:
    f["tau"] = 0
json.dump(d, open(sys.argv[2], "w"))
os.makedirs(os.path.dirname(sys.argv[3]), exist_ok=True)
random.seed(7)
w = h = 128
row = bytes(random.randrange(256) for _ in range(w * 3))
pix = b"".join(bytes(random.randrange(256) for _ in range(w * 3)) for _ in range(h))
open(sys.argv[3], "wb").write(b"BM" + struct.pack("<IHHI", 54 + len(pix), 0, 0, 54) +
    struct.pack("<IiiHHIIiiII", 40, w, h, 1, 24, 0, len(pix), 2835, 2835, 0, 0) + pix)
PY
$QM eval "$V1" --images "$T/noise" --plan "$T/q3tau0.json" --mode quantmcu --json > "$T/e3.json" \
  && python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['images']==1 and d['outlier_tile_fraction']==1.0, d['outlier_tile_fraction']" "$T/e3.json" \
  && ok || bad "v3 tau 0: expected every tile to fall back: $(head -c 300 "$T/e3.json")"
$QM run "$V1" "$T/noise/0000_n01440764_noise.bmp" --mode quantmcu --plan "$T/q3tau0.json" --dump-output "$T/host.bin" > /dev/null || bad "host run v3 tau 0"
$QM mcu "$V1" --plan "$T/q3tau0.json" --mode quantmcu --board f746 "$T/noise/0000_n01440764_noise.bmp" --dump-output "$T/mcu.bin" --json > "$T/m3.json" \
  && cmp -s "$T/host.bin" "$T/mcu.bin" \
  && python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['arena_bytes']==d['planned_arena_bytes']<=65536, d" "$T/m3.json" \
  && ok || bad "v3 every tile falling back: firmware differs from the host or leaves the planned arena"
# 5 / 6-bit maps stored in planes (4-bit plane + 1 / 2-bit plane per pixel) on a halo-cached plan
$QM plan "$V1" --split 8 --grid 4x4 --halo cached --calib "$IMG" --calib-count 4 --bits 8,6,5 --max-kl 0 --patch-sram 24K \
  -o "$T/q56.json" > /dev/null || bad "plan v3 5/6-bit"
python3 -c "import json,sys; b=[f['bits'] for f in json.load(open(sys.argv[1]))['quantmcu']['feature_maps']]; assert 5 in b or 6 in b, b" "$T/q56.json" \
  && ok || bad "v3 plan: expected 5/6-bit maps"
$QM run "$V1" "$img" --mode quantmcu --plan "$T/q56.json" --dump-output "$T/host.bin" > /dev/null || bad "host run v3 5/6-bit"
$QM mcu "$V1" --plan "$T/q56.json" --mode quantmcu --board f746 "$img" --dump-output "$T/mcu.bin" > /dev/null \
  && cmp -s "$T/host.bin" "$T/mcu.bin" && ok || bad "v3 5/6-bit planes: firmware output differs from the host"
# M7 build of the same firmware
img=$(echo $imgs | cut -d' ' -f1)
$QM run "$V1" "$img" --dump-output "$T/host.bin" > /dev/null
$QM mcu "$V1" --target cortex-m7 "$img" --dump-output "$T/mcu7.bin" > /dev/null && cmp -s "$T/host.bin" "$T/mcu7.bin" && ok || bad "cortex-m7 firmware"
# resize, arg max, nearest neighbour, sub, detection heads (four outputs), MoveNet's post-processing ops,
# dynamic-range convs on the M4F: the same bytes as the host in every output (no fused multiply-add anywhere)
for m in resize_uint8 resize_float resize_int8 argmax_int8 nearest_uint8 sub_int8 sub_uint8 leaky_relu_uint8 leaky_relu_float detect_fast_uint8 \
  detect_regular_float pose_ops hybrid_float; do
  rm -f "$T"/h*.bin "$T"/m*.bin
  $QM run "$GEN/$m.tflite" "$img" --dump-output "$T/h.bin" > /dev/null && $QM mcu "$GEN/$m.tflite" "$img" --dump-output "$T/m.bin" > /dev/null \
    || bad "$m: run or mcu failed"
  for h in "$T"/h*.bin; do
    cmp -s "$h" "${h%/h*}/m${h##*/h}" && ok || bad "$m: firmware output $(basename "$h") differs from the host's"
  done
done
# the integer LSTM (a non-image model, fed a raw input tensor): firmware == host
python3 -c "import random; random.seed(5); open('$T/lstm_in.bin', 'wb').write(bytes(random.randrange(256) for _ in range(30)))"
$QM run "$GEN/lstm_int8.tflite" --input "$T/lstm_in.bin" --dump-output "$T/lh.bin" > /dev/null \
  && $QM mcu "$GEN/lstm_int8.tflite" "$T/lstm_in.bin" --dump-output "$T/lm.bin" > /dev/null \
  && cmp -s "$T/lh.bin" "$T/lm.bin" && ok || bad "lstm_int8: firmware output differs from the host's"
# several images into a log (JSON on stdout): plain progress lines on stderr, no carriage returns
$QM mcu "$V1" $imgs --json > "$T/multi.json" 2> "$T/multi.err" && grep -q "^mcu: 3/3 images" "$T/multi.err" \
  && ! grep -q $'\r' "$T/multi.err" && ok || bad "mcu progress in a log: $(cat -A "$T/multi.err" | tail -2)"
# per-op profile: the ops add up to the whole run (within the profiling overhead)
$QM mcu "$V1" --plan "$T/plan.json" --mode patch --profile "$img" > "$T/prof.txt" || bad "mcu --profile"
python3 - "$T/prof.txt" <<'PY' && ok || bad "profile does not add up: $(tail -2 "$T/prof.txt")"
import re, sys
t = open(sys.argv[1]).read()
total = int(re.search(r"(\d+) emulated instructions", t).group(1))
ops = int(re.search(r"sum over ops: (\d+)", t).group(1))
assert len(re.findall(r"^ +\d+  [A-Z_0-9]+ +(patch|layer)", t, re.M)) == 31
assert 0.97 * total <= ops <= total, (ops, total)
PY
# the generated module, compiled for the host
$QM codegen "$V1" --plan "$T/plan.json" --target host -o "$T/gen" > /dev/null || bad "codegen --target host"
# (only the public device header and the qmcu_runtime library: nothing of the host stages)
gcc -std=c99 -O1 -Wall -Wextra -Werror $EXTRA_CFLAGS -I"$SRC/include" -I"$T/gen" "$SRC/tests/codegen_host_main.c" "$T/gen/qmcu_model_data.c" \
  "$RUNTIME_LIB" -lm -o "$T/gen/model" 2> "$T/gcc.log" || bad "host build of generated code: $(head -3 "$T/gcc.log")"
$QM run "$V1" "$img" --mode quantmcu --plan "$T/plan.json" --dump-input "$T/in.bin" --dump-output "$T/host.bin" > /dev/null
"$T/gen/model" "$T/in.bin" "$T/gen.bin" && cmp -s "$T/host.bin" "$T/gen.bin" && ok || bad "generated module on the host differs"
# budgets
$QM plan "$V2" --split 0 --grid 1x1 -o "$T/v2layer.json" > /dev/null 2>&1 || $QM plan "$V2" --sram 2M -o "$T/v2layer.json" > /dev/null
$QM mcu "$V2" --plan "$T/v2layer.json" --board f746 "$img" > /dev/null 2> "$T/err"; rc=$?
[ $rc -ne 0 ] && [ "$(wc -l < "$T/err")" -eq 1 ] && grep -q "does not fit board f746" "$T/err" && ok || bad "plan too big for f746 not refused: $(cat "$T/err")"
$QM mcu "$V1" --board nowhere "$img" > /dev/null 2> "$T/err"; [ $? -ne 0 ] && grep -q "board needs" "$T/err" && ok || bad "bad board"
summary test_mcu
