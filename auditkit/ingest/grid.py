"""Claim lines from a grid of cell values: an export pasted into a worksheet, or any 2-D range.

A spreadsheet hands over a range as rows of cell values (text, numbers, dates, ``None`` for
blank cells). :func:`claim_lines_from_grid` reads such a grid exactly as :func:`auditkit.load`
reads a workbook sheet: the header row is found among the top rows and matched through the
synonym table (and a mapping, if given), totals and footers at the end are left out, each
column is typed (numbers, dates or text) and then parsed into the canonical columns of
:mod:`auditkit.claims`, with the same problem reports. :func:`recognised_columns` says which
canonical columns a list of header texts names, without reading any cells.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from auditkit.claims import REQUIRED, conform
from auditkit.errors import InputError
from auditkit.ingest.canonical_frame import build_frame
from auditkit.ingest.footers import trailing_footer
from auditkit.ingest.headers import HEADER_SCAN_ROWS, find_header_row, match_headers, synonyms
from auditkit.ingest.mapping import load_mapping
from auditkit.ingest.model import ClaimLines, FileReport
from auditkit.ingest.normalise import TEXT
from auditkit.ingest.readers import RawTable, header_text, typed_column

#: What ``source_file`` (and every message) calls a grid unless the caller names it.
GRID_SOURCE = "(table)"

Grid = Sequence[Sequence[Any]] | pd.DataFrame


def grid_rows(grid: Grid) -> list[list[Any]]:
    """A 2-D range as a list of rows; a DataFrame's column labels become its header row.

    Raises :class:`InputError` for anything that is not rows of cells (a single value, or one
    column given as a flat list).
    """
    if isinstance(grid, pd.DataFrame):
        header = [str(c) for c in grid.columns]
        return [header, *grid.astype(object).where(grid.notna(), None).values.tolist()]
    if isinstance(grid, list | tuple) and grid and isinstance(grid[0], list | tuple):
        return [list(row) for row in grid]
    raise InputError(
        "the table must be a range of several columns with a header row",
        hint="select the export including its header row",
    )


def claim_lines_from_grid(
    rows: Grid,
    *,
    mapping: str | Path | Mapping[str, Any] | None = None,
    source: str = GRID_SOURCE,
) -> ClaimLines:
    """Canonical claim lines from a grid of cell values that holds an export and its header row.

    ``rows`` is a list (or tuple) of rows, each a list or tuple of cell values as a spreadsheet
    gives them, or a DataFrame whose column labels are the header row. The header row is looked
    for among the top rows (titles above it are skipped), matched by the synonym table and
    ``mapping`` (a TOML path or a dict, as for :func:`auditkit.load`), and the cells below it
    are read as :func:`auditkit.load` reads a workbook sheet. ``source_row`` counts from the
    grid's first row (1); ``source_file`` and the messages name ``source``.

    Raises :class:`InputError` when ``rows`` is not a grid, when it is empty, or when a
    required column (:data:`auditkit.claims.REQUIRED`) has no header; :class:`ConfigError` for
    mapping problems. Example::

        lines = claim_lines_from_grid(
            [["Claim #", "DOS", "CPT", "Provider", "Payer", "Charge"],
             ["C1", "2024-03-01", "64493", "Lee", "Medicare", 812.0]],
            source="Sheet1!A1:F2",
        )
    """
    rows = grid_rows(rows)
    mp = load_mapping(mapping)
    text_grid = [[header_text(c) for c in row] for row in rows[:HEADER_SCAN_ROWS]]
    index = find_header_row(text_grid, mp)
    if index < 0:
        raise InputError("the table is empty", path=source, hint="select the export's cells")
    headers = [header_text(c) for c in rows[index]]
    while headers and not headers[-1]:
        headers.pop()
    match = match_headers(headers, mp, where=f"{source} row {index + 1}")
    missing = [name for name in REQUIRED if name not in match.columns]
    if missing:
        raise InputError(
            f"no column found for required {', '.join(missing)} (header row {index + 1})",
            path=source,
            hint="include those columns, or name their headers in a mapping file",
        )
    width = len(headers)
    body = rows[index + 1 :]
    n_keep, footer_offsets = trailing_footer(body, width)
    body = body[:n_keep]
    first_row = index + 2
    if body:
        columns = list(zip(*[(list(r) + [None] * width)[:width] for r in body], strict=True))
        data = pd.DataFrame({i: typed_column(col) for i, col in enumerate(columns)})
    else:
        data = pd.DataFrame({i: pd.Series([], dtype=TEXT) for i in range(width)})
    raw = RawTable(
        headers,
        data,
        np.arange(first_row, first_row + len(body), dtype="int64"),
        [first_row + off for off in footer_offsets],
    )
    report = FileReport(
        path=source,
        header_row=index + 1,
        mapping=match.as_report(headers),
        unmapped_headers=[headers[p] for p in match.unmapped],
        ignored_headers=[headers[p] for p in match.ignored],
        warnings=list(match.warnings),
    )
    frame = build_frame(raw, match, mp, report)
    report.rows = len(frame)
    return ClaimLines(conform(frame.reset_index(drop=True)), [report])


def recognised_columns(headers: Iterable[object]) -> set[str]:
    """The canonical columns (and auxiliary ones such as ``denial_group``) that ``headers``
    name by the synonym table; headers it does not know are left out.

    ``recognised_columns(["Claim #", "DOS", "Notes"]) == {"claim_id", "date_of_service"}``.
    """
    table = synonyms()
    found = set()
    for header in headers:
        rec = table.recognise(header)
        if rec is not None:
            found.add(rec.name)
    return found


__all__ = ["GRID_SOURCE", "Grid", "claim_lines_from_grid", "grid_rows", "recognised_columns"]
