"""Manifests for the GPT-3 and gzip/PCFG ladders of ../shared/data/ladders, for issue 13's
acceptance figures (`losscast backtest --task size`). Not bundled: both sets stay in ../shared;
this writes CSVs and manifests under docs/studies/ladders/ (git-ignored).

GPT-3 (digitised Fig. 4.1 of Brown et al. 2020): validation loss vs tokens. A step here is 1M
tokens; points sharing a step are averaged (the digitiser gives several y per x). Schedule: warmup
375M tokens, cosine to 10 % of peak over 260B tokens, then constant (GPT-3 paper, App. B); the
batch-size ramp is not modelled.

gzip/PCFG (Pandey 2024): per-step train loss; one manifest per dataset, 6 sizes x 5 budgets, each
budget its own cosine-to-0 run (no warmup) over its n_steps.

OLMo v1 (released OLMo-1B, OLMo-7B, OLMo-7B-Twin-2T; in-loop validation cross-entropy every 1000 steps):
the step axis is the log's optimizer step. olmo_v1_val.csv holds every CrossEntropyLoss series, keyed
run = "<model>:<eval set without v2-small-/-validation>"; both manifests read mc4_en, the one set logged
at full length by all three runs (the Twin has no c4_en). The 7B runs' eval-set names are those of the
v2-small sets that both official configs list (v2_small_gptneox20b/...), so 1B "v2-small-mc4_en" and
7B "mc4_en" are taken to be the same data: an inference from the configs, not a checked fact. Points
more than 0.1 nat above the series' running minimum are dropped (the Twin's loss spikes: single
points at steps 7k, 47k, 121k, 150k and a block at ~4.55 nat over 158k-168k). One run per size per
manifest, so the two 7B runs go in separate manifests: olmo_v1.toml (1B + 7B) and olmo_v1_twin.toml
(1B + Twin). Schedules: see the comments written into the manifests.

LaMDA-style LMs (Alabdulmohsin et al. 2022, 5 sizes): validation loss normalised so each curve starts at
0.999. seen_examples are all multiples of 262144 = 256K tokens, LaMDA's batch, and the first point is
then step 10000, so a step here is seen_examples / 262144. The LR schedule is not documented; the
manifest guesses Meena's (LaMDA's predecessor) 0.01 constant for 10k steps then inverse square root.

Gemstones (McLeish et al. 2025, 22 decoder models): in-run validation loss every 477 steps to 83475
steps (350B tokens) at the main LR with no cooldown ("hot"), so one constant-LR run per model.
gemstones.toml holds the main-LR runs for the horizon question (`backtest --task truncate`: each
run's head forecasting its tail). The peak LR and the warmup are not in the data: constant 3e-4
with 1000 warmup steps is a stand-in; the first point (step 477) is inside the warmup either way,
and a constant LR's forecast depends on the peak only through A.
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

# OLMo v1
OLMO_EVAL = "mc4_en"
OLMO = {  # model -> (tokens per step, schedule, note lines written above the run)
    "OLMo-1B": (2048 * 2048, "cosine:peak=4e-4,end=4e-5,warmup=2000,total=739328", [
        "OLMo-1B.yaml: AdamW peak 4.0e-4, cosine_with_warmup, t_warmup 2000, alpha_f 0.1,",
        "max_duration 739,328 steps (README, 'LR schedules'). Logged to step 738000."]),
    "OLMo-7B": (2160 * 2048, "linear:peak=3e-4,end=3e-5,warmup=5000,total=476837", [
        "OLMo-7B.yaml: AdamW peak 3.0e-4, linear_with_warmup, t_warmup 5000, alpha_f 0.1, max_duration 2T",
        "tokens (README). total = 476,837 steps = 2e12 tokens at the config's 2048 x 2048 batch, the t_max in",
        "steps of allenai/OLMo PR #411 (not 452,113 = 2e12 at the logged 2160 x 2048): the loss falls",
        "steeply until ~477k and flattens from 480k on, which fits 476,837 and not 452k. After total the",
        "LR is held at 3e-5 (OLMo's LinearWithWarmup, and losscast's hold). The run continues past 2T",
        "to 2.46T (second epoch). The OLMo paper (Fig. 1 caption) decays the LR linearly to 0 over the",
        "last 1000 steps; no drop shows at the last logged step, and max_step = 555000 keeps that step out",
        "in any case, so that final anneal is not modelled."]),
    "OLMo-7B-Twin-2T": (2160 * 2048, "linear:peak=3e-4,end=3e-5,warmup=5000,total=476837", [
        "'Twin-2T: the same recipe as OLMo-7B, trained on different hardware (LUMI), to ~2T' (README):",
        "the OLMo-7B schedule above. GUESS for the end: the log stops at step 450000, before total; if",
        "LUMI counted t_max in tokens (2e12 / (2160 x 2048) = 452,113 steps) the LR would reach 3e-5",
        "there instead. Loss spikes dropped (see ladders_prep.py)."]),
}
MAX_STEP = {"OLMo-7B": 555000}
series, meta = defaultdict(dict), {}
for r in csv.DictReader(open(os.path.join(SHARED, "olmo_v1", "olmo_v1_eval_losses.csv"))):
    if r["metric"] != "CrossEntropyLoss":
        continue
    ev = r["eval_set"].replace("v2-small-", "").replace("-validation", "")
    if r["eval_set"].startswith("v3-small-"):
        ev = r["eval_set"].replace("-validation", "")
    key = f"{r['model']}:{ev}"
    series[key][int(r["step"])] = (int(r["tokens"]), float(r["value"]))
    meta[key] = (r["model"], r["eval_set"], float(r["size_params"]))
dropped = {}
with open(os.path.join(OUT, "olmo_v1_val.csv"), "w") as f:
    f.write("run,model,eval_set,step,tokens,loss\n")
    for key in sorted(series):
        lo, dropped[key] = float("inf"), []
        for s in sorted(series[key]):
            tok, l = series[key][s]
            if l > lo + 0.1:
                dropped[key].append(s)
                continue
            lo = min(lo, l)
            f.write(f"{key},{meta[key][0]},{meta[key][1]},{s},{tok},{l}\n")


def olmo_manifest(fname, models):
    with open(os.path.join(OUT, fname), "w") as f:
        f.write(f"# OLMo v1 in-loop validation cross-entropy on {OLMO_EVAL} (../shared/data/ladders/olmo_v1);\n"
                "# step = the log's optimizer step. Written by ladders_prep.py.\n")
        for m in models:
            key = f"{m}:{OLMO_EVAL}"
            tps, sched, note = OLMO[m]
            n = sum(1 for s in series[key] if s not in dropped[key] and s <= MAX_STEP.get(m, s))
            f.write("\n" + "".join(f"# {line}\n" for line in note))
            f.write(f"# eval set {meta[key][1]}; {n} points"
                    + (f", {len(dropped[key])} spike points dropped" if dropped[key] else "") + "\n")
            f.write(f'[[run]]\nname = "{m}"\npath = "olmo_v1_val.csv"\nselect = "run={key}"\n'
                    f'schedule = "{sched}"\nparams = {meta[key][2]:.0f}\ntokens_per_step = {tps}\n')
            if m in MAX_STEP:
                f.write(f"max_step = {MAX_STEP[m]}\n")


olmo_manifest("olmo_v1.toml", ["OLMo-1B", "OLMo-7B"])
olmo_manifest("olmo_v1_twin.toml", ["OLMo-1B", "OLMo-7B-Twin-2T"])

# LaMDA-style decoder LMs (Revisiting Neural Scaling Laws)
BATCH = 262144  # tokens per step: LaMDA's "256K tokens per batch"
lam = defaultdict(list)
for r in csv.DictReader(open(os.path.join(SHARED, "lamda_revisiting", "lamda_lm_val_loss.csv"))):
    seen = float(r["seen_examples"])
    assert seen % BATCH == 0, seen
    lam[(float(r["size_params"]), r["model"])].append((int(seen) // BATCH, float(r["loss"]), r["source_split"]))
with open(os.path.join(OUT, "lamda_revisiting_val.csv"), "w") as f:
    f.write("model,step,seen_examples,loss,source_split\n")
    for (n, m), pts in sorted(lam.items()):
        for s, l, sp in sorted(pts):
            f.write(f"{m},{s},{s * BATCH},{l},{sp}\n")
with open(os.path.join(OUT, "lamda_revisiting.toml"), "w") as f:
    f.write("""# LaMDA-style decoder LMs, Alabdulmohsin et al. 2022 (../shared/data/ladders/lamda_revisiting).
# Loss is NORMALISED per curve (first value 0.999), so absolute losses do not compare across sizes:
# `backtest --task size` runs but its numbers mean nothing; use truncate (the README's task).
# step = seen_examples / 262144: every seen_examples is a multiple of 2^18 = 256K tokens, LaMDA's batch
# ("256K tokens per batch", Thoppilan et al. 2022), which puts the first evaluation at step 10000.
# SCHEDULE IS A GUESS. README: "The LR schedule is not documented in the source." Used: Meena's schedule
# (Adiwardana et al. 2020, LaMDA's predecessor, same Lingvo/T5 family): 0.01 constant for 10k steps, then
# 0.01 * sqrt(10000 / step), no final anneal (the curves' long tails agree with that). One schedule for
# every size: total = the longest run's last step, so the LR never holds inside any run's data. A constant
# LR fits these curves as well in sample, so the data do not confirm the guess. The source's
# fit/extrapolate split is in the CSV's source_split column and noted per run.
""")
    total = max(s for pts in lam.values() for s, _, _ in pts)
    for (n, m), pts in sorted(lam.items()):
        pts.sort()
        first_ex = next((s for s, _, sp in pts if sp == "extrapolate"), None)
        f.write(f"\n# {len(pts)} points, steps {pts[0][0]}..{pts[-1][0]}; source split: extrapolate from step {first_ex}\n"
                f'[[run]]\nname = "{m}"\npath = "lamda_revisiting_val.csv"\nselect = "model={m}"\n'
                f'schedule = "rsqrt:peak=1e-2,warmup=0,total={total},timescale=10000"\n'
                f"params = {n:.0f}\ntokens_per_step = {BATCH}\n")
# Gemstones: one CSV per main-LR model (select takes one column, and model alone matches both
# variants), a manifest of the 22 runs.
gem = defaultdict(list)
gem_params = {}
for r in csv.DictReader(open(os.path.join(SHARED, "gemstones", "gemstones_loss_curves.csv"))):
    if r["variant"] == "main_lr":
        gem[r["model"]].append((int(r["step"]), r["val_loss"]))
        gem_params[r["model"]] = int(r["params_active_precise"])
with open(os.path.join(OUT, "gemstones.toml"), "w") as f:
    f.write("# Gemstones (mcleish7/gemstone-scaling-laws, MIT), main LR, no cooldown. Written by ladders_prep.py.\n")
    for m in sorted(gem, key=gem_params.get):
        pts = sorted(gem[m])
        with open(os.path.join(OUT, f"gemstones_{m}.csv"), "w") as g:
            g.write("step,loss\n")
            g.writelines(f"{st},{l}\n" for st, l in pts)
        f.write(f'\n[[run]]\nname = "{m}"\npath = "gemstones_{m}.csv"\n'
                f'schedule = "constant:peak=3e-4,warmup=1000,total={pts[-1][0]}"\nparams = {gem_params[m]}\n')
print("wrote", OUT)
