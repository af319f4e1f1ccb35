"""Markdown tables from bench/quantmcu_sweep.sh results."""
import json, os, sys

out = sys.argv[1]

def load(name):
    p = os.path.join(out, name)
    return json.load(open(p)) if os.path.exists(p) else None

def row(label, plan_name, eval_name, base):
    e, p = load(eval_name), load(plan_name) if plan_name else None
    if not e:
        return None
    q = p["quantmcu"] if p else {}
    srch = q.get("search", {})
    bits = ",".join("%d:%d" % (fm["op"], fm["bits"]) for fm in q.get("feature_maps", []) if fm["bits"] < 8) if q else ""
    return "| %s | %.2f | %.2f | %.2f / %.2f | %+.2f | %.1f %% | %s | %.2f ms | %s |" % (
        label, e["patch_bitops_ratio"], e["bitops_ratio"], e["top1_pct"], e["top5_pct"], e["top1_pct"] - base["top1_pct"],
        100 * e["outlier_tile_fraction"], "%.1f %%" % (100 * q["calibration"]["realized_outlier_tile_fraction"]) if q else "-",
        1e3 * srch.get("seconds", 0), bits or "-")

head = ("| config | patch BitOPs ratio (int8/quantmcu) | whole-model ratio | top-1 / top-5 | top-1 vs patch | outlier tiles (eval) "
        "| outlier tiles (calib) | search time | low-bit maps (op:bits) |\n|---|---|---|---|---|---|---|---|---|")
v2p = load("v2_patch.eval.json")
if v2p:
    print("MobileNetV2 1.0 224, split 13 (28x28x32), 4x4 tiles; 468 images (dev images 32..499); patch mode: top-1 %.2f, top-5 %.2f, peak %d B\n"
          % (v2p["top1_pct"], v2p["top5_pct"], v2p["peak_sram_bytes"]))
    print("lambda sweep (outlier tiles f = 0.2, bits {8,4,2})\n" + head)
    for l in ["0.2", "0.35", "0.5", "0.65", "0.8"]:
        r = row("lambda %s" % l, "v2_lambda%s.plan.json" % l, "v2_lambda%s.eval.json" % l, v2p)
        if r: print(r)
    print("\noutlier-tiles sweep (lambda 0.5, bits {8,4,2})\n" + head)
    for f in ["0.05", "0.1", "0.2", "0.4"]:
        r = row("f %s" % f, "v2_f%s.plan.json" % f, "v2_f%s.eval.json" % f, v2p)
        if r: print(r)
    print("\nablation and other settings\n" + head)
    for label, pn, en in [("lambda 0.5, f 0.2 (VDPC)", "v2_lambda0.5.plan.json", "v2_lambda0.5.eval.json"),
                          ("same bits, no VDPC (--no-vdpc)", "v2_lambda0.5.plan.json", "v2_novdpc.eval.json"),
                          ("bits {8,6,4}", "v2_bits864.plan.json", "v2_bits864.eval.json"),
                          ("bits {8..2}, --max-agreement-drop 1", "v2_guard1.plan.json", "v2_guard1.eval.json")]:
        r = row(label, pn, en, v2p)
        if r: print(r)
    pl = load("v2_lambda0.5.plan.json")
    e = load("v2_lambda0.5.eval.json")
    if pl and e:
        print("\npeak SRAM: quantmcu %d B vs patch int8 %d B" % (e["peak_sram_bytes"], v2p["peak_sram_bytes"]))
v1p = load("v1_patch.eval.json")
if v1p:
    print("\nMobileNetV1 0.25 128 with the --sram 64K plan (split %d, %dx%d); patch mode: top-1 %.2f, top-5 %.2f\n"
          % (v1p["split"], v1p["grid"][0], v1p["grid"][1], v1p["top1_pct"], v1p["top5_pct"]) + head)
    r = row("lambda 0.5, f 0.2", "v1_64k.plan.json", "v1_64k.eval.json", v1p)
    if r: print(r)
