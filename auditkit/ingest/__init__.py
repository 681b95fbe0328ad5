"""Reading PM-system exports (CSV, Excel, X12 835) into the canonical claim-line table.

* :func:`load` - files in, :class:`ClaimLines` out (the table plus a report per file).
* :func:`claim_lines_from_grid` - the same from a grid of cell values (a pasted range).
* :func:`inspect` - header detection only, for ``auditkit columns``.
* :func:`closest_headers` - near-miss headers for a missing column.
* :func:`recognised_columns` - the canonical columns a list of headers names.
* :data:`EXPORT_SUFFIXES` - the file name endings of the exports the readers accept.
"""

from __future__ import annotations

from auditkit.ingest.formats import EXPORT_SUFFIXES
from auditkit.ingest.grid import claim_lines_from_grid, recognised_columns
from auditkit.ingest.headers import closest_headers
from auditkit.ingest.loader import inspect, load
from auditkit.ingest.model import ClaimLines, FileReport, RowProblem

__all__ = [
    "EXPORT_SUFFIXES",
    "ClaimLines",
    "FileReport",
    "RowProblem",
    "claim_lines_from_grid",
    "closest_headers",
    "inspect",
    "load",
    "recognised_columns",
]
