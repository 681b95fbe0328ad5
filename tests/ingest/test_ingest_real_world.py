"""Exports as they arrive (issue 18): mixed line ends, NUL bytes, amounts that are not finite.

Every file is written byte by byte into tmp_path. Where a behaviour depends on the reader, the
file is read both by pyarrow (the fast path) and by the csv module (the fallback, which an
irregular row - here one short row - forces).
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from ingest_helpers import write_xlsx

from auditkit.cli import cli
from auditkit.errors import InputError
from auditkit.ingest import load

HEADER = "Claim #,DOS,Rend Prov,Primary Ins,Proc Code,Units,Chg Amt,Ins Paid"
C1 = "C1,01/05/2024,Lee,Medicare,20552,1,150.00,98.50"
C2 = "C2,01/06/2024,Lee,Medicare,99213,1,120.00,80.00"
C3 = "C3,01/07/2024,Patel,Aetna,64483,1,900.00,400.00"
#: a row with fewer fields than the header: pyarrow refuses the body, the csv module reads it
SHORT = "C4,01/08/2024,Patel,Aetna,99213"
READERS = {"pyarrow": [], "python-csv": [SHORT]}


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _load_one(path: Path):
    before = path.read_bytes()
    result = load(path)
    assert path.read_bytes() == before
    (report,) = result.inputs
    return result.frame, report


@pytest.mark.parametrize("reader", READERS)
def test_crlf_lf_and_bare_cr_mixed_in_one_file(tmp_path: Path, reader: str) -> None:
    extra = "".join(line + "\r" for line in READERS[reader])
    data = f"{HEADER}\r\n{C1}\n{C2}\r{extra}{C3}\r\n".encode()
    frame, report = _load_one(_write(tmp_path / "mixed.csv", data))
    assert report.reader == reader
    expected = ["C1", "C2", "C4", "C3"] if reader == "python-csv" else ["C1", "C2", "C3"]
    assert frame["claim_id"].tolist() == expected
    assert frame["source_row"].tolist() == list(range(2, 2 + len(expected)))
    assert frame["charge"].tolist()[:2] == [150.0, 120.0]
    assert frame["date_of_service"].notna().all()


@pytest.mark.parametrize("reader", READERS)
def test_bare_cr_line_ends_around_the_header_and_before_a_footer(
    tmp_path: Path, reader: str
) -> None:
    # a title and the header ended by bare CRs, LF rows, then bare CRs again up to a totals
    # row: the lines at the end of the file are where footers are looked for (this crashed)
    extra = "".join(line + "\r" for line in READERS[reader])
    data = (
        f"Charge detail 01/2024\r\r{HEADER}\r{C1}\n{C2}\n{extra}{C3}\rTotal,,,,,,1170.00,578.50\r"
    ).encode()
    frame, report = _load_one(_write(tmp_path / "cr.csv", data))
    assert report.reader == reader
    assert report.header_row == 3
    assert frame["claim_id"].tolist()[0] == "C1" and frame["claim_id"].tolist()[-1] == "C3"
    assert frame["source_row"].tolist()[0] == 4
    assert report.footer_rows == [4 + len(frame)]
    assert frame["paid"].sum() == pytest.approx(578.5)


@pytest.mark.parametrize("reader", READERS)
def test_a_bare_cr_inside_a_quoted_value_reads_as_a_space(tmp_path: Path, reader: str) -> None:
    quoted = C1.replace("Medicare", '"Medicare\rPart B"').replace("Lee", '"Lee,\rAnn"')
    rows = [quoted, C2, *READERS[reader]]
    data = (HEADER + "\r\n" + "\r\n".join(rows) + "\r\n").encode()
    frame, report = _load_one(_write(tmp_path / "quoted.csv", data))
    assert report.reader == reader
    assert frame["payer"].tolist()[:2] == ["Medicare Part B", "Medicare"]
    assert frame["rendering_provider"].iloc[0] == "Lee, Ann"
    # the record holding the line break is one row: the next one keeps its number
    assert frame["source_row"].tolist()[:2] == [2, 3]


@pytest.mark.parametrize("reader", READERS)
def test_nul_bytes_are_removed_from_values_and_counted(tmp_path: Path, reader: str) -> None:
    nul_row = C1.replace("Lee", "Le\x00e").replace(",1,150.00", ",\x00\x00,150.00")
    rows = [nul_row, C2.replace("99213", "9921\x003"), *READERS[reader]]
    data = (HEADER + "\r\n" + "\r\n".join(rows) + "\r\n").encode()
    frame, report = _load_one(_write(tmp_path / "nul.csv", data))
    assert report.reader == reader
    assert frame["rendering_provider"].iloc[0] == "Lee"
    assert frame["cpt"].tolist()[:2] == ["20552", "99213"]
    assert pd.isna(frame["units"].iloc[0])  # a cell of NULs only is blank, not unreadable
    assert report.problems == []
    (warning,) = [w for w in report.warnings if "NUL" in w]
    assert warning.startswith("4 NUL bytes were removed")


@pytest.mark.parametrize(
    ("encoding", "bom"), [("utf-8", b""), ("cp1252", b""), ("utf-16-le", b"\xff\xfe")]
)
def test_nul_bytes_before_the_header_do_not_make_a_text_export_binary(
    tmp_path: Path, encoding: str, bom: bytes
) -> None:
    text = f"\x00\x00\x00Peña Pain Clinic\x00\r\n{HEADER}\r\n{C1}\r\n{C2}\r\n"
    frame, report = _load_one(_write(tmp_path / "early.csv", bom + text.encode(encoding)))
    assert report.header_row == 2
    assert frame["claim_id"].tolist() == ["C1", "C2"]
    assert any(w.startswith("4 NUL bytes were removed") for w in report.warnings)


def test_really_binary_files_keep_their_clear_errors(tmp_path: Path) -> None:
    noise = random.Random(18).randbytes(6000)
    cases = {
        "picture.csv": (b"\x89PNG\r\n\x1a\n" + noise, "is a binary file"),
        "database.csv": (b"SQLite format 3\x00" + noise, "is a binary file"),
        "report.csv": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + noise, "is a PDF"),
    }
    for name, (data, said) in cases.items():
        path = _write(tmp_path / name, data)
        with pytest.raises(InputError) as info:
            load(path)
        message = str(info.value)
        assert said in message and name in message and "\n" not in message


def test_a_workbook_named_csv_is_still_read_as_a_workbook(tmp_path: Path) -> None:
    workbook = write_xlsx(tmp_path / "book.xlsx", {"S": [HEADER.split(","), C1.split(",")]})
    renamed = _write(tmp_path / "book.csv", workbook.read_bytes())
    frame, report = _load_one(renamed)
    assert report.reader == "calamine" and frame["claim_id"].tolist() == ["C1"]
    assert any("Excel workbook named .csv" in w for w in report.warnings)


NOT_FINITE = {
    # row: (column, cell)
    2: ("Chg Amt", "1E400"),  # overflows to infinity when read
    3: ("Chg Amt", "NaN"),
    4: ("Ins Paid", "inf"),
    5: ("Ins Paid", "-Infinity"),
    6: ("Chg Amt", "1e308"),  # finite, but two of them overflow a total
    7: ("Chg Amt", "$2,000,000,000,000.00"),  # beyond a trillion
    8: ("Units", "1e308"),  # quantities too: units x charge must not overflow
}


def _not_finite_export(path: Path) -> Path:
    header = HEADER.split(",")
    lines = [HEADER]
    for row in range(2, 10):
        cells = C1.replace("C1", f"C{row}").split(",")
        if row in NOT_FINITE:
            column, cell = NOT_FINITE[row]
            cells[header.index(column)] = f'"{cell}"'
        lines.append(",".join(cells))
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


def test_amounts_that_are_not_finite_are_refused_per_cell(tmp_path: Path) -> None:
    frame, report = _load_one(_not_finite_export(tmp_path / "amounts.csv"))
    assert len(frame) == 8  # every row kept
    found = {p.row: (p.column, p.kept) for p in report.problems}
    assert found == {row: (column, True) for row, (column, _) in NOT_FINITE.items()}
    assert report.cells_unread == len(NOT_FINITE)
    by_row = frame.set_index("source_row")
    for row, (column, _) in NOT_FINITE.items():
        name = {"Chg Amt": "charge", "Ins Paid": "paid", "Units": "units"}[column]
        assert by_row[name].isna()[row]
    assert by_row.loc[9, "charge"] == 150.0  # the row without a problem reads as written
    assert math.isfinite(frame["charge"].sum()) and frame["charge"].abs().max() == 150.0


def test_huge_numbers_in_workbook_cells_are_refused_too(tmp_path: Path) -> None:
    header = HEADER.split(",")
    rows = [header]
    for claim, charge in (("C1", 150.0), ("C2", 1e308), ("C3", -1e300), ("C4", 999_999_999.99)):
        cells: list[object] = C1.replace("C1", claim).split(",")
        cells[header.index("Chg Amt")] = charge
        rows.append(cells)
    frame, report = _load_one(write_xlsx(tmp_path / "huge.xlsx", {"Charges": rows}))
    assert frame["charge"].tolist()[0] == 150.0 and frame["charge"].tolist()[3] == 999_999_999.99
    assert frame["charge"].isna().tolist() == [False, True, True, False]
    assert [(p.row, p.column, p.kept) for p in report.problems] == [
        (3, "Chg Amt", True),
        (4, "Chg Amt", True),
    ]


def _refuse_constant(name: str) -> float:
    raise ValueError(f"not JSON: {name}")


def test_the_json_of_an_export_with_non_finite_amounts_is_json(tmp_path: Path) -> None:
    export = _not_finite_export(tmp_path / "x.csv")
    out = tmp_path / "out.json"
    result = CliRunner().invoke(cli, ["audit", str(export), "--json", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text(encoding="utf-8"), parse_constant=_refuse_constant)
    assert data["inputs"][0]["rows"] == 8
    # the charges that could be read (rows 4, 5, 8 and 9); nothing overflowed
    assert data["summary"]["charges"] == 600.0
    # the cells are reported by row and column (stderr lists the first ones, the JSON's
    # warnings each column; load() gives every one, see the test above)
    assert f"{len(NOT_FINITE)} row(s) could not be read" in result.output
    for row in (2, 3, 4):
        assert f"row {row} (column '{NOT_FINITE[row][0]}')" in result.output
    warned = " ".join(w["warning"] for w in data["warnings"])
    for column in ("Chg Amt", "Ins Paid", "Units"):
        assert f"column '{column}'" in warned
    assert "Infinity" not in out.read_text(encoding="utf-8")
