"""The fast row path: well-formed SpreadsheetML, values and styles as declared."""

from __future__ import annotations

import re
from xml.etree import ElementTree

import numpy as np
import pandas as pd

from auditkit.excel.sheetdata import CellFormat, RowBlock
from auditkit.report import safety
from auditkit.report.safety import MAX_CELL_CHARS, clean_text, clean_text_series, is_formula_like

NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
XML = "{http://www.w3.org/XML/1998/namespace}"


def _rows(block: RowBlock, chunk_rows: int = 2) -> list[ElementTree.Element]:
    xml = b"".join(block.xml_chunks(chunk_rows=chunk_rows)).decode()
    root = ElementTree.fromstring(f'<sheetData xmlns="{NS[1:-1]}">{xml}</sheetData>')
    return list(root)


def test_rows_cells_and_values():
    frame = pd.DataFrame(
        {
            "text": pd.array(["a & b < c > d", None, " padded ", "=1+1", ""], dtype="string"),
            "money": [1.5, np.nan, -2.0, float("inf"), 1e20],
            "day": pd.to_datetime(
                ["2026-01-02", None, "1900-03-01", "2026-01-02 12:00", "2026-12-31"], format="mixed"
            ),
            "flag": pd.array([True, False, None, True, False], dtype="boolean"),
        }
    )
    formats = [
        CellFormat("text", 0, quote_style_id=9),
        CellFormat("currency", 5),
        CellFormat("date", 6),
        CellFormat("bool", 0),
    ]
    rows = _rows(RowBlock(frame, formats, first_row=7, first_column=2))
    assert [r.get("r") for r in rows] == ["7", "8", "9", "10", "11"]
    first = {c.get("r"): c for c in rows[0]}
    assert set(first) == {"B7", "C7", "D7", "E7"}
    assert first["B7"].get("t") == "inlineStr" and first["B7"].get("s") is None
    assert first["B7"].find(f"{NS}is/{NS}t").text == "a & b < c > d"
    assert first["C7"].get("s") == "5" and first["C7"].find(f"{NS}v").text == "1.5"
    assert float(first["D7"].find(f"{NS}v").text) == 46024.0  # 2026-01-02 as an Excel serial
    assert first["E7"].get("t") == "b" and first["E7"].find(f"{NS}v").text == "1"
    # missing values, infinities and empty text leave the cell out
    assert [c.get("r") for c in rows[1]] == ["E8"]
    assert "C10" not in {c.get("r") for c in rows[3]}
    assert "B11" not in {c.get("r") for c in rows[4]}
    padded = rows[2][0].find(f"{NS}is/{NS}t")
    assert padded.text == " padded " and padded.get("{http://www.w3.org/XML/1998/namespace}space")
    assert rows[3][0].get("s") == "9"  # formula-like text gets the quote-prefix style
    by_ref = {c.get("r"): c for row in rows for c in row}
    assert float(by_ref["D10"].find(f"{NS}v").text) == 46024.5  # noon is half a day
    assert float(by_ref["D9"].find(f"{NS}v").text) == 61.0
    assert float(by_ref["C11"].find(f"{NS}v").text) == 1e20


def test_chunks_cover_all_rows_once():
    frame = pd.DataFrame({"n": range(10)})
    block = RowBlock(frame, [CellFormat("integer", 3)], first_row=2)
    rows = _rows(block, chunk_rows=3)
    assert [int(r[0].find(f"{NS}v").text) for r in rows] == list(range(10))
    assert (block.last_row, block.last_column) == (11, 1)


def test_carriage_return_survives_xml():
    frame = pd.DataFrame({"t": pd.array(["\r=cmd"], dtype="string")})
    (row,) = _rows(RowBlock(frame, [CellFormat("text", 0, 4)], first_row=1))
    assert row[0].find(f"{NS}is/{NS}t").text == "\r=cmd"


# -- the byte-level shortcuts give what the regular expressions they replace give ----------------

_EDGE_CASES = [
    " a",
    "a ",
    "\ta",
    "a\n",
    "\u3000a",  # ideographic space: not an ASCII space
    "a\u00a0",
    "é ",
    " é",
    "😀",
    "x",
    "",
    None,
    "a & b",
    "<&>\r",
    "\r=cmd",
    "=SUM(A1)",
    "+1",
    "-1",
    "@x",
    "\tx",
]


def test_space_preserve_and_quote_style_match_the_rules():
    frame = pd.DataFrame({"t": pd.array(_EDGE_CASES * 3, dtype="string")})
    # Slices starting inside the frame (Arrow arrays with an offset) and odd chunk sizes.
    for start in (0, 5):
        part = frame.iloc[start:]
        rows = _rows(RowBlock(part, [CellFormat("text", 0, 4)], first_row=1), chunk_rows=7)
        by_row = {int(r.get("r")): r for r in rows}
        for i, value in enumerate(part["t"], start=1):
            if pd.isna(value) or value == "":
                assert len(by_row[i]) == 0
                continue
            (cell,) = by_row[i]
            t = cell.find(f"{NS}is/{NS}t")
            assert t.text == value
            # A carriage return is written as &#13;, which keeps it without xml:space.
            shown = value.replace("\r", "&#13;")
            edge = re.search(r"^[\t\n\f\r ]|[\t\n\f\r ]$", shown) is not None
            assert (t.get(f"{XML}space") == "preserve") == edge, repr(value)
            assert (cell.get("s") == "4") == is_formula_like(value), repr(value)


def test_clean_text_series_is_clean_text_per_value():
    values = [
        *_EDGE_CASES,
        "\fa",
        "a\x0b",
        "a\x00b",
        "\x1f",
        "ok\ufffe",
        "\uffff",
        "\uf000 private use (starts with byte 0xEF)",
        "x" * (MAX_CELL_CHARS + 1),
        "x" * MAX_CELL_CHARS,
        "é" * (MAX_CELL_CHARS - 10),  # more bytes than the limit, fewer characters
        "😀" * (MAX_CELL_CHARS // 2 + 1),
    ]
    series = pd.Series(values * 2, dtype=object).iloc[3:]
    cleaned = clean_text_series(series)
    expected = [None if v is None else clean_text(v) for v in series]
    assert [None if pd.isna(v) else v for v in cleaned] == expected


def test_clean_text_series_scans_long_columns_in_blocks(monkeypatch):
    # Values needing cleaning on either side of the scan's block boundaries are all found.
    monkeypatch.setattr(safety, "_SCAN_BYTES", 5)
    values = pd.Series(["abc", "d\x00e", "fghij", "\x1f", "ok", "x\uffff", "é\x01"] * 3)
    cleaned = clean_text_series(values)
    assert list(cleaned) == [clean_text(v) for v in values]
