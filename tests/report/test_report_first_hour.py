"""What a billing manager reads first: the Start here block, evidence in plain words, `explain`
without markup, and indicators that look contradictory explained where they stand."""

from __future__ import annotations

import re
from dataclasses import replace

import pandas as pd
import pytest

from auditkit.engine import registry
from auditkit.engine.runner import run_audits
from auditkit.ingest.model import ClaimLines
from auditkit.report import Facts, Table, Text, Title, build_report
from auditkit.report.evidence import evidence_text
from auditkit.report.layout import resolve, table_header_row
from auditkit.report.summary_sheet import first_sentence
from auditkit.synth import generate
from auditkit.synth.revenue import fee_schedule


@pytest.fixture(scope="module")
def run():
    lines = generate(4000, 21)
    result = run_audits(lines, fee_schedule=fee_schedule())
    return result, build_report(result, ClaimLines(lines, []))


def test_summary_opens_with_the_actions_worth_the_most_counted_money(run) -> None:
    result, report = run
    blocks = report.sheet("Summary").blocks
    # Right after the title and its subtitle line.
    assert isinstance(blocks[2], Title) and blocks[2].text == "Start here"
    assert isinstance(blocks[3], Text) and "counted once" in blocks[3].text
    table = blocks[4]
    assert isinstance(table, Table) and table.key == "start-here"
    frame = table.frame
    assert 3 <= len(frame) <= 5
    # Each action is an audit's counted dollars, largest first.
    found = result.findings
    counted = found[found["counted"]].groupby("audit")["dollars_at_risk"].sum()
    expected = counted[counted > 0].sort_values(ascending=False).iloc[: len(frame)]
    titles = {r.id: r.title for r in result.audits}
    assert list(frame["action"]) == [titles[a] for a in expected.index]
    assert list(frame["dollars"]) == pytest.approx(list(expected))
    assert frame["dollars"].is_monotonic_decreasing
    for audit_id, fix in zip(expected.index, frame["fix"], strict=True):
        full = registry.get(audit_id).fix()
        assert fix and len(fix) < len(full) and full.replace("``", "").startswith(fix)
        assert fix.endswith(".") and "``" not in fix
    # Each links to the first of its counted rows on the audit's sheet.
    for audit_id, link in zip(expected.index, table.links["findings"], strict=True):
        sheet_name, row = resolve(report, link)
        sheet, target = report.find_table(link.table)
        assert sheet.name == sheet_name == audit_id
        assert row == table_header_row(sheet, target.key) + 1 + link.row
        shown = target.frame
        assert shown.loc[link.row, "in_total"] == "yes"
        assert (shown.loc[: link.row - 1, "in_total"] != "yes").all()


def test_start_here_says_so_when_nothing_is_counted(run) -> None:
    result, _report = run
    none_counted = result.findings.assign(counted=False)
    report = build_report(replace(result, findings=none_counted))
    blocks = report.sheet("Summary").blocks
    assert blocks[2].text == "Start here"
    assert isinstance(blocks[3], Text) and "No finding has dollars counted" in blocks[3].text
    assert not any(isinstance(b, Table) and b.key == "start-here" for b in blocks)


def test_first_sentence_keeps_abbreviations() -> None:
    assert first_sentence("Use 59 (e.g. XS for a site). Then rebill.") == (
        "Use 59 (e.g. XS for a site)."
    )
    assert first_sentence("One sentence only") == "One sentence only"


def test_evidence_cells_are_plain_words(run) -> None:
    _result, report = run
    cells = []
    for sheet in report.sheets:
        for table in sheet.tables():
            if sheet.role == "audit" and "evidence" in table.frame.columns:
                cells += [t for t in table.frame["evidence"].dropna() if t]
    assert cells
    text = "\n".join(cells)
    assert "p_value" not in text and not re.search(r"\d(?:\.\d+)?e-\d", text)
    assert "None" not in text and "nan" not in text.split()
    assert not re.search(r"[{}\[\]]", text)
    assert not re.search(r"\.(?:csv|toml|json)\b", text)
    assert not re.search(r"confidence: [CSV]\b", text)
    assert not re.search(r"\b[a-z0-9]+_[a-z0-9_]+:", text)  # keys with spaces
    assert "very unlikely to be chance (p < 0.001)" in text


def test_evidence_text_rules() -> None:
    text = evidence_text(
        {
            "p_value": 7.978e-11,
            "muscles_treated": None,
            "gap": float("nan"),
            "share": 0.6692,
            "codes": ["64493", "64494"],
            "reasons": {"CO-4": 51, "CO-50": 3},
            "attributes": [{"attribute": "modifier RT", "p_value": 0.03}],
            "edit_source": "As auditkit's code_pair_edits.csv: NCCI manual ch. 1 (S)",
            "confidence": "V",
            "source_file": "export.csv",
        }
    )
    assert text == (
        "very unlikely to be chance (p < 0.001); share: 66.9%; codes: 64493, 64494; "
        "reasons: CO-4 51; CO-50 3; "
        "attributes: (attribute modifier RT; unlikely to be chance (p = 0.03)); "
        "edit source: NCCI manual ch. 1 (secondary source); confidence: unverified"
    )
    assert evidence_text({"mai": None, "billed_that_day": ""}) is None
    assert evidence_text(None) is None


def test_explain_prints_no_rst_markup() -> None:
    for audit_id in registry.ids():
        text = registry.docs(audit_id)
        assert "``" not in text, audit_id
        assert not re.search(r":\w+:`", text), audit_id
    assert "min_lines" in registry.docs("tpi-ratio")


def test_days_in_ar_and_share_over_90_are_explained_under_the_indicators(run) -> None:
    result, report = run
    summary = result.summary
    assert summary["days_in_ar"] < 30 and summary["ar_over_90_share"] > 0.5  # looks contradictory
    blocks = report.sheet("Summary").blocks
    at = next(
        i
        for i, b in enumerate(blocks)
        if isinstance(b, Facts) and b.headers and b.headers[0] == "Indicator"
    )
    note = blocks[at + 1]
    assert isinstance(note, Text) and note.tone == "note"
    assert "Days in A/R" in note.text and "over 90 days" in note.text
    assert "not a contradiction" in note.text


def test_no_indicator_note_without_both_indicators(run) -> None:
    result, _report = run
    summary = {k: v for k, v in result.summary.items() if k != "ar_over_90_share"}
    blocks = build_report(replace(result, summary=summary)).sheet("Summary").blocks
    assert not any(isinstance(b, Text) and "not a contradiction" in b.text for b in blocks)


def test_start_here_rows_are_not_double_counted(run) -> None:
    result, report = run
    table = report.sheet("Summary").blocks[4]
    assert pd.to_numeric(table.frame["dollars"]).sum() <= result.summary["dollars_at_risk"] + 0.01


def test_start_here_titles_and_payers_wrap_instead_of_being_cut(run, tmp_path) -> None:
    from openpyxl import load_workbook

    from auditkit.excel.openpyxl_writer import write_report

    _result, report = run
    table = next(
        b for b in report.sheet("Summary").blocks if isinstance(b, Table) and b.key == "start-here"
    )
    wraps = {c.key for c in table.columns if c.wrap}
    assert {"action", "payers", "fix"} <= wraps
    path = write_report(report, tmp_path / "s.xlsx")
    ws = load_workbook(path)["Summary"]
    # The title wraps (no link on it: a linked cell does not wrap in LibreOffice); the link
    # sits on the number of findings beside it.
    linked = next(row for row in ws.iter_rows(min_col=3, max_col=3) if row[0].hyperlink)[0]
    title = ws.cell(row=linked.row, column=1)
    assert title.value == table.frame["action"].iloc[0] and not title.hyperlink
    assert title.alignment.wrap_text and title.alignment.vertical == "top"
    assert linked.value == table.frame["findings"].iloc[0]
