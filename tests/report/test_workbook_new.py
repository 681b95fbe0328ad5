"""A new audit workbook, read back with openpyxl: sheets, tables, fills, formats, charts, links."""

from __future__ import annotations

import re
import zipfile
from datetime import datetime

import pandas as pd
import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter, range_boundaries

from auditkit import __version__
from auditkit.excel.markers import MARKER_NAME, marked_title
from auditkit.report import build_report
from auditkit.report.style import NUMBER_FORMATS, SEVERITY_LOOK, STATUS_LABEL, STATUS_LOOK


@pytest.fixture(scope="module")
def wb(written):
    return load_workbook(written)


def _rgb(color) -> str:
    return (color.rgb or "")[-6:].upper() if color is not None else ""


def _table(ws):
    (table,) = ws.tables.values()
    return table


def _table_frame(ws, table) -> pd.DataFrame:
    min_col, min_row, max_col, max_row = range_boundaries(table.ref)
    rows = list(
        ws.iter_rows(
            min_row=min_row, max_row=max_row, min_col=min_col, max_col=max_col, values_only=True
        )
    )
    return pd.DataFrame(rows[1:], columns=rows[0], dtype=object)


def _row_fill(ws, table, row: int) -> str | None:
    """The fill the conditional formats give a table row (None when no rule applies)."""
    min_col, header, max_col, last = range_boundaries(table.ref)
    body = f"{get_column_letter(min_col)}{header + 1}:{get_column_letter(max_col)}{last}"
    for cf in ws.conditional_formatting:
        if str(cf.sqref) != body:
            continue
        for rule in cf.rules:
            # Each rule compares the severity cell of the body's first row: $A10="high".
            column, anchor, value = re.fullmatch(
                r'\$([A-Z]+)(\d+)="(\w+)"', rule.formula[0]
            ).groups()
            assert int(anchor) == header + 1
            if str(ws[f"{column}{row}"].value).lower() == value:
                return _rgb(rule.dxf.fill.fgColor)
    return None


def test_sheets_in_order_and_marked(wb, result):
    ran = [a.id for a in result.audits if a.status == "ran"]
    assert wb.sheetnames == ["Summary", *ran, "Claim lines", "About"]
    for ws in wb.worksheets:
        assert marked_title(ws.defined_names[MARKER_NAME].attr_text) == ws.title
        assert ws.defined_names[MARKER_NAME].hidden
    assert wb.active.title == "Summary"


def test_audit_sheets_hold_real_tables_with_why_and_fix(wb, result):
    for run in result.audits:
        if run.status != "ran":
            continue
        ws = wb[run.id]
        table = _table(ws)
        min_col, header_row, max_col, last_row = range_boundaries(table.ref)
        frame = _table_frame(ws, table)
        mine = result.findings[result.findings["audit"] == run.id]
        assert len(frame) == len(mine)
        assert sorted(frame["Finding"]) == sorted(mine["message"])
        assert [c.name for c in table.tableColumns] == list(frame.columns)
        assert table.autoFilter is not None and table.autoFilter.ref == table.ref
        assert table.tableStyleInfo.name
        assert ws.freeze_panes == f"A{header_row + 1}"
        above = [ws.cell(r, 1).value for r in range(1, header_row)]
        assert any(str(v).startswith("Why it matters: ") and run.why in str(v) for v in above)
        assert any(str(v).startswith("How to fix: ") and run.fix in str(v) for v in above)
        assert ws.column_dimensions["A"].width >= 8


def test_number_formats_by_column_type(wb):
    ws = wb["paid-vs-denied"]
    table = _table(ws)
    _, header_row, _, _ = range_boundaries(table.ref)
    headers = {ws.cell(header_row, c).value: c for c in range(1, ws.max_column + 1)}
    risk = ws.cell(header_row + 1, headers["At risk"])
    assert isinstance(risk.value, int | float) and risk.number_format == NUMBER_FORMATS["currency"]
    assert ws.cell(header_row + 1, headers["Line"]).number_format == NUMBER_FORMATS["ordinal"]
    lines = wb["Claim lines"]
    table = _table(lines)
    _, header_row, _, _ = range_boundaries(table.ref)
    headers = {lines.cell(header_row, c).value: c for c in range(1, lines.max_column + 1)}
    dos = lines.cell(header_row + 1, headers["date_of_service"])
    assert isinstance(dos.value, datetime) and dos.number_format == NUMBER_FORMATS["date"]
    charge = lines.cell(header_row + 1, headers["charge"])
    assert charge.number_format == NUMBER_FORMATS["currency"]
    row = lines.cell(header_row + 1, headers["source_row"])
    assert row.number_format == NUMBER_FORMATS["ordinal"]
    claim = lines.cell(header_row + 1, headers["claim_id"])
    assert claim.data_type == "s" and claim.value == "CLM1000"


def test_rows_coloured_by_severity_from_the_palette(wb):
    ws = wb["paid-vs-denied"]
    table = _table(ws)
    _, header_row, _, last_row = range_boundaries(table.ref)
    seen = set()
    for row in range(header_row + 1, last_row + 1):
        severity = ws.cell(row, 1).value
        assert _row_fill(ws, table, row) == SEVERITY_LOOK[severity].fill
        seen.add(severity)
    assert seen == {"high", "low"}


def test_claim_lines_flagged_rows_highlighted(wb, result):
    ws = wb["Claim lines"]
    table = _table(ws)
    _, header_row, _, last_row = range_boundaries(table.ref)
    frame = _table_frame(ws, table)
    assert len(frame) == 240
    flagged = 0
    for offset, flag in enumerate(frame["flag"]):
        fill = _row_fill(ws, table, header_row + 1 + offset)
        if flag is None:
            assert fill is None
        else:
            assert fill == SEVERITY_LOOK[flag].fill
            flagged += 1
    assert flagged == int(frame["flag"].notna().sum()) > 0


def test_kpis_have_traffic_light_fills(wb, result):
    ws = wb["Summary"]
    rows = {ws.cell(r, 1).value: r for r in range(1, 60)}
    header = rows["Indicator"]
    assert [ws.cell(header, c).value for c in range(1, 5)] == [
        "Indicator",
        "Value",
        "Status",
        "Benchmark",
    ]
    clean = rows["Clean-claim rate"]
    value = ws.cell(clean, 2)
    assert value.value == pytest.approx(result.summary["clean_claim_rate"])
    assert value.number_format == NUMBER_FORMATS["percent"]
    assert _rgb(value.fill.fgColor) == STATUS_LOOK["poor"].fill
    assert ws.cell(clean, 3).value == STATUS_LABEL["poor"]
    assert "95%" in ws.cell(clean, 4).value
    medium = rows["Medium-severity findings"]
    assert _rgb(ws.cell(medium, 2).fill.fgColor) == STATUS_LOOK["fair"].fill
    risk = rows["Total dollars at risk"]
    assert ws.cell(risk, 2).number_format == NUMBER_FORMATS["currency0"]


def test_summary_shows_practice_period_and_inputs(wb):
    ws = wb["Summary"]
    assert ws["A1"].value == "Billing audit: Valley Pain Associates"
    facts = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(1, 30)}
    assert facts["Practice"] == "Valley Pain Associates"
    assert facts["Period"] == "2026-01-05 to 2026-03-25"
    assert facts["Prepared by"] == "J. Analyst"
    assert facts["Claim lines"] == 240
    assert "export_1.csv (120 rows)" in facts["Input files"]


def test_top_findings_link_to_their_rows(wb):
    ws = wb["Summary"]
    top = ws.tables["ak_top_findings"]
    min_col, header_row, max_col, last_row = range_boundaries(top.ref)
    headers = [ws.cell(header_row, c).value for c in range(min_col, max_col + 1)]
    audit_col = headers.index("Audit (go to row)") + 1
    claim_col = headers.index("First claims") + 1
    message_col = headers.index("Finding") + 1
    assert last_row - header_row == 10
    for row in range(header_row + 1, last_row + 1):
        cell = ws.cell(row, audit_col)
        link = cell.hyperlink
        assert link is not None and link.target is None  # internal, not a file or web link
        sheet, target = re.fullmatch(r"'?(.+?)'?!A(\d+)", link.location).groups()
        assert sheet == cell.value
        target_ws = wb[sheet]
        table = _table(target_ws)
        t_min, t_header, t_max, _ = range_boundaries(table.ref)
        t_headers = [target_ws.cell(t_header, c).value for c in range(t_min, t_max + 1)]
        found = {h: target_ws.cell(int(target), i + 1).value for i, h in enumerate(t_headers)}
        # a row is a pattern of lines ("N lines; first: ...") linking to its first line
        assert found["Claim"] == ws.cell(row, claim_col).value.split(", ")[0]
        assert ws.cell(row, message_col).value.endswith(found["Finding"])


def test_summary_charts_reference_their_data(wb, result):
    ws = wb["Summary"]
    charts = ws._charts  # openpyxl keeps the charts it read here
    assert len(charts) == 3
    titles = ["".join(r.t for p in c.title.tx.rich.p for r in (p.r or [])) for c in charts]
    assert titles == [
        "Clean-claim rate by physician",
        "Trigger-point lines by physician: 20552 and 20553",
        "Denial rate by payer",
    ]
    clean_chart = charts[0]
    bar_refs = [s.val.numRef.f for s in clean_chart.series]
    (ref,) = bar_refs
    sheet, cells = ref.split("!")
    assert sheet.strip("'") == "Summary"
    values = [c.value for row in ws[cells.replace("$", "")] for c in row]
    expected = list(result.tables["clean_claim_rate_by_provider"]["rate"])
    assert values == pytest.approx(expected)
    stacked = charts[1]
    assert stacked.grouping == "stacked" and len(stacked.series) == 2
    assert charts[2].type == "bar"  # horizontal bars for payers
    assert clean_chart.y_axis.number_format.formatCode == "0%"


def test_about_sheet(wb, lines, result):
    ws = wb["About"]
    values = [[c for c in row] for row in ws.iter_rows(values_only=True)]
    flat = {v for row in values for v in row if v is not None}
    assert __version__ in flat
    generated = next(row[1] for row in values if row[0] == "Generated")
    assert isinstance(generated, datetime)
    assert abs((datetime.now() - generated).total_seconds()) < 3600
    assert "exports/export_1.csv" in flat and "Claim #" in flat
    assert "no laterality column" in flat
    assert "max_share_20553" in flat
    assert {t for t in ws.tables} >= {"ak_about_inputs", "ak_about_mapping", "ak_about_audits"}


def test_no_formulas_anywhere(written):
    with zipfile.ZipFile(written) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
        for name in sheets:
            assert b"<f>" not in archive.read(name) and b"<f " not in archive.read(name)


def test_fast_rows_equal_the_model(written, result, lines):
    """The audit and claim-line bodies come from the fast row path: check every value."""
    report = build_report(result, lines, with_lines=True)
    book = load_workbook(written)
    for sheet in report.sheets:
        if sheet.role not in ("audit", "lines"):
            continue
        model = sheet.blocks[-1]
        ws = book[sheet.name]
        frame = _table_frame(ws, _table(ws))
        assert list(frame.columns) == [c.header for c in model.columns]
        for column in model.columns:
            got = frame[column.header]
            want = model.frame[column.key]
            for a, b in zip(got, want, strict=True):
                if pd.isna(b) or b == "":
                    assert a is None
                elif column.kind in ("date", "datetime"):
                    assert a == pd.Timestamp(b).to_pydatetime()
                elif column.kind == "text":
                    assert a == b
                else:
                    assert a == pytest.approx(float(b))


def test_excel_values_from_the_cell_path(wb):
    ws = wb["About"]
    row = next(r for r in ws.iter_rows() if r[0].value == "Generated")
    assert row[1].number_format == NUMBER_FORMATS["datetime"]
