"""Which interval score holds on the open data? Fold-out (split-conformal) coverage of nominal
90 % intervals on `backtest --residuals` CSVs, for several scale designs:

  A  sigma = g(d)                                 (distance only, absolute)
  B  sigma = residual_sd * g(d)                   (the fit's own residual scale)
  C  sigma = sqrt(param_sd^2 + (residual_sd*g(d))^2)   (parameter + model error)
  G  as E, with g(d) + m * s2_excess (an anneal deeper than the fit saw), (k, m) chosen together
  F  as E, with q from all points only (not the larger of all and final points)
  D, E  as C with param_sd capped at 0.02 / 0.1 (an unidentified direction's Laplace sd is
        astronomically large and says nothing about the size of the error)

g(d) = 1 + k ln max(d, 1), k chosen on the calibration folds (narrowest mean width), and the
multiplier q = max(q90 over points, q90 over final points) of the calibration folds' scores.
Usage: python3 interval_design.py ABCDE /tmp/res/*.csv
"""
import csv, math, sys
from collections import defaultdict

DESIGNS = sys.argv[1]
SLOPES = [0.0, 0.5, 1.0, 2.0, 3.0, 5.0]
S2_SLOPES = [0.0, 10.0, 30.0, 100.0, 300.0, 1000.0]
LEVEL = 0.9

def cq(scores, level):
    s = sorted(x for x in scores if math.isfinite(x))
    if not s:
        return None
    r = math.ceil((len(s) + 1) * level)
    return s[min(max(r, 1), len(s)) - 1]

def sigma(design, p, k):
    k, m = k if isinstance(k, tuple) else (k, 0.0)
    g = 1 + k * math.log(max(p["d"], 1.0)) if math.isfinite(p["d"]) else 1.0
    g += m * p["x"]
    if design == "A":
        return g
    if design == "B":
        return p["rsd"] * g
    ps = p["psd"] if math.isfinite(p["psd"]) else 0.0
    if design == "D":
        ps = min(ps, 0.02)
    if design in "EFG":
        ps = min(ps, 0.1)
    return math.hypot(ps, p["rsd"] * g)

def calibrate(design, pts):
    best = None
    grid = [(k, m) for k in SLOPES for m in S2_SLOPES] if design == "G" else SLOPES
    for k in grid:
        sc = [abs(p["e"]) / sigma(design, p, k) for p in pts]
        fs = [abs(p["e"]) / sigma(design, p, k) for p in pts if p["final"]]
        q = cq(sc, LEVEL)
        if q is None:
            continue
        qf = cq(fs, LEVEL) or q
        q = q if design == "F" else max(q, qf)
        w = sum(q * sigma(design, p, k) for p in pts) / len(pts)
        if best is None or w < best[0]:
            best = (w, k, q)
    return best

def load(path):
    rows = list(csv.DictReader(open(path)))
    groups = defaultdict(lambda: defaultdict(list))
    for r in rows:
        task = r["task"]
        d = float(r["size_ratio"]) if task == "size" and r["size_ratio"] else float(r["s1_ratio"])
        obs, pred = float(r["observed"]), float(r["predicted"])
        if not (obs > 0 and pred > 0):
            continue
        groups[(task, r["method"])][r["fold"]].append(dict(
            run=r["run"], step=int(r["step"]), e=math.log(obs / pred), d=d,
            psd=float(r["param_sd"]), rsd=float(r["residual_sd"]),
            x=float(r.get("s2_excess") or 0.0) if task != "size" else 0.0))
    for g in groups.values():
        for pts in g.values():
            last = {}
            for p in pts:
                last[p["run"]] = max(last.get(p["run"], -1), p["step"])
            for p in pts:
                p["final"] = p["step"] == last[p["run"]]
    return groups

def main():
    print("| data | task | method | folds | design | points cov | finals cov | mean half-width |")
    print("|---|---|---|---|---|---|---|---|")
    for path in sys.argv[2:]:
        name = path.rsplit("/", 1)[-1].removesuffix(".csv")
        for (task, method), folds in sorted(load(path).items()):
            if len(folds) < 2:
                continue
            for design in DESIGNS:
                inside = n = fin_in = fin = 0
                width = 0.0
                for held in folds:
                    cal = [p for f, ps in folds.items() if f != held for p in ps]
                    c = calibrate(design, cal)
                    if c is None:
                        continue
                    _, k, q = c
                    for p in folds[held]:
                        h = q * sigma(design, p, k)
                        hit = abs(p["e"]) <= h
                        inside += hit; n += 1; width += h
                        if p["final"]:
                            fin += 1; fin_in += hit
                if n:
                    print(f"| {name} | {task} | {method} | {len(folds)} | {design} | {inside/n:.1%} | "
                          f"{fin_in/max(fin,1):.1%} ({fin}) | {width/n:.3%} |")

main()
