"""Work in a child process beside the run (Linux): the same result as in this process, and a
child that fails or hangs costs time, never the result."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from auditkit import beside
from auditkit.engine import runner
from auditkit.engine.registry import all_audits, get
from auditkit.engine.result import AuditResult
from auditkit.ingest.loader import load

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="work runs beside only on Linux"
)

SAMPLE = Path(__file__).resolve().parents[2] / "sample_exports" / "medirev_charges.csv"


def test_a_result_comes_back_from_the_child() -> None:
    parent = os.getpid()
    job = beside.start(lambda: {"pid": os.getpid(), "frame": pd.DataFrame({"a": [1, 2]})})
    assert job is not None
    got = job.result()
    assert got["pid"] != parent  # it did run in another process
    pd.testing.assert_frame_equal(got["frame"], pd.DataFrame({"a": [1, 2]}))


def test_a_failing_child_says_so_and_leaves_no_process() -> None:
    def broken() -> None:
        raise ValueError("boom")

    job = beside.start(broken)
    with pytest.raises(beside.BesideError):
        job.result()
    with pytest.raises(ChildProcessError):
        os.waitpid(job.pid, os.WNOHANG)  # reaped


def test_a_child_that_takes_too_long_is_stopped() -> None:
    job = beside.start(lambda: time.sleep(60))
    started = time.perf_counter()
    with pytest.raises(beside.BesideError, match="too long"):
        job.result(wait=0.5)
    assert time.perf_counter() - started < 10
    with pytest.raises(ChildProcessError):
        os.waitpid(job.pid, os.WNOHANG)


def test_with_the_variable_set_nothing_forks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(beside.ONE_PROCESS_ENV, "1")
    assert beside.start(lambda: 1) is None


def _run(monkeypatch: pytest.MonkeyPatch, *, min_lines: int) -> AuditResult:
    monkeypatch.setattr(runner, "BESIDE_MIN_LINES", min_lines)
    return runner.run_audits(load(SAMPLE))


def _work_list(monkeypatch: pytest.MonkeyPatch, *, min_lines: int) -> pd.DataFrame:
    result = _run(monkeypatch, min_lines=min_lines)
    assert result.worklist is not None and len(result.worklist)
    return result.worklist


def _same_results(split: AuditResult, alone: AuditResult) -> None:
    """The same findings, in the same order, the same runs, work list, summary and tables."""
    pd.testing.assert_frame_equal(split.found.frame(), alone.found.frame())
    assert len(split.found)  # (the sample has findings: the comparison compares something)

    def runs(result: AuditResult) -> list[tuple]:
        return [(r.id, r.status, r.reason, r.findings, r.missing_columns) for r in result.audits]

    assert runs(split) == runs(alone)
    pd.testing.assert_frame_equal(split.worklist, alone.worklist)
    assert split.summary == alone.summary
    assert split.tables.keys() == alone.tables.keys()
    for name, table in alone.tables.items():
        if isinstance(table, pd.DataFrame):
            pd.testing.assert_frame_equal(split.tables[name], table)
    pd.testing.assert_frame_equal(split.trends, alone.trends)


def test_a_split_run_gives_what_a_run_in_one_process_gives(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    started = []
    real_start = beside.start

    def spy(func):
        started.append(func)
        return real_start(func)

    # Each audit notes the process it ran in (a file: the child's memory is its own).
    where = tmp_path / "pids"
    for audit in all_audits():
        real = audit.run

        def noted(self, *args, _real=real, _id=audit.id, **kwargs):
            with where.open("a") as out:
                out.write(f"{_id} {os.getpid()}\n")
            return _real(self, *args, **kwargs)

        monkeypatch.setattr(audit, "run", noted)
    monkeypatch.setattr(beside, "start", spy)
    alone = _run(monkeypatch, min_lines=10**12)
    assert not started
    where.unlink()
    split = _run(monkeypatch, min_lines=0)
    assert len(started) == 1
    ran_in = dict(line.split() for line in where.read_text().splitlines())
    beside_ids = {a for a in ran_in if int(ran_in[a]) != os.getpid()}
    assert beside_ids == set(runner.BESIDE_AUDITS)  # these ran in the child, the rest here
    assert all(r.findings for r in alone.audits if r.id in beside_ids)  # and found something
    _same_results(split, alone)


def test_the_work_list_made_beside_the_audits_is_the_one_made_after_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    alone = _work_list(monkeypatch, min_lines=10**12)
    together = _work_list(monkeypatch, min_lines=0)
    pd.testing.assert_frame_equal(together, alone)


def test_a_work_list_the_child_fails_to_make_is_made_here(monkeypatch: pytest.MonkeyPatch):
    parent = os.getpid()
    real = runner.run_work_list

    def fails_in_the_child(*args, **kwargs):
        if os.getpid() != parent:
            raise MemoryError
        return real(*args, **kwargs)

    alone = _run(monkeypatch, min_lines=10**12)
    monkeypatch.setattr(runner, "run_work_list", fails_in_the_child)
    # the child's audits are run here too: the result is whole
    _same_results(_run(monkeypatch, min_lines=0), alone)


def test_an_audit_the_child_fails_to_run_is_run_here(monkeypatch: pytest.MonkeyPatch):
    parent = os.getpid()
    audit = get(sorted(runner.BESIDE_AUDITS)[0])
    real = audit.run

    def fails_in_the_child(self, *args, **kwargs):
        if os.getpid() != parent:
            raise MemoryError
        return real(self, *args, **kwargs)

    alone = _run(monkeypatch, min_lines=10**12)
    monkeypatch.setattr(audit, "run", fails_in_the_child)
    _same_results(_run(monkeypatch, min_lines=0), alone)


def test_a_run_that_fails_stops_its_child(monkeypatch: pytest.MonkeyPatch) -> None:
    jobs = []
    real_start = beside.start

    def spy(func):
        jobs.append(real_start(func))
        return jobs[-1]

    def broken(*args, **kwargs):
        raise RuntimeError("an audit bug")

    monkeypatch.setattr(beside, "start", spy)
    monkeypatch.setattr(runner, "run_work_list", lambda *a, **k: time.sleep(60))
    here = next(a for a in all_audits() if a.id not in runner.BESIDE_AUDITS)
    monkeypatch.setattr(here, "run", broken)  # an audit of this process's share fails
    monkeypatch.setattr(runner, "BESIDE_MIN_LINES", 0)
    started = time.perf_counter()
    with pytest.raises(RuntimeError, match="an audit bug"):
        runner.run_audits(load(SAMPLE))
    assert time.perf_counter() - started < 30
    with pytest.raises(ChildProcessError):
        os.waitpid(jobs[0].pid, os.WNOHANG)  # stopped and reaped


def test_no_process_to_be_had_means_the_work_is_done_here(monkeypatch: pytest.MonkeyPatch):
    def no_fork():
        raise BlockingIOError(11, "Resource temporarily unavailable")

    alone = _work_list(monkeypatch, min_lines=10**12)
    monkeypatch.setattr(os, "fork", no_fork)
    assert beside.start(lambda: 1) is None
    pd.testing.assert_frame_equal(_work_list(monkeypatch, min_lines=0), alone)
