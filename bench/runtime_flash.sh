#!/usr/bin/env bash
# Flash taken by the runtime's code in a model's firmware (not a test): the model's module is
# generated (`quantmcu codegen`, Cortex-M4, board big), every runtime and firmware source is
# compiled to its own object with the flags `quantmcu mcu` uses, the firmware is linked with
# --gc-sections and the linker map says what each object kept. Printed per model: runtime code
# (src/kernels, src/graph, src/runtime: .text + .rodata kept), the generated module (weights and
# tables), firmware glue and C library.
# usage: bench/runtime_flash.sh MODEL[:PLAN]...   (no PLAN: the model layer by layer)
#        e.g. bench/runtime_flash.sh $D/models/mobilenet_v1_0.25_128_quant.tflite $D/models/mcunet_vww_int8.tflite
set -euo pipefail
cd "$(dirname "$0")/.."
Q=${QUANTMCU:-build/quantmcu}
[ $# -ge 1 ] || { echo "usage: bench/runtime_flash.sh MODEL[:PLAN]..." >&2; exit 2; }
T=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
CPU="-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16"
CFLAGS="$CPU -std=c99 -O2 -ffunction-sections -fdata-sections -Wall -Wextra -Werror -Iinclude -Isrc -Isrc/firmware"
# the runtime's sources, as CMake lists them (QMCU_RUNTIME_SOURCES)
runtime=$(sed -n '/^set(QMCU_RUNTIME_SOURCES/,/)/p' CMakeLists.txt | grep -o 'src/[A-Za-z0-9_/]*\.c')
firmware="src/firmware/startup.c src/firmware/semihost.c src/firmware/main.c"
printf "| model | plan | runtime code (B) | generated module (B) | firmware + libc (B) | ops linked |\n|---|---|---|---|---|---|\n"
for spec in "$@"; do
  model=${spec%%:*}
  plan=${spec#"$model"}; plan=${plan#:}
  name=$(basename "$model" .tflite)
  d="$T/$name"; mkdir -p "$d/obj"
  if [ -z "$plan" ]; then
    $Q plan "$model" --sram 64M -o "$d/plan.json" --quiet > /dev/null   # fits: layer by layer
    plan="$d/plan.json"; label="layer"
  else
    label=$(basename "$plan")
  fi
  $Q codegen "$model" --plan "$plan" -o "$d/gen" --target cortex-m4 --board big > /dev/null
  objs=()
  for s in $runtime $firmware; do
    o="$d/obj/$(echo "$s" | tr / _).o"
    arm-none-eabi-gcc $CFLAGS -I"$d/gen" -c "$s" -o "$o"
    objs+=("$o")
  done
  arm-none-eabi-gcc $CFLAGS -I"$d/gen" -c "$d/gen/qmcu_model_data.c" -o "$d/obj/model.o"
  arm-none-eabi-gcc $CPU -nostartfiles -T "$d/gen/board.ld" -Wl,--gc-sections -Wl,-Map="$d/fw.map" \
    --specs=nano.specs --specs=nosys.specs -o "$d/fw.elf" "${objs[@]}" "$d/obj/model.o" -lm
  # input sections kept in the output sections loaded from flash (.text holds .rodata too)
  awk -v obj="$d/obj/" '
    function hex(s,   i, v) { v = 0; s = tolower(substr(s, 3)); for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1; return v }
    /^Linker script and memory map/ { on = 1; next }
    !on { next }
    /^\.text|^\.ARM\.exidx|^\.data/ { out = 1; next }
    /^\.[a-z]/ && !/^\.text|^\.ARM|^\.data/ { out = 0 }
    !out { next }
    { line = pending $0; pending = "" }
    NF == 1 && $1 ~ /^\./ { pending = $0 " "; next }
    { n = split(line, f, " ") }
    n >= 4 && f[1] ~ /^\./ && f[2] ~ /^0x/ && f[3] ~ /^0x/ {
      size = hex(f[3]); file = f[4]
      if (index(file, obj) == 1) {
        file = substr(file, length(obj) + 1)
        if (file ~ /^src_(kernels|graph|runtime)_/) runtime += size
        else if (file == "model.o") model += size
        else other += size
      } else other += size
    }
    END { printf "%d %d %d\n", runtime, model, other }' "$d/fw.map" > "$d/sizes"
  read -r rt mod oth < "$d/sizes"
  ops=$(grep -o '&qmcu_kernel_[a-z0-9_]*' "$d/gen/qmcu_model_data.c" | sort -u | sed 's/&qmcu_kernel_//' | tr '\n' ' ' || true)
  echo "| $name | $label | $rt | $mod | $oth | ${ops:-all (one executor)} |"
done
