"""Where a command's runs come from, as its command line names them: a log path, a manifest, or
frames registered under a label (split into runs with ``by=``). Both the API (`_api`) and the
figures (`_plot`) turn their ``data=``/``manifest=`` arguments into a `_Source` here."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Mapping

from . import _frames
from ._errors import BadInput


@dataclass
class _Source:
    """Runs as a command line names them (a path, a manifest, or a registered frame label),
    the frames behind a label, and the frame type results come back in."""

    args: list[str]
    frames: list[Any] = field(default_factory=list)
    like: str = "pandas"
    manifest: bool = False
    label: str | None = None

    def as_manifest(self) -> list[str]:
        """The same runs as `--manifest X` (compare and backtest read manifests)."""
        if self.manifest:
            return self.args
        if self.label is not None:
            return ["--manifest", self.label]
        raise BadInput(
            "this command reads several runs: give manifest=PATH, or a frame of runs with by="
        )


def _per_run(value: Any, run: str, what: str) -> Any:
    if isinstance(value, Mapping):
        if run not in value:
            raise BadInput(f"{what}: no entry for run '{run}' (have {', '.join(map(str, value))})")
        return value[run]
    return value


def _source(
    data: Any = None,
    manifest: Any = None,
    *,
    schedule: Any = None,
    by: str | None = None,
    roles: Mapping[str, str] | None = None,
    params: Any = None,
    name: str | None = None,
) -> _Source:
    if data is not None and manifest is not None:
        raise BadInput("give data or manifest, not both")
    if manifest is not None:
        if schedule is not None:
            raise BadInput("schedule= is for one log or frame; a manifest gives each run's")
        kind = _frames.kind_of(manifest)
        if kind != "path":
            raise BadInput("manifest: expected the path of a TOML run manifest")
        return _Source(["--manifest", os.fspath(manifest)], manifest=True)
    if data is None:
        raise BadInput("give data (a log path, a DataFrame or a dict of arrays) or manifest=")
    kind = _frames.kind_of(data)
    if kind == "path":
        if by is not None or roles is not None or params is not None:
            raise BadInput("by=, roles= and params= split a frame into runs; a path is one log")
        if isinstance(schedule, Mapping):
            raise BadInput("schedule: one spec for one log (a dict of specs is for by=)")
        args = [os.fspath(data)]
        if schedule is not None:
            args.append(f"--schedule={schedule}")
        return _Source(args)
    label = _frames.LABELS[kind]
    parts = _frames.groups(data, kind, by) if by is not None else [(name or "run", data)]
    runs = []
    for run_name, part in parts:
        role = _per_run(roles, run_name, "roles") if roles is not None else None
        size = _per_run(params, run_name, "params") if params is not None else None
        cols = _frames.columns(part, kind)
        for key in ("role",):
            found = [c for c in cols if c[0] == key]
            if found and role is None and found[0][1] == "str":
                values = {v for v in found[0][2] if v is not None}
                if len(values) > 1:
                    raise BadInput(f"run '{run_name}': column 'role' holds {sorted(values)}")
                role = values.pop() if values else None
            cols = [c for c in cols if c[0] != key]
        spec = _per_run(schedule, run_name, "schedule") if schedule is not None else None
        runs.append(
            (run_name, cols, spec, role, float(size) if size is not None else None, None)
        )
    return _Source([label], [(label, runs)], like=kind if kind == "polars" else "pandas", label=label)
