"""run_audits: selection, skipping, the findings frame, the summary KPIs and the tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from audit_helpers import make_lines

import auditkit
from auditkit.engine.result import FINDING_COLUMNS
from auditkit.engine.runner import run_audits
from auditkit.errors import ConfigError
from auditkit.ingest.model import ClaimLines

#: The headline audits (the coding audits would also flag the small table's same-day 20552+20553).
HEADLINE = ["tpi-ratio", "paid-vs-denied", "clean-claim-rate"]


@pytest.fixture
def small() -> pd.DataFrame:
    """Six lines, five claims; every number in the tests below is counted from this table."""
    rows = [
        dict(claim_id="C1", line_number=1, rendering_provider="Dr. Lee", payer="Acme", cpt="20552",
             status="paid", charge=100.0, paid=60.0, date_of_service="2024-01-05"),
        dict(claim_id="C1", line_number=2, rendering_provider="Dr. Lee", payer="Acme", cpt="20553",
             status="denied", charge=150.0, paid=0.0, date_of_service="2024-01-05"),
        dict(claim_id="C2", line_number=1, rendering_provider="Dr. Adams", payer="Beta", cpt="99213",
             status="paid", charge=200.0, paid=120.0, date_of_service="2024-02-10"),
        dict(claim_id="C3", line_number=1, rendering_provider="Dr. Adams", payer="Beta", cpt="64493",
             status="pending", charge=500.0, paid=0.0, date_of_service="2024-03-01"),
        dict(claim_id="C4", line_number=1, rendering_provider="Dr. Adams", payer="Acme", cpt="20553",
             status="partially_paid", charge=150.0, paid=50.0, date_of_service="2024-02-20"),
        dict(claim_id="C5", line_number=1, rendering_provider="Dr. Lee", payer="Beta", cpt="62323",
             status="rejected", charge=300.0, paid=0.0, date_of_service="2024-02-21"),
    ]  # fmt: skip
    return make_lines(rows)


def test_summary_kpis(small: pd.DataFrame) -> None:
    s = run_audits(small, select=HEADLINE).summary
    assert (s["lines"], s["claims"], s["providers"], s["payers"]) == (6, 5, 2, 2)
    assert (s["period_start"], s["period_end"]) == ("2024-01-05", "2024-03-01")
    # C1 (a denied line) and C5 (rejected) are not clean, C2 and C4 are, C3 is still pending.
    assert s["clean_claim_rate"] == 0.5 and s["claims_rated"] == 4 and s["clean_claims"] == 2
    assert s["clean_claim_target"] == 0.95
    # Adjudicated lines: C1/1, C1/2, C2, C4; one denied, $150 of $600 charges.
    assert s["denial_rate"] == 0.25 and s["denied_lines"] == 1
    assert s["denied_dollars"] == 150.0 and s["denial_rate_dollars"] == 0.25
    assert (s["charges"], s["paid"]) == (1400.0, 230.0)
    assert s["tpi_20553_share"] == pytest.approx(2 / 3)
    assert s["findings_by_severity"] == {"high": 0, "medium": 0, "low": 0, "info": 0}
    assert s["dollars_at_risk"] == 0.0


def test_tables(small: pd.DataFrame) -> None:
    t = run_audits(small).tables
    by_provider = t["clean_claim_rate_by_provider"].set_index("provider")
    assert by_provider.loc["Dr. Adams", ["claims", "clean"]].tolist() == [2, 2]
    assert by_provider.loc["Dr. Lee", ["claims", "clean", "rate"]].tolist() == [2, 0, 0.0]
    fam = t["clean_claim_rate_by_provider_family"]
    assert list(fam.columns) == ["provider", "family", "claims", "clean", "rate"]
    lee_tpi = fam[(fam["provider"] == "Dr. Lee") & (fam["family"] == "trigger point")]
    assert lee_tpi[["claims", "clean"]].values.tolist() == [[1, 0]]
    mix = t["tpi_mix_by_provider"].set_index("provider")
    assert mix.loc["Dr. Lee", ["n_20552", "n_20553"]].tolist() == [1, 1]
    assert mix.loc["Dr. Adams", "share_20553"] == 1.0
    months = t["tpi_mix_by_month"].set_index("month")
    assert months["n_20553"].to_dict() == {"2024-01": 1, "2024-02": 1}
    payers = t["denial_rate_by_payer"].set_index("payer")
    assert list(payers.columns) == ["lines", "denied", "rate", "denied_dollars"]
    assert payers.loc["Acme"].tolist() == [3, 1, pytest.approx(1 / 3), 150.0]
    assert payers.loc["Beta"].tolist() == [1, 0, 0.0, 0.0]


def test_a_skipped_audit_is_listed_with_its_reason_not_a_finding(small: pd.DataFrame) -> None:
    result = run_audits(small.drop(columns=["status", "charge"]), select=HEADLINE)
    runs = {r.id: r for r in result.audits}
    assert runs["tpi-ratio"].status == "ran"
    for audit_id in ("paid-vs-denied", "clean-claim-rate"):
        run = runs[audit_id]
        assert run.status == "skipped" and run.missing_columns == ["status"]
        assert run.reason == "the data has no status column" and run.findings == 0
        assert run.hint.startswith("Export status with the claim lines")
        assert run.why and run.fix
    # Skipped audits make no findings: not in the list, the severity counts or --fail-on.
    assert not result.findings["audit"].isin(["clean-claim-rate", "paid-vs-denied"]).any()
    s = result.summary
    assert s["clean_claim_rate"] is None and s["denial_rate"] is None
    assert s["denied_dollars"] is None and s["charges"] is None
    assert s["audits_skipped"] == 2 and s["findings_by_severity"]["info"] == 0
    assert "clean_claim_rate_by_provider" not in result.tables
    assert "tpi_mix_by_provider" in result.tables


def test_a_modifier_column_blank_on_every_line_means_no_modifiers(small: pd.DataFrame) -> None:
    # A practice that never keys modifiers is the worst case for the modifier audits, not a
    # reason to skip them.
    small["modifiers"] = pd.Series(pd.NA, index=small.index, dtype="string")
    run = next(r for r in run_audits(small).audits if r.id == "laterality-missing")
    assert run.status == "ran"


def test_an_empty_column_counts_as_missing(small: pd.DataFrame) -> None:
    small["status"] = pd.Series(pd.NA, index=small.index, dtype="string")
    run = next(r for r in run_audits(small).audits if r.id == "clean-claim-rate")
    assert run.status == "skipped" and run.reason == "status is empty on every line"


def test_nothing_to_audit_is_a_reason_not_a_skip(small: pd.DataFrame) -> None:
    run = next(r for r in run_audits(small).audits if r.id == "paid-vs-denied")
    assert run.status == "ran" and run.findings == 0
    assert run.reason.startswith("no code and payer with at least 20 paid and 10 denied lines")


def test_select(small: pd.DataFrame) -> None:
    assert [r.id for r in run_audits(small, select="clean-claim-rate, tpi-ratio").audits] == [
        "tpi-ratio",
        "clean-claim-rate",
    ]
    assert run_audits(small, select=[]).audits == []
    with pytest.raises(ConfigError, match="unknown audit 'tpi'.*tpi-ratio, paid-vs-denied"):
        run_audits(small, select=["tpi"])


def test_findings_frame_shape_and_order() -> None:
    lines = make_lines(
        [
            dict(claim_id="A1", line_number=3, cpt="20552", muscles_treated=4, payer="P1"),
            dict(claim_id="A2", cpt="20553", payer="P1"),  # no count: medium, 20553 fee
            dict(claim_id="A3", line_number=1, cpt="20553", muscles_treated=1, payer="P2"),
            dict(claim_id="A4", cpt="20553", payer="P2"),
        ]
    )
    config = {"fee_schedule": {"20552": 50.0, "20553": 90.0, "P2": {"20552": 40.0, "20553": 100.0}}}
    findings = run_audits(lines, select="tpi-ratio", config=config).findings
    assert tuple(findings.columns) == FINDING_COLUMNS
    # high before medium; within a severity, more dollars first.
    assert findings["severity"].tolist() == ["high", "high", "medium", "medium"]
    assert findings["claim_id"].tolist() == ["A3", "A1", "A4", "A2"]
    assert findings["dollars_at_risk"].tolist() == [60.0, 40.0, 100.0, 90.0]
    assert findings["line"].tolist() == [1, 3, None, None]
    assert all(type(v) is int for v in findings["line"][:2])
    assert findings["dollars_at_risk"].dtype == np.float64
    assert all(isinstance(e, dict) for e in findings["evidence"])
    assert findings["source_file"].isna().all()  # not from a file


def test_source_position_is_carried_to_line_findings() -> None:
    lines = make_lines([dict(cpt="20553", claim_id="Z9", muscles_treated=2)])
    lines["source_file"] = pd.Series(["export.csv"], dtype="string")
    lines["source_row"] = pd.Series([7], dtype="Int64")
    finding = run_audits(lines, select="tpi-ratio").findings.iloc[0]
    assert (finding["source_file"], finding["source_row"]) == ("export.csv", 7)


def test_accepts_claim_lines_and_the_top_level_api(small: pd.DataFrame) -> None:
    direct = run_audits(small)
    wrapped = auditkit.run_audits(ClaimLines(small), config={"tpi-ratio": {"min_lines": 5}})
    assert wrapped.summary["clean_claim_rate"] == direct.summary["clean_claim_rate"]
    assert wrapped.config["tpi-ratio"]["min_lines"] == 5
    assert wrapped.config["paid-vs-denied"]["min_paid"] == 20


def test_top_level_load_delegates_to_ingest(monkeypatch: pytest.MonkeyPatch) -> None:
    import auditkit.ingest

    calls = []
    monkeypatch.setattr(
        auditkit.ingest, "load", lambda paths, mapping=None: calls.append((paths, mapping)) or "ok"
    )
    assert auditkit.load(["a.csv"], mapping={"cpt": "Code"}) == "ok"
    assert calls == [(["a.csv"], {"cpt": "Code"})]


def test_plain_dataframe_with_text_dates_is_conformed() -> None:
    frame = pd.DataFrame(
        {
            "claim_id": ["1", "2"],
            "date_of_service": ["2024-05-01", "2024-05-02"],
            "rendering_provider": ["Dr. Lee", "Dr. Lee"],
            "payer": ["Acme", "Acme"],
            "cpt": ["20552", "20553"],
        }
    )
    result = run_audits(frame)
    assert result.summary["period_start"] == "2024-05-01"


def test_large_table_is_fast() -> None:
    """Whole-column work: 300k lines must take a couple of seconds, far from a per-row loop."""
    rng = np.random.default_rng(7)
    n = 300_000
    frame = pd.DataFrame(
        {
            "claim_id": pd.Series(rng.integers(0, n // 2, n)).astype(str),
            "line_number": rng.integers(1, 4, n),
            "date_of_service": pd.Timestamp("2024-01-01")
            + pd.to_timedelta(rng.integers(0, 365, n), unit="D"),
            "rendering_provider": rng.choice(["Dr. A", "Dr. B", "Dr. C", "Dr. D"], n),
            "payer": rng.choice(["Medicare", "Keystone", "Aetna", "Cigna"], n),
            "cpt": rng.choice(["20552", "20553", "64493", "62323", "99213", "20610"], n),
            "modifiers": rng.choice(["", "RT", "LT", "50", "25", "RT,59"], n),
            "diagnosis_codes": rng.choice(["M54.16", "M47.816,M54.50", "M79.18", ""], n),
            "status": rng.choice(["paid", "paid", "paid", "denied", "rejected", "pending"], n),
            "paid": rng.uniform(0, 300, n),
            "charge": rng.uniform(50, 900, n),
            "denial_codes": rng.choice(["", "CO-4", "CO-197", "CO-50"], n),
            "muscles_treated": rng.choice([1.0, 2.0, 3.0, 4.0, np.nan], n),
            "authorization_number": rng.choice(["PA1", None], n),
        }
    )
    frame = auditkit.claims.conform(frame)
    result = run_audits(frame)  # its speed is measured in benchmarks/run.py
    assert result.summary["lines"] == n


def test_duplicate_index_labels_do_not_multiply_lines(small: pd.DataFrame) -> None:
    doubled = pd.concat([small, small.assign(claim_id=small["claim_id"] + "b")])
    assert not doubled.index.is_unique
    s = run_audits(doubled).summary
    assert (s["lines"], s["claims"], s["denied_lines"]) == (12, 10, 2)
    assert s["clean_claim_rate"] == 0.5


def test_no_lines_at_all(small: pd.DataFrame) -> None:
    result = run_audits(small.iloc[0:0])
    assert {r.status for r in result.audits} == {"skipped"}
    assert {r.reason for r in result.audits} == {"there are no claim lines"}
    assert result.summary["lines"] == 0 and result.summary["clean_claim_rate"] is None
    assert result.summary["period_start"] is None
