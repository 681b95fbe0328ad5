"""Each UDF evaluated as Excel's COM server evaluates it: xlwings' ``call_udf`` with the cells
handed over as COM hands them (see xlwings_harness.py), the result converted as Excel gets it.

Expected values are worked out from the definitions, not copied from output.
"""

from __future__ import annotations

import csv
import re
from datetime import datetime
from pathlib import Path

import pytest
import xlwings_harness as harness

import auditkit
from auditkit.excel import ranges

ROOT = Path(__file__).parents[2]
SAMPLE = ROOT / "sample_exports" / "medirev_charges.csv"
M = harness.MISSING


def value(result):
    """The single value of a 1x1 result (what the cell shows)."""
    assert isinstance(result, list) and len(result) == 1 and len(result[0]) == 1, result
    return result[0][0]


def column(rows):
    return [[v] for v in rows]


# -- rates ---------------------------------------------------------------------------------------


def test_tpi_mix_cleans_codes_like_the_reader(excel):
    # 20552 as a number, 20553 as text with spaces, a number stored as text with ".0", blanks,
    # an error cell (#N/A arrives as an error code and counts as blank), another code.
    codes = [20552, " 20553 ", "20553.0", None, harness.NA_ERROR, "99213", "20552"]
    assert value(excel("AUDIT_TPI_MIX", column(codes), M, M)) == pytest.approx(2 / 4)


def test_tpi_mix_for_one_provider(excel):
    codes = column(["20552", "20553", "20553", "20552"])
    providers = column(["Dr Lee", "dr lee ", "Dr Ortiz", "Dr Ortiz"])
    assert value(excel("AUDIT_TPI_MIX", codes, providers, "DR LEE")) == pytest.approx(0.5)
    shown = value(excel("AUDIT_TPI_MIX", codes, providers, "Dr Nobody"))
    assert shown == "n/a: no 20552 or 20553 codes for 'Dr Nobody'"


def test_tpi_mix_messages(excel):
    assert value(excel("AUDIT_TPI_MIX", column(["99213"]) * 2, M, M)).startswith("n/a: no 20552")
    short = value(excel("AUDIT_TPI_MIX", column(["20552", "20553"]), column(["Dr A"]), "Dr A"))
    assert short.startswith("auditkit: codes has 2 cells but providers has 1")
    alone = value(excel("AUDIT_TPI_MIX", column(["20552", "20553"]), M, "Dr A"))
    assert alone.startswith("auditkit: a provider ('Dr A') was given without the providers range")


def test_clean_rate(excel):
    statuses = ["Paid", "denied", "Pending", None, "PD", "paid", "Rejected"]
    frequency = [1, 1, 1, 1, 7, "original", 1]
    # counted: paid, denied, PD (freq 7: corrected), paid, rejected -> clean: the two paid
    got = excel("AUDIT_CLEAN_RATE", column(statuses), column(frequency), M, M)
    assert value(got) == pytest.approx(2 / 5)
    # without frequency codes the PD line is a clean paid claim
    assert value(excel("AUDIT_CLEAN_RATE", column(statuses), M, M, M)) == pytest.approx(3 / 5)


def test_clean_rate_unknown_status_is_an_error_message(excel):
    shown = value(excel("AUDIT_CLEAN_RATE", column(["paid", "Huh?", "Huh?"]), M, M, M))
    assert shown.startswith("auditkit: statuses: 2 cells are not a claim status ('Huh?')")


def test_denial_rate_lines_and_dollars(excel):
    statuses = column(["Paid", "Denied", "Denied", "Pending", "Partially paid"])
    charges = column(["$1,200.00", 300, "100", 5000, 600])
    # adjudicated: paid, denied, denied, partially paid (pending left out)
    assert value(excel("AUDIT_DENIAL_RATE", statuses, M, M, M)) == pytest.approx(2 / 4)
    dollars = value(excel("AUDIT_DENIAL_RATE", statuses, charges, M, M))
    assert dollars == pytest.approx(400 / 2200)


def test_denial_rate_bad_amount(excel):
    shown = value(excel("AUDIT_DENIAL_RATE", column(["Paid", "Denied"]), column([1, "ten"]), M, M))
    assert shown.startswith("auditkit: charges: 1 cell is not a number ('ten')")


# -- codes ---------------------------------------------------------------------------------------


def test_cpm_codes_per_month(excel):
    minutes = column([29, 30, "44", 45, None, 75.5, "1,000"])
    got = excel("AUDIT_CPM_CODES", minutes, M)
    assert got == [
        ["none (under 30 minutes)"],
        ["G3002 x1"],
        ["G3002 x1"],
        ["G3002 x1, G3003 x1"],
        [""],  # a blank month stays blank (xlwings writes None as an empty cell)
        ["G3002 x1, G3003 x3"],  # 45.5 minutes past the first 30: three full 15s
        ["G3002 x1, G3003 x64"],  # (1000 - 30) // 15
    ]
    assert excel("AUDIT_CPM_CODES", minutes, "g3003") == [[0], [0], [0], [1], [""], [3], [64]]
    assert value(excel("AUDIT_CPM_CODES", 62, M)) == "G3002 x1, G3003 x2"
    assert value(excel("AUDIT_CPM_CODES", -5, M)).startswith(
        "auditkit: minutes: 1 cell is negative"
    )
    assert value(excel("AUDIT_CPM_CODES", 40, "99213")).startswith("auditkit: code '99213'")


def test_cpm_codes_keep_a_row_shape(excel):
    assert excel("AUDIT_CPM_CODES", [[30, 45, 60]], "G3003") == [[0, 1, 2]]


def test_carc(excel):
    assert excel("AUDIT_CARC", "CO-197", M) == [["prior authorization absent", "authorization"]]
    got = excel("AUDIT_CARC", column(["co 197", 4, None, "XX9"]), "cause")
    assert got == [["authorization"], ["modifier"], [""], ["unknown"]]
    meanings = excel("AUDIT_CARC", column(["PR-1", "OA-999"]), "meaning")
    assert meanings == [["deductible"], ["not in auditkit's reason-code table"]]
    assert value(excel("AUDIT_CARC", "CO-4", "colour")).startswith("auditkit: part 'colour'")
    # an empty cell given as the part means "both"
    assert excel("AUDIT_CARC", "CO-4", [[None]])[0][1] == "modifier"


def test_family(excel):
    codes = column(["20553", 64483, "g3002", None, "99999", "64493.0"])
    assert excel("AUDIT_FAMILY", codes) == [
        ["trigger point"],
        ["epidural"],
        ["chronic pain management"],
        [""],
        ["other"],
        ["facet"],
    ]


# -- lines and tables ----------------------------------------------------------------------------


def test_check_line_runs_the_registered_audits(excel):
    # tpi-ratio's line rule: 20553 needs three or more muscles documented.
    shown = value(excel("AUDIT_CHECK_LINE", "20553", "RT", "M79.18", 1, M, [["Muscles"]], [[2]]))
    assert "[high] tpi-ratio: 20553 billed with 2 muscles documented" in shown
    fine = ranges.check_line(
        "20553", None, "M79.18", 1, None, ["Muscles"], [3], select=["tpi-ratio"]
    )
    assert fine == [] and ranges.problems_text(fine) == "OK"


def test_check_line_for_a_column_of_lines(excel):
    # One formula for many lines: one answer per line, in the shape of the cpt column.
    got = excel(
        "AUDIT_CHECK_LINE",
        column(["20553", 20552, None, "20553"]),
        [["RT", None], [None, None], [None, None], ["LT", "59"]],  # Mod 1 and Mod 2 cells
        column(["M79.18", "M79.18", None, "M79.18"]),
        M,
        M,
        [["Muscles"]],
        column([2, 4, None, 5]),
    )
    assert len(got) == 4 and all(len(row) == 1 for row in got)
    assert "[high] tpi-ratio: 20553 billed with 2 muscles" in got[0][0]
    assert "[high] tpi-ratio: 20552 billed with 4 muscles" in got[1][0]
    assert got[2][0].startswith("[info] input: not checked: blank")
    assert "tpi-ratio: 20553 billed" not in got[3][0]  # five muscles support 20553
    assert excel("AUDIT_CHECK_LINE", column(["20552", "20553"]), M, M, M, M, [["Muscles"]],
                 column([1])) [0][0].startswith("auditkit: values has 1 cells")  # fmt: skip


def test_check_line_says_which_value_it_could_not_read(excel):
    # The user typed these cells in their own sheet: the answer quotes them back, with the
    # column, so they can see which one to fix (redaction is for outputs that leave the sheet).
    got = excel(
        "AUDIT_CHECK_LINE",
        column(["20553", "20552", "20553"]),
        M,
        M,
        M,
        M,
        [["DOS", "Muscles"]],
        [["13/45/2026", 3], ["Hall, Joseph", 1], [datetime(2026, 1, 2), 3]],
    )
    assert got == [
        ["[info] input: not checked: DOS: not a date: '13/45/2026'"],
        ["[info] input: not checked: DOS: not a date: 'Hall, Joseph'"],
        ["OK"],
    ]
    # the library function says the same
    bad, fine = ranges.check_lines(
        ["20553", "20552"], None, None, None, None, ["DOS"], ["2026-02-30", "2026-02-03"]
    )
    assert [(p.audit, p.severity, p.message) for p in bad] == [
        ("input", "info", "not checked: DOS: not a date: '2026-02-30'")
    ]
    assert all(p.audit != "input" for p in fine)


def test_check_line_without_a_code(excel):
    assert value(excel("AUDIT_CHECK_LINE", None, M, M, M, M, M, M)) == (
        "auditkit: cpt is blank (give the line's CPT or HCPCS code)"
    )


def _as_excel_opens(rows: list[list[str]]) -> list[list[object]]:
    """The CSV's cells as Excel types them when the file is opened: numbers, dates, blanks."""
    out = []
    for row in rows:
        typed: list[object] = []
        for text in row:
            if text == "":
                typed.append(None)
            elif re.fullmatch(r"\$?-?[\d,]*\d(\.\d+)?", text):
                typed.append(float(text.replace("$", "").replace(",", "")))
            elif re.fullmatch(r"\d{2}/\d{2}/\d{4}", text):
                typed.append(datetime.strptime(text, "%m/%d/%Y"))
            else:
                typed.append(text)
        out.append(typed)
    return out


def test_findings_match_the_file_route(excel, tmp_path):
    rows = list(csv.reader(SAMPLE.open(encoding="cp1252")))[:801]
    grid = _as_excel_opens(rows)
    # a title row and a blank row above the header, as a pasted report often has
    grid = [["Charge detail, October"] + [None] * (len(rows[0]) - 1), [None] * len(rows[0])] + grid
    got = excel("AUDIT_FINDINGS", grid, M, M)
    header, body = got[0], got[1:]
    assert header == [h for _, h in ranges.FINDINGS_VIEW]

    export = tmp_path / "export.csv"
    with export.open("w", newline="", encoding="cp1252") as handle:
        csv.writer(handle).writerows(rows)
    expected = auditkit.run_audits(auditkit.load(export)).findings
    assert len(body) == len(expected) > 0
    at = {h: i for i, h in enumerate(header)}
    pasted_rows = [r[at["Row"]] for r in body]
    # the pasted range starts two rows higher than the file: its rows are 2 further down
    file_rows = [None if v is None else v + 2 for v in expected["source_row"]]
    assert pasted_rows == [v if v is not None else "" for v in file_rows]
    assert [r[at["Finding"]] for r in body] == list(expected["message"])
    assert [r[at["Audit"]] for r in body] == list(expected["audit"])


def test_findings_missing_column_message(excel):
    grid = [["Claim #", "DOS", "CPT"], ["C1", datetime(2025, 10, 1), "20552"]]
    shown = value(excel("AUDIT_FINDINGS", grid, M, M))
    assert shown.startswith("auditkit: (table): no column found for required rendering_provider")


def test_errors_never_show_a_traceback(excel, monkeypatch):
    def broken(*args):
        raise RuntimeError("boom\nTraceback (most recent call last): ...")

    monkeypatch.setattr(ranges, "families", broken)
    shown = value(excel("AUDIT_FAMILY", column(["20552"])))
    assert shown.startswith("auditkit: internal error (RuntimeError: boom")
    assert "\n" not in shown
