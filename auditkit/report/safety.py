"""Excel's limits and the rules that keep untrusted export text harmless in a workbook.

The text rules are :mod:`auditkit.textsafe`'s (one definition for every writer); this module adds
what the workbook writers need on top: whole-column versions for big tables, sheet and table
names, and the sheet limits.

* Text that starts like a formula (``=``, ``+``, ``-``, ``@``, tab, carriage return) must be
  written as text. The report model keeps such text as it is; each writer guarantees it lands in
  a text cell (:func:`formula_like` tells which values need care).
* Characters XML cannot hold are removed; text longer than a cell can hold is cut with
  textsafe's visible marker (never silently).
* Sheet names are made valid and unique.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from auditkit.textsafe import (
    CONTROL_CHARS,
    FORMULA_STARTS,
    ILLEGAL_XML,
    MAX_CELL_CHARS,
    looks_like_formula,
    safe_text,
)

__all__ = [
    "FORMULA_STARTS",
    "MAX_CELL_CHARS",
    "MAX_ROWS",
    "MAX_SHEET_NAME",
    "arrow_text",
    "as_text",
    "clean_text",
    "clean_text_series",
    "edge_bytes",
    "formula_like",
    "formula_start",
    "is_formula_like",
    "sheet_name",
    "table_name",
    "utf8_bytes",
]

#: Rows in one worksheet.
MAX_ROWS = 1_048_576
#: Characters in a sheet name.
MAX_SHEET_NAME = 31

#: Characters that need cleaning in pyarrow-backed text (which cannot hold surrogates at all).
_NEEDS_CLEANING = "|".join((CONTROL_CHARS, "[\ufffe\uffff]"))
_FORMULA_START = "^(?:" + "|".join(re.escape(p) for p in FORMULA_STARTS) + ")"
#: The formula starts as bytes (each is one ASCII character: see formula_start).
_FORMULA_START_BYTES = np.array([ord(p) for p in FORMULA_STARTS], dtype=np.uint8)
assert all(len(p) == 1 and p.isascii() for p in FORMULA_STARTS), "formula_start"

#: Characters Excel refuses in sheet names.
INVALID_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
#: Sheet names Excel reserves.
RESERVED_SHEET_NAMES = frozenset({"history"})


def clean_text(value: str) -> str:
    """Text safe for a cell: :func:`auditkit.textsafe.safe_text`."""
    return safe_text(value)


def as_text(values: pd.Series) -> pd.Series:
    """A column as pandas text; lone surrogates (undecodable bytes) are dropped on the way."""
    try:
        return values.astype("string")
    except UnicodeEncodeError:
        return values.map(lambda v: ILLEGAL_XML.sub("", v) if isinstance(v, str) else v).astype(
            "string"
        )


def clean_text_series(values: pd.Series) -> pd.Series:
    """Vectorised :func:`clean_text` for a column; returns a pandas string column.

    Finding the few values that need cleaning is vectorised; those few are cleaned one by one
    with :func:`clean_text`, so the result is exactly what it gives.
    """
    text = as_text(values)
    if len(text) == 0:
        return text
    arrow = pa.array(text)  # pandas' own Arrow data, chunk by chunk (no copy)
    parts = arrow.chunks if isinstance(arrow, pa.ChunkedArray) else [arrow]
    dirty = np.concatenate([_needs_cleaning(part) for part in parts] or [np.zeros(0, bool)])
    if dirty.any():
        text = text.copy()
        text[dirty] = [clean_text(v) for v in text[dirty]]
    return text


def arrow_text(values: pd.Series) -> pa.Array:
    """:func:`as_text` as one Arrow string array (null where missing), taken from pandas' own
    Arrow data rather than through a Python object per value."""
    text = pa.array(as_text(values))
    return text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text


def utf8_bytes(text: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """The UTF-8 data of an Arrow string array and where each value is in it: value ``i`` is
    ``data[offsets[i]:offsets[i + 1]]`` (views of the array's buffers, no copy)."""
    if len(text) == 0:
        return np.zeros(0, dtype=np.uint8), np.zeros(1, dtype=np.int64)
    width = np.int64 if pa.types.is_large_string(text.type) else np.int32
    _, offsets, data = text.buffers()
    offsets = np.frombuffer(offsets, dtype=width)[text.offset : text.offset + len(text) + 1]
    data = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8)
    return data, offsets


#: Bytes of text looked at a time (bounds the temporary arrays of a whole-column scan).
_SCAN_BYTES = 4 * 2**20


def _blocks(data: np.ndarray, start: int, end: int) -> Iterator[tuple[int, np.ndarray]]:
    """``data[start:end]`` a block at a time, each with its position in ``data``."""
    yield start, data[start : min(end, start + _SCAN_BYTES)]
    for at in range(start + _SCAN_BYTES, end, _SCAN_BYTES):
        yield at, data[at : min(end, at + _SCAN_BYTES)]


def _needs_cleaning(text: pa.Array) -> np.ndarray:
    """Which values :func:`clean_text` changes (a bool per value, False where missing).

    Every character it removes is a byte below 0x20 or starts with 0xEF in UTF-8, so one pass
    over the bytes finds the few values that may need it and the regular expression confirms
    them; only values of more than MAX_CELL_CHARS bytes can have too many characters.
    """
    data, offsets = utf8_bytes(text)
    suspects = [
        np.flatnonzero((block < 0x20) | (block == 0xEF)) + start
        for start, block in _blocks(data, offsets[0], offsets[-1])
    ]
    rows = np.unique(np.searchsorted(offsets, np.concatenate(suspects), side="right") - 1)
    dirty = np.zeros(len(text), dtype=bool)
    if len(rows):
        found = pc.match_substring_regex(text.take(pa.array(rows)), _NEEDS_CLEANING)
        dirty[rows] = pc.fill_null(found, False).to_numpy(zero_copy_only=False)
    long = np.flatnonzero(np.diff(offsets) > MAX_CELL_CHARS)
    if len(long):
        chars = pc.utf8_length(text.take(pa.array(long)))
        too_long = pc.fill_null(pc.greater(chars, MAX_CELL_CHARS), False)
        dirty[long] |= too_long.to_numpy(zero_copy_only=False)
    return dirty


def is_formula_like(value: object) -> bool:
    """True when a spreadsheet program would read this text as a formula if typed in."""
    return isinstance(value, str) and looks_like_formula(value)


def formula_like(values: pd.Series) -> pd.Series:
    """Vectorised :func:`is_formula_like` (missing values are False)."""
    text = as_text(values)
    return text.str.contains(_FORMULA_START, regex=True).fillna(False).astype(bool)


def formula_start(first: np.ndarray) -> np.ndarray:
    """:func:`formula_like` from each value's first UTF-8 byte (as :func:`edge_bytes` gives
    it, 0 for no text): every formula start is one ASCII character."""
    return np.isin(first, _FORMULA_START_BYTES)


def edge_bytes(text: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each value of an Arrow string array: whether it has any text (not missing, not
    empty), and its first and last UTF-8 bytes (0 where it has none)."""
    data, offsets = utf8_bytes(text)
    starts, ends = offsets[:-1], offsets[1:]
    filled = (ends > starts) & text.is_valid().to_numpy(zero_copy_only=False)
    if not filled.any():
        nothing = np.zeros(len(text), dtype=np.uint8)
        return filled, nothing, nothing
    first = np.where(filled, data[np.where(filled, starts, offsets[0])], 0)
    last = np.where(filled, data[np.where(filled, ends - 1, offsets[0])], 0)
    return filled, first.astype(np.uint8), last.astype(np.uint8)


def sheet_name(wanted: str, taken: Iterable[str] = ()) -> str:
    """A valid sheet name close to ``wanted`` that is not in ``taken`` (case-insensitive).

    Invalid characters become '-', names are cut to 31 characters, leading or trailing
    apostrophes are removed, and a clash gets a ' (2)', ' (3)', ... suffix.
    """
    name = INVALID_SHEET_CHARS.sub("-", clean_text(wanted)).strip().strip("'").strip()
    name = name[:MAX_SHEET_NAME].strip() or "Sheet"
    used = {t.casefold() for t in taken} | RESERVED_SHEET_NAMES
    if name.casefold() not in used:
        return name
    number = 2
    while True:
        suffix = f" ({number})"
        candidate = name[: MAX_SHEET_NAME - len(suffix)].rstrip() + suffix
        if candidate.casefold() not in used:
            return candidate
        number += 1


_TABLE_NAME_BAD = re.compile(r"[^A-Za-z0-9_.]")
_LOOKS_LIKE_CELL = re.compile(r"^([A-Za-z]{1,3}[0-9]+|[Rr][0-9]*[Cc][0-9]*|[RrCc])$")


def table_name(wanted: str, taken: Iterable[str] = ()) -> str:
    """A valid Excel table name (letters, digits, '_', '.'; not a cell reference), unique."""
    name = _TABLE_NAME_BAD.sub("_", wanted).strip("_") or "table"
    if not (name[0].isalpha() or name[0] == "_"):
        name = "t_" + name
    if _LOOKS_LIKE_CELL.match(name):
        name = "t_" + name
    name = name[:250]
    used = {t.casefold() for t in taken}
    candidate, number = name, 2
    while candidate.casefold() in used:
        candidate = f"{name}_{number}"
        number += 1
    return candidate
