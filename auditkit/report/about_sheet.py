"""The About sheet: version and time, inputs, column mapping, unreadable rows, the audits run
or skipped, and the configuration used.

An unreadable row shows its problem with the cell's value (``RowProblem.text``) when the run
kept it; under ``--redact`` the value is gone and the problem says only its shape (see
:mod:`auditkit.redact`)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from auditkit.engine.result import AuditRun
from auditkit.ingest.model import ClaimLines, FileReport
from auditkit.report.cells import has_content, make_table, short_text
from auditkit.report.model import Block, Column, Fact, Facts, Report, Sheet, Table, Text, Title
from auditkit.report.safety import clean_text

#: Unreadable-row details listed on the About sheet at most (all are counted).
MAX_PROBLEMS_LISTED = 1_000


def about_sheet(
    report: Report,
    lines: ClaimLines | None,
    runs: list[AuditRun],
    config: dict[str, dict[str, Any]],
    edit_tables: list[dict[str, Any]] | None = None,
) -> Sheet:
    """The About sheet of ``report``; ``config`` is ``AuditResult.config``, ``edit_tables``
    ``AuditResult.edit_tables`` (the CMS edit files used, or the packaged default)."""
    blocks: list[Block] = [Title("About this workbook")]
    facts = [
        Fact("auditkit version", report.version),
        Fact("Generated", report.generated_at, "datetime"),
    ]
    for label, value in (
        ("Practice", report.practice),
        ("Period", report.period),
        ("Prepared by", report.prepared_by),
    ):
        if value:
            facts.append(Fact(label, value))
    blocks.append(Facts(facts))
    blocks.append(
        Text(
            "auditkit marks each sheet it writes with a hidden sheet-level name "
            "'AuditkitSheet' holding the sheet's name. Writing into this workbook again "
            "replaces only those sheets (a marked sheet that has since been renamed or copied "
            "is left alone); every other sheet is kept as it is.",
            tone="note",
        )
    )
    inputs = lines.inputs if lines is not None else []
    if inputs:
        blocks.extend(_input_blocks(inputs))
    warnings = _warnings_table(lines.warnings() if lines is not None else [])
    if warnings is not None:
        blocks.append(Title("Warnings about the inputs", level=2))
        blocks.append(warnings)
    if runs:
        blocks.append(Title("Audits", level=2))
        blocks.append(_audits_table(runs))
    if edit_tables:
        blocks.append(Title("CMS edit tables used", level=2))
        for table in edit_tables:
            text = clean_text(str(table.get("description") or table.get("table") or ""))
            blocks.append(Text(text, tone="warning" if table.get("default") else "body"))
    config_table = _config_table(config)
    if config_table is not None:
        blocks.append(Title("Configuration (thresholds used)", level=2))
        blocks.append(config_table)
    return Sheet("About", "about", blocks)


def _input_blocks(inputs: list[FileReport]) -> list[Block]:
    """The input files, the column mapping used and the rows that could not be read."""
    blocks: list[Block] = [Title("Inputs", level=2), _inputs_table(inputs)]
    mapping = _mapping_table(inputs)
    if mapping is not None:
        blocks.append(Title("Column mapping used", level=2))
        blocks.append(mapping)
    problems = _problems_table(inputs)
    if problems is not None:
        total = sum(len(r.problems) for r in inputs)
        blocks.append(Title("Rows that could not be read (left out)", level=2))
        if total > MAX_PROBLEMS_LISTED:
            blocks.append(
                Text(
                    f"{total:,} rows could not be read; the first "
                    f"{MAX_PROBLEMS_LISTED:,} are listed.",
                    tone="warning",
                )
            )
        blocks.append(problems)
    return blocks


def _inputs_table(inputs: list[FileReport]) -> Table:
    rows = pd.DataFrame(
        {
            "file": [r.path for r in inputs],
            "rows": [r.rows for r in inputs],
            "sheet": [r.sheet for r in inputs],
            "header_row": [r.header_row for r in inputs],
            "encoding": [r.encoding for r in inputs],
            "delimiter": [_delimiter_text(r.delimiter) for r in inputs],
            "left_out": [len(r.problems) for r in inputs],
            "footer_rows": [", ".join(str(x) for x in r.footer_rows) for r in inputs],
            "missing": [", ".join(r.missing_required) for r in inputs],
            "unmapped": [", ".join(r.unmapped_headers) for r in inputs],
            "warnings": [len(r.warnings) or None for r in inputs],
        }
    )
    columns = [
        Column("file", "File"),
        Column("rows", "Rows read", "integer"),
        Column("sheet", "Sheet"),
        Column("header_row", "Header row", "integer"),
        Column("encoding", "Encoding"),
        Column("delimiter", "Delimiter"),
        Column("left_out", "Rows left out", "integer"),
        Column("footer_rows", "Footer rows"),
        Column("missing", "Required columns missing"),
        Column("unmapped", "Headers not used"),
        Column("warnings", "Warnings", "integer"),
    ]
    keep = [c for c in columns if c.key in ("file", "rows") or has_content(rows[c.key])]
    return make_table("about:inputs", keep, rows)


def _warnings_table(warnings: list[dict[str, str]]) -> Table | None:
    """Each input warning on a row of its own (the data was read; check what it says)."""
    if not warnings:
        return None
    frame = pd.DataFrame(warnings, columns=["file", "warning"])
    columns = [Column("file", "File"), Column("warning", "Warning", wrap=True)]
    return make_table("about:warnings", columns, frame)


def _delimiter_text(delimiter: str | None) -> str | None:
    names = {"\t": "tab", ",": "comma", ";": "semicolon", "|": "pipe", " ": "space"}
    return names.get(delimiter, delimiter) if delimiter else None


def _mapping_table(inputs: list[FileReport]) -> Table | None:
    records = []
    for report in inputs:
        for canonical, header in report.mapping.items():
            shown = ", ".join(header) if isinstance(header, list) else header
            records.append((report.path, canonical, shown))
    if not records:
        return None
    frame = pd.DataFrame(records, columns=["file", "column", "header"])
    columns = [
        Column("file", "File"),
        Column("column", "auditkit column"),
        Column("header", "Export header(s)"),
    ]
    return make_table("about:mapping", columns, frame)


def _problems_table(inputs: list[FileReport]) -> Table | None:
    records = [
        (report.path, problem.row, problem.column, problem.text())
        for report in inputs
        for problem in report.problems
    ][:MAX_PROBLEMS_LISTED]
    if not records:
        return None
    frame = pd.DataFrame(records, columns=["file", "row", "column", "problem"])
    columns = [
        Column("file", "File"),
        Column("row", "Row", "integer"),
        Column("column", "Column"),
        Column("problem", "Problem", wrap=True),
    ]
    return make_table("about:problems", columns, frame)


def _audits_table(runs: list[AuditRun]) -> Table:
    frame = pd.DataFrame(
        {
            "id": [r.id for r in runs],
            "title": [r.title for r in runs],
            "status": [r.status for r in runs],
            "findings": [r.findings if r.status == "ran" else None for r in runs],
            "reason": [r.reason or "" for r in runs],
            "hint": [getattr(r, "hint", "") or "" for r in runs],
        }
    )
    columns = [
        Column("id", "Audit"),
        Column("title", "Title"),
        Column("status", "Status", "text", 10),
        Column("findings", "Findings", "integer"),
        Column("reason", "Why skipped, or note", wrap=True),
        Column("hint", "To run it", wrap=True),
    ]
    return make_table("about:audits", columns, frame)


def _config_table(config: dict[str, dict[str, Any]]) -> Table | None:
    records = []
    for audit_id, settings in config.items():
        if isinstance(settings, dict):
            for key, value in settings.items():
                records.append((audit_id, key, short_text(value)))
        else:
            records.append((audit_id, "", short_text(settings)))
    if not records:
        return None
    frame = pd.DataFrame(records, columns=["audit", "setting", "value"])
    columns = [Column("audit", "Audit"), Column("setting", "Setting"), Column("value", "Value")]
    return make_table("about:config", columns, frame)
