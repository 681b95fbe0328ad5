"""Readers: delimited text and workbooks to a raw table of export cells.

A reader first offers *candidates* (the top rows of the file, or of each worksheet) so the
loader can find the header row, then reads the body below the chosen header into a
:class:`RawTable`: one column per header position, cells as text (categorical or ``string``,
missing for blank) or, for workbooks, as numbers or dates where a column holds only those.

Text files: the encoding is detected (UTF-8 with or without BOM, UTF-16 LE/BE - with BOM or
without, as Excel's "Unicode text" writes -, else Windows-1252), the delimiter is sniffed from
the top rows, and the body is streamed from disk through pyarrow's CSV reader, cells kept as
per-column dictionaries (see :func:`read_csv_columns`), so neither the file nor its text is ever
held whole. Files pyarrow cannot take (rows with a different number of fields, blank lines
inside the data) fall back to Python's csv module, which keeps exact row numbers.

Workbooks (.xlsx, .xlsm, .xlsb, .ods, legacy .xls) are read with python-calamine.
"""

from __future__ import annotations

import codecs
import csv
import gc
import io
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Protocol

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
#: Bytes read at a time when scanning a file's encoding or transcoding UTF-16.
SCAN_BYTES = 8 * 1024 * 1024
#: Block size of pyarrow's streaming CSV reader (one record batch per block).
ARROW_BLOCK_BYTES = 4 * 1024 * 1024
#: A streamed column is kept categorical when its values repeat this many times on average.
CATEGORICAL_REPEATS = 4
#: Bytes Windows-1252 leaves undefined (Python refuses to decode them).
_CP1252_UNDEFINED = np.array([0x81, 0x8D, 0x8F, 0x90, 0x9D], dtype=np.uint8)


@dataclass
class Candidate:
    """The top rows of a file or worksheet, as text, for header detection."""

    sheet: str | None
    grid: list[list[str]]


@dataclass
class RawTable:
    """The export's cells below the header row.

    Text cells are trimmed, blank ones missing; a column of text is either ``string`` or
    categorical with ``string`` categories (what the streaming CSV reader gives).
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


@dataclass(frozen=True)
class TextLayout:
    """How a text file's bytes are laid out: the encoding reported, the codec of the bytes on
    disk and the offset of the first character (after a byte-order mark)."""

    encoding: str
    codec: str
    start: int

    @property
    def wide(self) -> bool:
        """True for UTF-16, where the bytes must be transcoded before pyarrow parses them."""
        return self.codec.startswith("utf-16")


def scan_encoding(path: Path) -> TextLayout | None:
    """The encoding :func:`decode` would choose for ``path``, found without loading the file.

    Reads the file once in blocks; only the non-ASCII bytes are looked at closely, so this costs
    about as much as reading the file. Returns ``None`` for the rare files whose reading
    :func:`decode` words itself: UTF-8 with a few stray bytes (a warning), bytes that are neither
    UTF-8 nor Windows-1252 and broken UTF-16 (errors).
    """
    with path.open("rb") as handle:
        head = handle.read(4096)
        if head.startswith(b"\xef\xbb\xbf"):
            return TextLayout("utf-8-sig", "utf-8", 3)  # decode() does not check a BOM file
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            codec = "utf-16-le" if head.startswith(b"\xff\xfe") else "utf-16-be"
            handle.seek(2)
            return TextLayout(codec, codec, 2) if _utf16_valid(handle, codec) else None
        order = utf16_byte_order(head)
        handle.seek(0)
        if order is not None:
            return TextLayout(order, order, 0) if _utf16_valid(handle, order) else None
        return _scan_8bit(handle)


def _utf16_valid(handle: BinaryIO, codec: str) -> bool:
    """True when the rest of ``handle`` decodes as ``codec``: whole code units, and every
    surrogate in a high-low pair (the only ways UTF-16 can fail to decode)."""
    dtype = np.dtype("<u2" if codec.endswith("le") else ">u2")
    carry = b""
    while True:
        block = handle.read(SCAN_BYTES)
        data = carry + block if carry else block
        units = np.frombuffer(data, dtype, count=len(data) // 2)
        used = len(units)
        if block and used and 0xD800 <= int(units[-1]) <= 0xDBFF:
            used -= 1  # a high surrogate whose partner is in the next block
        if not _surrogates_paired(units[:used]):
            return False
        carry = data[2 * used :]
        if not block:
            return not carry


def _surrogates_paired(units: np.ndarray) -> bool:
    surrogate = (units & 0xF800) == 0xD800
    if not surrogate.any():
        return True
    high = np.flatnonzero((units & 0xFC00) == 0xD800)
    low = np.flatnonzero((units & 0xFC00) == 0xDC00)
    return len(high) == len(low) and bool(np.array_equal(high + 1, low))


def _scan_8bit(handle: BinaryIO) -> TextLayout | None:
    """:func:`decode`'s choice between UTF-8 and Windows-1252, made block by block.

    ASCII bytes never take part in a multi-byte sequence, so each block's runs of non-ASCII
    bytes, joined by a newline, give the same counts (valid, stray, multi-byte) as the whole
    file does; blocks are cut so that no run is split.
    """
    non_ascii, valid, cp1252 = False, True, True
    stray = multibyte = 0
    carry = b""
    while True:
        block = handle.read(SCAN_BYTES)
        data = carry + block if carry else block
        carry = b""
        if not data.isascii():
            array = np.frombuffer(data, np.uint8)
            high = np.flatnonzero(array >= 0x80)
            breaks = np.flatnonzero(np.diff(high) != 1) + 1
            if block and high[-1] == len(data) - 1:
                # the last run may go on in the next block: carry it over whole
                run_start = int(high[breaks[-1]]) if len(breaks) else int(high[0])
                carry = data[run_start:]
                high = high[high < run_start]
                breaks = breaks[breaks < len(high)]
            if len(high):
                non_ascii = True
                values = array[high]
                runs = np.insert(values, breaks, ord("\n")).tobytes()
                try:
                    runs.decode("utf-8")
                except UnicodeDecodeError:
                    valid = False
                stray += runs.decode("utf-8", errors="replace").count("\ufffd")
                multibyte += len(_UTF8_MULTIBYTE.findall(runs))
                cp1252 = cp1252 and not bool(np.isin(values, _CP1252_UNDEFINED).any())
        if not block:
            break
    if not non_ascii or valid:
        return TextLayout("utf-8", "utf-8", 0)
    if multibyte > stray or not cp1252:
        return None  # UTF-8 with stray bytes, or undecodable: decode() reads or refuses it
    return TextLayout("cp1252", "cp1252", 0)


class _Utf16AsUtf8(io.RawIOBase):
    """A byte range of a UTF-16 file, served as UTF-8 (pyarrow parses UTF-8 only)."""

    def __init__(self, path: Path, start: int, end: int, codec: str) -> None:
        super().__init__()
        self._file = path.open("rb")
        self._file.seek(start)
        self._left = end - start
        self._decoder = codecs.getincrementaldecoder(codec)()
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not len(self._pending) and self._left:
            raw = self._file.read(min(SCAN_BYTES, self._left))
            self._left = self._left - len(raw) if raw else 0
            text = self._decoder.decode(raw, final=not self._left)
            self._pending = memoryview(text.encode("utf-8"))
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size

    def close(self) -> None:
        self._file.close()
        super().close()


# --------------------------------------------------------------------------------------------
# text: lines and records


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


def _split_byte_lines(data: bytes) -> list[bytes]:
    lines = data.split(b"\n")
    out = [line + b"\n" for line in lines[:-1]]
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
    """A delimited text export.

    The file is not loaded whole: its encoding is found by :func:`scan_encoding`, the top and
    the bottom are read for the header and the footers, and the body is streamed from disk into
    pyarrow's CSV reader (UTF-16 transcoded to UTF-8 on the way). Files :func:`scan_encoding`
    leaves to :func:`decode`, and files without a line feed in the top rows (classic Mac line
    ends), are decoded in memory first. ``read`` returns categorical text columns (see
    :class:`RawTable`) or, from the csv-module fallback, ``string`` columns.
    """

    def __init__(self, path: Path, display: str) -> None:
        self.path, self.display = path, display
        self.warnings: list[str] = []
        self._memory: bytes | None = None
        self._size = path.stat().st_size
        layout = scan_encoding(path)
        loaded = self._load_head(layout) if layout is not None else None
        if layout is None or loaded is None or b"\n" not in loaded[0][:HEAD_BYTES]:
            # decode() has the last word on odd files; they are read from memory
            self._memory, self.encoding = decode(path.read_bytes(), display, self.warnings)
            self._size = len(self._memory)
            layout = TextLayout(self.encoding, "utf-8", 0)
            loaded = (self._memory[: HEAD_BYTES + 1], self._memory[: HEAD_BYTES + 1])
        self.encoding = layout.encoding
        self.layout = layout
        head_utf8, head_raw = loaded
        head = head_utf8[:HEAD_BYTES]
        if len(head_utf8) > HEAD_BYTES:
            head = head[: head.rfind(b"\n") + 1] or head
        self._head_lines = _split_lines(head.decode("utf-8", errors="replace"))
        self._head_raw = head_raw
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

    @property
    def streamed(self) -> bool:
        """True when the body is streamed from disk; False when decode() read it into memory."""
        return self._memory is None

    # raw access: the file on disk, or the decoded bytes for files decode() read

    def _load_head(self, layout: TextLayout) -> tuple[bytes, bytes] | None:
        """The top of the file as UTF-8 (more than HEAD_BYTES unless the file is shorter; cut
        exactly as the whole decoded text would be) and as raw bytes."""
        want = 2 * HEAD_BYTES + 8 if layout.wide else HEAD_BYTES + 1
        raw = self._raw(layout.start, layout.start + want)
        if layout.codec == "utf-8":
            return raw, raw
        final = layout.start + len(raw) >= self._size
        try:
            text = codecs.getincrementaldecoder(layout.codec)().decode(raw, final=final)
        except UnicodeDecodeError:
            return None
        return text.encode("utf-8"), raw

    def _raw(self, start: int, end: int) -> bytes:
        if self._memory is not None:
            return self._memory[start:end]
        with self.path.open("rb") as handle:
            handle.seek(start)
            return handle.read(max(0, end - start))

    def _text(self, raw: bytes) -> str:
        return raw.decode(self.layout.codec, errors="replace")

    def _raw_lengths(self, raw: bytes, lines: Sequence[str]) -> list[int]:
        """Bytes on disk taken by each of ``lines`` (decoded from ``raw``)."""
        if self.layout.wide:
            return [len(line.encode(self.layout.codec)) for line in lines]
        # one byte per newline in every 8-bit codec, so the raw lines match the text lines
        return [len(line) for line in _split_byte_lines(raw)[: len(lines)]]

    def _line_start_after(self, position: int, end: int) -> int:
        """The raw offset just past the first line end at or after ``position``."""
        if not self.layout.wide:
            found = self._raw(position, end).find(b"\n")
            return position + found + 1 if found >= 0 else position
        data = self._raw(position, end)
        newline = b"\n\x00" if self.layout.codec.endswith("le") else b"\x00\n"
        found = data.find(newline)
        while found >= 0 and found % 2:
            found = data.find(newline, found + 1)
        return position + found + 2 if found >= 0 else position

    @contextmanager
    def _stream(self, start: int, end: int) -> Iterator[Any]:
        """Bytes ``start:end`` as a pyarrow input stream of UTF-8 or Windows-1252 text."""
        if self._memory is not None:
            yield pa.BufferReader(pa.py_buffer(memoryview(self._memory)[start:end]))
        elif self.layout.wide:
            with pa.PythonFile(_Utf16AsUtf8(self.path, start, end, self.layout.codec)) as f:
                yield f
        else:
            with pa.OSFile(str(self.path)) as handle:
                yield handle.get_stream(start, end - start)

    # the two steps the loader calls

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
        layout = self.layout
        lines_before = self._ends[header_index]
        offset = layout.start + sum(
            self._raw_lengths(self._head_raw, self._head_lines[:lines_before])
        )
        end = self._size
        first_row = header_index + 2  # 1-based row of the first record below the header

        # footer rows at the end are found line by line on the tail, so that pyarrow never
        # sees their ragged field counts
        window = TAIL_BYTES * (2 if layout.wide else 1)
        tail_start = max(offset, end - window)
        if tail_start > offset:
            tail_start += (tail_start - layout.start) % 2 if layout.wide else 0
            tail_start = self._line_start_after(tail_start, end)
        tail_raw = self._raw(tail_start, end)
        tail_lines = _split_lines(self._text(tail_raw))
        tail_rows = [next(csv.reader([line], delimiter=self.delimiter), []) for line in tail_lines]
        n_keep, footer_offsets = trailing_footer(tail_rows, width)
        cut = tail_start + sum(self._raw_lengths(tail_raw, tail_lines[:n_keep]))

        warnings: list[str] = list(self.warnings)
        problems: list[RowProblem] = []
        reader = "pyarrow"
        if cut <= offset:
            frame = pd.DataFrame({i: pd.Series([], dtype=TEXT) for i in range(width)})
        else:
            with self._stream(offset, cut) as stream:
                frame = read_csv_columns(
                    stream, width, self.delimiter, "cp1252" if layout.codec == "cp1252" else "utf-8"
                )
        if frame is None:
            reader = "python-csv"
            frame, problems, padded = _read_python(
                self._text(self._raw(offset, cut)), self.delimiter, width, named, first_row
            )
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
        return RawTable(headers, frame, rows, footer_rows, problems, warnings, reader=reader)


# --------------------------------------------------------------------------------------------
# text: parsing the body


def code_dtype(size: int) -> np.dtype:
    """The integer type pandas gives the codes of a categorical with ``size`` categories."""
    for dtype in (np.int8, np.int16, np.int32):
        if size < np.iinfo(dtype).max:
            return np.dtype(dtype)
    return np.dtype(np.int64)


#: UTF-8 bytes of each Windows-1252 byte (files with its five undefined bytes go to decode()).
_CP1252_UTF8 = [bytes([b]).decode("cp1252", errors="replace").encode("utf-8") for b in range(256)]
_CP1252_FIRST = np.array([u[0] for u in _CP1252_UTF8], dtype=np.uint8)
_CP1252_MORE = [
    np.array([u[i] if len(u) > i else 0 for u in _CP1252_UTF8], np.uint8) for i in (1, 2)
]
_CP1252_EXTRA = np.array([len(u) - 1 for u in _CP1252_UTF8], dtype=np.int64)


def _cp1252_to_utf8(values: pa.Array) -> pa.Array:
    """Binary cells in Windows-1252 as UTF-8 text, transcoded in bulk.

    Only the bytes above 0x7F change (into two or three bytes each), so the data buffer is
    rebuilt by inserting the extra bytes after them and the offsets shift by the number of
    extra bytes before them.
    """
    values = values.cast(pa.large_binary())
    _, offsets_buffer, data_buffer = values.buffers()
    offsets = np.frombuffer(offsets_buffer, np.int64)[
        values.offset : values.offset + len(values) + 1
    ]
    data = (
        np.frombuffer(data_buffer, np.uint8) if data_buffer is not None else np.empty(0, np.uint8)
    )
    data = data[offsets[0] : offsets[-1]]
    offsets = offsets - offsets[0]
    high = np.flatnonzero(data >= 0x80)
    extra = _CP1252_EXTRA[data[high]]
    out = data.copy()
    out[high] = _CP1252_FIRST[data[high]]
    three = extra == 2
    where = np.concatenate([high + 1, high[three] + 1])
    inserted = np.concatenate([_CP1252_MORE[0][data[high]], _CP1252_MORE[1][data[high[three]]]])
    order = np.argsort(where, kind="stable")
    out = np.insert(out, where[order], inserted[order])
    shift = np.concatenate([[0], np.cumsum(extra)])[np.searchsorted(high, offsets)]
    new_offsets = (offsets + shift).astype(np.int64)
    return pa.Array.from_buffers(
        pa.large_string(), len(values), [None, pa.py_buffer(new_offsets), pa.py_buffer(out)]
    )


def _decode_values(values: pa.Array, codec: str) -> pa.Array:
    """Cell values (binary, never null) as text."""
    if codec == "cp1252":
        return _cp1252_to_utf8(values)
    try:
        return values.cast(pa.large_string())
    except pa.ArrowInvalid:
        # invalid UTF-8 in a file with a BOM (decode() does not check those): U+FFFD, as the
        # csv-module reading of the decoded text would give; rare, so decoded one by one
        return pa.array(
            [value.decode("utf-8", errors="replace") for value in values.to_pylist()],
            pa.large_string(),
        )


def _clean_cells(text: pa.Array) -> pa.Array:
    """Trimmed, with blank cells null (pyarrow's Unicode whitespace, as :func:`blank_to_na`)."""
    trimmed = pc.utf8_trim_whitespace(text)
    return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, trimmed.type), trimmed)


class _DictColumn:
    """One column of a streamed CSV: per block, the codes into that block's dictionary."""

    def __init__(self) -> None:
        self.blocks: list[tuple[np.ndarray, int]] = []  # codes, start of the block's dictionary
        self.dictionaries: list[pa.Array] = []
        self.size = 0  # values in all the blocks' dictionaries
        self.rows = 0

    def add(self, values: pa.DictionaryArray) -> None:
        dictionary = values.dictionary
        codes = values.indices.to_numpy(zero_copy_only=False)
        codes = codes.astype(code_dtype(len(dictionary)), copy=False)
        self.blocks.append((codes, self.size))
        self.dictionaries.append(dictionary)
        self.size += len(dictionary)
        self.rows += len(codes)

    def _positions(self, lookup: np.ndarray | None, dtype: np.dtype) -> np.ndarray:
        """Each cell's index into the merged dictionaries (``lookup`` maps those onward)."""
        out = np.empty(self.rows, dtype=dtype)
        position = 0
        for block_codes, start in self.blocks:
            end = position + len(block_codes)
            if lookup is None:
                out[position:end] = block_codes
                out[position:end] += start
            else:
                out[position:end] = lookup[start:][block_codes]
            position = end
        self.blocks = []
        return out

    def finish(self, codec: str) -> pd.Series:
        """The column as trimmed text, blank cells missing: categorical when values repeat
        (most columns), else ``string``."""
        merged = (
            pa.concat_arrays(self.dictionaries) if self.dictionaries else pa.array([], pa.binary())
        )
        self.dictionaries = []
        if self.size * CATEGORICAL_REPEATS > self.rows:
            # mostly distinct values (claim numbers): a categorical would save nothing, and
            # pandas would hash its categories as Python strings
            text = _clean_cells(_decode_values(merged, codec))
            positions = self._positions(None, np.dtype(np.int64))
            return pd.Series(pd.array(text.take(positions), dtype=TEXT))
        encoded = pc.dictionary_encode(merged)
        cleaned = _clean_cells(_decode_values(encoded.dictionary, codec))
        category_codes, categories = pd.factorize(pd.array(cleaned, dtype=TEXT))
        dtype = code_dtype(len(categories))
        lookup = category_codes.astype(dtype)[encoded.indices.to_numpy(zero_copy_only=False)]
        codes = self._positions(lookup, dtype)
        kind = pd.CategoricalDtype(pd.Index(categories, dtype=TEXT))
        return pd.Series(pd.Categorical.from_codes(codes, dtype=kind, validate=False))


def read_csv_columns(stream: Any, width: int, delimiter: str, codec: str) -> pd.DataFrame | None:
    """Parse a CSV body (no header row; ``codec`` is UTF-8 or Windows-1252) with pyarrow.

    Columns come back as categoricals of trimmed text, blanks missing: exports repeat a few
    values per column, so this holds a million lines in a fraction of the memory of text, and
    the normalisers work on the distinct values. Cells are parsed as bytes and only the
    distinct values are decoded, which is what makes Windows-1252 as fast as UTF-8 (the
    delimiter, quote and line ends are ASCII in both). Returns ``None`` when pyarrow refuses
    the body (rows with another number of fields, blank lines): the caller then reads it with
    the csv module, which gives every record its exact row number.
    """
    names = [f"c{i}" for i in range(width)]
    columns = [_DictColumn() for _ in names]
    cell = pa.dictionary(pa.int32(), pa.binary())
    try:
        reader = pacsv.open_csv(
            stream,
            read_options=pacsv.ReadOptions(column_names=names, block_size=ARROW_BLOCK_BYTES),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter, newlines_in_values=True, ignore_empty_lines=False
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={name: cell for name in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        for batch in reader:
            for column, values in zip(columns, batch.columns, strict=True):
                column.add(values)
    except (pa.ArrowException, ValueError, OSError):
        return None
    return pd.DataFrame({i: column.finish(codec) for i, column in enumerate(columns)}, copy=False)


def _read_python(
    text: str, delimiter: str, width: int, named: int, first_row: int
) -> tuple[pd.DataFrame, list[RowProblem], int]:
    # Fallback for irregular files only (ragged rows, blank lines): a per-record loop is
    # needed to give every record its exact row number and to report over-long rows.
    records: list[list[str]] = []
    problems: list[RowProblem] = []
    padded = 0
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
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
