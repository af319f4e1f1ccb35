#!/usr/bin/env bash
# Halo strategies (DESIGN.md §2), not a test: recompute (MCUNetV2) vs cached columns vs all cached vs
# the planner's choice ("auto", mixed per op), per model and budget: peak SRAM, executed MACs (whole
# model, patch stage over layer mode), host ms per image (inference only, 1 thread), and emulated
# Cortex-M4 instructions (whole model and patch stage, --profile runs), the firmware's output checked
# against the host for every row. Then MobileNetV2's searched plans, input streamed, at 128K..320K:
# peak vs MACs with the halo recomputed (MCUNetV2-style) and with the planner's halo choice.
# usage: bench/halo.sh [IMAGES]   (QUANTMCU_DATA, default ../shared; QUANTMCU_BIN, default build/quantmcu)
set -euo pipefail
cd "$(dirname "$0")/.."
D=${QUANTMCU_DATA:-$(cd .. && pwd)/shared}
N=${1:-1}
Q=${QUANTMCU_BIN:-build/quantmcu}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
V1=$D/models/mobilenet_v1_0.25_128_quant.tflite
V2=$D/models/mobilenet_v2_1.0_224_quant.tflite
jpegs=("$D"/imagenet-dev/*)
imgs=("${jpegs[@]:32:$N}") # reported images (32..), never the calibration ones
mkdir -p "$T/img" && for f in "${imgs[@]}"; do ln -s "$f" "$T/img/"; done

row() { # row NAME MODEL BOARD PLAN-OPTIONS...
  local name=$1 model=$2 board=$3; shift 3
  $Q plan "$model" "$@" -o "$T/p.json" --quiet > /dev/null
  $Q eval "$model" --images "$T/img" --mode patch --plan "$T/p.json" --threads 1 --json 2> /dev/null > "$T/e.json"
  local same=yes mcu=skipped
  if $Q mcu "$model" --plan "$T/p.json" --mode patch --board "$board" "${imgs[@]}" --json --profile > "$T/m.json" 2> "$T/err"; then
    mcu=ok
    for img in "${imgs[@]}"; do
      $Q run "$model" "$img" --mode patch --plan "$T/p.json" --dump-output "$T/h.bin" > /dev/null
      $Q mcu "$model" --plan "$T/p.json" --mode patch --board "$board" "$img" --dump-output "$T/m.bin" > /dev/null
      cmp -s "$T/h.bin" "$T/m.bin" || same=NO
    done
  else
    echo "{}" > "$T/m.json"
    mcu="refused: $(cut -c1-80 "$T/err")"
  fi
  python3 - "$T/p.json" "$T/e.json" "$T/m.json" "$name" "$board" "$same" "$mcu" <<'PY'
import json, sys
p, e, m = (json.load(open(f)) for f in sys.argv[1:4])
name, board, same, mcu = sys.argv[4:8]
x = p["metrics"]
halo = p.get("halo", [])
mean = lambda k: sum(m[k]) / len(m[k]) if m.get(k) else float("nan")
print("| %s | %s | %dx%d @%d | %s | %d | %d | %.1f | %.2f | %.3f | %.0f | %.0f | %s |" % (
    name, board, p["grid"][0], p["grid"][1], p["split"],
    "/".join("%d%s" % (halo.count(h), h[0]) for h in ("recompute", "cols", "cached")) if halo else "-",
    x["peak_sram_bytes"], x["macs"], 100.0 * (x["patch_macs"] - x["patch_layer_macs"]) / max(x["patch_layer_macs"], 1),
    e["ms_per_image"], x["macs"] / 1e6, mean("instructions") / 1e6, mean("patch_stage_instructions") / 1e6,
    same if mcu == "ok" else mcu))
PY
}

echo "| plan | board | grid @split | halo r/c/C ops | peak SRAM B | MACs | patch redundant % | host ms | MMACs | M4 Minstr | patch-stage Minstr | firmware = host |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
row "V1 layer" "$V1" f746 --split 0 --grid 1x1
for h in recompute cols cached auto; do row "V1 64K $h" "$V1" f746 --sram 64K --halo $h; done
row "V2 layer" "$V2" big --split 0 --grid 1x1 --input-in-sram no
for h in recompute cols cached; do row "V2 13 4x4 $h" "$V2" big --split 13 --grid 4x4 --halo $h --input-in-sram no; done
for b in 256K 320K; do row "V2 $b auto" "$V2" big --sram $b --input-in-sram no; done

echo
echo "MobileNetV2, input streamed: searched plans per budget (recompute = MCUNetV2-style; auto = halo chosen per op)"
echo "| budget | halo | plan | peak SRAM B | fits | MACs | vs layer MACs | patch redundant % |"
echo "|---|---|---|---|---|---|---|---|"
layer=$($Q plan "$V2" --split 0 --grid 1x1 --json | python3 -c "import json,sys; print(json.load(sys.stdin)['metrics']['macs'])")
for b in 128K 160K 172K 200K 256K 320K; do
  for h in recompute auto; do
    $Q plan "$V2" --sram $b --input-in-sram no --halo $h --json > "$T/s.json" 2> /dev/null || true # exit 1 when nothing fits
    python3 - "$T/s.json" $b $h "$layer" <<'PY'
import json, sys
p = json.load(open(sys.argv[1])); x = p["metrics"]; layer = int(sys.argv[4])
plan = "layer" if p["split"] == 0 else "split %d, %dx%d" % (p["split"], p["grid"][0], p["grid"][1])
print("| %s | %s | %s | %d | %s | %d | %.3fx | %.1f |" % (sys.argv[2], sys.argv[3], plan, x["peak_sram_bytes"],
      "yes" if p["fits_budget"] else "no (lowest)", x["macs"], x["macs"] / layer,
      100.0 * (x["patch_macs"] - x["patch_layer_macs"]) / max(x["patch_layer_macs"], 1)))
PY
  done
done
