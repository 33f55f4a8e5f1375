"""The coverage table of `interval_coverage.sh`'s JSON outputs, as Markdown. The mean error is
the mean |rel_err| over the held-out points of the residuals CSV written next to each JSON (the
same points the coverage counts), or the folds' PredE weighted by their points without it."""
import csv, json, os, sys
from collections import defaultdict

d = sys.argv[1]
print("| data | task | method | folds | points in | finals in | mean half-width | mean error | ratio |")
print("|---|---|---|---|---|---|---|---|---|")
for f in sorted(os.listdir(d)):
    if not f.endswith(".json"):
        continue
    try:
        b = json.load(open(os.path.join(d, f)))
    except Exception:
        continue
    point_err = defaultdict(list)
    res = os.path.join(d, f[:-5] + "-residuals.csv")
    if os.path.exists(res):
        for r in csv.DictReader(open(res)):
            point_err[(r["task"], r["method"])].append(abs(float(r["rel_err"])))
    for c in b.get("calibration", []):
        w = c["mean_half_width"]
        width = "no interval" if w is None else f"{w:.2%}"
        # Mean |error| over the held-out points: each fold's PredE weighted by its points (PredE
        # is a mean over held-out curves; most folds hold out one).
        fs = [x for x in b["folds"] if x["task"] == c["task"] and x["method"] == c["method"]
              and x.get("pred_e") is not None]
        n = sum(x["test_points"] for x in fs)
        err = sum(x["pred_e"] * x["test_points"] for x in fs) / n if n else None
        pe = point_err.get((c["task"], c["method"]))
        if pe:
            err = sum(pe) / len(pe)
        ratio = "" if w is None or not err else f"{w / err:.2f}"
        e = "" if err is None else f"{err:.2%}"
        print(f"| {f[:-5]} | {c['task']} | {c['method']} | {c['folds']} | {c['point_coverage']:.0%} | "
              f"{c['final_coverage']:.0%} | {width} | {e} | {ratio} |")
