#!/usr/bin/env bash
# Fuzzing benchmark (not a test): every libFuzzer target under ASan + UBSan for SECONDS each, from
# seeds made by fuzz/make_seeds.sh; prints executions, executions per second, coverage (libFuzzer's
# cov / ft) and crashes per target. Crash inputs stay in build-fuzz/findings/TARGET.
# usage: bench/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]   (default 60 s, all targets; clang needed)
#        FUZZ_RUNS=1000000 bench/fuzz.sh 3600   stops each target after that many executions
#        FUZZ_JOBS=2 runs two targets at a time (one core each)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER=${1:-60}
shift || true
TARGETS=${*:-fuzz_model_parse fuzz_model_reader fuzz_image fuzz_plan_reader fuzz_codegen}
RUNS=${FUZZ_RUNS:--1}
JOBS=${FUZZ_JOBS:-1}
CC=clang cmake -S . -B build-fuzz -DQUANTMCU_FUZZ=ON -DQUANTMCU_NATIVE=OFF > /dev/null
cmake --build build-fuzz -j"$(nproc)" > /dev/null
rm -rf build-fuzz/seeds
bash fuzz/make_seeds.sh build-fuzz/seeds build-fuzz/fuzz/make_models > /dev/null
run_target() {
  local t=$1 seeds dict maxlen
  case $t in
    fuzz_model_parse) seeds=model; dict=fuzz/tflite.dict; maxlen=400000 ;;
    fuzz_model_reader) seeds=small; dict=fuzz/tflite.dict; maxlen=16384 ;;
    fuzz_image) seeds=image; dict=; maxlen=8192 ;;
    fuzz_plan_reader|fuzz_codegen) seeds=plan; dict=fuzz/plan.dict; maxlen=4096 ;;
    *) echo "unknown target $t"; exit 2 ;;
  esac
  local corpus=build-fuzz/corpus/$t findings=build-fuzz/findings/$t
  mkdir -p "$corpus" "$findings"
  cp -n build-fuzz/seeds/$seeds/* "$corpus/" 2> /dev/null || true
  (cd "$findings" && "../../fuzz/$t" -max_total_time="$SECONDS_PER" -runs="$RUNS" -max_len=$maxlen -rss_limit_mb=4096 \
     -print_final_stats=1 ${dict:+-dict="../../../$dict"} "../../corpus/$t" > "../../$t.log" 2>&1) || true
}
running=0
for t in $TARGETS; do
  run_target "$t" &
  running=$((running + 1))
  if [ $running -ge "$JOBS" ]; then wait -n || true; running=$((running - 1)); fi
done
wait
printf "%-20s %12s %10s %8s %8s %8s\n" target executions exec/s cov ft crashes
total_crashes=0
for t in $TARGETS; do
  log=build-fuzz/$t.log findings=build-fuzz/findings/$t
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  crashes=$(ls "$findings" | grep -c -E '^(crash|leak|timeout|oom)-' || true)
  printf "%-20s %12s %10s %8s %8s %8s\n" "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$crashes"
  total_crashes=$((total_crashes + crashes))
done
if [ "$total_crashes" -gt 0 ]; then echo "fuzz: $total_crashes crash inputs in build-fuzz/findings (logs: build-fuzz/TARGET.log)"; exit 1; fi
