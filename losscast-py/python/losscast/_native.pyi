"""Types of the compiled module (losscast-py/src/lib.rs). The public API is typed in _api.py."""

from typing import Any, Sequence

__version__: str

class BadInput(ValueError): ...
class FitFailed(RuntimeError): ...

# (name, kind, payload): kind "f64"/"i64" with little-endian bytes, or "str" with a list.
_Column = tuple[str, str, Any]
# (name, columns, schedule, role, params, tokens_per_step)
_FrameRun = tuple[str, Sequence[_Column], str | None, str | None, float | None, float | None]

def call(
    args: Sequence[str],
    frames: Sequence[tuple[str, Sequence[_FrameRun]]] = ...,
    fits: Sequence[tuple[str, str]] = ...,
) -> tuple[int, str, str]: ...
def main(argv: Sequence[str]) -> int: ...
def read_log(
    path: str,
    loss: str | None = None,
    lr: str | None = None,
    select: str | None = None,
    step: str | None = None,
    lr_shift: int = 0,
) -> tuple[list[tuple[str, str, bytes]], str]: ...
def read_table(
    path: str,
    frames: Sequence[tuple[str, Sequence[_FrameRun]]] = ...,
    n: str | None = None,
    d: str | None = None,
    c: str | None = None,
    loss: str | None = None,
    rows_where: Sequence[str] = ...,
) -> list[tuple[str, bytes]]: ...
def load_fit(path: str) -> str: ...
def write_fit(path: str, text: str) -> None: ...
