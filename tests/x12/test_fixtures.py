"""Pain-practice 835 fixtures written by hand (tests/x12/fixtures/*.835).

Each file's amounts were built so that every line and claim reconciles and BPR02 equals the
claims' payments minus PLB; the counts in EXPECTED are from writing the files.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from auditkit.ingest.x12 import read_835, read_claim_lines

FIXTURES = Path(__file__).parent / "fixtures"

# name: (transactions, claims, service lines, CAS triplets, PLB adjustments, canonical lines)
EXPECTED = {
    # FAC1001 (denied: 64493, 64494 CO-4) and FAC1002 (99213-25, 64493-RT paid with CO-45,
    # CO-253 and PR-2; 64494 CO-4): 2 + 3 + 3 + 1 triplets
    "facet_co4.835": (1, 2, 5, 9, 0, 5),
    # ESI2001 (99213 for billed 99214 with CO-150 + PR-3; 62323 CO-151), ESI2002 (64483/64484
    # LT, CO-45 + PR-2 each), ESI2003 (G3002; G3003 with CO-151, CO-45, PR-2): 3 + 4 + 5
    "epidural_co151.835": (1, 3, 6, 12, 0, 6),
    # two checks of one payer: REV3001 + REV3002 paid, then REV3001 reversed and paid again
    "reversal_repay.835": (2, 4, 4, 8, 0, 2),
    # interchange 1 (GS 801: Medicare, Medicaid; GS 802: workers' comp with PLB) and
    # interchange 2 ('|' and '>'; Northstar: paid, CLP02 23 and 25); MP4003 and MP4006 have
    # no SVC: 3 + 1 + 1 + 1 + 2 + 1 + 2 triplets
    "multi_payer.835": (4, 7, 5, 11, 1, 7),
    # '>' component separator, '^' repetition, '~' + CRLF; PLB with two adjustments
    "gt_component.835": (1, 2, 3, 9, 2, 3),
    # newline-only terminator, blank lines: NL6001 (64490 CO-197; 99214 CO-45 + PR-3), NL6002
    # (62323 secondary, OA-23)
    "newline_terminators.835": (1, 2, 3, 4, 0, 3),
    # bare ST..SE twice, no ISA/GS, '>' component separator sniffed from SVC01
    "no_envelope.835": (2, 2, 2, 3, 0, 2),
}


def _rows(frame: pd.DataFrame, claim_id: str) -> pd.DataFrame:
    return frame[frame["claim_id"] == claim_id].reset_index(drop=True)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_counts_and_money(name: str) -> None:
    transactions, claims, lines, adjustments, plb, canonical = EXPECTED[name]
    remit = read_835(FIXTURES / name)
    assert remit.warnings == []
    assert len(remit.transactions) == transactions
    assert len(remit.claims) == claims
    assert sum(len(c.lines) for c in remit.claims) == lines
    cas = sum(len(c.adjustments) + sum(len(x.adjustments) for x in c.lines) for c in remit.claims)
    assert cas == adjustments
    assert sum(len(t.provider_adjustments) for t in remit.transactions) == plb
    for claim in remit.claims:
        assert claim.charge - claim.paid == pytest.approx(claim.adjustment_total, abs=0.005)
        for line in claim.lines:
            assert line.charge - line.paid == pytest.approx(line.adjustment_total, abs=0.005)
    for txn in remit.transactions:
        net = sum(c.paid for c in txn.claims) - sum(a.amount for a in txn.provider_adjustments)
        assert txn.payment.amount == pytest.approx(net, abs=0.005)
    frame, report = read_claim_lines(FIXTURES / name)
    assert len(frame) == canonical == report.rows


def test_facet_lines_denied_with_co4() -> None:
    frame, report = read_claim_lines(FIXTURES / "facet_co4.835")
    denied = _rows(frame, "FAC1001")
    # CLP02 4: every line denied; the CAS and the LQ RARC come through per line
    assert list(denied["status"]) == ["denied", "denied"]
    assert list(denied["denial_codes"]) == ["CO-4", "CO-4"]
    assert list(denied["remark_codes"]) == ["N519", "N519"]
    assert list(denied["line_number"]) == [1, 2]  # REF*6R
    mixed = _rows(frame, "FAC1002")
    assert list(mixed["cpt"]) == ["99213", "64493", "64494"]
    assert list(mixed["modifiers"]) == ["25", "RT", ""]
    assert list(mixed["status"]) == ["paid", "paid", "denied"]
    # CO-45 and CO-253 are adjustments and PR-2 the patient's share, not denials; CO-253
    # (sequestration) stays listed for the audits, the line stays "paid"
    assert list(mixed["denial_codes"]) == ["CO-253", "CO-253", "CO-4"]
    assert list(mixed["adjustment"]) == pytest.approx([91.82, 528.05, 450.0])
    assert list(mixed["patient_responsibility"]) == pytest.approx([11.83, 75.6, 0.0])
    assert list(mixed["allowed"][:2]) == [59.13, 378.0]
    assert (frame["payer"] == "MEDICARE PART B JE").all()
    assert (frame["payer_plan"] == "Medicare Part B").all()
    assert (frame["paid_date"] == pd.Timestamp("2024-03-15")).all()  # BPR16
    assert list(mixed["rendering_provider"].unique()) == ["PATEL, RAVI"]
    assert list(mixed["billing_provider"].unique()) == ["DESERT SPINE AND PAIN GROUP"]
    # source_row is the SVC's segment number (ISA = 1): segments 16, 21, 31, 37, 43
    assert list(frame["source_row"]) == [16, 21, 31, 37, 43]
    assert report.delimiter == "*"


def test_epidural_co151_and_changed_codes() -> None:
    frame, _ = read_claim_lines(FIXTURES / "epidural_co151.835")
    first = _rows(frame, "ESI2001")
    # SVC06 holds the billed 99214; the payer paid it as 99213 with CO-150
    assert list(first["cpt"]) == ["99214", "62323"]
    assert first.loc[0, "paid_cpt"] == "99213"
    assert first.loc[0, "modifiers"] == "25"
    assert list(first["status"]) == ["partially_paid", "denied"]
    assert list(first["denial_codes"]) == ["CO-150", "CO-151"]
    assert first.loc[1, "remark_codes"] == "N362"
    assert first.loc[0, "patient_responsibility"] == 30.0  # PR-3 copay
    second = _rows(frame, "ESI2002")
    # REF*6R ESI2002-1 is not a number: line numbers are the SVC sequence, the text is kept
    assert list(second["line_number"]) == [1, 2]
    assert list(second["line_control_number"]) == ["ESI2002-1", "ESI2002-2"]
    assert list(second["status"]) == ["paid", "paid"]
    cpm = _rows(frame, "ESI2003")
    # G3003: two units billed (SVC07), one paid; CO-151 cut the other
    assert list(cpm["units"]) == [1.0, 2.0]
    assert list(cpm["status"]) == ["paid", "partially_paid"]
    assert cpm.loc[1, "denial_codes"] == "CO-151"
    assert cpm.loc[1, "adjustment"] == pytest.approx(85.2)
    remit = read_835(FIXTURES / "epidural_co151.835")
    line = remit.claims[0].lines[0]
    assert (line.original_code, line.original_modifiers, line.code) == ("99214", ("25",), "99213")
    assert remit.claims[0].received_date is not None  # DTM*050


def test_reversal_and_repayment_in_one_file() -> None:
    frame, report = read_claim_lines(FIXTURES / "reversal_repay.835")
    # REV3001 paid 411.40 on 2024-03-01, reversed (-411.40) and paid 440.51 on 2024-04-12:
    # the original and the reversal leave, the replacement (CLP09 7) and REV3002 stay
    assert sorted(frame["claim_id"]) == ["REV3001", "REV3002"]
    replacement = _rows(frame, "REV3001").iloc[0]
    assert (replacement["paid"], replacement["claim_frequency"]) == (440.51, 7)
    assert replacement["status"] == "paid"
    # money counted once: the lines' paid equals the two checks together (495.55 + 29.11)
    assert frame["paid"].sum() == pytest.approx(524.66)
    assert any("1 reversal(s)" in w and "netted" in w for w in report.warnings)


def test_reversal_without_its_original_stays_voided() -> None:
    frame, report = read_claim_lines(FIXTURES / "reversal_only.835")
    assert list(frame["status"]) == ["voided", "paid"]
    assert list(frame["paid"]) == [-411.4, 440.51]
    assert any(
        w.startswith("reversal at segment 12 (payer NORTHSTAR HEALTH PLAN): no earlier claim")
        and "kept as its own negative line (paid -411.40)" in w
        for w in report.warnings
    )


def test_multi_payer_interchanges_and_statuses() -> None:
    remit = read_835(FIXTURES / "multi_payer.835")
    groups = [
        (t.interchange_control, t.group_control, t.control_number) for t in remit.transactions
    ]
    assert groups == [
        ("000000800", "801", "0001"),
        ("000000800", "801", "0002"),
        ("000000800", "802", "0001"),
        ("000000901", "901", "0001"),
    ]
    # the second interchange declares its own separators
    last = remit.transactions[-1].delimiters
    assert (last.element, last.component, last.repetition) == ("|", ">", "^")
    frame, report = read_claim_lines(FIXTURES / "multi_payer.835")
    by_claim = frame.set_index("claim_id")
    assert by_claim["payer"].to_dict() == {
        "MP4001": "MEDICARE PART B JE",
        "MP4002": "SUMMIT MEDICAID",
        "MP4003": "SUMMIT MEDICAID",
        "MP4004": "KEYSTONE WORKERS COMP",
        "MP4005": "NORTHSTAR HEALTH PLAN",
        "MP4006": "NORTHSTAR HEALTH PLAN",
        "MP4007": "NORTHSTAR HEALTH PLAN",
    }
    assert by_claim["status"].to_dict() == {
        "MP4001": "paid",
        "MP4002": "paid",
        "MP4003": "denied",  # CLP02 4, claim-level CO-27, no SVC
        "MP4004": "paid",
        "MP4005": "paid",
        "MP4006": "rejected",  # CLP02 23: not this payer's claim
        "MP4007": "pending",  # CLP02 25: predetermination only
    }
    assert by_claim.loc["MP4003", "denial_codes"] == "CO-27"
    assert by_claim.loc["MP4003", "remark_codes"] == "N30"  # MOA03
    assert pd.isna(by_claim.loc["MP4003", "cpt"])
    assert by_claim.loc["MP4005", "modifiers"] == "RT"
    assert by_claim.loc["MP4005", "source_row"] == 79  # 58 segments in interchange 1, then 21
    plb = remit.transactions[2].provider_adjustments[0]
    assert (plb.reason, plb.amount) == ("L6", -2.35)
    assert any("PLB" in w and "-2.35" in w for w in report.warnings)


def test_gt_component_separator_and_crlf() -> None:
    remit = read_835(FIXTURES / "gt_component.835")
    txn = remit.transactions[0]
    assert (txn.delimiters.component, txn.delimiters.repetition) == (">", "^")
    assert b"~\r\n" in (FIXTURES / "gt_component.835").read_bytes()
    assert [(x.code, x.modifiers) for x in txn.service_lines] == [
        ("64635", ("RT",)),
        ("64636", ("RT",)),
        ("20611", ("RT", "XS")),
    ]
    assert [(a.reason, a.reference, a.amount) for a in txn.provider_adjustments] == [
        ("WO", "GT4999X", 25.5),
        ("L6", "", -3.12),
    ]
    frame, _ = read_claim_lines(FIXTURES / "gt_component.835")
    assert list(frame["modifiers"]) == ["RT", "RT", "RT,XS"]
    assert list(frame["line_number"]) == [1, 2, 1]


def test_newline_terminators_and_blank_lines() -> None:
    remit = read_835(FIXTURES / "newline_terminators.835")
    assert remit.transactions[0].delimiters.terminator == "\n"
    frame, _ = read_claim_lines(FIXTURES / "newline_terminators.835")
    # blank lines are not segments: the first SVC is segment 14, as in a file without them
    assert list(frame["source_row"]) == [14, 20, 31]
    assert list(frame["remark_codes"]) == ["N54,M62", "", ""]
    assert list(frame["status"]) == ["denied", "paid", "paid"]
    assert list(frame["denial_codes"]) == ["CO-197", "", ""]  # OA-23 is the prior payer's share
    # no DTM*472 on the last line: the service period start (DTM*150) is its date
    assert frame.loc[2, "date_of_service"] == pd.Timestamp("2024-06-01")
    assert frame.loc[2, "claim_frequency"] == 7


def test_file_without_envelope() -> None:
    remit = read_835(FIXTURES / "no_envelope.835")
    delims = remit.transactions[0].delimiters
    assert (delims.element, delims.component, delims.terminator, delims.from_isa) == (
        "*",
        ">",
        "~",
        False,
    )
    frame, _ = read_claim_lines(FIXTURES / "no_envelope.835")
    assert list(frame["cpt"]) == ["20552", "20611"]
    assert list(frame["modifiers"]) == ["", "LT"]
    assert list(frame["remark_codes"]) == ["", "N657"]
    # no NM1*82: the payee is the rendering provider
    assert (frame["rendering_provider"] == "DESERT SPINE AND PAIN GROUP").all()


def test_mixed_terminators_and_odd_spacing(tmp_path: Path) -> None:
    # '~' on some segments, a bare newline on others, blank lines, a trailing space: same reading
    text = (FIXTURES / "facet_co4.835").read_text()
    lines = text.splitlines()
    mixed = "\n".join(line[:-1] if i % 3 == 0 and i > 0 else line for i, line in enumerate(lines))
    mixed = mixed.replace("LX*2~", "\n\nLX*2~  ")
    path = tmp_path / "mixed.835"
    path.write_text(mixed)
    plain, _ = read_claim_lines(FIXTURES / "facet_co4.835")
    again, _ = read_claim_lines(path)
    columns = ["claim_id", "cpt", "paid", "status", "denial_codes", "source_row"]
    pd.testing.assert_frame_equal(plain[columns], again[columns])


def test_bad_value_is_a_warning_not_an_error(tmp_path: Path) -> None:
    text = (FIXTURES / "facet_co4.835").read_text()
    path = tmp_path / "bad_values.835"
    path.write_text(text.replace("DTM*472*20240222~", "DTM*472*20240231~", 1).replace(
        "SVC*HC:99213:25*150*46.35", "SVC*HC:99213:25*150*4O.35"
    ))  # fmt: skip
    remit = read_835(path)
    # Named by segment and element, with the value's shape only (a name shifted into an
    # element must not be printed).
    assert any("segment 32" in w and "is not a date" in w for w in remit.warnings)
    assert any("(a 5-character text) is not a number" in w for w in remit.warnings)
    assert not any("20240231" in w or "4O.35" in w for w in remit.warnings)
    frame, _ = read_claim_lines(path)
    row = frame[frame["cpt"] == "99213"].iloc[0]
    assert pd.isna(row["paid"])
    # the line's own date is unreadable, so the claim's DTM*232 stands in
    assert row["date_of_service"] == pd.Timestamp("2024-02-22")
