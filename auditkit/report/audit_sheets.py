"""One sheet per audit that ran: its title, why it matters and how to fix it, its findings.

Nothing here knows an audit by id: every audit sheet is built the same way from the findings
frame.
"""

from __future__ import annotations

import pandas as pd

from auditkit.engine.result import SEVERITIES, AuditRun
from auditkit.report.cells import has_content, make_table, plain_doc_text
from auditkit.report.evidence import evidence_text
from auditkit.report.findings import counted_mask, evidence_value, in_total_text
from auditkit.report.model import Block, Column, Sheet, Table, Text, Title
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
)
_ALWAYS_SHOWN = frozenset({"severity", "message"})


def audit_sheets(
    findings: pd.DataFrame, runs: list[AuditRun], max_rows: int
) -> tuple[list[Sheet], pd.DataFrame]:
    """One sheet (or more, when it spills) per audit that ran, and where each finding is.

    ``findings`` is the ordered findings frame (:func:`auditkit.report.findings.ordered_findings`).
    The returned frame maps each finding (by its index in the findings frame) to the table key
    and data row it was written to, for links from the Summary.
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
        table = _findings_table(f"findings:{run.id}", found, run)
        spilled, where = spill(run.id, "audit", intro, table, max_rows)
        sheets.extend(spilled)
        positions.append(where.set_axis(found.index))
    where_all = pd.concat(positions) if positions else pd.DataFrame(columns=["table", "row"])
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


def _findings_table(key: str, found: pd.DataFrame, run: AuditRun) -> Table:
    view = found.copy()
    evidence = view["evidence"] if "evidence" in view.columns else pd.Series(None, index=view.index)
    for name in ("source_file", "source_row"):
        # Older results kept the source position in the evidence only.
        from_evidence = pd.Series(
            [evidence_value(e, name) for e in evidence], index=view.index, dtype=object
        )
        if name in view.columns:
            view[name] = view[name].astype(object).where(view[name].notna(), from_evidence)
        else:
            view[name] = from_evidence
    # The file name is enough beside a finding; About lists the full paths.
    view["source_file"] = as_text(view["source_file"]).str.replace(r"^.*[\\/]", "", regex=True)
    view["evidence"] = [evidence_text(e) for e in evidence]
    view["in_total"] = in_total_text(view)
    # A finding's why/fix is shown only where it adds to the audit's text above the table.
    for name, audit_text in (("why", run.why), ("fix", run.fix)):
        if name in view.columns:
            text = as_text(view[name]).fillna("")
            text = text.where(text.str.strip() != (audit_text or "").strip(), "")
            view[name] = text.map(plain_doc_text)
    columns = [
        c
        for c in FINDING_VIEW
        if c.key in view.columns and (c.key in _ALWAYS_SHOWN or has_content(view[c.key]))
    ]
    return make_table(key, columns, view, row_look="severity")
