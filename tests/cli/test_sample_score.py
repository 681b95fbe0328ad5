"""The chart-pull review from the command line: ``auditkit sample`` writes the reviewer's workbook
(sheets, dropdown, protection checked in the saved XML, fingerprints), a review is filled in
with openpyxl as a reviewer would, and ``auditkit score`` reads it back: JSON values against a
case worked out by hand, refusals naming the rows, exit codes, the Results sheet."""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from pathlib import Path
from statistics import NormalDist
from xml.etree import ElementTree

import pandas as pd
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from auditkit.cli import cli
from auditkit.excel.review_book import read_review
from auditkit.measures import review_stats
from auditkit.report.review_sheets import (
    DATA_SHEET,
    RESULTS_SHEET,
    REVIEW_SHEET,
    REVIEWER_COLUMNS,
    SAMPLED_COLUMNS,
    fingerprint,
)

runner = CliRunner()
NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}

HEADER = "Claim #,Line,DOS,Rend Prov,Primary Ins,Proc Code,Mod 1,Units,Dx1,Chg Amt,Ins Paid,Status"


def hand_export(path: Path) -> Path:
    """Two physicians, facet codes only, one payer, every line paid: 64493 pays $100, 64490
    $80, 64494 $50 (so the prices per unit are exactly those). Dr. Adams: 12 lines of 64493;
    Dr. Baker: 2 x 64490, 2 x 64493, 1 x 64494 (5 lines); one voided line never sampled."""
    lines = [HEADER]
    for i in range(12):
        lines.append(
            f"A{i:02d},1,01/{i + 2:02d}/2026,Dr. Adams,Aetna,64493,,1,M47.816,400.00,100.00,Paid"
        )
    for i, (code, paid) in enumerate(
        [("64490", 80), ("64490", 80), ("64493", 100), ("64493", 100), ("64494", 50)]
    ):
        mod = "RT" if i == 0 else ""
        lines.append(
            f"B{i:02d},1,02/{i + 2:02d}/2026,Dr. Baker,Aetna,{code},{mod},1,M47.816,"
            f"300.00,{paid:.2f},Paid"
        )
    lines.append("V01,1,02/20/2026,Dr. Baker,Aetna,64493,,1,M47.816,300.00,0.00,Voided")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run(*args: str):
    return runner.invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def export(tmp_path: Path) -> Path:
    return hand_export(tmp_path / "export.csv")


@pytest.fixture
def review(tmp_path: Path, export: Path) -> Path:
    out = tmp_path / "review.xlsx"
    result = run(
        "sample", export, "--out", out, "--by", "provider", "--per-stratum", "5", "--seed", "2026"
    )
    assert result.exit_code == 0, result.output
    return out


def header_row(ws) -> tuple[int, dict[str, int]]:
    """The Review table's header row and its columns by header."""
    for row in range(1, 40):
        if ws.cell(row, 1).value == "Sample id":
            return row, {ws.cell(row, c).value: c for c in range(1, ws.max_column + 1)}
    raise AssertionError("no Review table")


def review_rows(ws) -> list[dict]:
    top, cols = header_row(ws)
    out = []
    for r in range(top + 1, ws.max_row + 1):
        if ws.cell(r, 1).value is None:
            break
        out.append({"row": r, **{h: ws.cell(r, c).value for h, c in cols.items()}})
    return out


# -- auditkit sample -------------------------------------------------------------------------------


def test_sample_prints_the_seed_and_writes_the_workbook(tmp_path, export):
    out = tmp_path / "probe.xlsx"
    result = run("sample", export, "--out", out, "--per-stratum", "3", "--seed", "77")
    assert result.exit_code == 0, result.output
    assert "seed 77" in result.output
    assert "6 lines drawn from 2 strata of 17 lines" in result.output  # the voided line is out
    wb = load_workbook(out)
    assert wb.sheetnames == [REVIEW_SHEET, "Frame", "About", DATA_SHEET]
    assert wb[DATA_SHEET].sheet_state == "hidden"
    about = [c for row in wb["About"].iter_rows(values_only=True) for c in row if c]
    assert "77" in about and any("PCG64" in str(c) for c in about)
    assert any("lower bound" in str(c) for c in about)  # the statistics text
    frame = wb["Frame"]
    cells = [c for row in frame.iter_rows(values_only=True) for c in row]
    assert "Dr. Adams" in cells and 12 in cells and 4800 in cells  # 12 lines, $4,800 charged
    again = tmp_path / "again.xlsx"
    assert (
        run("sample", export, "--out", again, "--per-stratum", "3", "--seed", "77").exit_code == 0
    )
    first = review_rows(load_workbook(out)[REVIEW_SHEET])
    second = review_rows(load_workbook(again)[REVIEW_SHEET])
    assert first == second
    other = tmp_path / "other.xlsx"
    assert (
        run("sample", export, "--out", other, "--per-stratum", "3", "--seed", "78").exit_code == 0
    )
    others = review_rows(load_workbook(other)[REVIEW_SHEET])
    assert [r["Claim"] for r in first] != [r["Claim"] for r in others]


def test_sample_without_a_seed_prints_the_one_drawn(tmp_path, export):
    out = tmp_path / "r.xlsx"
    result = run("sample", export, "--out", out)
    assert result.exit_code == 0, result.output
    seed = result.output.split("seed ", 1)[1].split()[0]
    again = tmp_path / "again.xlsx"
    assert run("sample", export, "--out", again, "--seed", seed).exit_code == 0
    assert review_rows(load_workbook(out)[REVIEW_SHEET]) == review_rows(
        load_workbook(again)[REVIEW_SHEET]
    )


def test_review_sheet_columns_dropdown_and_fingerprints(review):
    wb = load_workbook(review)
    ws = wb[REVIEW_SHEET]
    top, cols = header_row(ws)
    assert list(cols) == [c.header for c in (*SAMPLED_COLUMNS, *REVIEWER_COLUMNS)]
    rows = review_rows(ws)
    assert len(rows) == 10  # 5 of Dr. Adams' 12, all 5 of Dr. Baker's
    assert [r["Physician"] for r in rows] == ["Dr. Adams"] * 5 + ["Dr. Baker"] * 5
    assert sorted(r["Code"] for r in rows[5:]) == ["64490", "64490", "64493", "64493", "64494"]
    lists = [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]
    assert len(lists) == 1 and lists[0].formula1 == '"Yes,No,Partly"'
    letter = ws.cell(top, cols["Supported"]).column_letter
    assert str(lists[0].sqref) == f"{letter}{top + 1}:{letter}{top + 10}"
    # The fingerprints stored on the hidden sheet are those of the rows' sampled values.
    data = [r for r in wb[DATA_SHEET].iter_rows(values_only=True)]
    at = next(i for i, r in enumerate(data) if r[0] == "sample_id")
    stored = {r[0]: r[1] for r in data[at + 1 : at + 11]}
    keys = [c.header for c in SAMPLED_COLUMNS]
    for row in rows:
        assert stored[row["Sample id"]] == fingerprint(row[h] for h in keys)


def _styles(archive: zipfile.ZipFile) -> list[bool]:
    """Per cell style (xf) index: is the cell locked?"""
    root = ElementTree.fromstring(archive.read("xl/styles.xml"))
    locked = []
    for xf in root.find("m:cellXfs", NS):
        protection = xf.find("m:protection", NS)
        locked.append(protection is None or protection.get("locked") not in ("0", "false"))
    return locked


def _sheet_part(archive: zipfile.ZipFile, title: str) -> str:
    book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    rid = next(s for s in book.find("m:sheets", NS) if s.get("name") == title).get(
        "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
    )
    target = next(r.get("Target") for r in rels if r.get("Id") == rid)
    return "xl/" + target.lstrip("/").removeprefix("xl/")


def test_sampled_cells_locked_reviewer_cells_unlocked_in_the_saved_xml(review):
    wb = load_workbook(review)
    top, cols = header_row(wb[REVIEW_SHEET])
    with zipfile.ZipFile(review) as archive:
        locked = _styles(archive)
        sheet = ElementTree.fromstring(archive.read(_sheet_part(archive, REVIEW_SHEET)))
    protection = sheet.find("m:sheetProtection", NS)
    assert protection is not None and protection.get("sheet") == "1"
    assert protection.get("autoFilter") == "0" and protection.get("sort") == "0"
    reviewer = {cols[c.header] for c in REVIEWER_COLUMNS}
    sampled = {cols[c.header] for c in SAMPLED_COLUMNS}
    seen = set()
    for row in sheet.find("m:sheetData", NS):
        r = int(row.get("r"))
        if r <= top or r > top + 10:
            continue
        for cell in row:
            ref = cell.get("r")
            col = wb[REVIEW_SHEET][ref].column
            is_locked = locked[int(cell.get("s", "0"))]
            seen.add((r, col))
            if col in reviewer:
                assert not is_locked, ref
            else:
                assert col in sampled and is_locked, ref
    # Every reviewer cell is written (blank, unlocked), not left to the default (locked).
    assert {(r, c) for r in range(top + 1, top + 11) for c in reviewer} <= seen
    # The reviewer columns are unlocked below the table too (rows a reviewer adds).
    cols_xml = {
        int(c.get("min")): c.get("style") for c in sheet.find("m:cols", NS) if c.get("style")
    }
    assert set(cols_xml) == reviewer and not any(locked[int(s)] for s in cols_xml.values())
    # The hidden data sheet and the Frame are protected too.
    assert wb[DATA_SHEET].protection.sheet and wb["Frame"].protection.sheet


def test_sample_usage_errors_exit_2(tmp_path, export):
    out = tmp_path / "r.xlsx"
    bad_date = run("sample", export, "--out", out, "--from", "2026-02-30")
    assert bad_date.exit_code == 2 and "--from: '2026-02-30' is not a date" in bad_date.output
    nothing = run("sample", export, "--out", out, "--from", "2027-01-01")
    assert nothing.exit_code == 2 and "no claim line is left to sample" in nothing.output
    by = run("sample", export, "--out", out, "--by", "provider,doctor")
    assert by.exit_code == 2 and "cannot stratify by doctor" in by.output
    over_input = run("sample", export, "--out", export)
    assert over_input.exit_code == 2 and not out.exists()
    assert run("sample", export, "--out", tmp_path / "r.csv").exit_code == 2
    assert hand_export(tmp_path / "check.csv").read_text() == export.read_text()


def test_sample_of_a_real_export_only_paid(tmp_path, medirev):
    import auditkit

    out = tmp_path / "paid.xlsx"
    result = run(
        "sample",
        medirev,
        "--out",
        out,
        "--only",
        "paid",
        "--per-stratum",
        "4",
        "--seed",
        "5",
        "--from",
        "2025-10-01",
        "--to",
        "2025-10-31",
    )
    assert result.exit_code == 0, result.output
    lines = auditkit.load([str(medirev)]).frame
    october = lines["date_of_service"].between("2025-10-01", "2025-10-31")
    paid = lines["status"].isin(["paid", "partially_paid"])
    assert f"of {int((october & paid).sum()):,} lines" in result.output
    rows = review_rows(load_workbook(out)[REVIEW_SHEET])
    assert rows and {r["Status"] for r in rows} <= {"paid", "partially_paid"}
    assert all(
        pd.Timestamp("2025-10-01") <= r["Date of service"] <= pd.Timestamp("2025-10-31")
        for r in rows
    )


# -- filling in and scoring ----------------------------------------------------------------------


def fill(review: Path, answers: dict[int, dict[str, object]], to: Path | None = None) -> Path:
    """Type ``answers`` (position in the table -> header -> value) as a reviewer would."""
    wb = load_workbook(review)
    ws = wb[REVIEW_SHEET]
    top, cols = header_row(ws)
    for position, typed in answers.items():
        for header, value in typed.items():
            ws.cell(top + 1 + position, cols[header]).value = value
    target = to or review
    wb.save(target)
    return target


#: Dr. Adams (rows 0-4, all 64493 at $100): No with correct code 64490 (+$20), Yes, blank,
#: No with nothing typed (the whole $100), Yes but 2 units supported (-$100: undercoded).
#: Dr. Baker (rows 5-9, every one of its lines): all Yes; one with a modifier corrected (an
#: error, $0), one with "none" typed where none was billed (no error).
ANSWERS = {
    0: {"Supported": "No", "Correct code": 64490, "Notes": "MBB, not facet injection"},
    1: {"Supported": "Yes"},
    3: {"Supported": "No"},
    4: {"Supported": "yes", "Correct units": 2},
    5: {"Supported": "Yes"},
    6: {"Supported": "Yes"},
    7: {"Supported": "Yes"},
    8: {"Supported": "Yes"},
    9: {"Supported": "Yes"},
}


def baker_answers(review: Path) -> dict[int, dict[str, object]]:
    """Dr. Baker's rows: the 64494 line gets a modifier it lacked, a line without modifiers
    is confirmed with 'none'."""
    rows = review_rows(load_workbook(review)[REVIEW_SHEET])
    answers = {k: dict(v) for k, v in ANSWERS.items()}
    add_on = next(i for i in range(5, 10) if rows[i]["Code"] == "64494")
    plain = next(i for i in range(5, 10) if rows[i]["Code"] == "64493")
    answers[add_on]["Correct modifiers"] = "RT"
    answers[plain]["Correct modifiers"] = "none"
    return answers


def test_score_a_filled_in_review_against_a_case_worked_by_hand(tmp_path, review):
    filled = fill(review, baker_answers(review), tmp_path / "filled.xlsx")
    rows = review_rows(load_workbook(filled)[REVIEW_SHEET])
    out_json = tmp_path / "results.json"
    result = run("score", filled, "--json", out_json, "--into", filled)
    assert result.exit_code == 0, result.output
    doc = json.loads(out_json.read_text())
    keys = [
        "provider",
        "family",
        "frame_lines",
        "frame_dollars",
        "sample_lines",
        "reviewed",
        "errors",
        "error_rate",
        "ci_low",
        "ci_high",
        "projected_dollars",
        "projected_low",
        "projected_high",
    ]
    adams, baker = doc["strata"]
    for part in (adams, baker, doc["overall"]):
        assert list(part)[: len(keys)] == keys
    # Dr. Adams: 12 lines, $4,800 charged; 5 sampled, 4 answered, 3 errors; the differences
    # +20, 0, +100, -100: mean $5 a line, $60 over the 12 lines.
    assert (adams["provider"], adams["family"]) == ("Dr. Adams", None)
    assert (adams["frame_lines"], adams["frame_dollars"], adams["sample_lines"]) == (12, 4800, 5)
    assert (adams["reviewed"], adams["errors"]) == (4, 3)
    assert adams["error_rate"] == 0.75
    z = NormalDist().inv_cdf(0.95)
    p, n = 0.75, 4
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5) / (1 + z * z / n)
    assert adams["ci_low"] == pytest.approx(centre - half)
    assert adams["ci_high"] == pytest.approx(centre + half)
    assert adams["projected_dollars"] == pytest.approx(60.0)
    by_hand = review_stats.stratified_projection(
        pd.DataFrame({"N": [12], "n": [4], "differences": [[20.0, 0.0, 100.0, -100.0]]})
    )["strata"][0]
    assert adams["projected_low"] == pytest.approx(by_hand["projected_low"])
    assert adams["projected_high"] == pytest.approx(by_hand["projected_high"])
    assert adams["projected_low"] < 60 < adams["projected_high"]
    # Dr. Baker: every line reviewed (a census), one error worth $0: known exactly.
    assert (baker["frame_lines"], baker["sample_lines"], baker["reviewed"]) == (5, 5, 5)
    assert (baker["errors"], baker["error_rate"]) == (1, 0.2)
    assert baker["projected_dollars"] == baker["projected_low"] == baker["projected_high"] == 0
    # Overall: 17 lines; rate (12/17)(3/4) + (5/17)(1/5) = 10/17; $60 projected.
    overall = doc["overall"]
    assert (overall["provider"], overall["family"]) == (None, None)
    assert (overall["frame_lines"], overall["sample_lines"]) == (17, 10)
    assert (overall["reviewed"], overall["errors"]) == (9, 4)
    assert overall["frame_dollars"] == 4800 + 1500
    assert overall["error_rate"] == pytest.approx(10 / 17)
    rate = review_stats.stratified_rate(pd.DataFrame({"N": [12, 5], "n": [4, 5], "errors": [3, 1]}))
    assert (overall["ci_low"], overall["ci_high"]) == pytest.approx(
        (rate["ci_low"], rate["ci_high"])
    )
    assert overall["projected_dollars"] == pytest.approx(60.0)
    total = review_stats.stratified_projection(
        pd.DataFrame({"N": [12, 5], "n": [4, 5], "differences": [[20.0, 0, 100, -100], [0.0] * 5]})
    )
    assert overall["projected_low"] == pytest.approx(total["projected_low"])
    assert overall["projected_high"] == pytest.approx(total["projected_high"])
    assert overall["lower_bound"] == pytest.approx(total["lower_bound_one_sided"])
    # The blank line is reported and left out.
    assert doc["unanswered"] == [rows[2]["Sample id"]]
    assert any("1 line(s) not answered" in w for w in doc["warnings"])
    assert "1 line(s) not answered" in result.output and "lower bound" in result.output
    kinds = {e["sample_id"]: (e["kind"], e["difference"]) for e in doc["errors"]}
    assert kinds[rows[0]["Sample id"]] == ("not supported, code", 20.0)
    assert kinds[rows[3]["Sample id"]] == ("not supported", 100.0)
    assert kinds[rows[4]["Sample id"]] == ("units", -100.0)
    assert (
        len(kinds) == 4 and doc["seed"] == 2026 and doc["method"]["error_rate_interval"] == "wilson"
    )
    # The Results sheet was added; the review sheets are as they were, still protected.
    wb = load_workbook(filled)
    assert wb.sheetnames[-1] == RESULTS_SHEET
    assert wb[REVIEW_SHEET].protection.sheet and wb[DATA_SHEET].sheet_state == "hidden"
    cells = [c for row in wb[RESULTS_SHEET].iter_rows(values_only=True) for c in row]
    assert "Dr. Adams" in cells and 60 in cells and "MBB, not facet injection" in cells


def test_score_again_replaces_the_results_and_out_writes_a_copy(tmp_path, review):
    fill(review, ANSWERS)
    assert run("score", review, "--into", review).exit_code == 0
    assert run("score", review, "--into", review, "--method", "exact").exit_code == 0
    assert load_workbook(review).sheetnames.count(RESULTS_SHEET) == 1
    before = review.read_bytes()
    copy = tmp_path / "scored.xlsx"
    result = run("score", review, "--out", copy)
    assert result.exit_code == 0, result.output
    assert review.read_bytes() == before
    assert RESULTS_SHEET in load_workbook(copy).sheetnames
    printed = run("score", review)  # no output named: the JSON on stdout
    assert printed.exit_code == 0
    assert json.loads(printed.stdout)["overall"]["reviewed"] == 9


def test_score_into_another_workbook_adds_the_results_there(tmp_path, review, export):
    fill(review, ANSWERS)
    before = review.read_bytes()
    audit = tmp_path / "audit.xlsx"
    assert run("audit", export, "--out", audit).exit_code == 0
    result = run("score", review, "--into", audit)
    assert result.exit_code == 0, result.output
    names = load_workbook(audit).sheetnames
    assert "Summary" in names and RESULTS_SHEET in names and REVIEW_SHEET not in names
    assert review.read_bytes() == before


def test_an_edited_sampled_cell_is_refused_naming_the_row(tmp_path, review):
    filled = fill(review, ANSWERS, tmp_path / "filled.xlsx")
    wb = load_workbook(filled)
    ws = wb[REVIEW_SHEET]
    top, cols = header_row(ws)
    ws.cell(top + 3, cols["Code"]).value = "64490"  # a reviewer "corrects" the billed code
    ws.cell(top + 6, cols["Charge"]).value = 1.0
    wb.save(filled)
    out_json = tmp_path / "r.json"
    result = run("score", filled, "--json", out_json)
    assert result.exit_code == 2
    assert f"rows {top + 3}, {top + 6} were changed since the sample was drawn" in result.output
    assert "nothing was scored" in result.output and not out_json.exists()


def test_deleted_or_copied_rows_are_refused(tmp_path, review):
    filled = fill(review, ANSWERS, tmp_path / "filled.xlsx")
    wb = load_workbook(filled)
    ws = wb[REVIEW_SHEET]
    top, _ = header_row(ws)
    ws.delete_rows(top + 2)
    wb.save(tmp_path / "deleted.xlsx")
    deleted = run("score", tmp_path / "deleted.xlsx")
    assert deleted.exit_code == 2 and "1 sampled line(s) are missing" in deleted.output
    wb = load_workbook(filled)
    ws = wb[REVIEW_SHEET]
    for c in range(1, ws.max_column + 1):  # row 1 copied below the table
        ws.cell(top + 11, c).value = ws.cell(top + 1, c).value
    wb.save(tmp_path / "copied.xlsx")
    copied = run("score", tmp_path / "copied.xlsx")
    assert copied.exit_code == 2 and f"row {top + 11} of the Review sheet" in copied.output


def test_answers_that_are_not_answers_are_refused(tmp_path, review):
    maybe = fill(review, {2: {"Supported": "Maybe"}}, tmp_path / "maybe.xlsx")
    top, _ = header_row(load_workbook(maybe)[REVIEW_SHEET])
    result = run("score", maybe)
    assert result.exit_code == 2
    assert f"Review sheet row {top + 3} hold something else" in result.output
    units = fill(review, {1: {"Supported": "No", "Correct units": "two"}}, tmp_path / "u.xlsx")
    assert run("score", units).exit_code == 2


def test_score_exit_codes(tmp_path, review, export):
    both = run("score", review, "--out", tmp_path / "a.xlsx", "--into", review)
    assert both.exit_code == 2 and "not both" in both.output
    missing = run("score", tmp_path / "nope.xlsx")
    assert missing.exit_code == 2 and "does not exist" in missing.output
    over_input = run("score", review, "--out", review)
    assert over_input.exit_code == 2
    not_review = tmp_path / "plain.xlsx"
    assert run("audit", export, "--out", not_review).exit_code == 0
    refused = run("score", not_review)
    assert refused.exit_code == 2 and "not a review workbook" in refused.output
    nothing = run("score", review, "--json", tmp_path / "r.json")
    assert nothing.exit_code == 0 and "0 of 10 sampled lines reviewed" in nothing.output


def test_text_from_the_export_is_never_a_formula(tmp_path):
    export = tmp_path / "formula.csv"
    export.write_text(
        HEADER + "\n"
        '"=HYPERLINK(""http://x"")",1,01/05/2026,"=1+1",Aetna,64493,,1,M47.816,100,50,Paid\n',
        encoding="utf-8",
    )
    out = tmp_path / "r.xlsx"
    assert run("sample", export, "--out", out, "--seed", "1").exit_code == 0
    ws = load_workbook(out)[REVIEW_SHEET]
    top, cols = header_row(ws)
    claim = ws.cell(top + 1, cols["Claim"])
    physician = ws.cell(top + 1, cols["Physician"])
    assert claim.data_type == "s" and claim.value.startswith("=HYPERLINK")
    assert physician.data_type == "s" and physician.value == "=1+1"
    fill(out, {0: {"Supported": "Yes"}})
    assert read_review(out).rows["claim_id"].tolist() == [claim.value]  # fingerprint matches


def test_a_code_typed_as_a_number_keeps_its_leading_zero_and_an_unknown_price_is_said(
    tmp_path, review
):
    typed = {1: {"Supported": "No", "Correct code": 1992}, 2: {"Supported": "Yes"}}
    filled = fill(review, typed, tmp_path / "f.xlsx")
    out_json = tmp_path / "r.json"
    assert run("score", filled, "--json", out_json).exit_code == 0
    doc = json.loads(out_json.read_text())
    (error,) = doc["errors"]
    assert error["correct_code"] == "01992" and error["kind"] == "not supported, code"
    assert error["difference"] is None  # 01992 is priced nowhere: counted as $0, and said
    assert any("could not be priced" in w for w in doc["warnings"])
    assert doc["overall"]["projected_dollars"] == 0


def test_an_audit_written_into_the_review_workbook_leaves_the_review_alone(
    tmp_path, review, export
):
    """The review sheets are the reviewer's work: not marked as auditkit's, so an audit
    written into the workbook adds its sheets and removes none of them."""
    fill(review, ANSWERS)
    result = run("audit", export, "--into", review)
    assert result.exit_code == 0, result.output
    names = load_workbook(review).sheetnames
    assert {REVIEW_SHEET, "Frame", "About", DATA_SHEET, "Summary"} <= set(names)
    out_json = tmp_path / "r.json"
    assert run("score", review, "--json", out_json, "--into", review).exit_code == 0
    assert json.loads(out_json.read_text())["overall"]["reviewed"] == 9
    # The Results sheet is auditkit's (score makes it again): a later audit replaces it.
    assert run("audit", export, "--into", review).exit_code == 0
    wb = load_workbook(review)
    assert RESULTS_SHEET not in wb.sheetnames and REVIEW_SHEET in wb.sheetnames
    assert [r["Supported"] for r in review_rows(wb[REVIEW_SHEET])][:2] == ["No", "Yes"]


def test_a_probe_with_one_answered_line_in_a_stratum_is_scored(tmp_path, review):
    """A probe often leaves a stratum with one answered line and no error."""
    filled = fill(review, {0: {"Supported": "Yes"}}, tmp_path / "one.xlsx")
    out_json = tmp_path / "r.json"
    result = run("score", filled, "--json", out_json)
    assert result.exit_code == 0, result.output
    overall = json.loads(out_json.read_text())["overall"]
    assert (overall["reviewed"], overall["errors"], overall["error_rate"]) == (1, 0, 0.0)
    assert overall["ci_low"] == 0.0 and 0.0 < overall["ci_high"] < 1.0


def test_explain_sample():
    result = run("explain", "sample")
    assert result.exit_code == 0
    text = result.output
    for words in (
        "Probe",
        "Full sample",
        "--per-stratum 30",
        "lower bound",
        "PCG64",
        "Partly",
        "Wilson",
    ):
        assert words in text


soffice = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice not installed")


@soffice
def test_a_review_saved_by_libreoffice_is_still_scored(tmp_path, review):
    """A reviewer who fills the workbook in LibreOffice: it saves every cell its own way (shared
    strings, its number and date forms); the fingerprints still match and protection stays."""
    filled = fill(review, ANSWERS, tmp_path / "filled.xlsx")
    out = tmp_path / "lo"
    out.mkdir()
    done = subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{out / 'lo-profile'}", "--headless",
         "--convert-to", "xlsx", "--outdir", str(out), str(filled)],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    saved = out / "filled.xlsx"
    assert done.returncode == 0 and saved.is_file(), done.stdout + done.stderr
    wb = load_workbook(saved)
    assert wb[REVIEW_SHEET].protection.sheet
    json_path = tmp_path / "lo.json"
    result = run("score", saved, "--json", json_path)
    assert result.exit_code == 0, result.output
    assert json.loads(json_path.read_text())["overall"]["reviewed"] == 9
