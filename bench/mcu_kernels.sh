#!/usr/bin/env bash
# Emulated instructions per MAC of the int8 kernels on MobileNetV2 shapes, Cortex-M4 (QEMU
# mps2-an386, -icount shift=0, SysTick: instructions, not cycles). Not a test.
# usage: bench/mcu_kernels.sh [cortex-m4|cortex-m7]
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$(pwd)
CPU=${1:-cortex-m4}
if [ "$CPU" = cortex-m4 ]; then FL="-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16"; M=mps2-an386
else FL="-mcpu=cortex-m7 -mthumb -mfloat-abi=hard -mfpu=fpv5-d16"; M=mps2-an500; fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
CF="$FL -std=c99 -O2 -ffunction-sections -fdata-sections -Wall -Wextra -Werror -I$SRC/include -I$SRC/src -I$SRC/src/firmware"
arm-none-eabi-gcc $CF -nostartfiles -T tests/mcu_test.ld -Wl,--gc-sections --specs=rdimon.specs -o "$T/fw.elf" \
  bench/mcu_kernels.c tests/mcu_test_main.c src/firmware/startup.c src/firmware/semihost.c src/kernels/*.c src/graph/graph.c -lm
(cd "$T" && timeout 600 qemu-system-arm -M $M -display none -monitor none -serial none \
   -semihosting-config enable=on,target=native -icount shift=0 -kernel fw.elf 2>&1)
