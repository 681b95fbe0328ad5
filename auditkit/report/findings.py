"""The findings frame as the report shows it: ordered, grouped by audit run, ranked by severity.

Shared by the audit sheets, the Claim lines sheet and the Summary's top findings.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from auditkit.engine.result import SEVERITIES, AuditResult, AuditRun
from auditkit.report.safety import as_text


def ordered_findings(findings: pd.DataFrame) -> pd.DataFrame:
    """Findings by audit, most serious first, then by dollars at risk (index kept)."""
    if findings is None or not len(findings):
        return pd.DataFrame(columns=["audit", "severity", "dollars_at_risk", "message"])
    frame = findings.reset_index(drop=True)
    for col in ("audit", "severity", "message", "dollars_at_risk"):
        if col not in frame.columns:
            frame[col] = None
    audit = frame["audit"]
    if not isinstance(audit.dtype, pd.CategoricalDtype) or audit.isna().any():
        frame["audit"] = audit.astype("string").fillna("(no audit)")
    rank = severity_rank(frame["severity"]).to_numpy()
    dollars = pd.to_numeric(frame["dollars_at_risk"], errors="coerce").fillna(-math.inf)
    # A stable sort on rank, then dollars (largest first): lexsort's last key is the primary.
    order = np.lexsort([-dollars.to_numpy(dtype="float64"), rank])
    if (order[1:] > order[:-1]).all():  # already in order (a run's findings are): no copy
        return frame
    return frame.take(order)


def audit_runs(result: AuditResult, findings: pd.DataFrame) -> list[AuditRun]:
    """The audits to show: those reported, plus any audit id that has findings but no run."""
    runs = list(result.audits)
    known = {r.id for r in runs}
    if len(findings):
        # Each audit id once with its count (the distinct values only, no text per finding).
        counts = findings["audit"].value_counts(sort=False, dropna=True)
        for audit_id, count in counts.items():
            audit_id = str(audit_id)
            if count and audit_id not in known:
                runs.append(
                    AuditRun(id=audit_id, title=audit_id, status="ran", findings=int(count))
                )
                known.add(audit_id)
    return runs


def severity_rank(values: pd.Series) -> pd.Series:
    """0 for the most serious severity, counting up; unknown severities rank last."""
    ranks = {sev: i for i, sev in enumerate(SEVERITIES)}
    if isinstance(values.dtype, pd.CategoricalDtype):  # the distinct values only
        table = [ranks.get(str(c).lower(), len(SEVERITIES)) for c in values.cat.categories]
        codes = values.cat.codes.to_numpy()
        ranked = np.asarray([*table, len(SEVERITIES)], dtype=np.int64)[codes]  # -1: missing
        return pd.Series(ranked, index=values.index)
    return as_text(values).str.lower().map(ranks).fillna(len(SEVERITIES)).astype(int)


def counted_mask(found: pd.DataFrame) -> pd.Series:
    """Per finding: are its dollars in the summary's total? (True where a result predates the
    ``counted`` column, whose totals added every finding.)"""
    if "counted" not in found.columns:
        return pd.Series(True, index=found.index)
    return found["counted"].fillna(False).astype(bool)


def in_total_text(found: pd.DataFrame) -> pd.Series:
    """ "yes" / "no" per finding with dollars (blank without): whether its dollars are in the
    total, where each claim line's money is counted once."""
    dollars = pd.to_numeric(found["dollars_at_risk"], errors="coerce").fillna(0.0)
    text = pd.Series("no", index=found.index, dtype=object).where(~counted_mask(found), "yes")
    return text.where(dollars != 0, None)
