"""The JSON written in a child process while the workbook is written (Linux): the same bytes
as one after the other, and all or nothing when either side fails."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from auditkit import beside, pipeline
from auditkit.errors import OutputError

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="writes in a child process only on Linux"
)

SAMPLE = Path(__file__).resolve().parents[2] / "sample_exports" / "medirev_charges.csv"
OLD_JSON = b'{"from": "last month"}\n'


@pytest.fixture(scope="module")
def job() -> pipeline.Job:
    return pipeline.audit([SAMPLE])


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_json_written_beside_the_workbook_is_the_same_as_written_alone(
    job, tmp_path, monkeypatch
) -> None:
    started = []
    real_start = pipeline.start_atomic_write

    def spy(target, write):
        started.append(Path(target).name)
        return real_start(target, write)

    monkeypatch.setattr(pipeline, "start_atomic_write", spy)
    paths = pipeline.write_outputs(job, json_path=tmp_path / "a.json", out=tmp_path / "a.xlsx")
    assert started == ["a.json"]  # the JSON did go to a child process
    assert [p.name for p in paths] == ["a.json", "a.xlsx"]
    monkeypatch.setenv(beside.ONE_PROCESS_ENV, "1")
    pipeline.write_outputs(job, json_path=tmp_path / "b.json", out=tmp_path / "b.xlsx")
    assert started == ["a.json"]  # ... and with the variable set it did not
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    assert _names(tmp_path) == ["a.json", "a.xlsx", "b.json", "b.xlsx"]  # no temporary left


def test_a_json_without_a_workbook_is_written_in_this_process(job, tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline, "start_atomic_write", None)  # would fail if called
    pipeline.write_outputs(job, json_path=tmp_path / "a.json")
    assert _names(tmp_path) == ["a.json"]


def test_a_full_disk_in_the_child_is_one_line_and_writes_nothing(job, tmp_path, monkeypatch):
    old_json = tmp_path / "audit.json"
    old_json.write_bytes(OLD_JSON)

    def full_disk(job):
        def write(handle):
            handle.write(b"{")
            raise OSError(28, "No space left on device")

        return write

    monkeypatch.setattr(pipeline, "_json_writer", full_disk)  # the child runs this copy
    with pytest.raises(OutputError, match="No space left on device") as caught:
        pipeline.write_outputs(job, json_path=old_json, out=tmp_path / "audit.xlsx")
    assert "\n" not in str(caught.value) and "audit.json" in str(caught.value)
    assert old_json.read_bytes() == OLD_JSON
    assert _names(tmp_path) == ["audit.json"]  # neither the workbook nor a temporary file


def test_a_bug_in_the_child_names_no_export_value_and_writes_nothing(job, tmp_path, monkeypatch):
    def broken(job):
        def write(handle):
            raise ValueError("patient Jane Roe")  # what an exception text could carry

        return write

    monkeypatch.setattr(pipeline, "_json_writer", broken)
    monkeypatch.delenv("AUDITKIT_DEBUG", raising=False)
    with pytest.raises(RuntimeError) as caught:
        pipeline.write_outputs(job, json_path=tmp_path / "a.json", out=tmp_path / "a.xlsx")
    assert "Jane" not in str(caught.value) and "a.json" in str(caught.value)
    assert _names(tmp_path) == []


def test_a_failed_workbook_stops_the_child_and_removes_its_file(job, tmp_path, monkeypatch):
    def slow(job):
        def write(handle):
            import time

            time.sleep(60)  # killed long before this ends

        return write

    def no_workbook(*args, **kwargs):
        raise OutputError("cannot write: a test", path=tmp_path / "a.xlsx")

    from auditkit.excel import openpyxl_writer

    monkeypatch.setattr(pipeline, "_json_writer", slow)
    monkeypatch.setattr(openpyxl_writer, "write_workbook", no_workbook)
    with pytest.raises(OutputError, match="a test"):
        pipeline.write_outputs(job, json_path=tmp_path / "a.json", out=tmp_path / "a.xlsx")
    assert _names(tmp_path) == []


def test_many_findings_are_written_one_output_after_the_other(job, tmp_path, monkeypatch):
    """Above BESIDE_MAX_FINDINGS the two writers would need their memory at once."""
    assert len(job.result.found) > 1
    monkeypatch.setattr(pipeline, "BESIDE_MAX_FINDINGS", len(job.result.found) - 1)
    monkeypatch.setattr(pipeline, "start_atomic_write", None)  # would fail if called
    pipeline.write_outputs(job, json_path=tmp_path / "a.json", out=tmp_path / "a.xlsx")
    assert _names(tmp_path) == ["a.json", "a.xlsx"]


def test_no_process_to_be_had_writes_the_json_here(job, tmp_path, monkeypatch):
    import os

    def no_fork():
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    paths = pipeline.write_outputs(job, json_path=tmp_path / "a.json", out=tmp_path / "a.xlsx")
    assert [p.name for p in paths] == ["a.json", "a.xlsx"]
    assert _names(tmp_path) == ["a.json", "a.xlsx"]  # no temporary file left


def test_a_child_that_hangs_is_stopped_and_the_json_written_here(job, tmp_path, monkeypatch):
    import os
    import time

    from auditkit import fileio

    parent = os.getpid()
    real = pipeline._json_writer

    def hangs_in_the_child(job):
        write = real(job)

        def maybe_hang(handle):
            if os.getpid() != parent:
                time.sleep(60)  # stopped long before this ends
            write(handle)

        return maybe_hang

    monkeypatch.setattr(pipeline, "_json_writer", hangs_in_the_child)
    monkeypatch.setattr(fileio, "WAIT_SECONDS", 0.5)
    started = time.perf_counter()
    pipeline.write_outputs(job, json_path=tmp_path / "a.json", out=tmp_path / "a.xlsx")
    assert time.perf_counter() - started < 30
    assert _names(tmp_path) == ["a.json", "a.xlsx"]
    monkeypatch.setattr(pipeline, "_json_writer", real)
    pipeline.write_json(job, tmp_path / "b.json")
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
