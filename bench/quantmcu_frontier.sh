#!/usr/bin/env bash
# QuantMCU accuracy / BitOPs frontier (not a test). Calibrates on dev images 0..31 and evaluates on
# dev 32..499 (468 images), paired with the same geometry all 8-bit with its halo recomputed (patch mode,
# MCUNetV2-style) on the same images: top-1 drop, top-1 agreement and KL at the logits against int8,
# the realized patch-stage BitOPs ratio against the QuantMCU plan's own 8-bit geometry ("ratio") and
# against the recomputing int8 plan ("vs_mcun": with `--halo cached` in the extra options it includes
# the halo removal), outlier-tile and outlier-value fractions, peak SRAM.
# usage: bench/quantmcu_frontier.sh [MODEL] [TARGETS] [EXTRA PLAN OPTIONS...]
#   MODEL: v2 (MobileNetV2, split 13, 4x4; default) | v1 (MobileNetV1-0.25, plan --sram 64K)
#   TARGETS: comma-separated --bitops-target values; "default" = the default operating point
#   e.g. bench/quantmcu_frontier.sh v2 default,1.3,1.4,1.5,1.6 ; bench/quantmcu_frontier.sh v2 default --quant-scheme v1
# Output: one JSON line per setting on stdout (and a table on stderr). QUANTMCU_DATA (default ../shared); build/ must exist.
set -euo pipefail
cd "$(dirname "$0")/.."
D=${QUANTMCU_DATA:-$(cd .. && pwd)/shared}
WHICH=${1:-v2}
TARGETS=${2:-default,1.3,1.4,1.5,1.6,1.7}
shift $(( $# > 2 ? 2 : $# )) || true
EXTRA=("$@")
Q=${QUANTMCU_BIN:-build/quantmcu}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
if [ "$WHICH" = v1 ]; then
  M=$D/models/mobilenet_v1_0.25_128_quant.tflite; GEOM=(--sram 64K)
else
  M=$D/models/mobilenet_v2_1.0_224_quant.tflite; GEOM=(--split 13 --grid 4x4)
fi
mkdir -p "$T/calib"
jpegs=("$D"/imagenet-dev/*)  # sorted by the glob; `ls | head` under pipefail can die of SIGPIPE
for f in "${jpegs[@]:0:32}"; do ln -s "$f" "$T/calib/"; done
$Q plan "$M" "${GEOM[@]}" --halo recompute -o "$T/int8.json" --quiet > /dev/null # MCUNetV2: the halo recomputed
$Q eval "$M" --images "$D/imagenet-dev" --skip 32 --mode patch --plan "$T/int8.json" --threads 2 --json 2> /dev/null > "$T/int8_eval.json"
printf "%-40s %7s %7s %7s %8s %8s %9s %9s %9s %7s %8s\n" setting ratio vs_mcun top1 drop_pt agree KL out_tiles out_vals search_s peak_kB >&2
for tgt in ${TARGETS//,/ }; do
  opts=("${EXTRA[@]}")
  [ "$tgt" != default ] && opts+=(--bitops-target "$tgt")
  start=$(date +%s.%N)
  $Q plan "$M" "${GEOM[@]}" --calib "$T/calib" "${opts[@]}" -o "$T/q.json" --json > /dev/null
  end=$(date +%s.%N)
  $Q eval "$M" --images "$D/imagenet-dev" --skip 32 --mode quantmcu --plan "$T/q.json" --threads 2 --vs-int8 --json 2> /dev/null > "$T/q_eval.json"
  python3 - "$T/int8_eval.json" "$T/q_eval.json" "$T/q.json" "$tgt ${opts[*]:-}" "$(echo "$end - $start" | bc)" <<'PY'
import json, sys
i8, q, plan = (json.load(open(f)) for f in sys.argv[1:4])
qs = plan["quantmcu"]
row = {"model": q["model"].split("/")[-1], "setting": sys.argv[4].strip(), "images": q["images"],
       "patch_bitops_ratio": round(q["patch_bitops_ratio"], 4),
       "vs_recompute_int8_bitops_ratio": round(i8["patch_bitops"] / q["patch_bitops"], 4), "top1_pct": q["top1_pct"], "int8_top1_pct": i8["top1_pct"],
       "top1_drop_pt": round(i8["top1_pct"] - q["top1_pct"], 2), "top5_pct": q["top5_pct"],
       "agreement_with_int8_pct": q["agreement_with_int8_pct"], "kl_vs_int8": q["kl_vs_int8"],
       "outlier_tile_fraction": q["outlier_tile_fraction"], "outlier_value_fraction": q["outlier_value_fraction"],
       "calib_agreement_pct": qs["search"]["calib_top1_agreement_pct"], "plan_seconds": float(sys.argv[5]),
       "peak_sram_bytes": q["peak_sram_bytes"], "int8_peak_sram_bytes": i8["peak_sram_bytes"],
       "bits": {str(f["op"]): f["bits"] for f in qs["feature_maps"]}}
print(json.dumps(row), flush=True)
print("%-40s %7.3f %7.3f %7.2f %8.2f %8.2f %9.5f %9.4f %9.5f %7.1f %8.1f" % (row["setting"][:40], row["patch_bitops_ratio"],
      row["vs_recompute_int8_bitops_ratio"], row["top1_pct"], row["top1_drop_pt"], row["agreement_with_int8_pct"], row["kl_vs_int8"],
      row["outlier_tile_fraction"], row["outlier_value_fraction"], row["plan_seconds"], row["peak_sram_bytes"] / 1024), file=sys.stderr, flush=True)
PY
done
