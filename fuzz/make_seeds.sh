#!/usr/bin/env bash
# Seed corpora for the fuzz targets, made at run time (nothing from the shared data is committed):
#   DIR/small  generated .tflite models of a few kB (tests/make_models: every op we import, int8,
#   uint8, float around int8, metadata), the prepare+run target's seeds; DIR/model  those plus the
#   small shared models (QUANTMCU_DATA), the parse target's; DIR/image  a few dev JPEGs plus generated
#   PNG (RGB, grey, palette-free) and BMP files; DIR/plan  the plan seed.
# usage: fuzz/make_seeds.sh DIR MAKE_MODELS_BINARY
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=$1
D=${QUANTMCU_DATA:-$(cd .. && pwd)/shared}
MAKE_MODELS=$2
mkdir -p "$OUT/small" "$OUT/model" "$OUT/hostile" "$OUT/image" "$OUT/plan"
"$MAKE_MODELS" "$OUT/small"
cp "$OUT"/small/*.tflite "$OUT/model/"
"$MAKE_MODELS" --hostile "$OUT/hostile" # well-formed but hostile (huge shapes, bad indices): regression inputs
cp "$OUT"/hostile/*.tflite "$OUT/model/"
for m in mlperf_vww_96_int8 mcunet_vww_int8 mlperf_vww_96_float; do
  [ -f "$D/models/$m.tflite" ] && cp "$D/models/$m.tflite" "$OUT/model/" || echo "make_seeds: $m.tflite not found (QUANTMCU_DATA)"
done
# small JPEGs (fast to decode, so the image target runs thousands of times a second): baseline,
# progressive, grayscale, 4:4:4, restart markers, arithmetic-free; made by cjpeg from a generated PPM
python3 - "$OUT/image" <<'PY'
import struct, sys, zlib
out = sys.argv[1]
def chunk(t, d): return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
def png(name, w, h, color_type, channels):
    raw = bytearray()
    for y in range(h):
        raw.append(0)
        for x in range(w):
            for c in range(channels):
                raw.append((x * 31 + y * 17 + c * 7) & 255)
    raw = bytes(raw)
    open(f"{out}/{name}", 'wb').write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, color_type, 0, 0, 0))
                                    + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))
png('rgb.png', 9, 7, 2, 3)
# regression (fuzz_image found it): an IHDR of 0xf8f8f8f8 x 0xf8f8f8f8 overflowed the pixel count
open(f"{out}/regress_wide.png", 'wb').write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', 0xf8f8f8f8, 0xf8f8f8f8, 8, 2, 0, 0, 0)))
w, h = 24, 18
open(f"{out}/../src.ppm", 'wb').write(b'P6\n%d %d\n255\n' % (w, h) + bytes((x * 11 + y * 7 + c * 50) & 255 for y in range(h) for x in range(w) for c in range(3)))
png('grey.png', 5, 6, 0, 1)
png('rgba.png', 4, 4, 6, 4)
w, h = 6, 5
row = bytes((x * 40 + c * 30) & 255 for x in range(w) for c in range(3))
row += b'\0' * ((4 - len(row) % 4) % 4)
pix = row * h
open(f"{out}/img.bmp", 'wb').write(b'BM' + struct.pack('<IHHI', 54 + len(pix), 0, 0, 54)
                                  + struct.pack('<IiiHHIIiiII', 40, w, h, 1, 24, 0, len(pix), 2835, 2835, 0, 0) + pix)
PY
cp fuzz/plan_seed.json "$OUT/plan/"
if command -v cjpeg > /dev/null; then
  cjpeg -quality 90 "$OUT/src.ppm" > "$OUT/image/base.jpg"
  cjpeg -progressive "$OUT/src.ppm" > "$OUT/image/progressive.jpg"
  cjpeg -grayscale "$OUT/src.ppm" > "$OUT/image/grey.jpg"
  cjpeg -sample 1x1 "$OUT/src.ppm" > "$OUT/image/444.jpg"
  cjpeg -restart 1 "$OUT/src.ppm" > "$OUT/image/restart.jpg"
else
  echo "make_seeds: cjpeg not found (libjpeg-turbo-progs): no JPEG seeds"
fi
rm -f "$OUT/src.ppm"
