"""losscast: fit scaling laws to training logs and forecast loss.

The same engine, options, defaults and fit files as the ``losscast`` command line, one import
away::

    import losscast
    f = losscast.fit("data/mpl/csv_400/cosine_24000.csv",
                     schedule="cosine:peak=3e-4,end=3e-5,warmup=2160,total=24000")
    f.params, f.trustworthy
    f.predict("cosine:peak=3e-4,end=3e-5,warmup=2160,total=72000", steps=[72000])
    f.plot()

Data may be a log path (every format ``losscast inspect`` reads), a pandas or polars DataFrame,
or a dict of numpy arrays. Results come back as the frame type that went in, pandas otherwise.
Bad input raises `BadInput`, a failed computation `FitFailed`, each with the CLI's message; an
untrustworthy fit warns (`UntrustworthyFit`) and is returned.
"""

from ._api import (
    Backtest,
    Comparison,
    Fit,
    backtest,
    compare,
    fit,
    inspect,
    load_fit,
    plan,
    read_log,
    report,
)
from ._errors import BadInput, FitFailed, LosscastWarning, UntrustworthyFit
from ._native import __version__

__all__ = [
    "BadInput",
    "Backtest",
    "Comparison",
    "Fit",
    "FitFailed",
    "LosscastWarning",
    "UntrustworthyFit",
    "__version__",
    "backtest",
    "compare",
    "fit",
    "inspect",
    "load_fit",
    "plan",
    "read_log",
    "report",
]
