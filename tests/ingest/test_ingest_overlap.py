"""The same claim lines in two exports are counted once, from the later file (issue 18).

Every export here is written by hand into tmp_path; the key is claim number, date of service,
code (and line number when every export has one), matched by occurrence within each file.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from click.testing import CliRunner
from ingest_helpers import write_xlsx

from auditkit.cli import cli
from auditkit.ingest import load

HEADER = "Claim #,DOS,Rend Prov,Primary Ins,Proc Code,Units,Chg Amt,Ins Paid,Status"


def _export(path: Path, *lines: str, header: str = HEADER) -> Path:
    path.write_text(header + "\r\n" + "".join(line + "\r\n" for line in lines), encoding="utf-8")
    return path


def _rows_add_up(result) -> None:
    assert sum(report.rows for report in result.inputs) == len(result.frame)


def test_overlapping_date_ranges_count_each_line_once_from_the_later_file(
    tmp_path: Path, checksums
) -> None:
    # January pulled on Feb 1 (C2 still pending), then January-February pulled on Mar 1
    january = _export(
        tmp_path / "jan.csv",
        "C1,01/05/2024,Lee,Medicare,20552,1,150.00,98.50,Paid",
        "C2,01/20/2024,Lee,Aetna,99213,1,120.00,0.00,Pending",
        "C3,01/29/2024,Patel,Aetna,64483,1,900.00,400.00,Paid",
    )
    jan_feb = _export(
        tmp_path / "jan_feb.csv",
        "C1,01/05/2024,Lee,Medicare,20552,1,150.00,98.50,Paid",
        "C2,01/20/2024,Lee,Aetna,99213,1,120.00,80.00,Paid",
        "C3,01/29/2024,Patel,Aetna,64483,1,900.00,400.00,Paid",
        "C4,02/02/2024,Lee,Medicare,20553,1,180.00,110.00,Paid",
    )
    checksums(january, jan_feb)
    result = load([january, jan_feb])
    frame = result.frame
    assert len(frame) == 4
    assert frame["claim_id"].tolist() == ["C1", "C2", "C3", "C4"]
    # the later pull's copy wins: C2 is paid there
    assert frame["source_file"].tolist() == [str(jan_feb)] * 4
    assert frame.loc[frame["claim_id"] == "C2", "paid"].item() == 80.0
    assert frame["charge"].sum() == 1350.0  # not 2520: January is not counted twice
    jan_report, jan_feb_report = result.inputs
    assert jan_report.rows == 0 and jan_feb_report.rows == 4
    _rows_add_up(result)
    (warning,) = [w for w in jan_feb_report.warnings if "counted once" in w]
    assert str(january) in warning and str(jan_feb) in warning and "3 claim lines" in warning
    assert not any("counted once" in w for w in jan_report.warnings)


def test_the_same_file_given_twice_counts_once(tmp_path: Path) -> None:
    export = _export(
        tmp_path / "charges.csv",
        "C1,01/05/2024,Lee,Medicare,20552,1,150.00,98.50,Paid",
        "C2,01/06/2024,Lee,Medicare,99213,1,120.00,80.00,Paid",
    )
    result = load([export, export])
    assert len(result.frame) == 2
    assert [r.rows for r in result.inputs] == [0, 2]
    (warning,) = result.inputs[1].warnings
    assert "given twice" in warning and "2 claim lines" in warning and str(export) in warning


def test_the_same_code_twice_on_one_claim_in_one_file_is_never_dropped(tmp_path: Path) -> None:
    # two trigger-point lines of one claim, no line-number column: same key, both real
    one_file = _export(
        tmp_path / "tpi.csv",
        "C7,03/04/2024,Lee,Medicare,20552,1,150.00,98.50,Paid",
        "C7,03/04/2024,Lee,Medicare,20552,1,150.00,98.50,Paid",
        "C8,03/04/2024,Lee,Medicare,99213,1,120.00,80.00,Paid",
    )
    alone = load(one_file)
    assert len(alone.frame) == 3 and alone.inputs[0].warnings == []

    # a later export holding the claim once takes one of the two lines, not both
    later = _export(tmp_path / "later.csv", "C7,03/04/2024,Lee,Medicare,20552,1,150.00,98.50,Paid")
    result = load([one_file, later])
    frame = result.frame
    assert (frame["claim_id"] == "C7").sum() == 2
    assert frame["source_file"].tolist() == [str(one_file)] * 2 + [str(later)]
    assert frame["source_row"].tolist() == [3, 4, 2]  # the earlier file keeps its second line
    assert [r.rows for r in result.inputs] == [2, 1]
    assert "1 claim line of" in result.inputs[1].warnings[0]

    # a later export holding both lines takes both
    both = _export(
        tmp_path / "both.csv",
        "C7,03/04/2024,Lee,Medicare,20552,1,150.00,98.50,Paid",
        "C7,03/04/2024,Lee,Medicare,20552,1,150.00,98.50,Paid",
    )
    result = load([one_file, both])
    assert (result.frame["claim_id"] == "C7").sum() == 2
    assert set(result.frame.loc[result.frame["claim_id"] == "C7", "source_file"]) == {str(both)}
    _rows_add_up(result)


def test_line_numbers_join_the_key_when_every_export_has_them(tmp_path: Path) -> None:
    header = "Claim #,Ln,DOS,Rend Prov,Primary Ins,Proc Code,Chg Amt"
    first = _export(
        tmp_path / "first.csv",
        "C1,1,01/05/2024,Lee,Medicare,20552,150.00",
        "C1,2,01/05/2024,Lee,Medicare,20552,150.00",
        header=header,
    )
    second = _export(
        tmp_path / "second.csv", "C1,2,01/05/2024,Lee,Medicare,20552,150.00", header=header
    )
    result = load([first, second])
    frame = result.frame
    # line 2 overlaps; line 1 is only in the first file (by occurrence alone, line 1 would go)
    assert frame["line_number"].tolist() == [1, 2]
    assert frame["source_file"].tolist() == [str(first), str(second)]
    assert "and line number" in result.inputs[1].warnings[0]

    # an export without a line-number column: the key is claim, date and code (by occurrence)
    no_lines = _export(tmp_path / "no_lines.csv", "C1,01/05/2024,Lee,Medicare,20552,1,150.00,,")
    result = load([first, no_lines])
    assert result.frame["source_file"].tolist() == [str(first), str(no_lines)]
    assert result.frame["source_row"].tolist() == [3, 2]
    _rows_add_up(result)


def test_a_line_that_differs_in_key_is_kept_and_the_order_of_files_decides(
    tmp_path: Path,
) -> None:
    older = _export(
        tmp_path / "older.csv",
        "C1,01/05/2024,Lee,Medicare,20552,1,150.00,0.00,Pending",
        "C2,01/06/2024,Lee,Medicare,99213,1,120.00,80.00,Paid",
    )
    newer = _export(
        tmp_path / "newer.csv",
        "C1,01/05/2024,Lee,Medicare,20552,1,150.00,98.50,Paid",
        "C2,01/07/2024,Lee,Medicare,99213,1,120.00,80.00,Paid",  # another date: another line
    )
    forward = load([older, newer]).frame
    assert forward["status"].tolist() == ["paid", "paid", "paid"]
    assert forward["source_file"].tolist() == [str(older), str(newer), str(newer)]
    backward = load([newer, older]).frame  # given the other way round, the older file wins
    assert backward.loc[backward["claim_id"] == "C1", "status"].item() == "pending"


def test_three_files_each_line_goes_to_the_last_file_holding_it(tmp_path: Path) -> None:
    a = _export(tmp_path / "a.csv", "C1,01/05/2024,Lee,Medicare,20552,1,150.00,1.00,Paid")
    b = _export(
        tmp_path / "b.csv",
        "C1,01/05/2024,Lee,Medicare,20552,1,150.00,2.00,Paid",
        "C2,01/06/2024,Lee,Medicare,99213,1,120.00,2.00,Paid",
    )
    c = _export(tmp_path / "c.csv", "C2,01/06/2024,Lee,Medicare,99213,1,120.00,3.00,Paid")
    result = load([a, b, c])
    assert result.frame["paid"].tolist() == [2.0, 3.0]
    assert [r.rows for r in result.inputs] == [0, 1, 1]
    assert str(a) in result.inputs[1].warnings[0] and str(b) in result.inputs[2].warnings[0]


def test_a_csv_and_a_workbook_of_the_same_lines_overlap(tmp_path: Path) -> None:
    csv_path = _export(
        tmp_path / "pull.csv",
        "C1,01/05/2024,Lee,Medicare,20552,1,$150.00,98.50,Paid",
        "C2,01/06/2024,Lee,Medicare,99213,1,$120.00,80.00,Paid",
    )
    workbook = write_xlsx(
        tmp_path / "pull.xlsx",
        {
            "Charges": [
                HEADER.split(","),
                ["C2", pd.Timestamp("2024-01-06").to_pydatetime(), "Lee", "Medicare", 99213.0]
                + [1, 120.0, 80.0, "Paid"],
            ]
        },
    )
    result = load([csv_path, workbook])
    assert result.frame["claim_id"].tolist() == ["C1", "C2"]
    assert result.frame["source_file"].tolist() == [str(csv_path), str(workbook)]
    assert result.inputs[1].reader == "calamine"
    _rows_add_up(result)


# a remittance for the same service as the export's line C1 (hand-written, one claim)
REMIT = (
    "ISA*00*          *00*          *ZZ*PAYER          *ZZ*CLINIC         *240301*0900*^*00501*"
    "000000001*0*P*:~GS*HP*PAYER*CLINIC*20240301*0900*1*X*005010X221A1~ST*835*0001~"
    "BPR*I*98.5*C*ACH*CCP*01*011000015*DA*1*1*01*021000021*DA*2*20240301~TRN*1*EFT1*1~"
    "N1*PR*MEDICARE~N1*PE*CLINIC*XX*1003000100~LX*1~CLP*C1*1*150*98.5*0*MB*PCN1*11*1~"
    "NM1*82*1*LEE*ANN****XX*1003000126~SVC*HC:20552*150*98.5**1~DTM*472*20240105~"
    "CAS*CO*45*51.5~REF*6R*1~SE*12*0001~GE*1*1~IEA*1*000000001~"
)


def test_remittance_lines_are_not_compared_with_exports(tmp_path: Path) -> None:
    export = _export(tmp_path / "charges.csv", "C1,01/05/2024,Lee,Medicare,20552,1,150,98.5,Paid")
    remit = tmp_path / "era.835"
    remit.write_text(REMIT, encoding="ascii")
    result = load([export, remit])
    assert result.frame["claim_id"].tolist() == ["C1", "C1"]
    assert result.frame["source_file"].tolist() == [str(export), str(remit)]
    assert not any("counted once" in w for r in result.inputs for w in r.warnings)


def test_the_cli_counts_overlapping_exports_once_and_says_so(tmp_path: Path) -> None:
    first = _export(
        tmp_path / "q1.csv",
        "C1,01/05/2024,Lee,Medicare,20552,1,150.00,98.50,Paid",
        "C2,03/06/2024,Lee,Medicare,99213,1,120.00,80.00,Paid",
    )
    second = _export(
        tmp_path / "mar_apr.csv",
        "C2,03/06/2024,Lee,Medicare,99213,1,120.00,80.00,Paid",
        "C3,04/02/2024,Lee,Medicare,99213,1,120.00,80.00,Paid",
    )
    out = tmp_path / "audit.json"
    result = CliRunner().invoke(cli, ["audit", str(first), str(second), "--json", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert [i["rows"] for i in data["inputs"]] == [1, 2]
    assert data["summary"]["lines"] == 3
    assert data["summary"]["charges"] == 390.0
    (warning,) = [w for w in data["warnings"] if "counted once" in w["warning"]]
    assert warning["file"] == str(second) and str(first) in warning["warning"]
    assert "counted once" in result.output  # and on stderr
