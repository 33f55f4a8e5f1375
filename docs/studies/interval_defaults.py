"""Default interval calibration per law, from the open data's backtests, checked by leaving
one data family out (the honest coverage a user's new data would see).

For each law group, the score |ln(obs/pred)| / sigma, sigma = sqrt(min(param_sd, 0.1)^2 +
(residual_sd * g)^2 + noise_sd^2) (residual_sd: the fit's smooth misfit, noise_sd: its
point-to-point noise), g = 1 + k ln max(d, 1) + m * ln(1 + x) (x = s2_excess, relative to the fit's S2), is pooled over every held-out
point of every backtest (all tasks) of the calibration families; (k, m) is the pair giving the
narrowest mean interval when q = max(q_level(all points), q_level(final points)). Coverage is
then counted per task on the left-out family.

Usage: python3 interval_defaults.py RESIDUALS_DIR [--emit]
  (RESIDUALS_DIR holds the `backtest --residuals` CSVs named below; --emit prints the Rust table
  of `ErrorModel::open_data` in src/forecast/interval.rs, calibrated on every family.)
"""
import csv, math, os, sys
from collections import defaultdict

FAMILIES = {
    "mpl": ["mpl400", "mpl100", "mpl25", "mpl_joint"],
    "tissue": ["tissue2024"],
    "pile_t5": ["pile_t5", "pile_t5_size"],
    "olmo": ["olmo_v1", "olmo_v1_twin"],
    "lamda": ["lamda_revisiting"],
    "gpt3": ["gpt3"],
}
GROUP = {"annealing": "annealing", "multipower": "multipower", "joint-additive": "joint",
         "joint-scaled": "joint", "collapse": "collapse"}
SLOPES = [0.0, 0.5, 1.0, 2.0, 3.0, 5.0]
S2_SLOPES = [0.0, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0]
LEVELS = [0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.975, 0.99]
CAP = 0.1

def cq(scores, level):
    s = sorted(x for x in scores if math.isfinite(x))
    if not s:
        return None
    r = math.ceil((len(s) + 1) * level)
    return s[min(max(r, 1), len(s)) - 1]

def sigma(p, k, m):
    g = 1 + k * math.log(max(p["d"], 1.0)) if math.isfinite(p["d"]) else 1.0
    g += m * math.log1p(p["x"])
    ps = p["psd"] if math.isfinite(p["psd"]) else CAP
    return math.sqrt(min(ps, CAP) ** 2 + (p["rsd"] * g) ** 2 + p["nsd"] ** 2)

def load(path, family, name):
    rows = list(csv.DictReader(open(path)))
    pts = []
    last = {}
    for r in rows:
        key = (r["task"], r["fold"], r["method"], r["run"])
        last[key] = max(last.get(key, -1), int(r["step"]))
    for r in rows:
        obs, pred = float(r["observed"]), float(r["predicted"])
        if not (obs > 0 and pred > 0) or r["method"] not in GROUP:
            continue
        task = r["task"]
        size = task == "size"
        rsd = float(r["residual_sd"])
        pts.append(dict(
            family=family, data=name, task=task, group=GROUP[r["method"]], method=r["method"],
            e=math.log(obs / pred),
            d=float(r["size_ratio"]) if size and r["size_ratio"] else float(r["s1_ratio"]),
            x=0.0 if size else float(r.get("s2_excess") or 0.0),
            psd=float(r["param_sd"]), rsd=rsd if math.isfinite(rsd) else 1e-4,
            nsd=float(r.get("noise_sd") or 0.0),
            final=int(r["step"]) == last[(r["task"], r["fold"], r["method"], r["run"])]))
    return pts

def calibrate(pts):
    best = None
    anneals = any(p["x"] > 0 for p in pts)
    for k in SLOPES:
        for m in S2_SLOPES:
            if m > 0 and not anneals:
                break
            sc = [abs(p["e"]) / sigma(p, k, m) for p in pts]
            fs = [s for s, p in zip(sc, pts) if p["final"]]
            qs = []
            for l in LEVELS:
                q = cq(sc, l)
                qs.append(max(q, cq(fs, l) or q))
            q90 = qs[LEVELS.index(0.9)]
            w = sum(q90 * sigma(p, k, m) for p in pts) / len(pts)
            if best is None or w < best[0]:
                best = (w, k, m, qs)
    return best

def main():
    d = sys.argv[1]
    pts = []
    for fam, names in FAMILIES.items():
        for n in names:
            path = os.path.join(d, n + ".csv")
            if os.path.exists(path):
                pts += load(path, fam, n)
    groups = sorted({p["group"] for p in pts})
    if "--emit" in sys.argv:
        for g in groups:
            mine = [p for p in pts if p["group"] == g]
            w, k, m, qs = calibrate(mine)
            fams = sorted({p["family"] for p in mine})
            print(f"// {g}: {len(mine)} points, families {', '.join(fams)}")
            print(f'("{g}", {k!r}, {m!r}, [{", ".join(f"{q:.4f}" for q in qs)}]),')
        return
    print("| left out | data | task | law | folds-points | points in | finals in | mean half-width |")
    print("|---|---|---|---|---|---|---|---|")
    for fam in FAMILIES:
        for g in groups:
            cal = [p for p in pts if p["group"] == g and p["family"] != fam]
            test = [p for p in pts if p["group"] == g and p["family"] == fam]
            if not cal or not test:
                continue
            _, k, m, qs = calibrate(cal)
            q = qs[LEVELS.index(0.9)]
            cells = defaultdict(list)
            for p in test:
                cells[(p["data"], p["task"], p["method"])].append(p)
            for (data, task, method), ps in sorted(cells.items()):
                hits = [abs(p["e"]) <= q * sigma(p, k, m) for p in ps]
                fin = [h for h, p in zip(hits, ps) if p["final"]]
                w = sum(math.expm1(q * sigma(p, k, m)) for p in ps) / len(ps)
                print(f"| {fam} | {data} | {task} | {method} | {len(ps)} | {sum(hits)/len(hits):.1%} | "
                      f"{sum(fin)/max(len(fin),1):.1%} ({len(fin)}) | {w:.3%} |")

main()
