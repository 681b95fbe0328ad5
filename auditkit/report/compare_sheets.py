"""The Comparison sheet: what changed since the last audit (:mod:`auditkit.compare`).

One sheet (continued on further sheets when long): the summary sentence a consultant can hand
to a client, the counts and counted dollars of resolved, new and persisting findings, the key
indicators side by side with their change, then every finding that changed or persists, with
its dollars before and after.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from auditkit.compare import DOLLARS_BASIS, Comparison
from auditkit.report.cells import make_table
from auditkit.report.model import Column, Fact, Facts, Sheet, Table, Text, Title
from auditkit.report.safety import MAX_ROWS
from auditkit.report.spill import spill

__all__ = ["CHANGE_VIEW", "compare_sheets"]

#: The columns of the changed-findings table.
CHANGE_VIEW: tuple[Column, ...] = (
    Column("change", "Change", "text", 11),
    Column("severity", "Severity", "text", 10),
    Column("audit", "Audit", "text", 22),
    Column("scope", "Scope", "text", 10),
    Column("provider", "Provider", "text", 18),
    Column("payer", "Payer", "text", 18),
    Column("cpt", "CPT", "text", 9),
    Column("claim_id", "Claim", "text", 16),
    Column("line", "Line", "ordinal", 8),
    Column("before", "Before", "currency", 13),
    Column("after", "After", "currency", 13),
    Column("delta", "Change ($)", "currency", 13),
    Column("dollars_basis", "Dollars are", "text", 16),
    Column("message", "Finding", "text", 90),
    Column("key", "Key", "text", 20, hidden=True),
)
_HEADERS = [c.key for c in CHANGE_VIEW]
#: Indicators that are numbers in both runs, with their change.
_KPI_VIEW: tuple[Column, ...] = (
    Column("name", "Indicator", "text", 28),
    Column("before", "Before", "number", 16),
    Column("after", "After", "number", 16),
    Column("change", "Change", "number", 14),
)
#: The rest (dates, names, what is missing in one run), side by side.
_KPI_TEXT_VIEW: tuple[Column, ...] = (
    Column("name", "Indicator", "text", 28),
    Column("before", "Before", "text", 16),
    Column("after", "After", "text", 16),
)


_KINDS = ("resolved", "new", "persisting")


def _positions(cmp: Comparison) -> pd.DataFrame:
    """One row per finding listed: its kind (index into _KINDS), its position in its run's
    table (before's for resolved ones, after's otherwise) and, for a persisting one, in
    before's."""
    parts = [
        (0, cmp.resolved, np.full(len(cmp.resolved), -1)),
        (1, cmp.new, np.full(len(cmp.new), -1)),
        (2, cmp.persisting_after, cmp.persisting_before),
    ]
    return pd.DataFrame(
        {
            "_kind": np.concatenate([np.full(len(at), k, dtype=np.int8) for k, at, _ in parts]),
            "_at": np.concatenate([np.asarray(at, dtype=np.int64) for _, at, _ in parts]),
            "_before": np.concatenate([np.asarray(b, dtype=np.int64) for _, _, b in parts]),
        }
    )


def _rows(cmp: Comparison, rows: pd.DataFrame) -> pd.DataFrame:
    """The table's columns for ``rows`` of :func:`_positions` (made a slice at a time, as the
    writer writes them: a million findings' text is never held at once)."""
    fields = ["key", "severity", "audit", "scope", "provider", "payer", "cpt", "claim_id", "line"]
    pieces = []
    for kind in range(3):
        part = rows[rows["_kind"].to_numpy() == kind]
        if not len(part):
            continue
        at = part["_at"].to_numpy()
        run = cmp.before if kind == 0 else cmp.after
        found = run.table.iloc[at]
        dollars = found["dollars_at_risk"].to_numpy()
        nothing = np.full(len(part), np.nan)
        if kind == 2:
            before = cmp.before.table["dollars_at_risk"].to_numpy()[part["_before"].to_numpy()]
        else:
            before = dollars if kind == 0 else nothing
        after = nothing if kind == 0 else dollars
        frame = found[[*fields, "dollars_basis"]].reset_index(drop=True).astype(object)
        frame = frame.where(frame.notna(), None)
        frame.insert(0, "change", _KINDS[kind])
        frame["before"] = before
        frame["after"] = after
        frame["delta"] = np.where(np.isnan(before) | np.isnan(after), np.nan, after - before)
        frame["message"] = run.messages(at)
        frame.index = np.flatnonzero(rows["_kind"].to_numpy() == kind)
        pieces.append(frame)
    out = pd.concat(pieces).sort_index().reset_index(drop=True)
    return make_table("compare:findings", CHANGE_VIEW, out, row_look="severity").frame


def _kpi_text(value: object) -> object:
    return "" if value is None else str(value)


def compare_sheets(cmp: Comparison, max_rows: int = MAX_ROWS) -> list[Sheet]:
    """The Comparison sheet(s) for ``cmp``."""
    t = cmp.totals
    intro: list = [Title("Since the last audit"), Text(cmp.sentence)]
    intro.append(
        Text(f"Before: {cmp.before.name}. After: {cmp.after.name}.", tone="note"),
    )
    for note in cmp.notes:
        intro.append(Text(note, tone="warning"))
    intro.append(
        Facts(
            [
                Fact("Resolved findings", t["resolved"]["findings"], "integer"),
                Fact("Resolved, counted dollars", t["resolved"]["dollars"], "currency"),
                Fact("New findings", t["new"]["findings"], "integer"),
                Fact("New, counted dollars", t["new"]["dollars"], "currency"),
                Fact("Persisting findings", t["persisting"]["findings"], "integer"),
                Fact("Persisting, dollars before", t["persisting"]["dollars_before"], "currency"),
                Fact("Persisting, dollars now", t["persisting"]["dollars_after"], "currency"),
            ]
        )
    )
    intro.append(Text(DOLLARS_BASIS[0].upper() + DOLLARS_BASIS[1:] + ".", label="Dollars are"))
    intro.append(Title("Key indicators", level=2))
    kpis = pd.DataFrame(cmp.kpis, columns=["name", "before", "after", "change"])
    numeric = kpis["change"].notna()
    intro.append(make_table("compare:kpis", _KPI_VIEW, kpis[numeric]))
    other = kpis[~numeric].copy()
    for name in ("before", "after"):
        other[name] = other[name].map(_kpi_text).astype(object)
    if len(other):
        intro.append(make_table("compare:other", _KPI_TEXT_VIEW, other))
    intro.append(Title("Findings resolved, new and persisting", level=2))
    listed = _positions(cmp)
    if len(listed):
        table = Table(
            "compare:findings",
            list(CHANGE_VIEW),
            listed,
            row_look="severity",
            fill=lambda rows: _rows(cmp, rows)[[c.key for c in CHANGE_VIEW]],
        )
    else:
        table = make_table("compare:findings", CHANGE_VIEW, pd.DataFrame(columns=_HEADERS))
    sheets, _where = spill("Comparison", "summary", intro, table, max_rows)
    # The findings' header is below the indicators, too far down to freeze the rows above it
    # (continuation sheets start with it and keep it frozen).
    sheets[0].freeze = None
    return sheets
