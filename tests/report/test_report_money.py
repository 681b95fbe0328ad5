"""Money in the workbook: every amount with its basis, whether it is in the total, the top
findings ordered by counted dollars, the note that each dollar is counted once."""

from __future__ import annotations

import pandas as pd
import pytest

from auditkit.engine.runner import run_audits
from auditkit.ingest.model import ClaimLines
from auditkit.report import Table, Text, build_report
from auditkit.synth import generate
from auditkit.synth.revenue import fee_schedule


@pytest.fixture(scope="module")
def run():
    lines = generate(4000, 21)
    result = run_audits(lines, fee_schedule=fee_schedule())
    return result, build_report(result, ClaimLines(lines, []))


def test_audit_sheets_show_what_each_amount_is_and_whether_it_counts(run) -> None:
    result, report = run
    for audit_id, found in result.findings.groupby("audit"):
        table = report.sheet(audit_id).blocks[-1]
        assert isinstance(table, Table)
        if not found["dollars_at_risk"].any():
            continue
        headers = [c.header for c in table.columns]
        at = headers.index("At risk")
        assert headers[at + 1 : at + 3] == ["Dollars are", "In total"], audit_id
        shown = table.frame
        priced = pd.to_numeric(shown["dollars_at_risk"], errors="coerce").fillna(0) != 0
        assert shown.loc[priced, "dollars_basis"].ne("none").all()
        assert set(shown.loc[priced, "in_total"]) <= {"yes", "no"}
        assert shown.loc[~priced, "in_total"].isna().all()


def test_top_findings_come_by_counted_dollars_with_the_counted_once_note(run) -> None:
    result, report = run
    blocks = report.sheet("Summary").blocks
    top = next(b for b in blocks if isinstance(b, Table) and b.key == "top-findings")
    frame = top.frame
    counted = pd.to_numeric(frame["dollars_at_risk"]).where(frame["in_total"].eq("yes"), 0.0)
    assert counted.is_monotonic_decreasing
    best = result.findings[result.findings["counted"]]["dollars_at_risk"].max()
    assert counted.iloc[0] == pytest.approx(best)
    notes = [b.text for b in blocks if isinstance(b, Text)]
    note = next(t for t in notes if t.startswith("Each dollar is counted once"))
    for basis, value in result.summary["dollars_at_risk_by_basis"].items():
        assert f"{basis} ${value:,.0f}" in note


def test_about_lists_a_skipped_audit_with_what_to_do() -> None:
    lines = generate(400, 3).drop(columns=["status"])
    report = build_report(run_audits(lines), ClaimLines(lines, []))
    audits = next(
        b for b in report.sheet("About").blocks if getattr(b, "key", "") == "about:audits"
    )
    row = audits.frame.set_index("id").loc["paid-vs-denied"]
    assert row["status"] == "skipped" and "no status column" in row["reason"]
    assert row["hint"].startswith("Export status")
