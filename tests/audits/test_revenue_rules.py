"""The revenue rules' reference facts and pricing: denial causes (remark codes, unknown codes,
contractual reductions), the multiple-procedure rule, sequestration and their settings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from audit_helpers import make_lines

from auditkit import reference
from auditkit.engine.runner import run_audits
from auditkit.errors import ConfigError
from auditkit.measures.revenue import _percent_sum
from auditkit.reference.revenue import (
    NOT_DENIAL_CAUSES,
    ROOT_CAUSES,
    UNKNOWN_CAUSE,
    denial_causes,
    multiple_procedure_subject,
    remark_table,
)

FEES = pd.DataFrame({"cpt": ["64483", "20552"], "allowed": [300.0, 60.0]})


def _causes(codes: list[str], remarks: list[str] | None = None) -> list[tuple[str, str]]:
    out = denial_causes(
        pd.Series(codes, dtype="string"),
        reference.carcs(),
        None if remarks is None else pd.Series(remarks, dtype="string"),
        None if remarks is None else remark_table(),
    )
    reasons, causes = out["reason"].fillna("").tolist(), out["cause"].fillna("").tolist()
    return list(zip(reasons, causes, strict=True))


def test_reference_groups_are_known_and_sourced() -> None:
    carcs, rarcs = reference.carcs(), remark_table()
    assert set(carcs["root_cause"]) <= set(ROOT_CAUSES)
    assert set(rarcs["root_cause"]) - {""} <= set(ROOT_CAUSES)
    for table in (carcs, rarcs, reference.table("multiple_procedures")):
        assert (table["source"].str.len() > 20).all()
    for code in ("253", "59", "107", "272", "58", "181", "B15"):
        assert reference.carc_info(code) is not None, code
    assert reference.carc_info("CO-96")["root_cause"] == "coverage"
    assert reference.carc_info("CO-253")["root_cause"] in NOT_DENIAL_CAUSES
    assert reference.carc_info("CO-59")["root_cause"] in NOT_DENIAL_CAUSES


def test_remark_codes_name_the_cause_of_co16() -> None:
    got = _causes(
        ["CO-16", "CO-16", "CO-16", "CO-16", "CO-16", "CO-4,CO-16"],
        ["N290", "MA130,M76", "MA130", "", "X999", "N290"],
    )
    assert got == [
        ("CO-16 N290", "claim data"),
        ("CO-16 M76", "coding or diagnosis"),  # MA130 names no cause: the next remark does
        ("CO-16", "coding or diagnosis"),  # no remark with a cause: CO-16's own group
        ("CO-16", "coding or diagnosis"),
        ("CO-16", "coding or diagnosis"),
        ("CO-4", "modifier"),  # the first refusal still wins
    ]
    # Without remark codes CO-16 keeps its own group.
    assert _causes(["CO-16"]) == [("CO-16", "coding or diagnosis")]


def test_unknown_codes_are_never_a_refusal() -> None:
    assert _causes(["CO-999", "CO-999,CO-197", "CO-45,CO-999", "CO-45,CO-253", "", "PR-1"]) == [
        ("CO-999", UNKNOWN_CAUSE),
        ("CO-197", "authorization"),
        ("CO-999", UNKNOWN_CAUSE),
        ("CO-45", "contractual"),
        ("", ""),
        ("PR-1", "patient responsibility"),
    ]


def test_multiple_procedure_subject_codes() -> None:
    codes = pd.Series(["64483", "64484", "20552", "99214", "77003", "G3002", "63650", None])
    got = multiple_procedure_subject(
        codes, reference.table("multiple_procedures"), reference.procedures()
    )
    assert got.tolist() == [True, False, True, False, False, False, True, False]
    # A practice's own rows come first: 20552 exempt at its payers.
    own = pd.concat(
        [
            pd.DataFrame(
                [{"first_code": "20552", "last_code": "20552", "rule": "exempt"}],
            ),
            reference.table("multiple_procedures"),
        ],
        ignore_index=True,
    )
    assert not multiple_procedure_subject(pd.Series(["20552"]), own, reference.procedures())[0]


def test_percent_sum_repeats_the_last_percent() -> None:
    got = _percent_sum([100.0, 50.0], np.array([0, 1, 2, 3, 1.5]))
    assert got.tolist() == [0.0, 100.0, 150.0, 200.0, 125.0]
    assert _percent_sum([100.0, 50.0, 25.0], np.array([4])).tolist() == [200.0]


def _session(**config: object) -> pd.DataFrame:
    lines = make_lines(
        [
            {"cpt": "20552", "allowed": 30.0, "line_number": 1},
            {"cpt": "64483", "allowed": 300.0, "line_number": 2},
        ],
        {"claim_id": "S1", "payer": "Cigna", "status": "paid"},
    )
    return run_audits(
        lines,
        select=["underpayment"],
        fee_schedule=FEES,
        config={"underpayment": config} if config else None,
    ).findings


def test_multiple_procedure_percents_are_configurable() -> None:
    assert _session().empty  # Medicare's 100/50: 20552 at $30 is right
    short = _session(multiple_procedure_percents="100, 75")
    assert short["cpt"].tolist() == ["20552"] and short["dollars_at_risk"].tolist() == [15.0]
    assert len(_session(multiple_procedure_percents="100")) == 1  # the rule off


@pytest.mark.parametrize("value", ["", "100,x", "100,150", "-5"])
def test_bad_multiple_procedure_percents(value: str) -> None:
    with pytest.raises(ConfigError, match="multiple_procedure_percents"):
        _session(multiple_procedure_percents=value)


def test_sessions_need_the_same_patient_day_and_physician() -> None:
    """Two claims of one patient on one day with one physician are one session; another day
    or another physician is another session."""
    base = {"payer": "Cigna", "status": "paid", "patient_id": "P1"}
    rows = [
        {"claim_id": "A", "cpt": "64483", "allowed": 300.0},
        {"claim_id": "B", "cpt": "20552", "allowed": 30.0},  # same session: 50%
        {"claim_id": "C", "cpt": "20552", "allowed": 30.0, "date_of_service": "2024-03-05"},
        {"claim_id": "D", "cpt": "20552", "allowed": 30.0, "rendering_provider": "Dr. Lee"},
    ]
    found = run_audits(make_lines(rows, base), select=["underpayment"], fee_schedule=FEES)
    assert sorted(found.findings["claim_id"]) == ["C", "D"]


def test_sequestration_by_payer_name_or_co253(tmp_path: Path) -> None:
    """Paid $392 + $100 coinsurance on a $500 fee is right at a sequestered payer, $8 short
    elsewhere (a tight tolerance makes the $8 count)."""
    rows = [
        {"claim_id": "MED", "payer": "Medicare"},
        {"claim_id": "MA", "payer": "Humana Medicare Advantage"},
        {"claim_id": "RRB", "payer": "Palmetto RRB", "denial_codes": "CO-253"},
        {"claim_id": "RRB2", "payer": "Palmetto RRB"},  # its payer's other lines carry CO-253
        {"claim_id": "COM", "payer": "Cigna"},
    ]
    lines = make_lines(
        rows, {"cpt": "64493", "status": "paid", "paid": 392.0, "patient_responsibility": 100.0}
    )
    fees = pd.DataFrame({"cpt": ["64493"], "allowed": [500.0]})
    tight = {"underpayment": {"tolerance_percent": 0.005}}
    found = run_audits(lines, select=["underpayment"], fee_schedule=fees, config=tight)
    assert found.findings["claim_id"].tolist() == ["COM"]
    only_co253 = {"underpayment": {"tolerance_percent": 0.005, "sequestration_payers": ""}}
    found = run_audits(lines, select=["underpayment"], fee_schedule=fees, config=only_co253)
    assert sorted(found.findings["claim_id"]) == ["COM", "MA", "MED"]


def test_remark_codes_file_can_be_replaced(tmp_path: Path) -> None:
    """``[reference] rarcs`` points at the practice's own remark-code table."""
    own = remark_table()
    own.loc[own["code"] == "N290", "root_cause"] = "credentialing"
    own.to_csv(tmp_path / "rarcs.csv", index=False)
    (tmp_path / "auditkit.toml").write_text('[reference]\nrarcs = "rarcs.csv"\n')
    lines = make_lines(
        [
            {"repeat": 20, "status": "paid", "paid": 100.0},
            {"repeat": 10, "status": "denied", "denial_codes": "CO-16", "remark_codes": "N290"},
        ],
        {"cpt": "64493", "payer": "Aetna"},
    )
    found = run_audits(
        lines, select=["denial-root-cause"], config=tmp_path / "auditkit.toml"
    ).findings
    assert [e["cause"] for e in found["evidence"]] == ["credentialing"]
