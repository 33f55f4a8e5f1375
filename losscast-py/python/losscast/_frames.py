"""Data across the boundary: paths stay paths; pandas and polars frames and dicts of arrays
become typed columns (numpy buffers as bytes, text as lists) for the Rust side, which reads them
as it reads a Parquet file with the same columns. Results come back in the caller's frame type.
"""

from __future__ import annotations

import os
from typing import Any, Mapping, Sequence

import numpy as np

#: (name, kind, payload): kind "f64"/"i64" with little-endian bytes, or "str" with a list.
Column = tuple[str, str, Any]


def kind_of(data: Any) -> str:
    """"path", "pandas", "polars" or "dict"; anything else is refused."""
    if isinstance(data, (str, os.PathLike)):
        return "path"
    module = type(data).__module__.split(".")[0]
    if module == "pandas" and hasattr(data, "columns"):
        return "pandas"
    if module == "polars" and hasattr(data, "columns"):
        return "polars"
    if isinstance(data, Mapping):
        return "dict"
    from ._errors import BadInput

    raise BadInput(
        f"data: expected a path, a pandas or polars DataFrame, or a dict of arrays; got "
        f"{type(data).__name__}"
    )


LABELS = {"pandas": "<pandas DataFrame>", "polars": "<polars DataFrame>", "dict": "<dict of arrays>"}


def _numeric(name: str, values: np.ndarray) -> Column:
    if values.dtype.kind in "iu" and values.dtype.itemsize <= 8:
        return (name, "i64", np.ascontiguousarray(values, dtype="<i8").tobytes())
    if values.dtype.kind == "b":
        return (name, "i64", np.ascontiguousarray(values, dtype="<i8").tobytes())
    return (name, "f64", np.ascontiguousarray(values, dtype="<f8").tobytes())


def _text(values: Sequence[Any]) -> list[str | None]:
    out: list[str | None] = []
    for v in values:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            out.append(None)
        else:
            out.append(str(v))
    return out


def columns(data: Any, kind: str) -> list[Column]:
    """The frame's columns, each as numbers (one buffer copy) or as text."""
    out: list[Column] = []
    if kind == "pandas":
        import pandas as pd

        for name in data.columns:
            s = data[name]
            if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
                if s.isna().any():
                    out.append(_numeric(str(name), s.to_numpy(dtype="float64", na_value=np.nan)))
                else:
                    out.append(_numeric(str(name), s.to_numpy()))
            else:
                out.append((str(name), "str", _text(s.tolist())))
        return out
    if kind == "polars":
        for name in data.columns:
            s = data[name]
            if s.dtype.is_numeric() or str(s.dtype) == "Boolean":
                if s.null_count() > 0:
                    out.append(_numeric(name, s.cast(float).fill_null(float("nan")).to_numpy()))
                else:
                    out.append(_numeric(name, s.to_numpy()))
            else:
                out.append((name, "str", _text(s.cast(str).to_list())))
        return out
    for name, values in data.items():
        arr = np.asarray(values)
        if arr.ndim != 1:
            from ._errors import BadInput

            raise BadInput(f"data['{name}']: expected a 1-d array, got shape {arr.shape}")
        if arr.dtype.kind in "iufb":
            out.append(_numeric(str(name), arr))
        else:
            out.append((str(name), "str", _text(arr.tolist())))
    return out


def groups(data: Any, kind: str, by: str) -> list[tuple[str, Any]]:
    """The runs of a long frame, split by the `by` column, in order of first appearance."""
    from ._errors import BadInput

    names = list(data.columns) if kind != "dict" else list(data.keys())
    if by not in names:
        raise BadInput(f"by='{by}': no such column; columns are: {', '.join(map(str, names))}")
    if kind == "pandas":
        return [(str(k), g.drop(columns=[by])) for k, g in data.groupby(by, sort=False)]
    if kind == "polars":
        return [
            (str(g[by][0]), g.drop(by)) for g in data.partition_by(by, maintain_order=True)
        ]
    keys = np.asarray(data[by])
    out = []
    for k in dict.fromkeys(keys.tolist()):
        mask = keys == k
        out.append((str(k), {n: np.asarray(v)[mask] for n, v in data.items() if n != by}))
    return out


def make_frame(cols: Mapping[str, Any], like: str) -> Any:
    """A frame of these columns in the caller's type: polars for polars input, else pandas."""
    if like == "polars":
        import polars as pl

        return pl.DataFrame({k: (list(v) if isinstance(v, list) else v) for k, v in cols.items()})
    import pandas as pd

    return pd.DataFrame(dict(cols))


def records_frame(rows: list[dict[str, Any]], like: str, columns: Sequence[str] | None = None) -> Any:
    """A frame from a list of JSON objects (one per row)."""
    keys: list[str] = list(columns) if columns else []
    if not keys:
        for r in rows:
            for k in r:
                if k not in keys:
                    keys.append(k)
    return make_frame({k: [r.get(k) for r in rows] for k in keys}, like)
