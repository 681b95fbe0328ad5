"""One sheet per audit that ran: its title, why it matters and how to fix it, its findings.

Nothing here knows an audit by id: every audit sheet is built the same way from the findings
frame.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from auditkit.engine.findingset import KEYS_SEP, FindingSet
from auditkit.engine.result import SEVERITIES, AuditRun
from auditkit.report.cells import has_content, make_table, plain_doc_text
from auditkit.report.evidence import HIDDEN_KEYS, evidence_texts
from auditkit.report.findings import counted_mask, in_total_text
from auditkit.report.layout import estimate_width
from auditkit.report.model import Block, Column, Sheet, Table, Text, Title
from auditkit.report.patterns import link_patterns, patterns_section
from auditkit.report.safety import as_text
from auditkit.report.spill import spill

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
    Column("dollars_basis", "Dollars are", "text", 16),
    Column("in_total", "In total", "text", 9),
    Column("message", "Finding", wrap=True),
    Column("why", "Why", wrap=True),
    Column("fix", "Fix", wrap=True),
    Column("evidence", "Evidence", wrap=True),
    Column("source_file", "Source file"),
    Column("source_row", "Source row", "ordinal", 12),
    # The finding's stable key (auditkit.engine.keys), hidden: for matching runs, not reading.
    Column("key", "Key", "text", 20, hidden=True),
)
_ALWAYS_SHOWN = frozenset({"severity", "message", "key"})


def audit_sheets(
    findings: pd.DataFrame, runs: list[AuditRun], max_rows: int, source: FindingSet
) -> tuple[list[Sheet], pd.DataFrame]:
    """One sheet (or more, when it spills) per audit that ran, and where each finding is.

    ``findings`` is the ordered findings frame (:func:`auditkit.report.findings.ordered_findings`
    of ``source.core``: its index is each finding's position there).
    The returned frame maps each finding (by its index in the findings frame) to the table key
    and data row it was written to, for links from the Summary; ``pattern_row`` is, for the
    first line of each pattern shown in the audit's patterns table
    (:mod:`auditkit.report.patterns`), that pattern's row in it (-1 for every other finding).
    """
    sheets: list[Sheet] = []
    positions: list[pd.DataFrame] = []
    groups = dict(tuple(findings.groupby("audit", sort=False))) if len(findings) else {}
    for run in runs:
        if run.status != "ran":
            continue
        found = groups.get(run.id, findings.iloc[0:0])
        intro: list[Block] = [Title(_run_title(run))]
        intro.append(Text(_run_line(run, found), tone="note"))
        if run.why:
            intro.append(Text(plain_doc_text(run.why), label="Why it matters"))
        if run.fix:
            intro.append(Text(plain_doc_text(run.fix), label="How to fix"))
        if not len(found):
            note = f"No findings: {run.reason}" if run.reason else "No findings."
            intro.append(Text(note))
            sheets.append(Sheet(run.id, "audit", intro))
            continue
        table = _findings_table(f"findings:{run.id}", found, run, source)
        # Many line findings: a patterns table (physician x payer x code) comes first.
        section, patterns, shown = patterns_section(run.id, found, intro, max_rows)
        spilled, where = spill(run.id, "audit", [*intro, *section], table, max_rows)
        where = where.set_axis(found.index)
        # Links to the line table's parts can only be set once spill has placed its rows.
        where["pattern_row"] = (
            link_patterns(patterns, shown, found.index, where)
            if patterns is not None
            else np.full(len(where), -1, dtype=np.int32)
        )
        sheets.extend(spilled)
        positions.append(where)
    where_all = (
        pd.concat(positions)
        if positions
        else pd.DataFrame(
            {
                "table": pd.Series(dtype=object),
                "row": pd.Series(dtype="int64"),
                "pattern_row": pd.Series(dtype=np.int32),
            }
        )
    )
    return sheets, where_all


def _run_title(run: AuditRun) -> str:
    return run.title if run.title and run.title != run.id else run.id


def _run_line(run: AuditRun, found: pd.DataFrame) -> str:
    n = len(found)
    parts = [f"Audit '{run.id}': {n:,} finding{'s' if n != 1 else ''}"]
    if n:
        counts = as_text(found["severity"]).str.lower().value_counts()
        parts.append(", ".join(f"{int(counts[s]):,} {s}" for s in SEVERITIES if s in counts))
        dollars = pd.to_numeric(found["dollars_at_risk"], errors="coerce").fillna(0.0)
        counted = dollars[counted_mask(found)].sum()
        if dollars.sum():
            parts.append(
                f"${counted:,.0f} at risk counted in the total"
                + (f" (${dollars.sum():,.0f} listed)" if dollars.sum() - counted >= 0.5 else "")
            )
    return "; ".join(parts) + "."


#: Findings of one audit from which its sheet renders their text when it is written, a slice
#: at a time (see ``auditkit.report.model.Table.fill``): such long tables do not wrap text.
LAZY_FROM = 5_000
#: Widths of the text columns of a long table (it is not measured from text it does not hold).
_LAZY_WIDTHS = {"message": 90.0, "why": 60.0, "fix": 60.0, "evidence": 70.0}
_TEXT_KEYS = ("message", "why", "fix", "evidence")


def _findings_table(key: str, found: pd.DataFrame, run: AuditRun, source: FindingSet) -> Table:
    """The audit's findings table. ``found`` holds the audit's rows of ``source.core`` (its
    index: their positions there); the message and evidence text come from ``source``. A long
    table (:data:`LAZY_FROM` findings or more) holds only those positions and makes its cells
    a slice at a time as the writer writes them."""
    # A finding's why/fix is shown only where it adds to the audit's text above the table.
    shown = {
        "why": _differs(found["why"], run.why),
        "fix": _differs(found["fix"], run.fix),
        "evidence": _has_evidence(found),
    }
    lazy = len(found) >= LAZY_FROM
    columns = []
    for column in FINDING_VIEW:
        if column.key in _TEXT_KEYS:
            if column.key != "message" and not shown[column.key]:
                continue
            if lazy:
                column = replace(column, wrap=False, width=_LAZY_WIDTHS[column.key])
            columns.append(column)
        elif column.key in _ALWAYS_SHOWN or _present(found, column.key):
            if lazy and column.width is None:
                column = replace(column, width=_lazy_width(found, column))
            columns.append(column)
    order = [c.key for c in columns]

    def cells(core: pd.DataFrame) -> pd.DataFrame:
        """The table's columns for these findings (rows of ``source.core``)."""
        data = pd.DataFrame(index=pd.RangeIndex(len(core)))
        for name in order:
            if name == "message":
                data[name] = source.messages(core).to_numpy()
            elif name == "evidence":
                data[name] = evidence_texts(source, core).to_numpy()
            elif name in ("why", "fix"):
                data[name] = _extra_text(core[name], getattr(run, name))
            elif name == "in_total":
                data[name] = in_total_text(core.reset_index(drop=True)).to_numpy()
            elif name == "key":
                data[name] = source.keys(core).to_numpy()
            elif name == "source_file":
                # The file name is enough beside a finding; About lists the full paths.
                text = as_text(core[name]).str.replace(r"^.*[\\/]", "", regex=True)
                data[name] = text.to_numpy()
            else:
                data[name] = core[name].to_numpy()
        return make_table(key, columns, data, row_look="severity").frame

    if not lazy:
        return make_table(key, columns, cells(found), row_look="severity")

    def fill(rows: pd.DataFrame) -> pd.DataFrame:
        return cells(source.core.iloc[rows["_at"].to_numpy()])[order]

    frame = pd.DataFrame({"_at": found.index.to_numpy()})
    return Table(key, columns, frame, row_look="severity", fill=fill)


def _categories_used(values: pd.Series) -> list[str]:
    """The distinct non-missing values of a column, from its categories when it has them."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy()
        used = np.unique(codes[codes >= 0])
        return [str(values.cat.categories[i]) for i in used]
    return [str(v) for v in values.dropna().unique()]


def _present(found: pd.DataFrame, key: str) -> bool:
    """Whether a column of the table has anything to show (without text per finding)."""
    if key == "in_total":
        return bool(found["dollars_at_risk"].ne(0).any())
    values = found[key]
    if isinstance(values.dtype, pd.CategoricalDtype) or not pd.api.types.is_numeric_dtype(values):
        if isinstance(values.dtype, pd.CategoricalDtype):
            return any(v.strip() for v in _categories_used(values))
        return has_content(values)
    return bool(values.notna().any())


def _lazy_width(found: pd.DataFrame, column: Column) -> float:
    """A column's width for a long table, from its distinct values (or a sample of them)."""
    values = found[column.key]
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = pd.Series(_categories_used(values), dtype="string")
    elif len(values) > 10_000:
        values = values.iloc[:: max(1, len(values) // 10_000)]
    return estimate_width(values, column.kind, column.header)


def _differs(values: pd.Series, audit_text: str | None) -> bool:
    """Whether any finding's why/fix says more than the audit's own text (categories: cheap)."""
    own = (audit_text or "").strip()
    return any(t.strip() and t.strip() != own for t in _categories_used(values))


def _extra_text(values: pd.Series, audit_text: str | None) -> np.ndarray:
    """A why/fix column blank where it repeats the audit's own text (each distinct text put in
    plain words once)."""
    own = (audit_text or "").strip()
    codes, uniques = pd.factorize(values.reset_index(drop=True), use_na_sentinel=True)
    words = [plain_doc_text(str(u)) if str(u).strip() != own else "" for u in uniques] + [""]
    return np.asarray(words, dtype=object)[np.where(codes < 0, len(words) - 1, codes)]


def _has_evidence(found: pd.DataFrame) -> bool:
    """Whether any finding has evidence beyond its source position."""
    keys = found["ev_keys"].astype("category").cat.categories if "ev_keys" in found else []
    return any(set(str(k).split(KEYS_SEP)) - HIDDEN_KEYS - {""} for k in keys)
