"""`Fit.plot` with matplotlib: the curves and bands the CLI's `plot` draws, on the caller's
Axes, so a notebook can compose, restyle and save them. Never calls `show()`."""

from __future__ import annotations

import warnings
from typing import Any, Mapping

import numpy as np

from . import _frames, _native
from ._errors import BadInput, LosscastWarning
from ._sources import _source

# Okabe–Ito: distinguishable in colour-blind vision and in greyscale print.
_COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]


def plot_fit(fit: Any, ax: Any, data: Any, manifest: Any, source: Mapping[str, Any]) -> Any:
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5))
    if fit.is_size_law:
        return _parity(fit, ax, data, source)
    result = fit.evaluate(data, manifest=manifest, curves=True, **dict(source))
    for i, run in enumerate(result["runs"]):
        c = run["curve"]
        colour = _COLOURS[i % len(_COLOURS)]
        step = np.asarray(c["step"], dtype=float)
        test = run["role"] == "test"
        ax.plot(step, c["observed"], ".", ms=2, alpha=0.35, color=colour)
        ax.plot(
            step,
            c["predicted"],
            "--" if test else "-",
            lw=1.4,
            color=colour,
            label=f"{run['name']} ({run['role']}, PredE {100 * run['pred_e']:.2f} %)",
        )
        if test and "lo" in c:
            ax.fill_between(step, c["lo"], c["hi"], color=colour, alpha=0.15, lw=0)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    trust = "" if fit.trustworthy else " — NOT trustworthy"
    bands = " (bands: 90 % intervals on test runs)" if fit.has_intervals else ""
    ax.set_title(f"{fit.law}{bands}{trust}", fontsize=10)
    ax.legend(fontsize=7, frameon=False)
    return ax


def _parity(fit: Any, ax: Any, data: Any, source: Mapping[str, Any]) -> Any:
    if data is None:
        src = fit._source
        if src is None:
            raise BadInput("this size-law fit was loaded from a file: give data= (its table)")
    else:
        src = _source(data)
    path = src.label if src.label is not None else src.args[0]
    # The rows the fit read: its own column choices and filters, from the record.
    filters = fit.record["options"].get("table_filters") or {}
    opts = {k: source.get(f"{k}_col") for k in ("n", "d", "c")}
    cols = dict(
        _native.read_table(
            path,
            src.frames,
            opts["n"],
            opts["d"],
            opts["c"],
            source.get("loss"),
            list(filters.get("where", [])),
        )
    )
    table = {k: np.frombuffer(v, dtype="<f8") for k, v in cols.items()}
    keep = np.ones(len(table["loss"]), dtype=bool)
    if filters.get("min_n") is not None:
        keep &= table["n"] >= filters["min_n"]
    if filters.get("max_n") is not None:
        keep &= table["n"] <= filters["max_n"]
    drop = int(filters.get("drop_top_loss") or 0)
    if drop:
        keep[np.argsort(-np.where(keep, table["loss"], -np.inf))[:drop]] = False
    table = {k: v[keep] for k, v in table.items()}
    with warnings.catch_warnings():
        # The fit's own points: no forecast leaves its domain here.
        warnings.simplefilter("ignore", LosscastWarning)
        pred = fit.predict(n=table["n"], d=table["d"])
    predicted = np.asarray(pred["loss_pred"], dtype=float)
    observed = table["loss"]
    sizes = np.log10(table["n"])
    pts = ax.scatter(observed, predicted, c=sizes, s=14, cmap="viridis")
    lo, hi = float(min(observed.min(), predicted.min())), float(max(observed.max(), predicted.max()))
    ax.plot([lo, hi], [lo, hi], color="#555", lw=0.8)
    ax.set_xlabel("observed loss")
    ax.set_ylabel("predicted loss")
    ax.set_title(f"{fit.law}: predicted vs observed", fontsize=10)
    ax.figure.colorbar(pts, ax=ax, label="log10 N")
    return ax
