"""The xlwings writer against a fake workbook built on xlwings' own classes (fakebook.py).

Two kinds of checks:

* the same report rendered by the openpyxl writer and read back with openpyxl must show the
  same values, fills, font colours, number formats, merges, widths, heights, tables, frozen
  panes and conditional colours as the xlwings writer's fake workbook: one model, two writers;
* the colours and formats the xlwings writer writes are the ones auditkit/report/style.py
  declares, and text from an export can never become a formula or a number in Excel.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fakebook import FakeBook, fake_book
from openpyxl import load_workbook
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.worksheet.cell_range import MultiCellRange

import auditkit
from auditkit.excel import xlwings_writer
from auditkit.excel.markers import MARKER_NAME
from auditkit.excel.openpyxl_writer import write_report as write_with_openpyxl
from auditkit.excel.xlwings_writer import write_report
from auditkit.ingest.model import ClaimLines
from auditkit.report import build_report
from auditkit.report.layout import table_header_row
from auditkit.report.model import Column, Fact, Facts, Report, Sheet, Table, Text, Title
from auditkit.report.style import (
    ENTRY_HEADER_LOOK,
    HEADER_LOOK,
    SEVERITY_LOOK,
    STATUS_LOOK,
    TABLE_STYLE,
    TITLE_LOOK,
    number_format,
)

ROOT = Path(__file__).parents[2]
SAMPLE = ROOT / "sample_exports" / "clinicore_export.txt"
WHEN = datetime(2025, 11, 3, 9, 30)


@pytest.fixture(scope="module")
def report() -> Report:
    loaded = auditkit.load(SAMPLE)
    # The first 600 lines: findings of several audits and severities, and a lines sheet small
    # enough to compare cell by cell quickly.
    lines = ClaimLines(loaded.frame.iloc[:600].reset_index(drop=True), loaded.inputs)
    result = auditkit.run_audits(lines)
    return build_report(
        result, lines, practice="Riverside Pain", period="October 2025", generated_at=WHEN,
        with_lines=True,
    )  # fmt: skip


@pytest.fixture(scope="module")
def rendered(report, tmp_path_factory):
    """(fake book written by xlwings, openpyxl workbook of the same report)."""
    book = fake_book(sheets=("Notes",))
    write_report(report, book.mock)
    path = tmp_path_factory.mktemp("openpyxl") / "audit.xlsx"
    write_with_openpyxl(report, path)
    return book, load_workbook(path)


# -- one model, two writers ----------------------------------------------------------------------


def _same(a, b) -> bool:
    a = None if a == "" else a
    b = None if b == "" else b
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)
    return a == b


def _openpyxl_rules(ws) -> list[tuple[tuple[int, int, int, int], Any, str | None, str | None]]:
    """The openpyxl writer's rules: (area, test of a row, fill, font). Severity rules compare
    a column with a value; value rules (report.model.CellRule) bound a number."""
    rules = []
    for area, found in ws.conditional_formatting._cf_rules.items():
        for rule in found:
            fill = rule.dxf.fill.fgColor.rgb[-6:] if rule.dxf.fill is not None else None
            font = rule.dxf.font.color.rgb[-6:] if rule.dxf.font is not None else None
            test = _rule_test(rule.formula[0])
            for cells in MultiCellRange(str(area.sqref)).ranges:
                bounds = (cells.min_row, cells.min_col, cells.max_row, cells.max_col)
                rules.append((bounds, test, fill, font))
    return rules


def _rule_test(formula: str):
    """A row -> bool test of a sheet for one of the writer's rule formulas."""
    match = re.fullmatch(r'\$([A-Z]+)\d+="([^"]*)"', formula)
    if match:
        column, value = column_index_from_string(match[1]), match[2]
        return lambda ws, row: ws.cell(row, column).value == value
    match = re.fullmatch(
        r"AND\(ISNUMBER\(\$([A-Z]+)\d+\)((?:,\$[A-Z]+\d+[<>]=-?[\d.]+)*)\)", formula
    )
    assert match, f"no test for the rule {formula!r}"
    column = column_index_from_string(match[1])
    bounds = re.findall(r"([<>]=)(-?[\d.]+)", match[2])

    def test(ws, row):
        value = ws.cell(row, column).value
        if not isinstance(value, int | float) or isinstance(value, bool):
            return False
        return all(value >= float(b) if op == ">=" else value <= float(b) for op, b in bounds)

    return test


def _openpyxl_shown(ws, cell, rules) -> tuple[str | None, str | None]:
    fill = cell.fill.fgColor.rgb[-6:] if cell.fill.fill_type == "solid" else None
    color = cell.font.color.rgb if cell.font.color is not None else None
    font = color[-6:] if isinstance(color, str) else None
    for (r1, c1, r2, c2), test, rule_fill, rule_font in rules:
        inside = r1 <= cell.row <= r2 and c1 <= cell.column <= c2
        if inside and test(ws, cell.row):
            return rule_fill or fill, rule_font or font
    return fill, font


def test_same_sheets_in_the_same_order(rendered):
    book, wb = rendered
    assert [s.name for s in book.sheets] == ["Notes", *wb.sheetnames]


def test_same_cells(rendered):
    book, wb = rendered
    differences = []
    compared = 0
    for ws in wb.worksheets:
        fake = book.sheet(ws.title)
        rules = _openpyxl_rules(ws)
        for row in ws.iter_rows():
            for cell in row:
                if type(cell).__name__ == "MergedCell":
                    continue
                mine = fake.cells.get((cell.row, cell.column))
                if cell.value is None and (mine is None or mine.value is None):
                    continue  # empty in both (formats of empty cells may differ)
                compared += 1
                where = f"{ws.title}!{cell.coordinate}"
                if mine is None or not _same(cell.value, mine.value):
                    differences.append((where, "value", cell.value, mine and mine.value))
                    continue
                if mine.number_format != cell.number_format:
                    differences.append((where, "format", cell.number_format, mine.number_format))
                fill, font = _openpyxl_shown(ws, cell, rules)
                if fill != fake.shown_fill(cell.row, cell.column):
                    differences.append(
                        (where, "fill", fill, fake.shown_fill(cell.row, cell.column))
                    )
                shown_font = fake.shown_font_color(cell.row, cell.column)
                if font != shown_font and not (font in (None, "000000") and shown_font is None):
                    differences.append((where, "font colour", font, shown_font))
                for name, theirs, ours in (
                    ("bold", bool(cell.font.b), bool(mine.font.get("bold"))),
                    ("italic", bool(cell.font.i), bool(mine.font.get("italic"))),
                    ("wrap", bool(cell.alignment.wrap_text), bool(mine.wrap)),
                    ("horizontal", cell.alignment.horizontal, mine.halign),
                    ("vertical", cell.alignment.vertical, mine.valign),
                ):
                    if theirs != ours:
                        differences.append((where, name, theirs, ours))
                if mine.font.get("size") and cell.font.sz != mine.font["size"]:
                    differences.append((where, "size", cell.font.sz, mine.font["size"]))
                link = cell.hyperlink.location if cell.hyperlink else None
                if link != (mine.link[1:] if mine.link else None):
                    differences.append((where, "link", link, mine.link))
    assert compared > 10_000  # the claim lines sheet is in the comparison
    assert differences == []


def test_same_sheet_layout(rendered):
    book, wb = rendered
    for ws in wb.worksheets:
        fake = book.sheet(ws.title)
        widths = {
            # a hidden column (a finding's key): hidden by a width of 0 through xlwings
            column_index_from_string(letter): 0 if dim.hidden else dim.width
            for letter, dim in ws.column_dimensions.items()
            if dim.customWidth
        }
        assert widths == fake.column_widths, ws.title
        heights = {r: d.height for r, d in ws.row_dimensions.items() if d.height is not None}
        assert heights == fake.row_heights, ws.title
        merged = sorted((m.min_row, m.min_col, m.max_row, m.max_col) for m in ws.merged_cells)
        assert merged == sorted(fake.merged), ws.title
        assert ws.freeze_panes == fake.freeze, ws.title
        assert (ws.sheet_view.showGridLines is not False) == fake.gridlines, ws.title
        tables = sorted((t.displayName, t.ref, t.tableStyleInfo.name) for t in ws.tables.values())
        mine = sorted(
            (
                t["name"],
                f"{get_column_letter(t['area'][1])}{t['area'][0]}:"
                f"{get_column_letter(t['area'][3])}{t['area'][2]}",
                t["table_style_name"],
            )
            for t in fake.tables
        )
        assert tables == mine, ws.title
        assert len(ws._charts) == len(fake.charts), ws.title
        assert fake.names == {MARKER_NAME: f'="{ws.title}"'}


def test_same_charts(rendered):
    book, wb = rendered
    summary = wb["Summary"]
    fake = book.sheet("Summary")
    assert len(fake.charts) >= 2
    for drawn, chart in zip(summary._charts, fake.charts, strict=True):
        kind = "bar" if drawn.type == "bar" else "column"
        grouping = "stacked" if drawn.grouping == "stacked" else "clustered"
        assert chart["options"]["chart_type"] == f"{kind}_{grouping}"
        anchor = drawn.anchor._from
        assert chart["anchor"][:2] == (anchor.row + 1, anchor.col + 1)
        assert chart["title"] == drawn.title.tx.rich.p[0].r[0].t
        bars = ["#" + str(s.graphicalProperties.solidFill.srgbClr) for s in drawn.series]
        assert [s.get("fill_color") for s in chart["series"][: len(bars)]] == bars


# -- the palette and formats of style.py ---------------------------------------------------------


def _find(fake, text):
    for (row, col), cell in fake.cells.items():
        if cell.value == text:
            return row, col
    raise AssertionError(f"{text!r} not written")


def test_palette_and_formats_are_style_py(rendered, report):
    book, _ = rendered
    fake = book.sheet("Summary")
    title = fake.cells[(1, 1)]
    assert title.font["color"] == TITLE_LOOK.font and title.font["size"] == TITLE_LOOK.size
    facts = next(b for b in report.sheet("Summary").blocks if isinstance(b, Facts) and b.headers)
    header_row, _ = _find(fake, facts.headers[0])
    for col in range(1, len(facts.headers) + 1):
        assert fake.cells[(header_row, col)].fill == HEADER_LOOK.fill
        assert fake.cells[(header_row, col)].font["color"] == HEADER_LOOK.font
    statuses = set()
    for offset, fact in enumerate(facts.rows, start=1):
        value = fake.cells[(header_row + offset, 2)]
        if fact.status:
            statuses.add(fact.status)
            assert value.fill == STATUS_LOOK[fact.status].fill, fact.label
            assert value.font["color"] == STATUS_LOOK[fact.status].font, fact.label
        if isinstance(fact.value, int | float) and not isinstance(fact.value, bool):
            assert value.number_format == number_format(fact.kind), fact.label
    assert len(statuses) >= 2  # more than one traffic light is checked


def test_tables_rows_and_formats_are_style_py(rendered, report):
    book, _ = rendered
    checked_severities = set()
    for sheet in report.sheets:
        fake = book.sheet(sheet.name)
        assert {t["table_style_name"] for t in fake.tables} <= {TABLE_STYLE}
        for table in sheet.tables():
            top = table_header_row(sheet, table.key)
            for col, column in enumerate(table.columns, start=1):
                header = ENTRY_HEADER_LOOK if column.entry else HEADER_LOOK
                assert fake.cells[(top, col)].fill == header.fill
                for r in range(min(len(table), 5)):
                    cell = fake.cells[(top + 1 + r, col)]
                    assert cell.number_format == number_format(column.kind), column.key
            if not table.row_look:
                continue
            for r, severity in enumerate(table.frame[table.row_look].iloc[:200]):
                if pd.isna(severity):
                    continue
                look = SEVERITY_LOOK[severity]
                for col in (1, len(table.columns)):
                    assert fake.shown_fill(top + 1 + r, col) == look.fill
                    assert fake.shown_font_color(top + 1 + r, col) == look.font
                checked_severities.add(severity)
    assert {"high", "medium"} <= checked_severities


# -- text stays text -----------------------------------------------------------------------------


def _tiny_report(frame: pd.DataFrame) -> Report:
    table = Table(
        "findings:demo",
        [Column("claim", "Claim"), Column("text", "Finding", wrap=True),
         Column("amount", "At risk", "currency"), Column("when", "Date", "date")],
        frame,
        row_look=None,
    )  # fmt: skip
    blocks = [
        Title("=SUM(1,2)"),
        Text("@evil and more", label="Why it matters"),
        Facts([Fact("Practice", "+cmd|' /C calc'!A0"), Fact("Lines", 12, "integer")]),
        table,
    ]
    return Report([Sheet("demo", "audit", blocks, freeze=table.key)], "t", WHEN, "0")


def test_text_from_an_export_stays_text():
    frame = pd.DataFrame(
        {
            "claim": ["00123", '=HYPERLINK("http://x")', "1E5", "2025-01-02", None],
            "text": ["-5", "+1", "TRUE", "plain", "50%"],
            "amount": [1.5, None, float("nan"), 3.0, 2.0],
            "when": pd.to_datetime(["2025-10-01", None, "2025-10-03", "2025-10-04", "2025-10-05"]),
        }
    )
    book = fake_book()
    write_report(_tiny_report(frame), book.mock)
    fake = book.sheet("demo")
    texts = {(r, c): cell for (r, c), cell in fake.cells.items() if isinstance(cell.value, str)}
    assert all(cell.quoted for cell in texts.values())
    assert not any(cell.formula or cell.coerced for cell in fake.cells.values())
    top = next(t["area"][0] for t in fake.tables)
    assert [fake.value(top + 1 + r, 1) for r in range(5)] == [*frame["claim"][:4], None]
    assert [fake.value(top + 1 + r, 2) for r in range(5)] == list(frame["text"])
    assert [fake.value(top + 1 + r, 3) for r in range(5)] == [1.5, None, None, 3.0, 2.0]
    assert fake.value(top + 1, 4) == datetime(2025, 10, 1) and fake.value(top + 2, 4) is None
    assert fake.value(1, 1) == "=SUM(1,2)"
    label_row = next(r for (r, c), cell in texts.items() if str(cell.value).startswith("Why"))
    assert (label_row, 1, 0, len("Why it matters: ")) in fake.bold_spans


def test_big_tables_are_written_in_chunks(monkeypatch):
    monkeypatch.setattr(xlwings_writer, "CHUNK_ROWS", 2)
    frame = pd.DataFrame({"claim": list("abcde"), "text": list("vwxyz"), "amount": range(5),
                          "when": pd.Timestamp("2025-10-01")})  # fmt: skip
    book = fake_book()
    write_report(_tiny_report(frame), book.mock)
    writes = [w for w in book.sheet("demo").writes if w["area"][2] - w["area"][0] == 4]
    assert [w["options"].get("chunksize") for w in writes] == [2]


# -- writing again -------------------------------------------------------------------------------


def _three_sheets() -> Report:
    frame = pd.DataFrame({"claim": ["C1"], "text": ["x"], "amount": [1.0], "when": [WHEN]})
    sheets = [
        Sheet("Summary", "summary", [Title("Billing audit")]),
        _tiny_report(frame).sheets[0],
        Sheet("About", "about", [Title("About this workbook")]),
    ]
    return Report(sheets, "t", WHEN, "0")


def test_a_rerun_replaces_only_auditkits_sheets():
    report = _three_sheets()
    book = fake_book(sheets=("Settings", "xlwings.conf"))
    write_report(report, book.mock)
    assert [s.name for s in book.sheets] == ["Settings", "xlwings.conf", "Summary", "demo", "About"]
    # the user renames one of auditkit's sheets (it is now theirs), adds one of their own and
    # types into another
    book.sheet("About").name = "My notes"
    book.add_sheet("Pivot")
    book.sheet("demo").cell(40, 1).value = "my note"
    write_report(report, book.mock)
    names = [s.name for s in book.sheets]
    assert names == [
        "Settings", "xlwings.conf", "Summary", "demo", "About", "My notes", "Pivot"
    ]  # fmt: skip
    assert book.sheet("demo").value(40, 1) is None  # auditkit's sheet was written anew
    assert book.sheet("My notes").value(1, 1) == "About this workbook"  # the user's: kept
    assert book.activated[-1] == "Summary"
    assert book.app_state["screen_updating"] is True


def test_sheet_names_the_user_has_are_not_taken():
    book = fake_book(sheets=("Summary",))
    write_report(_three_sheets(), book.mock)
    assert [s.name for s in book.sheets] == ["Summary", "Summary (2)", "demo", "About"]
    assert book.sheet("Summary (2)").names == {MARKER_NAME: '="Summary (2)"'}


def test_screen_updating_comes_back_after_an_error(monkeypatch):
    def broken(self):
        raise RuntimeError("Excel went away")

    monkeypatch.setattr(xlwings_writer._XlSheetWriter, "write", broken)
    book: FakeBook = fake_book()
    with pytest.raises(RuntimeError):
        write_report(_three_sheets(), book.mock)
    assert book.app_state["screen_updating"] is True


def test_the_fake_refuses_what_xlwings_does_not_have():
    # The fake is built on xlwings' classes: a misspelt attribute fails as it would in Excel.
    book = fake_book()
    rng = book.sheet("Sheet1").mock.range((1, 1))
    with pytest.raises(AttributeError):
        rng.colour = "#FFFFFF"
    with pytest.raises(AttributeError):
        book.sheet("Sheet1").mock.add_table(rng)
