"""Workbook exports (.xlsx, .xlsm, .xlsb, .ods, legacy .xls): :class:`WorkbookSource`, read
with python-calamine.

Every worksheet is a candidate (visible sheets first); the chosen sheet is read whole, merged
cells filled with their range's value, and each column typed by :func:`typed_column`.

Workbooks are untrusted: before calamine opens one, :func:`auditkit.ingest.xlsx_guard.
check_workbook` checks every sheet's true extent (a crafted cell far out would make calamine
abort the process), so a bad file is one line of error, never a crash.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from auditkit.errors import InputError
from auditkit.ingest.footers import trailing_footer
from auditkit.ingest.headers import HEADER_SCAN_ROWS
from auditkit.ingest.normalise import TEXT
from auditkit.ingest.readers import Candidate, RawTable, header_text, typed_column
from auditkit.ingest.xlsx_guard import check_workbook


class WorkbookSource:
    """An Excel (or ODS) workbook."""

    encoding = None
    delimiter = None

    def __init__(self, path: Path, display: str) -> None:
        import python_calamine as calamine

        self.path, self.display = path, display
        self._calamine = calamine
        check_workbook(path, display)
        try:
            self.book = calamine.CalamineWorkbook.from_path(str(path))
        except calamine.PasswordError as exc:
            raise InputError(
                "is password-protected (encrypted), so it cannot be read",
                path=display,
                hint="open it in Excel, remove the password, save, and try again",
            ) from exc
        except (calamine.CalamineError, calamine.ZipError, calamine.XmlError, ValueError) as exc:
            raise InputError(
                f"cannot be read as a workbook ({_short(exc)})",
                path=display,
                hint="open it in Excel and save a new copy as .xlsx, or export CSV",
            ) from exc
        self._sheets: dict[str, object] = {}

    def _sheet(self, name: str) -> object:
        if name not in self._sheets:
            try:
                self._sheets[name] = self.book.get_sheet_by_name(name)
            except Exception as exc:  # calamine raises several types for broken sheet XML
                raise InputError(
                    f"sheet {name!r} cannot be read ({_short(exc)})",
                    path=self.display,
                    hint="open the workbook in Excel and save a new copy",
                ) from exc
        return self._sheets[name]

    def sheet_names(self) -> list[str]:
        meta = [
            m for m in self.book.sheets_metadata if m.typ == self._calamine.SheetTypeEnum.WorkSheet
        ]
        visible = [m.name for m in meta if m.visible == self._calamine.SheetVisibleEnum.Visible]
        return visible + [m.name for m in meta if m.name not in visible]

    def candidates(self) -> Iterator[Candidate]:
        for name in self.sheet_names():
            sheet = self._sheet(name)
            rows = sheet.to_python(skip_empty_area=False, nrows=HEADER_SCAN_ROWS)
            yield Candidate(name, [[header_text(c) for c in row] for row in rows])

    def read(self, candidate: Candidate, header_index: int) -> RawTable:
        with _collector_paused():
            return self._read(candidate, header_index)

    def _read(self, candidate: Candidate, header_index: int) -> RawTable:
        sheet = self._sheet(candidate.sheet or "")
        rows = sheet.to_python(skip_empty_area=False)
        _fill_merged(rows, getattr(sheet, "merged_cell_ranges", None))
        headers = [header_text(c) for c in rows[header_index]]
        # trailing header cells that are blank widen nothing
        while headers and not headers[-1]:
            headers.pop()
        width = len(headers)
        body = rows[header_index + 1 :]
        first_row = header_index + 2
        n_keep, footer_offsets = trailing_footer(body, width)
        body = body[:n_keep]
        if body:
            columns = list(zip(*body, strict=False))[:width]
            data = pd.DataFrame({i: typed_column(col) for i, col in enumerate(columns)})
        else:
            data = pd.DataFrame({i: pd.Series([], dtype=TEXT) for i in range(width)})
        data_rows = np.arange(first_row, first_row + len(body), dtype="int64")
        footers = [first_row + off for off in footer_offsets]
        return RawTable(headers, data, data_rows, footers, reader="calamine")


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a sheet's cells are Python objects.

    A 200,000-line sheet is millions of objects; every full collection would walk them all,
    though none of them is part of a reference cycle.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _fill_merged(rows: list[list[object]], ranges: object) -> None:
    """Give every cell of a merged range the range's value, as Excel shows it.

    Reports often merge a claim number or date down the lines of one claim; without this only
    the first line would carry it. Merged ranges are few, so a loop over them is cheap.
    """
    for (top, left), (bottom, right) in ranges or []:
        if top >= len(rows) or left >= len(rows[top]):
            continue
        value = rows[top][left]
        for r in range(top, min(bottom, len(rows) - 1) + 1):
            row = rows[r]
            for c in range(left, min(right, len(row) - 1) + 1):
                row[c] = value


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:120]
