"""Vectorised cleaners: export cells in, canonical values out.

Every parser takes a pandas Series as a reader produced it - text (``string`` dtype, ``<NA>`` for
blank), ``float64`` (numeric workbook cells), ``datetime64`` (date cells) or ``object`` (mixed
cells) - and returns :class:`Parsed`: the canonical values plus a ``bad`` mask marking non-blank
cells that could not be read (fully or partly). The loader turns ``bad`` into row problems.

Most exports repeat a small set of values (dates, codes, payers), so the string work runs on the
unique values of a column and the result is spread back with the factorised codes
(:func:`on_uniques`). Where a cleaner splits list cells into tokens, it does so on those uniques.

Decisions worth knowing:

* Money: ``$1,234.50`` -> 1234.5; ``(45.00)``, ``-45.00``, ``45.00-``, ``45.00 CR`` -> -45.0;
  a lone ``-`` (Excel's accounting zero) -> 0.0; blank -> NaN. Amounts and quantities are
  finite and at most a trillion either way (:data:`MAX_AMOUNT`): ``NaN``, ``inf``, ``1E400``
  and ``1e308`` are unreadable cells, so no total can overflow and no JSON holds ``Infinity``.
* Dates: one format is chosen per column from the values (US month/day first; day/month only
  when month/day cannot read them); cells the chosen format misses are tried with the other
  formats that fit some of the column. Excel serial numbers (5 digits) are read as dates.
* Modifiers are two characters; ``5`` or ``ABC`` is reported and left out. At most 4 are kept.
* CARCs are stored ``GROUP-CODE`` (``CO-197``). When the export gives no group (neither in the
  cell nor in a group column), the bare code (``197``) is kept rather than guessing a group:
  a wrong group would mislabel who owes the money. Audits should treat ``197`` as unknown group.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Callable, Mapping
from functools import cache
from importlib import resources
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from auditkit.claims import LIST_SEP, STATUSES

TEXT = pd.StringDtype("pyarrow")


class Parsed(NamedTuple):
    """Canonical values and the mask of non-blank cells that could not be read."""

    values: pd.Series
    bad: pd.Series


# --------------------------------------------------------------------------------------------
# helpers


def _bad_none(index: pd.Index) -> pd.Series:
    return pd.Series(False, index=index, dtype=bool)


def _format_number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else repr(float(x))


def _cell_text(value: Any) -> str | None:
    """Text of one workbook cell (used for mixed-type columns only)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float | np.integer | np.floating):
        return _format_number(float(value))
    if isinstance(value, dt.datetime | pd.Timestamp):
        return value.strftime("%Y-%m-%d %H:%M:%S") if value.time() else value.strftime("%Y-%m-%d")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def as_text(values: pd.Series) -> pd.Series:
    """Any column as trimmed text (``string`` dtype), blanks as ``<NA>``.

    Whole-number floats lose their ``.0`` (``20552.0`` -> ``"20552"``); dates become ISO text.
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        # the CSV reader's columns: convert the categories, then spread them
        categories = as_text(pd.Series(values.cat.categories))
        codes = values.cat.codes.to_numpy()
        text = categories.array.take(codes, allow_fill=True)
        return pd.Series(text, index=values.index, name=values.name)
    if isinstance(values.dtype, pd.StringDtype):
        if values.dtype.storage == "pyarrow":
            return blank_to_na(values)
        text = values
    elif pd.api.types.is_bool_dtype(values.dtype):
        text = values.map({True: "TRUE", False: "FALSE"}).astype(TEXT)
    elif pd.api.types.is_numeric_dtype(values.dtype):
        floats = values.astype("float64")
        whole = np.isfinite(floats) & (np.floor(floats) == floats) & (floats.abs() < 1e15)
        out = pd.Series(pd.NA, index=values.index, dtype=TEXT)
        out[whole] = floats[whole].astype("int64").astype(str).astype(TEXT)
        rest = floats.notna() & ~whole
        out[rest] = floats[rest].map(repr).astype(TEXT)
        return out
    elif pd.api.types.is_datetime64_any_dtype(values.dtype):
        has_time = values.notna() & (values != values.dt.normalize())
        text = values.dt.strftime("%Y-%m-%d").astype(TEXT)
        text[has_time] = values[has_time].dt.strftime("%Y-%m-%d %H:%M:%S")
        return text
    else:
        # object columns hold mixed workbook cells; only such columns take this per-cell path
        text = values.map(_cell_text).astype(TEXT)
    text = text.str.strip()
    return text.mask(text == "")


def blank_to_na(values: pd.Series) -> pd.Series:
    """Trim a pyarrow-backed text column and turn empty cells into ``<NA>`` (in pyarrow)."""
    array = (
        pa.chunked_array(pa.array(values.array))
        if len(values)
        else pa.chunked_array([], pa.large_string())
    )
    trimmed = pc.utf8_trim_whitespace(array)
    cleaned = pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, trimmed.type), trimmed)
    return pd.Series(pd.array(cleaned, dtype=TEXT), index=values.index, name=values.name)


def on_uniques(values: pd.Series, func: Callable[[pd.Series], Any]) -> Any:
    """Apply ``func`` to the unique non-blank values of ``values`` and spread the result back.

    ``func`` gets a Series of uniques (0..n-1 index) and returns a Series, or a tuple of Series,
    aligned with it. Blank cells get ``<NA>`` / NaN.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    result = func(pd.Series(uniques, dtype=values.dtype))
    missing = codes < 0

    def spread(series: pd.Series) -> pd.Series:
        array = series.array
        taken = array.take(np.where(missing, -1, codes), allow_fill=True)
        return pd.Series(taken, index=values.index, name=values.name)

    if isinstance(result, tuple):
        return tuple(spread(r) for r in result)
    return spread(result)


def _word_key(values: pd.Series) -> pd.Series:
    """Lower-case letters and digits only (``"Partially-Paid"`` -> ``"partiallypaid"``)."""
    return values.str.lower().str.replace(r"[^a-z0-9]", "", regex=True)


@cache
def value_words() -> dict[str, dict[str, Any]]:
    """The packaged word tables (``values.toml``), keys as :func:`_word_key` makes them."""
    raw = tomllib.loads(resources.files("auditkit.ingest").joinpath("values.toml").read_text())
    tables: dict[str, dict[str, Any]] = {}
    for section, words in raw.items():
        table: dict[str, Any] = {}
        for word, value in words.items():
            key = re.sub(r"[^a-z0-9]", "", word.lower())
            if key in table and table[key] != value:
                raise ValueError(f"values.toml: [{section}] {word!r} conflicts")
            table[key] = value
        tables[section] = table
    bad = set(tables["status"].values()) - set(STATUSES)
    if bad:
        raise ValueError(f"values.toml: unknown statuses {sorted(bad)}")
    return tables


def _map_words(values: pd.Series, table: Mapping[str, Any], dtype: str) -> Parsed:
    text = as_text(values)

    def lookup(uniques: pd.Series) -> pd.Series:
        keys = _word_key(uniques.str.replace("\u2713", "x").str.replace("\u2714", "x"))
        return keys.map(table).astype(dtype)

    result = on_uniques(text, lookup)
    return Parsed(result.astype(dtype), text.notna() & result.isna())


# --------------------------------------------------------------------------------------------
# numbers and money

_AMOUNT = re.compile(r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+")
#: The largest amount or quantity read, either sign: a trillion. A bigger number in a claim
#: line is a slip or a crafted cell (``1e308``), and it is not harmless: a sum or product of a
#: few such numbers overflows to infinity, which no total, audit or JSON file can carry
#: (float64 also stops holding cents exactly near 9e13). Beyond it, and for ``NaN``, ``inf``,
#: ``1E400``, a cell is unreadable like any other (reported, left blank).
MAX_AMOUNT = 1e12


def _in_range(numbers: pd.Series) -> pd.Series:
    """``numbers`` with NaN where not finite or beyond :data:`MAX_AMOUNT`."""
    return numbers.where(numbers.abs() <= MAX_AMOUNT)


def _parse_amount_text(uniques: pd.Series) -> pd.Series:
    s = uniques.str.replace(r"\s+", "", regex=True).str.upper().str.replace("USD", "", regex=False)
    paren = s.str.fullmatch(r"\(.*\)")
    s = s.mask(paren, s.str.slice(1, -1))
    credit = s.str.endswith("CR")
    s = s.mask(credit, s.str.slice(0, -2))
    lead = s.str.match(r"^\$?-|^-\$")
    trail = s.str.endswith("-") & (s.str.len() > 1)
    s = s.str.replace(r"^\$?-?\$?|-$", "", regex=True).str.replace("+", "", regex=False)
    zero_dash = uniques.str.fullmatch(r"\$?\s*-\s*")
    ok = s.str.fullmatch(_AMOUNT.pattern)
    number = pd.to_numeric(s.where(ok).str.replace(",", "", regex=False), errors="coerce")
    number = number.astype("float64")
    negative = (paren | credit | lead | trail).fillna(False).astype(bool)
    number = number.where(~negative, -number)
    return number.mask(zero_dash.fillna(False).astype(bool), 0.0)


def parse_money(values: pd.Series) -> Parsed:
    """Amounts to ``float64``: ``$1,234.50``, ``(45.00)``, ``45.00-``, blank -> NaN.

    ``NaN``, ``inf``, ``1E400`` and numbers beyond :data:`MAX_AMOUNT` (either sign) are bad,
    also in numeric workbook cells.
    """
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values):
        numbers = values.astype("float64")
        out = _in_range(numbers)
        return Parsed(out, numbers.notna() & out.isna())
    text = as_text(values)

    def parse(uniques: pd.Series) -> pd.Series:
        fast = _in_range(pd.to_numeric(uniques, errors="coerce").astype("float64"))
        need = fast.isna()
        if need.any():
            fast[need] = _parse_amount_text(uniques[need]).astype("float64")
        return _in_range(fast)

    out = on_uniques(text, parse).astype("float64")
    return Parsed(out, text.notna() & out.isna())


def parse_number(values: pd.Series) -> Parsed:
    """Quantities (units, minutes) to ``Float64``; accepts ``1,200`` and ``2.0``."""
    parsed = parse_money(values)
    return Parsed(parsed.values.astype("Float64"), parsed.bad)


def parse_int(values: pd.Series) -> Parsed:
    """Whole numbers to ``Int64``; ``3.0`` -> 3; ``2.5`` or text is bad."""
    parsed = parse_money(values)
    number = parsed.values
    whole = number.notna() & (np.floor(number) == number)
    out = number.where(whole).astype("Float64").astype("Int64")
    return Parsed(out, parsed.bad | (number.notna() & ~whole))


# --------------------------------------------------------------------------------------------
# dates

#: Formats tried for date columns (after any time of day is cut off), in preference order.
DATE_FORMATS: tuple[str, ...] = (
    "%m/%d/%Y",
    "%m/%d/%y",
    "ISO8601",
    "%m-%d-%Y",
    "%m-%d-%y",
    "%m.%d.%Y",
    "%Y/%m/%d",
    "%d-%b-%Y",
    "%d-%b-%y",
    "%d %b %Y",
    "%b %d %Y",
    "%b %d, %Y",
    "%B %d, %Y",
    "%B %d %Y",
    "%d/%m/%Y",
    "%d/%m/%y",
    "%d.%m.%Y",
)
#: Excel serial day numbers accepted as dates (1927-05-18 .. 2173-10-14).
_SERIAL_RANGE = (10_000, 99_999)
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
_TIME = re.compile(
    r"(?:[ T]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:[AaPp]\.?[Mm]\.?)?(?:Z|[+-]\d{2}:?\d{2})?)$"
)
_YEARS = (1900, 2100)


def _from_serial(numbers: pd.Series) -> pd.Series:
    numbers = numbers.astype("float64")
    ok = numbers.between(*_SERIAL_RANGE)
    days = numbers.where(ok)
    return _EXCEL_EPOCH + pd.to_timedelta(np.floor(days), unit="D")


def _plausible(dates: pd.Series) -> pd.Series:
    years = dates.dt.year
    return dates.where((years >= _YEARS[0]) & (years <= _YEARS[1]))


def choose_date_format(uniques: pd.Series, sample: int = 500) -> list[str]:
    """Date formats that read some of ``uniques``, best first (ties keep :data:`DATE_FORMATS`
    order, so month/day wins over day/month when both read everything)."""
    probe = uniques.iloc[:sample] if len(uniques) > sample else uniques
    scores = []
    for rank, fmt in enumerate(DATE_FORMATS):
        parsed = pd.to_datetime(probe, format=fmt, errors="coerce")
        hits = int(_plausible(parsed).notna().sum())
        if hits:
            scores.append((-hits, rank, fmt))
    return [fmt for _, _, fmt in sorted(scores)]


def _parse_date_text(uniques: pd.Series) -> tuple[pd.Series, pd.Series]:
    # a service-date range ("01/05/2024 - 01/06/2024", "01/05/2024 to 01/06/2024"): the start
    s = uniques.str.replace(
        r"^(\S+?)\s*(?:\s-\s|\s(?:to|thru|through)\s|-(?=\d{1,2}/))\s*\S+$", r"\1", regex=True
    )
    s = s.str.replace(_TIME.pattern, "", regex=True).str.strip()
    out = pd.Series(pd.NaT, index=uniques.index, dtype="datetime64[ns]")
    serial = s.str.fullmatch(r"\d{5}(?:\.\d+)?").fillna(False).astype(bool)
    used = pd.Series(pd.NA, index=uniques.index, dtype=TEXT)
    if serial.any():
        out[serial] = _from_serial(pd.to_numeric(s[serial]))
        used[serial & out.notna()] = "Excel serial"
    rest = ~serial
    formats = choose_date_format(s[rest])
    for fmt in formats:
        todo = rest & out.isna()
        if not todo.any():
            break
        parsed = _plausible(pd.to_datetime(s[todo], format=fmt, errors="coerce"))
        got = parsed.notna()
        out[got[got].index] = parsed[got].astype("datetime64[ns]")
        used[got[got].index] = fmt
    return out, used


def read_dates(values: pd.Series) -> tuple[Parsed, list[str]]:
    """:func:`parse_dates` plus the formats it read the column with (for the file report)."""
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        out = _plausible(values.astype("datetime64[ns]").dt.normalize())
        return Parsed(out, values.notna() & out.isna()), ["date cells"]
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values):
        out = _from_serial(values).astype("datetime64[ns]")
        return Parsed(out, values.notna() & out.isna()), ["Excel serial"]
    text = as_text(values)
    codes, uniques = pd.factorize(text, use_na_sentinel=True)
    parsed, used = _parse_date_text(pd.Series(uniques, dtype=TEXT))
    # One slot past the distinct values for the blank cells (code -1): a column of blanks only
    # has no distinct value at all.
    table = np.append(parsed.to_numpy(dtype="datetime64[ns]"), np.datetime64("NaT", "ns"))
    taken = table[np.where(codes < 0, len(table) - 1, codes)]
    out = pd.Series(taken, index=text.index)
    out = out.astype("datetime64[ns]")
    found = set(used.dropna())
    formats = [f for f in ("Excel serial", *DATE_FORMATS) if f in found]
    return Parsed(out, text.notna() & out.isna()), formats


def parse_dates(values: pd.Series) -> Parsed:
    """Dates to ``datetime64[ns]`` at midnight; the format is chosen per column.

    Accepts ``01/05/2024``, ``1/5/24``, ISO ``2024-01-05``, date-times, ``05-Jan-2024``, Excel
    serial numbers (as text or numbers) and date cells. Years outside 1900-2100 are bad.
    """
    return read_dates(values)[0]


# --------------------------------------------------------------------------------------------
# codes and text


#: Text cells :func:`clean_text` might change: empty, starting or ending with a control, space or
#: non-ASCII character (more than trimming removes, so nothing it removes is missed), or holding
#: a tab, a line break or a run of spaces.
_MAY_NEED_CLEANING = (
    r"^$|^[\x00-\x20\x{80}-\x{10FFFF}]|[\x00-\x20\x{80}-\x{10FFFF}]$|[ \t\r\n]{2}|[\t\r\n]"
)


def _spaceless_ascii(array: pa.ChunkedArray) -> bool:
    """True when no cell is empty and every byte is printable ASCII other than a space (claim
    and account numbers): nothing to trim or squeeze. Checked on the data buffers, faster than
    a regex per cell; ``False`` only means "look closer"."""
    if not pa.types.is_large_string(array.type):
        return False
    for chunk in array.chunks:
        offsets_buffer, data_buffer = chunk.buffers()[1:3]
        if data_buffer is None:
            continue
        offsets = np.frombuffer(offsets_buffer, np.int64)
        start, end = offsets[chunk.offset], offsets[chunk.offset + len(chunk)]
        data = np.frombuffer(data_buffer, np.uint8)[start:end]
        if len(data) and (data.min() <= 0x20 or data.max() >= 0x7F):
            return False
    return not pc.any(pc.equal(array, "")).as_py()


def clean_text(values: pd.Series) -> Parsed:
    """Free text (names, payers, claim numbers): trimmed, inner runs of spaces made one.

    A text column that is clean already (the CSV reader's claim numbers: trimmed, blanks
    missing) is found with one regex scan in pyarrow and returned as it is, rather than copied
    by trimming a million cells again.
    """
    if values.dtype == TEXT and len(values):
        array = pa.chunked_array(pa.array(values.array))
        if (
            _spaceless_ascii(array)
            or not pc.any(pc.match_substring_regex(array, _MAY_NEED_CLEANING)).as_py()
        ):
            text = pd.Series(values.array, index=values.index, name=values.name)
            return Parsed(text, _bad_none(values.index))
    text = as_text(values)
    runs = text.str.contains(r"[ \t\r\n]{2}|[\t\r\n]").fillna(False).astype(bool)
    if runs.any():
        text = text.copy()
        text[runs] = text[runs].str.replace(r"[ \t\r\n]+", " ", regex=True)
    return Parsed(text.astype(TEXT), _bad_none(values.index))


def clean_codes(values: pd.Series) -> pd.Series:
    """Codes as text: upper-case, no spaces, no ``.0`` left by a number cell (``20552.0``)."""
    text = as_text(values)

    def clean(u: pd.Series) -> pd.Series:
        return (
            u.str.upper()
            .str.replace(r"\s+", "", regex=True)
            .str.replace(r"(?<=\d)\.0+$", "", regex=True)
        )

    return on_uniques(text, clean).astype(TEXT)


_CPT = r"\d{4}[0-9A-Z]|[A-Z]\d{4}"


class ParsedCpt(NamedTuple):
    """CPT/HCPCS codes, modifiers found glued to them (``64483-50``), and the bad mask."""

    values: pd.Series
    modifiers: pd.Series
    bad: pd.Series


def parse_cpt(values: pd.Series) -> ParsedCpt:
    """CPT/HCPCS codes: ``20552.0`` -> ``20552``, ``g3002`` -> ``G3002``.

    A code with modifiers attached (``64483-50``, ``64483 RT 59``) is split; the modifiers come
    back in ``modifiers`` (canonical list text, ``""`` for none). Cells that are not a 5-character
    code are kept as written (upper-case) and marked bad.
    """
    text = as_text(values)

    def split(u: pd.Series) -> tuple[pd.Series, pd.Series]:
        s = u.str.upper().str.strip().str.replace(r"(?<=\d)\.0+$", "", regex=True)
        parts = s.str.extract(
            rf"^(?P<code>{_CPT})(?:[\s\-:,/]+(?P<mods>(?:[0-9A-Z]{{2}}[\s\-:,/]*){{1,4}}))?$"
        )
        code = parts["code"].fillna(s.str.replace(r"\s+", "", regex=True)).astype(TEXT)
        mods = parts["mods"].fillna("").astype(TEXT)
        mods = mods.str.findall(r"[0-9A-Z]{2}").map(LIST_SEP.join, na_action="ignore")
        return code, mods.fillna("").astype(TEXT)

    code, mods = on_uniques(text, split)
    code = code.astype(TEXT)
    mods = mods.fillna("").astype(TEXT)
    bad = text.notna() & ~code.str.fullmatch(_CPT).fillna(False).astype(bool)
    return ParsedCpt(code, mods, bad)


def parse_place_of_service(values: pd.Series) -> Parsed:
    """Place of service as two digits (``11``; ``2`` -> ``02``); other text is bad."""
    codes = clean_codes(values)
    codes = codes.mask(codes.str.fullmatch(r"\d").fillna(False).astype(bool), "0" + codes)
    bad = codes.notna() & ~codes.str.fullmatch(r"\d{2}").fillna(False).astype(bool)
    return Parsed(codes, bad)


# --------------------------------------------------------------------------------------------
# list columns


def _combine(columns: tuple[pd.Series, ...]) -> pd.Series:
    """Join several source columns cell by cell with the list separator, in order."""
    texts = [as_text(c).fillna("") for c in columns]
    combined = texts[0]
    for more in texts[1:]:
        combined = combined + LIST_SEP + more
    combined = combined.astype(TEXT)
    return combined.mask(combined.str.fullmatch(r"[, \t]*").fillna(True).astype(bool))


#: Python's ``\s`` (what ``str.isspace`` calls a space) for pyarrow's RE2, whose ``\s`` is
#: ASCII only.
_RE2_SPACE = r"\t\n\x0b\x0c\r\x1c-\x1f\x85\p{Z}"


def _separators(characters: str) -> tuple[str, str]:
    """A run of ``characters`` (a regex character class body) or whitespace: the pattern for
    Python's ``re`` and the same for pyarrow's RE2 (see :func:`_tokens`)."""
    return f"[{characters}\\s]+", f"[{characters}{_RE2_SPACE}]+"


def _tokens(uniques: pd.Series, split: str, arrow_split: str | None = None) -> pd.Series:
    """Exploded tokens of each unique cell; index = position of the cell in ``uniques``.

    With ``arrow_split`` (``split`` written for RE2) the cells are split in pyarrow: a Python
    regex per cell takes a fifth of a second on a messy export's eighty thousand distinct
    diagnosis cells. The tokens are the same either way.
    """
    upper = uniques.str.upper()
    if arrow_split is None or upper.dtype != TEXT or upper.isna().any():
        return upper.str.split(split, regex=True).explode()
    text = pa.chunked_array(pa.array(upper.array)).combine_chunks()
    cells = pc.split_pattern_regex(text, arrow_split)
    index = uniques.index.to_numpy()[pc.list_parent_indices(cells).to_numpy()]
    tokens = pd.array(pc.list_flatten(cells), dtype=pd.StringDtype("pyarrow", na_value=np.nan))
    return pd.Series(tokens, index=index)


def _regroup(tokens: pd.Series, keep: pd.Series, n: int, limit: int) -> tuple[pd.Series, pd.Series]:
    """Join the kept tokens back per cell (at most ``limit``); return (text, over-limit mask).

    ``tokens`` come as :func:`_tokens` gives them: grouped by cell, in order. The join is one
    pyarrow ``binary_join`` over a list per cell: a messy export has tens of thousands of
    distinct diagnosis cells, and a Python join per cell took a second.
    """
    kept = tokens[keep.fillna(False).astype(bool)]
    cells = kept.index.to_numpy(dtype=np.int64)
    counts = np.bincount(cells, minlength=n)
    # a token's place in its cell: how far it is from the cell's first token
    place = np.arange(len(cells)) - (np.cumsum(counts) - counts)[cells]
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.minimum(counts, limit), out=offsets[1:])
    values = pa.chunked_array(pa.array(kept[place < limit].astype(TEXT).array))
    lists = pa.LargeListArray.from_arrays(pa.array(offsets), values.combine_chunks())
    joined = pc.binary_join(lists, pa.scalar(LIST_SEP, pa.large_string()))
    index = pd.RangeIndex(n)
    return pd.Series(pd.array(joined, dtype=TEXT), index=index), pd.Series(
        counts > limit, index=index
    )


def parse_modifiers(*columns: pd.Series) -> Parsed:
    """Modifiers from one or more columns to ``"25,59"``: in order, upper-case, at most 4.

    Cells like ``25,59``, ``25 59``, ``-RT``, ``25;59``, ``RT-59`` and numbers like ``25.0`` are
    read; a token that is not two letters/digits (``5``) is left out and the cell marked bad.
    """
    combined = _combine(columns)

    def parse(u: pd.Series) -> tuple[pd.Series, pd.Series]:
        tokens = _tokens(u, *_separators(r",;/|+\-")).str.replace(r"(?<=\d)\.0+$", "", regex=True)
        tokens = tokens[tokens.fillna("") != ""]
        valid = tokens.str.fullmatch(r"[0-9A-Z]{2}")
        joined, over = _regroup(tokens, valid, len(u), 4)
        invalid = (~valid.fillna(False).astype(bool)).groupby(level=0).any()
        invalid = invalid.reindex(range(len(u)), fill_value=False)
        return joined, (invalid | over).astype("boolean")

    joined, bad = on_uniques(combined, parse)
    return Parsed(joined.fillna("").astype(TEXT), bad.fillna(False).astype(bool))


_ICD_CODE = r"[A-Z][0-9][0-9A-Z](?:\.?[0-9A-Z]{1,4})?"


def parse_diagnoses(*columns: pd.Series) -> Parsed:
    """ICD-10-CM codes from one or more columns to ``"M54.16,M47.816"`` (dot added, max 12).

    ``M5416`` -> ``M54.16``; ``m54.5`` -> ``M54.5``. Words in the cell (a description after the
    code) are ignored; a cell with a code-like token that is not an ICD-10 code, or with no code
    at all, is marked bad.
    """
    combined = _combine(columns)

    def parse(u: pd.Series) -> tuple[pd.Series, pd.Series]:
        tokens = _tokens(u, *_separators(",;|/")).str.strip(".-:()")
        tokens = tokens[tokens.fillna("") != ""]
        valid = tokens.str.fullmatch(_ICD_CODE).fillna(False).astype(bool)
        bare = tokens.str.replace(".", "", regex=False)
        dotted = bare.where(bare.str.len() <= 3, bare.str.slice(0, 3) + "." + bare.str.slice(3))
        codelike = tokens.str.contains(r"\d").fillna(False).astype(bool)
        joined, over = _regroup(dotted, valid, len(u), 12)
        wrong = (codelike & ~valid).groupby(level=0).any().reindex(range(len(u)), fill_value=False)
        none = joined == ""
        return joined, (wrong | over | none).astype("boolean")

    joined, bad = on_uniques(combined, parse)
    return Parsed(joined.fillna("").astype(TEXT), bad.fillna(False).astype(bool))


GROUP_CODES: tuple[str, ...] = ("CO", "PR", "OA", "PI", "CR")
_CARC = re.compile(r"(?<![A-Z0-9])(?:(CO|PR|OA|PI|CR)[\s\-:]*)?([A-Z]?\d{1,3})(?![A-Z0-9])")


def _carc_cell(text: str, groups: str) -> tuple[str, bool]:
    found = _CARC.findall(re.sub(r"(?<=\d)\.0+\b", "", text.upper()))
    group_list = [g for g in re.split(r"[^A-Z]+", groups.upper()) if g in GROUP_CODES]
    items = []
    for index, (group, code) in enumerate(found):
        if not group and group_list:
            group = group_list[index] if len(group_list) == len(found) else group_list[0]
        items.append(f"{group}-{code}" if group else code)
    return LIST_SEP.join(items), not items and bool(text.strip())


def parse_denial_codes(*columns: pd.Series, groups: pd.Series | None = None) -> Parsed:
    """CARCs to ``"CO-197,PR-1"``: ``CO-197``, ``CO197``, ``CO 197``, several per cell.

    A bare code takes its group from ``groups`` (a separate group column: one group for all
    codes, or one per code in order). With no group anywhere the bare code is kept (``197``).
    """
    combined = _combine(columns)
    group_text = as_text(groups).fillna("") if groups is not None else None
    if group_text is None:
        key = combined
    else:
        key = (combined.fillna("") + "\x1f" + group_text).astype(TEXT)
        key = key.mask(combined.isna())

    def parse(u: pd.Series) -> tuple[pd.Series, pd.Series]:
        # few distinct cells per export: a regex per unique cell is cheap and keeps pairing clear
        pairs = [(t.split("\x1f") + [""])[:2] for t in u.tolist()]
        results = [_carc_cell(text, grp) for text, grp in pairs]
        joined = pd.Series([r[0] for r in results], index=u.index, dtype=TEXT)
        bad = pd.Series([r[1] for r in results], index=u.index, dtype="boolean")
        return joined, bad

    joined, bad = on_uniques(key, parse)
    return Parsed(joined.fillna("").astype(TEXT), bad.fillna(False).astype(bool))


def parse_remark_codes(*columns: pd.Series) -> Parsed:
    """RARCs to an upper-case list: ``n290 m127`` -> ``"N290,M127"``; cells with none are bad."""
    combined = _combine(columns)

    def parse(u: pd.Series) -> tuple[pd.Series, pd.Series]:
        found = u.str.upper().str.findall(r"(?<![A-Z0-9])[A-Z]{1,2}\d{1,3}(?![A-Z0-9])")
        joined = found.map(LIST_SEP.join, na_action="ignore").fillna("").astype(TEXT)
        return joined, (joined == "").astype("boolean")

    joined, bad = on_uniques(combined, parse)
    return Parsed(joined.fillna("").astype(TEXT), bad.fillna(False).astype(bool))


def parse_spinal_levels(*columns: pd.Series) -> Parsed:
    """Spinal levels to ``"L4-L5,L5-S1"``: ``L4-5`` -> ``L4-L5``, ``l5/s1`` -> ``L5-S1``."""
    combined = _combine(columns)

    def parse(u: pd.Series) -> tuple[pd.Series, pd.Series]:
        tokens = _tokens(u, r"\s*(?:[,;|&+]|\bAND\b)\s*").str.replace(r"\s+", "", regex=True)
        tokens = tokens[tokens.fillna("") != ""]
        parts = tokens.str.extract(r"^([CTLS])(\d{1,2})(?:[-/]([CTLS])?(\d{1,2}))?$")
        valid = parts[0].notna()
        single = parts[0] + parts[1]
        pair = single + "-" + parts[2].fillna(parts[0]) + parts[3]
        level = pair.where(parts[3].notna(), single)
        joined, _ = _regroup(level, valid, len(u), 99)
        wrong = (~valid).groupby(level=0).any().reindex(range(len(u)), fill_value=False)
        return joined, wrong.astype("boolean")

    joined, bad = on_uniques(combined, parse)
    return Parsed(joined.fillna("").astype(TEXT), bad.fillna(False).astype(bool))


# --------------------------------------------------------------------------------------------
# coded words


def parse_status(values: pd.Series, extra: Mapping[str, str] | None = None) -> Parsed:
    """Status words to the canonical statuses using ``values.toml`` plus ``extra`` (a mapping
    file's ``[status]``, which wins). Unknown words become ``<NA>`` and are marked bad."""
    table = dict(value_words()["status"])
    for word, status in (extra or {}).items():
        table[re.sub(r"[^a-z0-9]", "", word.lower())] = status
    return _map_words(values, table, "string")


def parse_bool(values: pd.Series) -> Parsed:
    """Y/N, Yes/No, 1/0, TRUE/FALSE, X to ``boolean``.

    When the column marks only with ``X`` (or a tick), blank cells mean ``False``.
    """
    parsed = _map_words(values, value_words()["boolean"], "boolean")
    text = as_text(values)
    marks = text.dropna().str.lower().str.replace("\u2713", "x").str.replace("\u2714", "x")
    if len(marks) and marks.eq("x").all():
        return Parsed(parsed.values.fillna(False), parsed.bad)
    return parsed


def parse_frequency(values: pd.Series) -> Parsed:
    """Claim frequency code to ``Int64``: 1 original, 7 replacement, 8 void (words too)."""
    text = as_text(values)
    text = text.str.replace(r"(?<=\d)\.0+$", "", regex=True)
    return _map_words(text, value_words()["claim_frequency"], "Int64")


def parse_laterality(values: pd.Series) -> Parsed:
    """Left/LT/L -> left; Right/RT/R -> right; Bilateral/Bilat/50/B -> bilateral."""
    return _map_words(values, value_words()["laterality"], "string")


def parse_imaging(values: pd.Series) -> Parsed:
    """Fluoro/Fluoroscopy -> fluoroscopy; CT -> ct; US/Ultrasound -> ultrasound; None -> none."""
    return _map_words(values, value_words()["imaging_guidance"], "string")
