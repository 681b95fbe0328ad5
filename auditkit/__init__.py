"""auditkit: audits pain-management billing data and writes colour-coded findings to Excel.

Python API::

    import auditkit
    lines = auditkit.load(["export.csv"])            # canonical claim lines
    result = auditkit.run_audits(lines)              # findings, summary KPIs, tables
    result.findings                                  # one row per finding (a DataFrame)
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from auditkit.engine.result import AuditResult
    from auditkit.ingest.model import ClaimLines


def load(paths: Any, mapping: Any = None) -> ClaimLines:
    """Read billing exports into canonical claim lines (see :func:`auditkit.ingest.load`)."""
    from auditkit.ingest import load as _load

    return _load(paths, mapping=mapping)


def run_audits(
    lines: Any, select: Any = None, config: str | Path | dict[str, Any] | None = None
) -> AuditResult:
    """Run the audits over claim lines (see :func:`auditkit.engine.runner.run_audits`)."""
    from auditkit.engine.runner import run_audits as _run

    return _run(lines, select=select, config=config)


__all__ = ["__version__", "load", "run_audits"]
