"""Where each block of a sheet goes: rows, column widths, row heights and link targets.

Blocks flow down from row 1 with one blank row between them, all starting in column A. Both
workbook writers use these functions, so a link computed here points at the same cell whichever
writer rendered the sheet, and the layout is the same in both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from auditkit.report.model import Block, Facts, Figure, Link, Report, Sheet, Table, Text, Title

#: Blank rows between two blocks.
BLOCK_GAP = 1
#: Narrowest and widest column, in characters.
MIN_WIDTH, MAX_WIDTH = 6.0, 80.0
#: Text wider than this many columns is not merged further (keeps paragraphs readable).
MIN_TEXT_COLUMNS = 6
#: Widest a wrapping column gets, in characters (its text wraps instead).
MAX_WRAP_WIDTH = 60.0
#: Height of one line of 11-point text, in points.
LINE_POINTS = 15.0
#: Tallest row Excel allows, in points.
MAX_ROW_POINTS = 409.0


@dataclass(frozen=True)
class Placement:
    """A block and the rows it occupies (1-based top row)."""

    block: Block
    row: int
    height: int


def block_height(block: Block) -> int:
    """Rows a block occupies."""
    if isinstance(block, Title | Text):
        return 1
    if isinstance(block, Facts):
        return len(block.rows) + (1 if block.headers else 0)
    if isinstance(block, Table):
        return 1 + len(block)
    if isinstance(block, Figure):
        return block.height
    raise TypeError(f"unknown block {type(block).__name__}")


def place(sheet: Sheet) -> list[Placement]:
    """The blocks of a sheet with their top rows."""
    placements, row = [], 1
    for block in sheet.blocks:
        height = block_height(block)
        placements.append(Placement(block, row, height))
        row += height + BLOCK_GAP
    return placements


def rows_before(blocks: list[Block]) -> int:
    """The row the next block would start on after ``blocks``."""
    return sum(block_height(b) + BLOCK_GAP for b in blocks) + 1


def table_header_row(sheet: Sheet, key: str) -> int:
    """The row of a table's header in a sheet (KeyError when the sheet has no such table)."""
    for placement in place(sheet):
        block = placement.block
        if isinstance(block, Figure) and block.table.key == key:
            return placement.row + block.table_offset
        if isinstance(block, Table) and block.key == key:
            return placement.row
    raise KeyError(key)


def resolve(report: Report, link: Link) -> tuple[str, int]:
    """Sheet name (as in the model) and row a link points at (first column of the row)."""
    sheet, _table = report.find_table(link.table)
    return sheet.name, table_header_row(sheet, link.table) + 1 + link.row


def text_columns(sheet: Sheet) -> int:
    """How many columns a paragraph spans: the widest table or grid, at least a few."""
    widest = MIN_TEXT_COLUMNS
    for block in sheet.blocks:
        if isinstance(block, Table):
            widest = max(widest, len(block.columns))
        elif isinstance(block, Figure):
            widest = max(widest, len(block.table.columns))
        elif isinstance(block, Facts):
            widest = max(widest, block.columns)
    return widest


def estimate_width(values: pd.Series, kind: str, header: str) -> float:
    """Characters needed to show a column: header (plus its filter button) or typical content."""
    need = len(header) + 4
    present = values.dropna()
    if len(present):
        if kind in ("currency", "currency0", "number", "integer", "days"):
            biggest = float(pd.to_numeric(present, errors="coerce").abs().max())
            if math.isfinite(biggest):
                decimals = 0 if kind in ("integer", "currency0") else 2
                need = max(need, len(f"{biggest:,.{decimals}f}") + 4)
        elif kind == "percent":
            need = max(need, 8)
        elif kind == "date":
            need = max(need, 12)
        elif kind == "datetime":
            need = max(need, 17)
        elif kind == "bool":
            need = max(need, 7)
        else:
            lengths = present.astype("string").str.len()
            # Size for typical text; the longest values are read in the cell or formula bar.
            typical = lengths.max() if len(lengths) <= 20 else lengths.quantile(0.95)
            need = max(need, float(typical) + 2)
    return float(min(max(need, MIN_WIDTH), MAX_WIDTH))


def column_widths(sheet: Sheet) -> dict[int, float]:
    """1-based column -> width in characters: the widest need of any block in that column."""
    widths: dict[int, float] = {}

    def want(col: int, width: float) -> None:
        widths[col] = max(widths.get(col, MIN_WIDTH), min(max(width, MIN_WIDTH), MAX_WIDTH))

    for block in sheet.blocks:
        tables = [block] if isinstance(block, Table) else []
        if isinstance(block, Figure):
            tables = [block.table]
        for table in tables:
            for idx, col in enumerate(table.columns, start=1):
                values = table.values(col.key)
                if col.width is None and values is None:
                    raise ValueError(f"table {table.key}: column {col.key} needs a width")
                width = col.width or estimate_width(values, col.kind, col.header)
                want(idx, min(width, MAX_WRAP_WIDTH) if col.wrap else width)
        if isinstance(block, Facts):
            want(1, max((len(f.label) for f in block.rows), default=0) + 2)
            values = [f.value for f in block.rows if isinstance(f.value, str)]
            # Long values overflow into the empty cells on their right; keep column B modest.
            want(2, min(max((len(v) for v in values), default=12) + 2, 18))
            if block.columns >= 3:
                want(3, max(len(block.headers[2]), 15) + 2)
            # The benchmark (column D) runs on into the empty cells to its right.
    return widths


def row_heights(table: Table, widths: dict[int, float]) -> np.ndarray | None:
    """Points each data row needs for its wrapping columns (NaN: the default height).

    None when the table has no wrapping column. Whole columns at a time: fine for 100,000 rows.
    """
    lines = None
    if table.fill is not None:
        return None  # a long table's rows keep the default height
    for idx, col in enumerate(table.columns, start=1):
        if not col.wrap:
            continue
        text = table.frame[col.key].astype("string").fillna("")
        per_line = max(widths.get(idx, 8.43) * 1.1, 10.0)
        needed = np.ceil(text.str.len().to_numpy(dtype=float) / per_line)
        needed = np.maximum(needed, 1) + text.str.count("\n").to_numpy(dtype=float)
        lines = needed if lines is None else np.maximum(lines, needed)
    if lines is None:
        return None
    heights = np.minimum(LINE_POINTS * lines + 3.0, MAX_ROW_POINTS)
    return np.where(lines > 1, heights, np.nan)


def text_height(text: str, width_chars: float) -> float:
    """Points needed to show wrapped text in a cell ``width_chars`` wide."""
    per_line = max(width_chars * 1.1, 10.0)  # average glyph is narrower than Excel's '0'
    lines = sum(max(1, math.ceil(len(part) / per_line)) for part in text.split("\n"))
    return LINE_POINTS * max(lines, 1) + 3.0


def text_width(sheet: Sheet, widths: dict[int, float] | None = None) -> float:
    """Total characters across the columns a paragraph spans."""
    widths = widths if widths is not None else column_widths(sheet)
    return sum(widths.get(col, 8.43) for col in range(1, text_columns(sheet) + 1))


def unique_headers(headers: list[str]) -> list[str]:
    """Table headers made unique (Excel refuses a table with two equal headers)."""
    seen: dict[str, int] = {}
    out = []
    for header in headers:
        text = str(header) or "Column"
        count = seen.get(text.casefold(), 0)
        seen[text.casefold()] = count + 1
        out.append(text if count == 0 else f"{text} ({count + 1})")
    return out
