"""Would a conformal model-error interval hold on the open backtests? Groundwork for issue 14.

For each (set, task, method), every fold is held out in turn and its points get an interval of
half-width q·s(d)·|L|, where s(d) = 1 + k·ln(max(d, 1)) scales with the distance d (S1 ratio
for curve tasks, N ratio for size) and q is the 90 % quantile of |rel_err|/s(d) over the *other*
folds' points. k is 0 (distance-free) or 1. Prints the coverage of held-out points and of
held-out final points, and the mean half-width. Reads backtest --residuals CSVs from a folder.
"""
import csv, glob, math, os, sys
from collections import defaultdict

folder = sys.argv[1] if len(sys.argv) > 1 else "/tmp/res"


def quantile(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(math.ceil(p * (len(v) + 1))) - 1)] if v else float("nan")


groups = defaultdict(lambda: defaultdict(list))
for path in sorted(glob.glob(os.path.join(folder, "*.csv"))):
    name = os.path.basename(path)[:-4]
    for r in csv.DictReader(open(path)):
        d = float(r["size_ratio"]) if r["task"] == "size" else float(r["s1_ratio"])
        groups[(name, r["task"], r["method"])][r["fold"]].append(
            (r["run"], int(r["step"]), abs(float(r["rel_err"])), d))

print("| set | task | method | folds | k | point coverage | final coverage | mean half-width |")
print("|---|---|---|---|---|---|---|---|")
for key in sorted(groups):
    folds = groups[key]
    if len(folds) < 2:
        continue
    for k in (0.0, 1.0):
        s = lambda d: 1.0 + k * math.log(max(d, 1.0))
        hit = tot = fhit = ftot = 0
        width = 0.0
        for f, pts in folds.items():
            rest = [e / s(d) for g, p in folds.items() if g != f for (_, _, e, d) in p]
            q = quantile(rest, 0.9)
            last = {}
            for run, step, e, d in pts:
                w = q * s(d)
                hit += e <= w
                tot += 1
                width += w
                if run not in last or step > last[run][0]:
                    last[run] = (step, e <= w)
            fhit += sum(v[1] for v in last.values())
            ftot += len(last)
        print(f"| {key[0]} | {key[1]} | {key[2]} | {len(folds)} | {k:g} | {100 * hit / tot:.0f} % | "
              f"{100 * fhit / ftot:.0f} % | {100 * width / tot:.2f} % |")
