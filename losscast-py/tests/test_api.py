"""The Python API against the command line and the bundled data: every function, every input
type, equivalence with `losscast fit`, errors with the CLI's messages, and the GIL."""

import json
import math
import os
import threading
import time
import warnings

import numpy as np
import pandas as pd
import polars as pl
import pytest

import losscast
from conftest import (
    CHINCHILLA,
    CONSTANT,
    CONSTANT_SPEC,
    COSINE,
    COSINE_SPEC,
    HF,
    LLMC,
    MPL400,
    TFEVENTS,
    TISSUE,
    WANDB_HISTORY,
    cli,
)

def _polars(df):
    """A polars copy of a pandas frame without pyarrow (text columns as lists)."""
    return pl.DataFrame(
        {c: (df[c].to_numpy() if df[c].dtype.kind in "iufb" else df[c].tolist()) for c in df.columns}
    )


# --- reading ------------------------------------------------------------------------------


def test_read_log_reads_every_kind_of_log_as_its_trainer_wrote_it():
    csv = losscast.read_log(COSINE)
    assert list(csv.columns) == ["step", "loss", "lr"]
    assert csv["step"].dtype == np.int64
    # The first logged point of the bundled MPL 400M cosine run, and its row count.
    raw = pd.read_csv(COSINE)
    assert len(csv) == len(raw)
    assert csv["loss"].iloc[0] == raw["loss"].iloc[0]
    assert csv.attrs["losscast"]["sha256"] and csv.attrs["losscast"]["columns"]["loss"] == "loss"
    for path in (LLMC, HF, TFEVENTS, WANDB_HISTORY):
        df = losscast.read_log(path)
        assert len(df) > 10, path
        assert (np.diff(df["step"].to_numpy()) > 0).all(), path
        assert (df["loss"] > 0).all(), path
    polars_df = losscast.read_log(COSINE, frame="polars")
    assert isinstance(polars_df, pl.DataFrame)
    assert polars_df["loss"].to_list() == csv["loss"].tolist()


def test_read_log_picks_the_series_and_run_it_is_told():
    info = losscast.inspect(LLMC)
    assert info["format"] == "llmc_main_log"
    assert "runs" in info
    tissue = os.path.join(os.path.dirname(TISSUE), "tissue2024/reference_points.csv")
    cos = losscast.read_log(tissue, select="run=cosine")
    const = losscast.read_log(tissue, select="run=constant")
    assert len(cos) == 20 and len(const) == 20
    assert not np.allclose(cos["loss"], const["loss"])


# --- fitting: the CLI's engine, options and files ----------------------------------------


def test_fit_from_python_equals_losscast_fit(tmp_path):
    py_file = tmp_path / "py.json"
    cli_file = tmp_path / "cli.json"
    f = losscast.fit(COSINE, schedule=COSINE_SPEC, max_points=2000, huber_delta=1e-3)
    f.to_json(py_file)
    r = cli("fit", COSINE, "--schedule", COSINE_SPEC, "--max-points", "2000",
            "--huber-delta", "0.001", "--out", str(cli_file))
    assert r.returncode == 0, r.stderr
    cli_rec = json.loads(cli_file.read_text())
    for k, v in f.params.items():
        assert abs(v - cli_rec["params"][k]) <= 1e-12 * abs(v), k
    assert py_file.read_bytes() == cli_file.read_bytes()
    # The summary is the CLI's text.
    assert "L0" in f.summary and r.stdout == f.summary


def test_fit_of_a_manifest_equals_the_cli_and_loads_back(tmp_path):
    # The paper's recipe (laws.md §1): warmup at peak LR, no α prior.
    f = losscast.fit(manifest=TISSUE, warmup_as_peak=True, no_prior=True)
    out = tmp_path / "tissue.json"
    r = cli("fit", "--manifest", TISSUE, "--warmup-as-peak", "--no-prior", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert json.loads(out.read_text())["params"] == f.params
    # laws.md §1: the reference fit of the Tissue et al. points.
    golden = {"L0": 2.62780, "A": 0.42966, "C": 0.41077, "alpha": 0.54985}
    for k, v in golden.items():
        assert abs(f.params[k] - v) < 2e-5 + 1e-4 * v, k
    back = losscast.load_fit(out)
    assert back.params == f.params and back.record == f.record
    spec = "cosine:peak=2e-4,end=0,warmup=500,total=40000"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", losscast.LosscastWarning)
        a, b = f.predict(spec, steps=[40000]), back.predict(spec, steps=[40000])
    assert a.equals(b)


def test_pandas_polars_and_dict_inputs_fit_alike():
    raw = pd.read_csv(COSINE)
    by_path = losscast.fit(COSINE, schedule=COSINE_SPEC, no_intervals=True)
    fits = {
        "pandas": losscast.fit(raw, schedule=COSINE_SPEC, no_intervals=True),
        "polars": losscast.fit(_polars(raw), schedule=COSINE_SPEC, no_intervals=True),
        "dict": losscast.fit({c: raw[c].to_numpy() for c in raw.columns}, schedule=COSINE_SPEC,
                             no_intervals=True),
    }
    for kind, f in fits.items():
        for k, v in by_path.params.items():
            assert abs(f.params[k] - v) <= 1e-12 * abs(v), (kind, k)
        assert f.record["data"][0]["path"].startswith("<"), kind
        assert f.record["data"][0]["sha256"] != by_path.record["data"][0]["sha256"]
    # The same frame gives the same digest (provenance is reproducible).
    again = losscast.fit(raw, schedule=COSINE_SPEC, no_intervals=True)
    assert again.record["data"][0]["sha256"] == fits["pandas"].record["data"][0]["sha256"]
    # Frames come back as the type that went in.
    assert isinstance(fits["polars"].metrics, pl.DataFrame)
    assert isinstance(fits["polars"].predict(COSINE_SPEC, steps=[24000]), pl.DataFrame)
    assert isinstance(fits["pandas"].metrics, pd.DataFrame)
    assert isinstance(fits["dict"].predict(COSINE_SPEC, steps=[24000]), pd.DataFrame)


def test_a_long_frame_splits_into_runs_with_schedules_and_roles():
    a = pd.read_csv(COSINE).assign(run="cosine")
    b = pd.read_csv(CONSTANT).assign(run="constant")
    long = pd.concat([a, b], ignore_index=True)[["run", "step", "loss"]]
    specs = {"cosine": COSINE_SPEC, "constant": CONSTANT_SPEC}
    f = losscast.fit(long, by="run", schedule=specs)
    assert [d["name"] for d in f.record["data"]] == ["cosine", "constant"]
    assert [d["schedule"] for d in f.record["data"]] == [COSINE_SPEC, CONSTANT_SPEC]
    as_polars = losscast.fit(_polars(long), by="run", schedule=specs)
    assert as_polars.params == f.params
    # compare reads roles: a role column (or roles=) marks the test runs.
    long["role"] = np.where(long["run"] == "constant", "test", "fit")
    c = losscast.compare(long, by="run", schedule=specs, laws=["annealing"])
    assert list(c.table["law"]) == ["annealing"]
    assert c.fits["annealing"].record["metrics"]["runs"][0]["role"] == "fit"
    assert math.isfinite(c.table["test_pred_e"].iloc[0])


def test_size_laws_from_a_table_frame_predict_and_optimal():
    table = pd.read_csv(CHINCHILLA)
    f = losscast.fit(table, law="chinchilla", drop_top_loss=5)
    g = losscast.fit(CHINCHILLA, law="chinchilla", drop_top_loss=5)
    for k, v in g.params.items():
        assert abs(f.params[k] - v) <= 1e-12 * abs(v), k
    assert f.is_size_law and f.record["points_used"] == len(table) - 5
    # laws.md §3: the full-grid optimum on Epoch AI's 240 points.
    golden = {"E": 1.81722, "A": 477.826, "B": 2143.417, "alpha": 0.34731, "beta": 0.36717}
    for k, v in golden.items():
        assert abs(f.params[k] / v - 1) < 1e-4, k
    pred = f.predict(n=[1e9, 7e10], d=[2e10, 1.4e12])
    assert list(pred.columns[:3]) == ["n", "d", "loss_pred"]
    assert pred["loss_pred"].iloc[0] > pred["loss_pred"].iloc[1]
    with pytest.warns(losscast.LosscastWarning, match="extrapolation"):
        opt = f.optimal(compute=[5.76e23])
    row = opt.iloc[0]
    assert abs(6 * row["n_opt"] * row["d_opt"] / 5.76e23 - 1) < 1e-9
    assert 10 < row["tokens_per_param"] < 40


def test_predict_returns_intervals_where_the_fit_has_them():
    f = losscast.fit(COSINE, schedule=COSINE_SPEC)
    assert f.has_intervals
    with pytest.warns(losscast.LosscastWarning, match="extrapolation"):
        p = f.predict("cosine:peak=3e-4,end=3e-5,warmup=2160,total=72000", steps="24000:72000:24000")
    assert list(p.columns) == ["step", "lr", "loss_pred", "lo", "hi"]
    assert list(p["step"]) == [24000, 48000, 72000]
    assert ((p["lo"] < p["loss_pred"]) & (p["loss_pred"] < p["hi"])).all()
    wider = f.predict(COSINE_SPEC, steps=[24000], level=0.99)
    narrower = f.predict(COSINE_SPEC, steps=[24000], level=0.5)
    assert (wider["hi"] - wider["lo"]).iloc[0] > (narrower["hi"] - narrower["lo"]).iloc[0]
    plain = losscast.fit(COSINE, schedule=COSINE_SPEC, no_intervals=True)
    assert not plain.has_intervals
    assert list(plain.predict(COSINE_SPEC, steps=[24000]).columns) == ["step", "lr", "loss_pred"]


def test_evaluate_compare_backtest_and_plan():
    f = losscast.fit(manifest=MPL400, no_intervals=True)
    scores = f.evaluate(manifest=MPL400)
    assert len(scores["runs"]) == 9
    # laws.md §2: the paper's recipe forecasts the 400M test runs to a mean PredE of 0.00182;
    # losscast's defaults do at least as well.
    assert scores["test_mean"]["pred_e"] <= 0.00182
    with_curves = f.evaluate(curves=True)
    c0 = with_curves["runs"][0]["curve"]
    assert len(c0["step"]) == len(c0["observed"]) == len(c0["predicted"]) > 100
    ranked = losscast.plan(f, total=24000, peak=3e-4, warmup=2160, families="wsd,cosine")
    assert ranked["final_loss_pred"].is_monotonic_increasing
    assert set(ranked["spec"].str.split(":").str[0]) == {"wsd", "cosine"}
    assert f.plan(total=24000, peak=3e-4, warmup=2160, families=["wsd"]).shape[0] > 3
    bt = losscast.backtest(manifest=TISSUE, task="truncate", laws=["annealing", "multipower"])
    assert set(bt.table["method"]) == {"annealing", "multipower"}
    assert bt.table["best"].sum() == 1 and bt.best in {"annealing", "multipower"}
    assert len(bt.folds) == 4


def test_bad_input_raises_with_the_cli_message(tmp_path):
    with pytest.raises(losscast.BadInput, match="nope.csv: file not found"):
        losscast.fit("nope.csv", schedule=COSINE_SPEC)
    bad = tmp_path / "bad.csv"
    bad.write_text("step,loss\n1,3.5\n2,oops\n")
    with pytest.raises(losscast.BadInput, match=r"bad.csv:3:3: column 'loss': 'oops' is not a number"):
        losscast.fit(bad, schedule=COSINE_SPEC)
    with pytest.raises(losscast.BadInput, match="cosine"):
        losscast.fit(COSINE, schedule="cosine:peak=3e-4,total=banana")
    with pytest.raises(losscast.BadInput, match="max_pointz= is not an option"):
        losscast.fit(COSINE, schedule=COSINE_SPEC, max_pointz=1)
    with pytest.raises(losscast.BadInput, match="by='nope': no such column"):
        losscast.fit(pd.read_csv(COSINE), by="nope")
    two_runs = pd.concat(
        [pd.read_csv(COSINE).assign(run="cosine"), pd.read_csv(CONSTANT).assign(run="constant")]
    )
    with pytest.raises(losscast.BadInput, match="several runs in one frame"):
        losscast.fit(two_runs, schedule=COSINE_SPEC)  # forgot by="run"
    no_loss = pd.DataFrame({"step": [1, 2, 3], "accuracy": [0.1, 0.2, 0.3]})
    with pytest.raises(losscast.BadInput, match="<pandas DataFrame>"):
        losscast.fit(no_loss, schedule=COSINE_SPEC)
    with pytest.raises(losscast.BadInput, match="not a fit record|expected"):
        p = tmp_path / "x.json"
        p.write_text("{}")
        losscast.load_fit(p)
    with pytest.raises(losscast.BadInput, match="DataFrame"):
        losscast.fit(42)


def test_an_untrustworthy_fit_warns_and_returns():
    # One constant-LR run has no annealing: C cannot be identified, and the fit says so.
    with pytest.warns(losscast.UntrustworthyFit):
        f = losscast.fit(CONSTANT, schedule=CONSTANT_SPEC, no_intervals=True)
    assert not f.trustworthy and f.warnings
    assert "NOT trustworthy" in repr(f)


def test_repr_html_is_a_table_with_escaped_names():
    raw = pd.read_csv(COSINE)
    f = losscast.fit(raw, schedule=COSINE_SPEC, name="<b>run</b>", no_intervals=True)
    page = f._repr_html_()
    for p in ("L0", "alpha", "<table>"):
        assert p in page
    assert "&lt;b&gt;run&lt;/b&gt;" in page and "<b>run</b>" not in page


def test_plot_returns_axes_and_never_shows(tmp_path):
    import matplotlib.pyplot as plt

    f = losscast.fit(manifest=TISSUE, warmup_as_peak=True)
    ax = f.plot()
    assert ax.get_xlabel() == "step" and len(ax.lines) == 4  # 2 runs: points and curve each
    _, given = plt.subplots()
    assert f.plot(ax=given) is given
    ax.figure.savefig(tmp_path / "fit.png")
    assert (tmp_path / "fit.png").stat().st_size > 1000
    size = losscast.fit(pd.read_csv(CHINCHILLA), law="chinchilla", drop_top_loss=5)
    ax = size.plot()
    assert ax.get_xlabel() == "observed loss"
    loaded = losscast.load_fit(_saved(f, tmp_path))
    with pytest.raises(losscast.BadInput, match="no runs attached"):
        loaded.plot()
    assert loaded.plot(manifest=TISSUE).get_title().startswith("annealing")
    plt.close("all")


def _saved(f, tmp_path):
    p = tmp_path / "f.json"
    f.to_json(p)
    return p


def test_the_gil_is_released_during_a_fit():
    done = threading.Event()
    result = {}

    def work():
        t = time.perf_counter()
        result["fits"] = 0
        while time.perf_counter() - t < 0.6:  # fits until there is time enough to tell
            losscast.fit(manifest=MPL400, law="multipower", no_intervals=True)
            result["fits"] += 1
        result["seconds"] = time.perf_counter() - t
        done.set()

    worker = threading.Thread(target=work)
    worker.start()
    ticks = 0
    while not done.is_set():
        ticks += 1  # pure Python: runs only while the worker does not hold the GIL
        time.sleep(0.001)
    worker.join()
    # Without the release this loop would stall for the whole fit (a few ticks at most).
    assert ticks > 0.3 * result["seconds"] / 0.0011


def test_report_writes_one_page_with_the_fit_it_was_given(tmp_path):
    f = losscast.fit(manifest=TISSUE, warmup_as_peak=True)
    page = losscast.report(tmp_path / "tissue.html", manifest=TISSUE, fits=[f],
                           forecast="cosine:peak=2e-4,end=0,warmup=500,total=40000",
                           title="Tissue <reference>")
    text = open(page, encoding="utf-8").read()
    assert "<title>Tissue &lt;reference&gt;</title>" in text
    start = text.index('<script type="application/json" id="losscast-data">')
    data = json.loads(text[text.index(">", start) + 1 : text.index("</script>", start)])
    assert data["laws"][0]["record"] == f.record
    assert data["forecasts"][0]["by_law"][0]["predictions"][-1]["step"] == 40000
    # Provenance names the call that wrote the page, not the Python interpreter.
    assert data["command"].startswith("losscast report --manifest")
    with pytest.raises(losscast.BadInput, match="backtest"):
        losscast.report(tmp_path / "x.html", COSINE, schedule=COSINE_SPEC, backtest=True)
    assert not (tmp_path / "x.html").exists()


def test_console_script_is_the_cli(tmp_path):
    r = cli("--version")
    assert r.returncode == 0 and r.stdout.startswith("losscast ")
    r = cli("fit", "missing.csv", "--schedule", COSINE_SPEC)
    assert r.returncode == 2 and "missing.csv: file not found" in r.stderr
    r = cli("predict", "--law", "annealing", "--params", "L0=2.6,A=0.43,alpha=0.55,C=0.41",
            "--schedule", COSINE_SPEC, "--steps", "24000", "--json")
    assert r.returncode == 0
    assert json.loads(r.stdout)["predictions"][0]["step"] == 24000
