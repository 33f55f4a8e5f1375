"""The Python API: thin wrappers that build a losscast command line from keyword arguments, run
it in-process through the compiled module (the same parser, defaults, checks and messages as the
`losscast` binary), and turn its JSON into frames and `Fit` objects.

Keyword arguments map to the CLI's long options: ``max_points=0`` is ``--max-points 0``,
``no_intervals=True`` is ``--no-intervals``, ``fix={"E": 1.69}`` is ``--fix E=1.69``, and
``lambda_`` is ``--lambda``. An option the command does not have raises `BadInput`, as the CLI
refuses it.
"""

from __future__ import annotations

import html
import json
import os
import tempfile
import warnings
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from . import _frames, _native
from ._errors import BadInput, FitFailed, LosscastWarning, UntrustworthyFit
from ._sources import _Source, _source

#: The label a Fit's record is registered under when a command reads it (`--fit <fit>`).
_FIT_LABEL = "<fit>"
#: Options the CLI takes once per value (`--grid A --grid B`), not as a comma list.
_REPEATED = {"grid"}


# --- running commands ---------------------------------------------------------------------


def _flag_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return repr(float(v))
    if isinstance(v, os.PathLike):
        return os.fspath(v)
    return str(v)


def _flags(options: Mapping[str, Any]) -> list[str]:
    """CLI long options from keyword arguments; None and False are left out."""
    out: list[str] = []
    for key, v in options.items():
        if v is None or v is False:
            continue
        flag = "--" + key.rstrip("_").replace("_", "-")
        if v is True:
            out.append(flag)
        elif isinstance(v, Mapping):
            out.append(f"{flag}=" + ",".join(f"{k}={_flag_value(x)}" for k, x in v.items()))
        elif isinstance(v, (list, tuple, np.ndarray)):
            if key in _REPEATED:
                out.extend(f"{flag}={_flag_value(x)}" for x in v)
            else:
                out.append(f"{flag}=" + ",".join(_flag_value(x) for x in v))
        else:
            out.append(f"{flag}={_flag_value(v)}")
    return out


def _error_message(stderr: str) -> str:
    marker = "losscast: error: "
    i = stderr.find(marker)
    text = stderr[i + len(marker) :] if i >= 0 else stderr
    # clap adds a usage line and tips after a blank line; the message is the first paragraph.
    text = text.split("\n\n")[0].strip()
    if "unexpected argument '--" in text:
        flag = text.split("unexpected argument '--", 1)[1].split("'", 1)[0]
        text += f" (keyword argument {flag.replace('-', '_')}= is not an option of this command)"
    return text or "losscast failed"


def _forward_warnings(stderr: str) -> None:
    for line in stderr.splitlines():
        for prefix in ("losscast: warning: ", "note: "):
            if line.startswith(prefix):
                warnings.warn(line[len(prefix) :], LosscastWarning, stacklevel=4)


def _run(
    args: Sequence[str],
    frames: Sequence[Any] = (),
    fits: Sequence[tuple[str, str]] = (),
) -> str:
    """Run `losscast <args>`; stdout on success, else BadInput (exit 2) or FitFailed."""
    code, stdout, stderr = _native.call(["losscast", *args], list(frames), list(fits))
    _forward_warnings(stderr)
    if code == 0:
        return stdout
    if code == 2:
        raise BadInput(_error_message(stderr))
    raise FitFailed(_error_message(stderr))


# --- reading ----------------------------------------------------------------------------


def read_log(
    path: str | os.PathLike,
    loss: str | None = None,
    lr: str | None = None,
    select: str | None = None,
    *,
    step: str | None = None,
    lr_shift: int = 0,
    frame: str = "pandas",
) -> Any:
    """Read a training log, in any format `inspect` knows, as losscast sees it.

    Returns a frame with ``step``, ``loss`` and, where the log has them, ``lr`` and ``tokens``
    (NaN where a row has no LR). ``frame="polars"`` returns a polars frame.

    >>> df = losscast.read_log("data/mpl/csv_400/cosine_24000.csv")   # doctest: +SKIP
    >>> df.columns.tolist()                                           # doctest: +SKIP
    ['step', 'loss', 'lr']
    """
    cols, meta = _native.read_log(
        os.fspath(path), loss=loss, lr=lr, select=select, step=step, lr_shift=lr_shift
    )
    info = json.loads(meta)
    for w in info["warnings"]:
        warnings.warn(f"{info['path']}: {w}", LosscastWarning, stacklevel=2)
    arrays = {
        name: np.frombuffer(payload, dtype="<i8" if kind == "i64" else "<f8").copy()
        for name, kind, payload in cols
    }
    out = _frames.make_frame(arrays, frame)
    if frame != "polars":
        out.attrs["losscast"] = info
    return out


def inspect(path: str | os.PathLike) -> dict[str, Any]:
    """What losscast finds in a log or folder: format, runs with their series, LR coverage,
    tokens per step, and whether a fit would read it (one input of ``losscast inspect
    --json``).

    >>> losscast.inspect("data/logs/llmc/SiddanthEmani_GPT-2-124M-CUDA__log124M_main.log")["format"]  # doctest: +SKIP
    'llmc_main_log'
    """
    return json.loads(_run(["inspect", os.fspath(path), "--json"]))["inputs"][0]


def load_fit(path: str | os.PathLike) -> "Fit":
    """A fit file written by ``losscast fit`` or `Fit.to_json`.

    >>> f = losscast.load_fit("fits/demo-mpl400-annealing.json")   # doctest: +SKIP
    """
    return Fit(_native.load_fit(os.fspath(path)))


# --- fitting ----------------------------------------------------------------------------


def fit(
    data: Any = None,
    *,
    law: str = "annealing",
    schedule: str | Mapping[str, str] | None = None,
    manifest: str | os.PathLike | None = None,
    by: str | None = None,
    roles: Mapping[str, str] | None = None,
    params: float | Mapping[str, float] | None = None,
    name: str | None = None,
    loss: str | None = None,
    lr: str | None = None,
    select: str | None = None,
    step: str | None = None,
    **options: Any,
) -> "Fit":
    """Fit a law, as ``losscast fit`` does, and return the fit.

    ``data`` is a log path (any format), a pandas or polars DataFrame, or a dict of arrays
    (columns ``step``, ``loss``, optionally ``lr``; for size laws ``N``, ``D``, ``loss``), or
    give ``manifest=``. ``schedule`` is a spec (``cosine:peak=3e-4,...``); without it the LR
    column is used. A frame holding several runs is split with ``by="run"``; then
    ``schedule``, ``roles`` and ``params`` may be dicts by run. Other keywords are the CLI's
    options (``max_points=0``, ``no_intervals=True``, ``fix={"E": 1.69}``, ``bootstrap=200``).

    An untrustworthy fit warns (`UntrustworthyFit`) and is returned; bad input raises
    `BadInput`, a failed fit `FitFailed`.

    >>> f = losscast.fit("data/mpl/csv_400/cosine_24000.csv",
    ...                  schedule="cosine:peak=3e-4,end=3e-5,warmup=2160,total=24000")  # doctest: +SKIP
    >>> sorted(f.params)                                                                 # doctest: +SKIP
    ['A', 'C', 'L0', 'alpha']
    """
    src = _source(data, manifest, schedule=schedule, by=by, roles=roles, params=params, name=name)
    # The read options travel with the source, so evaluate() and plot() read the runs alike.
    read = _flags({"loss": loss, "lr": lr, "select": select, "step_col": step})
    src = _Source(src.args + read, src.frames, src.like, src.manifest, src.label)
    out = options.pop("out", None)
    options.pop("json", None)
    with tempfile.TemporaryDirectory(prefix="losscast-") as tmp:
        path = os.fspath(out) if out is not None else os.path.join(tmp, "fit.json")
        summary = _run(
            ["fit", *src.args, f"--law={law}", *_flags(options), f"--out={path}"],
            src.frames,
        )
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    result = Fit(text, summary=summary, source=src)
    if not result.trustworthy:
        warnings.warn(
            f"the {result.law} fit is not trustworthy: "
            + ("; ".join(result.warnings) or "see Fit.record"),
            UntrustworthyFit,
            stacklevel=2,
        )
    return result


def _steps_value(steps: Any) -> str | None:
    if steps is None or isinstance(steps, str):
        return steps
    return ",".join(str(int(s)) for s in np.asarray(steps).ravel())


def _num(x: Any, digits: int = 5) -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:.{digits}g}"
    return html.escape(str(x))


class Fit:
    """A fitted law: its record (the fit file, as a dict) and the readers of it.

    The record is byte for byte the file ``losscast fit --out`` writes; `to_json` writes it and
    `load_fit` reads it back, so notebook and CLI fits interchange.
    """

    def __init__(self, text: str, *, summary: str | None = None, source: _Source | None = None):
        self._text = text
        self.record: dict[str, Any] = json.loads(text)
        #: The CLI's summary of the fit, when it was made in this session.
        self.summary = summary
        self._source = source

    # what the record says
    @property
    def law(self) -> str:
        return self.record["law"]

    @property
    def params(self) -> dict[str, float]:
        return dict(self.record["params"])

    @property
    def trustworthy(self) -> bool:
        return bool(self.record["trustworthy"])

    @property
    def warnings(self) -> list[str]:
        return list(self.record["warnings"])

    @property
    def has_intervals(self) -> bool:
        return self.record.get("calibration") is not None

    @property
    def is_size_law(self) -> bool:
        return "table_domain" in self.record

    def _like(self) -> str:
        return self._source.like if self._source is not None else "pandas"

    @property
    def metrics(self) -> Any:
        """Per-run metrics of the fit (R², MAE, RMSE, PredE, WorstE), as a frame.

        >>> f.metrics[["name", "pred_e"]]   # doctest: +SKIP
        """
        rows = self.record["metrics"]["runs"]
        return _frames.records_frame(rows, self._like())

    def to_json(self, path: str | os.PathLike) -> None:
        """Write the fit file (the same bytes as ``losscast fit --out``), atomically: a temp
        file beside it, then a rename, so a crash never leaves half a record. The checks are
        ``fit --out``'s: a path that is one of the logs this fit was made from, a folder or an
        unwritable place raises `BadInput` and writes nothing.

        >>> f.to_json("fits/cosine.json")   # then: losscast predict --fit fits/cosine.json ...  # doctest: +SKIP
        """
        _native.write_fit(os.fspath(path), self._text)

    def _fits(self) -> list[tuple[str, str]]:
        return [(_FIT_LABEL, self._text)]

    # forecasts
    def predict(
        self,
        schedule: str | None = None,
        steps: str | Iterable[int] | None = None,
        *,
        n: float | Sequence[float] | None = None,
        d: float | Sequence[float] | None = None,
        size: float | None = None,
        level: float = 0.9,
    ) -> Any:
        """Forecast a schedule's loss at ``steps`` (a list, or ``"1000:24000:1000"``; default
        every 100th step after warmup), or, for a size law, the loss at model sizes ``n`` and
        tokens ``d``. ``size`` is the model size N of a joint law's forecast. Returns a frame
        with ``lo``/``hi`` (the ``level`` interval) where the fit has a calibration.

        >>> f.predict("cosine:peak=3e-4,end=3e-5,warmup=2160,total=72000", steps=[72000])  # doctest: +SKIP
        """
        opts: dict[str, Any] = {
            "schedule": schedule,
            "steps": _steps_value(steps),
            "n": None if n is None else list(np.atleast_1d(n)),
            "d": None if d is None else list(np.atleast_1d(d)),
            "params": size,
            "level": level,
        }
        out = json.loads(
            _run(["predict", f"--fit={_FIT_LABEL}", *_flags(opts), "--json"], fits=self._fits())
        )
        rows = out["predictions"]
        if self.is_size_law:
            cols = ["n", "d", "loss_pred", "lo", "hi"]
        else:
            cols = ["step", "lr", "loss_pred", "lo", "hi"]
        if not any(r.get("lo") is not None for r in rows):
            cols = cols[:-2]
        return _frames.records_frame(rows, self._like(), cols)

    def optimal(self, compute: float | Sequence[float]) -> Any:
        """Compute-optimal model size and tokens for each compute budget (FLOP, C = 6ND), from a
        chinchilla-style fit: a frame with ``compute``, ``n_opt``, ``d_opt``,
        ``tokens_per_param`` and ``loss_pred``.

        >>> f.optimal(compute=[1e21, 1e22])   # doctest: +SKIP
        """
        rows = []
        for c in np.atleast_1d(compute):
            out = json.loads(
                _run(
                    ["optimal", f"--fit={_FIT_LABEL}", f"--compute={_flag_value(float(c))}", "--json"],
                    fits=self._fits(),
                )
            )
            row: dict[str, Any] = {}
            for k, v in out.items():
                if k in ("warnings", "fit_trustworthy"):
                    continue
                if isinstance(v, Mapping):  # bootstrap intervals: {"n_opt": [lo, hi], ...}
                    for name, iv in v.items():
                        row[f"{name}_lo"], row[f"{name}_hi"] = iv[0], iv[1]
                else:
                    row[k] = v
            rows.append(row)
        return _frames.records_frame(rows, self._like())

    def evaluate(
        self,
        data: Any = None,
        *,
        manifest: Any = None,
        curves: bool = False,
        **source: Any,
    ) -> dict[str, Any]:
        """Score the fit on runs (``losscast eval --json``): per-run metrics, fit and test means,
        interval coverage on test runs. Without data, the runs it was fitted on. ``curves=True``
        adds each run's steps, observed and predicted loss (and lo/hi).

        >>> f.evaluate(manifest="data/mpl400.toml")["test_mean"]   # doctest: +SKIP
        """
        src = self._runs(data, manifest, source)
        return json.loads(
            _run(
                ["eval", f"--fit={_FIT_LABEL}", *src.args, "--json", *(["--curves"] if curves else [])],
                src.frames,
                self._fits(),
            )
        )

    def _runs(self, data: Any, manifest: Any, source: dict[str, Any]) -> _Source:
        read = {k: source.pop(k, None) for k in ("loss", "lr", "select")}
        if data is None and manifest is None:
            if self._source is None:
                raise BadInput(
                    "this fit was loaded from a file and has no runs attached: give data= or "
                    "manifest="
                )
            src = self._source
        else:
            src = _source(data, manifest, **source)
        extra = _flags({"loss": read["loss"], "lr": read["lr"], "select": read["select"]})
        return _Source(src.args + extra, src.frames, src.like, src.manifest, src.label)

    def plan(self, total: int, peak: float, **options: Any) -> Any:
        """Rank LR schedules by predicted final loss (``losscast plan``); see `losscast.plan`.

        >>> f.plan(total=24000, peak=3e-4, warmup=2160, families=["wsd", "cosine"]).head()  # doctest: +SKIP
        """
        return plan(self, total=total, peak=peak, **options)

    def plot(self, ax: Any = None, data: Any = None, *, manifest: Any = None, **source: Any) -> Any:
        """Observed against predicted curves on matplotlib Axes (created if not given), with
        the interval bands of the test runs' forecasts; for a size law, predicted against
        observed loss. Never calls ``show()``. Returns the Axes.

        >>> ax = f.plot()   # doctest: +SKIP
        """
        from ._plot import plot_fit

        return plot_fit(self, ax, data, manifest, source)

    # display
    def __repr__(self) -> str:
        ps = ", ".join(f"{k}={v:.6g}" for k, v in self.params.items())
        flag = "" if self.trustworthy else ", NOT trustworthy"
        return f"<losscast.Fit {self.law}: {ps}{flag}>"

    def _repr_html_(self) -> str:
        rec = self.record
        rel = rec.get("relative_errors", {})
        rows = "".join(
            f"<tr><td>{html.escape(k)}</td><td>{_num(v, 6)}</td>"
            f"<td>{_num(rel.get(k) * 100 if rel.get(k) is not None else None, 3)}</td></tr>"
            for k, v in rec["params"].items()
        )
        trust = (
            "<span style='color:#1a7f37'>trustworthy</span>"
            if self.trustworthy
            else "<b style='color:#b00'>not trustworthy</b>"
        )
        warn = "".join(f"<li>{html.escape(w)}</li>" for w in rec["warnings"])
        m = rec["metrics"]["fit_mean"] or {}
        metric_rows = "".join(
            f"<tr><td>{html.escape(k)}</td><td>{_num(v)}</td></tr>" for k, v in m.items()
        )
        runs = "".join(
            f"<tr><td>{html.escape(r['name'])}</td><td>{html.escape(str(r['role']))}</td>"
            f"<td>{r['points']}</td><td>{_num(r.get('r2'))}</td><td>{_num(r.get('pred_e'))}</td></tr>"
            for r in rec["metrics"]["runs"]
        )
        return (
            f"<div><b>losscast fit: {html.escape(self.law)}</b> — {trust}; objective "
            f"{_num(rec['objective'])}, converged {rec['converged']}, "
            f"{_num(100 * rec['starts_at_best'], 3)} % of {rec['starts']} starts at the best "
            f"optimum{'; intervals calibrated' if self.has_intervals else ''}"
            f"{'<ul>' + warn + '</ul>' if warn else ''}"
            "<table><tr><th>parameter</th><th>value</th><th>rel. s.e. (%)</th></tr>"
            f"{rows}</table>"
            "<table><tr><th>fit mean</th><th></th></tr>"
            f"{metric_rows}</table>"
            "<table><tr><th>run</th><th>role</th><th>points</th><th>R²</th><th>PredE</th></tr>"
            f"{runs}</table></div>"
        )


# --- studies over several runs -----------------------------------------------------------


def _table_html(t: Any) -> str:
    """A frame as notebooks show it (pandas and polars both render HTML)."""
    return t._repr_html_() if hasattr(t, "_repr_html_") else html.escape(str(t))


@dataclass
class Comparison:
    """``losscast compare``: every law fitted on the fit runs and scored on the test runs."""

    table: Any
    best: dict[str, str]
    fits: dict[str, Fit]
    raw: dict[str, Any]

    def _repr_html_(self) -> str:
        return _table_html(self.table)


def compare(
    data: Any = None,
    *,
    manifest: Any = None,
    laws: Sequence[str] | str = ("annealing", "multipower"),
    by: str | None = None,
    schedule: Any = None,
    roles: Mapping[str, str] | None = None,
    params: Any = None,
    **options: Any,
) -> Comparison:
    """Fit several laws on the fit runs and compare them on the test runs (``losscast
    compare``). Runs come from ``manifest=`` or a frame split ``by=`` a run column, with
    ``roles`` (or a ``role`` column) marking the test runs.

    >>> c = losscast.compare(manifest="data/mpl400.toml")   # doctest: +SKIP
    >>> c.best["pred_e"]                                    # doctest: +SKIP
    'annealing'
    """
    src = _source(data, manifest, schedule=schedule, by=by, roles=roles, params=params)
    laws_list = [laws] if isinstance(laws, str) else list(laws)
    with tempfile.TemporaryDirectory(prefix="losscast-") as tmp:
        out = json.loads(
            _run(
                ["compare", *src.as_manifest(), *_flags({"laws": laws_list, **options}),
                 f"--out-dir={tmp}", "--json"],
                src.frames,
            )
        )
        fits = {}
        for law in laws_list:
            found = [f for f in os.listdir(tmp) if f.endswith(f"-{law}.json")]
            if found:
                with open(os.path.join(tmp, found[0]), encoding="utf-8") as fh:
                    fits[law] = Fit(fh.read(), source=src)
    rows = []
    for r in out["rows"]:
        row = {k: v for k, v in r.items() if k not in ("record", "test", "warnings")}
        row.update({f"test_{k}": v for k, v in (r.get("test") or {}).items()})
        rows.append(row)
    return Comparison(_frames.records_frame(rows, src.like), out.get("best", {}), fits, out)


@dataclass
class Backtest:
    """``losscast backtest``: held-out forecasts of every law on your own runs. ``table`` has
    one row per task and law (mean PredE, worst error, final-point error, the best marked),
    ``folds`` one per fold, ``coverage`` the forecast intervals' coverage per task."""

    table: Any
    folds: Any
    coverage: Any
    best: str | None
    raw: dict[str, Any]

    def _repr_html_(self) -> str:
        return _table_html(self.table)


def backtest(
    data: Any = None,
    *,
    manifest: Any = None,
    laws: Sequence[str] | str | None = None,
    task: Sequence[str] | str | None = None,
    by: str | None = None,
    schedule: Any = None,
    roles: Mapping[str, str] | None = None,
    params: Any = None,
    **options: Any,
) -> Backtest:
    """Hide a schedule, the longer horizons, the second half of a run or the larger models; fit
    the rest and score every law on what was hidden (``losscast backtest --json``).

    >>> bt = losscast.backtest(manifest="data/mpl400.toml", task="truncate")   # doctest: +SKIP
    """
    src = _source(data, manifest, schedule=schedule, by=by, roles=roles, params=params)
    if isinstance(laws, str):
        laws = [laws]
    if isinstance(task, str):
        task = [task]
    out = json.loads(
        _run(
            ["backtest", *src.as_manifest(), *_flags({"laws": laws, "task": task, **options}), "--json"],
            src.frames,
        )
    )
    table = _frames.records_frame(out["summary"], src.like)
    folds = _frames.records_frame(
        [{k: (", ".join(v) if isinstance(v, list) else v) for k, v in r.items()} for r in out["folds"]],
        src.like,
    )
    coverage = _frames.records_frame(out.get("calibration", []), src.like)
    return Backtest(table, folds, coverage, out.get("overall_best"), out)


def plan(fit: Fit | str | os.PathLike, *, total: int, peak: float, **options: Any) -> Any:
    """Rank LR schedules by the final loss a fit predicts, before the run (``losscast plan``):
    a frame of candidates, best first, with ``final_loss_pred``, ``lo``/``hi``,
    ``p_beats_best`` and the extrapolation flags. Options as the CLI: ``warmup``,
    ``families``, ``grid`` (a list for several), ``level``, ``seed``, ``free``...

    >>> losscast.plan(f, total=24000, peak=3e-4, warmup=2160, families=["wsd"])  # doctest: +SKIP
    """
    f = fit if isinstance(fit, Fit) else load_fit(fit)
    options.pop("json", None)
    out = json.loads(
        _run(
            ["plan", f"--fit={_FIT_LABEL}", f"--total={int(total)}", f"--peak={_flag_value(float(peak))}",
             *_flags(options), "--json"],
            fits=f._fits(),
        )
    )
    rows = [
        {k: (", ".join(v) if isinstance(v, list) else v) for k, v in c.items()}
        for c in out["candidates"]
    ]
    return _frames.records_frame(rows, f._like())


def report(
    out: str | os.PathLike,
    data: Any = None,
    *,
    manifest: Any = None,
    fits: Sequence["Fit | str | os.PathLike"] = (),
    laws: Sequence[str] | str | None = None,
    forecast: Sequence[str] | str | None = None,
    plan: str | None = None,
    backtest: bool = False,
    title: str | None = None,
    by: str | None = None,
    schedule: Any = None,
    roles: Mapping[str, str] | None = None,
    params: Any = None,
    **options: Any,
) -> str:
    """Write one self-contained HTML page of a study (``losscast report``): runs, fits,
    metrics, interactive charts, forecasts, plan, backtest and provenance; it opens offline.
    ``fits`` are `Fit` objects or fit files (default: fit each of ``laws``); ``plan`` is
    ``plan``'s arguments as one string. Returns the path written.

    >>> losscast.report("mpl400.html", manifest="data/mpl400.toml", fits=[f],
    ...                 forecast="cosine:peak=3e-4,end=3e-5,warmup=2160,total=72000")  # doctest: +SKIP
    """
    src = _source(data, manifest, schedule=schedule, by=by, roles=roles, params=params)
    if isinstance(laws, str):
        laws = [laws]
    if isinstance(forecast, str):
        forecast = [forecast]
    registered: list[tuple[str, str]] = []
    fit_args: list[str] = []
    for k, f in enumerate(fits):
        if isinstance(f, Fit):
            label = f"<fit {k}>"
            registered.append((label, f._text))
            fit_args.append(f"--fit={label}")
        else:
            fit_args.append(f"--fit={os.fspath(f)}")
    opts = {"laws": laws, "forecast": None, "plan": plan, "backtest": backtest, "title": title}
    extra = [f"--forecast={spec}" for spec in (forecast or [])]
    path = os.fspath(out)
    _run(["report", *src.args, *fit_args, *_flags(opts), *extra, *_flags(options), f"--out={path}"],
         src.frames, registered)
    return path
