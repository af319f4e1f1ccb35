#!/usr/bin/env bash
# Layering check: reads every #include "..." of src/ and include/quantmcu/ and fails when a file
# includes a header of a layer above its own (or of another folder of the same rank), so that
# dependencies point one way and no two folders include each other. The layers, bottom up:
#   0 common   status codes                         include/quantmcu/status.h
#   1 kernels  int8 kernels (device)                include/quantmcu/kernels.h
#   2 graph    graph IR, op traits (device)         include/quantmcu/graph.h
#   3 runtime  exec-plan types, executor (device)   include/quantmcu/runtime.h
#   4 import | prepare | firmware  (host: .tflite reader, kernel parameters; firmware: device main)
#   5 image    decoding and preprocessing (host)
#   6 planning memory planner, plan build/search, plan file
#   7 quantize QuantMCU: calibration, VDQS, low-bit parameters, pipeline
#   8 codegen  generated C module
#   9 api      public host API                      include/quantmcu/quantmcu.h
#  10 cli      argument parsing and printing
# Also refused: a CLI file including anything but the public header quantmcu/quantmcu.h (and the
# CLI's own cli.h), and files of one folder calling each other in a cycle (file A calls a function
# file B defines and B, directly or through others of the folder, one of A's: found from the
# sources, non-static function definitions against identifiers called, cycles by tsort).
# usage: scripts/check_layers.sh [ROOT]   (exit 1 and one line per violation)
set -uo pipefail
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root" || exit 2

rank_of_folder() {
  case "$1" in
    common) echo 0 ;; kernels) echo 1 ;; graph) echo 2 ;; runtime) echo 3 ;;
    import|prepare|firmware) echo 4 ;; image) echo 5 ;; planning) echo 6 ;; quantize) echo 7 ;;
    codegen) echo 8 ;; api) echo 9 ;; cli) echo 10 ;; *) echo "" ;;
  esac
}
# folder (layer name) of a repository path: src/X/... -> X; include/quantmcu/H.h -> the layer it belongs to
layer_of() {
  case "$1" in
    include/quantmcu/status.h) echo common ;;
    include/quantmcu/kernels.h) echo kernels ;;
    include/quantmcu/graph.h) echo graph ;;
    include/quantmcu/runtime.h) echo runtime ;;
    include/quantmcu/quantmcu.h) echo api ;;
    include/*) echo "?" ;;
    src/*) local rest=${1#src/}; echo "${rest%%/*}" ;;
    *) echo "" ;;
  esac
}

bad=0
files=$(find src include -name '*.[ch]' | sort)
for f in $files; do
  from=$(layer_of "$f")
  [ "$from" = "?" ] && { echo "check_layers: $f: public header of no known layer"; bad=1; continue; }
  rf=$(rank_of_folder "$from")
  [ -z "$rf" ] && { echo "check_layers: $f: folder '$from' has no layer (add it to scripts/check_layers.sh)"; bad=1; continue; }
  dir=$(dirname "$f")
  while IFS= read -r inc; do
    [ -z "$inc" ] && continue
    # resolve as the compiler does: next to the file, then -Iinclude, then -Isrc
    target=""
    for cand in "$dir/$inc" "include/$inc" "src/$inc"; do
      if [ -f "$cand" ]; then target=$(realpath --relative-to=. "$cand"); break; fi
    done
    if [ -z "$target" ]; then
      case "$inc" in qmcu_model.h|cjson/*|stb*) continue ;; esac # generated module, system libraries
      echo "check_layers: $f includes \"$inc\", which is not in the tree"; bad=1; continue
    fi
    to=$(layer_of "$target")
    if [ "$from" = cli ] && [ "$target" != include/quantmcu/quantmcu.h ] && [ "$target" != src/cli/cli.h ]; then
      echo "check_layers: $f (cli) includes $target: the command line uses only the public API (quantmcu/quantmcu.h)"
      bad=1; continue
    fi
    [ "$to" = "$from" ] && continue
    rt=$(rank_of_folder "$to")
    if [ -z "$rt" ] || [ "$rt" -ge "$rf" ]; then
      echo "check_layers: $f ($from, layer $rf) includes $target ($to, layer ${rt:-?}): dependencies must point down"
      bad=1
    fi
  done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
done

# cycles between the files of one folder (sub-folders included): one awk pass over every .c file
# finds the non-static functions each defines and the identifiers each calls, and prints the edges
# "folder caller callee" (main is the entry point the start-up code calls, not a dependency)
tmp=$(mktemp -d)
# shellcheck disable=SC2016
awk '
  FNR == 1 { split(FILENAME, part, "/"); folder[FILENAME] = part[2]; files[++nf] = FILENAME }
  { line = $0
    while (match(line, /[A-Za-z_][A-Za-z0-9_]*\(/)) {
      name = substr(line, RSTART, RLENGTH - 1); line = substr(line, RSTART + RLENGTH)
      if (name != "main") calls[FILENAME, name] = 1
    } }
  /^(static|typedef|#|extern|struct|enum|union|\/\*| |\t|})/ { next }
  match($0, /[A-Za-z_][A-Za-z0-9_]*\(/) { name = substr($0, RSTART, RLENGTH - 1); sig = $0
    while (sig !~ /;[ \t]*(\/\*.*)?$/ && sig !~ /\)[ \t]*(\{)?[ \t]*$/ && (getline more) > 0) {
      sig = sig " " more; line = more
      while (match(line, /[A-Za-z_][A-Za-z0-9_]*\(/)) {
        n2 = substr(line, RSTART, RLENGTH - 1); line = substr(line, RSTART + RLENGTH)
        if (n2 != "main") calls[FILENAME, n2] = 1
      }
    }
    if (sig !~ /;[ \t]*(\/\*.*\*\/)?[ \t]*$/) definer[folder[FILENAME], name] = FILENAME }
  END { for (k = 1; k <= nf; k++) for (key in calls) {
          split(key, kv, SUBSEP); if (kv[1] != files[k]) continue
          d = definer[folder[files[k]], kv[2]]
          if (d != "" && d != files[k]) print folder[files[k]], files[k], d } }
' $(find src -name '*.c' | sort) | sort -u > "$tmp/edges"
for folder in $(cut -d' ' -f1 "$tmp/edges" | sort -u); do
  if ! awk -v f="$folder" '$1 == f { print $2, $3 }' "$tmp/edges" | tsort > /dev/null 2> "$tmp/err"; then
    echo "check_layers: src/$folder: files call each other in a cycle: $(grep -v 'input contains a loop' "$tmp/err" \
      | sed 's/^tsort: //' | sort -u | tr '\n' ' ')"
    bad=1
  fi
done
rm -rf "$tmp"
if [ $bad -ne 0 ]; then echo "check_layers: FAILED"; exit 1; fi
echo "check_layers: $(echo "$files" | wc -w) files, every include points down the layers, no file cycle in a folder"
