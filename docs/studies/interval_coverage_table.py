"""The coverage table of `interval_coverage.sh`'s JSON outputs, as Markdown."""
import json, os, sys

d = sys.argv[1]
print("| data | task | method | folds | points in | finals in | mean half-width |")
print("|---|---|---|---|---|---|---|")
for f in sorted(os.listdir(d)):
    if not f.endswith(".json"):
        continue
    try:
        b = json.load(open(os.path.join(d, f)))
    except Exception:
        continue
    for c in b.get("calibration", []):
        w = c["mean_half_width"]
        width = "no interval" if w is None else f"{w:.2%}"
        print(f"| {f[:-5]} | {c['task']} | {c['method']} | {c['folds']} | {c['point_coverage']:.0%} | "
              f"{c['final_coverage']:.0%} | {width} |")
