"""The Summary sheet: a **Start here** block (the actions worth the most counted money, each with
its fix and a link to its rows), practice, period and inputs, key indicators beside their
benchmarks, the top findings by dollars at risk linking to their rows, and charts.

Missing summary keys or tables are left out rather than failing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from auditkit import __version__
from auditkit.engine.result import AuditRun
from auditkit.ingest.model import ClaimLines
from auditkit.report import kpis as kpi_module
from auditkit.report.cells import make_table, plain_doc_text, plain_value
from auditkit.report.figures import summary_figures
from auditkit.report.findings import counted_mask, in_total_text
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
from auditkit.report.patterns import (
    PATTERN_KEYS,
    line_patterns,
    line_positions,
    patterns_key,
    severity_order,
)
from auditkit.report.safety import clean_text

#: Findings shown in the Summary's top list.
TOP_FINDINGS = 10
#: Actions shown in the Summary's Start here block (fewer when fewer audits count dollars).
START_HERE = 5
#: Payers named beside an action before "N more payers".
START_HERE_PAYERS = 2


def summary_sheet(
    report: Report,
    summary: dict[str, Any],
    findings: pd.DataFrame,
    positions: pd.DataFrame,
    lines: ClaimLines | None,
    tables: dict[str, pd.DataFrame],
    runs: Sequence[AuditRun] = (),
    messages: Callable[[pd.Index], Sequence[Any]] | None = None,
) -> Sheet:
    """The Summary sheet of ``report``.

    ``findings`` is the ordered findings frame and ``positions`` where each finding was written
    (:func:`auditkit.report.audit_sheets.audit_sheets`); ``tables`` are ``AuditResult.tables``;
    ``runs`` the audits shown (their titles and fixes name the Start here actions);
    ``messages`` renders the message of findings by index label, for the top findings when
    ``findings`` holds no message text.
    """
    blocks: list[Block] = [Title(report.title)]
    subtitle = [f"Period {report.period}" if report.period else None]
    subtitle.append(f"prepared by {report.prepared_by}" if report.prepared_by else None)
    subtitle.append(f"generated {report.generated_at:%Y-%m-%d %H:%M} by auditkit {__version__}")
    blocks.append(Text(" | ".join(x for x in subtitle if x), tone="note"))
    blocks.extend(_start_here(findings, positions, runs, summary))

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
        note = _indicator_notes(summary)
        if note:
            blocks.append(Text(note, tone="note"))

    top = _top_findings(findings, positions, messages)
    blocks.append(Title("Top findings by dollars at risk", level=2))
    if top is None:
        blocks.append(Text("No findings."))
    else:
        blocks.append(Text(_patterns_note(), tone="note"))
        blocks.append(Text(_counted_once_note(summary), tone="note"))
        blocks.append(top)

    figures = summary_figures(tables, summary)
    if figures:
        blocks.append(Title("At a glance", level=2))
        blocks.extend(figures)
    return Sheet("Summary", "summary", blocks)


def _start_here(
    findings: pd.DataFrame,
    positions: pd.DataFrame,
    runs: Sequence[AuditRun],
    summary: dict[str, Any],
) -> list[Block]:
    """The actions worth the most money: each audit's counted dollars (every dollar counted
    once, so the amounts do not overlap), largest first, with the audit's fix in one sentence
    and a link to the first of its counted rows."""
    blocks: list[Block] = [Title("Start here", level=2)]
    found = findings[findings.index.isin(positions.index)]
    dollars = pd.to_numeric(found["dollars_at_risk"], errors="coerce").fillna(0.0)
    keep = counted_mask(found) & (dollars > 0)
    counted = found[keep].assign(_dollars=dollars[keep])
    if not len(counted):
        blocks.append(
            Text(
                "No finding has dollars counted in the total: start with the most serious "
                "findings under Top findings below.",
                tone="note",
            )
        )
        return blocks
    totals = counted.groupby("audit", sort=False)["_dollars"].sum()
    totals = totals.sort_values(ascending=False, kind="stable").iloc[:START_HERE]
    by_id = {r.id: r for r in runs}
    rows, links = [], []
    for audit_id, total in totals.items():
        group = counted[counted["audit"] == audit_id]
        # The findings frame is in sheet order, so the group's first finding is its first row.
        where = positions.loc[group.index[0]]
        run = by_id.get(str(audit_id))
        rows.append(
            {
                "action": _run_title(run, str(audit_id)),
                "dollars": round(float(total), 2),
                "findings": len(group),
                "payers": _payers_text(group),
                "fix": first_sentence(plain_doc_text(run.fix)) if run and run.fix else "",
            }
        )
        links.append(Link(str(where["table"]), int(where["row"])))
    total = _number(summary.get("dollars_at_risk"))
    of_total = f" of the ${total:,.0f} at risk" if total else ""
    blocks.append(
        Text(
            f"The {len(rows)} action{'s' if len(rows) != 1 else ''} worth the most money"
            f"{of_total}, largest first. Dollars are counted once: where several findings "
            "concern the same claim line, only one counts, so these amounts do not overlap. "
            "Click an action's number of findings to go to its rows.",
            tone="note",
        )
    )
    columns = [
        # The link sits on the short count: a linked cell does not wrap in every spreadsheet
        # program, and the action's title must.
        Column("action", "Action", "text", 34, wrap=True),
        Column("dollars", "Counted at risk", "currency0", 14),
        Column("findings", "Findings (go to rows)", "integer", 11),
        Column("payers", "Payers", "text", 28, wrap=True),
        Column("fix", "Fix", "text", 70, wrap=True),
    ]
    table = make_table("start-here", columns, pd.DataFrame(rows), links={"findings": links})
    blocks.append(table)
    return blocks


def first_sentence(text: str) -> str:
    """The first sentence of ``text`` (abbreviations such as "e.g." do not end it)."""
    text = " ".join(text.split())
    for match in _SENTENCE_END.finditer(text):
        before = text[: match.start() + 1]
        if not _ABBREVIATION.search(before):
            return before
    return text


_SENTENCE_END = re.compile(r"[.!?](?=\s+[A-Z(\"'])")
_ABBREVIATION = re.compile(r"(?:\b(?:e\.g|i\.e|etc|vs|ch|s|no|approx|incl)\.|\b[A-Z]\.)$", re.I)


def _run_title(run: AuditRun | None, audit_id: str) -> str:
    return run.title if run is not None and run.title else audit_id


def _payers_text(group: pd.DataFrame) -> str:
    """The payers holding most of an action's counted dollars, e.g. "Medicare $17,070; Aetna
    $13,700; 3 more payers"; blank when its findings name no payer."""
    if "payer" not in group.columns:
        return ""
    named = group[group["payer"].notna()]
    if not len(named):
        return ""
    by_payer = named.groupby(named["payer"].astype(str), sort=False)["_dollars"].sum()
    by_payer = by_payer.sort_values(ascending=False, kind="stable")
    parts = [f"{p} ${v:,.0f}" for p, v in by_payer.iloc[:START_HERE_PAYERS].items()]
    more = len(by_payer) - START_HERE_PAYERS
    if more > 0:
        parts.append(f"{more} more payer{'s' if more != 1 else ''}")
    return "; ".join(parts)


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _indicator_notes(summary: dict[str, Any]) -> str | None:
    """What indicators that can look contradictory each measure, when both are shown."""
    keys = ("days_in_ar", "ar_over_90_share")
    if not all(_number(summary.get(k)) is not None for k in keys):
        return None
    return (
        "Days in A/R and A/R over 90 days measure different things. Days in A/R is all open "
        "A/R divided by the average daily charges of the last 90 days: how many days of "
        "billing are still unpaid. A/R over 90 days is the share of that open A/R older than "
        "90 days: how old what is still open is. Low days in A/R beside a high share over 90 "
        "days is not a contradiction: little is outstanding, but most of it is old (the "
        "ar-aging audit lists the oldest claims)."
    )


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


def _patterns_note() -> str:
    """What a row of the top findings is."""
    return (
        "Each row is a pattern: the lines one audit flags with the same physician, payer and "
        "code (Lines says how many, First claims names the first few); a finding about a whole "
        "claim, physician, payer or code is a row of its own. Click the audit to go to the "
        "pattern on its sheet."
    )


def _top_findings(
    findings: pd.DataFrame,
    positions: pd.DataFrame,
    messages: Callable[[pd.Index], Sequence[Any]] | None = None,
) -> Table | None:
    """The findings worth the most counted money, as patterns: an audit's line findings with
    the same physician, payer and code make one row (:func:`auditkit.report.patterns.
    line_patterns`); a finding about a claim, physician, payer, code or the practice is a row of
    its own. Ordered by the dollars each row adds to the total (rows whose lines are counted in
    a more specific finding come after those that count), then dollars listed, then severity.
    Each row links to its pattern in the audit's patterns table, else to its first row in the
    audit's table.

    ``messages`` renders the message of findings (by index label) when ``findings`` holds none
    (its ``message`` column missing or empty): called once, for the rows shown.
    """
    # Only findings shown on an audit sheet (a skipped audit has no row to go to).
    shown = findings.index.isin(positions.index)
    found = findings if shown.all() else findings[shown]
    if not len(found):
        return None
    patterns = line_patterns(found, keys=("audit", *PATTERN_KEYS))
    rows = [*_pattern_rows(patterns), *_single_rows(found)]
    rows.sort(key=lambda r: (-r["sort_counted"], -r["sort_dollars"], r["rank"]))  # stable
    rows = rows[:TOP_FINDINGS]
    texts = [r["message"] for r in rows]
    if messages is not None and all(t is None or pd.isna(t) or t == "" for t in texts):
        texts = list(messages(pd.Index([r["first"] for r in rows])))
    for row, text in zip(rows, texts, strict=True):
        row["message"] = _top_message(row, text)
    top = pd.DataFrame(rows)
    links = [_top_link(positions, row) for row in rows]
    # Columns B to E share their widths with Start here above (two narrow ones, a wider one,
    # then the widest): the money, the lines and the finding fit them without clipping.
    columns = [
        Column("severity", "Severity", "text", 10),
        Column("dollars_at_risk", "At risk", "currency"),
        Column("lines", "Lines", "integer", 8),
        Column("in_total", "In total", "text"),
        Column("message", "Finding", wrap=True),
        Column("audit", "Audit (go to row)", "text"),
        Column("provider", "Provider"),
        Column("payer", "Payer"),
        Column("cpt", "CPT", "text", 9),
        Column("claim_id", "First claims"),
        Column("dollars_basis", "Dollars are", "text"),
    ]
    return make_table("top-findings", columns, top, row_look="severity", links={"audit": links})


def _top_message(row: dict[str, Any], text: Any) -> str:
    """A top row's finding: the finding's message, or for a pattern of several lines how many
    and its first line's message, e.g. "1,240 lines on 830 claims; first: ..."."""
    text = "" if text is None or pd.isna(text) else str(text)
    lines, claims = row["lines"], row.get("claims", 1)
    if not row["pattern"] or lines <= 1:
        return text
    on = f" on {claims:,} claims" if claims != lines else ""
    return f"{lines:,} lines{on}" + (f"; first: {text}" if text else "")


def _pattern_rows(patterns: pd.DataFrame) -> list[dict[str, Any]]:
    """The best few patterns as top-findings rows (a pattern of one line reads as that line)."""
    if not len(patterns):
        return []
    counted = patterns["dollars_counted"].to_numpy(dtype=float)
    listed = patterns["dollars_listed"].to_numpy(dtype=float)
    rank = severity_order(patterns["severity"])
    best = np.lexsort((rank, -listed, -counted))[:TOP_FINDINGS]
    rows = []
    for i in best:
        pattern = patterns.iloc[i]
        rows.append(
            {
                "severity": pattern["severity"],
                "dollars_at_risk": listed[i],
                "dollars_basis": pattern["dollars_basis"],
                "in_total": _pattern_in_total(counted[i], listed[i]),
                "lines": int(pattern["lines"]),
                "claims": int(pattern["claims"]),
                "audit": pattern["audit"],
                "provider": pattern["provider"],
                "payer": pattern["payer"],
                "cpt": pattern["cpt"],
                "claim_id": pattern["first_claims"],
                "message": pattern["message"],
                "sort_counted": counted[i],
                "sort_dollars": listed[i],
                "rank": int(rank[i]),
                "first": pattern["first"],
                "pattern": True,
            }
        )
    return rows


def _pattern_in_total(counted: float, listed: float) -> str | None:
    """ "yes" when all of a pattern's dollars count in the total, "no" when none do, else how
    much does, e.g. "$52,300 of $60,000"; blank without dollars."""
    if abs(listed) < 0.005:
        return None
    if abs(counted - listed) < 0.005:
        return "yes"
    if abs(counted) < 0.005:
        return "no"
    return f"${counted:,.0f} of ${listed:,.0f}"


def _single_rows(found: pd.DataFrame) -> list[dict[str, Any]]:
    """The best few findings not about a line (a claim, physician, payer, code, the practice)
    as top-findings rows, one each."""
    other = np.ones(len(found), dtype=bool)
    other[line_positions(found)] = False
    pos = np.flatnonzero(other)
    if not len(pos):
        return []
    dollars = pd.to_numeric(found["dollars_at_risk"], errors="coerce")
    dollars = dollars.to_numpy(dtype=float, na_value=np.nan)[pos]
    counted = np.where(counted_mask(found).to_numpy(dtype=bool)[pos], dollars, 0.0)
    sort_counted = np.nan_to_num(counted, nan=-math.inf)
    sort_dollars = np.nan_to_num(dollars, nan=-math.inf)
    rank = severity_order(found["severity"].iloc[pos])
    best = np.lexsort((rank, -sort_dollars, -sort_counted))[:TOP_FINDINGS]
    chosen = found.iloc[pos[best]]
    in_total = in_total_text(chosen)
    rows = []
    for j, i in enumerate(best):
        finding = chosen.iloc[j]
        rows.append(
            {
                "severity": finding["severity"],
                "dollars_at_risk": dollars[i],
                "dollars_basis": finding.get("dollars_basis"),
                "in_total": in_total.iloc[j],
                "lines": 1,
                "audit": finding["audit"],
                "provider": finding.get("provider"),
                "payer": finding.get("payer"),
                "cpt": finding.get("cpt"),
                "claim_id": finding.get("claim_id"),
                "message": finding.get("message"),
                "sort_counted": sort_counted[i],
                "sort_dollars": sort_dollars[i],
                "rank": int(rank[i]),
                "first": chosen.index[j],
                "pattern": False,
            }
        )
    return rows


def _top_link(positions: pd.DataFrame, row: dict[str, Any]) -> Link | None:
    """A top row's link: a pattern to its row in the audit's patterns table (when the audit sheet
    has one), anything else to its (first) row in the audit's table."""
    if row["first"] not in positions.index:
        return None
    where = positions.loc[row["first"]]
    pattern_row = where.get("pattern_row", -1)
    if row["pattern"] and pd.notna(pattern_row) and int(pattern_row) >= 0:
        return Link(patterns_key(str(row["audit"])), int(pattern_row))
    return Link(str(where["table"]), int(where["row"]))


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
