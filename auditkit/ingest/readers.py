"""What every reader gives the loader, and the cell helpers the readers share.

A reader first offers *candidates* (the top rows of the file, or of each worksheet) so the
loader can find the header row, then reads the body below the chosen header into a
:class:`RawTable`: one column per header position, cells as text (categorical or ``string``,
missing for blank) or, for workbooks, as numbers or dates where a column holds only those.

The readers themselves:

* :class:`~auditkit.ingest.text_reader.TextSource` - delimited text (CSV, TSV, TXT) in any of
  the encodings :mod:`auditkit.ingest.text_encoding` detects, its body parsed by
  :mod:`auditkit.ingest.text_body` (pyarrow's CSV reader, or Python's csv module for
  irregular files);
* :class:`~auditkit.ingest.workbook_reader.WorkbookSource` - workbooks (.xlsx, .xlsm, .xlsb,
  .ods, legacy .xls), read with python-calamine.

:class:`RawTable`, :func:`header_text` and :func:`typed_column` are also what
:mod:`auditkit.ingest.grid` uses to read a grid of cell values handed over by a spreadsheet.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import pandas as pd

from auditkit.ingest.model import RowProblem
from auditkit.ingest.normalise import TEXT, as_text, blank_to_na


@dataclass
class Candidate:
    """The top rows of a file or worksheet, as text, for header detection."""

    sheet: str | None
    grid: list[list[str]]


@dataclass
class RawTable:
    """The export's cells below the header row.

    Text cells are trimmed, blank ones missing; a column of text is either ``string`` or
    categorical with ``string`` categories (what the CSV reader gives).
    """

    headers: list[str]
    data: pd.DataFrame  # columns are header positions 0..n-1
    rows: np.ndarray  # 1-based row number of each data row, as a spreadsheet shows it
    footer_rows: list[int] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: what parsed the body: "pyarrow", "python-csv" (irregular text), "calamine" or "grid"
    reader: str = "grid"


class Source(Protocol):
    """What the loader needs from a reader."""

    encoding: str | None
    delimiter: str | None

    def candidates(self) -> Iterator[Candidate]: ...

    def read(self, candidate: Candidate, header_index: int) -> RawTable: ...


def header_text(value: object) -> str:
    """A header cell as one line of text."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return re.sub(r"\s+", " ", str(value)).strip()


def clean_text_column(values: pd.Series) -> pd.Series:
    """Text cells trimmed, blank ones missing, as ``string``."""
    return blank_to_na(values.astype(TEXT))


def typed_column(cells: Sequence[object]) -> pd.Series:
    """One workbook column: ``float64`` if all numbers, ``datetime64`` if all dates, else text."""
    array = np.array(cells, dtype=object)
    if not len(array):
        return pd.Series([], dtype=TEXT)
    array[array == ""] = None
    kind = pd.api.types.infer_dtype(array, skipna=True)
    series = pd.Series(array, dtype=object)
    if kind in ("floating", "integer", "mixed-integer-float", "decimal"):
        return series.astype("float64")
    if kind in ("datetime", "date", "datetime64"):
        try:
            return pd.to_datetime(series).astype("datetime64[ns]")
        except (ValueError, TypeError, OverflowError, pd.errors.OutOfBoundsDatetime):
            return as_text(series)
    if kind == "string":
        return clean_text_column(series)
    if kind == "empty":
        return pd.Series(pd.NA, index=series.index, dtype=TEXT)
    return as_text(series)


def code_dtype(size: int) -> np.dtype:
    """The integer type pandas gives the codes of a categorical with ``size`` categories."""
    for dtype in (np.int8, np.int16, np.int32):
        if size < np.iinfo(dtype).max:
            return np.dtype(dtype)
    return np.dtype(np.int64)


__all__ = [
    "Candidate",
    "RawTable",
    "Source",
    "clean_text_column",
    "code_dtype",
    "header_text",
    "typed_column",
]
