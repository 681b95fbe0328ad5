"""The findings written for machines: streamed JSON and the Parquet table (issue 16).

A messy synthetic practice (most lines carry random modifiers, diagnoses and units) gives more
findings than lines; the JSON is written a slice at a time and must say the same as the whole
document built in memory; the Parquet table must hold the same findings.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from auditkit import pipeline
from auditkit.synth import generate, write_flavour


@pytest.fixture(scope="module")
def messy_job(tmp_path_factory: pytest.TempPathFactory) -> pipeline.Job:
    folder = tmp_path_factory.mktemp("messy")
    path = folder / "messy.csv"
    write_flavour(generate(1500, seed=3, messy=True), "medirev", path)
    return pipeline.audit([path])


def _strict(text: str) -> dict:
    def refuse(name: str) -> None:
        raise AssertionError(f"not JSON: {name}")

    return json.loads(text, parse_constant=refuse)


def test_streamed_json_says_what_the_whole_document_says(
    messy_job: pipeline.Job, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert len(messy_job.result.found) > 1500  # more findings than lines
    whole = pipeline.to_json(messy_job)
    monkeypatch.setattr(pipeline, "JSON_SLICE_ROWS", 97)  # many slices, one partly filled
    path = pipeline.write_json(messy_job, tmp_path / "out.json")
    written = _strict(path.read_text(encoding="utf-8"))
    assert written == whole
    assert list(written)[-2:] == ["findings", "worklist"]
    assert len(written["findings"]) == len(messy_job.result.found)
    assert len(written["worklist"]) == len(messy_job.result.worklist) > 97  # several slices
    first = written["findings"][0]
    assert list(first) == list(pipeline.FINDING_KEYS)
    assert isinstance(first["covers"], list) and isinstance(first["evidence"], dict)


def test_each_finding_is_one_line_of_the_file(messy_job: pipeline.Job, tmp_path: Path) -> None:
    text = pipeline.write_json(messy_job, tmp_path / "out.json").read_text(encoding="utf-8")
    body = text[text.index('"findings": [') : text.index('"worklist": [')].splitlines()[1:-2]
    assert len(body) == len(messy_job.result.found)
    items = text[text.index('"worklist": [') :].splitlines()[1:-2]
    assert len(items) == len(messy_job.result.worklist)
    assert json.loads(items[0].rstrip(","))["rank"] == 1
    assert json.loads(body[0].rstrip(","))["audit"]


def test_json_without_findings_is_still_json(tmp_path: Path) -> None:
    path = tmp_path / "tiny.csv"
    write_flavour(generate(40, seed=1, plant=False), "medirev", path)
    job = pipeline.audit([path], select=["auth-mismatch"])  # skipped: no authorizations given
    assert len(job.result.found) == 0
    text = pipeline.write_json(job, tmp_path / "tiny.json").read_text(encoding="utf-8")
    out = _strict(text)
    assert out["findings"] == []
    assert out["audits"][0]["status"] == "skipped"


def test_parquet_holds_the_same_findings(messy_job: pipeline.Job, tmp_path: Path) -> None:
    whole = pipeline.to_json(messy_job)["findings"]
    table = pq.read_table(pipeline.write_findings_parquet(messy_job, tmp_path / "f.parquet"))
    assert table.column_names == list(pipeline.FINDING_KEYS)
    assert table.num_rows == len(whole)
    rows = table.to_pylist()
    for mine, theirs in zip(rows, whole, strict=True):
        mine["evidence"] = json.loads(mine["evidence"])
        assert mine == theirs


def test_cli_writes_the_parquet_table_alone(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    write_flavour(generate(300, seed=2, messy=True), "medirev", path)
    target = tmp_path / "f.parquet"
    done = subprocess.run(
        [sys.executable, "-m", "auditkit", "audit", str(path), "--findings-parquet", str(target)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert pq.read_table(target).num_rows > 0
    nothing = subprocess.run(
        [sys.executable, "-m", "auditkit", "audit", str(path)], capture_output=True, text=True
    )
    assert nothing.returncode == 2
    assert "--findings-parquet" in nothing.stderr
