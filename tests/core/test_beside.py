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


def _work_list(monkeypatch: pytest.MonkeyPatch, *, min_lines: int) -> pd.DataFrame:
    monkeypatch.setattr(runner, "BESIDE_MIN_LINES", min_lines)
    result = runner.run_audits(load(SAMPLE))
    assert result.worklist is not None and len(result.worklist)
    return result.worklist


def test_the_work_list_made_beside_the_audits_is_the_one_made_after_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started = []
    real_start = beside.start

    def spy(func):
        started.append(func)
        return real_start(func)

    monkeypatch.setattr(beside, "start", spy)
    alone = _work_list(monkeypatch, min_lines=10**12)
    assert not started
    together = _work_list(monkeypatch, min_lines=0)
    assert len(started) == 1  # made in the child this time
    pd.testing.assert_frame_equal(together, alone)


def test_a_work_list_the_child_fails_to_make_is_made_here(monkeypatch: pytest.MonkeyPatch):
    parent = os.getpid()
    real = runner.run_work_list

    def fails_in_the_child(*args, **kwargs):
        if os.getpid() != parent:
            raise MemoryError
        return real(*args, **kwargs)

    alone = _work_list(monkeypatch, min_lines=10**12)
    monkeypatch.setattr(runner, "run_work_list", fails_in_the_child)
    pd.testing.assert_frame_equal(_work_list(monkeypatch, min_lines=0), alone)


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
    monkeypatch.setattr(runner.trends, "finding_counts", broken)
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
