"""The findings frame as the report shows it: ordered, grouped by audit run, ranked by severity.

Shared by the audit sheets, the Claim lines sheet and the Summary's top findings.
"""

from __future__ import annotations

import math

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
    frame["audit"] = frame["audit"].astype("string").fillna("(no audit)")
    order = pd.DataFrame(
        {
            "rank": severity_rank(frame["severity"]),
            "dollars": pd.to_numeric(frame["dollars_at_risk"], errors="coerce").fillna(-math.inf),
        },
        index=frame.index,
    ).sort_values(["rank", "dollars"], ascending=[True, False], kind="stable")
    return frame.loc[order.index]


def audit_runs(result: AuditResult, findings: pd.DataFrame) -> list[AuditRun]:
    """The audits to show: those reported, plus any audit id that has findings but no run."""
    runs = list(result.audits)
    known = {r.id for r in runs}
    if len(findings):
        for audit_id in findings["audit"].dropna().astype(str).unique():
            if audit_id not in known:
                count = int((findings["audit"] == audit_id).sum())
                runs.append(AuditRun(id=audit_id, title=audit_id, status="ran", findings=count))
                known.add(audit_id)
    return runs


def severity_rank(values: pd.Series) -> pd.Series:
    """0 for the most serious severity, counting up; unknown severities rank last."""
    ranks = {sev: i for i, sev in enumerate(SEVERITIES)}
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
