"""The body of a delimited text export, parsed: pyarrow's multi-threaded CSV reader, or
Python's csv module for irregular files.

:func:`read_csv_columns` reads the body from disk through pyarrow a block at a time, cells kept
as per-block dictionaries and decoded only once per distinct value, so neither the file nor its
text is ever held whole. Files pyarrow cannot take (rows with a different number of fields, blank lines
inside the data) are read by :func:`read_irregular`, which keeps exact row numbers.

Both take CRLF, LF and bare CR line ends, mixed. :func:`read_csv_columns` removes NUL bytes from
the cells (counted; the caller strips them from the text it gives :func:`read_irregular`).
"""

from __future__ import annotations

import csv
import io
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from auditkit.ingest.model import RowProblem
from auditkit.ingest.normalise import TEXT
from auditkit.ingest.readers import clean_text_column, code_dtype

#: Block size of pyarrow's CSV reader (each block is parsed on its own, in parallel).
ARROW_BLOCK_BYTES = 4 * 1024 * 1024
#: A column read is kept categorical when its values repeat this many times on average.
CATEGORICAL_REPEATS = 4


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
    if not len(high):
        # ASCII only (claim and account numbers): the bytes are UTF-8 as they are
        return values.cast(pa.large_string())
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


def _without_nuls(values: pa.Array) -> tuple[pa.Array, np.ndarray | None]:
    """Binary cell values with NUL bytes removed, and how many each held (``None`` when none
    did: the common case, found with one scan of the data buffer)."""
    data = values.buffers()[2]
    if data is None or np.frombuffer(data, np.uint8).all():
        return values, None
    counts = pc.count_substring(values, b"\x00").to_numpy(zero_copy_only=False)
    if not counts.any():
        return values, None
    return pc.replace_substring(values, b"\x00", b""), counts.astype(np.int64)


def _clean_cells(text: pa.Array) -> pa.Array:
    """Trimmed, with blank cells null (pyarrow's Unicode whitespace, as :func:`blank_to_na`)."""
    trimmed = pc.utf8_trim_whitespace(text)
    blank = pc.equal(trimmed, "")
    if not pc.any(blank).as_py():
        return trimmed  # no blank cell: spare a copy of a million claim numbers
    return pc.if_else(blank, pa.scalar(None, trimmed.type), trimmed)


class _DictColumn:
    """One column of a CSV read in blocks: per block, the codes into that block's dictionary."""

    def __init__(self) -> None:
        self.blocks: list[tuple[np.ndarray, int]] = []  # codes, start of the block's dictionary
        self.dictionaries: list[pa.Array] = []
        self.size = 0  # values in all the blocks' dictionaries
        self.rows = 0
        self.nuls = 0  # NUL bytes removed from the cells (see finish)

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
                np.take(lookup[start:], block_codes, out=out[position:end])
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
        merged, nul_counts = _without_nuls(merged)
        if nul_counts is not None:
            # NUL bytes (a padded field, a bad transfer) are not part of any value; counted per
            # line, since a dictionary value stands for every line that holds it
            self.nuls = sum(int(nul_counts[start:][codes].sum()) for codes, start in self.blocks)
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


def read_csv_columns(
    stream: Any, width: int, delimiter: str, codec: str
) -> tuple[pd.DataFrame, int] | None:
    """Parse a CSV body (no header row; ``codec`` is UTF-8 or Windows-1252) with pyarrow's
    multi-threaded reader.

    Columns come back as categoricals of trimmed text, blanks missing: exports repeat a few
    values per column, so this holds a million lines in a fraction of the memory of text, and
    the normalisers work on the distinct values. Cells are parsed as bytes and only the
    distinct values are decoded, which is what makes Windows-1252 as fast as UTF-8 (the
    delimiter, quote and line ends are ASCII in both). Returns ``None`` when pyarrow refuses
    the body (rows with another number of fields, blank lines): the caller then reads it with
    the csv module, which gives every record its exact row number.

    Also returns how many NUL bytes were removed from the cells: they are kept out of every
    value (a cell of NULs only is blank). Line ends may be CRLF, LF or a bare CR, mixed; a line
    end inside a quoted cell stays in the value.
    """
    names = [f"c{i}" for i in range(width)]
    columns = [_DictColumn() for _ in names]
    cell = pa.dictionary(pa.int32(), pa.binary())
    try:
        table = pacsv.read_csv(
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
    except (pa.ArrowException, ValueError, OSError):
        return None
    for column in columns:
        # each column's blocks are taken over and let go in turn (the table holds 4 bytes a cell)
        for values in table.column(0).chunks:
            column.add(values)
        table = table.remove_column(0)
    del table
    frame = pd.DataFrame({i: column.finish(codec) for i, column in enumerate(columns)}, copy=False)
    return frame, sum(column.nuls for column in columns)


def read_irregular(
    text: str, delimiter: str, width: int, named: int, first_row: int
) -> tuple[pd.DataFrame, list[RowProblem], int]:
    """Parse a decoded CSV body with Python's csv module: the fallback for irregular files.

    Returns the frame (``string`` columns, ``width`` of them), the records that could not be
    used (with their row numbers, counting from ``first_row``) and how many rows were shorter
    than the ``named`` header cells and were padded. Ragged rows and blank lines need this
    per-record loop to give every record its exact row number and to report over-long rows.
    """
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
            i: clean_text_column(pd.Series(col, dtype=object))
            for i, col in enumerate(zip(*records, strict=True))
        }
        if records
        else {i: pd.Series([], dtype=TEXT) for i in range(width)}
    )
    return pd.DataFrame(columns), problems, padded


def renumber(first_row: int, total: int, skipped: list[int]) -> np.ndarray:
    """Row numbers from ``first_row`` for ``total`` records, without the ``skipped`` ones."""
    rows = np.arange(first_row, first_row + total, dtype="int64")
    return rows[~np.isin(rows, np.asarray(skipped, dtype="int64"))]
