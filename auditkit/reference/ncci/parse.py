"""Parsing one table file, delimited text or workbook: its header found by name, its body read
with pyarrow (or calamine) into typed batches."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

from auditkit.errors import InputError
from auditkit.reference.ncci.files import WORKBOOK_SUFFIXES, Part
from auditkit.reference.ncci.layouts import (
    HEADER_SCAN_ROWS,
    Header,
    Layout,
    check_table_kind,
    find_header,
    not_this,
    why_not,
)
from auditkit.reference.ncci.values import typed_batch

_HEAD_BYTES = 64 * 1024
_BLOCK_BYTES = 8 << 20
_WORKBOOK_CHUNK = 100_000


def parse_part(part: Part, layout: Layout) -> tuple[dict[str, Any], Iterator[pa.RecordBatch]]:
    """Find the header of one table file and return its counts (filled in as the batches are
    read) and its typed, valid batches. Raises :class:`WrongTableError` before any batch."""
    data = part.load()
    suffix = Path(part.name).suffix.lower()
    if suffix in WORKBOOK_SUFFIXES or data[:4] == b"PK\x03\x04" or data[:4] == b"\xd0\xcf\x11\xe0":
        return _parse_workbook(data, part, layout)
    return _parse_text(data, part, layout)


def _to_utf8(data: bytes) -> bytes:
    """Text as UTF-8 for pyarrow: a UTF-16 file transcoded, a UTF-8 byte-order mark dropped."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data.decode("utf-16").encode("utf-8")
    if data[:3] == b"\xef\xbb\xbf":
        return data[3:]
    return data


def _records(text: str, quoting: bool, complete: bool) -> list[tuple[str, int]]:
    """Split ``text`` into records with the offset just past each; a newline inside double
    quotes does not end a record when ``quoting``. The last, unterminated record is kept only
    when ``complete`` (the whole file is in ``text``)."""
    out: list[tuple[str, int]] = []
    start = 0
    if not quoting:
        while len(out) < HEADER_SCAN_ROWS + 10:
            end = text.find("\n", start)
            if end < 0:
                break
            out.append((text[start:end], end + 1))
            start = end + 1
    else:
        inside = False
        for pos, char in enumerate(text):
            if char == '"':
                inside = not inside
            elif char == "\n" and not inside:
                out.append((text[start:pos], pos + 1))
                start = pos + 1
                if len(out) >= HEADER_SCAN_ROWS + 10:
                    break
    if complete and start < len(text) and len(out) < HEADER_SCAN_ROWS + 10:
        out.append((text[start:], len(text)))
    return out


def _cells(record: str, delimiter: str, quoting: bool) -> list[str]:
    record = record.rstrip("\r")
    if not quoting:
        return record.split(delimiter)
    return next(csv.reader(io.StringIO(record), delimiter=delimiter), [])


def _parse_text(
    data: bytes, part: Part, layout: Layout
) -> tuple[dict[str, Any], Iterator[pa.RecordBatch]]:
    data = _to_utf8(data)
    head = data[:_HEAD_BYTES]
    # latin-1 maps every byte to one character, so offsets in the text are offsets in the bytes
    text = head.decode("latin-1")
    complete = len(head) == len(data)
    best: tuple[Header, str, bool, list[tuple[str, int]]] | None = None
    grids: list[list[list[str]]] = []
    for delimiter, quoting in (("\t", False), (",", True)):
        records = _records(text, quoting, complete)
        grid = [_cells(r, delimiter, quoting) for r, _ in records]
        grids.append(grid)
        hit = find_header(grid, layout)
        if hit is not None and (best is None or hit.score > best[0].score):
            best = (hit, delimiter, quoting, records)
    if best is None or not all(f in best[0].positions for f in layout.required):
        grid = max(grids, key=lambda g: max((len(r) for r in g), default=0))
        raise not_this(part.where, layout, why_not(grid, text, layout, best and best[0]))
    header, delimiter, quoting, records = best
    check_table_kind(header, layout, part.where)
    title = " ".join(r for r, _ in records[: header.row])
    offset = records[header.row + header.span - 1][1]
    body = data[offset:]
    del data
    if not body.isascii():
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            body = body.decode("latin-1").encode("utf-8")
    counts: dict[str, Any] = {"rows": 0, "skipped": 0, "title": title}
    return counts, _text_batches(body, header, delimiter, quoting, layout, counts, part.where)


def _text_batches(
    body: bytes,
    header: Header,
    delimiter: str,
    quoting: bool,
    layout: Layout,
    counts: dict[str, Any],
    where: str,
) -> Iterator[pa.RecordBatch]:
    if not body or body.isspace():
        return
    names = [f"c{i}" for i in range(header.width)]

    def skip_row(row: pacsv.InvalidRow) -> str:
        if row.text and row.text.strip(" \t\r\n" + delimiter):
            counts["skipped"] += 1
        return "skip"

    needed = {name: names[pos] for name, pos in header.positions.items()}
    try:
        reader = pacsv.open_csv(
            pa.BufferReader(body),
            read_options=pacsv.ReadOptions(column_names=names, block_size=_BLOCK_BYTES),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter,
                quote_char='"' if quoting else False,
                newlines_in_values=quoting,
                invalid_row_handler=skip_row,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                include_columns=sorted(set(needed.values())),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        for batch in reader:
            columns = {name: batch.column(col) for name, col in needed.items()}
            yield typed_batch(columns, batch.num_rows, layout, counts)
    except pa.ArrowInvalid as exc:
        raise InputError(f"cannot read the table: {exc}".splitlines()[0], path=where) from exc


def _cell_text(value: object) -> str:
    """A workbook cell as the text CMS's text files hold (20220101, not 20220101.0)."""
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, datetime | date):
        return value.strftime("%Y%m%d")
    return str(value)


def _parse_workbook(
    data: bytes, part: Part, layout: Layout
) -> tuple[dict[str, Any], Iterator[pa.RecordBatch]]:
    import python_calamine as calamine  # the workbook reader is only loaded for workbooks

    try:
        book = calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheets = [
            m.name
            for m in book.sheets_metadata
            if m.typ == calamine.SheetTypeEnum.WorkSheet
            and m.visible == calamine.SheetVisibleEnum.Visible
        ]
    except Exception as exc:  # calamine raises several types for a broken or locked workbook
        raise InputError(
            f"cannot open the workbook: {exc}".splitlines()[0], path=part.where
        ) from exc
    first_grid: list[list[str]] = []
    found: Header | None = None
    for sheet_name in sheets:
        rows = book.get_sheet_by_name(sheet_name).iter_rows()
        top = list(itertools.islice(rows, HEADER_SCAN_ROWS + 5))
        grid = [[_cell_text(c) for c in row] for row in top]
        first_grid = first_grid or grid
        header = find_header(grid, layout)
        if header is None or not all(f in header.positions for f in layout.required):
            found = found or header
            continue
        check_table_kind(header, layout, part.where)
        title = " ".join(" ".join(r) for r in grid[: header.row])
        counts: dict[str, Any] = {"rows": 0, "skipped": 0, "title": title}
        body = itertools.chain(top[header.row + header.span :], rows)
        return counts, _workbook_batches(body, header, layout, counts)
    text = "\n".join("\t".join(r) for r in first_grid)
    raise not_this(part.where, layout, why_not(first_grid, text, layout, found))


def _workbook_batches(
    rows: Iterator[list[Any]], header: Header, layout: Layout, counts: dict[str, Any]
) -> Iterator[pa.RecordBatch]:
    positions = header.positions
    while chunk := list(itertools.islice(rows, _WORKBOOK_CHUNK)):
        columns = {
            name: pa.array(
                [_cell_text(r[pos]) if pos < len(r) else "" for r in chunk], type=pa.string()
            )
            for name, pos in positions.items()
        }
        yield typed_batch(columns, len(chunk), layout, counts)
