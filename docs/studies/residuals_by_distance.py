"""How forecast error grows with extrapolation distance, from `losscast backtest --residuals`:
groundwork for issue 14's model-error calibration. Reads every CSV in the folder given (default
/tmp/res), prints median and 90th-percentile |relative error| per task, method and distance bin
(S1 over the fit runs' largest for curve tasks; N over the largest fit size for the size task).
"""
import csv, glob, os, sys
from collections import defaultdict

folder = sys.argv[1] if len(sys.argv) > 1 else "/tmp/res"
bins = [0, 0.5, 1.0, 1.02, 1.5, 2, 3, 5, 100]


def quantile(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(p * len(v)))]


out = defaultdict(lambda: defaultdict(list))
for path in sorted(glob.glob(os.path.join(folder, "*.csv"))):
    for r in csv.DictReader(open(path)):
        if r["task"] == "size":
            b = f"N x{float(r['size_ratio']):.3g}"
        else:
            x = float(r["s1_ratio"])
            b = next(f"{bins[i]}-{bins[i + 1]}" for i in range(len(bins) - 1) if x < bins[i + 1])
        out[(r["task"], r["method"])][b].append(abs(float(r["rel_err"])))
print("| task | method | distance | points | median | q90 |")
print("|---|---|---|---|---|---|")
for key in sorted(out):
    for b, v in sorted(out[key].items()):
        print(f"| {key[0]} | {key[1]} | {b} | {len(v)} | {100 * quantile(v, 0.5):.3f} % | "
              f"{100 * quantile(v, 0.9):.3f} % |")
