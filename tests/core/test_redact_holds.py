"""``--redact`` holds on real files: a row shifted by an unquoted comma in a name, messages that
would quote a cell, and claim ids that are account numbers (issue 18)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from auditkit.cli import cli
from auditkit.errors import InputError
from auditkit.ingest import load
from auditkit.ingest.model import FileReport, RowProblem
from auditkit.redact import Redactor

# Names and ids chosen so that no pseudonym (upper-case hex) and no text of auditkit's own
# can contain them by chance.
SHIFTED_NAME, SHIFTED_ACCOUNT = ("Hallworth", "Josephine"), "ZK40017"
LEFT_OUT_NAME, LEFT_OUT_ACCOUNT = ("Quincey", "Marisol"), "ZK40028"

# Row 2: "Hallworth, Josephine" is not quoted, so "Josephine" lands in Acct #, the account in
# Rend Prov, the provider in Primary Ins, the payer in Proc Code, ... The row is kept (its last
# cell, Note, was blank). Rows 3-4 are read well.
KEPT_SHIFT = f"""Claim #,DOS,Patient,Acct #,Rend Prov,Primary Ins,Proc Code,Mod 1,Units,Dx1,Chg Amt,Ins Paid,Status,Note
ZQ90001,01/05/2026,Hallworth, Josephine,{SHIFTED_ACCOUNT},Dr. Lee,Aetna,20552,,1,M54.16,150.00,95.00,Paid,
ZQ90002,01/06/2026,"Bellweather, Anouk",ZK40039,Dr. Lee,Aetna,99213,,1,M54.16,150.00,95.00,Paid,
ZQ90003,01/07/2026,"Bellweather, Anouk",ZK40039,Dr. Lee,Aetna,20552,,1,M54.16,150.00,0.00,Denied,
"""
# Another export puts the name before the account and the date: the account lands in DOS, so
# the row cannot be placed (left out), and its problem must not quote the account.
DATE_SHIFT = f"""Claim #,Patient,Acct #,DOS,Rend Prov,Primary Ins,Proc Code,Chg Amt,Note
ZQ90011,Quincey, Marisol,{LEFT_OUT_ACCOUNT},01/08/2026,Dr. Lee,Aetna,99213,150.00,
ZQ90012,"Bellweather, Anouk",ZK40039,01/09/2026,Dr. Lee,Aetna,99213,150.00,
"""
SECRETS = {
    *SHIFTED_NAME,
    SHIFTED_ACCOUNT,
    *LEFT_OUT_NAME,
    LEFT_OUT_ACCOUNT,
    "Bellweather",
    "Anouk",
    "ZK40039",
    *(f"ZQ9000{i}" for i in (1, 2, 3)),
    "ZQ90011",
    "ZQ90012",
}


def _workbook_cells(path: Path) -> str:
    """Every cell of every sheet, as text."""
    book = load_workbook(path)
    return "\n".join(
        str(value)
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
        for value in row
        if value is not None
    )


def _run(tmp_path: Path, *args: str, name: str = "audit"):
    out, js = tmp_path / f"{name}.xlsx", tmp_path / f"{name}.json"
    result = CliRunner().invoke(
        cli, ["audit", *args, "--out", str(out), "--json", str(js), "--with-lines", "-v"]
    )
    assert result.exit_code == 0, result.output + result.stderr
    return result, out, js


def _about_problems(workbook: Path) -> dict[tuple[str, int, str], str]:
    rows = [r for r in load_workbook(workbook)["About"].iter_rows(values_only=True)]
    start = next(i for i, r in enumerate(rows) if r[0] == "Rows that could not be read (left out)")
    header = next(i for i in range(start + 1, len(rows)) if rows[i][0] == "File")
    found = {}
    for row in rows[header + 1 :]:
        if row[0] is None:
            break
        found[(Path(row[0]).name, row[1], row[2])] = row[3]
    return found


@pytest.fixture
def shifted_exports(tmp_path: Path) -> list[str]:
    kept, left_out = tmp_path / "kept_shift.csv", tmp_path / "date_shift.csv"
    kept.write_text(KEPT_SHIFT, encoding="utf-8")
    left_out.write_text(DATE_SHIFT, encoding="utf-8")
    return [str(kept), str(left_out)]


def test_the_rows_are_shifted_and_leak_without_redact(shifted_exports, tmp_path: Path) -> None:
    """What the redacted run must hide: without --redact the shifted account is a provider and
    the practice's own About sheet shows each unreadable cell."""
    frame = load(shifted_exports).frame
    assert frame.loc[frame["claim_id"] == "ZQ90001", "rendering_provider"].tolist() == [
        SHIFTED_ACCOUNT
    ]
    assert "ZQ90011" not in set(frame["claim_id"])  # the account in DOS: left out
    result, workbook, _ = _run(tmp_path, *shifted_exports)
    assert SHIFTED_ACCOUNT in _workbook_cells(workbook)
    problems = _about_problems(workbook)
    assert problems[("date_shift.csv", 2, "DOS")] == f"not a date: '{LEFT_OUT_ACCOUNT}'"
    assert problems[("kept_shift.csv", 2, "Proc Code")].endswith(": 'Aetna'")
    # warnings name rows and columns, never a cell, even without --redact
    assert LEFT_OUT_ACCOUNT not in result.stderr and "Aetna" not in result.stderr


def test_redact_removes_names_and_accounts_from_shifted_rows(shifted_exports, tmp_path) -> None:
    result, workbook, js = _run(tmp_path, *shifted_exports, "--redact")
    cells = _workbook_cells(workbook)
    haystacks = {
        "workbook": cells,
        "json": js.read_text(encoding="utf-8"),
        "stdout": result.stdout,
        "stderr": result.stderr,
    }
    leaks = {where: sorted(s for s in SECRETS if s in text) for where, text in haystacks.items()}
    assert leaks == {where: [] for where in haystacks}
    # the shifted row is still audited, its stray values pseudonymised where they cannot belong
    lines = load_workbook(workbook)["Claim lines"]
    rows = [r for r in lines.iter_rows(values_only=True)]
    header = next(i for i, r in enumerate(rows) if r[0] == "flag")
    columns = rows[header]
    table = [dict(zip(columns, r, strict=True)) for r in rows[header + 1 :] if r[2]]
    shifted = next(
        r for r in table if r["source_row"] == 2 and r["source_file"].endswith("kept_shift.csv")
    )
    assert shifted["rendering_provider"].startswith("X-")
    assert shifted["payer"].startswith("X-") and shifted["cpt"].startswith("X-")
    # a well-read row keeps its provider and payer
    others = [r for r in table if r is not shifted]
    assert {r["rendering_provider"] for r in others} == {"Dr. Lee"}
    assert {r["payer"] for r in others} == {"Aetna"}
    # problems say what a cell looks like, not what it says
    problems = _about_problems(workbook)
    assert problems[("date_shift.csv", 2, "DOS")] == "not a date (a 7-character text)"
    assert problems[("kept_shift.csv", 2, "Mod 1")].endswith("(a 5-digit number)")
    assert all("'" not in text for text in problems.values())


def test_a_problem_under_redact_keeps_its_shape_not_its_value() -> None:
    redactor = Redactor(b"k" * 32)
    problem = RowProblem(7, "DOS", "not a date", kept=False, value="Hallworth, Josephine")
    assert problem.text() == "not a date: 'Hallworth, Josephine'"
    hidden = redactor.problem(problem, headers={"DOS"})
    assert hidden.value is None
    assert hidden.text() == "not a date (a 20-character text)"
    # a message of another reader that quotes a cell loses the value, not the header
    redactor.learn(pd.DataFrame({"claim_id": ["ZQ90001"], "patient_name": ["Hallworth, Jo"]}))
    report = FileReport(
        "x.csv",
        mapping={"claim_id": "Claim #"},
        warnings=["column 'Claim #': 'Pd' is unknown; claim ZQ90001 (Hallworth) needs a look"],
    )
    [warning] = redactor.report(report).warnings
    assert warning == (
        f"column 'Claim #': [a 2-character text] is unknown; claim {redactor.claim('ZQ90001')} "
        "([name]) needs a look"
    )


def test_an_unreadable_required_column_error_quotes_no_value(tmp_path: Path) -> None:
    path = tmp_path / "nodates.csv"
    path.write_text(
        "Claim #,DOS,Rend Prov,Primary Ins,Proc Code\n"
        "ZQ90001,Hallworth,Dr. Lee,Aetna,99213\n"
        "ZQ90002,Bellweather,Dr. Lee,Aetna,99213\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as info:
        load(str(path))
    message = str(info.value)
    assert "row 2, column 'DOS': none of the 2 values could be read as a date" in message
    assert "(the first, on this row, is a 9-character text)" in message
    assert "Hallworth" not in message and "Bellweather" not in message


# --- claim ids: the account number in an 835's CLP01 -----------------------------------------

EXPORT = """Claim #,Ln,Acct #,Patient,DOS,Rend Prov,Primary Ins,Proc Code,Mod 1,Units,Dx1,Chg Amt
ZK50041,1,ZK50041,"Hallworth, Josephine",02/20/2024,Dr. Lee,Medicare,64493,,1,M47.816,900.00
ZK50041,2,ZK50041,"Hallworth, Josephine",02/20/2024,Dr. Lee,Medicare,64494,,1,M47.816,450.00
ZK50052,1,ZK50052,"Quincey, Marisol",02/22/2024,Dr. Lee,Medicare,64493,RT,1,M47.816,900.00
ZK50074,1,ZK50074,"Vanterpool, Eudora",02/25/2024,Dr. Lee,Medicare,99213,,1,M54.16,150.00
"""
ISA = (
    "ISA*00*          *00*          *ZZ*MEDICAREJE     *ZZ*DSPG0001       *240315*0930*^*00501"
    "*000000411*0*P*:"
)
TRANSACTION = [
    "ST*835*0411*005010X221A1",
    "BPR*I*296.35*C*ACH*CCP*01*011000015*DA*123456789*101182**01*021000021*DA*987654321*20240315",
    "TRN*1*EFT20240315A*101182",
    "DTM*405*20240313",
    "N1*PR*MEDICARE PART B JE*PI*01182",
    "N1*PE*DESERT SPINE AND PAIN GROUP*XX*1003000100",
    "LX*1",
    "CLP*ZK50041*4*1350*0*0*MB*24075100001*11*1",
    "NM1*QC*1*HALLWORTH*JOSEPHINE****MI*ZK50041",
    "SVC*HC:64493*900*0**1",
    "DTM*472*20240220",
    "CAS*CO*4*900",
    "REF*6R*1",
    "SVC*HC:64494*450*0**1",
    "DTM*472*20240220",
    "CAS*CO*4*450",
    "REF*6R*2",
    "CLP*ZK50052*1*900*296.35*0*MB*24075100002*11*1",
    "NM1*QC*1*QUINCEY*MARISOL****MI*ZK50052",
    "SVC*HC:64493:RT*900*296.35**1",
    "DTM*472*20240222",
    "CAS*CO*45*603.65",
    "REF*6R*1",
    # a claim the export does not have: the join's note names it
    "CLP*ZK50063*4*150*0*0*MB*24075100003*11*1",
    "NM1*QC*1*ZELLWEGER*OTTILIE****MI*ZK50063",
    "SVC*HC:99213*150*0**1",
    "DTM*472*20240223",
    "CAS*CO*16*150",
    "REF*6R*1",
]
CLAIM_SECRETS = {
    "ZK50041",
    "ZK50052",
    "ZK50063",
    "ZK50074",
    "Hallworth",
    "HALLWORTH",
    "Josephine",
    "JOSEPHINE",
    "Quincey",
    "QUINCEY",
    "Marisol",
    "MARISOL",
    "ZELLWEGER",
    "OTTILIE",
    "Vanterpool",
    "Eudora",
}


def _remittance(path: Path) -> Path:
    segments = [*TRANSACTION, f"SE*{len(TRANSACTION) + 1}*0411"]
    text = "~\n".join(
        [ISA, "GS*HP*MEDICAREJE*DSPG0001*20240315*0930*411*X*005010X221A1", *segments]
        + ["GE*1*411", "IEA*1*000000411"]
    )
    path.write_text(text + "~\n", encoding="ascii")
    return path


def test_claim_ids_are_pseudonymised_consistently_and_findings_stay(tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    export.write_text(EXPORT, encoding="utf-8")
    era = _remittance(tmp_path / "era.835")
    args = (str(export), "--remits", str(era))
    plain_result, _, plain_js = _run(tmp_path, *args, name="plain")
    hidden_result, workbook, hidden_js = _run(tmp_path, *args, "--redact", name="hidden")
    plain = json.loads(plain_js.read_text(encoding="utf-8"))
    hidden = json.loads(hidden_js.read_text(encoding="utf-8"))

    # the join ran before redaction: the same findings, the same dollars
    assert plain["findings"], "the data must raise findings for the comparison to mean anything"
    assert "ZK50063" in plain_result.stdout + plain_result.stderr  # the join's note names it
    assert len(hidden["findings"]) == len(plain["findings"])
    assert [(a["id"], a["findings"]) for a in hidden["audits"]] == [
        (a["id"], a["findings"]) for a in plain["audits"]
    ]

    def dollars(doc: dict) -> float:
        return round(sum(f["dollars_at_risk"] or 0 for f in doc["findings"]), 2)

    assert dollars(hidden) == dollars(plain) > 0
    assert hidden["summary"]["dollars_at_risk"] == plain["summary"]["dollars_at_risk"]

    # no original claim id (nor patient) anywhere
    haystacks = {
        "workbook": _workbook_cells(workbook),
        "json": hidden_js.read_text(encoding="utf-8"),
        "stdout": hidden_result.stdout,
        "stderr": hidden_result.stderr,
    }
    leaks = {w: sorted(s for s in CLAIM_SECRETS if s in text) for w, text in haystacks.items()}
    assert leaks == {w: [] for w in haystacks}

    # one claim, one pseudonym: in the findings, their covers keys and the join's note
    by_plain_id: dict[str, set[str]] = {}
    for before, after in zip(plain["findings"], hidden["findings"], strict=True):
        if before["claim_id"]:
            by_plain_id.setdefault(before["claim_id"], set()).add(after["claim_id"])
            assert all(key.split(":")[0] == after["claim_id"] for key in after["covers"])
    assert by_plain_id and all(
        len(p) == 1 and p.pop().startswith("CLM-") for p in by_plain_id.values()
    )
    # the join's note names the 835's claim without an export line and the export's claim
    # without a remittance by the pseudonyms the workbook's lines carry
    note = next(line for line in hidden_result.stderr.splitlines() if "Remittances:" in line)
    named = re.findall(r"CLM-[0-9A-F]{16}", note)
    assert len(named) == 2
    assert named[1] in _workbook_cells(workbook) and named[0] not in _workbook_cells(workbook)


def test_one_key_one_pseudonym_across_files_and_redactors() -> None:
    key = b"b" * 32
    first, second = Redactor(key), Redactor(key)
    a = first.frame(pd.DataFrame({"claim_id": ["0001000055", "ZK1"], "patient_id": ["P1", "P2"]}))
    b = second.frame(pd.DataFrame({"claim_id": ["1000055"], "patient_id": ["P1"]}))
    # the 835 keeps leading zeros the export drops: the join treats them as one claim, so does
    # redaction; a batch's clients share the key, so their pseudonyms agree
    assert a["claim_id"][0] == b["claim_id"][0] == second.claim("0001000055")
    assert a["patient_id"][0] == b["patient_id"][0]
    assert a["claim_id"][0] != a["claim_id"][1]
    assert Redactor(b"c" * 32).claim("1000055") != first.claim("1000055")


def test_a_batch_key_gives_each_client_the_same_claim_pseudonym(tmp_path: Path) -> None:
    from auditkit.batch import Client, run_client

    export = "Claim #,DOS,Rend Prov,Primary Ins,Proc Code,Mod 1,Units,Dx1,Chg Amt\n"
    export += "ZK60001,02/20/2024,Dr. Lee,Medicare,64493,,1,M47.816,900.00\n"
    key = b"k" * 32
    claims = []
    for name in ("east", "west"):
        path = tmp_path / f"{name}.csv"
        path.write_text(export, encoding="utf-8")
        client = Client(name=name, inputs=[str(path)])
        outcome = run_client(client, str(tmp_path), redact_key=key)
        assert outcome.status == "ok", outcome.error
        text = (tmp_path / f"{name}.json").read_text(encoding="utf-8")
        assert "ZK60001" not in text
        claims.append({f["claim_id"] for f in json.loads(text)["findings"]})
    assert claims[0] == claims[1] == {Redactor(key).claim("ZK60001")}
