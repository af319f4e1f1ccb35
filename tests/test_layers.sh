#!/usr/bin/env bash
# The layering check must fail on upward includes: copies of the tree with one injected
# (runtime -> planning, kernels -> runtime, api -> cli, graph -> quantmcu.h, an internal header
# in the CLI) are each refused, so is a file cycle inside a folder (tile_geometry.c calling the
# executor, which calls tile_geometry.c), and the tree itself passes. usage: test_layers.sh SOURCE_DIR
set -u
SRC=$1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0; fail=0
bash "$SRC/scripts/check_layers.sh" "$SRC" > "$T/out" 2>&1 && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAILED: the tree: $(tail -3 "$T/out")"; }
for spec in "src/runtime/executor.c:../planning/plan.h" "src/kernels/pool_s8.c:quantmcu/runtime.h" \
            "src/api/eval.c:../cli/cli.h" "src/graph/graph.c:quantmcu/quantmcu.h" \
            "src/cli/cmd_run.c:../planning/plan.h" "src/cli/cmd_eval.c:quantmcu/runtime.h" \
            "src/runtime/tile_geometry.c:call qmcu_exec_run"; do
  file=${spec%%:*}; inc=${spec#*:}
  rm -rf "$T/tree"; mkdir -p "$T/tree"; cp -r "$SRC/src" "$SRC/include" "$SRC/scripts" "$T/tree/"
  case "$inc" in
    call\ *) printf 'void qmcu_injected(void);\nvoid qmcu_injected(void)\n{\n    (void)%s(0, 0, 0, 0);\n}\n' "${inc#call }" \
                >> "$T/tree/$file" ;;
    *) sed -i "1i #include \"$inc\"" "$T/tree/$file" ;;
  esac
  if bash "$T/tree/scripts/check_layers.sh" "$T/tree" > "$T/out" 2>&1; then
    fail=$((fail+1)); echo "FAILED: $file with '$inc' was not refused"
  elif grep -q "$file" "$T/out"; then pass=$((pass+1))
  else fail=$((fail+1)); echo "FAILED: $file with '$inc': the message does not name the file: $(head -2 "$T/out")"; fi
done
echo "test_layers: $pass passed, $fail failed"
[ $fail -eq 0 ]
