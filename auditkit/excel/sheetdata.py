"""Fast rows for big tables: SpreadsheetML ``<row>`` XML built a whole column at a time.

openpyxl serialises cell by cell in Python (about 7 microseconds a cell, 20 s for 100,000
claim lines); here every column of a chunk of rows becomes one Arrow string array of ``<c>``
elements and a row is the element-wise join of those arrays, so 100,000 lines take a second or
two. The openpyxl writer writes everything else (titles, the header row, styles, the Excel
table, conditional formats, charts) and :func:`auditkit.excel.package.save_with_rows` splices
these rows into the sheet's ``<sheetData>`` when saving.

Cells follow the same rules as the rest of the workbook: text is always an inline string (never
a formula), text that looks like a formula carries the quote-prefix style so Excel keeps it as
text when edited, and empty values are not written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from openpyxl.utils import get_column_letter

from auditkit.report.safety import arrow_text, edge_bytes, formula_start, utf8_bytes

#: Rows turned into XML at a time (bounds memory: about 50 MB of XML per chunk at most).
CHUNK_ROWS = 20_000
_EXCEL_EPOCH = np.datetime64("1899-12-30", "ns")
_NS_PER_DAY = 86_400 * 10**9


@dataclass(frozen=True)
class CellFormat:
    """How one column's cells are written: its kind and the workbook's style ids for it."""

    kind: str
    style_id: int
    quote_style_id: int | None = None  # text that looks like a formula (text columns only)


@dataclass
class RowBlock:
    """Rows of one table to splice into a worksheet: ``frame`` starts at ``first_row``."""

    frame: pd.DataFrame
    formats: list[CellFormat]
    first_row: int
    first_column: int = 1
    #: Points per row for rows taller than the default (NaN elsewhere), or None.
    heights: np.ndarray | None = None
    #: Makes the written columns of a slice of ``frame`` (a lazy table, see
    #: ``auditkit.report.model.Table.fill``), or None when ``frame`` holds them.
    fill: Callable[[pd.DataFrame], pd.DataFrame] | None = None

    @property
    def last_row(self) -> int:
        return self.first_row + len(self.frame) - 1

    @property
    def last_column(self) -> int:
        return self.first_column + len(self.formats) - 1

    def xml_chunks(self, chunk_rows: int = CHUNK_ROWS) -> Iterator[memoryview]:
        """The ``<row>`` elements, UTF-8 encoded, a chunk at a time.

        Each chunk is a view of the joined Arrow string data (no copy into Python strings or
        bytes): it stays valid after the next chunk is made, so a writer may hold on to it.
        """
        for start in range(0, len(self.frame), chunk_rows):
            # One expression: no reference to this chunk's arrays is left while the next one
            # is made.
            yield _joined(self._chunk_xml(start, chunk_rows))

    def _chunk_xml(self, start: int, chunk_rows: int) -> pa.StringArray:
        """The ``<row>`` elements of rows ``start`` to ``start + chunk_rows``, one a row."""
        part = self.frame.iloc[start : start + chunk_rows]
        if self.fill is not None:
            part = self.fill(part)
        numbers = np.arange(self.first_row + start, self.first_row + start + len(part))
        rows = pc.cast(pa.array(numbers), pa.string())
        cells = [
            _cells(part.iloc[:, j], fmt, get_column_letter(self.first_column + j), rows)
            for j, fmt in enumerate(self.formats)
        ]
        height = self._height_attributes(start, len(part))
        return pc.binary_join_element_wise('<row r="', rows, '"', height, ">", *cells, "</row>", "")

    def _height_attributes(self, start: int, n: int) -> pa.Array | str:
        if self.heights is None:
            return ""
        heights = self.heights[start : start + n]
        tall = ~np.isnan(heights)
        text = np.char.mod(' ht="%.1f" customHeight="1"', np.where(tall, heights, 0.0))
        return pa.array(np.where(tall, text, ""))


def _cells(values: pd.Series, fmt: CellFormat, letter: str, rows: pa.Array) -> pa.Array:
    """One ``<c>`` element per row ('' where the value is missing)."""
    style = f' s="{fmt.style_id}"' if fmt.style_id else ""
    kind = fmt.kind
    if kind == "text":
        text = pc.cast(arrow_text(values), pa.string())
        present, first, last = edge_bytes(text)
        escaped = text
        data, offsets = utf8_bytes(text)
        used = data[offsets[0] : offsets[-1]]
        for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("\r", "&#13;")):
            if (used == ord(char)).any():  # most chunks have few of these characters, if any
                escaped = pc.replace_substring(escaped, char, entity)
        if fmt.quote_style_id is not None:
            quoted = present & formula_start(first)  # on the text itself, before escaping
            style_attr = pc.if_else(quoted, f' s="{fmt.quote_style_id}"', style)
        else:
            style_attr = style
        # xml:space="preserve" only where leading or trailing spaces must survive (escaping
        # changes no other first or last character into or out of a space).
        spaced = np.isin(first, _SPACE_BYTES) | np.isin(last, _SPACE_BYTES)
        t_open = pc.if_else(present & spaced, '<t xml:space="preserve">', "<t>")
        body = (' t="inlineStr"><is>', t_open, escaped, "</t></is></c>")
        return _join(letter, rows, style_attr, body, present)
    if kind == "bool":
        flags = values.astype("boolean")
        present = flags.notna().to_numpy(dtype=bool)
        digits = np.where(flags.fillna(False).to_numpy(dtype=bool), "1", "0")
        return _join(letter, rows, style, (' t="b"><v>', pa.array(digits), "</v></c>"), present)
    if kind in ("date", "datetime"):
        stamps = pd.to_datetime(values).to_numpy(dtype="datetime64[ns]")
        present = ~np.isnat(stamps)
        days = (stamps - _EXCEL_EPOCH).astype("int64") / _NS_PER_DAY
        numbers = np.where(present, days, 0.0)
    else:
        numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        present = np.isfinite(numbers)
        numbers = np.where(present, numbers, 0.0)
    text = pc.cast(pa.array(numbers), pa.string())
    return _join(letter, rows, style, ("><v>", text, "</v></c>"), present)


#: The characters of the regular expression class ``\s`` (RE2: tab, newline, form feed,
#: carriage return, space) but the carriage return, which is written as ``&#13;``: a value
#: starting or ending with one of these needs ``xml:space="preserve"`` to keep it.
_SPACE_BYTES = np.array([ord(c) for c in "\t\n\f "], dtype=np.uint8)


def _joined(xml: pa.StringArray) -> memoryview:
    """All values of a string array (without nulls) one after another, as a view of its data."""
    offsets = np.frombuffer(xml.buffers()[1], dtype=np.int32)
    first, last = offsets[xml.offset], offsets[xml.offset + len(xml)]
    data = xml.buffers()[2]
    return memoryview(data)[first:last] if data is not None else memoryview(b"")


def _join(letter: str, rows: pa.Array, style, body: tuple, present: np.ndarray) -> pa.Array:
    cell = pc.binary_join_element_wise('<c r="', letter, rows, '"', style, *body, "")
    if not present.all():
        cell = pc.if_else(pa.array(present), cell, "")
    return pc.fill_null(cell, "")
