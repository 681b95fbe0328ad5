"""Every real-format sample (the X12 guide's own examples), read in full.

The samples are kept byte for byte in ``fixtures/samples`` with their projects' licences (see
the README there); ``SHA256SUMS`` records their bytes and the first tests below check each
sample against it, so an edited, added or missing sample fails here before its counts do. The
expected numbers below were counted by reading each file by hand (segment by segment); the
comment on each row says what was counted.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
from pathlib import Path

import pandas as pd
import pytest

from auditkit.ingest.x12 import read_835, read_claim_lines

SAMPLES = Path(__file__).parent / "fixtures" / "samples"
SUMS = SAMPLES / "SHA256SUMS"
README = SAMPLES / "README.md"
#: What the text of each licence named in the README's table says (a regular expression).
LICENCE_TEXT = {
    "Apache-2.0": r"Apache License\s+Version 2\.0, January 2004",
    "MIT": r"MIT License\s.*Permission is hereby granted, free of charge",
}


def _sample(name: str) -> Path:
    return SAMPLES / name


def _recorded_sums() -> dict[str, str]:
    """``SHA256SUMS`` (the ``sha256sum`` format: digest, two spaces, file name) as name -> digest."""
    sums = {}
    for line in SUMS.read_text(encoding="ascii").splitlines():
        digest, name = line.split("  ", 1)
        assert re.fullmatch(r"[0-9a-f]{64}", digest), line
        assert name not in sums, f"{name} is listed twice in SHA256SUMS"
        sums[name] = digest
    return sums


def _licence_rows() -> list[tuple[str, str, str]]:
    """The README table's rows as (file name pattern, licence, licence file)."""
    rows = []
    for line in README.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`"):
            continue
        pattern = cells[0].split("`")[1]
        licence, _, named = cells[2].partition(",")
        files = re.findall(r"`(LICENSE-[^`]+)`", named)
        assert len(files) == 1, f"the README row for {pattern} names no single licence file"
        rows.append((pattern, licence.strip(), files[0]))
    return rows


# name: (transactions, claims, service lines, CAS triplets, PLB adjustments, BPR02)
EXPECTED = {
    # 1 ST; CLP 5554555444 (SVC 99211; CAS CO-A2 claim + PR-1 line) and CLP 8765432112
    # (SVC 93555; CAS CO-A2 claim + PR-1 and CO-45 line): 2 + 3 = 5 triplets
    "badx12-X221-dollars-and-data-sent-separate.835": (1, 2, 2, 5, 0, 945.0),
    # 1 ST; one CLP 7722337 with five dental SVC lines, one CO-131 each
    "badx12-X221-era-sample.835": (1, 1, 5, 5, 0, 132.0),
    # 1 ST; LX 1..9, one CLP each with 5+2+5+3+3+5+3+3+4 = 33 SVC; CAS triplets per claim
    # 5, 2, 7 (two lines with PR-3 and CO-131), 5, 5, 5, 3, 3, 4 = 39
    "badx12-X221-multiple-claims-single-check.835": (1, 9, 33, 39, 0, 810.8),
    # 1 ST; CLP 0001000055 with one SVC (HC>55669) and CAS OA-23, OA-94 (negative)
    "lfh-cob-contractural-adjustment.835": (1, 1, 1, 2, 0, 34.0),
    # same two claims as the badx12 "dollars and data" file, one segment a line, no PER
    "lfh-managed-care.835": (1, 2, 2, 5, 0, 945.0),
    # 1 ST; two institutional CLP without SVC, CO-45 each; one PLB (CV:CP -1.27)
    "lfh-medicare-part-a.835": (1, 2, 0, 2, 1, 150000.0),
    # 1 ST; CLP L0004828311 (no SVC, claim OA-23) and CLP 0001000053 with two SVC:
    # OA-23 and (PR-1, PR-2 in one CAS + CO-42): 1 + 1 + 3 = 5
    "lfh-secondary-payment.835": (1, 2, 2, 5, 0, 1222.0),
    # 1 ST; CLP 0001000054, one SVC (written SVC*HC*24599.00*...), CAS OA-23
    "lfh-tertiary-payment.835": (1, 1, 1, 1, 0, 187.5),
}


def test_every_sample_is_recorded_and_has_expected_counts() -> None:
    on_disk = sorted(p.name for p in SAMPLES.glob("*.835"))
    assert on_disk == sorted(_recorded_sums()), "samples on disk differ from SHA256SUMS"
    assert on_disk == sorted(EXPECTED), "a sample has no expected counts here (or is missing)"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_bytes_match_recorded_sum(name: str) -> None:
    digest = hashlib.sha256(_sample(name).read_bytes()).hexdigest()
    assert digest == _recorded_sums().get(name), f"{name} differs from the bytes in SHA256SUMS"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_source_licence_is_here(name: str) -> None:
    rows = [row for row in _licence_rows() if fnmatch.fnmatchcase(name, row[0])]
    assert len(rows) == 1, f"{name} matches {len(rows)} rows of the samples README's table"
    _, licence, filename = rows[0]
    path = SAMPLES / filename
    assert path.is_file(), f"{filename} (the licence of {name}'s project) is missing"
    assert licence in LICENCE_TEXT, f"no known text for licence {licence!r}"
    text = path.read_text(encoding="utf-8")
    assert re.search(LICENCE_TEXT[licence], text, re.DOTALL), f"{filename} is not {licence}"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_counts(name: str) -> None:
    transactions, claims, lines, adjustments, plb, amount = EXPECTED[name]
    remit = read_835(_sample(name))
    assert len(remit.transactions) == transactions
    assert len(remit.claims) == claims
    assert sum(len(c.lines) for c in remit.claims) == lines
    cas = sum(len(c.adjustments) + sum(len(x.adjustments) for x in c.lines) for c in remit.claims)
    assert cas == adjustments
    assert sum(len(t.provider_adjustments) for t in remit.transactions) == plb
    assert sum(t.payment.amount for t in remit.transactions) == pytest.approx(amount)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_money_reconciles(name: str) -> None:
    remit = read_835(_sample(name))
    for claim in remit.claims:
        # charge - paid = every adjustment of the claim (claim-level and line-level CAS)
        assert claim.charge - claim.paid == pytest.approx(claim.adjustment_total, abs=0.005), (
            claim.patient_control_number
        )
        for line in claim.lines:
            assert line.charge - line.paid == pytest.approx(line.adjustment_total, abs=0.005)
    for txn in remit.transactions:
        # BPR02 = sum of CLP04 minus the provider-level adjustments
        net = sum(c.paid for c in txn.claims) - sum(a.amount for a in txn.provider_adjustments)
        assert txn.payment.amount == pytest.approx(net, abs=0.005)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_claim_lines(name: str) -> None:
    _, claims, lines, _, _, _ = EXPECTED[name]
    remit = read_835(_sample(name))
    frame, report = read_claim_lines(_sample(name))
    claim_level = sum(1 for c in remit.claims if not c.lines)
    assert len(frame) == lines + claim_level == report.rows
    assert frame["claim_id"].notna().all()
    assert frame["payer"].notna().all()
    assert set(frame["status"]) <= {"paid", "partially_paid", "denied"}
    # a row is a segment: every line points at its SVC (or CLP) segment
    assert frame["source_row"].is_unique
    assert (frame["source_file"] == str(_sample(name))).all()


def test_secondary_payment_details() -> None:
    path = _sample("lfh-secondary-payment.835")
    remit = read_835(path)
    first, second = remit.claims
    assert first.status_code == "2" and first.lines == []
    assert [a.code for a in first.adjustments] == ["OA-23"]
    line = second.lines[1]
    # SVC*HC>66543>26*585.00*280.00*220*1.00 with ISA16 ':' : the '>' is mended, with a warning
    assert (line.code, line.modifiers, line.revenue_code, line.units) == (
        "66543",
        ("26",),
        "220",
        1.0,
    )
    assert [(a.code, a.amount) for a in line.adjustments] == [
        ("PR-1", 150.0),
        ("PR-2", 70.0),
        ("CO-42", 85.0),
    ]
    assert line.allowed == 500.0
    assert any("'>'" in w for w in remit.warnings)
    frame, _ = read_claim_lines(path)
    row = frame[frame["cpt"] == "66543"].iloc[0]
    # PR-1/PR-2 are the patient's share; CO-42 is contractual: no denial codes, status paid
    assert row["patient_responsibility"] == 220.0
    assert row["adjustment"] == 85.0
    assert row["denial_codes"] == ""
    assert row["status"] == "paid"
    # the claim without SVC lines is one claim-level line carrying CLP03/CLP04
    claim_row = frame[frame["claim_id"] == "L0004828311"].iloc[0]
    assert pd.isna(claim_row["cpt"])
    assert (claim_row["charge"], claim_row["paid"]) == (10323.64, 912.0)
    assert claim_row["source_row"] == 16  # CLP is the 16th segment of the file


def test_tertiary_lone_qualifier_is_mended() -> None:
    remit = read_835(_sample("lfh-tertiary-payment.835"))
    line = remit.claims[0].lines[0]
    # written SVC*HC*24599.00*1766.50*187.50**1: the code slid into SVC02
    assert (line.code, line.charge, line.paid, line.units) == ("24599", 1766.5, 187.5, 1.0)
    assert any("only the qualifier" in w for w in remit.warnings)


def test_medicare_part_a_plb_and_plans() -> None:
    path = _sample("lfh-medicare-part-a.835")
    remit = read_835(path)
    (plb,) = remit.transactions[0].provider_adjustments
    assert (plb.reason, plb.reference, plb.amount, plb.provider_id) == (
        "CV",
        "CP",
        -1.27,
        "6543210903",
    )
    assert remit.claims[1].remark_codes == ["MA02"]
    frame, report = read_claim_lines(path)
    assert list(frame["payer_plan"]) == ["Medicare Part A", "Medicare Part B"]
    assert frame["cpt"].isna().all()
    assert any("PLB" in w for w in report.warnings)


def test_dollars_and_data_delimiters_and_dates() -> None:
    remit = read_835(_sample("badx12-X221-dollars-and-data-sent-separate.835"))
    txn = remit.transactions[0]
    # ISA11 is '>' (repetition separator), ISA16 ':' (component separator), one long line
    assert (txn.delimiters.repetition, txn.delimiters.component, txn.delimiters.terminator) == (
        ">",
        ":",
        "~",
    )
    assert txn.payment.method == "ACH"
    assert txn.payment.trace_number == "71700666555"
    assert str(txn.payment.date) == "2002-03-16"  # BPR16
    assert txn.payee.name == "ACME MEDICAL CENTER"


def test_managed_care_impossible_bpr_date_is_a_warning() -> None:
    path = _sample("lfh-managed-care.835")
    frame, report = read_claim_lines(path)
    # BPR16 is 20002316 (month 23): left empty, DTM*405 20020314 used for paid_date
    assert (frame["paid_date"] == pd.Timestamp("2002-03-14")).all()
    # named by element with the value's shape (dates of service are patient data)
    assert any("BPR16 (an 8-digit number) is not a date" in w for w in report.warnings)
    assert not any("20002316" in w for w in report.warnings)
    # claim-level CO-A2 (50 + 55) stays off the lines, and the report says so
    assert any("claim-level adjustments (105.00)" in w for w in report.warnings)


def test_load_nets_a_reversal_against_its_original_in_another_file() -> None:
    """The original payment and its reversal arrive in different files: counted once."""
    from auditkit.ingest import load

    base = Path(__file__).parent / "fixtures"
    lines = load([base / "reversal_original.835", base / "reversal_only.835"])
    frame = lines.frame
    # REV3001 was paid 411.40, reversed (-411.40) and re-paid 440.51: only the re-payment stays
    assert sorted(frame["claim_id"]) == ["REV3001", "REV3002"]
    assert frame.loc[frame["claim_id"] == "REV3001", "paid"].tolist() == [440.51]
    assert (frame["status"] != "voided").all()
    assert any("netted" in w for r in lines.inputs for w in r.warnings)
