"""Manifests for the GPT-3 and gzip/PCFG ladders of ../shared/data/ladders, for issue 13's
acceptance figures (`losscast backtest --task size`). Not bundled: both sets stay in ../shared;
this writes CSVs and manifests under docs/studies/ladders/ (git-ignored).

GPT-3 (digitised Fig. 4.1 of Brown et al. 2020): validation loss vs tokens. A step here is 1M
tokens; points sharing a step are averaged (the digitiser gives several y per x). Schedule: warmup
375M tokens, cosine to 10 % of peak over 260B tokens, then constant (GPT-3 paper, App. B); the
batch-size ramp is not modelled.

gzip/PCFG (Pandey 2024): per-step train loss; one manifest per dataset, 6 sizes x 5 budgets, each
budget its own cosine-to-0 run (no warmup) over its n_steps.
"""
import csv, os
from collections import defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.join(HERE, "..", "..", "..", "shared", "data", "ladders")
OUT = os.path.join(HERE, "ladders")
os.makedirs(OUT, exist_ok=True)

# GPT-3
rows = list(csv.DictReader(open(os.path.join(SHARED, "gpt3_digitized", "gpt3_loss_curves_digitized.csv"))))
models = {r["model"]: r for r in csv.DictReader(open(os.path.join(SHARED, "gpt3_digitized", "gpt3_models.csv")))}
by = defaultdict(lambda: defaultdict(list))
for r in rows:
    if r["loss_kind"] == "val":
        by[r["model"]][round(float(r["tokens_billion"]) * 1000)].append(float(r["loss"]))
with open(os.path.join(OUT, "gpt3_val.csv"), "w") as f:
    f.write("model,step,loss\n")
    for m, pts in by.items():
        for s in sorted(pts):
            f.write(f"{models[m]['key']},{s},{sum(pts[s]) / len(pts[s]):.6f}\n")
with open(os.path.join(OUT, "gpt3.toml"), "w") as f:
    f.write("# GPT-3 validation loss, digitised (../shared/data/ladders/gpt3_digitized); step = 1M tokens\n")
    for m, meta in sorted(models.items(), key=lambda kv: float(kv[1]["size_params"])):
        if m not in by:
            continue
        peak = float(meta["peak_lr"])
        f.write(f'\n[[run]]\nname = "{meta["key"]}"\npath = "gpt3_val.csv"\nselect = "model={meta["key"]}"\n'
                f'schedule = "cosine:peak={peak:g},end={peak / 10:g},warmup=375,total=260000"\n'
                f'params = {float(meta["size_params"]):.0f}\n')

# gzip/PCFG
runs = list(csv.DictReader(open(os.path.join(SHARED, "gzip_pcfg", "runs.csv"))))
steps = defaultdict(list)
for r in csv.DictReader(open(os.path.join(SHARED, "gzip_pcfg", "train_loss_per_step.csv"))):
    steps[r["run_id"]].append((int(r["step"]), float(r["train_loss"])))
for ds in sorted({r["dataset"] for r in runs}):
    key = ds.replace("gzipscale-", "").replace("-10M", "")
    mine = [r for r in runs if r["dataset"] == ds and r["run_id"] in steps]
    with open(os.path.join(OUT, f"gzip_{key}.csv"), "w") as f:
        f.write("run,step,loss\n")
        for r in mine:
            for s, l in sorted(steps[r["run_id"]]):
                f.write(f"{r['run_id']},{s},{l}\n")
    with open(os.path.join(OUT, f"gzip_{key}.toml"), "w") as f:
        f.write(f"# gzip/PCFG {ds} (../shared/data/ladders/gzip_pcfg): 6 sizes x 5 budgets\n")
        for r in sorted(mine, key=lambda r: (float(r["size_params"]), int(r["n_steps"]))):
            n = int(r["n_steps"])
            f.write(f'\n[[run]]\nname = "{r["run_id"]}"\npath = "gzip_{key}.csv"\nselect = "run={r["run_id"]}"\n'
                    f'schedule = "cosine:peak=5e-5,end=0,warmup=0,total={n}"\nparams = {r["size_params"]}\n')
print("wrote", OUT)
