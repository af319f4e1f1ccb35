#!/usr/bin/env bash
# End-to-end tests of the command line: normal use and every kind of bad input
# (one line on stderr naming the file, non-zero exit, never a crash).
# usage: test_cli.sh QUANTMCU TEST_IMPORT MAKE_MODELS
set -u
QM=$1
MUTATE=$2
MAKE_MODELS=$3
. "$(dirname "$0")/test_lib.sh"

# expect_error NAME NEEDLE CMD...: non-zero exit, exactly one stderr line containing NEEDLE
expect_error() {
  local name=$1 needle=$2; shift 2
  "$@" > "$T/out" 2> "$T/err"; local rc=$?
  local lines; lines=$(wc -l < "$T/err")
  if [ $rc -ne 0 ] && [ $rc -lt 128 ] && [ "$lines" -eq 1 ] && grep -qF -- "$needle" "$T/err"; then ok
  else bad "$name: rc=$rc, $lines stderr lines: $(head -c 400 "$T/err")"; fi
}

# --- command-line conventions: --version, COMMAND --help (every option, an example), usage errors exit 2 ---
$QM --version | grep -qE "^quantmcu [0-9]+\.[0-9]+\.[0-9]+" && ok || bad "--version"
for c in info run eval plan codegen mcu; do
  $QM $c --help > "$T/help" 2> "$T/err"; rc=$?
  [ $rc -eq 0 ] && grep -q "^usage: quantmcu $c" "$T/help" && grep -q "^example: quantmcu $c" "$T/help" && [ ! -s "$T/err" ] \
    && ok || bad "$c --help (rc=$rc)"
done
for o in --halo --fuse-add --input-in-sram --split --grid --plan --mode; do grep -q -- "$o" "$T/help" || bad "mcu --help lacks $o"; done
$QM plan --help > "$T/help"; for o in --sram --calib --bits --lambda --bitops-target --outlier-tiles --quiet -o; do
  grep -q -- " $o" "$T/help" || bad "plan --help lacks $o"; done
$QM plan "$V1" --bogus > /dev/null 2>&1; [ $? -eq 2 ] && ok || bad "unknown option: exit status 2"
$QM info > /dev/null 2>&1; [ $? -eq 2 ] && ok || bad "missing model: exit status 2"
$QM eval "$V1" --images "$IMG" --limit -3 > /dev/null 2>&1; [ $? -eq 2 ] && ok || bad "bad value: exit status 2"
$QM nosuchcommand > /dev/null 2>&1; [ $? -eq 2 ] && ok || bad "unknown command: exit status 2"
$QM info /nonexistent.tflite > /dev/null 2>&1; [ $? -eq 1 ] && ok || bad "a missing file is not a usage error: exit status 1"

# --- how pixels become the input: metadata, else the full-range rule; --input-range overrides ---
mkdir -p "$T/gen" && "$MAKE_MODELS" "$T/gen" || bad "make_models"
$QM info "$V1" | grep -q "^image input: uint8 pixels as they are (p); the TFLite metadata's mean 127.5 std 127.5 is not applied" \
  && ok || bad "info: the rule of a uint8 model with metadata"
$QM info "$T/gen/float_metadata.tflite" | grep -q "^image input: (p - mean) / std, mean 127.5,127.5,127.5 std 127.5,127.5,127.5 (TFLite metadata)" \
  && ok || bad "info: metadata normalization of a float model"
$QM info "$T/gen/int8_raw_pixels.tflite" | grep -q "^image input: p - 128 (full range: the input's own quantization, scale 1 zero point -128" \
  && ok || bad "info: the int8 full-range rule"
$QM info "$T/gen/int8_raw_pixels.tflite" --input-range 0,1 | grep -q "^image input: (p - mean) / std, mean 0,0,0 std 255,255,255 (--input-range)" \
  && ok || bad "info: --input-range shown"
A=$(ls "$IMG" | sort | sed -n 40p)
# int8 input with scale 1.0, zero point -128 (raw pixels): the bytes are p - 128, i.e. the uint8 model's bytes (p) xor 0x80
$QM run "$T/gen/int8_raw_pixels.tflite" "$IMG/$A" --dump-input "$T/i8.bin" > /dev/null &&
  $QM run "$T/gen/uint8_body.tflite" "$IMG/$A" --dump-input "$T/u8.bin" > /dev/null || bad "run --dump-input"
od -An -v -tu1 "$T/u8.bin" | tr -s ' ' '\n' | grep . | awk '{ printf "%c", ($1 < 128 ? $1 + 128 : $1 - 128) }' > "$T/u8x.bin"
cmp -s "$T/i8.bin" "$T/u8x.bin" && ok || bad "int8 raw-pixel input is not p - 128"
n=$(od -An -v -tu1 "$T/i8.bin" | tr -s ' ' '\n' | grep . | sort -u | wc -l)
[ "$n" -gt 150 ] && ok || bad "int8 raw-pixel input uses only $n codes"
# the old [0, 1] rule on that model: an almost constant image (2 codes); 0,255 is the full-range rule again
$QM run "$T/gen/int8_raw_pixels.tflite" "$IMG/$A" --input-range 0,1 --dump-input "$T/i8_01.bin" > /dev/null
n=$(od -An -v -tu1 "$T/i8_01.bin" | tr -s ' ' '\n' | grep . | sort -u | wc -l)
[ "$n" -le 2 ] && ok || bad "--input-range 0,1 on a scale-1.0 input: $n codes, expected 2"
$QM run "$T/gen/int8_raw_pixels.tflite" "$IMG/$A" --input-range 0,255 --dump-input "$T/i8_255.bin" > /dev/null
cmp -s "$T/i8.bin" "$T/i8_255.bin" && ok || bad "--input-range 0,255 differs from the full-range rule"
$QM run "$V1" "$IMG/$A" --input-range 1,0 > /dev/null 2>&1; [ $? -eq 2 ] && ok || bad "--input-range 1,0: exit status 2"

# --- raw inputs and every output: --input FILE (raw bytes or .npy), --dump-output FILE (.npy or raw, FILE.k for output k) ---
python3 - "$T" <<'PY'
import struct, sys
def npy(path, descr, shape, data):
    h = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (descr, ''.join('%d, ' % d for d in shape))
    while (10 + len(h) + 1) % 64: h += ' '
    open(path, 'wb').write(b'\x93NUMPY\x01\x00' + struct.pack('<H', len(h) + 1) + (h + '\n').encode() + data)
data = bytes((i * 37 + 11) & 255 for i in range(32 * 32 * 3))
npy(sys.argv[1] + '/in.npy', '|i1', (1, 32, 32, 3), data)
open(sys.argv[1] + '/in.bin', 'wb').write(data)
npy(sys.argv[1] + '/in_u8.npy', '|u1', (1, 32, 32, 3), data)
npy(sys.argv[1] + '/in_short.npy', '|i1', (1, 32, 32, 2), data[:2048])
PY
G=$T/gen/int8_raw_pixels.tflite
$QM run "$G" --input "$T/in.npy" --dump-output "$T/o_npy.bin" > /dev/null && $QM run "$G" --input "$T/in.bin" --dump-output "$T/o_raw.bin" > /dev/null \
  && cmp -s "$T/o_npy.bin" "$T/o_raw.bin" && ok || bad "run --input: .npy and raw bytes differ"
# the same bytes as an image gives, fed back raw
$QM run "$G" "$IMG/$A" --dump-input "$T/img_in.bin" --dump-output "$T/img_out.bin" > /dev/null && $QM run "$G" --input "$T/img_in.bin" --dump-output "$T/raw_out.bin" > /dev/null \
  && cmp -s "$T/img_out.bin" "$T/raw_out.bin" && ok || bad "run --input with an image's bytes differs from the image run"
$QM run "$G" --input "$T/in.npy" --dump-output "$T/out.npy" > /dev/null && python3 - "$T/out.npy" "$T/o_npy.bin" <<'PY' && ok || bad "--dump-output .npy"
import sys
b = open(sys.argv[1], 'rb').read(); raw = open(sys.argv[2], 'rb').read()
assert b[:6] == b'\x93NUMPY' and b"'descr': '|i1'" in b and b"'shape': (1, 10, )" in b and b.endswith(raw) and (10 + b[8]) % 64 == 0
PY
expect_error "npy of the wrong dtype" "in_u8.npy: .npy dtype '|u1' but input 0 is int8" $QM run "$G" --input "$T/in_u8.npy"
expect_error "npy of the wrong size" "in_short.npy: .npy shape does not hold the 3072 elements" $QM run "$G" --input "$T/in_short.npy"
expect_error "raw input of the wrong size" "in.bin: 3072 bytes, but input 0 (raw bytes) needs 49152" $QM run "$V1" --input "$T/in.bin"
$QM run "$G" "$IMG/$A" --input "$T/in.bin" > /dev/null 2>&1; [ $? -eq 2 ] && ok || bad "images and --input together: exit status 2"
# eval over a folder of .npy / .bin samples, labelled by the leading integer of the name: top-1 equals run's
mkdir -p "$T/npys"
python3 - "$T/npys" <<'PY'
import struct, sys, random
random.seed(7)
for i in range(8):
    data = bytes(random.randrange(256) for _ in range(32 * 32 * 3))
    h = "{'descr': '|i1', 'fortran_order': False, 'shape': (1, 32, 32, 3, ), }"
    while (10 + len(h) + 1) % 64: h += ' '
    name = '%s/%04d_s%d.%s' % (sys.argv[1], i % 2, i, 'npy' if i % 2 else 'bin')
    open(name, 'wb').write((b'\x93NUMPY\x01\x00' + struct.pack('<H', len(h) + 1) + (h + '\n').encode() if i % 2 else b'') + data)
PY
hits=0
for f in "$T"/npys/*; do
  label=$((10#$(basename "$f" | cut -c1-4)))
  top=$($QM run "$G" --input "$f" --top 1 | sed -n 2p | awk '{print $1}')
  [ "$top" = "$label" ] && hits=$((hits + 1))
done
$QM eval "$G" --inputs "$T/npys" --json 2> /dev/null > "$T/npy_eval.json" && python3 - "$T/npy_eval.json" "$hits" <<'PY' && ok || bad "eval over .npy/.bin samples: $(cat "$T/npy_eval.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["images"] == 8 and 0 < int(sys.argv[2]) < 8 and abs(d["top1_pct"] - 100.0 * int(sys.argv[2]) / 8) < 1e-9, (d, sys.argv[2])
PY
# a class map (DeepLab-style ARG_MAX output): a pixel histogram
$QM run "$T/gen/argmax_int8.tflite" "$IMG/$A" | grep -q "output 0 (1x82x21 int32): class map, pixels per class:" && ok || bad "run: class map histogram"

# --- JPEG decoding as the reference pipelines do it: our pixels == libjpeg-turbo's djpeg at its defaults ---
if command -v djpeg > /dev/null; then
  for f in $(ls "$IMG" | sort | sed -n 1,3p); do
    "$MUTATE" --decode-ppm "$IMG/$f" "$T/ours.ppm" && djpeg -ppm "$IMG/$f" > "$T/djpeg.ppm" && cmp -s "$T/ours.ppm" "$T/djpeg.ppm" \
      && ok || bad "JPEG pixels differ from djpeg's for $f"
  done
else
  echo "SKIPPED (loudly): djpeg not installed, JPEG pixels not compared (scripts/setup.sh installs libjpeg-turbo-progs)"
fi

# --- normal use ---
$QM info "$V1" > "$T/info" && grep -q "layer-by-layer peak SRAM" "$T/info" && ok || bad "info"
$QM info "$V1" --json > "$T/info.json" && python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['macs']>0 and d['layer_peak_sram_bytes']>0 and len(d['layers'])==31" "$T/info.json" && ok || bad "info --json"
first=$(ls "$IMG" | sort | head -1); second=$(ls "$IMG" | sort | sed -n 2p)
$QM run "$V1" "$IMG/$first" "$IMG/$second" --top 3 --labels "$DATA/models/imagenet_labels.txt" --dump-input "$T/in.bin" --dump-output "$T/out.bin" > "$T/run" && ok || bad "run"
[ "$(stat -c %s "$T/in.bin")" = 49152 ] && [ "$(stat -c %s "$T/out.bin")" = 1001 ] && ok || bad "dump sizes"
grep -q "great white shark" "$T/run" && ok || bad "run prediction (expected the shark image to be recognised): $(cat "$T/run")"
$QM eval "$V1" --images "$IMG" --limit 8 --json > "$T/e1.json" 2> /dev/null && ok || bad "eval"
$QM eval "$V1" --images "$IMG" --limit 8 --json --threads 2 > "$T/e2.json" 2> /dev/null && ok || bad "eval threads"
python3 - "$T/e1.json" "$T/e2.json" <<'PY' && ok || bad "eval json / thread determinism"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
for k in ["model","mode","images","top1_pct","top5_pct","macs","bitops","patch_bitops","patch_bitops_int8","peak_sram_bytes","outlier_tile_fraction","ms_per_image"]:
    assert k in a, k
assert a["images"] == 8 and a["top1_pct"] == b["top1_pct"] and a["top5_pct"] == b["top5_pct"]
PY

# --- patch-based inference: plan, then run/eval with it; bytes and accuracy equal layer mode ---
$QM plan "$V1" --sram 64K -o "$T/plan.json" > "$T/plan.txt" && grep -q "fits the 65536-byte" "$T/plan.txt" && ok || bad "plan --sram 64K: $(cat "$T/plan.txt")"
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['format']=='quantmcu-plan' and d['split']>0 and d['metrics']['peak_sram_bytes']<=65536 and len(d['memory'])==31" "$T/plan.json" && ok || bad "plan.json schema"
$QM run "$V1" "$IMG/$first" "$IMG/$second" --mode patch --plan "$T/plan.json" --dump-output "$T/out_patch.bin" > /dev/null && cmp -s "$T/out.bin" "$T/out_patch.bin" && ok || bad "run --mode patch --plan: output differs from layer mode"
$QM run "$V1" "$IMG/$second" --mode patch --split 7 --grid 2x3 --dump-output "$T/out_patch2.bin" > /dev/null && cmp -s "$T/out.bin" "$T/out_patch2.bin" && ok || bad "run --split 7 --grid 2x3: output differs from layer mode"
$QM eval "$V1" --images "$IMG" --limit 8 --json --mode patch --plan "$T/plan.json" > "$T/e3.json" 2> /dev/null && ok || bad "eval --mode patch"
python3 - "$T/e1.json" "$T/e3.json" <<'PY' && ok || bad "eval patch accuracy / peak"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert b["mode"] == "patch" and b["top1_pct"] == a["top1_pct"] and b["top5_pct"] == a["top5_pct"]
assert b["peak_sram_bytes"] < a["peak_sram_bytes"] and b["macs"] >= a["macs"] and b["split"] > 0
PY
$QM info "$V1" --split 7 --grid 2x2 > "$T/info2" && grep -q "redundant" "$T/info2" && grep -q "input patch" "$T/info2" && ok || bad "info with a plan"
# halo strategies (DESIGN.md §2): all cached computes the patch stage with the MACs of layer mode; a
# searched plan's halo choice survives its plan file; fused conv+add
$QM plan "$V2" --split 13 --grid 4x4 --halo cached --input-in-sram no --quiet > "$T/halo.txt" \
  && grep -q "redundant 0 (0.00 %)" "$T/halo.txt" && grep -q "5 cache columns and rows" "$T/halo.txt" \
  && grep -q "9 fused conv+add" "$T/halo.txt" && ok || bad "plan --halo cached: $(cat "$T/halo.txt")"
$QM plan "$V2" --split 13 --grid 4x4 --halo recompute --input-in-sram no --quiet > "$T/halo_r.txt" \
  && grep -q "redundant 27919344 (30.59 %)" "$T/halo_r.txt" && ok || bad "plan --halo recompute: $(cat "$T/halo_r.txt")"
$QM plan "$V1" --sram 64K -o "$T/halo_plan.json" --quiet > "$T/halo_plan.txt" && $QM info "$V1" --plan "$T/halo_plan.json" > "$T/halo_info.txt" \
  && [ "$(grep -E "^  (peak SRAM|MACs:)" "$T/halo_plan.txt")" = "$(grep -E "^  (peak SRAM|MACs:)" "$T/halo_info.txt")" ] \
  && grep -q '"halo": \[' "$T/halo_plan.json" && ok || bad "halo plan file round trip: $(cat "$T/halo_plan.txt" "$T/halo_info.txt")"
# QuantMCU on a cached plan: the caches hold each value in the format its writer used (tagged) and a
# tile converts what it reads only when its own format differs. Invariants: with --no-vdpc (every
# tile low-bit) cached == recompute byte for byte; when every tile switches to 8 bits at the first
# low-bit map (its range shrunk, tau 0) both equal the 8-bit patch run.
$QM plan "$V1" --split 8 --grid 4x4 --halo cached --calib "$IMG" --calib-count 4 -o "$T/qc.json" --quiet > /dev/null || bad "plan --halo cached --calib"
python3 - "$T/qc.json" "$T" <<'PY' && ok || bad "editing the cached QuantMCU plan"
import json, re, sys
t = open(sys.argv[1]).read(); d = json.loads(t); out = sys.argv[2]
assert "cached" in d["halo"] and any(f["bits"] < 8 for f in d["quantmcu"]["feature_maps"])
rec = re.sub(r'"halo": \[[^\]]*\]', lambda m: re.sub(r'"(cached|cols)"', '"recompute"', m.group(0)), t)
open(out + "/qr.json", "w").write(rec)
for name, text in (("qc8", t), ("qr8", rec)):
    d = json.loads(text)
    first = min((f for f in d["quantmcu"]["feature_maps"] if f["bits"] < 8), key=lambda f: f["op"])
    first["scales"] = [s * 1e-3 for s in first["scales"]]; first["tau"] = 0
    json.dump(d, open("%s/%s.json" % (out, name), "w"))
PY
for f in $(ls "$IMG" | sort | sed -n 33,35p); do
  $QM run "$V1" "$IMG/$f" --mode quantmcu --plan "$T/qc.json" --no-vdpc --dump-output "$T/c.bin" > /dev/null \
    && $QM run "$V1" "$IMG/$f" --mode quantmcu --plan "$T/qr.json" --no-vdpc --dump-output "$T/r.bin" > /dev/null \
    && cmp -s "$T/c.bin" "$T/r.bin" && ok || bad "QuantMCU --no-vdpc: cached and recompute differ on $f"
  $QM run "$V1" "$IMG/$f" --mode patch --plan "$T/qc.json" --dump-output "$T/p8.bin" > /dev/null
  for q in qc8 qr8; do
    $QM run "$V1" "$IMG/$f" --mode quantmcu --plan "$T/$q.json" --dump-output "$T/s.bin" > /dev/null \
      && cmp -s "$T/p8.bin" "$T/s.bin" && ok || bad "QuantMCU $q, every tile switched to 8 bits: differs from the 8-bit run on $f"
  done
done
expect_error "bad --halo" "--halo needs auto|recompute|cols|cached" $QM plan "$V1" --halo sometimes
sed 's/"halo": \[ *"[a-z]*"/"halo": ["sometimes"/' "$T/halo_plan.json" > "$T/halo_bad.json"
expect_error "bad halo in a plan file" "halo of op 0 must be" $QM info "$V1" --plan "$T/halo_bad.json"

# --- QuantMCU: calibrate + search, then run/eval with the plan ---
$QM plan "$V1" --split 7 --grid 2x2 --calib "$IMG" --calib-count 4 --lambda 0.3 -o "$T/qplan.json" > "$T/qplan.txt" 2> "$T/qplan.err" && grep -q "QuantMCU v3: calibrated on 4 images" "$T/qplan.txt" && ok || bad "plan --calib: $(tail -3 "$T/qplan.txt")"
# the search's progress in a log: plain lines, the last one complete, no carriage returns
grep -qE "^QuantMCU search: ([0-9]+)/\1 measurements" "$T/qplan.err" && ! grep -q $'\r' "$T/qplan.err" && ok || bad "plan --calib progress: $(cat -A "$T/qplan.err" | tail -2)"
grep -q "^calibration: 8/8 image passes" "$T/qplan.err" && ok || bad "plan --calib: calibration progress: $(head -2 "$T/qplan.err")"
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); q=d['quantmcu']; assert d['mode']=='quantmcu' and q['scheme']=='v3' and q['calibration']['images']==4 and len(q['feature_maps'])>0 and 'steps' in q['search'] and all(('scales' in f) == (f['bits'] < 8) for f in q['feature_maps'])" "$T/qplan.json" && ok || bad "quantmcu plan.json"
# version 1 (the paper's method as first defined) stays selectable; the ablation switches are accepted
$QM plan "$V1" --split 7 --grid 2x2 --calib "$IMG" --calib-count 4 --quant-scheme v1 -o "$T/qplan1.json" > "$T/qplan1.txt" && grep -q "QuantMCU v1: calibrated on 4 images" "$T/qplan1.txt" && python3 -c "import json,sys; q=json.load(open(sys.argv[1]))['quantmcu']; assert q['scheme']=='v1' and q['proxy']=='entropy'" "$T/qplan1.json" && ok || bad "plan --quant-scheme v1: $(tail -2 "$T/qplan1.txt")"
$QM run "$V1" "$IMG/$first" --mode quantmcu --plan "$T/qplan1.json" > /dev/null && ok || bad "run a v1 plan"
$QM plan "$V1" --split 7 --grid 2x2 --calib "$IMG" --calib-count 4 --proxy entropy --outlier-values no --per-channel no --clipping no --outlier-tiles 0 -o "$T/qplan2.json" > /dev/null && $QM run "$V1" "$IMG/$first" --mode quantmcu --plan "$T/qplan2.json" > /dev/null && ok || bad "plan with the ablation switches"
expect_error "bad --quant-scheme" "quant-scheme" "$QM" plan "$V1" --split 7 --grid 2x2 --calib "$IMG" --quant-scheme v4
$QM run "$V1" "$IMG/$first" --mode quantmcu --plan "$T/qplan.json" > /dev/null && ok || bad "run --mode quantmcu"
$QM eval "$V1" --images "$IMG" --limit 4 --json --mode quantmcu --plan "$T/qplan.json" --vs-int8 > "$T/eq.json" 2> /dev/null && python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert 0 <= d['agreement_with_int8_pct'] <= 100 and d['kl_vs_int8'] >= 0 and 0 <= d['outlier_value_fraction'] < 1" "$T/eq.json" && ok || bad "eval --mode quantmcu --vs-int8"
$QM eval "$V1" --images "$IMG" --limit 4 --json --mode quantmcu --plan "$T/qplan.json" --no-vdpc > "$T/eq2.json" 2> /dev/null && ok || bad "eval --no-vdpc"
python3 - "$T/eq.json" "$T/eq2.json" <<'PY' && ok || bad "eval quantmcu json"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert a["mode"] == "quantmcu" and a["images"] == 4
assert a["patch_bitops"] <= a["patch_bitops_int8"] and 0 <= a["outlier_tile_fraction"] <= 1
assert b["outlier_tile_fraction"] == 0 and b["patch_bitops"] <= a["patch_bitops"]
PY
$QM eval "$V1" --images "$IMG" --skip 498 --json > "$T/skip.json" 2> /dev/null && python3 -c "import json,sys; assert json.load(open(sys.argv[1]))['images']==2" "$T/skip.json" && ok || bad "eval --skip"

# --- bad input ---
expect_error "missing model" "/nonexistent.tflite" $QM info /nonexistent.tflite
# (hostile files: tests/test_hostile.sh)
echo "this is not an image" > "$T/fake.jpg"
expect_error "missing image" "/nonexistent.png" $QM run "$V1" /nonexistent.png
mkdir -p "$T/empty"
expect_error "empty folder" "no samples in folder" $QM eval "$V1" --images "$T/empty"
expect_error "missing folder" "/nonexistent-dir" $QM eval "$V1" --images /nonexistent-dir
cp "$T/fake.jpg" "$T/empty/0001_fake.jpg"
expect_error "broken image in eval --strict" "0001_fake.jpg" $QM eval "$V1" --images "$T/empty" --strict
$QM eval "$V1" --images "$T/empty" > /dev/null 2> "$T/err"; rc=$?
[ $rc -ne 0 ] && [ $rc -lt 128 ] && grep -q "0001_fake.jpg" "$T/err" && tail -1 "$T/err" | grep -q "none of the 1 images could be decoded" && ok || bad "eval of a folder of broken images: rc=$rc $(cat "$T/err")"
expect_error "unknown option" "--bogus" $QM run "$V1" "$IMG/$first" --bogus
expect_error "bad limit" "--limit" $QM eval "$V1" --images "$IMG" --limit -3
expect_error "unknown command" "frobnicate" $QM frobnicate
expect_error "vww labels" "beyond the model's 2 outputs" $QM eval "$DATA/models/mlperf_vww_96_int8.tflite" --images "$IMG" --limit 3
expect_error "unknown mode" "--mode needs layer|patch|quantmcu" $QM run "$V1" "$IMG/$first" --mode warp
expect_error "patch without plan" "--mode patch needs --plan" $QM run "$V1" "$IMG/$first" --mode patch
expect_error "illegal split" "op 29 RESHAPE is not spatially local" $QM run "$V1" "$IMG/$first" --mode patch --split 30 --grid 2x2
expect_error "grid too fine" "grid 9x9" $QM eval "$V1" --images "$IMG" --limit 2 --mode patch --split 7 --grid 9x9
expect_error "bad grid" "--grid needs ROWSxCOLS" $QM plan "$V1" --split 7 --grid 0x3
expect_error "bad sram" "--sram needs a size" $QM plan "$V1" --sram lots
expect_error "missing plan" "/nonexistent-plan.json" $QM eval "$V1" --images "$IMG" --mode patch --plan /nonexistent-plan.json
expect_error "quantmcu mode without its section" "no QuantMCU section" $QM run "$V1" "$IMG/$first" --mode quantmcu --plan "$T/plan.json"
expect_error "quantmcu mode without plan" "--mode quantmcu needs --plan" $QM eval "$V1" --images "$IMG" --mode quantmcu
expect_error "bad lambda" "--lambda must be in [0, 1]" $QM plan "$V1" --calib "$IMG" --lambda 2
expect_error "bits without 8" "--bits needs a list" $QM plan "$V1" --calib "$IMG" --bits 4,2
expect_error "quantmcu options need calib" "need --calib DIR" $QM plan "$V1" --lambda 0.3
expect_error "missing calib folder" "/nonexistent-calib" $QM plan "$V1" --split 7 --grid 2x2 --calib /nonexistent-calib
expect_error "nothing to quantize" "no patch stage" $QM plan "$V1" --sram 1M --calib "$IMG" --calib-count 2 --quant-scheme v2
$QM plan "$V1" --sram 1M --calib "$IMG" --calib-count 2 -o "$T/q1m.json" > "$T/q1m.txt" && grep -q "nothing for low bits to buy" "$T/q1m.txt" \
  && python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['split']==0 and 'quantmcu' not in d" "$T/q1m.json" \
  && ok || bad "v3 with layer by layer fitting: expected the int8 plan written as it is"
expect_error "no-vdpc outside quantmcu" "--no-vdpc only applies" $QM run "$V1" "$IMG/$first" --no-vdpc

# --- broken images in an eval folder: each named on stderr and counted; --strict stops at the first ---
mkdir -p "$T/mixed"
cp "$IMG/$first" "$IMG/$second" "$T/mixed/"
head -c 3000 "$IMG/$first" > "$T/mixed/0998_cut.JPEG"
echo "not an image" > "$T/mixed/0999_text.jpg"
"$QM" eval "$V1" --images "$T/mixed" --json > "$T/mixed.json" 2> "$T/mixed.err" \
  && python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['images'] == 2 and d['errors'] == 2, d" "$T/mixed.json" \
  && grep -q "0998_cut.JPEG" "$T/mixed.err" && grep -q "0999_text.jpg" "$T/mixed.err" && ok || bad "eval with broken images: $(cat "$T/mixed.err")"
expect_error "eval --strict with a broken image" "0998_cut.JPEG" "$QM" eval "$V1" --images "$T/mixed" --strict
# --- image folders as users hold them: class sub-folders (WordNet id or index), a ground-truth file ---
mkdir -p "$T/flat3" "$T/classes3" "$T/gt3"
i=0
for f in $(ls "$IMG" | sort | head -3); do
  wnid=$(echo "$f" | cut -d_ -f2); idx=$((10#$(echo "$f" | cut -d_ -f1)))
  cp "$IMG/$f" "$T/flat3/"
  if [ $i -eq 2 ]; then mkdir -p "$T/classes3/$idx" && cp "$IMG/$f" "$T/classes3/$idx/photo.jpg"   # by index
  else mkdir -p "$T/classes3/$wnid" && cp "$IMG/$f" "$T/classes3/$wnid/photo.jpg"; fi               # by WordNet id
  cp "$IMG/$f" "$T/gt3/val_$i.JPEG"; echo "val_$i.JPEG $wnid" >> "$T/gt3.txt"
  i=$((i+1))
done
"$QM" eval "$V1" --images "$T/flat3" --json > "$T/f3.json" 2> /dev/null
QUANTMCU_DATA="$DATA" "$QM" eval "$V1" --images "$T/classes3" --json > "$T/c3.json" 2> /dev/null
QUANTMCU_DATA="$DATA" "$QM" eval "$V1" --images "$T/gt3" --ground-truth "$T/gt3.txt" --json > "$T/g3.json" 2> /dev/null
python3 - "$T/f3.json" "$T/c3.json" "$T/g3.json" <<'PY' && ok || bad "eval on class sub-folders / --ground-truth differs from the flat folder"
import json, sys
f, c, g = (json.load(open(p)) for p in sys.argv[1:4])
assert f["images"] == c["images"] == g["images"] == 3
assert f["top1_pct"] == c["top1_pct"] == g["top1_pct"] and f["top5_pct"] == c["top5_pct"] == g["top5_pct"]
PY
echo "val_0.JPEG" > "$T/gt_bad.txt"
expect_error "ground truth without a class" "gt_bad.txt:1:" "$QM" eval "$V1" --images "$T/gt3" --ground-truth "$T/gt_bad.txt"
# progress into a log: plain lines, no carriage returns
"$QM" eval "$V1" --images "$IMG" --limit 50 --threads 2 > /dev/null 2> "$T/progress.log" && grep -q "eval: 50/50 images" "$T/progress.log" \
  && ! grep -q $'\r' "$T/progress.log" && ok || bad "eval progress in a log: $(cat -A "$T/progress.log" | head -3)"
# element-wise ops with per-channel / scalar constants (MoveNet's input normalization) and CAST join the
# patch stage: every split through them and two grids give layer mode's bytes on both outputs
for s in 1 2 3 4 5; do
  for gr in 2x2 3x1; do
    $QM run "$T/gen/pose_ops.tflite" "$IMG/$A" --mode patch --split $s --grid $gr --dump-output "$T/pp.bin" > /dev/null \
      && $QM run "$T/gen/pose_ops.tflite" "$IMG/$A" --dump-output "$T/ll.bin" > /dev/null \
      && cmp -s "$T/pp.bin" "$T/ll.bin" && cmp -s "$T/pp.1.bin" "$T/ll.1.bin" && ok || bad "pose_ops split $s grid $gr differs from layer mode"
  done
done
# LEAKY_RELU (element-wise) in the patch stage: every legal split (the float model reads its input
# again at op 3), grids, recomputed or cached halos
for spec in "leaky_relu_int8:1 2 3 4" "leaky_relu_uint8:1 2 3 4" "leaky_relu_float:4"; do
  m=${spec%%:*}
  $QM run "$T/gen/$m.tflite" "$IMG/$A" --dump-output "$T/ll.bin" > /dev/null || bad "$m layer run"
  for s in ${spec#*:}; do
    for gr in "2x2 --halo recompute" "3x2 --halo cached"; do
      $QM run "$T/gen/$m.tflite" "$IMG/$A" --mode patch --split $s --grid $gr --dump-output "$T/pp.bin" > /dev/null \
        && cmp -s "$T/pp.bin" "$T/ll.bin" && ok || bad "$m split $s grid $gr differs from layer mode"
    done
  done
done
# RESIZE_BILINEAR / RESIZE_NEAREST_NEIGHBOR join the patch stage: every split, grids, recomputed or cached halos
for m in resize_int8 resize_uint8 resize_float nearest_int8 nearest_uint8 nearest_float; do
  $QM run "$T/gen/$m.tflite" "$IMG/$A" --dump-output "$T/ll.bin" > /dev/null || bad "$m layer run"
  for s in 1 2 3 4 5 6 7; do
    for gr in "2x2 --halo recompute" "3x2 --halo cached" "4x4 --halo cached"; do
      $QM run "$T/gen/$m.tflite" "$IMG/$A" --mode patch --split $s --grid $gr --dump-output "$T/pp.bin" > /dev/null \
        && cmp -s "$T/pp.bin" "$T/ll.bin" && ok || bad "$m split $s grid $gr differs from layer mode"
    done
  done
done
expect_error "QuantMCU over a constant input" "QuantMCU: op 0 CAST" $QM plan "$T/gen/pose_ops.tflite" --split 4 --grid 2x2 \
  --calib "$IMG" --calib-count 2 -o "$T/q.json"
# NaN and infinity into the dynamic-range convolutions (found by fuzz_model_reader): the run completes, no trap
python3 -c "import struct; open('$T/nan.bin', 'wb').write(struct.pack('<432f', *([float('nan'), float('inf'), -float('inf'), 1.0] * 108)))"
$QM run "$T/gen/hybrid_float.tflite" --input "$T/nan.bin" > /dev/null && ok || bad "hybrid model on NaN / inf input"
summary test_cli
