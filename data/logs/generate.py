"""Build the GENERATED__ log fixtures from the real llm.c GPT-2 124M log (MIT).

No public W&B chart export, W&B API history CSV of an LLM run, or MLflow file store with an LR
series was found (log-formats.md §5), so these are written in those exact layouts from real
loss and LR values. Run from the repository root: python3 data/logs/generate.py
"""
import os
import shutil

SRC = "data/logs/llmc/SiddanthEmani_GPT-2-124M-CUDA__log124M_main.log"

train, lr, val = {}, {}, {}
for line in open(SRC):
    f = dict(kv.split(":", 1) for kv in line.split())
    s = int(f["s"])
    if "trl" in f:
        train[s] = float(f["trl"])
        lr[s] = float(f["lr"])
    if "tel" in f:
        val[s] = float(f["tel"])

T0 = 1700000000.0
SEC_PER_STEP = 0.31

# W&B UI chart export: x-axis Step, two runs (one name contains " - "), value/MIN/MAX triples.
# The panel samples: run A every 50 steps, run B (the same data offset by 25) every 100 steps.
runs = {"gpt2-124m - fineweb": (train, range(0, 19552, 50)),
        "brisk-pond-1": ({s + 25: v for s, v in train.items()}, range(25, 19552, 100))}
xs = sorted({s for _, (_, r) in runs.items() for s in r})
with open("data/logs/wandb/GENERATED__llmc_wandb_chart_export.csv", "w") as out:
    cols = ['"Step"']
    for name in runs:
        k = f"{name} - train/loss"
        cols += [f'"{k}"', f'"{k}__MIN"', f'"{k}__MAX"']
    out.write(",".join(cols) + "\n")
    for x in xs:
        row = [str(x)]
        for name, (data, r) in runs.items():
            v = repr(data[x]) if x in r and x in data else ""
            row += [v, v, v]
        out.write(",".join(row) + "\n")

# W&B API history (`run.scan_history()` then pandas `to_csv`): leading unnamed index column,
# `_step`, `_runtime`, `_timestamp`, keys with slashes; eval only every 250 steps.
with open("data/logs/wandb/GENERATED__llmc_wandb_history.csv", "w") as out:
    out.write(",_step,_runtime,_timestamp,train/loss,train/learning_rate,eval/loss\n")
    for i, s in enumerate(range(0, 2001)):
        t = s * SEC_PER_STEP
        out.write(f"{i},{s},{t!r},{T0 + t!r},{train[s]!r},{lr[s]!r},{val[s]!r}\n"
                  if s in val else
                  f"{i},{s},{t!r},{T0 + t!r},{train[s]!r},{lr[s]!r},\n")

# MLflow file store: mlruns/<experiment>/<run id>/metrics/<key>, lines `ts_ms value step`;
# a key with a slash is a subfolder.
root = "data/logs/mlflow/GENERATED__llmc_mlruns"
shutil.rmtree(root, ignore_errors=True)
run = os.path.join(root, "0", "5f1e0c2a9b7d4e3f8a6c1b2d3e4f5a6b")
os.makedirs(os.path.join(run, "metrics", "train"))
with open(os.path.join(run, "meta.yaml"), "w") as m:
    m.write("artifact_uri: file:///mlruns/0/5f1e0c2a9b7d4e3f8a6c1b2d3e4f5a6b/artifacts\n"
            "experiment_id: '0'\nlifecycle_stage: active\nrun_id: 5f1e0c2a9b7d4e3f8a6c1b2d3e4f5a6b\n"
            "run_name: gpt2-124m-fineweb\nstatus: 3\n")
with open(os.path.join(root, "0", "meta.yaml"), "w") as m:
    m.write("experiment_id: '0'\nname: Default\n")
for key, data in (("train/loss", train), ("lr", lr), ("eval/loss", val)):
    os.makedirs(os.path.dirname(os.path.join(run, "metrics", key)), exist_ok=True)
    with open(os.path.join(run, "metrics", key), "w") as out:
        for s in range(0, 2001):
            if s in data:
                out.write(f"{int((T0 + s * SEC_PER_STEP) * 1000)} {data[s]!r} {s}\n")
