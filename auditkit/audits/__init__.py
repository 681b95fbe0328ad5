"""The audit engine: one registry of audits, run over canonical claim lines.

Public entry points: :func:`run_audits`, the registry (:func:`all_audits`, :func:`get`,
:func:`docs`) and the result shapes in :mod:`auditkit.audits.result`.
"""

from auditkit.audits.engine import run_audits
from auditkit.audits.registry import all_audits, docs, get, ids
from auditkit.audits.result import FINDING_COLUMNS, SCOPES, SEVERITIES, AuditResult, AuditRun

__all__ = [
    "FINDING_COLUMNS",
    "SCOPES",
    "SEVERITIES",
    "AuditResult",
    "AuditRun",
    "all_audits",
    "docs",
    "get",
    "ids",
    "run_audits",
]
