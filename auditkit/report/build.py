"""Build the report model of an audit workbook from an :class:`AuditResult`.

Sheets, in order: **Summary** (:mod:`~auditkit.report.summary_sheet`: a Start here block of
the actions worth the most counted money, practice, period, inputs,
key indicators beside their benchmarks, top findings by dollars at risk linking to their rows,
charts from :mod:`~auditkit.report.figures`), **Work list** when the run made one
(:mod:`~auditkit.report.worklist_sheet`: open money ranked by amount and deadline, with columns
for people, and **Closed since last run** for typed items no longer open), **Trends** when the export
spans two months of service or more (:mod:`~auditkit.report.trends_sheet`: month-by-month
measures with line charts), **one sheet per
audit that ran**
(:mod:`~auditkit.report.audit_sheets`: why and fix above its findings table), optionally
**Claim lines** (:mod:`~auditkit.report.line_sheets`: flagged lines coloured), and **About**
(:mod:`~auditkit.report.about_sheet`: inputs, column mapping, configuration, audits run or
skipped, version, time). A table longer than a sheet holds continues on further sheets
(:mod:`~auditkit.report.spill`).

Nothing here knows an audit by id: every audit sheet is built the same way from the findings
frame, and missing summary keys or tables are left out rather than failing.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

import pandas as pd

from auditkit import __version__
from auditkit.engine.result import AuditResult
from auditkit.ingest.model import ClaimLines
from auditkit.report.about_sheet import about_sheet
from auditkit.report.audit_sheets import audit_sheets
from auditkit.report.findings import audit_runs, ordered_findings
from auditkit.report.line_sheets import line_sheets
from auditkit.report.model import Facts, Report, Text, Title
from auditkit.report.safety import MAX_ROWS, clean_text, sheet_name
from auditkit.report.summary_sheet import summary_sheet
from auditkit.report.trends_sheet import trends_sheet
from auditkit.report.worklist_sheet import worklist_sheets

__all__ = ["build_report"]


def build_report(
    result: AuditResult,
    lines: ClaimLines | None = None,
    *,
    practice: str | None = None,
    period: str | None = None,
    with_lines: bool = False,
    prepared_by: str | None = None,
    generated_at: datetime | None = None,
    max_rows: int = MAX_ROWS,
    previous_worklist: pd.DataFrame | None = None,
    worklist_only: bool = False,
    comparison: Any | None = None,
) -> Report:
    """The report model of the audit workbook for ``result``.

    ``max_rows`` is the number of rows a sheet holds (Excel's limit; tests use fewer): longer
    tables continue on further sheets, each saying which rows it holds.
    ``previous_worklist``: what people typed on the work list of the workbook written into
    (:func:`auditkit.excel.worklist_notes.read_worklist_notes`), kept on the same items.
    ``worklist_only``: the Work list sheets and About only (``auditkit worklist``).
    ``comparison``: a :class:`auditkit.compare.Comparison` with a baseline run
    (``--baseline``): its Comparison sheet follows the Summary.
    """
    summary = result.summary or {}
    # The findings' core columns (their text is rendered from result.found when needed); the
    # frame's index is each finding's position in result.found.core.
    findings = ordered_findings(result.found.core)
    runs = audit_runs(result, findings)
    practice = _clean_optional(practice or summary.get("practice") or _infer_practice(lines))
    period = _clean_optional(period or summary.get("period") or _period_text(summary))
    prepared_by = _clean_optional(prepared_by)
    report = Report(
        sheets=[],
        title=f"Billing audit: {practice}" if practice else "Billing audit",
        generated_at=(generated_at or datetime.now()).replace(microsecond=0),
        version=__version__,
        practice=practice,
        period=period,
        prepared_by=prepared_by,
    )
    audit_pages, positions = audit_sheets(findings, runs, max_rows, result.found)
    line_pages = line_sheets(lines, findings, max_rows) if with_lines and lines is not None else []
    found = result.found

    def messages(index: pd.Index) -> pd.Series:  # the few rows the Summary shows
        return found.messages(found.core.iloc[index.to_numpy()])

    summary_page = summary_sheet(
        report, summary, findings, positions, lines, result.tables, runs, messages=messages
    )
    about_page = about_sheet(
        report, lines, runs, result.config or {}, getattr(result, "edit_tables", None)
    )
    worklist_pages = worklist_sheets(
        getattr(result, "worklist", None), summary, previous_worklist, max_rows
    )
    trends_page = trends_sheet(getattr(result, "trends", None))
    trend_pages = [trends_page] if trends_page is not None and not worklist_only else []
    compare_pages = []
    if comparison is not None and not worklist_only:
        from auditkit.report.compare_sheets import compare_sheets

        compare_pages = compare_sheets(comparison, max_rows)
    if worklist_only:
        report.sheets = [*worklist_pages, about_page]
    else:
        report.sheets = [
            summary_page,
            *compare_pages,
            *worklist_pages,
            *trend_pages,
            *audit_pages,
            *line_pages,
            about_page,
        ]
    _sanitise_blocks(report)
    taken: list[str] = []
    for sheet in report.sheets:
        sheet.name = sheet_name(sheet.name, taken)
        taken.append(sheet.name)
    return report


def _sanitise_blocks(report: Report) -> None:
    """Clean the free text of titles, paragraphs and facts (tables are cleaned when built)."""
    for sheet in report.sheets:
        for i, block in enumerate(sheet.blocks):
            if isinstance(block, Title):
                sheet.blocks[i] = replace(block, text=clean_text(block.text))
            elif isinstance(block, Text):
                label = clean_text(block.label) if block.label else block.label
                sheet.blocks[i] = replace(block, text=clean_text(block.text), label=label)
            elif isinstance(block, Facts):
                block.rows = [
                    replace(
                        fact,
                        label=clean_text(fact.label),
                        value=clean_text(fact.value) if isinstance(fact.value, str) else fact.value,
                        benchmark=clean_text(fact.benchmark) if fact.benchmark else fact.benchmark,
                    )
                    for fact in block.rows
                ]


def _clean_optional(text: str | None) -> str | None:
    return clean_text(str(text)).strip() or None if text is not None else None


def _infer_practice(lines: ClaimLines | None) -> str | None:
    """The billing provider when the lines name exactly one."""
    if lines is None or "billing_provider" not in lines.frame.columns:
        return None
    names = lines.frame["billing_provider"].dropna().unique()
    return str(names[0]) if len(names) == 1 else None


def _period_text(summary: dict[str, Any]) -> str | None:
    start, end = _date_text(summary.get("period_start")), _date_text(summary.get("period_end"))
    if start and end:
        return start if start == end else f"{start} to {end}"
    return start or end


def _date_text(value: Any) -> str | None:
    if value is None:
        return None
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        return str(value)
    if pd.isna(stamp):
        return None
    return stamp.date().isoformat()
