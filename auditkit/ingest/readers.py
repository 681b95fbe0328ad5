"""Readers: delimited text and workbooks to a raw table of export cells.

A reader first offers *candidates* (the top rows of the file, or of each worksheet) so the
loader can find the header row, then reads the body below the chosen header into a
:class:`RawTable`: one column per header position, cells as text (``string`` dtype, ``<NA>`` for
blank) or, for workbooks, as numbers or dates where a column holds only those.

Text files: the encoding is detected (UTF-8 with or without BOM, UTF-16 LE/BE - with BOM or
without, as Excel's "Unicode text" writes -, else Windows-1252), the delimiter is sniffed from
the top rows, and the body is parsed by pyarrow's multi-threaded CSV reader (the engine behind
``pandas.read_csv(engine="pyarrow")``; used directly to pass explicit column names and keep every
column as text). Files pyarrow cannot take (rows with a different number of fields, blank lines
inside the data) fall back to Python's csv module, which keeps exact row numbers.

Workbooks (.xlsx, .xlsm, .xlsb, .ods, legacy .xls) are read with python-calamine.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from auditkit.errors import InputError
from auditkit.ingest.footers import trailing_footer
from auditkit.ingest.headers import HEADER_SCAN_ROWS
from auditkit.ingest.model import RowProblem
from auditkit.ingest.normalise import TEXT, as_text, blank_to_na
from auditkit.ingest.sniff import utf16_byte_order

#: Bytes read from the top of a text file to find the delimiter and header row.
HEAD_BYTES = 256 * 1024
#: Bytes read from the end of a text file to find footer rows.
TAIL_BYTES = 64 * 1024
DELIMITERS = (",", "\t", ";", "|")


@dataclass
class Candidate:
    """The top rows of a file or worksheet, as text, for header detection."""

    sheet: str | None
    grid: list[list[str]]


@dataclass
class RawTable:
    """The export's cells below the header row."""

    headers: list[str]
    data: pd.DataFrame  # columns are header positions 0..n-1
    rows: np.ndarray  # 1-based row number of each data row, as a spreadsheet shows it
    footer_rows: list[int] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


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


def _clean_text_column(values: pd.Series) -> pd.Series:
    return blank_to_na(values.astype(TEXT))


# --------------------------------------------------------------------------------------------
# text


_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


def decode(raw: bytes, display: str, warnings: list[str] | None = None) -> tuple[bytes, str]:
    """``raw`` as UTF-8 bytes (BOM removed) and the encoding it was in.

    A UTF-8 file with a few stray bytes (an edit made in another program) is read as UTF-8 with
    those bytes replaced by U+FFFD, and a warning names the first row; reading the whole file as
    Windows-1252 would garble every accented name instead.
    """
    if raw.startswith(b"\xef\xbb\xbf"):
        encoding, body = "utf-8-sig", raw[3:]
    elif raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16-le" if raw.startswith(b"\xff\xfe") else "utf-16-be"
        body = _transcode(raw[2:], encoding, display)
    elif (order := utf16_byte_order(raw[:4096])) is not None:
        encoding, body = order, _transcode(raw, order, display)
    elif raw.isascii():
        encoding, body = "utf-8", raw
    else:
        try:
            raw.decode("utf-8")
            encoding, body = "utf-8", raw
        except UnicodeDecodeError as utf8_error:
            mixed = raw.decode("utf-8", errors="replace")
            stray = mixed.count("\ufffd")
            if len(_UTF8_MULTIBYTE.findall(raw)) > stray:
                line = raw.count(b"\n", 0, utf8_error.start) + 1
                if warnings is not None:
                    warnings.append(
                        f"{stray:,} bytes are not valid UTF-8 (first on row {line}); they were "
                        "read as \ufffd"
                    )
                return _mac_line_ends(mixed.encode("utf-8")), "utf-8"
            try:
                body = raw.decode("cp1252").encode("utf-8")
                encoding = "cp1252"
            except UnicodeDecodeError:
                line = raw.count(b"\n", 0, utf8_error.start) + 1
                raise InputError(
                    f"cannot be decoded as text: byte 0x{raw[utf8_error.start]:02X} at position "
                    f"{utf8_error.start:,} is neither UTF-8 nor Windows-1252",
                    path=display,
                    row=line,
                    hint="export it again as CSV (UTF-8), or open it in Excel and save as "
                    "'CSV UTF-8'",
                ) from None
    return _mac_line_ends(body), encoding


def _mac_line_ends(body: bytes) -> bytes:
    if b"\n" not in body and b"\r" in body:  # classic Mac line ends
        return body.replace(b"\r", b"\n")
    return body


def _transcode(raw: bytes, encoding: str, display: str) -> bytes:
    try:
        return raw.decode(encoding).encode("utf-8")
    except UnicodeDecodeError as exc:
        text_before = raw[: exc.start].decode(encoding, errors="replace")
        raise InputError(
            f"cannot be decoded as {encoding.upper()} text (bad bytes at position {exc.start:,})",
            path=display,
            row=text_before.count("\n") + 1,
            hint="export it again, or open it in Excel and save as 'CSV UTF-8'",
        ) from None


class _LineCounter:
    """Feeds lines to csv.reader and counts how many it has taken (for byte offsets)."""

    def __init__(self, lines: Sequence[str]) -> None:
        self.lines = lines
        self.taken = 0

    def __iter__(self) -> _LineCounter:
        return self

    def __next__(self) -> str:
        if self.taken >= len(self.lines):
            raise StopIteration
        self.taken += 1
        return self.lines[self.taken - 1]


def _split_lines(text: str) -> list[str]:
    lines = text.split("\n")
    out = [line + "\n" for line in lines[:-1]]
    if lines[-1]:
        out.append(lines[-1])
    return out


def sniff_delimiter(lines: Sequence[str]) -> str:
    """The delimiter that splits the most rows into the same number (> 1) of fields."""
    best, best_score = ",", 0
    sample = "".join(lines[:200])
    for delim in DELIMITERS:
        if delim not in sample:
            continue
        try:
            counts = [len(r) for r in csv.reader(io.StringIO(sample), delimiter=delim) if r]
        except csv.Error:
            continue
        counts = [c for c in counts if c > 1]
        if not counts:
            continue
        modal = max(set(counts), key=counts.count)
        score = counts.count(modal) * min(modal, 50)
        if score > best_score:
            best, best_score = delim, score
    return best


class TextSource:
    """A delimited text export."""

    def __init__(self, path: Path, display: str) -> None:
        self.path, self.display = path, display
        self.warnings: list[str] = []
        self.data, self.encoding = decode(path.read_bytes(), display, self.warnings)
        head = self.data[:HEAD_BYTES]
        if len(self.data) > HEAD_BYTES:
            head = head[: head.rfind(b"\n") + 1] or head
        self._head_lines = _split_lines(head.decode("utf-8", errors="replace"))
        control = sum(1 for ch in "".join(self._head_lines[:50]) if ch < " " and ch not in "\t\r\n")
        if control > 10:
            raise InputError(
                "holds control characters: it is not a text export",
                path=display,
                hint="export the report as CSV or Excel from the PM system",
            )
        hint = re.fullmatch(r"sep=(.)\r?\n?", self._head_lines[0]) if self._head_lines else None
        self.delimiter = hint.group(1) if hint else sniff_delimiter(self._head_lines)
        self._records: list[list[str]] = []
        self._ends: list[int] = []  # lines consumed after each head record
        counter = _LineCounter(self._head_lines)
        reader = csv.reader(counter, delimiter=self.delimiter)
        try:
            for record in reader:
                self._records.append(record)
                self._ends.append(counter.taken)
                if len(self._records) >= HEADER_SCAN_ROWS + 1:
                    break
        except csv.Error:
            pass  # an unfinished quote in the sample; the rows read so far are enough

    def candidates(self) -> Iterator[Candidate]:
        grid = [[header_text(c) for c in rec] for rec in self._records[:HEADER_SCAN_ROWS]]
        yield Candidate(None, grid)

    def read(self, candidate: Candidate, header_index: int) -> RawTable:
        del candidate  # one candidate per text file
        headers = [header_text(c) for c in self._records[header_index]]
        width = len(headers)
        named = width
        while named and not headers[named - 1]:
            named -= 1
        lines_before = self._ends[header_index]
        offset = len("".join(self._head_lines[:lines_before]).encode("utf-8"))
        region = memoryview(self.data)[offset:]
        first_row = header_index + 2  # 1-based row of the first record below the header

        # footer rows at the end are found line by line on the tail, so that pyarrow never
        # sees their ragged field counts
        tail_start = max(0, len(region) - TAIL_BYTES)
        if tail_start:
            tail_start = bytes(region[tail_start:]).find(b"\n") + tail_start + 1
        tail_lines = _split_lines(bytes(region[tail_start:]).decode("utf-8", errors="replace"))
        tail_rows = []
        for line in tail_lines:
            parsed = next(csv.reader([line], delimiter=self.delimiter), [])
            tail_rows.append(parsed)
        n_keep, footer_offsets = trailing_footer(tail_rows, width)
        cut = tail_start + len("".join(tail_lines[:n_keep]).encode("utf-8"))
        body = region[:cut]
        end = offset + cut

        warnings: list[str] = list(self.warnings)
        problems: list[RowProblem] = []
        frame = None
        # pyarrow skips blank lines, which would shift row numbers: leave those files to csv
        blank_lines = (
            self.data.find(b"\n\n", offset, end) >= 0
            or self.data.find(b"\n\r\n", offset, end) >= 0
            or self.data.startswith((b"\n", b"\r\n"), offset)
        )
        if not blank_lines:
            frame = self._read_pyarrow(body, width)
        if frame is None:
            frame, problems, padded = self._read_python(body, width, named, first_row)
            if padded:
                warnings.append(
                    f"{padded:,} rows have fewer fields than the header; missing cells read as blank"
                )
        n = len(frame)
        rows = np.arange(first_row, first_row + n, dtype="int64")
        # rows the python reader rejected are not in the frame but still take a row number
        if problems:
            rows = _renumber(first_row, n + len(problems), [p.row for p in problems])
        total_records = n + len(problems)
        footer_rows = [first_row + total_records + (off - n_keep) for off in footer_offsets]
        return RawTable(headers, frame, rows, footer_rows, problems, warnings)

    def _read_pyarrow(self, body: memoryview, width: int) -> pd.DataFrame | None:
        names = [f"c{i}" for i in range(width)]
        if not len(body):
            return pd.DataFrame({i: pd.Series([], dtype=TEXT) for i in range(width)})
        try:
            table = pacsv.read_csv(
                pa.BufferReader(pa.py_buffer(body)),
                read_options=pacsv.ReadOptions(column_names=names),
                parse_options=pacsv.ParseOptions(
                    delimiter=self.delimiter, newlines_in_values=True, ignore_empty_lines=True
                ),
                convert_options=pacsv.ConvertOptions(
                    column_types={name: pa.string() for name in names},
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
        except (pa.ArrowInvalid, pa.ArrowException):
            return None
        columns = {}
        for i, name in enumerate(names):
            trimmed = pc.utf8_trim_whitespace(table.column(name))
            cleaned = pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, trimmed.type), trimmed)
            columns[i] = pd.Series(pd.array(cleaned, dtype=TEXT))
        return pd.DataFrame(columns)

    def _read_python(
        self, body: memoryview, width: int, named: int, first_row: int
    ) -> tuple[pd.DataFrame, list[RowProblem], int]:
        # Fallback for irregular files only (ragged rows, blank lines): a per-record loop is
        # needed to give every record its exact row number and to report over-long rows.
        text = bytes(body).decode("utf-8", errors="replace")
        records: list[list[str]] = []
        problems: list[RowProblem] = []
        padded = 0
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=self.delimiter)
        row = first_row - 1
        while True:
            try:
                record = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                row += 1
                problems.append(RowProblem(row, None, f"cannot be parsed as CSV: {exc}"))
                continue
            row += 1
            if len(record) > width:
                extra = [c for c in record[width:] if c.strip()]
                if extra:
                    problems.append(
                        RowProblem(
                            row,
                            None,
                            f"has {len(record)} fields but the header has {width}; "
                            "a value probably contains an unquoted delimiter",
                        )
                    )
                    continue
                record = record[:width]
            elif 0 < len(record) < width:
                if len(record) < named and any(c.strip() for c in record):
                    padded += 1
                record = record + [""] * (width - len(record))
            elif not record:
                record = [""] * width
            records.append(record)
        columns = (
            {
                i: _clean_text_column(pd.Series(col, dtype=object))
                for i, col in enumerate(zip(*records, strict=True))
            }
            if records
            else {i: pd.Series([], dtype=TEXT) for i in range(width)}
        )
        return pd.DataFrame(columns), problems, padded


def _renumber(first_row: int, total: int, skipped: list[int]) -> np.ndarray:
    rows = np.arange(first_row, first_row + total, dtype="int64")
    return rows[~np.isin(rows, np.asarray(skipped, dtype="int64"))]


# --------------------------------------------------------------------------------------------
# workbooks


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
        return _clean_text_column(series)
    if kind == "empty":
        return pd.Series(pd.NA, index=series.index, dtype=TEXT)
    return as_text(series)


class WorkbookSource:
    """An Excel (or ODS) workbook."""

    encoding = None
    delimiter = None

    def __init__(self, path: Path, display: str) -> None:
        import python_calamine as calamine

        self.path, self.display = path, display
        self._calamine = calamine
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
        return RawTable(headers, data, data_rows, [first_row + off for off in footer_offsets])


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
