#!/usr/bin/env bash
# Model sweep (not a test): every .tflite in the given folders through quantmcu and TFLite 2.9.
# Per model: does it import (else the error line), does TFLite 2.9 itself load it, are all outputs
# bit-exact with TFLite on 4 random inputs (every input tensor; float models: max |difference|),
# and the plan searched for SRAM bytes: when it patches, are its outputs equal to layer mode's.
# Prints a markdown table and the counts. Models are not committed: fetch them yourself, e.g. the
# google-coral/test_data and mlcommons/tiny repositories (*.tflite, not the *_edgetpu ones).
# usage: bench/model_sweep.sh [--sram BYTES] DIR...   (QUANTMCU_BIN, default build/quantmcu;
#        TFLITE_DIFF, default build/tests/tflite_diff: a build configured with QUANTMCU_TFLITE_DIR)
set -uo pipefail
cd "$(dirname "$0")/.."
Q=${QUANTMCU_BIN:-build/quantmcu}
DIFF=${TFLITE_DIFF:-build/tests/tflite_diff}
SRAM=327680
if [ "${1:-}" = "--sram" ]; then SRAM=$2; shift 2; fi
[ $# -ge 1 ] || { echo "usage: bench/model_sweep.sh [--sram BYTES] DIR..." >&2; exit 2; }
[ -x "$DIFF" ] || { echo "model_sweep: $DIFF not built (configure with -DQUANTMCU_TFLITE_DIR)" >&2; exit 2; }
n=0; imported=0; tflite_ok=0; exact=0; float=0; patched=0; patch_exact=0
echo "| model | import | TFLite 2.9 | all outputs vs TFLite (4 random inputs) | plan for $SRAM B |"
echo "|---|---|---|---|---|"
for f in $(find "$@" -name '*.tflite' ! -name '*edgetpu*' | sort); do
  n=$((n + 1))
  name=$(basename "$f")
  if ! err=$($Q info "$f" 2>&1 > /dev/null); then
    line=$(timeout 600 "$DIFF" --tflite-runs "$f" 2>&1 | tail -1)
    tfl=${line#$f: TFLite }
    [ "$tfl" = "runs it" ] && tflite_ok=$((tflite_ok + 1))
    echo "| $name | no: \`${err#quantmcu: $f: }\` | $tfl | | |"
    continue
  fi
  imported=$((imported + 1))
  line=$(timeout 1200 "$DIFF" --random "$f" 4 "$SRAM" 2>&1 | tail -1)
  line=${line#$f: }
  case $line in
    *"TFLite cannot load"*) echo "| $name | yes | cannot load it | | |"; continue ;;
  esac
  tflite_ok=$((tflite_ok + 1))
  res=$(echo "$line" | sed -n 's/^[0-9]* random inputs, \([0-9]*\) outputs: \([^;]*\).*/\2 (\1 outputs)/p')
  plan=$(echo "$line" | sed -n 's/.*; plan for [0-9]* B: //p')
  echo "$res" | grep -qE "^bit-exact" && exact=$((exact + 1))
  echo "$res" | grep -q "^float" && float=$((float + 1))
  case $plan in *"patch bit-exact"*) patched=$((patched + 1)); patch_exact=$((patch_exact + 1)) ;; *patch*) patched=$((patched + 1)) ;; esac
  echo "| $name | yes | runs it | ${res:-$line} | ${plan:-?} |"
done
echo
echo "$n models: $imported import here; TFLite 2.9 runs $tflite_ok; $exact quantized models bit-exact on all outputs," \
  "$float float models compared with a tolerance; $patched patched at $SRAM B, $patch_exact of them equal to layer mode"
