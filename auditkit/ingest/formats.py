"""The file name endings of the exports auditkit reads.

The readers decide by content, not by name (see :mod:`auditkit.ingest.sniff`): a text export
named ``.xls`` is read as text, a workbook named ``.csv`` as a workbook. Names still matter in
two places: a name that promises a workbook must hold one, and code that picks the exports out
of a folder (batch runs, the Excel macro) needs to know which files to offer. Both use the
constants below, so the list is written once.

All endings are lower case with their dot; compare them with ``path.suffix.lower()``.
"""

from __future__ import annotations

#: Delimited text exports (comma, tab, semicolon or pipe separated).
TEXT_SUFFIXES: tuple[str, ...] = (".csv", ".tsv", ".txt")
#: Workbooks in a zip container (Excel 2007+ workbooks, templates and binary workbooks,
#: OpenDocument spreadsheets): a file named like this that is not a workbook is refused.
WORKBOOK_SUFFIXES: tuple[str, ...] = (".xlsx", ".xlsm", ".xltx", ".xltm", ".xlsb", ".ods")
#: Legacy Excel workbooks (BIFF); several PM systems also write tab-separated text under it.
LEGACY_WORKBOOK_SUFFIXES: tuple[str, ...] = (".xls",)
#: X12 835 remittance (ERA) files, as payers and clearinghouses name them.
X12_SUFFIXES: tuple[str, ...] = (".835", ".edi", ".x12", ".era")

#: Every ending of an export or remittance file the readers accept.
EXPORT_SUFFIXES: tuple[str, ...] = (
    TEXT_SUFFIXES + WORKBOOK_SUFFIXES + LEGACY_WORKBOOK_SUFFIXES + X12_SUFFIXES
)


__all__ = [
    "EXPORT_SUFFIXES",
    "LEGACY_WORKBOOK_SUFFIXES",
    "TEXT_SUFFIXES",
    "WORKBOOK_SUFFIXES",
    "X12_SUFFIXES",
]
