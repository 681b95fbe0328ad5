"""Reading PM-system exports (CSV, Excel, X12 835) into the canonical claim-line table.

* :func:`load` - files in, :class:`ClaimLines` out (the table plus a report per file).
* :func:`inspect` - header detection only, for ``auditkit columns``.
* :func:`closest_headers` - near-miss headers for a missing column.
"""

from __future__ import annotations

from auditkit.ingest.headers import closest_headers
from auditkit.ingest.loader import inspect, load
from auditkit.ingest.model import ClaimLines, FileReport, RowProblem

__all__ = ["ClaimLines", "FileReport", "RowProblem", "closest_headers", "inspect", "load"]
