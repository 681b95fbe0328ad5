"""Side tables' messages never quote a cell (issue 18): the cell is the problem's ``value``.

An authorization export holds patient accounts, and a row shifted by an unquoted comma puts a
patient's name into a date or amount column. The problem says what is wrong ("not a date"),
:attr:`RowProblem.value` keeps the cell for :meth:`RowProblem.text` (shown at the practice), and
the warnings name the column and the rows. Each file here is written out in the test.
"""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from auditkit.cli import cli
from auditkit.ingest.side_tables import read_authorizations, read_fee_schedule

#: Patient-like cell texts that must appear in no message or warning.
NAMES = ("Okonkwo", "Adaeze", "Lindqvist", "Soren", "Marchetti")

AUTHS = (
    "Auth #,Patient Acct,Approved CPT,Start Date,End Date,Approved Units\n"
    "PA-100,ACC-5531,64493,01/02/2026,03/31/2026,2\n"
    # the unquoted comma of the name would shift; here the name sits in the date column
    "PA-101,ACC-5532,64483,Okonkwo,04/30/2026,1\n"
    "PA-102,ACC-5533,64635,02/01/2026,Lindqvist Soren,Adaeze\n"
    "PA-103,ACC-5534,99213,02/01/2026,05/31/2026,1\n"
)

FEES = (
    "Payer,CPT Code,Modifier,Allowed\n"
    "Aetna,64493,,412.50\n"
    'Aetna,64494,,"Marchetti, Ilse"\n'
    "Aetna,64483,,1E400\n"
    "Cigna,64483,,388.00\n"
)


def _no_names(texts: list[str]) -> None:
    for text in texts:
        for name in NAMES:
            assert name not in text, text


def test_authorization_bad_date_and_number_keep_the_cell_in_value_only(tmp_path: Path) -> None:
    path = tmp_path / "auths.csv"
    path.write_text(AUTHS, encoding="utf-8")
    table = read_authorizations(path)
    report = table.report
    assert table.frame["authorization_number"].tolist() == ["PA-100", "PA-101", "PA-102", "PA-103"]
    problems = {(p.row, p.column): p for p in report.problems}
    start = problems[(3, "Start Date")]
    assert (start.message, start.value, start.kept) == ("not a date", "Okonkwo", True)
    assert start.text() == "not a date: 'Okonkwo'"
    end = problems[(4, "End Date")]
    assert (end.message, end.value, end.kept) == ("not a date", "Lindqvist Soren", True)
    units = problems[(4, "Approved Units")]
    assert (units.message, units.value) == ("not a number", "Adaeze")
    _no_names([p.message for p in report.problems])
    _no_names(report.warnings)
    assert (
        "column 'Start Date': 1 value could not be read as a date (row 3): "
        "1 row kept with the value blank"
    ) in report.warnings
    assert report.cells_unread == 3


def test_fee_schedule_bad_amount_leaves_the_row_out_without_quoting_it(tmp_path: Path) -> None:
    path = tmp_path / "fees.csv"
    path.write_text(FEES, encoding="utf-8")
    table = read_fee_schedule(path)
    report = table.report
    assert table.frame["cpt"].tolist() == ["64493", "64483"]
    assert table.frame["allowed"].tolist() == [412.50, 388.00]
    bad = [p for p in report.problems if p.column == "Allowed"]
    assert [(p.row, p.message, p.value, p.kept) for p in bad] == [
        (3, "not an amount", "Marchetti, Ilse", False),
        (4, "not an amount", "1E400", False),
    ]
    # an unreadable required cell is reported once, not also as "blank"
    assert not [p for p in report.problems if p.message.startswith("blank")]
    assert report.warnings == [
        "column 'Allowed': 2 values could not be read as an amount (rows 3, 4): 2 rows left out"
    ]
    assert report.rows_left_out == 2
    _no_names([p.message for p in report.problems])


def test_cli_outputs_name_no_cell_of_the_side_tables(tmp_path: Path) -> None:
    claims = tmp_path / "claims.csv"
    claims.write_text(
        "Claim #,Patient Acct,DOS,Rend Prov,Primary Ins,Proc Code,Units,Dx1,Chg Amt,Ins Paid\n"
        "C1,ACC-5531,01/05/2026,Dr. Vance,Aetna,64493,1,M47.816,900.00,300.00\n"
        "C2,ACC-5532,01/06/2026,Dr. Vance,Aetna,64483,1,M54.16,800.00,350.00\n",
        encoding="utf-8",
    )
    auths = tmp_path / "auths.csv"
    auths.write_text(AUTHS, encoding="utf-8")
    fees = tmp_path / "fees.csv"
    fees.write_text(FEES, encoding="utf-8")
    out = tmp_path / "out.json"
    result = CliRunner().invoke(
        cli,
        [
            "audit",
            str(claims),
            "--auths",
            str(auths),
            "--fee-schedule",
            str(fees),
            "--json",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    warnings = json.loads(out.read_text(encoding="utf-8"))["warnings"]
    files = {Path(w["file"]).name for w in warnings}
    assert {"auths.csv", "fees.csv"} <= files
    _no_names([w["warning"] for w in warnings])
    _no_names([result.output])


def test_codes_that_cannot_be_read_leave_the_row_out_or_keep_what_reads(tmp_path: Path) -> None:
    path = tmp_path / "auths.csv"
    path.write_text(
        "Auth #,Patient Acct,Approved CPT\n"
        "A1,P1,64493\n"
        "A2,P2,6449\n"  # nothing reads: the row is left out
        'A3,P3,"64493, Soren"\n',  # one code reads: the row keeps it
        encoding="utf-8",
    )
    table = read_authorizations(path)
    assert table.frame["authorization_number"].tolist() == ["A1", "A3"]
    assert table.frame["approved_codes"].tolist() == ["64493", "64493"]
    got = [(p.row, p.message, p.value, p.kept) for p in table.report.problems]
    assert got == [
        (3, "not a list of 5-character codes", "6449", False),
        (4, "not a list of 5-character codes", "64493, Soren", True),
    ]
    assert table.report.warnings == [
        "column 'Approved CPT': 2 values could not be read as a list of 5-character codes "
        "(rows 3, 4): 1 row left out, 1 row kept with the value as far as it reads"
    ]
    _no_names(table.report.warnings)
