"""Writes the bundled open ladders (data/ladders/<ladder>/) from the project's shared copy of the
public data (../shared/data/ladders, one folder per ladder with README.md and SOURCES.md).

Run once by a maintainer; its outputs are committed, so a fresh clone needs neither this script
nor ../shared. Format conversion only: no loss value is changed. What each ladder's conversion
does (the step axis, the schedule written into the manifest, points dropped) is said in a comment
at the top of its manifest and in data/SOURCES.md. The source folders' README.md and SOURCES.md
are copied next to the derived files.

    python3 data/ladders/prepare.py [path/to/shared/data/ladders]
"""
import csv
import os
import shutil
import sys
from collections import defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "..", "shared", "data", "ladders")


def folder(name, source):
    out = os.path.join(HERE, name)
    os.makedirs(out, exist_ok=True)
    for f in ("README.md", "SOURCES.md"):
        if os.path.exists(os.path.join(SHARED, source, f)):
            shutil.copyfile(os.path.join(SHARED, source, f), os.path.join(out, f))
    return out


def rows(source, name):
    return list(csv.DictReader(open(os.path.join(SHARED, source, name))))


# GPT-3 (digitised Fig. 4.1 of Brown et al. 2020): validation loss against tokens.
out = folder("gpt3", "gpt3_digitized")
by = defaultdict(lambda: defaultdict(list))
models = {r["model"]: r for r in rows("gpt3_digitized", "gpt3_models.csv")}
for r in rows("gpt3_digitized", "gpt3_loss_curves_digitized.csv"):
    if r["loss_kind"] == "val":
        by[r["model"]][round(float(r["tokens_billion"]) * 1000)].append(float(r["loss"]))
with open(os.path.join(out, "gpt3_val.csv"), "w") as f:
    f.write("model,step,loss\n")
    for m, pts in by.items():
        for s in sorted(pts):
            f.write(f"{models[m]['key']},{s},{sum(pts[s]) / len(pts[s]):.6f}\n")
with open(os.path.join(out, "gpt3.toml"), "w") as f:
    f.write("""# GPT-3 validation loss, digitised from Fig. 4.1 of Brown et al. 2020 (noisy). Written by
# data/ladders/prepare.py. A step here is 1M tokens; digitised points that share a step are averaged.
# Schedule (GPT-3 paper, App. B): warmup over 375M tokens, cosine to 10 % of peak over 260B tokens,
# then held; the batch-size ramp is not modelled.
""")
    for m, meta in sorted(models.items(), key=lambda kv: float(kv[1]["size_params"])):
        if m not in by:
            continue
        peak = float(meta["peak_lr"])
        f.write(f'\n[[run]]\nname = "{meta["key"]}"\npath = "gpt3_val.csv"\nselect = "model={meta["key"]}"\n'
                f'schedule = "cosine:peak={peak:g},end={peak / 10:g},warmup=375,total=260000"\n'
                f'params = {float(meta["size_params"]):.0f}\n')

# gzip/PCFG (Pandey 2024): per-step training loss, one manifest per dataset, 6 sizes x 5 budgets.
out = folder("gzip_pcfg", "gzip_pcfg")
runs = rows("gzip_pcfg", "runs.csv")
steps = defaultdict(list)
for r in rows("gzip_pcfg", "train_loss_per_step.csv"):
    steps[r["run_id"]].append((int(r["step"]), r["train_loss"]))
for ds in sorted({r["dataset"] for r in runs}):
    key = ds.replace("gzipscale-", "").replace("-10M", "")
    mine = [r for r in runs if r["dataset"] == ds and r["run_id"] in steps]
    with open(os.path.join(out, f"gzip_{key}.csv"), "w") as f:
        f.write("run,step,loss\n")
        for r in mine:
            for s, l in sorted(steps[r["run_id"]]):
                f.write(f"{r['run_id']},{s},{l}\n")
    with open(os.path.join(out, f"gzip_{key}.toml"), "w") as f:
        f.write(f"# gzip/PCFG {ds}: 6 sizes x 5 token budgets, per-step training loss. Written by\n"
                "# data/ladders/prepare.py. Each budget is its own run, cosine to 0 over its steps with no\n"
                "# warmup (the code's AdamW lr 5e-5, CosineAnnealingLR over the one epoch; README.md says\n"
                "# which code version made the logs is unknown, so the schedule is uncertain).\n")
        for r in sorted(mine, key=lambda r: (float(r["size_params"]), int(r["n_steps"]))):
            n = int(r["n_steps"])
            f.write(f'\n[[run]]\nname = "{r["run_id"]}"\npath = "gzip_{key}.csv"\nselect = "run={r["run_id"]}"\n'
                    f'schedule = "cosine:peak=5e-5,end=0,warmup=0,total={n}"\nparams = {r["size_params"]}\n'
                    f'tokens_per_step = 8192\n')

# OLMo v1: in-loop validation cross-entropy on mc4_en, the one set all three runs log to the end.
out = folder("olmo_v1", "olmo_v1")
OLMO = {
    "OLMo-1B": (2048 * 2048, "cosine:peak=4e-4,end=4e-5,warmup=2000,total=739328", [
        "OLMo-1B.yaml: AdamW peak 4.0e-4, cosine_with_warmup, t_warmup 2000, alpha_f 0.1,",
        "max_duration 739,328 steps. Logged to step 738000."]),
    "OLMo-7B": (2160 * 2048, "linear:peak=3e-4,end=3e-5,warmup=5000,total=476837", [
        "OLMo-7B.yaml: AdamW peak 3.0e-4, linear_with_warmup, t_warmup 5000, alpha_f 0.1, max_duration 2T",
        "tokens: total = 476,837 steps (2e12 tokens at 2048 x 2048; the loss flattens from ~480k on). The",
        "LR is then held at 3e-5. The run continues past 2T (second epoch); max_step = 555000 keeps the",
        "final 1000-step decay to 0 out."]),
    "OLMo-7B-Twin-2T": (2160 * 2048, "linear:peak=3e-4,end=3e-5,warmup=5000,total=476837", [
        "Twin-2T: the OLMo-7B recipe on other hardware; the log stops at step 450000. Schedule as",
        "OLMo-7B (a guess for the end)."]),
}
MAX_STEP = {"OLMo-7B": 555000}
series, meta = defaultdict(dict), {}
for r in rows("olmo_v1", "olmo_v1_eval_losses.csv"):
    if r["metric"] != "CrossEntropyLoss" or r["eval_set"] not in ("v2-small-mc4_en-validation", "mc4_en-validation"):
        continue
    series[r["model"]][int(r["step"])] = (int(r["tokens"]), float(r["value"]))
    meta[r["model"]] = (r["eval_set"], float(r["size_params"]))
dropped = {}
with open(os.path.join(out, "olmo_v1_mc4_en.csv"), "w") as f:
    f.write("model,eval_set,step,tokens,loss\n")
    for m in sorted(series):
        lo, dropped[m] = float("inf"), []
        for s in sorted(series[m]):
            tok, l = series[m][s]
            if l > lo + 0.1:  # loss spikes (the Twin's single points and a block near 160k steps)
                dropped[m].append(s)
                continue
            lo = min(lo, l)
            f.write(f"{m},{meta[m][0]},{s},{tok},{l}\n")
with open(os.path.join(out, "olmo_v1.toml"), "w") as f:
    f.write("# OLMo v1 (released OLMo-1B, OLMo-7B, OLMo-7B-Twin-2T) in-loop validation cross-entropy on mc4_en;\n"
            "# step = the log's optimizer step. Points more than 0.1 nat above the running minimum are dropped\n"
            "# (loss spikes). Written by data/ladders/prepare.py.\n")
    for m in ("OLMo-1B", "OLMo-7B", "OLMo-7B-Twin-2T"):
        tps, sched, note = OLMO[m]
        f.write("\n" + "".join(f"# {line}\n" for line in note))
        f.write(f"# eval set {meta[m][0]}" + (f"; {len(dropped[m])} spike points dropped" if dropped[m] else "") + "\n")
        f.write(f'[[run]]\nname = "{m}"\npath = "olmo_v1_mc4_en.csv"\nselect = "model={m}"\n'
                f'schedule = "{sched}"\nparams = {meta[m][1]:.0f}\ntokens_per_step = {tps}\n')
        if m in MAX_STEP:
            f.write(f"max_step = {MAX_STEP[m]}\n")

# LaMDA-style decoder LMs (Alabdulmohsin et al. 2022): normalised validation loss.
out = folder("lamda", "lamda_revisiting")
BATCH = 262144
lam = defaultdict(list)
for r in rows("lamda_revisiting", "lamda_lm_val_loss.csv"):
    seen = float(r["seen_examples"])
    assert seen % BATCH == 0, seen
    lam[(float(r["size_params"]), r["model"])].append((int(seen) // BATCH, r["loss"], r["source_split"]))
with open(os.path.join(out, "lamda_val.csv"), "w") as f:
    f.write("model,step,seen_examples,loss,source_split\n")
    for (n, m), pts in sorted(lam.items()):
        for s, l, sp in sorted(pts):
            f.write(f"{m},{s},{s * BATCH},{l},{sp}\n")
total = max(s for pts in lam.values() for s, _, _ in pts)
with open(os.path.join(out, "lamda.toml"), "w") as f:
    f.write("""# LaMDA-style decoder LMs, Alabdulmohsin et al. 2022. Written by data/ladders/prepare.py.
# Loss is NORMALISED per curve (first value 0.999), so losses do not compare across sizes: only
# per-run forecasts (horizon) mean anything here.
# step = seen_examples / 262144 (every seen_examples is a multiple of 256K tokens, LaMDA's batch).
# THE SCHEDULE IS A GUESS (the source does not document it): Meena's, 0.01 for 10k steps, then
# 0.01 * sqrt(10000 / step), no final anneal. The source's fit/extrapolate split (about half of
# each run) is in the CSV's source_split column.
""")
    for (n, m), pts in sorted(lam.items()):
        f.write(f'\n[[run]]\nname = "{m}"\npath = "lamda_val.csv"\nselect = "model={m}"\n'
                f'schedule = "rsqrt:peak=1e-2,warmup=0,total={total},timescale=10000"\n'
                f"params = {n:.0f}\ntokens_per_step = {BATCH}\n")

# Gemstones (McLeish et al. 2025): in-run validation loss every 477 steps, constant LR, no cooldown.
# Main-LR runs (22 models, to 83 475 steps) and the lower-LR ablation (10 models, to ~24k steps),
# which the benchmark keeps aside as a check that no default is tuned on.
out = folder("gemstones", "gemstones")
gem = defaultdict(list)
params = {}
for r in rows("gemstones", "gemstones_loss_curves.csv"):
    gem[(r["model"], r["variant"])].append((int(r["step"]), r["val_loss"]))
    params[r["model"]] = int(r["params_active_precise"])
with open(os.path.join(out, "gemstones_curves.csv"), "w") as f:
    f.write("run,model,variant,step,loss\n")
    for (m, v), pts in sorted(gem.items()):
        for s, l in sorted(pts):
            f.write(f"{m}:{v},{m},{v},{s},{l}\n")
for variant, fname, what in (("main_lr", "gemstones.toml", "main learning rate"),
                             ("lr_ablation", "gemstones_cooler.toml", "lower-LR ablation (\"cooler_\" runs)")):
    with open(os.path.join(out, fname), "w") as f:
        f.write(f"# Gemstones (McLeish et al. 2025), {what}, constant LR with no cooldown. Written by\n"
                "# data/ladders/prepare.py. The peak LR and warmup are not in the data: constant 3e-4 with\n"
                "# 1000 warmup steps stands in; a constant LR's forecast depends on the peak only through A.\n")
        for m in sorted({m for m, v in gem if v == variant}, key=params.get):
            pts = sorted(gem[(m, variant)])
            f.write(f'\n[[run]]\nname = "{m}"\npath = "gemstones_curves.csv"\nselect = "run={m}:{variant}"\n'
                    f'schedule = "constant:peak=3e-4,warmup=1000,total={pts[-1][0]}"\nparams = {params[m]}\n'
                    f'tokens_per_step = 4194304\n')
print("wrote", HERE)
