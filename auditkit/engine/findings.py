"""Findings builders: every audit returns its findings as a frame with fixed columns.

:func:`findings_frame` builds one from whole columns; :func:`line_findings` builds findings
about individual claim lines, taking provider, payer, code, claim and source position from the
rows themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from auditkit.engine.contract import Audit
from auditkit.engine.findingset import (
    Evidence,
    Message,
    categorical,
    evidence_columns,
    message_columns,
    typed,
)
from auditkit.engine.result import DOLLAR_BASES, SCOPES, SEVERITIES

__all__ = [
    "FINDING_SOURCE_COLUMNS",
    "Evidence",
    "Message",
    "findings_frame",
    "line_findings",
    "line_keys",
]


def _length(values: Sequence[Any]) -> int | None:
    for value in values:
        if isinstance(value, pd.Series | np.ndarray | list | pd.Index | pd.DataFrame):
            return len(value)
        if isinstance(value, Message) and not isinstance(value.template, str):
            return len(value.template)
        if isinstance(value, Message):
            found = _length(list(value.fields.values()))
            if found is not None:
                return found
        if isinstance(value, Evidence):
            found = _length(list(value.values()))
            if found is not None:
                return found
    return None


def findings_frame(
    audit: type[Audit] | Audit,
    *,
    severity: Any,
    scope: str,
    message: Any,
    provider: Any = None,
    payer: Any = None,
    cpt: Any = None,
    claim_id: Any = None,
    line: Any = None,
    dollars_at_risk: Any = 0.0,
    dollars_basis: Any = None,
    covers: Any = None,
    rollup: bool = False,
    evidence: Any = None,
    why: Any = None,
    fix: Any = None,
    source_file: Any = None,
    source_row: Any = None,
) -> pd.DataFrame:
    """Build an audit's findings frame from whole columns (the columnar layout of
    :mod:`auditkit.engine.findingset`: core columns, a message template, value columns).

    Each argument is one value for every finding or a Series/array/list with one value per
    finding. ``message`` is text (one for all, or one per finding) or a
    :class:`~auditkit.engine.findingset.Message` (a template and the values it names, rendered
    when written). ``evidence`` is an :class:`~auditkit.engine.findingset.Evidence` of columns
    (preferred: no Python object per finding), a DataFrame, one dict for every finding, or a
    list/Series of dicts. ``why`` and ``fix`` default to the audit's docstring sections.

    Money: ``dollars_basis`` says what ``dollars_at_risk`` is (a key of
    :data:`~auditkit.engine.result.DOLLAR_BASES`; required wherever the dollars are not 0);
    ``covers`` the claim lines whose money it is (:func:`line_keys` joined by ``|``, e.g. from
    :meth:`~auditkit.engine.context.Context.covers_of`; empty for money on no line); a
    ``rollup`` finding sums money that its own detail findings carry, so it is never counted
    in the total.
    """
    values = [severity, message, provider, payer, cpt, claim_id, line, dollars_at_risk, evidence]
    values += [source_file, source_row, dollars_basis, covers, fix, why]
    n = _length(values)
    n = 1 if n is None else n
    templates, message_values = message_columns(message, n)
    evidence_values, keys = evidence_columns(evidence, n)
    core = {
        "audit": audit.id,
        "severity": severity,
        "scope": scope,
        "provider": provider,
        "payer": payer,
        "cpt": cpt,
        "claim_id": claim_id,
        "line": line,
        "dollars_at_risk": dollars_at_risk,
        "dollars_basis": "none" if dollars_basis is None else dollars_basis,
        "covers": "" if covers is None else covers,
        "counted": not rollup,
        "why": audit.why() if why is None else why,
        "fix": audit.fix() if fix is None else fix,
        "source_file": source_file,
        "source_row": source_row,
    }
    columns = {name: typed(value, n) for name, value in core.items()}
    columns["template"] = templates
    columns["ev_keys"] = keys
    frame = pd.DataFrame({**columns, **message_values, **evidence_values})
    for name in ("audit", "severity", "scope", "dollars_basis", "why", "fix"):
        frame[name] = categorical(frame[name])  # a category stays one (no text per finding)
    for name in ("provider", "payer", "cpt", "source_file"):
        frame[name] = categorical(frame[name])  # few distinct values
    frame["claim_id"] = frame["claim_id"].astype("string[pyarrow]")
    for name in ("line", "source_row"):
        frame[name] = pd.to_numeric(frame[name], errors="coerce").astype("Int64")
    frame["dollars_at_risk"] = pd.to_numeric(frame["dollars_at_risk"]).astype("float64").fillna(0.0)
    frame["covers"] = frame["covers"].astype("string[pyarrow]").fillna("")
    frame["counted"] = frame["counted"].astype(bool)
    bad_sev = set(frame["severity"].dropna().unique()) - set(SEVERITIES)
    if bad_sev or frame["severity"].isna().any() or scope not in SCOPES:
        raise ValueError(f"{audit.id}: bad severity {bad_sev or 'missing'} or scope {scope!r}")
    bases = categorical(frame["dollars_basis"])
    if bases.isna().any():
        if "none" not in bases.cat.categories:
            bases = bases.cat.add_categories(["none"])
        bases = bases.fillna("none")
    bad_basis = {str(b) for b in bases.unique()} - set(DOLLAR_BASES)
    unexplained = frame["dollars_at_risk"].ne(0) & bases.eq("none")
    if bad_basis or unexplained.any():
        raise ValueError(
            f"{audit.id}: every dollar figure needs its basis (unknown {bad_basis or 'none'}, "
            f"{int(unexplained.sum())} amount(s) without one)"
        )
    frame["dollars_basis"] = bases
    return frame


def line_keys(rows: pd.DataFrame) -> pd.Series:
    """The key of each claim line, ``"CLAIM_ID:LINE"``: its line number, else ``r`` and its
    row in the export, else ``p`` and its position in the frame. Findings name the lines whose
    money they count by these keys (``covers``), so two findings about one line can be told
    apart from findings about two lines."""
    n = len(rows)
    claim = (
        rows["claim_id"].astype("string").str.strip().fillna("")
        if "claim_id" in rows.columns
        else pd.Series("", index=rows.index, dtype="string")
    )
    # Whole-column string work: no Python string is built per line here.
    where = "p" + pd.Series(np.arange(n), index=rows.index).astype("string")
    if "source_row" in rows.columns:
        source = pd.to_numeric(rows["source_row"], errors="coerce").astype("Int64")
        where = ("r" + source.astype("string")).fillna(where)
    if "line_number" in rows.columns:
        number = pd.to_numeric(rows["line_number"], errors="coerce").astype("Int64")
        where = number.astype("string").fillna(where)
    return (claim + ":" + where).astype("str")


#: Claim-line columns :func:`line_findings` reads from the rows it is given.
FINDING_SOURCE_COLUMNS: tuple[str, ...] = (
    "rendering_provider",
    "payer",
    "cpt",
    "claim_id",
    "line_number",
    "source_file",
    "source_row",
)


def line_findings(
    audit: type[Audit] | Audit,
    rows: pd.DataFrame,
    *,
    severity: Any,
    message: Any,
    dollars_at_risk: Any = 0.0,
    dollars_basis: Any = None,
    evidence: Any = None,
    fix: Any = None,
    covers: Any = None,
) -> pd.DataFrame:
    """Findings about individual claim lines: provider, payer, code, claim, line number and
    source position are taken from ``rows`` (a subset of the claim-line frame), and each
    finding covers its own line's money (:func:`line_keys` of ``rows``, unless ``covers``
    gives the keys already worked out)."""

    def col(name: str) -> Any:
        return rows[name] if name in rows.columns else None

    return findings_frame(
        audit,
        severity=severity,
        scope="line",
        message=message,
        provider=col("rendering_provider"),
        payer=col("payer"),
        cpt=col("cpt"),
        claim_id=col("claim_id"),
        line=col("line_number"),
        dollars_at_risk=dollars_at_risk,
        dollars_basis=dollars_basis,
        covers=covers if covers is not None else line_keys(rows) if len(rows) else None,
        evidence=evidence,
        fix=fix,
        source_file=col("source_file"),
        source_row=col("source_row"),
    )
