"""The shape of audit output, shared by the engine, the JSON writer and the workbook writers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

#: Severities from most to least serious.
SEVERITIES: tuple[str, ...] = ("high", "medium", "low", "info")
#: What a finding is about.
SCOPES: tuple[str, ...] = ("line", "claim", "provider", "payer", "code", "practice")

#: Columns of ``AuditResult.findings``, in order. ``evidence`` holds a dict (counts, rates,
#: sample claim ids); ``source_file``/``source_row`` point line findings back to the export
#: (None for findings about a provider, payer, code or the practice, or when not known).
#:
#: Money: ``dollars_at_risk`` is an amount of the kind ``dollars_basis`` names (see
#: :data:`DOLLAR_BASES`); ``covers`` lists the claim lines whose money it counts, as
#: ``"CLAIM_ID:LINE"`` keys joined by :data:`COVERS_SEP` (empty for money on no line, like an
#: unbilled month of care management); ``counted`` says whether the amount is in the summary's
#: total. A line's money is counted in at most one finding, and a roll-up whose dollars are its
#: parts' is never counted (see :func:`auditkit.engine.money.settle`).
FINDING_COLUMNS: tuple[str, ...] = (
    "audit",
    "severity",
    "scope",
    "provider",
    "payer",
    "cpt",
    "claim_id",
    "line",
    "dollars_at_risk",
    "dollars_basis",
    "covers",
    "counted",
    "message",
    "why",
    "fix",
    "evidence",
    "source_file",
    "source_row",
)


#: Separator of the line keys in ``covers`` (claim ids may hold commas, rarely a bar).
COVERS_SEP = "|"

#: What a finding's dollars are. Each is one kind of money; a total adds only counted findings.
DOLLAR_BASES: dict[str, str] = {
    "expected payment": "what the payer would pay for the line or lines (fee schedule, else the "
    "practice's mean paid amount for the code at the payer)",
    "paid amount": "what the payer paid on the line, at risk of being taken back on audit",
    "charge": "the line's billed charge, where no expected payment is known",
    "fee difference": "the difference in expected payment between the code billed and the code "
    "the documentation supports",
    "shortfall": "the amount paid or allowed below the contract",
    "unbilled": "the expected payment of services documented but not billed",
    "open balance": "the balance still owed on open lines",
    "rework cost": "the practice's cost of working claims again",
    "none": "no money: a rate, a count or a note",
}


@dataclass
class AuditRun:
    """Whether one audit ran, and if not, why."""

    id: str
    title: str
    status: str  # "ran" or "skipped"
    reason: str | None = None
    findings: int = 0
    #: From the audit's docstring: the revenue effect and how to fix, shown above its sheet.
    why: str = ""
    fix: str = ""
    #: Canonical columns the audit needs that the data lacks (why it was skipped).
    missing_columns: list[str] = field(default_factory=list)
    #: For a skipped audit: what to do so that it runs (export a column, pass a side table).
    hint: str = ""
    #: Wall-clock seconds the audit took (for benchmarks and profiling; not reported). Work
    #: shared between audits is counted in the first audit that needs it.
    seconds: float = 0.0


@dataclass
class AuditResult:
    """Everything one run of the audits produced.

    * ``findings``: DataFrame with :data:`FINDING_COLUMNS`.
    * ``summary``: practice-level KPIs (``lines``, ``claims``, ``clean_claim_rate``,
      ``denial_rate``, ...). Rates are fractions 0..1 or ``None`` when not computable.
    * ``audits``: one :class:`AuditRun` per audit considered, in registry order.
    * ``tables``: named supporting tables for charts and sheets, e.g.
      ``clean_claim_rate_by_provider``, ``tpi_mix_by_provider``, ``denial_rate_by_payer``.
    * ``config``: the effective thresholds, ``{audit_id: {key: value}}``.
    * ``timings``: wall-clock seconds of the engine's own steps (``prepare``, ``audits``,
      ``findings``, ``tables``, ``summary``, ``total``), for benchmarks; per audit see
      :attr:`AuditRun.seconds`.
    """

    findings: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)
    audits: list[AuditRun] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    config: dict[str, dict[str, Any]] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    #: The CMS edit tables the run read (PTP edits, MUEs): which files, versions and quarters,
    #: or the packaged default; one dict each (see ``auditkit.reference.ncci.EditTable.about``),
    #: with ``description``, the line the About sheet shows.
    edit_tables: list[dict[str, Any]] = field(default_factory=list)


def empty_findings() -> pd.DataFrame:
    """A findings frame with no rows and the right columns."""
    return pd.DataFrame({c: pd.Series(dtype="object") for c in FINDING_COLUMNS})
