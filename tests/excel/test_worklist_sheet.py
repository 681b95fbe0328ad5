"""The Work list sheet: a real Excel table with a dropdown, conditional formats and date
formats, and what people type on it surviving re-runs into the same workbook (``--into``),
with both writers (openpyxl to a file, xlwings into an open book, through the fake)."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest
from fakebook import fake_book
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.cell_range import CellRange
from openpyxl.worksheet.table import TableColumn

from auditkit.claims import conform
from auditkit.engine.result import AuditResult
from auditkit.errors import OutputError
from auditkit.excel import worklist_notes
from auditkit.excel.openpyxl_writer import write_report as write_with_openpyxl
from auditkit.excel.openpyxl_writer import write_workbook
from auditkit.excel.package import sheet_parts
from auditkit.excel.worklist_notes import read_worklist_notes
from auditkit.excel.xlwings_writer import write_result
from auditkit.measures.worklist import work_list
from auditkit.report import build_report
from auditkit.report.style import CELL_RULE_LOOK, ENTRY_HEADER_LOOK
from auditkit.report.worklist_sheet import CLOSED_SHEET, WORK_STATUSES, WORKLIST_SHEET

AS_OF = "2026-06-30"
TYPED = ("Owner", "Work status", "Follow-up date", "Notes")


def claim_lines(**changes: dict) -> pd.DataFrame:
    """A commercial practice's open lines as of 2026-06-30; ``changes`` per claim id replace
    columns of that claim's lines (``{"D2": {"status": "paid", "paid": 90.0}}``)."""
    rows = [
        # appeal (CO-50): 180 days from the remittance -> 2026-10-28, 120 days left
        dict(claim_id="D1", status="denied", denial_codes="CO-50", paid_date="2026-05-01",
             charge=500.0),
        # corrected claim (CO-4, a modifier): 90 days -> 2026-07-09, 9 days left (amber)
        dict(claim_id="D2", status="denied", denial_codes="CO-4", paid_date="2026-04-10",
             charge=300.0),
        # corrected claim (CO-16): 90 days -> 2026-07-19, 19 days left (yellow)
        dict(claim_id="D3", status="denied", denial_codes="CO-16", paid_date="2026-04-20",
             charge=200.0),
        # appeal window passed: write-off review (red)
        dict(claim_id="W1", status="denied", denial_codes="CO-50", paid_date="2025-10-01",
             charge=900.0),
        # a claim id that looks like a number, two lines
        dict(claim_id="00123", line_number=1, status="denied", denial_codes="CO-50",
             paid_date="2026-05-15", charge=150.0),
        dict(claim_id="00123", line_number=2, status="denied", denial_codes="CO-50",
             paid_date="2026-05-15", charge=120.0),
        # the same claim, line and payer twice (an export listing a line twice)
        dict(claim_id="DUP", line_number=1, status="denied", denial_codes="CO-50",
             paid_date="2026-05-20", charge=400.0),
        dict(claim_id="DUP", line_number=1, status="denied", denial_codes="CO-50",
             paid_date="2026-05-20", charge=100.0),
    ]  # fmt: skip
    frame = pd.DataFrame(rows)
    frame["line_number"] = frame["line_number"].fillna(1).astype(int)
    frame["date_of_service"] = "2026-03-02"
    frame["submitted_date"] = "2026-03-05"
    frame["rendering_provider"] = "Dr. Ana Lee"
    frame["payer"] = "Acme Health"
    frame["cpt"] = "64483"
    frame["paid"] = 0.0
    for claim, values in changes.items():
        if claim not in set(frame["claim_id"]):
            frame = pd.concat([frame, pd.DataFrame([{**frame.iloc[0].to_dict(), **values,
                                                     "claim_id": claim}])], ignore_index=True)  # fmt: skip
            continue
        for column, value in values.items():
            frame.loc[frame["claim_id"] == claim, column] = value
    return conform(frame)


def result_for(lines: pd.DataFrame, as_of: str = AS_OF) -> AuditResult:
    return AuditResult(
        summary={"as_of": as_of, "as_of_source": "configured"}, worklist=work_list(lines, as_of)
    )


def table_of(ws, name: str = "ak_worklist"):
    """(header row, {header: column}, last row) of a written table."""
    ref = CellRange(ws.tables[name].ref)
    headers = {ws.cell(ref.min_row, c).value: c for c in range(ref.min_col, ref.max_col + 1)}
    return ref.min_row, headers, ref.max_row


def rows_of(ws, name: str = "ak_worklist") -> list[dict]:
    top, headers, last = table_of(ws, name)
    return [{h: ws.cell(r, c).value for h, c in headers.items()} for r in range(top + 1, last + 1)]


def find(rows: list[dict], claim: str, line: int = 1, nth: int = 0) -> dict:
    found = [r for r in rows if r["Claim"] == claim and r["Line"] == line]
    return found[nth]


# -- the sheet ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("worklist") / "audit.xlsx"
    return write_workbook(result_for(claim_lines()), path)


def test_the_sheet_is_a_real_table_after_the_summary(written):
    wb = load_workbook(written)
    assert wb.sheetnames[:2] == ["Summary", WORKLIST_SHEET]
    ws = wb[WORKLIST_SHEET]
    top, headers, last = table_of(ws)
    assert list(headers)[:13] == [
        "Rank", "Action", "Claim", "Line", "Payer", "Physician", "Code", "Date of service", "Item",
        "Amount", "Deadline", "Days left", "Owner",
    ]  # fmt: skip
    assert list(headers)[13:] == [
        "Work status", "Follow-up date", "Notes", "Reason", "Root cause", "Amount basis",
        "Deadline kind", "Date counted from", "Rule",
    ]  # fmt: skip
    assert ws.tables["ak_worklist"].autoFilter is not None  # filters
    assert ws.freeze_panes == f"A{top + 1}"
    rows = rows_of(ws)
    assert len(rows) == last - top == 8
    assert [r["Rank"] for r in rows] == list(range(1, 9))
    assert rows[-1]["Claim"] == "W1" and rows[-1]["Action"] == "write-off review"
    d2 = find(rows, "D2")
    assert (d2["Action"], d2["Item"], d2["Amount"]) == ("correct and resubmit", "denied", 300.0)
    assert d2["Deadline"] == datetime(2026, 7, 9) and d2["Days left"] == 9
    assert find(rows, "00123", 2)["Claim"] == "00123"  # text stays text
    for header in TYPED:
        assert ws.cell(top, headers[header]).fill.fgColor.rgb[-6:] == ENTRY_HEADER_LOOK.fill
    date_cell = ws.cell(top + 1, headers["Date of service"])
    assert date_cell.number_format == "yyyy-mm-dd"


def test_it_prints_up_to_the_columns_for_people(written):
    """The detail columns after Notes (reason, rule: long text) stay out of the print area, so
    a printed page is not shrunk to an unreadable width."""
    ws = load_workbook(written)[WORKLIST_SHEET]
    top, headers, last = table_of(ws)
    notes = get_column_letter(headers["Notes"])
    assert ws.print_area == f"'{WORKLIST_SHEET}'!$A$1:${notes}${last}"


def test_facts_say_as_of_dollars_by_action_and_money_lost(written):
    ws = load_workbook(written)[WORKLIST_SHEET]
    top, _, _ = table_of(ws)
    facts = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(2, top)}
    assert facts["As of"] == "2026-06-30 (set in the configuration or with --as-of)"
    assert facts["Open, in time"] == (
        "7 items, $1,770.00: correct and resubmit 2 items ($500.00), appeal 5 items ($1,270.00)"
    )
    assert facts["Write-off review"] == "1 item, $900.00 lost: the deadline has passed"
    assert "amount / sqrt(max(days left, 1))" in facts["Ranked by"]
    assert "deadlines.csv" in facts["Deadlines"] and "[deadlines." in facts["Deadlines"]
    assert "counts twice" in facts["Amounts"]


def test_dropdown_rules_and_date_format_are_in_the_saved_xml(written):
    """Written by openpyxl's write-only mode: read the sheet's XML back, not openpyxl's model."""
    ws = load_workbook(written)[WORKLIST_SHEET]
    top, headers, last = table_of(ws)
    status = get_column_letter(headers["Work status"])
    days = get_column_letter(headers["Days left"])
    follow = headers["Follow-up date"]
    with zipfile.ZipFile(written) as archive:
        xml = archive.read(sheet_parts(archive)[WORKLIST_SHEET]).decode()
    validation = re.search(r"<dataValidation [^>]*>.*?</dataValidation>", xml).group(0)
    assert f'sqref="{status}{top + 1}:{status}{last}"' in validation
    assert 'type="list"' in validation and 'showErrorMessage="1"' in validation
    assert f'<formula1>"{",".join(WORK_STATUSES)}"</formula1>' in validation
    rules = re.search(r'<conditionalFormatting sqref="([^"]+)">(.*?)</conditionalFormatting>', xml)
    assert rules.group(1) == f"{days}{top + 1}:{days}{last}"
    formulas = re.findall(r"<formula>(.*?)</formula>", rules.group(2))
    assert formulas == [
        f"AND(ISNUMBER(${days}{top + 1}),${days}{top + 1}&lt;=-1)",
        f"AND(ISNUMBER(${days}{top + 1}),${days}{top + 1}&gt;=0,${days}{top + 1}&lt;=14)",
        f"AND(ISNUMBER(${days}{top + 1}),${days}{top + 1}&gt;=15,${days}{top + 1}&lt;=30)",
    ]
    # The Follow-up date column carries the date format, so a date typed later shows as one.
    col = re.search(rf'<col [^>]*min="{follow}" max="{follow}"[^>]*/>', xml).group(0)
    assert 'style="' in col
    style = int(re.search(r'style="(\d+)"', col).group(1))
    assert load_workbook(written)._cell_styles[style].numFmtId >= 164  # a custom (date) format
    # openpyxl reads them back the same way
    loaded = load_workbook(written)[WORKLIST_SHEET]
    (dv,) = loaded.data_validations.dataValidation
    assert str(dv.sqref) == f"{status}{top + 1}:{status}{last}"
    fills = [
        r.dxf.fill.fgColor.rgb[-6:] for rs in loaded.conditional_formatting._cf_rules.values()
        for r in rs
    ]  # fmt: skip
    assert fills == [CELL_RULE_LOOK[k].fill for k in ("red", "amber", "yellow")]
    assert loaded.column_dimensions[get_column_letter(follow)].number_format == "yyyy-mm-dd"


def test_no_worklist_no_sheet_and_an_empty_list_says_so(tmp_path):
    report = build_report(AuditResult(summary={"as_of": AS_OF}))
    assert WORKLIST_SHEET not in [s.name for s in report.sheets]
    paid = claim_lines().assign(status="paid", paid=100.0)
    path = write_workbook(result_for(paid), tmp_path / "empty.xlsx")
    ws = load_workbook(path)[WORKLIST_SHEET]
    assert not ws.tables
    facts = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(1, 20)}
    assert facts["Open"].startswith("nothing is open as of 2026-06-30")


# -- typing survives re-runs ----------------------------------------------------------------------


def _resort_and_type(path: Path) -> dict:
    """Sort the table by claim id, newest first (as a user would with the filter button), add a
    column of one's own, and type on rows found by claim id. Returns what was typed, by item."""
    wb = load_workbook(path)
    ws = wb[WORKLIST_SHEET]
    top, headers, last = table_of(ws)
    width = len(headers)
    body = [[ws.cell(r, c).value for c in range(1, width + 1)] for r in range(top + 1, last + 1)]
    styles = [[ws.cell(top + 1, c).number_format for c in range(1, width + 1)]]
    body.sort(key=lambda row: row[headers["Claim"] - 1], reverse=True)
    for r, row in enumerate(body, start=top + 1):
        for c, value in enumerate(row, start=1):
            ws.cell(r, c).value = value
            ws.cell(r, c).number_format = styles[0][c - 1]
    # A column of the user's, inside the table.
    ws.cell(top, width + 1).value = "Priority flag"
    table = ws.tables["ak_worklist"]
    table.ref = f"A{top}:{get_column_letter(width + 1)}{last}"
    table.tableColumns.append(TableColumn(id=width + 1, name="Priority flag"))

    def row_of(claim: str, line: int = 1, nth: int = 0) -> int:
        found = [
            r for r in range(top + 1, last + 1)
            if ws.cell(r, headers["Claim"]).value == claim and ws.cell(r, headers["Line"]).value == line
        ]  # fmt: skip
        return found[nth]

    typed = {
        ("D1", 1, 0): {"Owner": "Dana", "Work status": "Appealed",
                       "Follow-up date": datetime(2026, 7, 15),
                       "Notes": '=HYPERLINK("http://example.invalid","x")'},
        ("D2", 1, 0): {"Owner": "Lee", "Work status": "Resubmitted",
                       "Notes": "corrected claim sent 6/28"},
        ("00123", 2, 0): {"Owner": "Sam", "Priority flag": 2},
        ("DUP", 1, 1): {"Notes": "the $100 one"},
        ("D3", 1, 0): {"Follow-up date": "after the holidays"},
    }  # fmt: skip
    for (claim, line, nth), values in typed.items():
        r = row_of(claim, line, nth)
        for header, value in values.items():
            cell = ws.cell(r, headers.get(header, width + 1))
            cell.value = value
            if isinstance(value, str):
                cell.data_type = "s"  # typed as text (in Excel: with a leading ')
            if isinstance(value, datetime):
                cell.number_format = "yyyy-mm-dd"
    wb.save(path)
    return typed


def test_typing_stays_on_the_same_claims_across_reruns(tmp_path):
    path = write_workbook(result_for(claim_lines()), tmp_path / "audit.xlsx")
    _resort_and_type(path)

    # Run 2, a week later: D2 was paid on its corrected claim; N1 is a new denial.
    lines = claim_lines(D2={"status": "paid", "paid": 280.0}, N1={"denial_codes": "CO-50"})
    write_workbook(result_for(lines, "2026-07-07"), path, into=path)
    wb = load_workbook(path)
    ws = wb[WORKLIST_SHEET]
    rows = rows_of(ws)
    d1 = find(rows, "D1")
    assert (d1["Owner"], d1["Work status"]) == ("Dana", "Appealed")
    assert d1["Follow-up date"] == datetime(2026, 7, 15)
    assert d1["Notes"] == '=HYPERLINK("http://example.invalid","x")'
    top, headers, _ = table_of(ws)
    r = top + 1 + rows.index(d1)
    notes = ws.cell(r, headers["Notes"])
    assert notes.data_type == "s" and notes.quotePrefix  # text, never a formula
    assert find(rows, "00123", 2)["Owner"] == "Sam" and find(rows, "00123", 2)["Priority flag"] == 2
    assert find(rows, "00123", 1)["Owner"] is None
    # the same key twice pairs in order: the second row (the $100 one) keeps its note
    assert [(r["Amount"], r["Notes"]) for r in rows if r["Claim"] == "DUP"] == [
        (400.0, None), (100.0, "the $100 one")
    ]  # fmt: skip
    # a follow-up date typed as text is not lost: it moves into Notes, saying so
    d3 = find(rows, "D3")
    assert d3["Follow-up date"] is None
    assert d3["Notes"] == "Follow-up date typed: after the holidays"
    n1 = find(rows, "N1")
    assert all(n1[h] is None for h in TYPED)
    assert "D2" not in {r["Claim"] for r in rows}
    assert ws.data_validations.dataValidation  # the new sheet has its dropdown again

    closed = rows_of(wb[CLOSED_SHEET], "ak_worklist_closed")
    assert [(r["Claim"], r["Line"]) for r in closed] == [("D2", 1)]
    (d2,) = closed
    assert (d2["Owner"], d2["Work status"], d2["Notes"]) == (
        "Lee", "Resubmitted", "corrected claim sent 6/28"
    )  # fmt: skip
    assert d2["Last seen open"] == datetime(2026, 6, 30)
    assert d2["Closed as of"] == datetime(2026, 7, 7)
    assert d2["Amount"] == 300.0 and d2["Action"] == "correct and resubmit"
    top, _, _ = table_of(ws)
    facts = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(2, top)}
    assert facts["Closed"].startswith("1 item with typing")

    # Run 3: nothing changes but the date; the closed row stays, as it was.
    write_workbook(result_for(lines, "2026-07-14"), path, into=path)
    wb = load_workbook(path)
    assert rows_of(wb[CLOSED_SHEET], "ak_worklist_closed") == closed
    assert find(rows_of(wb[WORKLIST_SHEET]), "D1")["Owner"] == "Dana"

    # Run 4: D2's payment was taken back and it is denied again: back with its typing.
    write_workbook(result_for(claim_lines(), "2026-07-21"), path, into=path)
    wb = load_workbook(path)
    assert CLOSED_SHEET not in wb.sheetnames
    d2 = find(rows_of(wb[WORKLIST_SHEET]), "D2")
    assert (d2["Owner"], d2["Work status"]) == ("Lee", "Resubmitted")


def test_nothing_typed_is_lost(tmp_path):
    path = write_workbook(result_for(claim_lines()), tmp_path / "audit.xlsx")
    typed = _resort_and_type(path)
    lines = claim_lines(D2={"status": "paid"}, D1={"status": "paid"}, D3={"status": "paid"})
    write_workbook(result_for(lines, "2026-07-07"), path, into=path)
    wb = load_workbook(path)
    kept = rows_of(wb[WORKLIST_SHEET]) + rows_of(wb[CLOSED_SHEET], "ak_worklist_closed")
    shown = {str(v) for row in kept for h, v in row.items() if h in (*TYPED, "Priority flag")}
    for values in typed.values():
        for value in values.values():
            text = value.strftime("%Y-%m-%d 00:00:00") if isinstance(value, datetime) else value
            assert str(text) in shown or any(str(text) in s for s in shown), value


def test_a_run_without_a_work_list_keeps_the_typing(tmp_path):
    path = write_workbook(result_for(claim_lines()), tmp_path / "audit.xlsx")
    _resort_and_type(path)
    write_workbook(AuditResult(summary={"as_of": "2026-07-07"}), path, into=path)
    wb = load_workbook(path)
    kept = rows_of(wb[WORKLIST_SHEET], "ak_worklist_kept")
    assert find(kept, "D1")["Owner"] == "Dana"
    assert find(kept, "D1")["Last seen open"] == datetime(2026, 6, 30)
    # and the next run with a list puts it back on the items
    write_workbook(result_for(claim_lines(), "2026-07-14"), path, into=path)
    rows = rows_of(load_workbook(path)[WORKLIST_SHEET])
    assert find(rows, "D1")["Owner"] == "Dana" and find(rows, "D2")["Owner"] == "Lee"


def test_reading_back_goes_a_chunk_at_a_time(tmp_path, monkeypatch):
    monkeypatch.setattr(worklist_notes, "CHUNK_ROWS", 3)
    path = write_workbook(result_for(claim_lines()), tmp_path / "audit.xlsx")
    _resort_and_type(path)
    notes = read_worklist_notes(path)
    assert sorted(notes["claim_id"]) == ["00123", "D1", "D2", "D3", "DUP"]
    assert set(notes["section"]) == {"open"}
    assert (notes["last_seen_open"] == pd.Timestamp(AS_OF)).all()
    assert notes.set_index("claim_id").loc["D1", "follow_up"] == date(2026, 7, 15)


def test_a_long_list_continues_on_more_sheets_and_keeps_typing_there(tmp_path):
    result = result_for(claim_lines())
    report = build_report(result, max_rows=16)
    names = [s.name for s in report.sheets]
    assert names[1:4] == [WORKLIST_SHEET, f"{WORKLIST_SHEET} (2)", "About"]
    path = write_with_openpyxl(report, tmp_path / "audit.xlsx")
    wb = load_workbook(path)
    ws = wb[f"{WORKLIST_SHEET} (2)"]
    (name,) = ws.tables
    rows = rows_of(ws, name)
    top, headers, _ = table_of(ws, name)
    ws.cell(top + 1, headers["Owner"]).value = "Kim"
    wb.save(path)
    notes = read_worklist_notes(path)
    assert notes["claim_id"].tolist() == [rows[0]["Claim"]]
    assert notes["last_seen_open"].tolist() == [pd.Timestamp(AS_OF)]
    again = build_report(result, max_rows=16, previous_worklist=notes)
    found = {
        (row["claim_id"], row["owner"])
        for sheet in again.sheets
        for table in sheet.tables()
        if table.key.startswith("worklist")
        for _, row in table.frame.iterrows()
        if not pd.isna(row["owner"])
    }
    assert found == {(rows[0]["Claim"], "Kim")}


def test_a_table_that_lost_its_claim_column_is_refused_not_dropped(tmp_path):
    path = write_workbook(result_for(claim_lines()), tmp_path / "audit.xlsx")
    _resort_and_type(path)
    wb = load_workbook(path)
    ws = wb[WORKLIST_SHEET]
    top, headers, _ = table_of(ws)
    ws.cell(top, headers["Claim"]).value = "Claim number"
    wb.save(path)
    before = path.read_bytes()
    with pytest.raises(OutputError, match="without its 'Claim' column.*nothing was written"):
        write_workbook(result_for(claim_lines()), path, into=path)
    assert path.read_bytes() == before


def test_a_workbook_without_a_work_list_reads_as_none(tmp_path):
    path = write_workbook(AuditResult(summary={}), tmp_path / "audit.xlsx")
    assert read_worklist_notes(path) is None


# -- the xlwings writer ---------------------------------------------------------------------------


def test_xlwings_writer_keeps_typing_in_an_open_book():
    book = fake_book(sheets=("Settings",))
    write_result(result_for(claim_lines()), book.mock)
    fake = book.sheet(WORKLIST_SHEET)
    (table,) = [t for t in fake.tables if t["name"] == "ak_worklist"]
    top, _, last, width = table["area"]
    headers = {fake.value(top, c): c for c in range(1, width + 1)}
    status = headers["Work status"]
    (validation,) = fake.validations
    assert validation["area"] == (top + 1, status, last, status)
    assert validation["list"] == list(WORK_STATUSES)
    days = headers["Days left"]
    assert [r["area"] for r in fake.rules] == [(top + 1, days, last, days)] * 3
    rows = {fake.value(r, headers["Claim"]): r for r in range(top + 1, last + 1)}
    assert fake.shown_fill(rows["D2"], days) == CELL_RULE_LOOK["amber"].fill
    assert fake.shown_fill(rows["D3"], days) == CELL_RULE_LOOK["yellow"].fill
    assert fake.shown_fill(rows["W1"], days) == CELL_RULE_LOOK["red"].fill
    assert fake.shown_fill(rows["D1"], days) is None
    assert fake.cells[(rows["D1"], headers["Follow-up date"])].number_format == "yyyy-mm-dd"
    # people type (Excel stores what they type as plain values)
    fake.cell(rows["D1"], headers["Owner"]).value = "Dana"
    fake.cell(rows["D1"], headers["Follow-up date"]).value = datetime(2026, 7, 15)
    fake.cell(rows["D2"], headers["Notes"]).value = "=HYPERLINK(x)"

    lines = claim_lines(D2={"status": "paid", "paid": 280.0})
    write_result(result_for(lines, "2026-07-07"), book.mock)
    names = [s.name for s in book.sheets]
    assert names[:4] == ["Settings", "Summary", WORKLIST_SHEET, CLOSED_SHEET]
    fake = book.sheet(WORKLIST_SHEET)
    (table,) = [t for t in fake.tables if t["name"] == "ak_worklist"]
    top, _, last, width = table["area"]
    headers = {fake.value(top, c): c for c in range(1, width + 1)}
    rows = {fake.value(r, headers["Claim"]): r for r in range(top + 1, last + 1)}
    assert fake.value(rows["D1"], headers["Owner"]) == "Dana"
    assert fake.value(rows["D1"], headers["Follow-up date"]) == datetime(2026, 7, 15)
    closed = book.sheet(CLOSED_SHEET)
    (table,) = closed.tables
    top, _, last, width = table["area"]
    headers = {closed.value(top, c): c for c in range(1, width + 1)}
    assert closed.value(top + 1, headers["Claim"]) == "D2"
    notes = closed.cells[(top + 1, headers["Notes"])]
    assert notes.value == "=HYPERLINK(x)" and notes.quoted and notes.formula is None


# -- LibreOffice ----------------------------------------------------------------------------------

soffice = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice not installed")


def _convert(path: Path, to: str, out: Path) -> Path:
    done = subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{out / 'lo-profile'}", "--headless",
         "--convert-to", to, "--outdir", str(out), str(path)],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    converted = out / f"{path.stem}.{to.split(':')[0]}"
    assert done.returncode == 0 and converted.is_file(), done.stdout + done.stderr
    return converted


@soffice
def test_dropdown_and_formats_survive_libreoffice(tmp_path, written):
    """LibreOffice opens the workbook as a client would and saves it again: the dropdown, the
    conditional formats and the date formats are still there."""
    out = tmp_path / "lo"
    out.mkdir()
    converted = _convert(written, "xlsx", out)
    ws = load_workbook(converted)[WORKLIST_SHEET]
    header = next(r for r in range(1, 30) if ws.cell(r, 1).value == "Rank")
    headers = {ws.cell(header, c).value: c for c in range(1, ws.max_column + 1)}
    status = get_column_letter(headers["Work status"])
    lists = [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]
    assert lists and all(w in lists[0].formula1 for w in WORK_STATUSES)
    assert str(lists[0].sqref).startswith(f"{status}{header + 1}")
    days = get_column_letter(headers["Days left"])
    formulas = [
        rule.formula[0] for area, rules in ws.conditional_formatting._cf_rules.items()
        for rule in rules if str(area.sqref).startswith(f"{days}{header + 1}")
    ]  # fmt: skip
    assert len(formulas) == 3 and all("ISNUMBER" in f for f in formulas)
    d2 = next(r for r in range(header + 1, ws.max_row + 1) if ws.cell(r, 3).value == "D2")
    assert ws.cell(d2, headers["Deadline"]).number_format.replace("\\", "") == "yyyy-mm-dd"
    pdf = _convert(written, "pdf", out)
    assert pdf.read_bytes().startswith(b"%PDF")
