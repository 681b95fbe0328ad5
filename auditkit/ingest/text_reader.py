"""Delimited text exports (CSV, TSV, TXT): :class:`TextSource`.

The encoding is detected (:mod:`auditkit.ingest.text_encoding`), the delimiter is sniffed from
the top rows, and the body is streamed from disk through pyarrow's CSV reader
(:mod:`auditkit.ingest.text_body`), so neither the file nor its text is ever held whole. Files
pyarrow cannot take (rows with a different number of fields, blank lines inside the data) fall
back to Python's csv module, which keeps exact row numbers.

Line ends may be CRLF, LF or a bare CR, mixed in one file (a line end inside a quoted cell stays
in the cell). NUL bytes are removed from the cells by either reader, and a warning counts them;
:mod:`auditkit.ingest.sniff` lets text with stray NULs through.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from auditkit.errors import InputError
from auditkit.ingest.footers import trailing_footer
from auditkit.ingest.headers import HEADER_SCAN_ROWS
from auditkit.ingest.model import RowProblem
from auditkit.ingest.normalise import TEXT
from auditkit.ingest.readers import Candidate, RawTable, header_text
from auditkit.ingest.text_body import read_csv_columns, read_irregular, renumber
from auditkit.ingest.text_encoding import TextLayout, Utf16AsUtf8, decode, scan_encoding

#: Bytes read from the top of a text file to find the delimiter and header row.
HEAD_BYTES = 256 * 1024
#: Bytes read from the end of a text file to find footer rows.
TAIL_BYTES = 64 * 1024
DELIMITERS = (",", "\t", ";", "|")


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
        return self.lines[self.taken - 1].replace("\x00", "")


#: Where a line ends: after LF, or after a CR that no LF follows (CRLF, LF and bare CR can all
#: be found in one file when it was pasted together from several systems).
_LINE_END = re.compile(r"(?<=\n)|(?<=\r)(?!\n)")
_BYTE_LINE_END = re.compile(rb"(?<=\n)|(?<=\r)(?!\n)")


def _split_lines(text: str) -> list[str]:
    """``text`` cut into lines, each with its line end (CRLF, LF or a bare CR)."""
    return [line for line in _LINE_END.split(text) if line]


def _split_byte_lines(data: bytes) -> list[bytes]:
    """:func:`_split_lines` on the bytes of a file in an 8-bit encoding or UTF-8."""
    return [line for line in _BYTE_LINE_END.split(data) if line]


def _parse_line(line: str, delimiter: str) -> list[str]:
    """One line's cells (for telling footer rows from data); a line the csv module cannot
    take (an unfinished quote) is split on the delimiter."""
    line = line.replace("\x00", "")
    try:
        return next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:
        return line.rstrip("\r\n").split(delimiter)


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
        control = sum(
            1 for ch in "".join(self._head_lines[:50]) if ch < " " and ch not in "\t\r\n\x00"
        )
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
        """The raw offset just past the first line end (CRLF, LF or CR) at or after
        ``position``."""
        data = self._raw(position, end)
        if not self.layout.wide:
            found = re.search(rb"\r\n|\n|\r", data)
            return position + found.end() if found else position
        if self.layout.codec.endswith("le"):
            line_end = re.compile(rb"\r\x00\n\x00|\n\x00|\r\x00")
        else:
            line_end = re.compile(rb"\x00\r\x00\n|\x00\n|\x00\r")
        for found in line_end.finditer(data):
            if found.start() % 2 == 0:  # whole code units only
                return position + found.end()
        return position

    @contextmanager
    def _stream(self, start: int, end: int) -> Iterator[Any]:
        """Bytes ``start:end`` as a pyarrow input stream of UTF-8 or Windows-1252 text."""
        if self._memory is not None:
            yield pa.BufferReader(pa.py_buffer(memoryview(self._memory)[start:end]))
        elif self.layout.wide:
            with pa.PythonFile(Utf16AsUtf8(self.path, start, end, self.layout.codec)) as f:
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
        tail_rows = [_parse_line(line, self.delimiter) for line in tail_lines]
        n_keep, footer_offsets = trailing_footer(tail_rows, width)
        cut = tail_start + sum(self._raw_lengths(tail_raw, tail_lines[:n_keep]))

        warnings: list[str] = list(self.warnings)
        problems: list[RowProblem] = []
        reader = "pyarrow"
        nuls = 0
        parsed: tuple[pd.DataFrame, int] | None = None
        if cut <= offset:
            frame = pd.DataFrame({i: pd.Series([], dtype=TEXT) for i in range(width)})
        else:
            with self._stream(offset, cut) as stream:
                parsed = read_csv_columns(
                    stream, width, self.delimiter, "cp1252" if layout.codec == "cp1252" else "utf-8"
                )
            if parsed is not None:
                frame, nuls = parsed
        if cut > offset and parsed is None:
            reader = "python-csv"
            body = self._text(self._raw(offset, cut))
            nuls = body.count("\x00")
            if nuls:
                body = body.replace("\x00", "")
            frame, problems, padded = read_irregular(body, self.delimiter, width, named, first_row)
            if padded:
                warnings.append(
                    f"{padded:,} rows have fewer fields than the header; missing cells read as blank"
                )
        nuls += sum(line.count("\x00") for line in self._head_lines[:lines_before])
        if nuls:
            what = "1 NUL byte (character 0) was" if nuls == 1 else f"{nuls:,} NUL bytes were"
            warnings.append(
                f"{what} removed from the cells (left by the exporting system or a file "
                "transfer; a cell of NULs only reads as blank)"
            )
        n = len(frame)
        rows = np.arange(first_row, first_row + n, dtype="int64")
        # rows the python reader rejected are not in the frame but still take a row number
        if problems:
            rows = renumber(first_row, n + len(problems), [p.row for p in problems])
        total_records = n + len(problems)
        footer_rows = [first_row + total_records + (off - n_keep) for off in footer_offsets]
        return RawTable(headers, frame, rows, footer_rows, problems, warnings, reader=reader)
