#!/usr/bin/env bash
# Installs what quantmcu needs to build and test (Debian packages) and fetches the test
# oracle, TensorFlow Lite 2.9's C library, from the npm package tfjs-tflite-node@0.0.2
# into .cache/tflite (test dependency only). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
pkgs="cmake make gcc pkgconf clang libclang-rt-14-dev libstb-dev libcjson-dev libturbojpeg0-dev libjpeg-turbo-progs gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm python3 npm chromium"
missing=""
for p in $pkgs; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if ! command -v npm >/dev/null 2>&1; then :; else missing=${missing/ npm/}; fi
if [ -n "$missing" ]; then
  echo "setup: installing$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
if [ ! -f .cache/tflite/package/cc_deps/linux_amd64/libtensorflowlite_c.so ]; then
  echo "setup: fetching the TFLite 2.9 oracle (npm pack tfjs-tflite-node@0.0.2)"
  mkdir -p .cache/tflite
  (cd .cache/tflite && npm pack --silent tfjs-tflite-node@0.0.2 >/dev/null && tar xzf tfjs-tflite-node-0.0.2.tgz)
fi
echo "setup: done"
