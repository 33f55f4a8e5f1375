"""examples/quickstart.py runs end to end on the bundled data and writes what it says."""

import json
import os
import subprocess
import sys

from conftest import ROOT


def test_quickstart_runs_and_writes_its_fit_and_figures(tmp_path):
    r = subprocess.run(
        [sys.executable, os.path.join(ROOT, "examples", "quickstart.py"), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )
    assert r.returncode == 0, r.stderr
    for section in range(1, 9):
        assert f"== {section}." in r.stdout
    rec = json.loads((tmp_path / "quickstart-mpl400-annealing.json").read_text())
    assert rec["law"] == "annealing" and rec["trustworthy"]
    for png in ("quickstart-mpl400-annealing.png", "quickstart-chinchilla.png"):
        data = (tmp_path / png).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000, png
    # Step 5 found the annealing law the better forecaster on PredE, as laws.md §2's tables do.
    assert "best PredE: annealing" in r.stdout
