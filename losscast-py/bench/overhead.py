"""What a fit costs from Python beyond the same fit from the command line.

Times, over repeated runs (median, with the spread):
  engine  the command run in-process by the compiled module (`_native.call`), which is what
          the `losscast` binary does after it starts: parse, read, fit, write the fit file;
  python  `losscast.fit(...)`: the engine plus building the arguments, the temp folder, reading
          the record back and the Fit object;
  frame   `losscast.fit(df)` with the same log as a pandas frame (conversion included);
  cli     the `losscast` binary as a process (process start included), when --bin is given.

The Python overhead is also measured call by call, without the noise of two separate timings:
each `losscast.fit` minus the time spent inside the compiled call it made.

Run against a release build of the module:
    pip install ./losscast-py && python losscast-py/bench/overhead.py --bin target/release/losscast
"""

import argparse
import os
import statistics
import subprocess
import tempfile
import time

import pandas as pd

import losscast
from losscast import _native

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LOG = os.path.join(ROOT, "data/mpl/csv_400/cosine_24000.csv")
SPEC = "cosine:peak=3e-4,end=3e-5,warmup=2160,total=24000"


def timed(f, repeat):
    f()  # warm: page cache, thread pool
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        out.append(time.perf_counter() - t)
    return out


def show(name, xs):
    q = statistics.quantiles(xs, n=4)
    print(f"{name:8s} median {1e3 * statistics.median(xs):8.2f} ms   "
          f"IQR {1e3 * q[0]:.2f}–{1e3 * q[2]:.2f} ms   n={len(xs)}")
    return statistics.median(xs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--bin", help="a losscast binary to time as a process")
    ap.add_argument("--intervals", action="store_true", help="calibrate intervals (slower fits)")
    a = ap.parse_args()
    extra = [] if a.intervals else ["--no-intervals"]
    tmp = tempfile.mkdtemp()
    out = os.path.join(tmp, "fit.json")
    args = ["losscast", "fit", LOG, f"--schedule={SPEC}", *extra, f"--out={out}"]
    df = pd.read_csv(LOG)
    kw = {} if a.intervals else {"no_intervals": True}
    print(f"fit of {os.path.relpath(LOG, ROOT)} ({len(df)} points), annealing law, "
          f"{'with' if a.intervals else 'without'} interval calibration")
    engine = show("engine", timed(lambda: _native.call(args, [], []), a.repeat))
    python = show("python", timed(lambda: losscast.fit(LOG, schedule=SPEC, **kw), a.repeat))
    show("frame", timed(lambda: losscast.fit(df, schedule=SPEC, **kw), a.repeat))
    if a.bin:
        cmd = [a.bin, *args[1:]]
        show("cli", timed(lambda: subprocess.run(cmd, check=True, capture_output=True), a.repeat))
    print(f"Python overhead (python − engine medians): {1e3 * (python - engine):.2f} ms")
    # Exact: time inside the compiled call, subtracted from each whole call.
    from losscast import _api

    inside = []
    real_call = _api._native.call

    class Timed:
        def __getattr__(self, name):
            return getattr(_native, name)

        @staticmethod
        def call(*args):
            t = time.perf_counter()
            try:
                return real_call(*args)
            finally:
                inside.append(time.perf_counter() - t)

    _api._native = Timed()
    try:
        for label, data in (("path", LOG), ("frame", df)):
            over = []
            for _ in range(a.repeat):
                inside.clear()
                t = time.perf_counter()
                losscast.fit(data, schedule=SPEC, **kw)
                over.append(time.perf_counter() - t - sum(inside))
            show(f"over/{label}", over)
    finally:
        _api._native = _native


if __name__ == "__main__":
    main()
