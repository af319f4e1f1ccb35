#!/usr/bin/env python3
"""Fits the cost model's coefficients (src/planning/cost_model.c) to `quantmcu mcu --profile`
tables and checks whole-plan predictions against plain runs (bench/cost_model.sh drives it).

usage: fit_cost_model.py LIST [--write]
LIST: lines role|name|profile.txt|run.json (role: fit or check). Per op kind, instructions =
a*MACs + b*output elements + c*input elements + d*rows + e*calls, least squares on relative error (small ops count as much
as large ones; tiny ops left out), coefficients >= 0, with the profiling hook's cost per op
execution (measured: profiled sum of ops - plain run, per call) removed first."""
import json
import os
import re
import sys

KINDS = ["pointwise", "conv", "depthwise", "dw_large", "fc", "add", "pad", "pad_layer", "quantize", "other"]
NF = 5  # MACs, output elements, input elements, output rows, calls
FALLBACK = {"fc": "pointwise", "dw_large": "depthwise", "pad_layer": "pad"}  # kinds with no sample yet
ROW = re.compile(r"^\s*(\d+)\s+(\S+)\s+(patch|layer)\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)")


def read_profile(path):
    ops = []
    for line in open(path):
        m = ROW.match(line)
        if m:
            _, op, _stage, kind, macs, elems, in_elems, rows, calls, insns, _pred = m.groups()
            ops.append((kind, int(macs), int(elems), int(in_elems), int(rows), int(calls), int(insns)))
    return ops


def solve(a, b):
    """Gaussian elimination with partial pivoting (small dense systems)."""
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for c in range(n):
        p = max(range(c, n), key=lambda r: abs(m[r][c]))
        m[c], m[p] = m[p], m[c]
        if abs(m[c][c]) < 1e-300:
            continue
        for r in range(n):
            if r != c:
                f = m[r][c] / m[c][c]
                for k in range(c, n + 1):
                    m[r][k] -= f * m[c][k]
    return [m[i][n] / m[i][i] if abs(m[i][i]) > 1e-300 else 0.0 for i in range(n)]


def fit_kind(rows):
    """Least squares weighted by 1/y (relative error, without letting tiny ops dominate) over
    the columns in `cols`, coefficients kept >= 0 (a negative one is dropped and the rest refit)."""
    cols = [j for j in range(NF) if any(x[j] for x, _ in rows)]
    while True:
        scale = {j: max(abs(x[j]) for x, _ in rows) for j in cols}
        n = len(cols)
        ata = [[0.0] * n for _ in range(n)]
        atb = [0.0] * n
        for x, y in rows:
            w = 1.0 / y
            xs = [x[j] / scale[j] for j in cols]
            for a in range(n):
                atb[a] += w * xs[a] * y
                for b in range(n):
                    ata[a][b] += w * xs[a] * xs[b]
        for a in range(n):
            ata[a][a] += 1e-9 * (ata[a][a] + 1e-30)
        c = solve(ata, atb)
        coef = [0.0] * NF
        for a, j in enumerate(cols):
            coef[j] = c[a] / scale[j]
        neg = [j for j in cols if coef[j] < 0]
        if not neg:
            return coef
        cols = [j for j in cols if j != min(neg, key=lambda j: coef[j])]
        if not cols:
            return [0.0] * NF


def fit(samples):
    coef = {}
    for kind in KINDS:
        rows = [(x, y) for k, x, y in samples if k == kind and y > 2000]
        coef[kind] = fit_kind(rows) if rows else None
    for kind in KINDS:  # a kind without large enough samples: its closest kind's coefficients, or nothing
        if coef[kind] is None:
            coef[kind] = list(coef[FALLBACK[kind]]) if kind in FALLBACK else [0.0] * NF
    return coef


def predict(coef, ops):
    return sum(sum(cf * x for cf, x in zip(coef[k], o[1:6])) for o in ops for k in [o[0]] if k != "fused")


def main():
    entries = [line.rstrip("\n").split("|") for line in open(sys.argv[1]) if line.strip()]
    samples = []
    # the profiling hook's cost per op execution, measured: (sum over ops of a profiled run - plain run) / calls
    per_call = []
    for _role, _name, prof, run in entries:
        ops = read_profile(prof)
        per_call.append((sum(o[6] for o in ops) - json.load(open(run))["instructions"][0]) / sum(o[5] for o in ops))
    overhead = max(0.0, sorted(per_call)[len(per_call) // 2])
    print("profiling overhead per op execution (median of %d plans, floored at 0): %.1f instructions\n"
          % (len(per_call), overhead))
    for role, _name, prof, _run in entries:
        if role != "fit":
            continue
        for k, m, e, ie, r, c, y in read_profile(prof):
            if k != "fused" and (m or e or c):
                samples.append((k, (m, e, ie, r, c), y - overhead * c))
    coef = fit(samples)
    print("| kind | instr/MAC | instr/output element | instr/input element | instr/row | instr/call |\n|---|---|---|---|---|---|")
    for k in KINDS:
        print("| %s | %.4f | %.4f | %.4f | %.2f | %.1f |" % (k, *coef[k]))
    print("\n| plan | role | measured (plain run) | predicted | error |\n|---|---|---|---|---|")
    worst = {"fit": 0.0, "check": 0.0}
    for role, name, prof, run in entries:
        measured = json.load(open(run))["instructions"][0]
        pred = predict(coef, read_profile(prof))
        err = (pred - measured) / measured
        worst[role] = max(worst[role], abs(err))
        print("| %s | %s | %d | %.0f | %+.1f %% |" % (name, role, measured, pred, 100 * err))
    print("\nlargest error: %.1f %% on the fitted plans, %.1f %% on the others" % (100 * worst["fit"], 100 * worst["check"]))
    if "--write" in sys.argv[2:]:
        path = os.path.join(os.path.dirname(__file__), "..", "src", "planning", "cost_model_coef.inc")
        with open(path, "w") as f:
            f.write("/* instructions per MAC, per output element, per input element, per output row, per call\n"
                    "   (bench/cost_model.sh --write) */\n")
            for k in KINDS:
                f.write("/* %-9s */ {%.6g, %.6g, %.6g, %.6g, %.6g},\n" % (k, *coef[k]))
        print("wrote %s" % os.path.normpath(path))


if __name__ == "__main__":
    main()
