"""The rules that turn 835 claims into canonical lines: status, denial codes, reversals."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from auditkit import claims
from auditkit.ingest import x12
from auditkit.ingest.x12 import Adjustment, line_status, net_reversals, read_claim_lines
from auditkit.ingest.x12_lines import _split_adjustments

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.mark.parametrize(
    ("code", "paid", "charge", "denials", "status"),
    [
        ("1", 120.0, 200.0, "", "paid"),  # reduced by contract only
        ("2", 0.0, 200.0, "", "paid"),  # secondary paid nothing (deductible / prior payer)
        ("1", 0.0, 200.0, "CO-4", "denied"),
        ("3", 40.0, 200.0, "CO-151", "partially_paid"),
        ("19", 0.0, 0.0, "CO-97", "paid"),  # a zero-charge line is never "denied"
        ("20", 10.0, 20.0, "", "paid"),
        ("21", 0.0, 90.0, "PR-204", "denied"),
        ("4", 0.0, 500.0, "", "denied"),  # CLP02 4 denies every line, codes or not
        ("22", -300.0, -500.0, "", "voided"),
        ("23", 0.0, 500.0, "OA-109", "rejected"),
        ("25", 0.0, 500.0, "OA-101", "pending"),
        ("1", None, 200.0, "CO-16", "denied"),  # unreadable paid counts as nothing paid
    ],
)
def test_line_status(code: str, paid, charge: float, denials: str, status: str) -> None:
    result = line_status(
        pd.Series([code], dtype="string"),
        pd.Series([paid], dtype="float64"),
        pd.Series([charge], dtype="float64"),
        pd.Series([denials], dtype="string"),
    )
    assert result.iloc[0] == status


def test_unknown_claim_status_is_left_empty() -> None:
    result = line_status(
        pd.Series(["9"], dtype="string"),
        pd.Series([1.0]),
        pd.Series([1.0]),
        pd.Series([""], dtype="string"),
    )
    assert result.isna().all()


def test_split_adjustments_keeps_non_denials_out() -> None:
    adjustments = [
        Adjustment("CO", "45", 80.0),
        Adjustment("PR", "1", 50.0),
        Adjustment("PR", "2", 10.0),
        Adjustment("CO", "253", 1.2),
        Adjustment("OA", "23", 30.0),
        Adjustment("CO", "4", 100.0),
        Adjustment("PR", "204", 25.0),
        Adjustment("CO", "4", 5.0),  # repeated code: listed once
    ]
    other, patient, codes = _split_adjustments(adjustments)
    assert other == pytest.approx(80 + 1.2 + 30 + 100 + 5)
    assert patient == pytest.approx(50 + 10 + 25)
    assert codes == ["CO-253", "CO-4", "PR-204"]  # 253 listed, but not a refusal


def test_canonical_frame_contract() -> None:
    frame, report = read_claim_lines(FIXTURES / "epidural_co151.835")
    for name in (*claims.REQUIRED, "source_file", "source_row"):
        assert name in frame.columns
    for name, column in claims.BY_NAME.items():
        if name in frame.columns:
            assert str(frame[name].dtype) == column.dtype, name
    # canonical columns first, in declared order, then the 835 extras
    canonical = [c.name for c in claims.COLUMNS + claims.PROVENANCE if c.name in frame.columns]
    assert list(frame.columns) == canonical + list(x12.EXTRA_COLUMNS)
    # every canonical column the reader fills is in the report's mapping
    assert set(report.mapping) == set(canonical) - {"source_file", "source_row"}
    assert set(frame["status"].dropna()) <= set(claims.STATUSES)


def test_reversal_netting_across_files() -> None:
    original, _ = read_claim_lines(FIXTURES / "reversal_original.835")
    later, _ = read_claim_lines(FIXTURES / "reversal_only.835")
    both = pd.concat([original, later], ignore_index=True)
    netted, count, unmatched = net_reversals(both)
    assert (count, unmatched) == (1, 0)
    assert sorted(zip(netted["claim_id"], netted["paid"], strict=True)) == [
        ("REV3001", 440.51),
        ("REV3002", 84.15),
    ]
    # order does not decide on its own: an original paid later than the reversal is not it
    swapped = pd.concat([later, original], ignore_index=True)
    assert net_reversals(swapped)[1] == 1
    # the replacement (after the reversal) is never taken for the original
    alone = net_reversals(later)
    assert alone[1:] == (0, 1)
    assert len(alone[0]) == len(later)


def test_reversal_needs_same_payer_claim_number() -> None:
    original, _ = read_claim_lines(FIXTURES / "reversal_original.835")
    later, _ = read_claim_lines(FIXTURES / "reversal_only.835")
    other = original.copy()
    other["payer_claim_number"] = other["payer_claim_number"].str.replace("0101", "9999")
    _, count, unmatched = net_reversals(pd.concat([other, later], ignore_index=True))
    assert (count, unmatched) == (0, 1)


def test_frames_without_835_columns_pass_through() -> None:
    frame = pd.DataFrame({"claim_id": ["1"], "cpt": ["99213"]})
    out, count, unmatched = net_reversals(frame)
    assert out is frame and (count, unmatched) == (0, 0)


def test_module_docstring_documents_every_rule() -> None:
    doc = x12.__doc__
    for words in (
        'a "row" is a segment number',
        "23 (not our claim",
        "``rejected``",
        "25 (predetermination",
        "PR-1, PR-2, PR-3",
        "45, 42,\nA2, 131, 23 and 94",
        "CO-253",
        "CO-59",
        "Reversals",
        "claim id + line control number",
    ):
        assert words in doc
    # the documented non-denials are the ones the code uses
    assert set(x12.NOT_DENIALS) == {"45", "42", "A2", "131", "23", "94"}
    assert set(x12.PATIENT_SHARE) == {"1", "2", "3"}
