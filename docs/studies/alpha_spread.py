#!/usr/bin/env python3
"""Spread of the fitted exponent alpha (annealing and multipower laws) over the bundled open
loss curves, each run fitted ALONE on its full length and on its first 25 % / 50 % of steps.

Usage: python3 alpha_spread.py [--fit] [--report]
  --fit     run the fits (cached: an existing fit file is reused) into /tmp/alpha_study/
  --report  write docs/studies/alpha-spread.md from the fit files
Uses the debug binary target/debug/losscast, or $LOSSCAST.
"""
import json, math, os, statistics, subprocess, sys, tomllib, time

import os
HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.environ.get("LOSSCAST", os.path.join(HERE, "..", "..", "target", "debug", "losscast"))
DATA = os.path.join(HERE, "..", "..", "data")
WORK = "/tmp/alpha_study"
OUT_MD = os.path.join(HERE, "alpha-spread.md")
LADDERS = [  # (ladder label, manifest)
    ("mpl25", "mpl25.toml"),
    ("mpl100", "mpl100.toml"),
    ("mpl400", "mpl400.toml"),
    ("tissue2024", "tissue2024.toml"),
    ("pile_t5_20k", "pile_t5_20k.toml"),
    ("gpt3", "ladders/gpt3/gpt3.toml"),
    ("gemstones", "ladders/gemstones/gemstones.toml"),
    ("gemstones_cooler", "ladders/gemstones/gemstones_cooler.toml"),
    ("olmo_v1", "ladders/olmo_v1/olmo_v1.toml"),
    ("lamda", "ladders/lamda/lamda.toml"),
    ("gzip_0.12", "ladders/gzip_pcfg/gzip_0.12.toml"),
]
FLAGGED = {"gzip_0.12"}  # tiny noisy runs: reported, excluded from cross-ladder numbers
LAWS = ["annealing", "multipower"]
FRACS = [("full", None), ("50", 0.5), ("25", 0.25)]
TIMEOUT = 120


def toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v)  # JSON string escapes are valid TOML basic strings
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        r = repr(v)
        return r if ("." in r or "e" in r or "inf" in r or "nan" in r) else r + ".0"
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    raise TypeError(f"unsupported TOML value {v!r}")


def write_manifest(path, block):
    with open(path, "w") as f:
        f.write("[[run]]\n")
        for k, v in block.items():
            f.write(f"{k} = {toml_value(v)}\n")


def safe(s):
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in s)


def load_runs():
    runs = []
    for ladder, rel in LADDERS:
        mpath = os.path.join(DATA, rel)
        with open(mpath, "rb") as f:
            m = tomllib.load(f)
        base = os.path.dirname(mpath)
        for blk in m["run"]:
            blk = dict(blk)
            blk["path"] = os.path.normpath(os.path.join(base, blk["path"]))
            blk["role"] = "fit"  # every run is fitted, whatever its role
            runs.append((ladder, blk))
    return runs


def run_fit(manifest, law, out, log):
    if os.path.exists(out):
        return {"ok": True, "cached": True}
    cmd = [BIN, "fit", "--law", law, "--manifest", manifest, "--out", out, "--no-intervals"]
    t0 = time.time()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        with open(log, "w") as f:
            f.write("TIMEOUT\n")
        return {"ok": False, "error": f"timeout {TIMEOUT}s"}
    with open(log, "w") as f:
        f.write(f"$ {' '.join(cmd)}\nrc={p.returncode} {time.time()-t0:.1f}s\n{p.stdout}\n--- stderr\n{p.stderr}")
    if p.returncode != 0 or not os.path.exists(out):
        err = (p.stderr.strip().splitlines() or ["rc=%d" % p.returncode])[-1]
        return {"ok": False, "error": err[:300]}
    return {"ok": True}


def fit_all():
    os.makedirs(WORK, exist_ok=True)
    status = {}
    spath = os.path.join(WORK, "status.json")
    if os.path.exists(spath):
        status = json.load(open(spath))
    for ladder, blk in load_runs():
        tag = safe(f"{ladder}__{blk['name']}")
        last = None
        for fr, f in FRACS:
            b = dict(blk)
            key = f"{tag}__{fr}"
            if f is not None:
                if last is None:
                    for law in LAWS:
                        status[f"{key}__{law}"] = {"ok": False, "error": "no full fit to read the last step from"}
                    continue
                ms = math.floor(f * last)
                b["max_step"] = ms if "max_step" not in b else min(ms, b["max_step"])
                if "min_step" in b and b["max_step"] <= b["min_step"]:
                    for law in LAWS:
                        status[f"{key}__{law}"] = {"ok": False, "error": f"max_step {b['max_step']} <= min_step"}
                    continue
            man = os.path.join(WORK, key + ".toml")
            write_manifest(man, b)
            for law in LAWS:
                out = os.path.join(WORK, f"{key}__{law}.json")
                r = run_fit(man, law, out, os.path.join(WORK, f"{key}__{law}.log"))
                if not r.get("cached"):
                    status[f"{key}__{law}"] = r
                print(key, law, "ok" if r["ok"] else "FAIL " + r["error"], flush=True)
                if f is None and r["ok"] and last is None:
                    last = json.load(open(out))["domain"]["last_step_max"]
            json.dump(status, open(spath, "w"), indent=1)


def read_fit(tag, fr, law):
    p = os.path.join(WORK, f"{tag}__{fr}__{law}.json")
    if not os.path.exists(p):
        return None
    d = json.load(open(p))
    return {
        "alpha": d["params"].get("alpha"),
        "L0": d["params"].get("L0"),
        "trust": d.get("trustworthy"),
        "warnings": d.get("warnings", []),
        "at_bound": d.get("at_bound", []),
        "unidentified": d.get("unidentified", []),
        "last": d.get("domain", {}).get("last_step_max"),
        "points": d.get("points_used"),
    }


def fmt(x, nd=3):
    if x is None:
        return "—"
    if x == 0 or 1e-3 <= abs(x) < 1e4:
        return f"{x:.{nd}f}"
    return f"{x:.2e}"


def cell(r):
    """alpha, with * when the fit is not trustworthy, (b) when alpha is at a bound."""
    if r is None or r["alpha"] is None:
        return "fail"
    s = fmt(r["alpha"])
    if "alpha" in r["at_bound"]:
        s += "ᵇ"
    if "L0" in r["at_bound"]:
        s += "⁰"
    if not r["trust"]:
        s += "*"
    return s


def sd_ln(xs):
    ls = [math.log(x) for x in xs if x and x > 0]
    return statistics.stdev(ls) if len(ls) > 1 else float("nan")


def rsd_ln(xs):
    ls = [math.log(x) for x in xs if x and x > 0]
    return (q(ls, .75) - q(ls, .25)) / 1.349 if len(ls) > 3 else float("nan")


def q(xs, p):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * p
    lo, hi = math.floor(k), math.ceil(k)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def report():
    status = json.load(open(os.path.join(WORK, "status.json")))
    runs = load_runs()
    rows = {}  # ladder -> list of dict
    for ladder, blk in runs:
        tag = safe(f"{ladder}__{blk['name']}")
        row = {"name": blk["name"], "params": blk.get("params"), "tag": tag}
        for law in LAWS:
            for fr, _ in FRACS:
                row[(law, fr)] = read_fit(tag, fr, law)
        rows.setdefault(ladder, []).append(row)

    L = []
    w = L.append
    w("# Spread of the fitted exponent α: annealing and multipower laws, each run fitted alone\n")
    w("Generated by `docs/studies/alpha_spread.py` (fits in `/tmp/alpha_study/`), with the prebuilt "
      "debug binary `/work/cache/main-target/debug/losscast fit --law {annealing,multipower} "
      "--manifest ONE_RUN.toml --no-intervals` (default options otherwise: priors on, runs "
      "weighting, max 4096 points, λ = 0.999, no `--warmup-as-peak`).\n")
    w("Each run is fitted alone on its full length (respecting the manifest's min_step/max_step), "
      "and on its head: `max_step = floor(f × last_step)` for f = 0.5 and 0.25, where last_step is the "
      "last step used by the full fit (`domain.last_step_max`). Every run of each manifest is used, "
      "whatever its role.\n")
    w("Legend: `*` = the fit says NOT trustworthy; `ᵇ` = α at a bound (never happened); `⁰` = L0 at its bound (L0 ≈ 0 or pinned, so α is not the usual exponent above an irreducible loss); `fail` = no fit (reason listed "
      "below the table). L0 is from the full-length fit (ann = annealing, mp = multipower).\n")
    w("**gzip_0.12 runs are tiny and noisy (13–1160 steps, 4M–1.4B params, per-step training "
      "loss on a PCFG/gzip corpus, schedule uncertain); they are shown but excluded from all cross-ladder numbers.**\n")
    w("Caveats: (a) the mpl manifests carry no `params`: the ladders are the 25M / 100M / 400M models of "
      "Luo et al. (b) Within an mpl ladder, runs that share a schedule prefix (wsdcon_3/9/18; wsd/wsdld; "
      "constant_24000 and the WSD runs before their decay) have identical or near-identical heads, so their "
      "50 %/25 % fits repeat and are not independent. (c) lamda losses are normalised per curve and its "
      "schedule is a guess; gpt3 is digitised from a figure and starts at step ~11.7k (1 step = 1M tokens). "
      "Both give α far from the other ladders, so the cross-ladder section also shows the numbers without lamda.\n")

    summary = {}
    for ladder, _ in LADDERS:
        rs = rows[ladder]
        w(f"\n## {ladder}" + ("  (FLAGGED: tiny noisy runs)" if ladder in FLAGGED else "") + "\n")
        w("| run | params | last step | ann α full | ann α 50 % | ann α 25 % | mp α full | mp α 50 % | mp α 25 % | L0 full ann | L0 full mp |")
        w("|---|---|---|---|---|---|---|---|---|---|---|")
        fails = []
        for r in rs:
            fa = r[("annealing", "full")]
            fm = r[("multipower", "full")]
            last = (fa or fm or {}).get("last")
            w(f"| {r['name']} | {fmt(r['params']) if r['params'] else '—'} | {last if last is not None else '—'} | "
              + " | ".join(cell(r[(law, fr)]) for law in LAWS for fr, _ in FRACS)
              + f" | {fmt(fa['L0'] if fa else None)} | {fmt(fm['L0'] if fm else None)} |")
            for law in LAWS:
                for fr, _ in FRACS:
                    if r[(law, fr)] is None:
                        st = status.get(f"{r['tag']}__{fr}__{law}", {})
                        fails.append(f"{r['name']} {law} {fr}: {st.get('error', 'no fit file')}")
        if fails:
            w("\nFailures:\n")
            for x in fails:
                w(f"- {x}")
        w("")
        # ladder summary
        w("| law | n fits (full) | trustworthy | median α full | min | max | IQR | sd ln α | median α 50 % | median α 25 % |")
        w("|---|---|---|---|---|---|---|---|---|---|")
        summary[ladder] = {}
        for law in LAWS:
            full = [r[(law, "full")] for r in rs if r[(law, "full")] and r[(law, "full")]["alpha"] is not None]
            a = [x["alpha"] for x in full]
            a50 = [r[(law, "50")]["alpha"] for r in rs if r[(law, "50")]]
            a25 = [r[(law, "25")]["alpha"] for r in rs if r[(law, "25")]]
            nt = sum(1 for x in full if x["trust"])
            summary[ladder][law] = {"full": a, "trusted": [x["alpha"] for x in full if x["trust"]]}
            if a:
                w(f"| {law} | {len(a)} | {nt} | {fmt(statistics.median(a))} | {fmt(min(a))} | {fmt(max(a))} | "
                  f"{fmt(q(a,.25))}–{fmt(q(a,.75))} | {fmt(sd_ln(a))} | "
                  f"{fmt(statistics.median(a50)) if a50 else '—'} | {fmt(statistics.median(a25)) if a25 else '—'} |")
            else:
                w(f"| {law} | 0 | 0 | — | — | — | — | — | — | — |")

    # cross-ladder
    main = [l for l, _ in LADDERS if l not in FLAGGED]
    w("\n## Across ladders (gzip_0.12 excluded), full-length fits\n")
    w("Pooled = every run's full-length α (the gemstones ladders hold 42 of the runs, so they weigh "
      "heavily); per-ladder = one median per ladder. sd ln α is the sample standard deviation of ln α.\n")
    w("| law | pooled n | pooled median α | pooled sd ln α | pooled robust sd ln α | pooled IQR | trustworthy-only n | trustworthy-only median | trustworthy-only sd ln α | median of ladder medians | sd ln(ladder medians) |")
    w("|---|---|---|---|---|---|---|---|---|---|---|")
    cross = {}
    for law in LAWS:
        pooled = [x for l in main for x in summary[l][law]["full"]]
        trusted = [x for l in main for x in summary[l][law]["trusted"]]
        meds = [statistics.median(summary[l][law]["full"]) for l in main if summary[l][law]["full"]]
        cross[law] = (pooled, meds)
        w(f"| {law} | {len(pooled)} | {fmt(statistics.median(pooled))} | {fmt(sd_ln(pooled))} | {fmt(rsd_ln(pooled))} | "
          f"{fmt(q(pooled,.25))}–{fmt(q(pooled,.75))} | {len(trusted)} | "
          f"{fmt(statistics.median(trusted)) if trusted else '—'} | {fmt(sd_ln(trusted))} | "
          f"{fmt(statistics.median(meds))} | {fmt(sd_ln(meds))} |")

    w("\nrobust sd ln α = IQR(ln α) / 1.349 (equals the sd for a normal ln α; insensitive to the lamda/gpt3 tails).\n")
    w("Sensitivity, same numbers without lamda (normalised losses, guessed schedule) and without lamda+gpt3:\n")
    w("| law | set | n | median α | sd ln α | robust sd ln α | median of ladder medians | sd ln(ladder medians) |")
    w("|---|---|---|---|---|---|---|---|")
    for law in LAWS:
        for setname, drop in [("no lamda", {"lamda"}), ("no lamda, no gpt3", {"lamda", "gpt3"})]:
            ls = [l for l in main if l not in drop]
            pooled = [x for l in ls for x in summary[l][law]["full"]]
            meds = [statistics.median(summary[l][law]["full"]) for l in ls if summary[l][law]["full"]]
            w(f"| {law} | {setname} | {len(pooled)} | {fmt(statistics.median(pooled))} | {fmt(sd_ln(pooled))} | "
              f"{fmt(rsd_ln(pooled))} | {fmt(statistics.median(meds))} | {fmt(sd_ln(meds))} |")

    w("\n### Leave-one-ladder-out medians (full-length α)\n")
    w("For each ladder: the median of the OTHER ladders' full-length α (pooled over their runs, and as the "
      "median of their ladder medians), next to the ladder's own median and the ratio own / LOO (pooled).\n")
    w("| held-out ladder | ann own median | ann LOO pooled | ann LOO of medians | ann own/LOO | mp own median | mp LOO pooled | mp LOO of medians | mp own/LOO |")
    w("|---|---|---|---|---|---|---|---|---|")
    for l in main:
        cells = []
        for law in LAWS:
            own = summary[l][law]["full"]
            others = [x for m in main if m != l for x in summary[m][law]["full"]]
            omeds = [statistics.median(summary[m][law]["full"]) for m in main if m != l and summary[m][law]["full"]]
            om = statistics.median(own) if own else None
            lo = statistics.median(others) if others else None
            cells += [fmt(om), fmt(lo), fmt(statistics.median(omeds)) if omeds else "—",
                      fmt(om / lo) if om and lo else "—"]
        w(f"| {l} | " + " | ".join(cells) + " |")

    # drift with horizon
    w("\n## Drift of α with horizon (head fit vs full fit, same run)\n")
    w("ratio = α(head) / α(full), over runs where both fits exist (gzip excluded, and shown separately). "
      "The geometric mean is not robust: one lamda multipower head fit has α = 1.35e71.\n")
    w("| law | head | set | n | median ratio | geometric-mean ratio | share head > full | IQR of ratio |")
    w("|---|---|---|---|---|---|---|---|")
    for law in LAWS:
        for fr in ["50", "25"]:
            for setname, lads in [("all but gzip", main), ("all but gzip, lamda", [l for l in main if l != "lamda"]),
                                  ("gzip_0.12", ["gzip_0.12"])]:
                rat = []
                for l in lads:
                    for r in rows[l]:
                        a, b = r[(law, fr)], r[(law, "full")]
                        if a and b and a["alpha"] and b["alpha"] and a["alpha"] > 0 and b["alpha"] > 0:
                            rat.append(a["alpha"] / b["alpha"])
                if rat:
                    gm = math.exp(statistics.mean(math.log(x) for x in rat))
                    up = sum(1 for x in rat if x > 1) / len(rat)
                    w(f"| {law} | {fr} % | {setname} | {len(rat)} | {fmt(statistics.median(rat))} | {fmt(gm)} | "
                      f"{up:.0%} | {fmt(q(rat,.25))}–{fmt(q(rat,.75))} |")
    w("\nPer ladder (median ratio head/full, annealing | multipower):\n")
    w("| ladder | ann 50 % | ann 25 % | mp 50 % | mp 25 % |")
    w("|---|---|---|---|---|")
    for l, _ in LADDERS:
        cells = []
        for law in LAWS:
            for fr in ["50", "25"]:
                rat = [r[(law, fr)]["alpha"] / r[(law, "full")]["alpha"] for r in rows[l]
                       if r[(law, fr)] and r[(law, "full")] and r[(law, fr)]["alpha"] and r[(law, "full")]["alpha"]]
                cells.append(f"{fmt(statistics.median(rat))} (n={len(rat)})" if rat else "—")
        w(f"| {l} | " + " | ".join(cells) + " |")

    # warnings tally
    w("\n## Trustworthiness of full-length fits\n")
    for law in LAWS:
        tot = sum(1 for l in main for r in rows[l] if r[(law, "full")])
        tr = sum(1 for l in main for r in rows[l] if r[(law, "full")] and r[(law, "full")]["trust"])
        unid = {}
        for l in main:
            for r in rows[l]:
                f = r[(law, "full")]
                if f:
                    for p in f["unidentified"]:
                        unid[p] = unid.get(p, 0) + 1
        w(f"- {law}: {tr}/{tot} full-length fits (gzip excluded) trustworthy; parameters flagged "
          f"unidentified: {', '.join(f'{k} ×{v}' for k, v in sorted(unid.items(), key=lambda kv: -kv[1])) or 'none'}")
    w("")
    with open(OUT_MD, "w") as f:
        f.write("\n".join(L))
    print("wrote", OUT_MD)
    return rows, summary, cross


if __name__ == "__main__":
    if "--fit" in sys.argv:
        fit_all()
    if "--report" in sys.argv:
        report()
