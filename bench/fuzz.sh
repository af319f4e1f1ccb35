#!/usr/bin/env bash
# Fuzzing benchmark (not a test): every libFuzzer target under ASan + UBSan for SECONDS each, from
# seeds made by fuzz/make_seeds.sh; prints executions, executions per second, coverage (libFuzzer's
# cov / ft) and crashes per target. Crash inputs stay in build-fuzz/findings/TARGET.
# usage: bench/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]   (default 60 s, all targets; clang needed)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER=${1:-60}
shift || true
TARGETS=${*:-fuzz_model_parse fuzz_model_reader fuzz_image fuzz_plan_reader}
CC=clang cmake -S . -B build-fuzz -DQUANTMCU_FUZZ=ON -DQUANTMCU_NATIVE=OFF > /dev/null
cmake --build build-fuzz -j"$(nproc)" > /dev/null
bash fuzz/make_seeds.sh build-fuzz/seeds > /dev/null
printf "%-20s %12s %10s %8s %8s %8s\n" target executions exec/s cov ft crashes
for t in $TARGETS; do
  case $t in
    fuzz_model_parse|fuzz_model_reader) seeds=model; dict=fuzz/tflite.dict; maxlen=400000 ;;
    fuzz_image) seeds=image; dict=; maxlen=200000 ;;
    fuzz_plan_reader) seeds=plan; dict=fuzz/plan.dict; maxlen=4096 ;;
    *) echo "unknown target $t"; exit 2 ;;
  esac
  corpus=build-fuzz/corpus/$t findings=build-fuzz/findings/$t
  mkdir -p "$corpus" "$findings"
  cp -n build-fuzz/seeds/$seeds/* "$corpus/" 2> /dev/null || true
  log=build-fuzz/$t.log
  (cd "$findings" && "../../fuzz/$t" -max_total_time="$SECONDS_PER" -max_len=$maxlen -rss_limit_mb=4096 \
     -print_final_stats=1 ${dict:+-dict="../../../$dict"} "../../corpus/$t" > "../../$t.log" 2>&1) || true
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  crashes=$(ls "$findings" | grep -c -E '^(crash|leak|timeout|oom)-' || true)
  printf "%-20s %12s %10s %8s %8s %8s\n" "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$crashes"
done
