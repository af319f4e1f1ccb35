#!/usr/bin/env bash
# Fetches the public .tflite models of the model sweep (bench/model_sweep.sh) into DIR: those of
# google-coral/test_data and mlcommons/tiny (not the *_edgetpu ones, which need an Edge TPU).
# Nothing here is committed; models are named coral_<path with / as _> and tiny_<file name>.
#   bench/fetch_models.sh DIR                   clone both repositories from GitHub (shallow, blobless)
#   bench/fetch_models.sh DIR --from GITDIR...  read them from local clones or bare mirrors instead
#                                               (a GITDIR whose path names test_data/coral or tiny)
# Files that are Git LFS pointers, or whose blobs a partial mirror lacks, are skipped and counted.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: bench/fetch_models.sh DIR [--from GITDIR...]" >&2; exit 2; }
out=$1; shift
mkdir -p "$out"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
sources=()
if [ "${1:-}" = "--from" ]; then
  shift
  [ $# -ge 1 ] || { echo "fetch_models: --from needs at least one git directory" >&2; exit 2; }
  sources=("$@")
else
  for repo in google-coral/test_data mlcommons/tiny; do
    git clone -q --depth 1 --filter=blob:none --no-checkout "https://github.com/$repo" "$tmp/${repo#*/}"
    sources+=("$tmp/${repo#*/}")
  done
fi
n=0; skipped=0
for src in "${sources[@]}"; do
  case "$src" in
    *coral*|*test_data*) prefix=coral ;;
    *tiny*) prefix=tiny ;;
    *) echo "fetch_models: $src: neither google-coral/test_data nor mlcommons/tiny" >&2; exit 2 ;;
  esac
  if [ -d "$src/.git" ]; then gd="$src/.git"; else gd="$src"; fi
  while IFS= read -r path; do
    case "$path" in *edgetpu*) continue ;; esac
    if [ "$prefix" = coral ]; then name="coral_${path//\//_}"; else name="tiny_$(basename "$path")"; fi
    if git --git-dir="$gd" cat-file blob "HEAD:$path" > "$tmp/blob" 2> /dev/null \
        && ! head -c 100 "$tmp/blob" | grep -q "git-lfs.github.com/spec"; then
      mv "$tmp/blob" "$out/$name"
      n=$((n + 1))
    else
      skipped=$((skipped + 1))
    fi
  done < <(git --git-dir="$gd" ls-tree -r --name-only HEAD | grep '\.tflite$')
done
echo "fetch_models: $n models in $out ($skipped skipped: Git LFS pointers or blobs the source lacks)"
