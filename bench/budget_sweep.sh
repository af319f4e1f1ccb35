#!/usr/bin/env bash
# Budget sweep (issue 21, DESIGN.md §3 version 3; not a test): for each SRAM budget, three plans
#   mcunetv2  int8, every halo recomputed (`plan --halo recompute`)
#   int8      our best int8 plan (`plan`: the fewest predicted instructions within the budget)
#   quantmcu  QuantMCU on top of the int8 plan's geometry (`plan --calib`, calibration dev 0..31)
# with the plan's peak, the cost model's prediction, the *measured* emulated Cortex-M4 instructions
# (QEMU, board big, one dev image) and the prediction's error, patch-stage BitOPs (vs int8), and,
# with --top1, top-1 on dev 32..499 (468 images; QuantMCU paired with the int8 run of each image).
# MobileNetV2 streams its input; MobileNetV1-0.25 is swept with its 48 kB input in SRAM (as the
# firmware holds it) and streamed.
# usage: bench/budget_sweep.sh [--top1] [--only v2|v1|v1s] [--budgets "128K 150K"]
#        (QUANTMCU_DATA, default ../shared; build/ must exist)
set -euo pipefail
cd "$(dirname "$0")/.."
D=${QUANTMCU_DATA:-$(cd .. && pwd)/shared}
TOP1=0
ONLY=""
BUDGETS=""
while [ $# -gt 0 ]; do
  case "$1" in
    --top1) TOP1=1 ;;
    --only) ONLY=$2; shift ;;
    --budgets) BUDGETS=$2; shift ;;
    *) echo "budget_sweep.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
Q=build/quantmcu
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
IMG=$(ls "$D/imagenet-dev" | sort | sed -n 34p)
IMG=$D/imagenet-dev/$IMG
V1=$D/models/mobilenet_v1_0.25_128_quant.tflite
V2=$D/models/mobilenet_v2_1.0_224_quant.tflite

printf "| model | input | budget | plan | geometry | peak | predicted | measured | error | patch BitOPs | top-1 (468) | QuantMCU's choice |\n"
printf "|---|---|---|---|---|---|---|---|---|---|---|---|\n"

row() { # model tag input budget kind plan.json mode
  local model=$1 tag=$2 input=$3 budget=$4 kind=$5 plan=$6 mode=$7 top1="" bits=""
  if ! $Q mcu "$model" --plan "$plan" --mode "$mode" --board big "$IMG" --json > "$T/m.json" 2> "$T/err"; then
    echo "| $tag | $input | $budget | $kind | refused on the device: $(head -c 150 "$T/err") | | | | | | | |"
    return
  fi
  if [ $TOP1 = 1 ]; then
    if [ "$mode" = quantmcu ]; then
      $Q eval "$model" --images "$D/imagenet-dev" --skip 32 --plan "$plan" --mode quantmcu --vs-int8 --threads 2 --json > "$T/e.json"
      top1=$(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); i=float(sys.argv[2]); print('%.2f %% (%+.2f pt vs int8; agreement %.1f %%, outlier tiles %.1f %%)' % (d['top1_pct'], d['top1_pct'] - i, d['agreement_with_int8_pct'], 100 * d['outlier_tile_fraction']))" "$T/e.json" "$INT8_TOP1")
    else
      top1="= int8 ($INT8_TOP1 %)"
    fi
  fi
  local why=""
  if [ "$kind" = quantmcu ] && [ "$mode" = patch ]; then why="the int8 plan as it is (layer by layer: nothing for bits to buy)"; fi
  if [ "$mode" = quantmcu ]; then
    why=$(sed -n 's/^  geometry: .*): //p' "$T/out" | head -1 | cut -c1-110)
    grep -q "missed the accuracy guard" "$T/out" &&
      why="$why; the bits' geometry ($(sed -n 's/.*fit, \(split [0-9]*, grid [0-9x]*\), predicted \([0-9.]* M\).*KL \([0-9.]*\)).*/\1, \2, KL \3/p' "$T/out" | head -1)) missed the guard"
    why="$why; guard KL $(sed -n 's/.*calibration images \([0-9.]*\), .*/\1/p' "$T/out" | head -1)"
  fi
  python3 - "$plan" "$T/m.json" "$tag" "$input" "$budget" "$kind" "$top1" "$why" <<'PY'
import json, sys
p, m = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
tag, inp, budget, kind, top1, why = sys.argv[3:9]
mt = p["metrics"]
geo = "layer by layer" if p["split"] == 0 else "split %d, %dx%d, %s" % (
    p["split"], p["grid"][0], p["grid"][1],
    "/".join("%d %s" % (n, h) for h, n in sorted(
        {h: sum(1 for x in p["halo"] if x == h) for h in set(p["halo"])}.items())) if p.get("halo") else "")
pred = mt["predicted_instructions"]
meas = m["instructions"][0]
q = p.get("quantmcu")
bitops = "%.2fx" % q["patch_bitops_ratio"] if q and "patch_bitops_ratio" in q else "1.00x"
print("| %s | %s | %s | %s | %s | %d | %.1f M | %.1f M | %+.1f %% | %s | %s | %s |" % (
    tag, inp, budget, kind, geo, mt["peak_sram_bytes"], pred / 1e6, meas / 1e6, 100.0 * (pred - meas) / meas, bitops, top1, why))
PY
}

sweep() { # model tag input-in-sram budgets...
  local model=$1 tag=$2 sram=$3
  shift 3
  local input
  input=$([ "$sram" = yes ] && echo "in SRAM" || echo streamed)
  if [ $TOP1 = 1 ]; then
    $Q eval "$model" --images "$D/imagenet-dev" --skip 32 --threads 2 --json > "$T/i8.json"
    INT8_TOP1=$(python3 -c "import json,sys; print('%.2f' % json.load(open(sys.argv[1]))['top1_pct'])" "$T/i8.json")
  fi
  for b in "$@"; do
    for kind in mcunetv2 int8 quantmcu; do
      local opts=() mode=patch
      case $kind in
        mcunetv2) opts=(--halo recompute) ;;
        quantmcu) opts=(--calib "$D/imagenet-dev"); mode=quantmcu ;;
      esac
      if ! $Q plan "$model" --sram "$b" --input-in-sram "$sram" "${opts[@]}" -o "$T/p.json" --quiet > "$T/out" 2> "$T/err"; then
        echo "| $tag | $input | $b | $kind | no plan fits ($(grep -ho 'needs [0-9]* bytes' "$T/err" | head -1)) | | | | | | | |"
        continue
      fi
      if [ $mode = quantmcu ] && ! grep -q '"quantmcu"' "$T/p.json"; then mode=patch; fi # the int8 plan kept as it is
      row "$model" "$tag" "$input" "$b" "$kind" "$T/p.json" $mode
    done
  done
}

if [ -z "$ONLY" ] || [ "$ONLY" = v2 ]; then sweep "$V2" MobileNetV2 no ${BUDGETS:-128K 150K 172K 200K 256K 320K}; fi
if [ -z "$ONLY" ] || [ "$ONLY" = v1 ]; then sweep "$V1" MobileNetV1-0.25 yes ${BUDGETS:-64K 72K 96K}; fi
if [ -z "$ONLY" ] || [ "$ONLY" = v1s ]; then sweep "$V1" MobileNetV1-0.25 no ${BUDGETS:-16K 20K 24K 32K}; fi
