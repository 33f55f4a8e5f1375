import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, "data")
COSINE = os.path.join(DATA, "mpl/csv_400/cosine_24000.csv")
COSINE_SPEC = "cosine:peak=3e-4,end=3e-5,warmup=2160,total=24000"
CONSTANT = os.path.join(DATA, "mpl/csv_400/constant_24000.csv")
CONSTANT_SPEC = "constant:peak=3e-4,warmup=2160,total=24000"
CHINCHILLA = os.path.join(DATA, "chinchilla/svg_extracted_data.csv")
TISSUE = os.path.join(DATA, "tissue2024.toml")
MPL400 = os.path.join(DATA, "mpl400.toml")
LLMC = os.path.join(DATA, "logs/llmc/SiddanthEmani_GPT-2-124M-CUDA__log124M_main.log")
HF = os.path.join(DATA, "logs/hf/Dheena731_tinyLlama-finetune__trainer_state.json")
TFEVENTS = os.path.join(DATA, "logs/tfevents/GENERATED__llmc_main_log_steps0-1000__simple_value.tfevents")
WANDB_HISTORY = os.path.join(DATA, "logs/wandb/GENERATED__llmc_wandb_history.csv")


def cli(*args, cwd=None):
    """`losscast ...` as a separate process: the console script of the installed package."""
    import subprocess

    return subprocess.run(
        [sys.executable, "-m", "losscast", *args], capture_output=True, text=True, cwd=cwd
    )


@pytest.fixture(autouse=True)
def _agg_backend(monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def no_show(*a, **k):
        raise AssertionError("losscast must never call plt.show()")

    monkeypatch.setattr(plt, "show", no_show)
