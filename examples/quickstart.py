"""losscast from Python: what `losscast demo` does, on the bundled data, from a notebook's
point of view. Run from the repository root:

    python examples/quickstart.py            # fits in fits/, figures in plots/
    python examples/quickstart.py --out DIR  # both in DIR

Every call here has a command-line twin with the same options and defaults (shown in the
comments), and the fit files interchange with it.
"""

import argparse
import os
import warnings

import matplotlib

matplotlib.use("Agg")  # no display needed; figures are saved
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

import losscast  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "data")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", help="folder for fit files and figures (default: fits/ and plots/)")
    args = ap.parse_args()
    fits_dir = args.out or os.path.join(ROOT, "fits")
    plots_dir = args.out or os.path.join(ROOT, "plots")
    os.makedirs(fits_dir, exist_ok=True)
    os.makedirs(plots_dir, exist_ok=True)
    # Extrapolation notes are expected below (forecasts beyond the fit); show each once.
    warnings.simplefilter("once", losscast.LosscastWarning)

    print("== 1. Tissue et al. reference points, warmup counted at peak (laws.md §1)")
    # losscast fit --manifest data/tissue2024.toml --warmup-as-peak
    tissue = losscast.fit(manifest=os.path.join(DATA, "tissue2024.toml"), warmup_as_peak=True)
    print(tissue)

    print("\n== 2. Multi-Power-Law 400M: fit on 3 schedules, score the 6 held-out runs")
    # losscast fit --manifest data/mpl400.toml --out fits/quickstart-mpl400-annealing.json
    mpl400 = os.path.join(DATA, "mpl400.toml")
    f = losscast.fit(manifest=mpl400)
    f.to_json(os.path.join(fits_dir, "quickstart-mpl400-annealing.json"))
    print(f)
    scores = f.evaluate(manifest=mpl400)  # losscast eval --fit F --manifest M --json
    print(f"held-out PredE {100 * scores['test_mean']['pred_e']:.3f} % over the test runs")
    ax = f.plot(manifest=mpl400)  # losscast plot --fit F --manifest M --out ...
    ax.figure.savefig(os.path.join(plots_dir, "quickstart-mpl400-annealing.png"), dpi=120)
    plt.close(ax.figure)

    print("\n== 3. Forecast a run not trained: 72 000 steps of cosine")
    # losscast predict --fit F --schedule cosine:... --steps 24000,48000,72000
    spec = "cosine:peak=3e-4,end=3e-5,warmup=2160,total=72000"
    print(f.predict(spec, steps=[24000, 48000, 72000]).to_string(index=False))

    print("\n== 4. A log as a DataFrame: read it, fit it, get frames back")
    df = losscast.read_log(os.path.join(DATA, "mpl/csv_400/cosine_24000.csv"))
    one = losscast.fit(df, schedule="cosine:peak=3e-4,end=3e-5,warmup=2160,total=24000",
                       name="cosine_24000")
    print(one.metrics.to_string(index=False))

    print("\n== 5. Which law forecasts these runs best? annealing vs Multi-Power Law")
    # losscast compare --manifest data/mpl400.toml
    c = losscast.compare(manifest=mpl400, laws=["annealing", "multipower"])
    print(c.table.to_string(index=False))
    print("best PredE:", c.best.get("pred_e"))

    print("\n== 6. Chinchilla from a pandas table, and the compute-optimal allocation")
    # losscast fit --law chinchilla data/chinchilla/svg_extracted_data.csv --drop-top-loss 5
    table = pd.read_csv(os.path.join(DATA, "chinchilla/svg_extracted_data.csv"))
    ch = losscast.fit(table, law="chinchilla", drop_top_loss=5)
    print(ch)
    print(ch.optimal(compute=[5.76e23]).to_string(index=False))
    ax = ch.plot()
    ax.figure.savefig(os.path.join(plots_dir, "quickstart-chinchilla.png"), dpi=120)
    plt.close(ax.figure)

    print("\n== 7. Plan a 24 000-step 400M run: rank WSD and cosine schedules")
    # losscast plan --fit F --total 24000 --peak 3e-4 --warmup 2160 --families wsd,cosine
    ranked = f.plan(total=24000, peak=3e-4, warmup=2160, families=["wsd", "cosine"])
    print(ranked[["spec", "final_loss_pred", "lo", "hi", "p_beats_best"]].head(5).to_string(index=False))

    print("\n== 8. How well would each law have forecast the rest of a run? (backtest)")
    # losscast backtest --manifest data/tissue2024.toml --task truncate
    bt = losscast.backtest(manifest=os.path.join(DATA, "tissue2024.toml"), task="truncate")
    print(bt.table.to_string(index=False))


if __name__ == "__main__":
    main()
