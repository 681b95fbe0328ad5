"""The report model: sheets, key indicators, links, spilling and sanitising (no files)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pandas as pd
import pytest
from report_fixtures import make_lines, make_result

from auditkit.engine.result import AuditResult, AuditRun, empty_findings
from auditkit.report import Facts, Figure, Table, Text, Title, build_report
from auditkit.report import kpis as kpi_module
from auditkit.report.kpis import Kpi
from auditkit.report.layout import place, resolve, table_header_row
from auditkit.report.safety import MAX_CELL_CHARS, clean_text, sheet_name, table_name

RUN_AT = datetime(2026, 4, 2, 9, 30)


def _kpi_rows(report) -> dict[str, object]:
    summary = report.sheet("Summary")
    grids = [b for b in summary.blocks if isinstance(b, Facts) and b.headers]
    return {f.label: f for f in grids[0].rows} if grids else {}


def test_sheets_one_per_audit_that_ran(result, lines):
    report = build_report(result, lines, generated_at=RUN_AT)
    names = [s.name for s in report.sheets]
    ran = [a.id for a in result.audits if a.status == "ran"]
    assert names == ["Summary", *ran, "About"]
    assert "laterality-missing" not in names  # skipped: listed on About, no sheet
    roles = {s.name: s.role for s in report.sheets}
    assert roles["Summary"] == "summary" and roles["About"] == "about"
    with_lines = build_report(result, lines, with_lines=True, generated_at=RUN_AT)
    assert [s.name for s in with_lines.sheets][-2:] == ["Claim lines", "About"]


def test_audit_sheet_has_why_fix_and_all_its_findings(result, lines):
    report = build_report(result, lines, generated_at=RUN_AT)
    for run in result.audits:
        if run.status != "ran":
            continue
        sheet = report.sheet(run.id)
        texts = [b for b in sheet.blocks if isinstance(b, Text)]
        assert any(t.label == "Why it matters" and t.text == run.why for t in texts)
        assert any(t.label == "How to fix" and t.text == run.fix for t in texts)
        table = sheet.blocks[-1]
        assert isinstance(table, Table) and table.row_look == "severity"
        mine = result.findings[result.findings["audit"] == run.id]
        assert len(table) == len(mine)
        assert sorted(table.frame["message"]) == sorted(mine["message"])
        assert sheet.freeze == table.key


def test_source_file_shown_by_name(result, lines):
    findings = result.findings.assign(source_file="C:\\exports\\jan\\export_1.csv")
    findings.loc[1, "source_file"] = "/data/feb/export_2.csv"
    report = build_report(replace(result, findings=findings), lines)
    frames = pd.concat([s.blocks[-1].frame for s in report.sheets if s.role == "audit"])
    assert set(frames["source_file"].dropna()) == {"export_1.csv", "export_2.csv"}


def test_findings_sorted_most_serious_first(result, lines):
    table = build_report(result, lines).sheet("paid-vs-denied").blocks[-1]
    order = table.frame["severity"].map({"high": 0, "medium": 1, "low": 2, "info": 3})
    assert order.is_monotonic_increasing
    high = table.frame[table.frame["severity"] == "high"]["dollars_at_risk"]
    assert high.is_monotonic_decreasing


def test_finding_fix_shown_only_where_it_adds_to_the_audit_text(result, lines):
    table = build_report(result, lines).sheet("paid-vs-denied").blocks[-1]
    keys = [c.key for c in table.columns]
    assert "fix" in keys  # some denials say "Appeal with the operative note."
    assert set(table.frame["fix"].dropna()) <= {"Appeal with the operative note.", ""}
    tpi = build_report(result, lines).sheet("tpi-ratio").blocks[-1]
    assert "fix" not in [c.key for c in tpi.columns]  # no finding adds to the audit's fix


def test_kpis_beside_benchmarks_with_status(result, lines):
    rows = _kpi_rows(build_report(result, lines))
    s = result.summary
    assert rows["Clean-claim rate"].value == pytest.approx(s["clean_claim_rate"])
    assert rows["Clean-claim rate"].status == "poor"  # 67.5% against 95%
    assert rows["Clean-claim rate"].kind == "percent"
    assert "95%" in rows["Clean-claim rate"].benchmark
    assert rows["High-severity findings"].value == s["findings_by_severity"]["high"]
    assert rows["High-severity findings"].status == "poor"
    assert rows["Total dollars at risk"].kind == "currency0"
    for label in ("Denial rate (lines)", "Denial rate (dollars)", "Medium-severity findings"):
        assert label in rows


@pytest.mark.parametrize(
    ("value", "target", "expected"),
    [(0.96, None, "good"), (0.92, None, "fair"), (0.85, None, "poor"), (0.92, 0.90, "good")],
)
def test_clean_claim_status_uses_thresholds_and_configured_target(value, target, expected):
    kpi = next(k for k in kpi_module.KPIS if k.key == "clean_claim_rate")
    summary = {"clean_claim_rate": value}
    if target is not None:
        summary["clean_claim_target"] = target
    assert kpi.status(summary) == expected


def test_lower_is_better_and_ratio_kpis():
    denial = next(k for k in kpi_module.KPIS if k.key == "denial_rate")
    assert [denial.status({"denial_rate": v}) for v in (0.03, 0.08, 0.2)] == [
        "good",
        "fair",
        "poor",
    ]
    risk = next(k for k in kpi_module.KPIS if k.key == "dollars_at_risk")
    assert risk.status({"dollars_at_risk": 500.0, "charges": 100_000.0}) == "good"
    assert risk.status({"dollars_at_risk": 5_000.0, "charges": 100_000.0}) == "poor"
    assert risk.status({"dollars_at_risk": 5_000.0}) == "neutral"  # no charges to compare


def test_missing_summary_keys_and_tables_are_tolerated():
    bare = AuditResult(findings=empty_findings())
    report = build_report(bare)
    assert [s.name for s in report.sheets] == ["Summary", "About"]
    assert _kpi_rows(report) == {}
    assert not any(isinstance(b, Figure) for b in report.sheet("Summary").blocks)


def test_kpi_present_with_none_shows_not_available(result, lines):
    summary = {**result.summary, "denial_rate": None}
    report = build_report(replace(result, summary=summary), lines)
    row = _kpi_rows(report)["Denial rate (lines)"]
    assert row.value == "n/a" and row.status == "unknown"


def test_adding_a_kpi_is_one_declaration(monkeypatch, result, lines):
    extra = Kpi(
        "first_pass_yield", "First-pass yield", "percent", "90% or more", good=0.9, fair=0.8
    )
    monkeypatch.setattr(kpi_module, "KPIS", (*kpi_module.KPIS, extra))
    summary = {**result.summary, "first_pass_yield": 0.82, "days_in_ar": 52.0}
    rows = _kpi_rows(build_report(replace(result, summary=summary), lines))
    assert rows["First-pass yield"].status == "fair"
    assert rows["Days in A/R"].status == "poor"  # declared already, shown once the key exists
    assert rows["Days in A/R"].kind == "days"


def test_top_findings_link_to_their_rows(result, lines):
    report = build_report(result, lines)
    summary = report.sheet("Summary")
    top = next(b for b in summary.blocks if isinstance(b, Table) and b.key == "top-findings")
    links = top.links["audit"]
    assert len(top) == 10 and all(link is not None for link in links)
    dollars = list(top.frame["dollars_at_risk"])
    assert dollars == sorted(dollars, reverse=True)
    for i, link in enumerate(links):
        sheet_name_, row = resolve(report, link)
        sheet, table = report.find_table(link.table)
        assert sheet.name == sheet_name_ == top.frame.loc[i, "audit"]
        assert row == table_header_row(sheet, table.key) + 1 + link.row
        target = table.frame.loc[link.row]
        # a row is a pattern of lines ("N lines; first: ...") linking to its first line
        assert top.frame.loc[i, "message"].endswith(target["message"])
        assert target["claim_id"] == top.frame.loc[i, "claim_id"].split(", ")[0]


def test_figures_from_tables_and_target_line(result, lines):
    summary = build_report(result, lines).sheet("Summary")
    figures = [b for b in summary.blocks if isinstance(b, Figure)]
    titles = [f.chart.title for f in figures]
    assert titles == [
        "Clean-claim rate by physician",
        "Trigger-point lines by physician: 20552 and 20553",
        "Denial rate by payer",
    ]
    clean = figures[0]
    assert list(clean.table.frame["provider"]) == list(
        result.tables["clean_claim_rate_by_provider"]["provider"]
    )
    assert set(clean.table.frame["_target"]) == {0.95}
    assert [s.as_line for s in clean.chart.series] == [False, True]
    assert figures[1].chart.stacked


def test_many_categories_keep_the_largest(result, lines):
    payers = pd.DataFrame(
        {
            "payer": [f"Payer {i:02d}" for i in range(30)],
            "lines": range(30),
            "denied": 1,
            "rate": 0.1,
            "denied_dollars": 10.0,
        }
    )
    tables = {**result.tables, "denial_rate_by_payer": payers}
    summary = build_report(replace(result, tables=tables), lines).sheet("Summary")
    figure = [b for b in summary.blocks if isinstance(b, Figure)][-1]
    assert len(figure.table) == 20
    assert figure.table.frame["payer"].iloc[0] == "Payer 29"
    assert "(top 20 of 30)" in figure.chart.title


def test_spill_to_continuation_sheets_keeps_every_row(result, lines):
    report = build_report(result, lines, max_rows=25, with_lines=True)
    parts = [s for s in report.sheets if s.name.startswith("paid-vs-denied")]
    assert [s.name for s in parts] == ["paid-vs-denied", "paid-vs-denied (2)", "paid-vs-denied (3)"]
    rows = pd.concat([s.blocks[-1].frame for s in parts], ignore_index=True)
    mine = result.findings[result.findings["audit"] == "paid-vs-denied"]
    assert sorted(rows["message"]) == sorted(mine["message"])
    for sheet in report.sheets:
        if sheet.role in ("audit", "lines"):  # the sheets whose tables grow with the data
            last = place(sheet)[-1]
            assert last.row + last.height - 1 <= 25, sheet.name
    first_note = [b for b in parts[0].blocks if isinstance(b, Text) and b.tone == "warning"]
    assert first_note and "paid-vs-denied (2)" in first_note[0].text
    lines_parts = [s for s in report.sheets if s.role == "lines"]
    assert sum(len(s.blocks[-1]) for s in lines_parts) == len(lines.frame)
    # links from the Summary follow the rows onto continuation sheets
    top = next(
        b
        for b in report.sheet("Summary").blocks
        if isinstance(b, Table) and b.key == "top-findings"
    )
    for i, link in enumerate(top.links["audit"]):
        _sheet, table = report.find_table(link.table)
        assert top.frame.loc[i, "message"].endswith(table.frame.loc[link.row, "message"])


def test_claim_lines_flagged_by_most_serious_finding(result, lines):
    report = build_report(result, lines, with_lines=True)
    table = report.sheet("Claim lines").blocks[-1]
    frame = table.frame
    findings = result.findings
    # a line found by paid-vs-denied as high
    high = findings[
        (findings["audit"] == "paid-vs-denied") & (findings["severity"] == "high")
    ].iloc[0]
    row = frame[
        (frame["source_file"] == high["source_file"]) & (frame["source_row"] == high["source_row"])
    ]
    assert list(row["flag"]) == ["high"]
    assert "paid-vs-denied" in row["flagged_by"].iloc[0]
    # a claim-scope finding flags every line of its claim
    claim = findings[findings["scope"] == "claim"].iloc[0]["claim_id"]
    claim_rows = frame[frame["claim_id"] == claim]
    assert len(claim_rows) == 2 and claim_rows["flagged_by"].str.contains("clean-claim-rate").all()
    # lines no finding is about stay unflagged
    assert frame["flag"].isna().sum() > len(frame) / 2
    assert table.row_look == "flag"


def test_line_flags_fall_back_to_claim_and_line_number(result, lines):
    findings = result.findings.assign(source_file=None, source_row=None)
    findings["evidence"] = None
    report = build_report(replace(result, findings=findings), lines, with_lines=True)
    frame = report.sheet("Claim lines").blocks[-1].frame
    first = findings[findings["scope"] == "line"].iloc[0]
    hit = frame[(frame["claim_id"] == first["claim_id"]) & (frame["line_number"] == first["line"])]
    assert hit["flag"].notna().all() and len(hit) == 1


def test_text_is_sanitised_and_cut_visibly(result, lines):
    findings = result.findings.copy()
    findings.loc[0, "message"] = "bad\x00char\x1f here " + "x" * 40_000
    findings.loc[1, "provider"] = "Dr.\x07 Bell"
    report = build_report(replace(result, findings=findings), lines, practice="Pain\x0b Clinic")
    frames = pd.concat([s.blocks[-1].frame for s in report.sheets if s.role == "audit"])
    cut = frames[frames["message"].str.startswith("badchar here")]["message"].iloc[0]
    assert len(cut) <= MAX_CELL_CHARS and cut.endswith("[truncated]")
    assert "Dr. Bell" in set(frames["provider"].dropna())
    assert report.practice == "Pain Clinic"
    title = report.sheet("Summary").blocks[0]
    assert isinstance(title, Title) and title.text == "Billing audit: Pain Clinic"


def test_clean_text_limits():
    assert clean_text("a\x01b\ud800c") == "abc"
    long = clean_text("y" * 100_000)
    assert len(long) <= MAX_CELL_CHARS and long.startswith("y" * 30_000)
    assert long.endswith("[truncated]")


@pytest.mark.parametrize(
    ("wanted", "taken", "expected"),
    [
        ("tpi-ratio", [], "tpi-ratio"),
        ("a/b\\c[d]e:f*g?h", [], "a-b-c-d-e-f-g-h"),
        ("Summary", ["summary"], "Summary (2)"),
        ("x" * 40, [], "x" * 31),
        ("x" * 40, ["x" * 31], "x" * 27 + " (2)"),
        ("'quoted'", [], "quoted"),
        ("History", [], "History (2)"),
        ("", [], "Sheet"),
    ],
)
def test_sheet_names_valid_and_unique(wanted, taken, expected):
    name = sheet_name(wanted, taken)
    assert name == expected
    assert len(name) <= 31 and not set(name) & set("[]:*?/\\")


def test_table_names_valid():
    assert table_name("findings:tpi-ratio") == "findings_tpi_ratio"
    assert table_name("A1") == "t_A1"
    assert table_name("ak", ["AK"]) == "ak_2"


def test_bad_audit_ids_become_valid_unique_sheet_names(result, lines):
    odd = "clean/claim:rate*with?a[very]long\\name-beyond-31"
    findings = result.findings.copy()
    findings.loc[findings["audit"] == "clean-claim-rate", "audit"] = odd
    runs = [
        AuditRun(**{**r.__dict__, "id": odd}) if r.id == "clean-claim-rate" else r
        for r in result.audits
    ]
    runs.append(AuditRun("Summary", "Clashes with the summary", "ran"))
    report = build_report(replace(result, findings=findings, audits=runs), lines)
    names = [s.name for s in report.sheets]
    assert len({n.casefold() for n in names}) == len(names)
    assert all(len(n) <= 31 and not set(n) & set("[]:*?/\\") for n in names)
    assert "Summary (2)" in names


def test_layout_rows_do_not_overlap(result, lines):
    report = build_report(result, lines, with_lines=True)
    for sheet in report.sheets:
        end = 0
        for placement in place(sheet):
            assert placement.row > end
            end = placement.row + placement.height - 1


def test_about_lists_inputs_mapping_audits_and_config(result, lines):
    about = build_report(result, lines, generated_at=RUN_AT).sheet("About")
    tables = {b.key: b for b in about.blocks if isinstance(b, Table)}
    inputs = tables["about:inputs"].frame
    assert list(inputs["rows"]) == [r.rows for r in lines.inputs]
    mapping = tables["about:mapping"].frame
    assert ("claim_id", "Claim #") in set(zip(mapping["column"], mapping["header"], strict=True))
    assert "Mod1, Mod2" in set(mapping["header"])
    audits = tables["about:audits"].frame.set_index("id")
    assert audits.loc["laterality-missing", "status"] == "skipped"
    assert audits.loc["laterality-missing", "reason"] == "no laterality column"
    config = tables["about:config"].frame
    assert ("tpi-ratio", "max_share_20553", "0.6") in set(config.itertuples(index=False, name=None))
    facts = next(b for b in about.blocks if isinstance(b, Facts))
    values = {f.label: f.value for f in facts.rows}
    assert values["Generated"] == RUN_AT and values["auditkit version"]
    problems = tables["about:problems"].frame
    assert list(problems["row"]) == [17]


def test_practice_and_period_fall_back_to_summary_then_data():
    lines = make_lines()
    result = make_result(lines)
    report = build_report(result, lines)
    assert report.period == "2026-01-05 to 2026-03-25"
    named = replace(result, summary={**result.summary, "practice": "From Config", "period": "Q1"})
    report = build_report(named, lines)
    assert (report.practice, report.period) == ("From Config", "Q1")
    frame = lines.frame.assign(billing_provider="Only Group LLC")
    report = build_report(result, replace(lines, frame=frame))
    assert report.practice == "Only Group LLC"
