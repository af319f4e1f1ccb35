#!/usr/bin/env bash
# The test command: warnings-as-errors build + CTest (with the TFLite oracle), the same
# tests under ASan+UBSan, a warning-free Cortex-M4/M7 build of the kernels, and a short
# libFuzzer run on the model reader. Data: QUANTMCU_DATA (default ../shared).
set -euo pipefail
cd "$(dirname "$0")/.."
export QUANTMCU_DATA=${QUANTMCU_DATA:-$(cd .. && pwd)/shared}
TFL=$(pwd)/.cache/tflite/package
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
JOBS=$(nproc)

echo "== release build (-Wall -Wextra -Werror) + tests"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DQUANTMCU_TFLITE_DIR="$TFL" >/dev/null
cmake --build build -j"$JOBS"
(cd build && ctest --output-on-failure -j"$JOBS")

echo "== installed package: cmake --install, then examples/ built against it (CMake package and pkg-config)"
rm -rf build/prefix build-example
cmake --install build --prefix "$(pwd)/build/prefix" > /dev/null
cmake -S examples -B build-example -DCMAKE_PREFIX_PATH="$(pwd)/build/prefix" > /dev/null
cmake --build build-example -j"$JOBS"
PKG_CONFIG_PATH="$(pwd)/build/prefix/lib/pkgconfig" sh -c 'cc -std=c99 -Wall -Wextra -Werror examples/embed_host.c \
  $(pkg-config --cflags quantmcu) $(pkg-config --libs --static quantmcu) -o build-example/embed_host_pkgconfig'
if [ -f "$QUANTMCU_DATA/models/mobilenet_v2_1.0_224_quant.tflite" ]; then
  # MobileNetV2 needs patches under 256 kB (QuantMCU applied); MobileNetV1 fits layer by layer
  build-example/embed_host "$QUANTMCU_DATA/models/mobilenet_v2_1.0_224_quant.tflite" "$QUANTMCU_DATA/imagenet-dev" \
    "$QUANTMCU_DATA/imagenet-dev/0064_n01749939_green_mamba.JPEG"
  build-example/embed_host_pkgconfig "$QUANTMCU_DATA/models/mobilenet_v1_0.25_128_quant.tflite" "$QUANTMCU_DATA/imagenet-dev" \
    "$QUANTMCU_DATA/imagenet-dev/0064_n01749939_green_mamba.JPEG"
else
  echo "SKIPPED: running the example needs the shared data (QUANTMCU_DATA)"
fi

echo "== ASan + UBSan build + tests"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DQUANTMCU_SANITIZE=ON -DQUANTMCU_NATIVE=OFF -DQUANTMCU_TFLITE_DIR="$TFL" >/dev/null
cmake --build build-asan -j"$JOBS"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j"$JOBS")

echo "== Cortex-M4 / M7 build of the device runtime, qmcu_runtime (arm-none-eabi-gcc, -Werror)"
for mcu in cortex-m4 cortex-m7; do
  cmake -S . -B build-$mcu -DCMAKE_TOOLCHAIN_FILE=cmake/arm-none-eabi.cmake -DQUANTMCU_MCU=$mcu -DCMAKE_BUILD_TYPE=MinSizeRel >/dev/null
  cmake --build build-$mcu -j"$JOBS"
done

echo "== libFuzzer smoke run: every target (bench/fuzz.sh), $((FUZZ_SECONDS / 2))s each, two at a time"
FUZZ_JOBS=$JOBS bash bench/fuzz.sh "$((FUZZ_SECONDS / 2))"
echo "== all tests passed"
