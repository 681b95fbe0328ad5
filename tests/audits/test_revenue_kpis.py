"""The revenue KPIs of the summary: values counted by hand from a small table, notes when columns
are missing, the as-of date, benchmarks shared with the workbook, and the docs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from audit_helpers import make_lines

from auditkit.engine.runner import run_audits
from auditkit.errors import ConfigError
from auditkit.measures.kpis import BENCHMARKS, KPI_COLUMNS
from auditkit.report import kpis as report_kpis

DOCS = Path(__file__).resolve().parents[2] / "docs" / "kpis.md"
AS_OF = {"kpis": {"as_of": "2024-12-31"}}


@pytest.fixture
def lines() -> pd.DataFrame:
    """Six lines at Aetna; every number in the tests below is counted from this table."""
    common = dict(payer="Aetna", allowed=None)
    rows = [
        # paid in 20 days; net charge 200 - 80 = 120 (ratio 0.6 for 64493 at Aetna)
        dict(claim_id="C1", cpt="64493", status="paid", charge=200.0, allowed=120.0, paid=100.0,
             patient_responsibility=20.0, adjustment=80.0, date_of_service="2024-12-01",
             submitted_date="2024-12-03", paid_date="2024-12-23"),
        # paid in 10 days; net 150
        dict(claim_id="C2", cpt="99213", status="paid", charge=300.0, allowed=150.0, paid=150.0,
             patient_responsibility=0.0, adjustment=150.0, date_of_service="2024-11-01",
             submitted_date="2024-11-02", paid_date="2024-11-12"),
        # denied and written off: net estimated 0.6 x 200 = 120 from C1
        dict(claim_id="C3", cpt="64493", status="denied", charge=200.0, paid=0.0,
             patient_responsibility=0.0, adjustment=200.0, date_of_service="2024-11-15",
             submitted_date="2024-11-16", paid_date="2024-12-01", denial_codes="CO-50"),
        # pending 152 days: open 400, over 90
        dict(claim_id="C4", cpt="64493", status="pending", charge=400.0, paid=0.0,
             patient_responsibility=0.0, adjustment=0.0, date_of_service="2024-08-01"),
        # pending 11 days: open 100
        dict(claim_id="C5", cpt="99213", status="pending", charge=100.0, paid=0.0,
             patient_responsibility=0.0, adjustment=0.0, date_of_service="2024-12-20"),
        # partially paid in 29 days: open 300 - 100 - 100 - 20 = 80; net 200
        dict(claim_id="C6", cpt="20610", status="partially_paid", charge=300.0, allowed=200.0,
             paid=100.0, patient_responsibility=20.0, adjustment=100.0,
             date_of_service="2024-10-15", submitted_date="2024-10-16", paid_date="2024-11-14"),
    ]  # fmt: skip
    return make_lines([{**common, **r} for r in rows])


def test_values_counted_by_hand(lines: pd.DataFrame) -> None:
    s = run_audits(lines, config=AS_OF).summary
    assert (s["as_of"], s["as_of_source"]) == ("2024-12-31", "configured")
    # open: C4 400 + C5 100 + C6 80 = 580, of which C4 (152 days) is over 90
    assert s["ar_balance"] == 580.0 and s["ar_over_90"] == 400.0
    assert s["ar_over_90_share"] == pytest.approx(400 / 580)
    # charges with a date of service in the 90 days to 2024-12-20 (the last service date):
    # C1 200 + C2 300 + C3 200 + C5 100 + C6 300 = 1,100 (C4 is older)
    assert s["average_daily_charges"] == pytest.approx(1100 / 90, abs=0.005)
    assert s["days_in_ar"] == pytest.approx(580 / (1100 / 90))
    # collected 120 + 150 + 0 + 120 = 390 of net charges 120 + 150 + 120 (C3 estimated) + 200
    assert s["net_collection_rate"] == pytest.approx(390 / 590)
    assert s["median_days_to_pay"] == 20.0  # 10, 20, 29
    assert s["denial_rate"] == 0.25
    assert s["kpi_notes"] == {}
    json.dumps(s)  # plain JSON types only


def test_as_of_defaults_to_the_latest_date_in_the_data(lines: pd.DataFrame) -> None:
    s = run_audits(lines).summary
    assert (s["as_of"], s["as_of_source"]) == ("2024-12-23", "latest date in the data")
    assert s["ar_over_90"] == 400.0  # C4: 145 days on 2024-12-23


def test_bad_as_of_and_age_from_are_config_errors(lines: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match=r"\[kpis\] as_of: '31/12/2024x' is not a date"):
        run_audits(lines, config={"kpis": {"as_of": "31/12/2024x"}})
    with pytest.raises(ConfigError, match=r"age_from: 'billed' is not one of"):
        run_audits(lines, config={"kpis": {"age_from": "billed"}})


def test_each_kpi_says_why_it_is_missing(lines: pd.DataFrame) -> None:
    s = run_audits(lines.drop(columns=["paid_date", "charge"])).summary
    for key in ("median_days_to_pay", "days_in_ar", "ar_over_90_share", "net_collection_rate"):
        assert s[key] is None, key
    notes = s["kpi_notes"]
    assert (
        notes["median_days_to_pay"] == "needs status, paid_date: the data has no paid_date column"
    )
    assert notes["days_in_ar"] == "needs status, charge: the data has no charge column"
    assert "denial_rate" not in notes and s["denial_rate"] == 0.25
    no_adjustment = run_audits(lines.drop(columns=["adjustment", "allowed"])).summary
    assert no_adjustment["net_collection_rate"] is None
    assert "adjustment or allowed" in no_adjustment["kpi_notes"]["net_collection_rate"]


def test_net_collection_rate_uses_allowed_without_an_adjustment_column(lines) -> None:
    """Contractual adjustment = charge - allowed on settled lines: the same 390 / 590."""
    s = run_audits(lines.drop(columns=["adjustment"]), config=AS_OF).summary
    assert s["net_collection_rate"] == pytest.approx(390 / 590)


def test_benchmarks_in_the_summary_and_the_workbook_agree(lines: pd.DataFrame) -> None:
    s = run_audits(lines).summary
    assert set(s["benchmarks"]) == set(BENCHMARKS) == set(KPI_COLUMNS)
    declared = {k.key: k for k in report_kpis.KPIS}
    for key, bench in s["benchmarks"].items():
        assert key in s, key
        kpi = declared[key]
        assert (kpi.good, kpi.fair, kpi.higher_is_better) == (
            bench["good"],
            bench["fair"],
            bench["higher_is_better"],
        ), key
        assert kpi.benchmark == bench["text"] and bench["source"] and bench["confidence"]
    days = declared["days_in_ar"]
    assert [days.status({"days_in_ar": v}) for v in (25, 35, 52)] == ["good", "fair", "poor"]


def test_docs_define_every_kpi_with_its_benchmark_and_source() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for key, bench in BENCHMARKS.items():
        row = next((ln for ln in text.splitlines() if ln.startswith(f"| `{key}` |")), None)
        assert row is not None, f"docs/kpis.md has no row for {key}"
        assert bench.text in row and bench.source in row, key
        assert row.rstrip().endswith(f"| {bench.confidence} |"), key
        for column in KPI_COLUMNS[key]:
            assert re.search(rf"\b{column}\b", row), (key, column)
    assert "never the computer's clock" in text
