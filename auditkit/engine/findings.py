"""Findings builders: every audit returns its findings as a frame with fixed columns.

:func:`findings_frame` builds one from whole columns; :func:`line_findings` builds findings
about individual claim lines, taking provider, payer, code, claim and source position from the
rows themselves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from auditkit.engine.contract import Audit
from auditkit.engine.result import DOLLAR_BASES, FINDING_COLUMNS, SCOPES, SEVERITIES

__all__ = ["FINDING_SOURCE_COLUMNS", "findings_frame", "line_findings", "line_keys"]


def _length(values: Sequence[Any]) -> int | None:
    for value in values:
        if isinstance(value, pd.Series | np.ndarray | list | pd.Index):
            return len(value)
    return None


def _column(value: Any, n: int) -> Any:
    """A value or a sequence as an object array of length n (missing values become None).

    Text without missing values is given as a ``str`` array straight away, the dtype the
    frame would give the object array, without building a Python string per finding."""
    if n and isinstance(value, str):
        return pd.array([value], dtype="str").take(np.zeros(n, dtype=np.intp))
    if (
        n
        and isinstance(value, pd.Series | pd.Index)
        and isinstance(value.dtype, pd.StringDtype)
        and len(value) == n
        and not value.hasnans
    ):
        return pd.array(value.astype("str"))
    if isinstance(value, pd.Series | pd.Index):
        arr = value.astype(object).to_numpy()
    elif isinstance(value, np.ndarray | list):
        arr = np.asarray(value, dtype=object)
    else:
        arr = np.empty(n, dtype=object)
        arr[:] = [value] * n
        return arr
    if len(arr) != n:
        raise ValueError(f"finding column of length {len(arr)}, expected {n}")
    missing = pd.isna(arr)
    if missing.any():
        arr = arr.copy()
        arr[missing] = None
    return arr


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
    """Build a findings frame (columns :data:`FINDING_COLUMNS`) from whole columns.

    Each argument is one value for every finding or a Series/array/list with one value per
    finding. ``evidence`` is a dict, a list/Series of dicts or a DataFrame (one dict per row).
    ``why`` and ``fix`` default to the audit's docstring sections.

    Money: ``dollars_basis`` says what ``dollars_at_risk`` is (a key of
    :data:`~auditkit.engine.result.DOLLAR_BASES`; required wherever the dollars are not 0);
    ``covers`` the claim lines whose money it is (:func:`line_keys` joined by ``|``, e.g. from
    :meth:`~auditkit.engine.context.Context.covers_of`; empty for money on no line); a
    ``rollup`` finding sums money that its own detail findings carry, so it is never counted
    in the total.
    """
    values = [severity, message, provider, payer, cpt, claim_id, line, dollars_at_risk, evidence]
    values += [source_file, source_row, dollars_basis, covers]
    if isinstance(evidence, pd.DataFrame):
        evidence = evidence.to_dict("records")
    n = _length(values)
    n = 1 if n is None else n
    if isinstance(evidence, Mapping):
        evidence = [dict(evidence) for _ in range(n)]
    elif evidence is None:
        evidence = [{} for _ in range(n)]
    columns = {
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
        "message": message,
        "why": audit.why() if why is None else why,
        "fix": audit.fix() if fix is None else fix,
        "evidence": list(evidence) if isinstance(evidence, pd.Series) else evidence,
        "source_file": source_file,
        "source_row": source_row,
    }
    frame = pd.DataFrame({name: _column(columns[name], n) for name in FINDING_COLUMNS})
    frame["dollars_at_risk"] = pd.to_numeric(frame["dollars_at_risk"]).astype("float64").fillna(0.0)
    frame["covers"] = frame["covers"].fillna("").astype("str")
    frame["counted"] = frame["counted"].astype(bool)
    bad_sev = set(frame["severity"]) - set(SEVERITIES)
    if bad_sev or scope not in SCOPES:
        raise ValueError(f"{audit.id}: bad severity {bad_sev} or scope {scope!r}")
    bases = frame["dollars_basis"].fillna("none")
    bad_basis = set(bases.unique()) - set(DOLLAR_BASES)
    unexplained = frame["dollars_at_risk"].ne(0) & bases.eq("none")
    if bad_basis or unexplained.any():
        raise ValueError(
            f"{audit.id}: every dollar figure needs its basis (unknown {bad_basis or 'none'}, "
            f"{int(unexplained.sum())} amount(s) without one)"
        )
    frame["dollars_basis"] = bases.astype("str")
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
) -> pd.DataFrame:
    """Findings about individual claim lines: provider, payer, code, claim, line number and
    source position are taken from ``rows`` (a subset of the claim-line frame), and each
    finding covers its own line's money (:func:`line_keys`)."""

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
        covers=line_keys(rows).to_numpy(dtype=object) if len(rows) else None,
        evidence=evidence,
        fix=fix,
        source_file=col("source_file"),
        source_row=col("source_row"),
    )
