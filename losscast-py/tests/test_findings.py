"""Regression tests for the careless-user findings of issue 25 that concern the Python API,
each named by its finding ID. Both wrote over a user's file on 948aa84."""

import shutil

import pytest

import losscast
from conftest import COSINE, COSINE_SPEC, MPL400


def test_g02_to_json_refuses_the_log_the_fit_was_made_from(tmp_path):
    log = tmp_path / "good.csv"
    shutil.copy(COSINE, log)
    before = log.read_bytes()
    f = losscast.fit(str(log), schedule=COSINE_SPEC, no_intervals=True)
    with pytest.raises(losscast.BadInput, match="is also an input"):
        f.to_json(log)
    assert log.read_bytes() == before
    # A fresh path is written, and loads back.
    out = tmp_path / "good.json"
    f.to_json(out)
    assert losscast.load_fit(out).params == f.params


def test_g01_report_plan_cannot_write_over_the_manifest_or_the_page(tmp_path):
    manifest = tmp_path / "m.toml"
    text = open(MPL400, encoding="utf-8").read()
    # The manifest's run paths are relative to it: point them at the bundled data.
    data = MPL400.rsplit("/", 1)[0]
    manifest.write_text(text.replace('path = "', f'path = "{data}/'), encoding="utf-8")
    before = manifest.read_bytes()
    page = tmp_path / "r.html"
    for target in (manifest, page):
        plan = f"--total 24000 --peak 3e-4 --warmup 2160 --free --free-out {target}"
        with pytest.raises(losscast.BadInput, match="--free-out"):
            losscast.report(page, manifest=str(manifest), laws="annealing", plan=plan)
    assert manifest.read_bytes() == before
    assert not page.exists()


def test_g22_text_steps_in_a_frame_are_named_as_text():
    import pandas as pd

    frame = pd.DataFrame({"step": ["a", "b", "c"], "loss": [3.0, 2.9, 2.8], "lr": [3e-4] * 3})
    with pytest.raises(losscast.BadInput, match=r"a \(text\) is not a whole step number"):
        losscast.fit(frame, schedule=COSINE_SPEC)
