"""835 amounts are held to the exports' limit (issue 18): finite and at most a trillion.

An element Python reads as a number but that is ``NaN``, ``inf``, ``1E400`` (overflows) or
``1e308`` (finite, but two of them overflow a total) is a bad value like ``4O.35``: left empty,
with a warning naming the segment and the element and never the value (a 15-digit "amount" is
more likely a shifted account number). Each 835 here is written out segment by segment.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from auditkit.cli import cli
from auditkit.ingest.normalise import MAX_AMOUNT
from auditkit.ingest.x12 import read_claim_lines

ISA = (
    "ISA*00*          *00*          *ZZ*PAYERJE        *ZZ*PAINGRP001     *240402*1015*^*"
    "00501*000000417*0*P*:"
)
#: A patient-like name and account number that must never reach a warning.
PATIENT = ("QUARTERMAINE", "ROSALIND")
ACCOUNT = "8812004417"


def _remit(
    svc02: str = "300", svc03: str = "120", clp04: str = "120", cas: str = "180", amt: str = "120"
) -> bytes:
    """One transaction, one claim with one service line; the amounts balance as given."""
    body = [
        "ST*835*0417*005010X221A1",
        "BPR*I*120*C*ACH*CCP*01*011000015*DA*123456789*101182**01*021000021*DA*9876*20240402",
        "TRN*1*EFT0402B*101182",
        "DTM*405*20240402",
        "N1*PR*NORTHWIND HEALTH*PI*01182",
        "N1*PE*MESA PAIN ASSOCIATES*XX*1003000417",
        "LX*1",
        f"CLP*{ACCOUNT}*1*300*{clp04}*0*MB*24093100417*11*1",
        f"NM1*QC*1*{PATIENT[0]}*{PATIENT[1]}****MI*SYN20000417",
        "DTM*232*20240325",
        f"SVC*HC:64483*{svc02}*{svc03}**1",
        "DTM*472*20240325",
        f"CAS*CO*45*{cas}",
        f"AMT*B6*{amt}",
        "REF*6R*1",
    ]
    segments = [
        ISA,
        "GS*HP*PAYERJE*PAINGRP001*20240402*1015*417*X*005010X221A1",
        *body,
        f"SE*{len(body) + 1}*0417",
        "GE*1*417",
        "IEA*1*000000417",
    ]
    return ("~\n".join(segments) + "~\n").encode("ascii")


def _segment(data: bytes, prefix: str) -> int:
    """1-based position of the segment starting with ``prefix`` (ISA is segment 1)."""
    lines = data.decode("ascii").splitlines()
    return next(n for n, line in enumerate(lines, start=1) if line.startswith(prefix))


def _refuse_constant(name: str) -> float:
    raise ValueError(f"the JSON holds {name}, which is not JSON")


#: The line as read when every amount is good.
GOOD = {"charge": 300.0, "allowed": 120.0, "paid": 120.0, "adjustment": 180.0}
# element -> (keyword of _remit, segment prefix, what the line reads instead of GOOD)
ELEMENTS = {
    "SVC02": ("svc02", "SVC*", {"charge": math.nan}),
    "SVC03": ("svc03", "SVC*", {"paid": math.nan}),
    "CLP04": ("clp04", "CLP*", {}),  # the claim total: the line keeps its own amounts
    "CAS amount": ("cas", "CAS*", {"adjustment": 0.0}),
    "AMT*B6": ("amt", "AMT*", {"allowed": math.nan}),
}
BAD = ["1E400", "NaN", "inf", "-Infinity", "1e308", "-1000000000000.01", "123456789012345"]


@pytest.mark.parametrize("bad", BAD)
@pytest.mark.parametrize("element", sorted(ELEMENTS))
def test_bad_amount_is_left_empty_with_a_warning(tmp_path: Path, element: str, bad: str) -> None:
    keyword, prefix, changed = ELEMENTS[element]
    data = _remit(**{keyword: bad})
    path = tmp_path / "remit.835"
    path.write_bytes(data)
    frame, report = read_claim_lines(path)
    segment = _segment(data, prefix)
    found = [w for w in report.warnings if w.startswith(f"segment {segment}: {element} (")]
    assert len(found) == 1, report.warnings
    assert "is not a finite amount of at most 1,000,000,000,000 either way; left empty" in found[0]
    assert bad not in found[0]
    for text in report.warnings:
        assert PATIENT[0] not in text and PATIENT[1] not in text and ACCOUNT not in text
    row = frame[list(GOOD)].to_dict("records")
    assert len(row) == 1
    expected = {**GOOD, **changed}
    for name, value in expected.items():
        got = row[0][name]
        assert (math.isnan(got) and math.isnan(value)) or got == value, (name, got)


def test_the_limit_itself_and_ordinary_amounts_are_read(tmp_path: Path) -> None:
    path = tmp_path / "limit.835"
    path.write_bytes(
        _remit(
            svc02="1000000000000",
            svc03="-1000000000000",
            clp04="-1000000000000",
            cas="0",
            amt="1e3",
        )
    )
    frame, report = read_claim_lines(path)
    assert frame["charge"].tolist() == [MAX_AMOUNT]
    assert frame["paid"].tolist() == [-MAX_AMOUNT]
    assert frame["allowed"].tolist() == [1000.0]
    assert not [w for w in report.warnings if "finite amount" in w]


@pytest.mark.parametrize("bad", ["1E400", "NaN", "inf", "1e308"])
def test_cli_json_is_json_and_carries_the_warning(tmp_path: Path, bad: str) -> None:
    data = _remit(svc02=bad, svc03=bad)
    path = tmp_path / "payer.835"
    path.write_bytes(data)
    out = tmp_path / "out.json"
    result = CliRunner().invoke(cli, ["audit", str(path), "--json", str(out), "-q"])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    data_out = json.loads(text, parse_constant=_refuse_constant)
    segment = _segment(data, "SVC*")
    warnings = [w["warning"] for w in data_out["warnings"] if w["file"].endswith("payer.835")]
    prefix = f"segment {segment}: "
    limit = [w for w in warnings if w.startswith(prefix) and "not a finite amount" in w]
    # SVC02 and SVC03 are one kind of warning: the first is shown, the other counted on it
    assert limit == [
        f"{prefix}SVC02 (a {len(bad)}-character text) is not a finite amount of at most "
        "1,000,000,000,000 either way; left empty (and 1 more like it)"
    ]
    for word in (*PATIENT, ACCOUNT, bad):
        assert word not in json.dumps(data_out["warnings"])
