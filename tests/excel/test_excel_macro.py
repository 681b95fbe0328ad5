"""The Run audit entry point against a fake of the macro workbook (fakebook.py).

The fake is made from the real template (``build_template``): its sheets, cells and defined
names, so the macro reads the settings by the names the template gives them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fakebook import FakeBook
from openpyxl import load_workbook

import auditkit
from auditkit import pipeline
from auditkit.excel import macro
from auditkit.excel.template import build_template
from auditkit.excel.xl_settings import STATUS_NAME
from auditkit.report.style import HEADER_LOOK, SEVERITY_LOOK, STATUS_LOOK, number_format

ROOT = Path(__file__).parents[2]
SAMPLE = ROOT / "sample_exports" / "medirev_charges.csv"


def _export(path: Path, rows: int = 400) -> Path:
    lines = SAMPLE.read_bytes().splitlines(keepends=True)[: rows + 1]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(lines))
    return path


def macro_book(folder: Path) -> FakeBook:
    """A fake of the template workbook as Excel would have it open."""
    workbook, _ = build_template(folder / "monthly_audit.xlsm", interpreters={})
    template = load_workbook(workbook)
    book = FakeBook(str(workbook))
    for ws in template.worksheets:
        sheet = book.add_sheet(ws.title)
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is not None:
                    sheet.cell(cell.row, cell.column).value = cell.value
    for name, defined in template.defined_names.items():
        ((sheet_name, address),) = defined.destinations
        book.names[name] = (sheet_name.strip("'"), address.replace("$", ""))
    return book


def setting(book: FakeBook, name: str, value) -> None:
    sheet_name, address = book.names[name]
    book.sheet(sheet_name).mock.range(address).value = value


def status(book: FakeBook):
    """The status cell as the macro left it."""
    sheet_name, address = book.names[STATUS_NAME]
    letters = "".join(c for c in address if c.isalpha())
    column = 0
    for ch in letters:
        column = column * 26 + ord(ch) - 64
    return book.sheet(sheet_name).cells[(int(address[len(letters) :]), column)]


@pytest.fixture
def book(tmp_path) -> FakeBook:
    return macro_book(tmp_path)


def test_run_audit_writes_the_sheets(book, tmp_path):
    export = _export(tmp_path / "exports" / "oct.csv")
    setting(book, "auditkit_export", "exports/oct.csv")  # relative to the workbook's folder
    setting(book, "auditkit_practice", "Riverside Pain")
    setting(book, "auditkit_period", "October 2025")
    setting(book, "auditkit_tpi_ratio_min_lines", 5.0)  # Excel hands numbers over as floats
    macro.main(book.mock)

    shown = status(book)
    assert shown.value.startswith("Done ") and shown.quoted
    assert shown.fill == STATUS_LOOK["good"].fill
    lines = auditkit.load(export)
    assert f"{len(lines.frame):,} claim lines" in shown.value
    names = [s.name for s in book.sheets]
    assert names[:3] == ["Settings", "xlwings.conf", "Summary"] and names[-1] == "About"
    assert book.activated[-1] == "Summary"
    summary = book.sheet("Summary")
    assert summary.value(1, 1) == "Billing audit: Riverside Pain"
    facts = {summary.value(r, 1): summary.value(r, 2) for r in range(1, 40)}
    assert facts["Claim lines"] == len(lines.frame)
    assert facts["Period"] == "October 2025"
    # the findings tables carry the palette's header and severity colours, and money formats
    at_risk = [(r, c) for (r, c), cell in summary.cells.items() if cell.value == "At risk"]
    assert at_risk
    row, col = at_risk[0]
    assert summary.cells[(row, col)].fill == HEADER_LOOK.fill
    first = summary.cells[(row + 1, col)]
    assert first.number_format == number_format("currency")
    severity = summary.value(row + 1, 1)
    assert summary.shown_fill(row + 1, 1) == SEVERITY_LOOK[severity].fill
    # the threshold typed on the Settings sheet reached the audits (About lists the config)
    about = book.sheet("About")
    rows = {(about.value(r, 1), about.value(r, 2)): about.value(r, 3) for r in range(1, 400)}
    assert rows[("tpi-ratio", "min_lines")] == "5"
    assert rows[("tpi-ratio", "min_gap")] == "0.2"  # blank on the sheet: the default
    assert book.status_history[0].startswith("auditkit: reading")
    assert book.app_state["status_bar"] is False  # Excel's own status bar is back
    assert book.alerts == []


def test_a_folder_of_exports(book, tmp_path):
    first = _export(tmp_path / "october" / "week1.csv", 100)
    second = _export(tmp_path / "october" / "week2.csv", 100)
    (tmp_path / "october" / "~$week1.csv").write_text("lock")
    (tmp_path / "october" / "notes.docx").write_text("not an export")
    setting(book, "auditkit_export", str(tmp_path / "october"))
    assert macro.read_settings(book.mock).inputs == [first, second]


def test_the_workbook_itself_is_not_read_as_an_export(book, tmp_path):
    export = _export(tmp_path / "oct.csv", 50)
    setting(book, "auditkit_export", ".")  # the workbook's own folder
    assert macro.read_settings(book.mock).inputs == [export]


def test_claim_lines_sheet_on_request(book, tmp_path):
    _export(tmp_path / "oct.csv", 60)
    setting(book, "auditkit_export", "oct.csv")
    setting(book, "auditkit_with_lines", "yes")
    macro.main(book.mock)
    assert "Claim lines" in [s.name for s in book.sheets]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("auditkit_export", None, "Error: Settings sheet: Export file or folder is empty"),
        ("auditkit_export", "missing.csv", "Error: "),
        ("auditkit_tpi_ratio_min_lines", "abc", "Error: Settings sheet, tpi-ratio: min_lines"),
        ("auditkit_tpi_ratio_min_gap", 2.0, "Error: Settings sheet, tpi-ratio: min_gap"),
        ("auditkit_with_lines", "maybe", "Error: Settings sheet, Claim lines sheet: expected yes"),
    ],
)
def test_mistakes_show_in_the_status_cell(book, tmp_path, name, value, message):
    _export(tmp_path / "oct.csv", 50)
    setting(book, "auditkit_export", "oct.csv")
    setting(book, name, value)
    macro.main(book.mock)
    shown = status(book)
    assert shown.value.startswith(message)
    assert "Traceback" not in shown.value and "\n" not in shown.value
    assert shown.fill == STATUS_LOOK["poor"].fill
    assert book.alerts == [shown.value]  # and in a message box
    assert [s.name for s in book.sheets] == ["Settings", "xlwings.conf"]  # nothing written
    if value == "missing.csv":
        assert str(tmp_path / "missing.csv") in shown.value


def test_an_unexpected_error_is_shown_too(book, tmp_path, monkeypatch):
    _export(tmp_path / "oct.csv", 50)
    setting(book, "auditkit_export", "oct.csv")

    def broken(*args, **kwargs):
        raise KeyError("rendering_provider")

    monkeypatch.setattr(pipeline, "audit", broken)
    macro.main(book.mock)
    shown = status(book)
    assert shown.value.startswith("Error: internal error (KeyError: 'rendering_provider')")
    assert shown.fill == STATUS_LOOK["poor"].fill


def test_without_a_status_cell_the_error_ends_the_process(book):
    del book.names[STATUS_NAME]
    with pytest.raises(SystemExit, match="auditkit: Error: Settings sheet: Export file"):
        macro.main(book.mock)


def _worklist_rows(book: FakeBook) -> tuple[object, dict[str, int], dict[str, int]]:
    """The Work list sheet, its headers' columns and each claim's first row."""
    sheet = book.sheet("Work list")
    (table,) = [t for t in sheet.tables if t["name"] == "ak_worklist"]
    top, _, last, width = table["area"]
    headers = {sheet.value(top, c): c for c in range(1, width + 1)}
    rows: dict[str, int] = {}
    for r in range(top + 1, last + 1):
        rows.setdefault(sheet.value(r, headers["Claim"]), r)
    return sheet, headers, rows


def test_run_audit_again_keeps_what_people_typed_on_the_work_list(book, tmp_path):
    _export(tmp_path / "exports" / "oct.csv")
    setting(book, "auditkit_export", "exports/oct.csv")
    macro.main(book.mock)
    sheet, headers, rows = _worklist_rows(book)
    claims = sorted(rows)[:2]
    assert len(claims) == 2
    sheet.cell(rows[claims[0]], headers["Owner"]).value = "Dana"
    sheet.cell(rows[claims[1]], headers["Notes"]).value = "appeal letter sent"

    macro.main(book.mock)  # the button pressed again, the same export
    assert status(book).value.startswith("Done ")
    sheet, headers, rows = _worklist_rows(book)
    assert sheet.value(rows[claims[0]], headers["Owner"]) == "Dana"
    assert sheet.value(rows[claims[1]], headers["Notes"]) == "appeal letter sent"
