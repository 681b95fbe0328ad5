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
    "message",
    "why",
    "fix",
    "evidence",
    "source_file",
    "source_row",
)


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


def empty_findings() -> pd.DataFrame:
    """A findings frame with no rows and the right columns."""
    return pd.DataFrame({c: pd.Series(dtype="object") for c in FINDING_COLUMNS})
