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
from collections.abc import Iterable

import pandas as pd

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
    "as_text",
    "clean_text",
    "clean_text_series",
    "formula_like",
    "is_formula_like",
    "sheet_name",
    "table_name",
]

#: Rows in one worksheet.
MAX_ROWS = 1_048_576
#: Characters in a sheet name.
MAX_SHEET_NAME = 31

#: Characters that need cleaning in pyarrow-backed text (which cannot hold surrogates at all).
_NEEDS_CLEANING = "|".join((CONTROL_CHARS, "[\ufffe\uffff]"))
_FORMULA_START = "^(?:" + "|".join(re.escape(p) for p in FORMULA_STARTS) + ")"

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
    dirty = text.str.contains(_NEEDS_CLEANING, regex=True).fillna(False).astype(bool)
    dirty |= (text.str.len() > MAX_CELL_CHARS).fillna(False).astype(bool)
    if dirty.any():
        text = text.copy()
        text[dirty] = [clean_text(v) for v in text[dirty]]
    return text


def is_formula_like(value: object) -> bool:
    """True when a spreadsheet program would read this text as a formula if typed in."""
    return isinstance(value, str) and looks_like_formula(value)


def formula_like(values: pd.Series) -> pd.Series:
    """Vectorised :func:`is_formula_like` (missing values are False)."""
    text = as_text(values)
    return text.str.contains(_FORMULA_START, regex=True).fillna(False).astype(bool)


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
