"""Trends inside one export (auditkit.measures.trends): month-by-month measures counted by hand
from a small table of two physicians over three months, the line findings per month, the JSON
array, the Trends sheet with its line charts and marked month, and a one-month export."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from audit_helpers import make_lines
from openpyxl.chart import LineChart

from auditkit import pipeline
from auditkit.engine.context import Context
from auditkit.engine.findings import line_findings
from auditkit.engine.registry import get
from auditkit.engine.runner import run_audits
from auditkit.engine.settings import load_settings
from auditkit.excel.openpyxl_writer import write_report
from auditkit.measures import trends
from auditkit.report.build import build_report
from auditkit.report.trends_sheet import BIGGEST_CHANGE_MARK, TRENDS_SHEET, trends_sheet


def _claims(provider: str, payer: str, month: str, n: int, status: str, cpt: str) -> dict:
    """``n`` one-line claims of one kind, served on the 10th of ``month``; paid ones are paid
    20 days later; paid lines charge $100, denied ones $300."""
    row = dict(
        rendering_provider=provider,
        payer=payer,
        date_of_service=f"{month}-10",
        status=status,
        cpt=cpt,
        charge=300.0 if status == "denied" else 100.0,
        repeat=n,
    )
    if status == "paid":
        row["paid_date"] = str((pd.Timestamp(f"{month}-10") + pd.Timedelta(days=20)).date())
    return row


@pytest.fixture
def lines() -> pd.DataFrame:
    """Dr. A at Acme and Dr. B at Beta over January to March 2024, one line per claim.

    The clean-claim rate (kpis.py) counts a claim clean when it was paid on its first
    submission: none of its lines denied or rejected, not corrected or voided, not submitted
    twice; pending claims are not rated. Here every claim has one line, so a paid claim is
    clean, a denied one is rated and unclean, and a pending one is left out.
    """
    a, b = "Dr. A", "Dr. B"
    rows = [
        # Dr. A: Jan 18 clean of 20 (0.90), Feb 20 of 20 (1.00), Mar 15 of 20 (0.75)
        _claims(a, "Acme", "2024-01", 18, "paid", "20552"),
        _claims(a, "Acme", "2024-01", 2, "denied", "20553"),
        _claims(a, "Acme", "2024-02", 20, "paid", "20552"),
        _claims(a, "Acme", "2024-03", 15, "paid", "20553"),
        _claims(a, "Acme", "2024-03", 5, "denied", "20552"),
        # Dr. B: Jan 10 clean of 10 rated (10 pending), Feb 30 of 30, Mar 24 of 30 (0.80)
        _claims(b, "Beta", "2024-01", 10, "paid", "99213"),
        _claims(b, "Beta", "2024-01", 10, "pending", "99213"),
        _claims(b, "Beta", "2024-02", 30, "paid", "99213"),
        _claims(b, "Beta", "2024-03", 24, "paid", "99213"),
        _claims(b, "Beta", "2024-03", 6, "denied", "99213"),
    ]
    return make_lines(rows)


def _row(table: pd.DataFrame, month: str, provider: str | None = None, payer: str | None = None):
    at = table["month"].eq(month)
    at &= table["provider"].eq(provider) if provider else table["provider"].isna()
    at &= table["payer"].eq(payer) if payer else table["payer"].isna()
    assert at.sum() == 1, (month, provider, payer)
    return table[at].iloc[0]


def test_rates_counted_by_hand(lines: pd.DataFrame) -> None:
    table = run_audits(lines).trends
    assert table is not None
    assert sorted(table["month"].unique()) == ["2024-01", "2024-02", "2024-03"]
    a_jan = _row(table, "2024-01", "Dr. A")
    assert (a_jan["lines"], a_jan["claims"], a_jan["claims_rated"]) == (20, 20, 20)
    assert a_jan["clean_claim_rate"] == pytest.approx(18 / 20)
    assert a_jan["denial_rate"] == pytest.approx(2 / 20)  # denied / adjudicated lines
    assert a_jan["denial_rate_dollars"] == pytest.approx(600 / (18 * 100 + 600))
    assert a_jan["tpi_20553_share"] == pytest.approx(2 / 20)
    assert a_jan["median_days_to_pay"] == 20.0
    assert _row(table, "2024-03", "Dr. A")["clean_claim_rate"] == pytest.approx(0.75)
    assert _row(table, "2024-03", "Dr. A")["tpi_20553_share"] == pytest.approx(15 / 20)
    b_jan = _row(table, "2024-01", "Dr. B")
    # 10 pending claims are claims but not rated; their lines are not adjudicated
    assert (b_jan["claims"], b_jan["claims_rated"], b_jan["adjudicated_lines"]) == (20, 10, 10)
    assert b_jan["clean_claim_rate"] == 1.0 and b_jan["denial_rate"] == 0.0
    assert np.isnan(b_jan["tpi_20553_share"])  # no trigger-point lines
    # The practice: March 15 + 24 clean of 20 + 30 rated
    practice = _row(table, "2024-03")
    assert practice["clean_claim_rate"] == pytest.approx(39 / 50)
    assert practice["lines"] == 50
    # Per payer: Beta's denial rate in March is 6 of 30 lines
    assert _row(table, "2024-03", payer="Beta")["denial_rate"] == pytest.approx(6 / 30)


def test_biggest_change_needs_enough_rated_claims(lines: pd.DataFrame) -> None:
    table = run_audits(lines).trends
    a = table[table["provider"].eq("Dr. A")].set_index("month")
    # Feb - Jan = +0.10, Mar - Feb = -0.25: March is marked
    assert a.loc["2024-02", "clean_claim_change"] == pytest.approx(0.10)
    assert a.loc["2024-03", "clean_claim_change"] == pytest.approx(-0.25)
    assert a["biggest_change"].tolist() == [False, False, True]
    b = table[table["provider"].eq("Dr. B")].set_index("month")
    # January has 10 rated claims (< MIN_RATED_CLAIMS): no change into February
    assert trends.MIN_RATED_CLAIMS > 10
    assert np.isnan(b.loc["2024-02", "clean_claim_change"])
    assert b.loc["2024-03", "clean_claim_change"] == pytest.approx(0.8 - 1.0)
    assert b["biggest_change"].tolist() == [False, False, True]
    assert not table.loc[table["payer"].notna(), "biggest_change"].any()


def test_line_findings_counted_in_their_month(lines: pd.DataFrame) -> None:
    ctx = Context(lines.reset_index(drop=True), load_settings(None))
    audit = get("units-exceed-limit")
    # Dr. A's first January line and two of Dr. B's March lines (rows 110 and 111)
    rows = ctx.lines.iloc[[0, 110, 111]]
    assert rows["date_of_service"].dt.strftime("%Y-%m").tolist() == [
        "2024-01",
        "2024-03",
        "2024-03",
    ]
    assert rows["rendering_provider"].tolist() == ["Dr. A", "Dr. B", "Dr. B"]
    part = line_findings(audit, rows, severity="low", message="m")
    other = line_findings(get("tpi-ratio"), ctx.lines.iloc[[20]], severity="low", message="m")
    claim_level = part.assign(scope=pd.Categorical(["claim"] * 3))  # not a line finding
    counts = trends.finding_counts(ctx, [part, other, claim_level])
    table = trends.monthly(ctx, counts)
    column = trends.FINDINGS_PREFIX + audit.id
    assert _row(table, "2024-01", "Dr. A")[column] == 1
    assert _row(table, "2024-03", "Dr. B")[column] == 2
    assert _row(table, "2024-03")[column] == 2
    assert _row(table, "2024-02")[column] == 0
    assert _row(table, "2024-02", "Dr. A")[trends.FINDINGS_PREFIX + "tpi-ratio"] == 1
    assert table[column].sum() == 3 * 3  # practice, physician and payer rows each count it


def test_json_trends_array(tmp_path: Path, lines: pd.DataFrame) -> None:
    export = tmp_path / "export.csv"
    lines.to_csv(export, index=False)
    job = pipeline.audit([export])
    out = json.loads(pipeline.write_json(job, tmp_path / "out.json").read_text())
    keys = list(out)
    assert keys.index("trends") == keys.index("summary") + 1
    items = out["trends"]
    practice = [t for t in items if t["provider"] is None and t["payer"] is None]
    assert [t["month"] for t in practice] == ["2024-01", "2024-02", "2024-03"]
    a_mar = next(t for t in items if t["provider"] == "Dr. A" and t["month"] == "2024-03")
    assert a_mar["clean_claim_rate"] == pytest.approx(0.75)
    assert a_mar["biggest_change"] is True
    assert {"lines", "claims", "denial_rate", "denial_rate_dollars", "tpi_20553_share"} <= set(
        a_mar
    )
    assert {"median_days_to_pay", "findings"} <= set(a_mar)
    assert isinstance(a_mar["findings"], dict)
    b_jan = next(t for t in items if t["provider"] == "Dr. B" and t["month"] == "2024-01")
    assert b_jan["tpi_20553_share"] is None  # rates are fractions or null
    assert {t["payer"] for t in items if t["payer"]} == {"Acme", "Beta"}


def test_trends_sheet_line_charts_and_marked_month(tmp_path: Path, lines: pd.DataFrame) -> None:
    result = run_audits(lines)
    report = build_report(result)
    names = [s.name for s in report.sheets]
    assert names.index(TRENDS_SHEET) == names.index("Summary") + 1 + ("Work list" in names)
    path = write_report(report, tmp_path / "t.xlsx")
    ws = openpyxl.load_workbook(path)[TRENDS_SHEET]
    charts = ws._charts
    assert len(charts) == 3 and all(isinstance(c, LineChart) for c in charts)
    values = [c.value for row in ws.iter_rows() for c in row if c.value is not None]
    assert BIGGEST_CHANGE_MARK in values
    assert any(isinstance(v, str) and v.startswith("2024-03: 100.0% to 75.0%") for v in values)
    header_rows = [r for r in ws.iter_rows() if r[0].value == "Month of service"]
    headers = [c.value for c in header_rows[-1]]  # the whole table's, below the charts'
    assert headers[:3] == ["Month of service", "Level", "Physician"]
    assert "Status" not in headers and "Work status" not in headers  # no column for people


def test_one_month_export_has_no_trends_sheet(lines: pd.DataFrame) -> None:
    january = lines[lines["date_of_service"].dt.month.eq(1)].reset_index(drop=True)
    result = run_audits(january)
    assert result.trends is not None and result.trends["month"].unique().tolist() == ["2024-01"]
    assert trends_sheet(result.trends) is None
    assert TRENDS_SHEET not in [s.name for s in build_report(result).sheets]


def test_no_dates_no_trends(lines: pd.DataFrame) -> None:
    assert run_audits(lines.assign(date_of_service=pd.NaT)).trends is None


def test_claim_ids_are_found_among_the_runs_claims_as_text() -> None:
    from auditkit.measures.trends import _positions_in

    values = pd.Series(["C2", "", "C9", "C1", "c1"], dtype="string")
    claims = pd.Index(["C1", "C2", "C3"], dtype="string")
    expected = claims.get_indexer(values.to_numpy(dtype=object))
    assert _positions_in(values, claims).tolist() == expected.tolist() == [1, -1, -1, 0, -1]
