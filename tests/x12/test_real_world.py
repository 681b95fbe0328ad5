"""Remittances as payers really send them (issue 18): read what can be read, count money once.

Every 835 here is written out segment by segment in the test (real bytes in ``tmp_path``), with
the amounts chosen so each claim balances unless the test says otherwise:

* trailer counts and control numbers that do not match are warnings, not refusals (a cut-off
  transaction still is); ``strict_x12`` / ``--strict-x12`` refuses them all;
* a claim whose lines do not add up to CLP04 is a warning naming its segment and payer;
* the same remittance twice (in one file, the same file twice, two files) counts once;
* a reversal nets only against the claim it mirrors, and netting never changes the paid total;
* a second payee inside a transaction takes the claims after it;
* CO-253 (sequestration) and CO-59 (multiple procedure rule) are reductions, not denials.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from auditkit.cli import cli
from auditkit.errors import InputError
from auditkit.ingest import load
from auditkit.ingest.x12 import read_835, read_claim_lines, reductions
from auditkit.reference import carcs

PATIENTS = ("TESTER", "ALEX", "SAMPLE", "JORDAN", "SYN1000")  # must never reach a warning
PAYER = "MEDICARE PART B JE"


def claim(
    claim_id: str,
    lines: list[tuple[str, float, float, list[str]]],
    *,
    status: str = "1",
    paid: float | None = None,
    claim_cas: list[str] = (),
    icn: str = "24075100001",
    patient: tuple[str, str] = ("TESTER", "ALEX"),
    dos: str = "20240220",
) -> list[str]:
    """One CLP loop: ``lines`` are (code, charge, paid, CAS segments); CLP04 defaults to what
    the lines pay less the claim-level CAS (a balanced claim)."""
    charge = sum(line[1] for line in lines)
    lines_paid = sum(line[2] for line in lines)
    adjusted = sum(float(c.split("*")[3]) for c in claim_cas)
    clp04 = round(lines_paid - adjusted, 2) if paid is None else paid
    segments = [
        f"CLP*{claim_id}*{status}*{charge:g}*{clp04:g}*0*MB*{icn}*11*1",
        *claim_cas,
        f"NM1*QC*1*{patient[0]}*{patient[1]}****MI*SYN10000001",
        f"DTM*232*{dos}",
    ]
    for number, (code, line_charge, line_paid, cas) in enumerate(lines, start=1):
        segments += [
            f"SVC*HC:{code}*{line_charge:g}*{line_paid:g}**1",
            f"DTM*472*{dos}",
            *cas,
            f"REF*6R*{number}",
        ]
    return segments


def transaction(
    control: str,
    claims: list[list[str]],
    *,
    check: str = "EFT0315A",
    amount: float | None = None,
    date: str = "20240315",
    payer: str = PAYER,
    payees: tuple[str, ...] = ("DESERT SPINE AND PAIN GROUP",),
    se_count: int | None = None,
    se_control: str | None = None,
) -> list[str]:
    """ST..SE with one payer; a second payee (when given) comes before the last claim."""
    paid = sum(float(c[0].split("*")[4]) for c in claims) if amount is None else amount
    body = [
        f"ST*835*{control}*005010X221A1",
        f"BPR*I*{paid:g}*C*ACH*CCP*01*011000015*DA*123456789*101182**01*021000021*DA*9876*{date}",
        f"TRN*1*{check}*101182",
        f"DTM*405*{date}",
        f"N1*PR*{payer}*PI*01182",
        f"N1*PE*{payees[0]}*XX*1003000100",
        "LX*1",
    ]
    for number, segments in enumerate(claims):
        if len(payees) > 1 and number == len(claims) - 1:
            body.append(f"N1*PE*{payees[1]}*XX*1003000200")
        body += segments
    count = len(body) + 1 if se_count is None else se_count
    return [*body, f"SE*{count}*{se_control or control}"]


def interchange(
    transactions: list[list[str]],
    *,
    isa13: str = "000000905",
    gs06: str = "905",
    ge01: int | None = None,
    ge02: str | None = None,
    iea01: int = 1,
    iea02: str | None = None,
) -> list[str]:
    isa = (
        "ISA*00*          *00*          *ZZ*MEDICAREJE     *ZZ*DSPG0001       *240315*0930*^*"
        f"00501*{isa13}*0*P*:"
    )
    segments = [isa, f"GS*HP*MEDICAREJE*DSPG0001*20240315*0930*{gs06}*X*005010X221A1"]
    for txn in transactions:
        segments += txn
    segments.append(f"GE*{len(transactions) if ge01 is None else ge01}*{ge02 or gs06}")
    segments.append(f"IEA*{iea01}*{iea02 or isa13}")
    return segments


def write(path: Path, *segments: list[str]) -> Path:
    """The segments one a line, each ended by '~' (as most payers send them)."""
    path.write_bytes(("~\n".join(s for part in segments for s in part) + "~\n").encode("ascii"))
    return path


FACET = claim(
    "FAC1002",
    [
        ("64493", 900, 296.35, ["CAS*CO*45*522**253*6.05", "CAS*PR*2*75.6"]),
        ("64494", 450, 148.17, ["CAS*CO*45*261**253*3.03", "CAS*PR*2*37.8"]),
    ],
)


def _no_patient_data(warnings: list[str]) -> None:
    for text in warnings:
        for word in (*PATIENTS, "FAC1002", "C1001", "REV"):
            assert word not in text, text


# --------------------------------------------------------------------------------------------
# trailer counts and control numbers


def _segment_of(path: Path, prefix: str) -> int:
    """1-based position of the first segment starting with ``prefix`` (one segment a line)."""
    lines = path.read_text().splitlines()
    return next(n for n, line in enumerate(lines, start=1) if line.startswith(prefix))


MISMATCHES = {
    # name: (interchange/transaction overrides, trailer, words of the message)
    "se-count": ({"se_count": 40}, "SE", "segment count says 40 but the transaction has 21"),
    "se-control": ({"se_control": "0999"}, "SE", "control number '0999' does not match ST02"),
    "ge-count": ({"ge01": 2}, "GE", "transaction count says 2 but the group (GS at segment 2)"),
    "ge-control": ({"ge02": "906"}, "GE", "control number '906' does not match GS06 '905'"),
    "iea-count": ({"iea01": 3}, "IEA", "group count says 3 but the interchange (ISA at segment"),
    "iea-control": (
        {"iea02": "000000906"},
        "IEA",
        "control number '000000906' does not match ISA13 '000000905'",
    ),
}


def _mismatched(tmp_path: Path, name: str) -> tuple[Path, str, int]:
    overrides, trailer, words = MISMATCHES[name]
    txn_keys = {"se_count", "se_control"}
    txn = transaction("0411", [FACET], **{k: v for k, v in overrides.items() if k in txn_keys})
    env = {k: v for k, v in overrides.items() if k not in txn_keys}
    path = write(tmp_path / f"{name}.835", interchange([txn], **env))
    return path, words, _segment_of(path, trailer + "*")


@pytest.mark.parametrize("name", sorted(MISMATCHES))
def test_trailer_mismatch_is_a_warning_and_the_data_is_read(tmp_path: Path, name: str) -> None:
    path, words, segment = _mismatched(tmp_path, name)
    trailer = MISMATCHES[name][1]
    frame, report = read_claim_lines(path)
    assert frame["paid"].tolist() == [296.35, 148.17]
    expected = f"segment {segment} ({trailer}): {words}"
    found = [w for w in report.warnings if w.startswith(expected)]
    assert len(found) == 1, report.warnings
    assert found[0].endswith("the data was read anyway (--strict-x12 refuses such a file)")
    assert read_835(path).warnings == report.warnings
    # through load: the report of the file says it, the lines are there
    loaded = load(path)
    assert len(loaded.frame) == 2
    assert any(w.startswith(expected) for w in loaded.inputs[0].warnings)


@pytest.mark.parametrize("name", sorted(MISMATCHES))
def test_strict_x12_refuses_each_mismatch(tmp_path: Path, name: str) -> None:
    path, words, segment = _mismatched(tmp_path, name)
    trailer = MISMATCHES[name][1]
    for read in (read_claim_lines, read_835, load):
        with pytest.raises(InputError) as caught:
            read(path, strict_x12=True)
        error = caught.value
        assert error.row == segment
        text = str(error)
        assert text.startswith(f"{path}, row {segment}: segment {segment} ({trailer}): {words}")
        assert "\n" not in text and "--strict-x12" in text


def test_a_well_formed_file_gives_no_envelope_warning(tmp_path: Path) -> None:
    path = write(tmp_path / "ok.835", interchange([transaction("0411", [FACET])]))
    assert read_claim_lines(path, strict_x12=True)[1].warnings == []
    # IEA02 without ISA13's zero-padding is the same control number
    padded = write(tmp_path / "pad.835", interchange([transaction("0411", [FACET])], iea02="905"))
    assert read_claim_lines(padded, strict_x12=True)[1].warnings == []


def test_several_mismatches_are_each_named(tmp_path: Path) -> None:
    txn = transaction("0411", [FACET], se_count=3, se_control="0412")
    path = write(tmp_path / "two.835", interchange([txn], ge02="999", iea01=2))
    warnings = read_claim_lines(path)[1].warnings
    assert [w.split(":")[0] for w in warnings] == [
        "segment 23 (SE)",
        "segment 23 (SE)",
        "segment 24 (GE)",
        "segment 25 (IEA)",
    ]


@pytest.mark.parametrize(
    ("cut_after", "words"),
    [
        ("REF*6R*1", "the file ends inside transaction 0411 (ST at segment 3) with no SE"),
        ("SE*", "the file ends inside the functional group at segment 2 with no GE"),
        ("GE*", "the file ends inside the interchange at segment 1 with no IEA"),
    ],
)
def test_a_cut_off_file_is_still_refused(tmp_path: Path, cut_after: str, words: str) -> None:
    whole = write(tmp_path / "whole.835", interchange([transaction("0411", [FACET])]))
    lines = whole.read_text().splitlines()
    keep = next(n for n, line in enumerate(lines, start=1) if line.startswith(cut_after))
    path = tmp_path / "cut.835"
    path.write_text("\n".join(lines[:keep]) + "\n")
    for strict in (False, True):
        with pytest.raises(InputError, match=words.replace("(", r"\(").replace(")", r"\)")):
            read_claim_lines(path, strict_x12=strict)


def test_cli_strict_x12(tmp_path: Path) -> None:
    path, words, segment = _mismatched(tmp_path, "se-count")
    runner = CliRunner()
    lenient = runner.invoke(cli, ["audit", str(path), "--json", str(tmp_path / "a.json")])
    assert lenient.exit_code == 0, lenient.output
    assert (tmp_path / "a.json").exists()
    strict = runner.invoke(
        cli, ["audit", str(path), "--json", str(tmp_path / "b.json"), "--strict-x12"]
    )
    assert strict.exit_code != 0
    assert f"segment {segment} (SE): {words}" in strict.output
    assert "Traceback" not in strict.output
    assert not (tmp_path / "b.json").exists()


def test_batch_strict_x12(tmp_path: Path) -> None:
    clients = tmp_path / "clients"
    (clients / "valley").mkdir(parents=True)
    _mismatched(clients / "valley", "ge-control")
    runner = CliRunner()
    lenient = runner.invoke(cli, ["batch", str(clients), "--out", str(tmp_path / "lenient")])
    assert lenient.exit_code == 0, lenient.output
    assert (tmp_path / "lenient" / "valley.json").exists()
    strict = runner.invoke(
        cli, ["batch", str(clients), "--out", str(tmp_path / "strict"), "--strict-x12"]
    )
    assert strict.exit_code != 0
    assert "does not match GS06" in strict.output
    assert not (tmp_path / "strict" / "valley.json").exists()


# --------------------------------------------------------------------------------------------
# the balancing rule


def test_unbalanced_claim_is_named_by_segment_and_payer(tmp_path: Path) -> None:
    unbalanced = claim(
        "C1001",
        [("99213", 150, 70, ["CAS*CO*45*80"]), ("20552", 100, 50, ["CAS*CO*45*50"])],
        paid=100,
        patient=("SAMPLE", "JORDAN"),
    )
    path = write(tmp_path / "unbalanced.835", interchange([transaction("1", [unbalanced])]))
    frame, report = read_claim_lines(path)
    segment = _segment_of(path, "CLP*C1001")
    assert report.warnings == [
        f"claim at segment {segment} (payer {PAYER}): lines pay 120.00, CLP04 says 100.00; "
        "the lines' amounts are used"
    ]
    assert frame["paid"].sum() == 120  # the lines, as the warning says
    _no_patient_data(report.warnings)


def test_claim_level_adjustments_count_in_the_balance(tmp_path: Path) -> None:
    lines = [("99213", 150, 70, ["CAS*CO*45*80"])]
    balanced = claim("C1001", lines, claim_cas=["CAS*CO*253*1.4"])  # CLP04 = 70 - 1.40
    assert balanced[0].split("*")[4] == "68.6"
    off = claim("C1002", lines, claim_cas=["CAS*CO*253*1.4"], paid=70)
    path = write(tmp_path / "cas.835", interchange([transaction("1", [balanced, off])]))
    warnings = read_claim_lines(path)[1].warnings
    balance = [w for w in warnings if w.startswith("claim at segment")]
    segment = _segment_of(path, "CLP*C1002")
    assert balance == [
        f"claim at segment {segment} (payer {PAYER}): lines pay 70.00 less claim-level "
        "adjustments 1.40 (68.60), CLP04 says 70.00; the lines' amounts are used"
    ]


def test_many_unbalanced_claims_are_named_then_counted(tmp_path: Path) -> None:
    claims = [claim(f"C{n}", [("99213", 150, 70, ["CAS*CO*45*80"])], paid=60) for n in range(12)]
    path = write(tmp_path / "many.835", interchange([transaction("1", claims)]))
    warnings = read_claim_lines(path)[1].warnings
    assert len(warnings) == 10
    assert warnings[-1].endswith("(and 2 more like it)")
    assert len({w.split(" (payer")[0] for w in warnings}) == 10  # ten different segments


# --------------------------------------------------------------------------------------------
# the same remittance twice


def test_an_interchange_repeated_in_one_file_counts_once(tmp_path: Path) -> None:
    once = interchange([transaction("0411", [FACET])])
    path = write(tmp_path / "twice.835", once, once)
    frame, report = read_claim_lines(path)
    assert len(frame) == 2 and frame["paid"].sum() == pytest.approx(444.52)
    second_st = len(once) + 3
    assert report.warnings == [
        f"segment {second_st} (ST): transaction 0411 repeats the one at segment 3 (payer "
        f"{PAYER}, check/EFT EFT0315A, payment 444.52); counted once"
    ]
    assert len(read_835(path).transactions) == 1
    _no_patient_data(report.warnings)


def test_two_checks_in_one_file_both_count(tmp_path: Path) -> None:
    first = transaction("1", [FACET], check="EFT0315A")
    second = transaction("2", [FACET], check="EFT0316B")  # the same claim paid twice: real
    path = write(tmp_path / "checks.835", interchange([first, second]))
    frame, report = read_claim_lines(path)
    assert len(frame) == 4 and report.warnings == []


def test_the_same_file_given_twice_counts_once(tmp_path: Path) -> None:
    path = write(tmp_path / "era.835", interchange([transaction("0411", [FACET])]))
    loaded = load([path, path])
    assert len(loaded.frame) == 2
    assert loaded.frame["paid"].sum() == pytest.approx(444.52)
    assert [r.rows for r in loaded.inputs] == [2, 0]
    assert loaded.inputs[0].warnings == []
    assert loaded.inputs[1].warnings == [
        "the same file is given twice: its 2 remittance lines are counted once"
    ]


def test_two_files_with_the_same_remittance_count_once(tmp_path: Path) -> None:
    # the portal download and the clearinghouse copy: other envelope, other file name
    txn = [transaction("0411", [FACET])]
    portal = write(tmp_path / "portal.835", interchange(txn))
    copy = write(tmp_path / "clearinghouse.835", interchange(txn, isa13="000000777", gs06="777"))
    other = write(tmp_path / "other.835", interchange([transaction("7", [FACET], check="EFT9")]))
    loaded = load([portal, copy, other])
    assert len(loaded.frame) == 4  # portal's 2 and other's 2
    assert set(loaded.frame["source_file"]) == {str(portal), str(other)}
    assert [r.rows for r in loaded.inputs] == [2, 0, 2]
    assert loaded.inputs[1].warnings == [
        f"the remittance from {PAYER} with check/EFT number EFT0315A (2 lines, paid 444.52) "
        f"repeats the one in {portal}: counted once"
    ]
    assert loaded.inputs[0].warnings == [] and loaded.inputs[2].warnings == []


def test_same_check_number_with_other_amounts_is_not_a_repeat(tmp_path: Path) -> None:
    first = write(tmp_path / "a.835", interchange([transaction("1", [FACET])]))
    changed = claim("FAC1002", [("64493", 900, 296.35, ["CAS*CO*45*603.65"])])
    second = write(tmp_path / "b.835", interchange([transaction("1", [changed])]))
    loaded = load([first, second])
    assert len(loaded.frame) == 3
    assert all(r.warnings == [] for r in loaded.inputs)


# --------------------------------------------------------------------------------------------
# reversals


ORIGINAL = claim("REV3001", [("64483", 880, 411.4, ["CAS*CO*45*396", "CAS*PR*2*72.6"])])
REVERSAL = claim(
    "REV3001", [("64483", -880, -411.4, ["CAS*CO*45*-396", "CAS*PR*2*-72.6"])], status="22"
)
CORRECTED = claim(
    "REV3001",
    [("64483", 880, 440.51, ["CAS*CO*45*361.75", "CAS*PR*2*77.74"])],
    icn="24075100099",
)


def _paid_before_netting(*paths: Path) -> float:
    return sum(read_claim_lines(p, net=False)[0]["paid"].sum() for p in paths)


def test_reversal_nets_only_against_the_claim_it_mirrors(tmp_path: Path) -> None:
    # an earlier payment of 411.40, then a later additional payment of 30.00 on the same claim
    # and payer claim number; the reversal mirrors the 411.40 one, not the later one
    extra = claim("REV3001", [("64483", 0, 30, [])])
    paid = transaction("1", [ORIGINAL], check="EFT1", date="20240301")
    more = transaction("2", [extra], check="EFT2", date="20240310")
    reversed_ = transaction("3", [REVERSAL, CORRECTED], check="EFT3", date="20240412")
    path = write(tmp_path / "rev.835", interchange([paid, more, reversed_]))
    frame, report = read_claim_lines(path)
    assert sorted(frame["paid"]) == [30.0, 440.51]  # the 411.40 and its reversal are gone
    assert frame["paid"].sum() == pytest.approx(_paid_before_netting(path))
    assert any(w.startswith("1 reversal(s) (CLP02 22) netted") for w in report.warnings)


def test_reversal_that_mirrors_nothing_stays_and_is_reported(tmp_path: Path) -> None:
    partial = claim("REV3001", [("64483", -880, -400, ["CAS*CO*45*-480"])], status="22")
    paid = transaction("1", [ORIGINAL], check="EFT1", date="20240301")
    later = transaction("2", [partial, CORRECTED], check="EFT3", date="20240412")
    path = write(tmp_path / "rev.835", interchange([paid, later]))
    frame, report = read_claim_lines(path)
    assert sorted(frame["paid"]) == [-400.0, 411.4, 440.51]
    assert frame.loc[frame["paid"] < 0, "status"].tolist() == ["voided"]
    assert frame["paid"].sum() == pytest.approx(_paid_before_netting(path))
    segment = _segment_of(path, "CLP*REV3001*22")
    assert report.warnings == [
        f"reversal at segment {segment} (payer {PAYER}): no earlier claim of the same claim "
        "and payer claim numbers has the charge 880.00 and payment 400.00 it reverses; kept "
        "as its own negative line (paid -400.00)"
    ]
    _no_patient_data(report.warnings)


def test_netting_across_two_files_keeps_the_paid_total(tmp_path: Path) -> None:
    first = write(
        tmp_path / "march.835",
        interchange([transaction("1", [ORIGINAL, FACET], check="EFT1", date="20240301")]),
    )
    lone = claim("FAC9", [("20552", -100, -50, ["CAS*CO*45*-50"])], status="22")
    second = write(
        tmp_path / "april.835",
        interchange([transaction("2", [REVERSAL, CORRECTED, lone], check="EFT2", date="20240412")]),
    )
    loaded = load([first, second])
    frame = loaded.frame
    assert frame["paid"].sum() == pytest.approx(_paid_before_netting(first, second))
    assert sorted(frame.loc[frame["claim_id"] == "REV3001", "paid"]) == [440.51]
    assert frame.loc[frame["claim_id"] == "FAC9", "paid"].tolist() == [-50.0]
    # the warnings go to the file holding the reversal, rows to the files that lost lines
    april = loaded.inputs[1]
    assert april.warnings[0] == (
        f"1 reversal(s) (CLP02 22) netted against the claim whose charge and payment they "
        f"mirror: both left out of the lines, the corrected claim kept (reversed claims read "
        f"from {first})"
    )
    assert april.warnings[1].startswith("reversal at segment ")
    assert [r.rows for r in loaded.inputs] == [2, 2]
    assert sum(r.rows for r in loaded.inputs) == len(frame)


def test_a_repeated_file_is_dropped_before_netting(tmp_path: Path) -> None:
    # the reversal file given twice: one copy nets the original, the other is left out, so
    # no second reversal stays behind as a negative line
    first = write(
        tmp_path / "march.835", interchange([transaction("1", [ORIGINAL], date="20240301")])
    )
    second = write(
        tmp_path / "april.835",
        interchange([transaction("2", [REVERSAL, CORRECTED], check="EFT2", date="20240412")]),
    )
    frame = load([first, second, second]).frame
    assert frame["paid"].tolist() == [440.51]


# --------------------------------------------------------------------------------------------
# a second payee


def test_second_payee_takes_the_claims_after_it(tmp_path: Path) -> None:
    one = claim("C1", [("99213", 150, 70, ["CAS*CO*45*80"])])
    two = claim("C2", [("20552", 100, 50, ["CAS*CO*45*50"])], patient=("SAMPLE", "JORDAN"))
    txn = transaction("1", [one, two], payees=("DESERT SPINE", "VALLEY PAIN ASC"))
    path = write(tmp_path / "payees.835", interchange([txn]))
    frame, report = read_claim_lines(path)
    assert frame["billing_provider"].tolist() == ["DESERT SPINE", "VALLEY PAIN ASC"]
    segment = _segment_of(path, "N1*PE*VALLEY")
    assert report.warnings == [
        f"segment {segment} (N1): a second payee (VALLEY PAIN ASC) inside one transaction (the "
        "first is DESERT SPINE); the claims after it are credited to it"
    ]
    remit = read_835(path)
    assert [c.payee.name for c in remit.claims] == ["DESERT SPINE", "VALLEY PAIN ASC"]
    assert remit.transactions[0].payee.name == "DESERT SPINE"


# --------------------------------------------------------------------------------------------
# CARC 253 and 59


def test_sequestration_and_multiple_procedure_are_reductions(tmp_path: Path) -> None:
    session = claim(
        "ESI1",
        [
            # Medicare's 2% sequestration in a CAS of its own
            ("64483", 880, 399.17, ["CAS*CO*45*396", "CAS*CO*253*8.23", "CAS*PR*2*76.6"]),
            # the second procedure of the session paid at 50%: CO-59
            ("64484", 400, 100, ["CAS*CO*45*150", "CAS*CO*59*100", "CAS*PR*2*50"]),
            # a unit refused (CO-151) beside the reduction: still partly paid
            ("64484", 400, 50, ["CAS*CO*59*100", "CAS*CO*151*250"]),
        ],
    )
    path = write(tmp_path / "reductions.835", interchange([transaction("1", [session])]))
    frame, report = read_claim_lines(path)
    assert report.warnings == []
    assert frame["status"].tolist() == ["paid", "paid", "partially_paid"]
    assert frame["denial_codes"].tolist() == ["CO-253", "CO-59", "CO-59,CO-151"]
    # the reductions' money is in the adjustment
    assert frame["adjustment"].tolist() == pytest.approx([404.23, 250.0, 350.0])
    assert frame["patient_responsibility"].tolist() == pytest.approx([76.6, 50.0, 0.0])


def test_reductions_come_from_the_carc_file_with_sources() -> None:
    table = carcs().set_index("code")
    for code in ("253", "59"):
        assert table.loc[code, "root_cause"] == "contractual"
        assert "not a refusal" in table.loc[code, "source"]
        assert code in reductions()
    assert "151" not in reductions() and "4" not in reductions()


def test_sequestration_reaches_the_audits_through_load(tmp_path: Path) -> None:
    path = write(tmp_path / "era.835", interchange([transaction("0411", [FACET])]))
    frame = load(path).frame
    assert isinstance(frame, pd.DataFrame)
    assert frame["denial_codes"].tolist() == ["CO-253", "CO-253"]
    assert frame["status"].tolist() == ["paid", "paid"]
    assert frame["adjustment"].tolist() == pytest.approx([528.05, 264.03])
