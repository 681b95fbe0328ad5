"""Build the report model of an audit workbook from an :class:`AuditResult`.

Sheets: **Summary** (practice, period, inputs, key indicators beside their benchmarks, top
findings by dollars at risk linking to their rows, charts), **one sheet per audit that ran**
(why and fix above its findings table), optionally **Claim lines** (flagged lines coloured),
and **About** (inputs, column mapping, configuration, audits run or skipped, version, time).

Nothing here knows an audit by id: every audit sheet is built the same way from the findings
frame, and missing summary keys or tables are left out rather than failing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

import pandas as pd

from auditkit import __version__
from auditkit.claims import BY_NAME, COLUMNS, PROVENANCE
from auditkit.engine.result import SEVERITIES, AuditResult, AuditRun
from auditkit.ingest.model import ClaimLines
from auditkit.report import kpis as kpi_module
from auditkit.report.layout import rows_before
from auditkit.report.model import (
    Block,
    Chart,
    Column,
    Fact,
    Facts,
    Figure,
    Link,
    Report,
    Series,
    Sheet,
    Table,
    Text,
    Title,
)
from auditkit.report.safety import MAX_ROWS, as_text, clean_text, clean_text_series, sheet_name
from auditkit.report.style import NUMERIC_KINDS, SERIES_COLORS, TARGET_LINE

#: Findings shown in the Summary's top list.
TOP_FINDINGS = 10
#: Categories (physicians, payers) a chart shows at most.
CHART_CATEGORIES = 20
#: Unreadable-row details listed on the About sheet at most (all are counted).
MAX_PROBLEMS_LISTED = 1_000

#: The columns of an audit sheet's findings table, in order. Optional columns that are empty
#: for an audit are left out; ``why``/``fix`` appear only where a finding says more than the
#: audit's own text shown above the table.
FINDING_VIEW: tuple[Column, ...] = (
    Column("severity", "Severity", "text", 10),
    Column("scope", "Scope", "text", 10),
    Column("provider", "Provider"),
    Column("payer", "Payer"),
    Column("cpt", "CPT", "text", 9),
    Column("claim_id", "Claim"),
    Column("line", "Line", "ordinal", 8),
    Column("dollars_at_risk", "At risk", "currency"),
    Column("message", "Finding", wrap=True),
    Column("why", "Why", wrap=True),
    Column("fix", "Fix", wrap=True),
    Column("evidence", "Evidence", wrap=True),
    Column("source_file", "Source file"),
    Column("source_row", "Source row", "ordinal", 12),
)
_ALWAYS_SHOWN = frozenset({"severity", "message"})

#: Numbering columns: shown without a thousands separator.
_ORDINALS = frozenset({"line_number", "source_row", "claim_frequency"})
#: Claim-line column kind (auditkit.claims) -> report column kind.
_LINE_KINDS = {
    "money": "currency",
    "int": "integer",
    "number": "number",
    "date": "date",
    "bool": "bool",
}


@dataclass(frozen=True)
class FigureSpec:
    """A Summary chart drawn from one of ``AuditResult.tables``."""

    table: str
    title: str
    category: Column
    columns: tuple[Column, ...]  # the values shown in the table (missing ones are left out)
    series: tuple[Series, ...]  # the columns drawn
    value_kind: str
    stacked: bool = False
    horizontal: bool = False
    value_max: float | None = None
    #: Column ranking categories when there are too many to draw (largest first).
    rank_by: str | None = None
    #: Column the categories are ordered by (largest first); None keeps the table's order.
    sort_by: str | None = None
    #: Summary key drawn as a flat target line (e.g. the clean-claim target).
    target_key: str | None = None


FIGURES: tuple[FigureSpec, ...] = (
    FigureSpec(
        "clean_claim_rate_by_provider",
        "Clean-claim rate by physician",
        Column("provider", "Physician"),
        (
            Column("claims", "Claims", "integer"),
            Column("clean", "Clean", "integer"),
            Column("rate", "Clean rate", "percent"),
        ),
        (Series("rate", "Clean-claim rate", SERIES_COLORS[0]),),
        "percent",
        value_max=1.0,
        rank_by="claims",
        target_key="clean_claim_target",
    ),
    FigureSpec(
        "tpi_mix_by_provider",
        "Trigger-point lines by physician: 20552 and 20553",
        Column("provider", "Physician"),
        (
            Column("n_20552", "20552 lines", "integer"),
            Column("n_20553", "20553 lines", "integer"),
            Column("share_20553", "20553 share", "percent"),
        ),
        (
            Series("n_20552", "20552 (1-2 muscles)", SERIES_COLORS[0]),
            Series("n_20553", "20553 (3+ muscles)", SERIES_COLORS[1]),
        ),
        "integer",
        stacked=True,
        rank_by="n_20553",
    ),
    FigureSpec(
        "denial_rate_by_payer",
        "Denial rate by payer",
        Column("payer", "Payer"),
        (
            Column("lines", "Lines", "integer"),
            Column("denied", "Denied", "integer"),
            Column("rate", "Denial rate", "percent"),
            Column("denied_dollars", "Denied $", "currency0"),
        ),
        (Series("rate", "Denial rate", SERIES_COLORS[1]),),
        "percent",
        horizontal=True,
        rank_by="lines",
        sort_by="rate",
    ),
)


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
) -> Report:
    """The report model of the audit workbook for ``result``.

    ``max_rows`` is the number of rows a sheet holds (Excel's limit; tests use fewer): longer
    tables continue on further sheets, each saying which rows it holds.
    """
    builder = _Builder(result, lines, max_rows)
    summary = result.summary or {}
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
    audit_sheets, positions = builder.audit_sheets()
    line_sheets = builder.line_sheets() if with_lines and lines is not None else []
    summary_sheet = builder.summary_sheet(report, positions)
    about_sheet = builder.about_sheet(report)
    report.sheets = [summary_sheet, *audit_sheets, *line_sheets, about_sheet]
    _sanitise_blocks(report)
    taken: list[str] = []
    for sheet in report.sheets:
        sheet.name = sheet_name(sheet.name, taken)
        taken.append(sheet.name)
    return report


# ---------------------------------------------------------------------------------------------


class _Builder:
    def __init__(self, result: AuditResult, lines: ClaimLines | None, max_rows: int) -> None:
        self.result = result
        self.lines = lines
        self.max_rows = max_rows
        self.summary = result.summary or {}
        self.findings = _ordered_findings(result.findings)
        self.runs = _runs(result, self.findings)

    # -- audit sheets --------------------------------------------------------------------------

    def audit_sheets(self) -> tuple[list[Sheet], pd.DataFrame]:
        """One sheet (or more, when it spills) per audit that ran, and where each finding is.

        The returned frame maps each finding (by its index in the findings frame) to the
        table key and data row it was written to, for links from the Summary.
        """
        sheets: list[Sheet] = []
        positions: list[pd.DataFrame] = []
        groups = (
            dict(tuple(self.findings.groupby("audit", sort=False))) if len(self.findings) else {}
        )
        for run in self.runs:
            if run.status != "ran":
                continue
            found = groups.get(run.id, self.findings.iloc[0:0])
            intro: list[Block] = [Title(_run_title(run))]
            intro.append(Text(_run_line(run, found), tone="note"))
            if run.why:
                intro.append(Text(run.why, label="Why it matters"))
            if run.fix:
                intro.append(Text(run.fix, label="How to fix"))
            if not len(found):
                note = f"No findings: {run.reason}" if run.reason else "No findings."
                intro.append(Text(note))
                sheets.append(Sheet(run.id, "audit", intro))
                continue
            table = _findings_table(f"findings:{run.id}", found, run)
            spilled, where = self._spill(run.id, "audit", intro, table)
            sheets.extend(spilled)
            positions.append(where.set_axis(found.index))
        where_all = pd.concat(positions) if positions else pd.DataFrame(columns=["table", "row"])
        return sheets, where_all

    def _spill(
        self, name: str, role: str, intro: list[Block], table: Table
    ) -> tuple[list[Sheet], pd.DataFrame]:
        """The table on one sheet, or on continuation sheets when it has too many rows."""
        n = len(table)
        if rows_before(intro) + n <= self.max_rows:
            where = pd.DataFrame({"table": table.key, "row": range(n)})
            return [Sheet(name, role, [*intro, table], freeze=table.key)], where
        intro = [*intro, Text("", tone="warning")]  # reworded below once the split is known
        chunks: list[tuple[list[Block], int, int]] = []
        start, blocks = 0, intro
        while start < n:
            room = self.max_rows - rows_before(blocks)
            if room < 1:
                raise ValueError("max_rows leaves no room for table rows")
            stop = min(n, start + room)
            chunks.append((blocks, start, stop))
            start = stop
            blocks = [Title(f"{name} (continued)"), Text("", tone="note")]
        names = [name]
        for i in range(2, len(chunks) + 1):
            names.append(sheet_name(f"{name} ({i})", names))  # valid now, so notes name them right
        sheets, parts = [], []
        for i, (blocks, lo, hi) in enumerate(chunks):
            key = table.key if i == 0 else f"{table.key}#{i + 1}"
            part = replace(
                table,
                key=key,
                frame=table.frame.iloc[lo:hi].reset_index(drop=True),
                links={k: v[lo:hi] for k, v in table.links.items()},
            )
            note = f"Rows {lo + 1:,} to {hi:,} of {n:,}."
            if i == 0:
                note = (
                    f"{n:,} rows are more than one sheet holds: this sheet has rows 1 to {hi:,};"
                    f" the rest continue on {', '.join(repr(x) for x in names[1:])}."
                )
            blocks[-1] = Text(note, tone="warning" if i == 0 else "note")
            sheets.append(Sheet(names[i], role, [*blocks, part], freeze=key))
            parts.append(pd.DataFrame({"table": key, "row": range(hi - lo)}))
        return sheets, pd.concat(parts, ignore_index=True)

    # -- claim lines ---------------------------------------------------------------------------

    def line_sheets(self) -> list[Sheet]:
        assert self.lines is not None
        frame = self.lines.frame
        flag, flagged_by = _line_flags(self.findings, frame)
        view = pd.DataFrame({"flag": flag.to_numpy(), "flagged_by": flagged_by.to_numpy()})
        columns = [Column("flag", "flag", "text", 9), Column("flagged_by", "flagged_by", "text")]
        data = {}
        for col in (*COLUMNS, *PROVENANCE):
            if col.name in frame.columns:
                data[col.name] = frame[col.name].to_numpy()
                kind = _LINE_KINDS.get(col.kind, "text")
                if col.name in _ORDINALS:
                    kind = "ordinal"
                columns.append(Column(col.name, col.name, kind))
        extra = [c for c in frame.columns if c not in BY_NAME]
        for name in extra:
            data[name] = frame[name].to_numpy()
            columns.append(Column(str(name), str(name), "text"))
        view = pd.concat([view, pd.DataFrame(data)], axis=1)
        table = _make_table("claim-lines", columns, view, row_look="flag")
        flagged = int(flag.notna().sum())
        intro: list[Block] = [
            Title("Claim lines"),
            Text(
                f"{len(frame):,} normalised claim lines; {flagged:,} flagged by an audit are "
                "coloured by their most serious finding (column 'flag'; 'flagged_by' lists the "
                "audits). Column names are auditkit's (see the README).",
                tone="note",
            ),
        ]
        sheets, _where = self._spill("Claim lines", "lines", intro, table)
        return sheets

    # -- summary -------------------------------------------------------------------------------

    def summary_sheet(self, report: Report, positions: pd.DataFrame) -> Sheet:
        s = self.summary
        blocks: list[Block] = [Title(report.title)]
        subtitle = [f"Period {report.period}" if report.period else None]
        subtitle.append(f"prepared by {report.prepared_by}" if report.prepared_by else None)
        subtitle.append(f"generated {report.generated_at:%Y-%m-%d %H:%M} by auditkit {__version__}")
        blocks.append(Text(" | ".join(x for x in subtitle if x), tone="note"))

        blocks.append(Title("Practice, period and inputs", level=2))
        blocks.append(Facts(self._input_facts(report)))

        rows = [
            Fact(
                k.label,
                _plain(kpi_module.kpi_value(k, s)) if _has_value(k, s) else "n/a",
                k.kind if _has_value(k, s) else "text",
                benchmark=k.benchmark_text(s),
                status=k.status(s),
            )
            for k in kpi_module.present(s)
        ]
        if rows:
            blocks.append(Title("Key indicators", level=2))
            blocks.append(Facts(rows, headers=("Indicator", "Value", "Status", "Benchmark")))

        top = self._top_findings(positions)
        blocks.append(Title("Top findings by dollars at risk", level=2))
        if top is None:
            blocks.append(Text("No findings."))
        else:
            blocks.append(top)

        figures = [f for f in (self._figure(spec) for spec in FIGURES) if f is not None]
        if figures:
            blocks.append(Title("At a glance", level=2))
            blocks.extend(figures)
        return Sheet("Summary", "summary", blocks)

    def _input_facts(self, report: Report) -> list[Fact]:
        s = self.summary
        facts = []
        if report.practice:
            facts.append(Fact("Practice", report.practice))
        if report.period:
            facts.append(Fact("Period", report.period))
        if report.prepared_by:
            facts.append(Fact("Prepared by", report.prepared_by))
        lines_count = s.get("lines", len(self.lines.frame) if self.lines is not None else None)
        for key, label, kind in (
            ("lines", "Claim lines", "integer"),
            ("claims", "Claims", "integer"),
            ("providers", "Physicians", "integer"),
            ("payers", "Payers", "integer"),
            ("charges", "Charges", "currency0"),
            ("paid", "Paid", "currency0"),
        ):
            value = lines_count if key == "lines" else s.get(key)
            if value is not None:
                facts.append(Fact(label, _plain(value), kind))
        inputs = self.lines.inputs if self.lines is not None else []
        if inputs:
            shown = [f"{_file_name(r.path)} ({r.rows:,} rows)" for r in inputs[:4]]
            more = f" and {len(inputs) - 4} more (see About)" if len(inputs) > 4 else ""
            facts.append(Fact("Input files", clean_text("; ".join(shown) + more)))
        return facts

    def _top_findings(self, positions: pd.DataFrame) -> Table | None:
        # Only findings shown on an audit sheet (a skipped audit's note has no row to go to).
        found = self.findings[self.findings.index.isin(positions.index)]
        if not len(found):
            return None
        dollars = pd.to_numeric(found["dollars_at_risk"], errors="coerce")
        order = pd.DataFrame(
            {"dollars": dollars.fillna(-math.inf), "rank": _severity_rank(found["severity"])},
            index=found.index,
        ).sort_values(["dollars", "rank"], ascending=[False, True], kind="stable")
        top = found.loc[order.index[:TOP_FINDINGS]]
        links = []
        for idx in top.index:
            pos = positions.loc[idx] if idx in positions.index else None
            links.append(Link(str(pos["table"]), int(pos["row"])) if pos is not None else None)
        columns = [
            Column("severity", "Severity", "text", 10),
            Column("dollars_at_risk", "At risk", "currency"),
            Column("audit", "Audit (go to row)", "text"),
            Column("provider", "Provider"),
            Column("payer", "Payer"),
            Column("claim_id", "Claim"),
            Column("message", "Finding", wrap=True),
        ]
        return _make_table(
            "top-findings", columns, top, row_look="severity", links={"audit": links}
        )

    def _figure(self, spec: FigureSpec) -> Figure | None:
        frame = self.result.tables.get(spec.table)
        needed = [spec.category.key, *(s.column for s in spec.series)]
        if frame is None or not len(frame) or any(c not in frame.columns for c in needed):
            return None
        title = spec.title
        if spec.rank_by in frame.columns and len(frame) > CHART_CATEGORIES:
            rank = pd.to_numeric(frame[spec.rank_by], errors="coerce").fillna(-math.inf)
            frame = frame.loc[rank.sort_values(ascending=False, kind="stable").index]
            title += f" (top {CHART_CATEGORIES} of {len(frame)})"
            frame = frame.iloc[:CHART_CATEGORIES]
        if spec.sort_by in frame.columns:
            order = pd.to_numeric(frame[spec.sort_by], errors="coerce").fillna(-math.inf)
            frame = frame.loc[order.sort_values(ascending=False, kind="stable").index]
        frame = frame.reset_index(drop=True)
        columns = [spec.category, *(c for c in spec.columns if c.key in frame.columns)]
        series = list(spec.series)
        target = self.summary.get(spec.target_key) if spec.target_key else None
        if isinstance(target, int | float) and math.isfinite(target):
            frame = frame.assign(_target=float(target))
            columns.append(Column("_target", "Target", spec.value_kind))
            series.append(Series("_target", "Target", TARGET_LINE, as_line=True))
        key = f"chart:{spec.table}"
        table = _make_table(key, columns, frame)
        chart = Chart(
            title=title,
            category=spec.category.key,
            series=series,
            value_kind=spec.value_kind,
            horizontal=spec.horizontal,
            stacked=spec.stacked,
            value_max=spec.value_max,
            height_rows=max(16, min(1 + len(frame), 30)),
        )
        return Figure(table, chart)

    # -- about ---------------------------------------------------------------------------------

    def about_sheet(self, report: Report) -> Sheet:
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
        inputs = self.lines.inputs if self.lines is not None else []
        if inputs:
            blocks.append(Title("Inputs", level=2))
            blocks.append(_inputs_table(inputs))
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
        if self.runs:
            blocks.append(Title("Audits", level=2))
            blocks.append(_audits_table(self.runs))
        config = _config_table(self.result.config or {})
        if config is not None:
            blocks.append(Title("Configuration (thresholds used)", level=2))
            blocks.append(config)
        return Sheet("About", "about", blocks)


# ---------------------------------------------------------------------------------------------


def _runs(result: AuditResult, findings: pd.DataFrame) -> list[AuditRun]:
    """The audits to show: those reported, plus any audit id that has findings but no run."""
    runs = list(result.audits)
    known = {r.id for r in runs}
    if len(findings):
        for audit_id in findings["audit"].dropna().astype(str).unique():
            if audit_id not in known:
                count = int((findings["audit"] == audit_id).sum())
                runs.append(AuditRun(id=audit_id, title=audit_id, status="ran", findings=count))
                known.add(audit_id)
    return runs


def _ordered_findings(findings: pd.DataFrame) -> pd.DataFrame:
    """Findings by audit, most serious first, then by dollars at risk (index kept)."""
    if findings is None or not len(findings):
        return pd.DataFrame(columns=["audit", "severity", "dollars_at_risk", "message"])
    frame = findings.reset_index(drop=True)
    for col in ("audit", "severity", "message", "dollars_at_risk"):
        if col not in frame.columns:
            frame[col] = None
    frame["audit"] = frame["audit"].astype("string").fillna("(no audit)")
    order = pd.DataFrame(
        {
            "rank": _severity_rank(frame["severity"]),
            "dollars": pd.to_numeric(frame["dollars_at_risk"], errors="coerce").fillna(-math.inf),
        },
        index=frame.index,
    ).sort_values(["rank", "dollars"], ascending=[True, False], kind="stable")
    return frame.loc[order.index]


def _severity_rank(values: pd.Series) -> pd.Series:
    ranks = {sev: i for i, sev in enumerate(SEVERITIES)}
    return as_text(values).str.lower().map(ranks).fillna(len(SEVERITIES)).astype(int)


def _run_title(run: AuditRun) -> str:
    return run.title if run.title and run.title != run.id else run.id


def _run_line(run: AuditRun, found: pd.DataFrame) -> str:
    n = len(found)
    parts = [f"Audit '{run.id}': {n:,} finding{'s' if n != 1 else ''}"]
    if n:
        counts = as_text(found["severity"]).str.lower().value_counts()
        parts.append(", ".join(f"{int(counts[s]):,} {s}" for s in SEVERITIES if s in counts))
        dollars = pd.to_numeric(found["dollars_at_risk"], errors="coerce").sum()
        if dollars:
            parts.append(f"${dollars:,.0f} at risk")
    return "; ".join(parts) + "."


def _findings_table(key: str, found: pd.DataFrame, run: AuditRun) -> Table:
    view = found.copy()
    evidence = view["evidence"] if "evidence" in view.columns else pd.Series(None, index=view.index)
    for name in ("source_file", "source_row"):
        # Older results kept the source position in the evidence only.
        from_evidence = pd.Series([_get(e, name) for e in evidence], index=view.index, dtype=object)
        if name in view.columns:
            view[name] = view[name].astype(object).where(view[name].notna(), from_evidence)
        else:
            view[name] = from_evidence
    # The file name is enough beside a finding; About lists the full paths.
    view["source_file"] = as_text(view["source_file"]).str.replace(r"^.*[\\/]", "", regex=True)
    view["evidence"] = [_evidence_text(e) for e in evidence]
    # A finding's why/fix is shown only where it adds to the audit's text above the table.
    for name, audit_text in (("why", run.why), ("fix", run.fix)):
        if name in view.columns:
            text = as_text(view[name]).fillna("")
            view[name] = text.where(text.str.strip() != (audit_text or "").strip(), "")
    columns = [
        c
        for c in FINDING_VIEW
        if c.key in view.columns and (c.key in _ALWAYS_SHOWN or _has_content(view[c.key]))
    ]
    return _make_table(key, columns, view, row_look="severity")


def _get(evidence: Any, key: str) -> Any:
    return evidence.get(key) if isinstance(evidence, dict) else None


def _evidence_text(evidence: Any) -> str | None:
    """Evidence as short text: 'key: value; ...' (Python per finding: evidence is a dict)."""
    if evidence is None or (isinstance(evidence, float) and math.isnan(evidence)):
        return None
    if isinstance(evidence, dict):
        parts = []
        for key, value in evidence.items():
            if key in ("source_file", "source_row"):
                continue
            parts.append(f"{key}: {_short(value)}")
        return "; ".join(parts) or None
    return _short(evidence)


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list | tuple | set):
        items = [_short(v) for v in value]
        return ", ".join(items[:10]) + (f" (+{len(items) - 10} more)" if len(items) > 10 else "")
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_short(v)}" for k, v in value.items()) + "}"
    return str(value)


def _has_content(values: pd.Series) -> bool:
    if values.dtype == object or pd.api.types.is_string_dtype(values):
        text = as_text(values).str.strip()
        return bool((text.fillna("") != "").any())
    return bool(values.notna().any())


def _make_table(
    key: str,
    columns: Iterable[Column],
    source: pd.DataFrame,
    *,
    row_look: str | None = None,
    links: dict[str, list[Link | None]] | None = None,
) -> Table:
    """A :class:`Table` of the given columns, values coerced to their kinds and sanitised.

    A column whose values do not fit its kind (e.g. text in a money column) is shown as text
    rather than losing values.
    """
    data, kept = {}, []
    for col in columns:
        if col.key not in source.columns:
            continue
        values, kind = _coerce(source[col.key].reset_index(drop=True), col.kind)
        data[col.key] = values
        kept.append(replace(col, kind=kind) if kind != col.kind else col)
    frame = pd.DataFrame(data, index=pd.RangeIndex(len(source)))
    return Table(key, kept, frame, row_look=row_look, links=dict(links or {}))


def _coerce(values: pd.Series, kind: str) -> tuple[pd.Series, str]:
    if kind in NUMERIC_KINDS:
        if kind in ("date", "datetime"):
            converted = _to_datetime(values)
        else:
            converted = pd.to_numeric(values, errors="coerce").astype("float64")
        if converted is not None and not bool((converted.isna() & values.notna()).any()):
            return converted, kind
        kind = "text"
    if kind == "bool":
        try:
            return values.astype("boolean"), kind
        except (TypeError, ValueError):
            kind = "text"
    return clean_text_series(values), "text"


def _to_datetime(values: pd.Series) -> pd.Series | None:
    try:
        converted = pd.to_datetime(values, errors="coerce")
    except (TypeError, ValueError):
        return None
    if getattr(converted.dt, "tz", None) is not None:
        converted = converted.dt.tz_localize(None)
    return converted.astype("datetime64[ns]")


def _line_flags(findings: pd.DataFrame, frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Per claim line: the most serious severity of the findings about it, and their audits.

    A finding is about a line when its source file and row (columns, or keys of its evidence)
    match the line's, or else when its claim id and ``line`` (line number) do; a claim-scope
    finding is about every line of its claim.
    """
    empty = pd.Series(pd.NA, index=range(len(frame)), dtype="string")
    if not len(findings) or not len(frame):
        return empty, empty.copy()
    base = pd.DataFrame(
        {"audit": findings["audit"].astype("string"), "rank": _severity_rank(findings["severity"])}
    )
    lines = pd.DataFrame({"pos": range(len(frame))})
    pairs = []
    source = _finding_sources(findings)
    if source is not None and {"source_file", "source_row"} <= set(frame.columns):
        lines["source_file"] = frame["source_file"].astype("string").to_numpy()
        lines["source_row"] = pd.to_numeric(frame["source_row"], errors="coerce").to_numpy()
        pairs.append(base.join(source, how="inner").merge(lines, on=["source_file", "source_row"]))
    elif {"claim_id", "line"} <= set(findings.columns) and {"claim_id", "line_number"} <= set(
        frame.columns
    ):
        keyed = base.assign(
            claim_id=as_text(findings["claim_id"]),
            line_number=pd.to_numeric(findings["line"], errors="coerce"),
        ).dropna(subset=["claim_id", "line_number"])
        lines["claim_id"] = as_text(frame["claim_id"]).to_numpy()
        lines["line_number"] = pd.to_numeric(frame["line_number"], errors="coerce").to_numpy()
        pairs.append(keyed.merge(lines, on=["claim_id", "line_number"]))
    if "claim_id" in findings.columns and "claim_id" in frame.columns:
        scope = as_text(findings.get("scope", pd.Series(None, index=findings.index))).str.lower()
        claim_level = (scope == "claim").fillna(False) & findings["claim_id"].notna()
        if claim_level.any():
            claims = base[claim_level].assign(claim_id=findings.loc[claim_level, "claim_id"])
            lines["claim_id"] = frame["claim_id"].to_numpy()
            claims["claim_id"] = claims["claim_id"].astype("string")
            lines["claim_id"] = lines["claim_id"].astype("string")
            pairs.append(claims.merge(lines[["pos", "claim_id"]], on="claim_id"))
    if not pairs:
        return empty, empty.copy()
    hits = pd.concat([p[["audit", "rank", "pos"]] for p in pairs], ignore_index=True)
    hits = hits.drop_duplicates(["pos", "audit"])
    worst = hits.groupby("pos")["rank"].min()
    flag = empty.copy()
    names = pd.Series([*SEVERITIES, pd.NA], dtype="string")
    flag.iloc[worst.index.to_numpy()] = names.iloc[worst.to_numpy()].to_numpy()
    # One join per flagged line (the audits that flagged it): few audits, so this is cheap.
    audits = hits.sort_values("audit").groupby("pos")["audit"].agg(", ".join)
    flagged_by = empty.copy()
    flagged_by.iloc[audits.index.to_numpy()] = audits.to_numpy()
    return flag, flagged_by


def _finding_sources(findings: pd.DataFrame) -> pd.DataFrame | None:
    """Source file and row of each finding that has them (from columns or the evidence)."""
    columns = {}
    evidence = findings["evidence"] if "evidence" in findings.columns else None
    for name in ("source_file", "source_row"):
        values = findings[name] if name in findings.columns else None
        if evidence is not None and (values is None or values.isna().any()):
            from_evidence = pd.Series([_get(e, name) for e in evidence], index=findings.index)
            values = (
                from_evidence if values is None else values.where(values.notna(), from_evidence)
            )
        if values is None:
            return None
        columns[name] = values
    source = pd.DataFrame(
        {
            "source_file": as_text(columns["source_file"]),
            "source_row": pd.to_numeric(columns["source_row"], errors="coerce"),
        }
    ).dropna()
    return source if len(source) else None


def _inputs_table(inputs: list) -> Table:
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
            "warnings": ["; ".join(r.warnings) for r in inputs],
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
        Column("warnings", "Warnings", wrap=True),
    ]
    keep = [c for c in columns if c.key in ("file", "rows") or _has_content(rows[c.key])]
    return _make_table("about:inputs", keep, rows)


def _delimiter_text(delimiter: str | None) -> str | None:
    names = {"\t": "tab", ",": "comma", ";": "semicolon", "|": "pipe", " ": "space"}
    return names.get(delimiter, delimiter) if delimiter else None


def _mapping_table(inputs: list) -> Table | None:
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
    return _make_table("about:mapping", columns, frame)


def _problems_table(inputs: list) -> Table | None:
    records = [
        (report.path, problem.row, problem.column, problem.message)
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
    return _make_table("about:problems", columns, frame)


def _audits_table(runs: list[AuditRun]) -> Table:
    frame = pd.DataFrame(
        {
            "id": [r.id for r in runs],
            "title": [r.title for r in runs],
            "status": [r.status for r in runs],
            "findings": [r.findings if r.status == "ran" else None for r in runs],
            "reason": [r.reason or "" for r in runs],
        }
    )
    columns = [
        Column("id", "Audit"),
        Column("title", "Title"),
        Column("status", "Status", "text", 10),
        Column("findings", "Findings", "integer"),
        Column("reason", "Why skipped, or note", wrap=True),
    ]
    return _make_table("about:audits", columns, frame)


def _config_table(config: dict[str, dict[str, Any]]) -> Table | None:
    records = []
    for audit_id, settings in config.items():
        if isinstance(settings, dict):
            for key, value in settings.items():
                records.append((audit_id, key, _short(value)))
        else:
            records.append((audit_id, "", _short(settings)))
    if not records:
        return None
    frame = pd.DataFrame(records, columns=["audit", "setting", "value"])
    columns = [Column("audit", "Audit"), Column("setting", "Setting"), Column("value", "Value")]
    return _make_table("about:config", columns, frame)


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


def _file_name(path: str) -> str:
    return str(path).replace("\\", "/").rsplit("/", 1)[-1]


def _has_value(kpi: kpi_module.Kpi, summary: dict[str, Any]) -> bool:
    value = kpi_module.kpi_value(kpi, summary)
    if value is None or isinstance(value, bool):
        return False
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _plain(value: Any) -> Any:
    """numpy scalars and pandas timestamps as plain Python values."""
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item") and not isinstance(value, str | bytes | date):
        try:
            return value.item()
        except (ValueError, AttributeError):
            return value
    return value


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
