"""The run lets the claim lines go before it joins the findings (issue 16): with
``keep_columns`` the caller's table is cut to those columns, and nothing the run reports
changes; the report's ordering works on the categories without changing the order."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from auditkit import pipeline
from auditkit.engine.runner import run_audits
from auditkit.ingest import load
from auditkit.report.findings import audit_runs, ordered_findings, severity_rank

SAMPLES = Path(__file__).resolve().parents[2] / "sample_exports"


@pytest.fixture(scope="module")
def runs() -> tuple:
    kept = load(SAMPLES / "medirev_charges.csv")
    cut = load(SAMPLES / "medirev_charges.csv")
    whole = run_audits(kept)
    lean = run_audits(cut, keep_columns=("billing_provider", "no_such_column"))
    return kept, cut, whole, lean


def test_the_lines_are_cut_to_the_columns_kept(runs: tuple) -> None:
    kept, cut, _, _ = runs
    assert len(kept.frame.columns) > 20  # without keep_columns the table is the caller's
    assert list(cut.frame.columns) == ["billing_provider"]
    assert len(cut.frame) == len(kept.frame)
    assert cut.frame["billing_provider"].equals(kept.frame["billing_provider"])


def test_findings_and_summary_do_not_change(runs: tuple) -> None:
    _, _, whole, lean = runs
    assert len(whole.found) > 100
    pd.testing.assert_frame_equal(whole.findings, lean.findings)
    assert whole.summary == lean.summary
    # The summary's findings keys sit where they always did (the JSON keeps its order).
    keys = list(lean.summary)
    assert keys.index("findings") == keys.index("paid") + 1
    assert lean.summary["findings"] == len(lean.found)


def test_the_pipeline_without_a_lines_sheet_keeps_only_the_billing_provider() -> None:
    job = pipeline.audit([SAMPLES / "medirev_charges.csv"], keep_lines=False)
    assert list(job.lines.frame.columns) == ["billing_provider"]
    full = pipeline.audit([SAMPLES / "medirev_charges.csv"], keep_lines=True)
    assert {"patient_name", "claim_id", "source_file"} <= set(full.lines.frame.columns)
    assert job.result.summary == full.result.summary
    pd.testing.assert_frame_equal(job.result.findings, full.result.findings)


def test_severity_rank_is_the_same_for_categories_and_text() -> None:
    text = pd.Series(["low", "HIGH", None, "medium", "odd", "info", "high"])
    as_text = severity_rank(text).to_numpy()
    as_category = severity_rank(text.astype("category")).to_numpy()
    np.testing.assert_array_equal(as_text, as_category)
    assert as_text[1] == as_text[6] < as_text[3] < as_text[0]
    assert as_text[2] == as_text[4]  # missing and unknown rank last


def test_ordered_findings_orders_and_keeps_positions(runs: tuple) -> None:
    _, _, whole, _ = runs
    core = whole.found.core
    ordered = ordered_findings(core)
    assert ordered.index.equals(pd.RangeIndex(len(core)))  # a run's findings are in order
    shuffled = core.sample(frac=1.0, random_state=3).reset_index(drop=True)
    again = ordered_findings(shuffled)
    rank = severity_rank(again["severity"]).to_numpy()
    dollars = again["dollars_at_risk"].to_numpy()
    assert (np.diff(rank) >= 0).all()
    same_rank = rank[1:] == rank[:-1]
    assert (dollars[1:][same_rank] <= dollars[:-1][same_rank]).all()
    assert sorted(again.index) == list(range(len(core)))  # each finding once, labels kept


def test_audit_runs_adds_an_audit_with_findings_but_no_run(runs: tuple) -> None:
    _, _, whole, _ = runs
    core = whole.found.core.copy()
    ids = [r.id for r in audit_runs(whole, core)]
    assert ids == [r.id for r in whole.audits]
    core["audit"] = core["audit"].cat.add_categories(["made-up"])
    core.loc[core.index[:3], "audit"] = "made-up"
    runs_now = audit_runs(whole, core)
    assert runs_now[-1].id == "made-up" and runs_now[-1].findings == 3
