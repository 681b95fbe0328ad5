"""Builders for synthetic export files used by the ingest tests (all data made up)."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from collections.abc import Sequence
from pathlib import Path

import openpyxl

#: A small export in the style of a PM "charge detail" report.
HEADER = [
    "Claim #",
    "DOS",
    "Rend Prov",
    "Primary Ins",
    "Proc Code",
    "Mod 1",
    "Mod 2",
    "Units",
    "Dx1",
    "Dx2",
    "Chg Amt",
    "Ins Paid",
    "Status",
    "Denial Code",
]
ROWS = [
    [
        "C100",
        "01/05/2024",
        "Lee, Ann",
        "Medicare",
        "20552",
        "",
        "",
        "1",
        "M79.18",
        "",
        "$150.00",
        "98.50",
        "Paid",
        "",
    ],
    [
        "C100",
        "01/05/2024",
        "Lee, Ann",
        "Medicare",
        "99213",
        "25",
        "",
        "1",
        "M5416",
        "",
        "$120.00",
        "0.00",
        "Denied",
        "CO-97",
    ],
    [
        "C101",
        "1/12/2024",
        "Patel, Raj",
        "Aetna",
        "64483",
        "50",
        "",
        "1",
        "M54.16",
        "M48.062",
        "(45.00)",
        "0",
        "Pending",
        "",
    ],
    [
        "C102",
        "02/01/2024",
        "Kim, Sue",
        "BCBS",
        "g3002",
        "",
        "",
        "1",
        "M54.50",
        "",
        "1,200.00",
        "",
        "Partial",
        "PR 2",
    ],
]
REQUIRED_HEADERS = HEADER[:5]


def to_csv_text(rows: Sequence[Sequence[object]], delimiter: str = ",") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    for row in rows:
        writer.writerow(row)
    return buffer.getvalue()


def write_text(
    path: Path,
    rows: Sequence[Sequence[object]],
    *,
    delimiter: str = ",",
    encoding: str = "utf-8",
    before: Sequence[str] = (),
    after: Sequence[str] = (),
) -> Path:
    """Write ``before`` lines, the rows as CSV, then ``after`` lines, in ``encoding``."""
    text = "".join(line + "\r\n" for line in before) + to_csv_text(rows, delimiter)
    text += "".join(line + "\r\n" for line in after)
    path.write_bytes(text.encode(encoding))
    return path


def write_xlsx(path: Path, sheets: dict[str, Sequence[Sequence[object]]]) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(list(row))
    book.save(path)
    return path


def typed_rows() -> list[list[object]]:
    """ROWS with real dates and numbers, as a workbook holds them."""
    out = []
    for row in ROWS:
        typed: list[object] = list(row)
        month, day, year = (int(x) for x in row[1].split("/"))
        typed[1] = dt.datetime(year, month, day)
        typed[4] = float(row[4]) if row[4].isdigit() else row[4]
        typed[7] = 1
        typed[10] = float(row[10].replace("$", "").replace(",", "").replace("(", "-").rstrip(")"))
        typed[11] = float(row[11]) if row[11] else None
        out.append(typed)
    return out


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
