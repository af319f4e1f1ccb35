#!/usr/bin/env bash
# Hostile and broken input, one kind per row: every one must end with exactly one line on stderr
# naming the file and the problem, an exit status of 1 or 2 (never a signal, never a sanitizer
# report), and no partial output file (a previous one stays intact). Prints the table (markdown).
# usage: test_hostile.sh QUANTMCU TEST_IMPORT MAKE_MODELS
set -u
QM=$1
MUTATE=$2
MAKE_MODELS=$3
. "$(dirname "$0")/test_lib.sh"

rows=()
# hostile KIND NEEDLE CMD...: run, check, add a table row
hostile() {
  local kind=$1 needle=$2; shift 2
  "$@" > "$T/out" 2> "$T/err"; local rc=$?
  local lines line
  lines=$(wc -l < "$T/err"); line=$(head -1 "$T/err" | sed "s|$T/||g; s|$DATA/||g")
  if [ $rc -ge 1 ] && [ $rc -le 2 ] && [ "$lines" -eq 1 ] && grep -qF -- "$needle" "$T/err"; then ok
  else bad "$kind: rc=$rc, $lines stderr lines: $(head -c 400 "$T/err")"; fi
  rows+=("| $kind | $rc | \`${line//|/\\|}\` |")
}
# intact FILE CONTENT KIND: the previous file is untouched and no temporary file is left next to it
intact() {
  if [ "$(cat "$1")" = "$2" ] && [ -z "$(ls -a "$(dirname "$1")" | grep '\.tmp')" ]; then ok; else bad "$3: previous file changed or temporary left"; fi
}

mkdir -p "$T/gen" "$T/bad"
"$MAKE_MODELS" --hostile "$T/bad" || bad "make_models --hostile"
"$MAKE_MODELS" "$T/gen" || bad "make_models"
A=$IMG/$(ls "$IMG" | sort | sed -n 40p)
$QM plan "$V1" --sram 64K -o "$T/v1.json" > /dev/null || bad "plan"

# --- models ---
: > "$T/empty.tflite"
hostile "empty model file" "model file is empty" $QM info "$T/empty.tflite"
"$MUTATE" --write-truncated "$V1" "$T/trunc.tflite" 5000
hostile "model truncated to 5,000 bytes" "trunc.tflite" $QM info "$T/trunc.tflite"
{ printf '\x18\x00\x00\x00TFL3'; head -c 4000 /dev/urandom; } > "$T/random.tflite"
hostile "random bytes behind a TFL3 identifier" "random.tflite" $QM info "$T/random.tflite"
"$MUTATE" --write-unsupported "$V1" "$T/unsup.tflite"
hostile "unsupported operator" "unsupported operator LSTM (builtin code 16)" $QM run "$T/unsup.tflite" "$A"
hostile "tensor declaring 4 GB (65536x65536)" "more than the 2^28 limit" $QM info "$T/bad/huge_tensor.tflite"
hostile "shape of six 2^24 dimensions (2^144 elements; found by fuzz_model_parse)" "declares 22300745198530623141535718272648361505980416 elements" $QM info "$T/bad/overflowing_shape.tflite"
hostile "activations needing 3.2 GB at once" "more than the 2 GB limit" $QM info "$T/bad/huge_arena.tflite"
hostile "filter buffer shorter than its shape" "its shape needs 108" $QM info "$T/bad/short_weights.tflite"
hostile "operator input index 999" "refers to tensor 999" $QM info "$T/bad/bad_tensor_index.tflite"
hostile "operator reading a tensor before it is written" "before it is computed" $QM info "$T/bad/reads_before_written.tflite"
hostile "quantization scale 0" "invalid scale 0" $QM info "$T/bad/zero_scale.tflite"
hostile "image into a non-image model" "not a 1xHxWx3 image tensor" $QM run "$T/bad/mfcc_input.tflite" "$A"
hostile "int32 division by a constant 0 (fails when it runs, as in TFLite)" "inference failed at op 1 FLOOR_DIV" $QM run "$T/bad/div_by_zero.tflite" "$A"
hostile "LSTM with a required input marked absent (found by fuzz_model_reader)" "UNIDIRECTIONAL_SEQUENCE_LSTM: required input 4 is missing" $QM info "$T/bad/lstm_missing_input.tflite"
hostile "LEAKY_RELU with a negative alpha" "op 0 LEAKY_RELU with alpha -0.5 (0 or more supported)" $QM info "$T/bad/negative_alpha.tflite"
# metadata is advisory (TFLite ignores it): the model loads, `info` names the reason it is not used
$QM info "$T/bad/corrupt_metadata.tflite" | grep -q "metadata ignored: input normalization mean 127.5 std 0 is unusable" \
  && ok || bad "unusable metadata: not reported by info"

# --- images ---
echo "this is not an image" > "$T/fake.jpg"
hostile "text file named .jpg" "fake.jpg: cannot decode image (not a JPEG, PNG or BMP file)" $QM run "$V1" "$T/fake.jpg"
: > "$T/empty.png"
hostile "empty image file" "empty.png" $QM run "$V1" "$T/empty.png"
head -c 3000 "$A" > "$T/cut.jpg"
hostile "JPEG cut before its frame header" "no frame header in its 3000 bytes" $QM run "$V1" "$T/cut.jpg"
head -c $(($(stat -c %s "$A") / 2)) "$A" > "$T/half.jpg"
hostile "JPEG cut in half" "Premature end of JPEG file" $QM run "$V1" "$T/half.jpg"
python3 - "$T" <<'PY'
import struct, sys, zlib
def chunk(t, d): return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
def png(path, w, h, idat):
    open(path, 'wb').write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0))
                           + chunk(b'IDAT', idat) + chunk(b'IEND', b''))
png(sys.argv[1] + '/huge.png', 60000, 60000, zlib.compress(b'\0' * 10))
png(sys.argv[1] + '/wide.png', 0xf8f8f8f8, 0xf8f8f8f8, b'') # found by fuzz_image: width x height overflowed int64
open(sys.argv[1] + '/short.bmp', 'wb').write(b'BM' + struct.pack('<IHHI', 154, 0, 0, 54) + struct.pack('<IiiH', 40, 6, 5, 1)[:15]) # found by fuzz_image: header read past the end
open(sys.argv[1] + '/huge.bmp', 'wb').write(b'BM' + struct.pack('<IHHI', 54, 0, 0, 54) + struct.pack('<IiiHHIIiiII', 40, 30000, -30000, 1, 24, 0, 0, 0, 0, 0, 0))
png(sys.argv[1] + '/garbage.png', 8, 8, b'\x78\x9c' + b'\xff' * 40)
PY
hostile "PNG header declaring 60000x60000" "declares 60000x60000 pixels" $QM run "$V1" "$T/huge.png"
hostile "PNG header declaring 4177066232x4177066232" "declares 4177066232x4177066232 pixels" $QM run "$V1" "$T/wide.png"
hostile "BMP cut inside its header (29 bytes)" "short.bmp: cannot decode BMP image" $QM run "$V1" "$T/short.bmp"
hostile "BMP header declaring 30000x-30000 (top-down)" "declares 30000x30000 pixels" $QM run "$V1" "$T/huge.bmp"
hostile "PNG with a corrupt zlib stream" "garbage.png: cannot decode PNG image (corrupt" $QM run "$V1" "$T/garbage.png"

# --- plans ---
echo '{"format": "quantmcu-plan", "version": 1,, }' > "$T/syntax.json"
hostile "plan file with a syntax error" "syntax error at byte" $QM info "$V1" --plan "$T/syntax.json"
python3 -c "print('[' * 100000 + ']' * 100000)" > "$T/deep.json"
hostile "plan nested 100,000 levels deep" "nested deeper than 1000 levels" $QM info "$V1" --plan "$T/deep.json"
truncate -s 70M "$T/huge.json"
hostile "70 MB plan file" "this tool reads at most" $QM info "$V1" --plan "$T/huge.json"
hostile "plan made for another model" "made for another model" $QM run "$V2" "$A" --mode patch --plan "$T/v1.json"
sed 's/"split": [0-9]*/"split": 9999/' "$T/v1.json" > "$T/split.json"
hostile "plan with split 9999" "split.json" $QM run "$V1" "$A" --mode patch --plan "$T/split.json"
hostile "budget no plan can meet (1 kB)" "nothing written" $QM plan "$V1" --sram 1K -o "$T/none.json"
[ ! -e "$T/none.json" ] && grep -q "does NOT fit" "$T/out" && ok || bad "plan that cannot fit: wrote a file or said nothing"
$QM plan "$V2" --split 13 --grid 2x2 -o "$T/big.json" --sram 4M > /dev/null || bad "plan V2 2x2"
hostile "plan larger than the board's SRAM (codegen)" "f746" $QM codegen "$V2" --plan "$T/big.json" -o "$T/gen_big" --board f746

# --- output paths: nothing half-written ---
hostile "plan -o into a missing folder" "/nonexistent-dir/plan.json" $QM plan "$V1" --sram 64K -o /nonexistent-dir/plan.json
echo previous > "$T/keep.json"
hostile "plan -o past a file size limit (ulimit -f 1)" "keep.json" bash -c "ulimit -f 1; exec $QM plan $V1 --sram 64K -o $T/keep.json"
intact "$T/keep.json" previous "plan -o past a file size limit"
mkdir -p "$T/gen_keep" && echo previous > "$T/gen_keep/qmcu_model_data.c"
hostile "codegen -o past a file size limit (ulimit -f 100)" "gen_keep" bash -c "ulimit -f 100; exec $QM codegen $V1 --plan $T/v1.json -o $T/gen_keep"
intact "$T/gen_keep/qmcu_model_data.c" previous "codegen -o past a file size limit"
[ ! -e "$T/gen_keep/qmcu_model.h" ] && ok || bad "codegen: a partial module was left"
hostile "report -o onto a read-only file system (/proc)" "/proc/version" $QM report "$V1" --plan "$T/v1.json" -o /proc/version
if mkdir -p "$T/full" && mount -t tmpfs -o size=64k tmpfs "$T/full" 2> /dev/null; then
  echo previous > "$T/full/report.html"
  cat /dev/zero > "$T/full/filler" 2> /dev/null # the disk is now full
  hostile "report -o onto a full disk (64 kB tmpfs)" "report.html" $QM report "$V1" --plan "$T/v1.json" -o "$T/full/report.html"
  intact "$T/full/report.html" previous "report -o onto a full disk"
  umount "$T/full"
else
  echo "NOTE: cannot mount a tmpfs here (not root?): the full-disk row is not run"
fi

printf '| kind | exit | the one line on stderr |\n|---|---|---|\n'
printf '%s\n' "${rows[@]}"
summary test_hostile
