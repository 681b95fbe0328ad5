"""Writing into an existing workbook: only auditkit's sheets change, saving is atomic."""

from __future__ import annotations

import hashlib
import shutil
import zipfile
from pathlib import Path

import pytest
import xlsxwriter
import xlwings
from openpyxl import load_workbook
from openpyxl.workbook.defined_name import DefinedName

from auditkit import fileio
from auditkit.errors import OutputError
from auditkit.excel import package
from auditkit.excel.markers import MARKER_NAME, marker_value
from auditkit.excel.openpyxl_writer import write_workbook

TEMPLATES = Path(__file__).resolve().parents[2] / "workbook_templates"


def _vba_project(tmp_path: Path) -> Path:
    """vbaProject.bin from the xlsm that ships with xlwings (a real VBA project)."""
    source = Path(xlwings.__file__).parent / "quickstart_standalone.xlsm"
    out = tmp_path / "vbaProject.bin"
    with zipfile.ZipFile(source) as archive:
        out.write_bytes(archive.read("xl/vbaProject.bin"))
    return out


def make_existing(path: Path, *, vba: Path | None = None, extra=None) -> Path:
    """A manager's workbook made by another program (XlsxWriter), with a 'Summary' of its own."""
    wb = xlsxwriter.Workbook(str(path))
    title = wb.add_format({"bold": True, "font_size": 14, "bg_color": "#DDEBF7", "border": 2})
    money = wb.add_format({"num_format": "$#,##0.00", "font_color": "#1F4E78"})
    pct = wb.add_format({"num_format": "0.0%", "italic": True})
    date = wb.add_format({"num_format": "dd/mm/yyyy", "align": "center"})
    monthly = wb.add_worksheet("Monthly")
    monthly.merge_range("A1:D1", "Monthly billing review", title)
    monthly.set_column("A:A", 22)
    monthly.set_column("B:D", 14)
    monthly.set_row(1, 28)
    monthly.write_row("A2", ["Month", "Charges", "Collected", "Rate"])
    for i, (month, charges, collected) in enumerate(
        [("Jan", 120_000, 96_500), ("Feb", 110_250.5, 90_000), ("Mar", 131_000, 99_800)], start=3
    ):
        monthly.write_string(f"A{i}", month)
        monthly.write_number(f"B{i}", charges, money)
        monthly.write_number(f"C{i}", collected, money)
        monthly.write_formula(f"D{i}", f"=C{i}/B{i}", pct)
    monthly.write_formula("B6", "=SUM(B3:B5)", money)
    monthly.write_formula("B7", "=Summary!B8", money)  # reads the user's own Summary
    monthly.write_formula("B8", "=IFERROR('About'!A1,\"\")")  # a sheet auditkit will add
    monthly.write_datetime("A9", __import__("datetime").datetime(2026, 3, 31), date)
    monthly.data_validation("E3:E5", {"validate": "list", "source": ["ok", "check"]})
    monthly.write_comment("A3", "Closed on the 5th")
    monthly.conditional_format(
        "D3:D5", {"type": "cell", "criteria": "<", "value": 0.8, "format": pct}
    )
    monthly.freeze_panes(2, 1)
    own = wb.add_worksheet("Summary")
    own.write("A1", "The manager's own summary sheet")
    own.write_number("B8", 42)
    wb.define_name("TaxRate", "=Monthly!$B$3")
    wb.define_name("Monthly!LocalTotal", "=Monthly!$B$6")
    if vba is not None:
        wb.add_vba_project(str(vba))
    if extra is not None:
        extra(wb)
    wb.close()
    return path


def _snapshot(path: Path, sheets: list[str]) -> dict:
    """Everything a user would notice on the given sheets, cell by cell."""
    wb = load_workbook(path, keep_vba=path.suffix == ".xlsm")
    snap = {"names": {n: (d.attr_text, d.localSheetId) for n, d in wb.defined_names.items()}}
    for title in sheets:
        ws = wb[title]
        cells = {}
        for row in ws.iter_rows():
            for c in row:
                cells[c.coordinate] = (
                    c.value,
                    c.data_type,
                    c.number_format,
                    repr(c.font),
                    repr(c.fill),
                    repr(c.border),
                    repr(c.alignment),
                    repr(c.protection),
                    c.comment.text if c.comment else None,
                )
        snap[title] = {
            "cells": cells,
            "merged": sorted(str(r) for r in ws.merged_cells.ranges),
            "widths": {k: d.width for k, d in ws.column_dimensions.items()},
            "heights": {k: d.height for k, d in ws.row_dimensions.items() if d.height},
            "freeze": ws.freeze_panes,
            "validations": [(str(v.sqref), v.formula1) for v in ws.data_validations.dataValidation],
            "conditional": [str(cf.sqref) for cf in ws.conditional_formatting],
            "local_names": {n: d.attr_text for n, d in ws.defined_names.items()},
        }
    return snap


def test_other_sheets_unchanged_cell_by_cell_and_rerun_replaces_only_ours(tmp_path, result, lines):
    path = make_existing(tmp_path / "monthly.xlsx")
    before = _snapshot(path, ["Monthly", "Summary"])
    write_workbook(result, path, lines=lines, into=path, practice="Valley Pain")
    first = load_workbook(path)
    ran = [a.id for a in result.audits if a.status == "ran"]
    assert first.sheetnames == ["Monthly", "Summary", "Summary (2)", *ran, "About"]
    assert first["Summary (2)"]["A1"].value == "Billing audit: Valley Pain"
    write_workbook(result, path, lines=lines, into=path, with_lines=True)
    second = load_workbook(path)
    assert second.sheetnames == ["Monthly", "Summary", "Summary (2)", *ran, "Claim lines", "About"]
    after = _snapshot(path, ["Monthly", "Summary"])
    names_before = before.pop("names")
    names_after = after.pop("names")
    assert after == before
    assert names_after == names_before
    assert second["Monthly"]["B7"].value == "=Summary!B8"
    assert second.calculation.fullCalcOnLoad


def test_renamed_or_copied_auditkit_sheets_are_left_alone(tmp_path, result, lines):
    path = make_existing(tmp_path / "book.xlsx")
    write_workbook(result, path, lines=lines, into=path)
    wb = load_workbook(path)
    wb["About"].title = "About (January)"  # the user keeps last month's About
    copy = wb.copy_worksheet(wb["tpi-ratio"])
    copy.title = "tpi-ratio kept"
    copy.defined_names[MARKER_NAME] = DefinedName(MARKER_NAME, attr_text=marker_value("tpi-ratio"))
    wb.save(path)
    write_workbook(result, path, lines=lines, into=path)
    names = load_workbook(path).sheetnames
    assert "About (January)" in names and "tpi-ratio kept" in names
    assert names.count("About") == 1 and names.count("tpi-ratio") == 1


def test_xlsm_keeps_its_vba_project(tmp_path, result, lines):
    vba = _vba_project(tmp_path)
    path = make_existing(tmp_path / "macros.xlsm", vba=vba)
    digest = hashlib.sha256(vba.read_bytes()).hexdigest()
    before = _snapshot(path, ["Monthly"])
    write_workbook(result, path, lines=lines, into=path)
    write_workbook(result, path, lines=lines, into=path)
    with zipfile.ZipFile(path) as archive:
        assert hashlib.sha256(archive.read("xl/vbaProject.bin")).hexdigest() == digest
        types = archive.read("[Content_Types].xml").decode()
    assert "application/vnd.ms-excel.sheet.macroEnabled.main+xml" in types
    after = _snapshot(path, ["Monthly"])
    assert after == before
    assert "Summary (2)" in load_workbook(path, keep_vba=True).sheetnames


def test_xlsm_must_stay_xlsm(tmp_path, result, lines):
    path = make_existing(tmp_path / "macros.xlsm", vba=_vba_project(tmp_path))
    with pytest.raises(OutputError, match="macro workbook must be saved as .xlsm"):
        write_workbook(result, tmp_path / "out.xlsx", lines=lines, into=path)


def test_locked_workbook_is_reported_and_untouched(tmp_path, result, lines):
    path = make_existing(tmp_path / "open.xlsx")
    original = path.read_bytes()
    (tmp_path / "~$open.xlsx").write_bytes(b"owner")
    with pytest.raises(OutputError) as caught:
        write_workbook(result, path, lines=lines, into=path)
    assert "open in another program" in str(caught.value) and "\n" not in str(caught.value)
    assert path.read_bytes() == original


def test_failed_replace_leaves_original_and_no_temp_file(tmp_path, result, lines, monkeypatch):
    path = make_existing(tmp_path / "book.xlsx")
    original = path.read_bytes()

    def refuse(src, dst):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(fileio.os, "replace", refuse)
    with pytest.raises(OutputError, match="permission denied"):
        write_workbook(result, path, lines=lines, into=path)
    assert path.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.xlsx"]


def test_crash_while_writing_leaves_original(tmp_path, result, lines, monkeypatch):
    path = make_existing(tmp_path / "book.xlsx")
    original = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(package, "_splice", crash)
    with pytest.raises(OutputError, match="No space left"):
        write_workbook(result, path, lines=lines, into=path)
    assert path.read_bytes() == original
    assert [p.name for p in tmp_path.iterdir()] == ["book.xlsx"]


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("missing/audit.xlsx", "folder does not exist"),
        ("audit.csv", "ending in .xlsx"),
        ("audit.xlsm", "without macros must be saved as .xlsx"),
    ],
)
def test_unwritable_targets(tmp_path, result, lines, target, message):
    with pytest.raises(OutputError, match=message):
        write_workbook(result, tmp_path / target, lines=lines)


def test_target_that_is_a_folder(tmp_path, result, lines):
    (tmp_path / "audit.xlsx").mkdir()
    with pytest.raises(OutputError, match="is a folder"):
        write_workbook(result, tmp_path / "audit.xlsx", lines=lines)


def test_into_a_missing_or_broken_workbook(tmp_path, result, lines):
    with pytest.raises(OutputError, match="does not exist"):
        write_workbook(result, tmp_path / "no.xlsx", lines=lines, into=tmp_path / "no.xlsx")
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip at all")
    with pytest.raises(OutputError, match="cannot be opened as an Excel workbook"):
        write_workbook(result, broken, lines=lines, into=broken)
    assert broken.read_bytes() == b"not a zip at all"


def test_into_with_template_is_refused(tmp_path, result, lines):
    path = make_existing(tmp_path / "book.xlsx")
    with pytest.raises(OutputError, match="use it with --out"):
        write_workbook(result, path, lines=lines, into=path, template=path)


def _textbox(wb):
    wb.get_worksheet_by_name("Monthly").insert_textbox("F2", "Remember to check denials")


def _data_bars(wb):
    ws = wb.get_worksheet_by_name("Monthly")
    ws.conditional_format("C3:C5", {"type": "data_bar", "data_bar_2010": True})


def _chartsheet(wb):
    chart = wb.add_chart({"type": "column"})
    chart.add_series({"values": "=Monthly!$B$3:$B$5"})
    wb.add_chartsheet("Chart").set_chart(chart)


@pytest.mark.parametrize(
    ("extra", "what"),
    [(_textbox, "shapes"), (_data_bars, "extension"), (_chartsheet, "chart sheets")],
)
def test_content_openpyxl_would_drop_is_refused(tmp_path, result, lines, extra, what):
    path = make_existing(tmp_path / "rich.xlsx", extra=extra)
    original = path.read_bytes()
    with pytest.raises(OutputError) as caught:
        write_workbook(result, path, lines=lines, into=path)
    assert what in str(caught.value) and "nothing was written" in str(caught.value)
    assert path.read_bytes() == original


def test_template_cover_is_filled(tmp_path, result, lines):
    template = TEMPLATES / "consultant_template.xlsx"
    original = template.read_bytes()
    out = write_workbook(
        result,
        tmp_path / "client.xlsx",
        lines=lines,
        template=template,
        practice="Valley Pain Associates",
        prepared_by="Jordan Analyst",
        period="Q1 2026",
    )
    assert template.read_bytes() == original
    wb = load_workbook(out)
    assert wb.sheetnames[:2] == ["Cover", "Notes"] and "Summary" in wb.sheetnames
    cover = {}
    for name in ("AK_Practice", "AK_Period", "AK_PreparedBy", "AK_RunDate"):
        ((sheet, ref),) = wb.defined_names[name].destinations
        cover[name] = wb[sheet][ref.replace("$", "")]
    assert cover["AK_Practice"].value == "Valley Pain Associates"
    assert cover["AK_Period"].value == "Q1 2026"
    assert cover["AK_PreparedBy"].value == "Jordan Analyst"
    assert cover["AK_RunDate"].is_date and cover["AK_RunDate"].number_format == "d mmmm yyyy"
    assert wb.active.title == "Cover"
    assert not wb.template


def test_committed_template_matches_its_build_script(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "build_templates", TEMPLATES / "build_templates.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    (fresh,) = module.build(tmp_path)
    committed = TEMPLATES / fresh.name
    a, b = load_workbook(fresh), load_workbook(committed)
    assert a.sheetnames == b.sheetnames
    assert {n: d.attr_text for n, d in a.defined_names.items()} == {
        n: d.attr_text for n, d in b.defined_names.items()
    }
    for title in a.sheetnames:
        cells_a = {
            c.coordinate: (c.value, repr(c.font), repr(c.fill))
            for r in a[title].iter_rows()
            for c in r
        }
        cells_b = {
            c.coordinate: (c.value, repr(c.font), repr(c.fill))
            for r in b[title].iter_rows()
            for c in r
        }
        assert cells_a == cells_b, title


def test_writing_a_copy_leaves_the_source_alone(tmp_path, result, lines):
    source = make_existing(tmp_path / "source.xlsx")
    original = source.read_bytes()
    out = write_workbook(result, tmp_path / "copy.xlsx", lines=lines, into=source)
    assert source.read_bytes() == original
    assert "About" in load_workbook(out).sheetnames


def test_new_file_gets_normal_permissions(tmp_path, result, lines):
    out = write_workbook(result, tmp_path / "perm.xlsx", lines=lines)
    assert out.stat().st_mode & 0o044  # readable by others, like any new file (not 0600)
    existing = make_existing(tmp_path / "shared.xlsx")
    existing.chmod(0o664)
    write_workbook(result, existing, lines=lines, into=existing)
    assert existing.stat().st_mode & 0o777 == 0o664
    shutil.rmtree(tmp_path / "missing", ignore_errors=True)


def test_active_auditkit_sheet_is_replaced_by_the_new_summary(tmp_path, result, lines):
    path = make_existing(tmp_path / "book.xlsx")
    write_workbook(result, path, lines=lines, into=path)
    wb = load_workbook(path)
    wb.active = wb.sheetnames.index("tpi-ratio")
    for ws in wb.worksheets:
        ws.sheet_view.tabSelected = ws.title == "tpi-ratio"
    wb.save(path)
    write_workbook(result, path, lines=lines, into=path)
    wb = load_workbook(path)
    assert wb.active.title == "Summary (2)"
    assert [ws.title for ws in wb.worksheets if ws.sheet_view.tabSelected] == ["Summary (2)"]


def test_user_active_sheet_stays_active(tmp_path, result, lines):
    path = make_existing(tmp_path / "book.xlsx")
    wb = load_workbook(path)
    wb.active = wb.sheetnames.index("Summary")
    wb.save(path)
    write_workbook(result, path, lines=lines, into=path)
    write_workbook(result, path, lines=lines, into=path)
    assert load_workbook(path).active.title == "Summary"


def test_rewrite_skips_reading_auditkit_rows(tmp_path, result, lines):
    path = make_existing(tmp_path / "book.xlsx")
    write_workbook(result, path, lines=lines, into=path, with_lines=True)
    wb = load_workbook(path)
    wb["About"].title = "About (kept)"
    wb.save(path)
    with zipfile.ZipFile(path) as archive:
        own = package.own_sheet_parts(archive)
        workbook_rels = archive.read("xl/_rels/workbook.xml.rels").decode()
    ours = [
        n for n in load_workbook(path).sheetnames if n not in ("Monthly", "Summary", "About (kept)")
    ]
    assert len(own) == len(ours)  # every auditkit sheet but the renamed one
    assert all(
        p.startswith("xl/worksheets/sheet") and p.split("/", 1)[1] in workbook_rels for p in own
    )
    slim = load_workbook(package.without_own_rows(path))
    assert slim["Claim lines"].max_row == 1 and slim["About (kept)"].max_row > 5
    assert slim["Monthly"]["A3"].value == "Jan"
