"""The Summary sheet: practice, period and inputs, key indicators beside their benchmarks, the
top findings by dollars at risk linking to their rows, and charts.

Missing summary keys or tables are left out rather than failing.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from auditkit import __version__
from auditkit.ingest.model import ClaimLines
from auditkit.report import kpis as kpi_module
from auditkit.report.cells import make_table, plain_value
from auditkit.report.figures import summary_figures
from auditkit.report.findings import counted_mask, in_total_text, severity_rank
from auditkit.report.model import (
    Block,
    Column,
    Fact,
    Facts,
    Link,
    Report,
    Sheet,
    Table,
    Text,
    Title,
)
from auditkit.report.safety import clean_text

#: Findings shown in the Summary's top list.
TOP_FINDINGS = 10


def summary_sheet(
    report: Report,
    summary: dict[str, Any],
    findings: pd.DataFrame,
    positions: pd.DataFrame,
    lines: ClaimLines | None,
    tables: dict[str, pd.DataFrame],
) -> Sheet:
    """The Summary sheet of ``report``.

    ``findings`` is the ordered findings frame and ``positions`` where each finding was written
    (:func:`auditkit.report.audit_sheets.audit_sheets`); ``tables`` are ``AuditResult.tables``.
    """
    blocks: list[Block] = [Title(report.title)]
    subtitle = [f"Period {report.period}" if report.period else None]
    subtitle.append(f"prepared by {report.prepared_by}" if report.prepared_by else None)
    subtitle.append(f"generated {report.generated_at:%Y-%m-%d %H:%M} by auditkit {__version__}")
    blocks.append(Text(" | ".join(x for x in subtitle if x), tone="note"))

    blocks.append(Title("Practice, period and inputs", level=2))
    blocks.append(Facts(_input_facts(report, summary, lines)))

    rows = [
        Fact(
            k.label,
            plain_value(kpi_module.kpi_value(k, summary)) if _has_value(k, summary) else "n/a",
            k.kind if _has_value(k, summary) else "text",
            benchmark=k.benchmark_text(summary),
            status=k.status(summary),
        )
        for k in kpi_module.present(summary)
    ]
    if rows:
        blocks.append(Title("Key indicators", level=2))
        blocks.append(Facts(rows, headers=("Indicator", "Value", "Status", "Benchmark")))

    top = _top_findings(findings, positions)
    blocks.append(Title("Top findings by dollars at risk", level=2))
    if top is None:
        blocks.append(Text("No findings."))
    else:
        blocks.append(Text(_counted_once_note(summary), tone="note"))
        blocks.append(top)

    figures = summary_figures(tables, summary)
    if figures:
        blocks.append(Title("At a glance", level=2))
        blocks.extend(figures)
    return Sheet("Summary", "summary", blocks)


def _input_facts(report: Report, summary: dict[str, Any], lines: ClaimLines | None) -> list[Fact]:
    facts = []
    if report.practice:
        facts.append(Fact("Practice", report.practice))
    if report.period:
        facts.append(Fact("Period", report.period))
    if report.prepared_by:
        facts.append(Fact("Prepared by", report.prepared_by))
    lines_count = summary.get("lines", len(lines.frame) if lines is not None else None)
    for key, label, kind in (
        ("lines", "Claim lines", "integer"),
        ("claims", "Claims", "integer"),
        ("providers", "Physicians", "integer"),
        ("payers", "Payers", "integer"),
        ("charges", "Charges", "currency0"),
        ("paid", "Paid", "currency0"),
    ):
        value = lines_count if key == "lines" else summary.get(key)
        if value is not None:
            facts.append(Fact(label, plain_value(value), kind))
    inputs = lines.inputs if lines is not None else []
    if inputs:
        shown = [f"{_file_name(r.path)} ({r.rows:,} rows)" for r in inputs[:4]]
        more = f" and {len(inputs) - 4} more (see About)" if len(inputs) > 4 else ""
        facts.append(Fact("Input files", clean_text("; ".join(shown) + more)))
    return facts


def _counted_once_note(summary: dict[str, Any]) -> str:
    """What the total is: each line's money once, and of what kinds."""
    text = (
        "Each dollar is counted once: where several findings concern the same claim line, only "
        "the most specific counts in the total (the others say 'no' under In total), and totals "
        "of other findings and rates are not added."
    )
    by_basis = summary.get("dollars_at_risk_by_basis") or {}
    if by_basis:
        parts = [f"{name} ${value:,.0f}" for name, value in by_basis.items()]
        text += " The total is made of: " + "; ".join(parts) + "."
    return text


def _top_findings(findings: pd.DataFrame, positions: pd.DataFrame) -> Table | None:
    # Only findings shown on an audit sheet (a skipped audit has no row to go to).
    found = findings[findings.index.isin(positions.index)]
    if not len(found):
        return None
    dollars = pd.to_numeric(found["dollars_at_risk"], errors="coerce")
    # Ordered by the dollars each finding adds to the total: a finding whose lines are counted
    # in a more specific one comes after those that count.
    counted = dollars.where(counted_mask(found), 0.0)
    order = pd.DataFrame(
        {
            "counted": counted.fillna(-math.inf),
            "dollars": dollars.fillna(-math.inf),
            "rank": severity_rank(found["severity"]),
        },
        index=found.index,
    ).sort_values(["counted", "dollars", "rank"], ascending=[False, False, True], kind="stable")
    top = found.loc[order.index[:TOP_FINDINGS]].copy()
    top["in_total"] = in_total_text(top)
    links = []
    for idx in top.index:
        pos = positions.loc[idx] if idx in positions.index else None
        links.append(Link(str(pos["table"]), int(pos["row"])) if pos is not None else None)
    columns = [
        Column("severity", "Severity", "text", 10),
        Column("dollars_at_risk", "At risk", "currency"),
        Column("dollars_basis", "Dollars are", "text", 16),
        Column("in_total", "In total", "text", 9),
        Column("audit", "Audit (go to row)", "text"),
        Column("provider", "Provider"),
        Column("payer", "Payer"),
        Column("claim_id", "Claim"),
        Column("message", "Finding", wrap=True),
    ]
    return make_table("top-findings", columns, top, row_look="severity", links={"audit": links})


def _has_value(kpi: kpi_module.Kpi, summary: dict[str, Any]) -> bool:
    value = kpi_module.kpi_value(kpi, summary)
    if value is None or isinstance(value, bool):
        return False
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _file_name(path: str) -> str:
    return str(path).replace("\\", "/").rsplit("/", 1)[-1]
