#!/usr/bin/env bash
# The kernel tests (tests/test_kernels.c: every kernel vs the naive reference) built for
# Cortex-M4 and M7 with the DSP paths (__ARM_FEATURE_DSP) and run under QEMU.
# usage: test_kernels_mcu.sh SOURCE_DIR
set -u
SRC=$1
for tool in arm-none-eabi-gcc qemu-system-arm; do
  command -v $tool > /dev/null || { echo "SKIPPED: $tool not installed (scripts/setup.sh installs it)"; exit 77; }
done
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
for cpu in cortex-m4 cortex-m7; do
  if [ $cpu = cortex-m4 ]; then FL="-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16"; M=mps2-an386
  else FL="-mcpu=cortex-m7 -mthumb -mfloat-abi=hard -mfpu=fpv5-d16"; M=mps2-an500; fi
  CF="$FL -std=c99 -O2 -ffunction-sections -fdata-sections -Wall -Wextra -Werror -I$SRC/include -I$SRC/src -I$SRC/src/firmware -I$SRC/tests"
  arm-none-eabi-gcc $CF -Dmain=qmcu_test_main -c "$SRC/tests/test_kernels.c" -o "$T/test_kernels.o" 2> "$T/build.log" &&
  arm-none-eabi-gcc $CF -nostartfiles -T "$SRC/tests/mcu_test.ld" -Wl,--gc-sections --specs=rdimon.specs -o "$T/fw.elf" \
    "$T/test_kernels.o" "$SRC/tests/mcu_test_main.c" "$SRC/src/firmware/startup.c" "$SRC/src/firmware/semihost.c" \
    "$SRC"/src/kernels/*.c "$SRC/src/kernels/reference/reference_kernels.c" "$SRC/src/graph/graph.c" -lm 2>> "$T/build.log" \
    || { echo "FAILED: $cpu build: $(grep -m3 -E 'error|warning' "$T/build.log")"; fail=1; continue; }
  (cd "$T" && timeout 600 qemu-system-arm -M $M -display none -monitor none -serial none \
     -semihosting-config enable=on,target=native -kernel fw.elf) > "$T/out.txt" 2>&1
  rc=$?
  line=$(grep "passed" "$T/out.txt")
  echo "$cpu: $line"
  if [ $rc -ne 0 ] || ! echo "$line" | grep -q " 0 failed"; then echo "FAILED: $cpu (status $rc)"; head -20 "$T/out.txt"; fail=1; fi
done
exit $fail
