"""Key indicators shown on the Summary, each with its benchmark and traffic-light thresholds.

Adding an indicator is one line in :data:`KPIS`: the Summary shows every declared indicator
whose key is in ``AuditResult.summary`` (a key present with ``None`` shows "Not available").
Indicators with a published benchmark take it, with its thresholds, from
:data:`auditkit.measures.kpis.BENCHMARKS` (the packaged ``kpi_benchmarks.csv``), so the workbook
and the JSON summary's ``benchmarks`` cannot disagree (definitions and sources: docs/kpis.md).
The others are declared here; thresholds marked "practice convention" are defaults a consultant
may change here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from auditkit.measures.kpis import BENCHMARKS

_MISSING = object()


@dataclass(frozen=True)
class Kpi:
    """One indicator: where its value is, how to show it and how to judge it.

    ``good`` and ``fair`` are thresholds: a value at or better than ``good`` is good, at or
    better than ``fair`` is fair, anything worse is poor. "Better" means higher when
    ``higher_is_better``, else lower. Without ``good`` the indicator is for information only.
    """

    key: str  # key in AuditResult.summary; dots reach into nested dicts
    label: str
    kind: str  # number format kind (auditkit.report.style.NUMBER_FORMATS)
    benchmark: str
    good: float | None = None
    fair: float | None = None
    higher_is_better: bool = True
    #: Summary key whose value, when present, replaces ``good`` (a configured target).
    target_key: str | None = None
    #: Judge value / summary[ratio_of] instead of the value (e.g. dollars as a share of charges).
    ratio_of: str | None = None

    def value(self, summary: dict[str, Any]) -> Any:
        """The indicator's value in ``summary``; ``_MISSING`` when the key is absent."""
        current: Any = summary
        for part in self.key.split("."):
            if not isinstance(current, dict) or part not in current:
                return _MISSING
            current = current[part]
        return current

    def status(self, summary: dict[str, Any]) -> str:
        """'good', 'fair', 'poor', 'neutral' (no thresholds) or 'unknown' (no value)."""
        value = _number(self.value(summary))
        if value is None:
            return "unknown"
        if self.good is None:
            return "neutral"
        if self.ratio_of is not None:
            base = _number(summary.get(self.ratio_of))
            if not base:
                return "neutral"
            value = value / base
        good = self.good
        if self.target_key is not None:
            target = _number(summary.get(self.target_key))
            good = target if target is not None else good
        fair = self.fair if self.fair is not None else good
        sign = 1.0 if self.higher_is_better else -1.0
        if sign * value >= sign * good:
            return "good"
        if sign * value >= sign * fair:
            return "fair"
        return "poor"

    def benchmark_text(self, summary: dict[str, Any]) -> str:
        """The benchmark, with a configured target when there is one."""
        if self.target_key is not None:
            target = _number(summary.get(self.target_key))
            if target is not None and target != self.good:
                return f"target {target:.0%} (configured); {self.benchmark}"
        return self.benchmark


def _number(value: Any) -> float | None:
    if value is _MISSING or value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


INF = math.inf


def _benchmarked(key: str, label: str, kind: str, **extra: Any) -> Kpi:
    """A KPI whose benchmark and thresholds come from :data:`auditkit.measures.kpis.BENCHMARKS`
    (the same values the JSON summary carries under ``benchmarks``)."""
    b = BENCHMARKS[key]
    return Kpi(
        key,
        label,
        kind,
        b.text,
        good=b.good,
        fair=b.fair,
        higher_is_better=b.higher_is_better,
        **extra,
    )


#: The indicators, in the order the Summary shows them.
KPIS: tuple[Kpi, ...] = (
    _benchmarked("clean_claim_rate", "Clean-claim rate", "percent", target_key="clean_claim_target"),
    _benchmarked("denial_rate", "Denial rate (lines)", "percent"),
    _benchmarked("denial_rate_dollars", "Denial rate (dollars)", "percent"),
    Kpi("denied_dollars", "Denied dollars", "currency0", "see denial rate (dollars)"),
    Kpi("findings_by_severity.high", "High-severity findings", "integer", "none", good=0, fair=0, higher_is_better=False),
    Kpi("findings_by_severity.medium", "Medium-severity findings", "integer", "none (practice convention)", good=0, fair=INF, higher_is_better=False),
    Kpi("findings_by_severity.low", "Low-severity findings", "integer", "for review"),
    Kpi("findings_by_severity.info", "Information findings", "integer", "for review"),
    Kpi("dollars_at_risk", "Total dollars at risk", "currency0", "under 1% of charges (practice convention)", good=0.01, fair=0.03, higher_is_better=False, ratio_of="charges"),
    Kpi("tpi_20553_share", "20553 share of trigger-point lines", "percent", "no fixed benchmark: compare physicians (tpi-ratio)"),
    _benchmarked("days_in_ar", "Days in A/R", "days"),
    _benchmarked("ar_over_90_share", "A/R over 90 days", "percent"),
    _benchmarked("net_collection_rate", "Net collection rate", "percent"),
    _benchmarked("median_days_to_pay", "Median days to pay", "days"),
)  # fmt: skip


def kpi_value(kpi: Kpi, summary: dict[str, Any]) -> Any:
    """The value to show (None when the key is present but not computable)."""
    value = kpi.value(summary)
    return None if value is _MISSING else value


def present(summary: dict[str, Any], kpis: tuple[Kpi, ...] | None = None) -> list[Kpi]:
    """The declared indicators (:data:`KPIS` by default) whose key is in ``summary``."""
    return [k for k in (KPIS if kpis is None else kpis) if k.value(summary) is not _MISSING]
