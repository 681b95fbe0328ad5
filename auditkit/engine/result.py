"""The shape of audit output, shared by the engine, the JSON writer and the workbook writers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from auditkit.engine.findingset import CORE_COLUMNS, FINDING_COLUMNS, FindingSet

__all__ = [
    "COVERS_SEP",
    "DOLLAR_BASES",
    "FINDING_COLUMNS",
    "SCOPES",
    "SEVERITIES",
    "AuditResult",
    "AuditRun",
    "empty_findings",
]

#: Severities from most to least serious.
SEVERITIES: tuple[str, ...] = ("high", "medium", "low", "info")
#: What a finding is about.
SCOPES: tuple[str, ...] = ("line", "claim", "provider", "payer", "code", "practice")

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


@dataclass(init=False, repr=False, eq=False)
class AuditResult:
    """Everything one run of the audits produced.

    * ``found``: the findings as columns (:class:`~auditkit.engine.findingset.FindingSet`),
      what the writers read a slice at a time.
    * ``findings``: the same findings as the classic DataFrame with :data:`FINDING_COLUMNS`
      (one row per finding, ``message`` text, an ``evidence`` dict), built on first use: handy
      for small runs and the Python API, costly for millions of findings.
    * ``summary``: practice-level KPIs (``lines``, ``claims``, ``clean_claim_rate``,
      ``denial_rate``, ...). Rates are fractions 0..1 or ``None`` when not computable.
    * ``audits``: one :class:`AuditRun` per audit considered, in registry order.
    * ``tables``: named supporting tables for charts and sheets, e.g.
      ``clean_claim_rate_by_provider``, ``tpi_mix_by_provider``, ``denial_rate_by_payer``.
    * ``config``: the effective thresholds, ``{audit_id: {key: value}}``.
    * ``timings``: wall-clock seconds of the engine's own steps (``prepare``, ``audits``,
      ``findings``, ``tables``, ``summary``, ``total``), for benchmarks; per audit see
      :attr:`AuditRun.seconds`.
    * ``edit_tables``: the CMS edit tables the run read (PTP edits, MUEs): which files,
      versions and quarters, or the packaged default; one dict each (see
      ``auditkit.reference.ncci.EditTable.about``), with ``description``, the line the About
      sheet shows.
    * ``worklist``: the ranked work list of open money as of the run's as-of date
      (:func:`auditkit.measures.worklist.work_list`'s columns, one row per item), or None when
      it was not made (no status column, or a caller that did not ask for it).
    * ``trends``: the measures month by month of service for the practice, each physician and
      each payer (:func:`auditkit.measures.trends.monthly`'s columns), or None when the data
      has no date of service.
    """

    found: FindingSet
    summary: dict[str, Any]
    audits: list[AuditRun]
    tables: dict[str, pd.DataFrame]
    config: dict[str, dict[str, Any]]
    timings: dict[str, float]
    edit_tables: list[dict[str, Any]]
    worklist: pd.DataFrame | None
    trends: pd.DataFrame | None

    def __init__(
        self,
        findings: pd.DataFrame | None = None,
        summary: dict[str, Any] | None = None,
        audits: list[AuditRun] | None = None,
        tables: dict[str, pd.DataFrame] | None = None,
        config: dict[str, dict[str, Any]] | None = None,
        timings: dict[str, float] | None = None,
        edit_tables: list[dict[str, Any]] | None = None,
        *,
        found: FindingSet | None = None,
        worklist: pd.DataFrame | None = None,
        trends: pd.DataFrame | None = None,
    ) -> None:
        if findings is not None or found is None:  # given findings win (dataclasses.replace)
            found = FindingSet.build([findings] if findings is not None else [])
        self.found = found
        self._frame: pd.DataFrame | None = findings if findings is not None else None
        self.summary = summary if summary is not None else {}
        self.audits = audits if audits is not None else []
        self.tables = tables if tables is not None else {}
        self.config = config if config is not None else {}
        self.timings = timings if timings is not None else {}
        self.edit_tables = edit_tables if edit_tables is not None else []
        self.worklist = worklist
        self.trends = trends

    @property
    def findings(self) -> pd.DataFrame:
        """The classic findings frame (see the class docstring), built once on first use."""
        if self._frame is None:
            self._frame = self.found.frame()
        return self._frame

    @findings.setter
    def findings(self, frame: pd.DataFrame) -> None:
        self.found = FindingSet.build([frame])
        self._frame = frame

    def __repr__(self) -> str:
        ran = sum(a.status == "ran" for a in self.audits)
        return f"AuditResult({len(self.found):,} findings, {ran} audits ran)"


def empty_findings() -> pd.DataFrame:
    """An audit's findings frame with no rows and the right columns (columnar layout)."""
    return pd.DataFrame({c: pd.Series(dtype="object") for c in CORE_COLUMNS})
