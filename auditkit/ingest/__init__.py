"""Reading PM-system exports (CSV, Excel, X12 835) into the canonical claim-line table.

* :func:`load` - files in, :class:`ClaimLines` out (the table plus a report per file).
* :func:`claim_lines_from_grid` - the same from a grid of cell values (a pasted range).
* :func:`inspect` - header detection only, for ``auditkit columns``.
* :func:`closest_headers` - near-miss headers for a missing column.
* :func:`recognised_columns` - the canonical columns a list of headers names.
* :data:`EXPORT_SUFFIXES` - the file name endings of the exports the readers accept.

What other packages may import from ingest (its public surface):

* this package, with the names above (and :class:`FileReport`, :class:`RowProblem`);
* :mod:`auditkit.ingest.model` - :class:`ClaimLines`, :class:`FileReport`,
  :class:`RowProblem`: what the readers return;
* :mod:`auditkit.ingest.formats` - the file name endings of each kind of export;
* :mod:`auditkit.ingest.side_tables` - :func:`~auditkit.ingest.side_tables.read_authorizations`,
  :func:`~auditkit.ingest.side_tables.read_fee_schedule`, their specifications
  (``AUTHORIZATIONS``, ``FEE_SCHEDULE``, ``SPECS`` by kind), ``SideTable``,
  ``as_side_table`` and ``redact``;
* :mod:`auditkit.ingest.x12` - the 835 reader and :func:`~auditkit.ingest.x12.join_remits`
  (remittances joined to an export), with the names in its ``__all__``;
* :mod:`auditkit.ingest.normalise` - the value parsers (codes and modifiers, money, numbers,
  dates, statuses, yes/no words ...) that the spreadsheet functions reuse to read cells the way
  :func:`load` reads them.

Every other module here (the sniffing, the readers, header matching, footers, the canonical
frame builder, the 835 tokenizer, parser and joiner behind :mod:`auditkit.ingest.x12`) is
internal: its names may change without notice.
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
