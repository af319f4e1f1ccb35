# Sourced by the shell tests: the shared data (the test skips loudly when it is absent), the model
# and image paths, a temporary folder $T removed on exit, pass/fail counters and the summary.
DATA=${QUANTMCU_DATA:-${QUANTMCU_DATA_DEFAULT:-}}
if [ -z "$DATA" ] || [ ! -f "$DATA/models/mobilenet_v1_0.25_128_quant.tflite" ]; then
  echo "SKIPPED: shared data not found (set QUANTMCU_DATA)"; exit 77
fi
V1=$DATA/models/mobilenet_v1_0.25_128_quant.tflite
V2=$DATA/models/mobilenet_v2_1.0_224_quant.tflite
IMG=$DATA/imagenet-dev
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0; fail=0
ok()  { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAILED: $*" >&2; }
# require_tool NAME: skip loudly when it is not installed
require_tool() { command -v "$1" > /dev/null || { echo "SKIPPED: $1 not installed (scripts/setup.sh installs it)"; exit 77; }; }
# summary NAME: the counts, and the exit status
summary() { echo "$1: $pass passed, $fail failed"; [ $fail -eq 0 ]; }
