"""A reader's raw table -> canonical claim-line columns, with every problem reported.

:func:`build_frame` is the step :func:`auditkit.ingest.load` (and the grid reader,
:mod:`auditkit.ingest.grid`) runs once the header row is chosen and the cells below it are
read: it leaves out blank and footer lines, parses each mapped column into its canonical
column (see :mod:`auditkit.ingest.normalise`), leaves out the lines that cannot be placed (no
claim number, date of service or code) and fills the file's :class:`FileReport` with row
problems and warnings.

Messages never quote a cell (a cell can be patient data, and a row whose cells are shifted by an
unquoted delimiter puts a name or an account number in any column): a :class:`RowProblem` says
"not a date" and keeps the cell in its ``value``; warnings name columns and rows only. Every row
kept with an unreadable value is listed by column in ``FileReport.unread_rows``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from auditkit.claims import BY_NAME, LIST_SEP, REQUIRED
from auditkit.errors import InputError
from auditkit.ingest import normalise as norm
from auditkit.ingest.footers import interior_non_data
from auditkit.ingest.headers import HeaderMatch
from auditkit.ingest.mapping import ColumnMapping
from auditkit.ingest.model import FileReport, RowProblem, value_shape
from auditkit.ingest.readers import RawTable, code_dtype

#: Row problems kept as examples per column (the warnings carry the full counts).
MAX_EXAMPLES = 100
#: A line without these cannot be placed or audited, so it is left out (and reported).
LINE_KEYS: tuple[str, ...] = ("claim_id", "date_of_service", "cpt")
#: What a value should have been, for the problem message: "not {what}".
_WHAT = {
    "date": "a date",
    "money": "an amount",
    "number": "a number",
    "int": "a whole number",
    "cpt": "a 5-character CPT/HCPCS code",
    "place_of_service": "a two-digit place-of-service code",
    "modifiers": "a list of 2-character modifiers (at most 4)",
    "diagnosis_codes": "a list of ICD-10-CM codes",
    "denial_codes": "a list of claim adjustment reason codes",
    "remark_codes": "a list of remark codes",
    "spinal_levels": "a list of spinal levels (like L4-L5)",
}
#: Columns read through a word table: unknown words are summarised, not listed row by row.
_WORD_COLUMNS = {
    "status": "status words",
    "edited_before_submission": "yes/no values",
    "claim_frequency": "claim frequency codes",
    "laterality": "laterality words",
    "imaging_guidance": "imaging guidance words",
}
_HINT_WORDS = {
    "status": "add them under [status] in a mapping file",
}


def _display_values(sources: list[pd.Series]) -> pd.Series:
    texts = [norm.as_text(s) for s in sources]
    if len(texts) == 1:
        return texts[0]
    joined = texts[0].fillna("")
    for more in texts[1:]:
        joined = joined + " | " + more.fillna("")
    return joined


class _LazyDisplay:
    """The cells as the export shows them, computed only when a message needs them."""

    def __init__(self, sources: list[pd.Series]) -> None:
        self.sources = sources
        self.value: pd.Series | None = None

    def __call__(self) -> pd.Series:
        if self.value is None:
            self.value = _display_values(self.sources)
        return self.value


def _is_text(values: pd.Series) -> bool:
    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return isinstance(dtype.categories.dtype, pd.StringDtype)
    return isinstance(dtype, pd.StringDtype)


@dataclass
class _Distinct:
    """The distinct rows of one or more text columns read side by side.

    ``sources`` hold one Series per column (index 0..k-1, rows in order of first appearance);
    ``codes`` give each line's row in them.
    """

    codes: np.ndarray
    sources: list[pd.Series]


def _distinct(columns: list[pd.Series]) -> _Distinct | None:
    """The distinct rows of ``columns``, or ``None`` when cleaning every line is as good.

    Exports repeat a few values per column (dates, codes, payers), so the cleaners run on the
    distinct rows and the result is spread back: the same values as cleaning every line, since
    each cleaner's result for a line depends on that line's cells only (a date column's format
    is chosen from its distinct values in order of appearance, which this order keeps). Used
    for categorical text (the CSV reader's) and for several text columns feeding one
    list column; a single ``string`` column (mostly distinct values, or a workbook's) is
    cleaned as it is.
    """
    if not all(_is_text(column) for column in columns):
        return None
    if len(columns) == 1:
        column = columns[0]
        if not isinstance(column.dtype, pd.CategoricalDtype):
            return None
        codes, categories = column.cat.codes.to_numpy(), column.cat.categories.array
        if _first_appearance_order(codes, len(categories)):
            # the reader numbers categories as they appear: missing cells become one more row
            size = len(categories)
            blank = codes < 0
            if blank.any():
                codes = np.where(blank, size, codes).astype(code_dtype(size + 1), copy=False)
                categories = categories.take(np.append(np.arange(size), -1), allow_fill=True)
            return _Distinct(codes, [pd.Series(categories)])
        line_codes, picked = pd.factorize(codes)
        distinct = [pd.Series(categories.take(picked, allow_fill=True))]
        return _Distinct(line_codes.astype(code_dtype(len(picked))), distinct)
    parts: list[tuple[np.ndarray, Any]] = []
    for column in columns:
        if isinstance(column.dtype, pd.CategoricalDtype):
            parts.append((column.cat.codes.to_numpy(), column.cat.categories.array))
        else:
            parts.append(pd.factorize(column))
    key = np.zeros(len(columns[0]), dtype=np.int64)
    bound = 1
    for codes, uniques in parts:
        size = len(uniques) + 1
        if bound * size >= 2**62:  # renumber the combinations so far before widening
            key = pd.factorize(key)[0]
            bound = int(key.max()) + 1 if len(key) else 1
        # in place: a million lines times four list columns of int64 temporaries add up
        key *= size
        key += codes
        key += 1
        bound *= size
    line_codes, combinations = pd.factorize(key)
    del key
    line_codes = line_codes.astype(code_dtype(len(combinations)))
    # codes are numbered in order of first appearance, so a line starts a new distinct row
    # exactly where the running maximum grows
    first = np.zeros(len(combinations), dtype=np.int64)
    if len(line_codes):
        high = np.maximum.accumulate(line_codes)
        first[1:] = np.flatnonzero(high[1:] != high[:-1]) + 1
    distinct = [pd.Series(uniques.take(codes[first], allow_fill=True)) for codes, uniques in parts]
    return _Distinct(line_codes, distinct)


def _first_appearance_order(codes: np.ndarray, size: int) -> bool:
    """True when every one of ``size`` categories is used and each first appears after all
    lower ones (missing cells, code -1, anywhere)."""
    if not len(codes):
        return size == 0
    high = np.maximum.accumulate(codes)
    if int(high[-1]) != size - 1 or int(codes[0]) > 0:
        return False
    # no overflow: the code type holds one more than the highest code (see code_dtype)
    high += 1
    return bool(np.less_equal(codes[1:], high[:-1]).all())


def _spread(values: pd.Series, codes: np.ndarray, index: pd.Index) -> pd.Series:
    """Per-distinct-row ``values`` taken back to every line."""
    return pd.Series(values.array.take(codes), index=index)


def _parse(
    name: str, sources: list[pd.Series], mapping: ColumnMapping | None, groups: pd.Series | None
) -> tuple[norm.Parsed, pd.Series | None, list[str]]:
    """Parse one canonical column; returns (parsed, cpt-embedded modifiers, format notes)."""
    kind = BY_NAME[name].kind
    first = sources[0]
    notes: list[str] = []
    if name == "cpt":
        cpt = norm.parse_cpt(first)
        return norm.Parsed(cpt.values, cpt.bad), cpt.modifiers, notes
    list_parsers: dict[str, Callable[..., norm.Parsed]] = {
        "modifiers": norm.parse_modifiers,
        "diagnosis_codes": norm.parse_diagnoses,
        "remark_codes": norm.parse_remark_codes,
        "spinal_levels": norm.parse_spinal_levels,
    }
    if name == "denial_codes":
        return norm.parse_denial_codes(*sources, groups=groups), None, notes
    if name in list_parsers:
        return list_parsers[name](*sources), None, notes
    if name == "status":
        return norm.parse_status(first, mapping.status if mapping else None), None, notes
    word_parsers = {
        "edited_before_submission": norm.parse_bool,
        "claim_frequency": norm.parse_frequency,
        "laterality": norm.parse_laterality,
        "imaging_guidance": norm.parse_imaging,
        "place_of_service": norm.parse_place_of_service,
    }
    if name in word_parsers:
        return word_parsers[name](first), None, notes
    if kind == "date":
        parsed, formats = norm.read_dates(first)
        day_first = [f for f in formats if f.startswith("%d")]
        if day_first:
            notes.append("dates read as day/month/year (" + ", ".join(day_first) + ")")
        return parsed, None, notes
    if kind == "money":
        return norm.parse_money(first), None, notes
    if kind == "number":
        return norm.parse_number(first), None, notes
    if kind == "int":
        return norm.parse_int(first), None, notes
    return norm.clean_text(first), None, notes


def _rows_text(rows: pd.Series, mask: pd.Series, limit: int = 3) -> str:
    """ "row 4" or "rows 4, 9, 12 and 3 more": where ``mask`` holds (no cell values)."""
    picked = [str(r) for r in rows[mask].iloc[:limit]]
    more = int(mask.sum()) - len(picked)
    text = ("row " if len(picked) == 1 and not more else "rows ") + ", ".join(picked)
    return text + (f" and {more:,} more" if more > 0 else "")


@dataclass
class _Table:
    """The export's data lines while they become canonical columns.

    ``cells`` (export column position -> cells) is emptied as columns are parsed, so the
    export's cells and the canonical table are not held at once.
    """

    cells: dict[int, pd.Series]
    index: pd.Index
    rows: pd.Series  # each line's row number as a spreadsheet program shows it
    headers: list[str]
    match: HeaderMatch
    #: The all-False mask that columns without a hit share: a million lines times thirty
    #: columns of masks would add up.
    none: pd.Series

    def header_of(self, name: str) -> str:
        return " + ".join(self.headers[p] for p in self.match.columns[name])


def build_frame(
    raw: RawTable, match: HeaderMatch, mapping: ColumnMapping | None, report: FileReport
) -> pd.DataFrame:
    """Turn a raw table into canonical columns, filling ``report`` (problems, footers, ...).

    The raw cells are handed over: ``raw.data`` is emptied, and each export column is released
    once its canonical column is parsed (unless a problem may still keep one of its cells), so that
    a million lines do not hold the export's cells and the canonical table at once.
    """
    table = _take_data_lines(raw, match, report)
    groups = _denial_groups(table, report)
    parsed, embedded = _parse_columns(table, mapping, groups, report)
    left_out = _leave_out_unplaceable(report, parsed, table)
    _report_kept_problems(report, parsed, ~left_out, table.rows)
    out = {name: column.values for name, column in parsed.items()}
    if embedded is not None:
        _move_embedded_modifiers(out, embedded, table.header_of("cpt"), report)
    _count_left_out(report, left_out, unsplit=len(raw.problems))
    return _canonical_frame(out, table, left_out, report.path)


def _take_data_lines(raw: RawTable, match: HeaderMatch, report: FileReport) -> _Table:
    """Take the cells out of ``raw`` without its blank, footer and repeated header lines, and
    report those and the rows the reader could not split into columns."""
    data = raw.data
    raw.data = pd.DataFrame(index=pd.RangeIndex(0))
    key_columns = [match.columns[name][0] for name in REQUIRED if name in match.columns]
    blank, footer = interior_non_data(data, raw.headers, key_columns)
    row_numbers = pd.Series(raw.rows, index=data.index)
    report.footer_rows = sorted(raw.footer_rows + row_numbers[footer].tolist())
    report.problems.extend(raw.problems[:MAX_EXAMPLES])
    if raw.problems:
        report.warnings.append(
            f"{len(raw.problems):,} rows could not be split into the header's columns and were "
            f"left out (e.g. {', '.join(f'row {p.row}' for p in raw.problems[:3])})"
        )
    report.warnings.extend(raw.warnings)
    keep = ~(blank | footer)
    if not keep.all():
        data = data[keep]
    rows = row_numbers[keep]
    if len(data) == 0:
        report.warnings.append("no claim lines below the header row")
    cells = {position: data[position] for position in data.columns}
    index = data.index
    return _Table(cells, index, rows, raw.headers, match, pd.Series(False, index=index))


def _denial_groups(table: _Table, report: FileReport) -> pd.Series | None:
    """The CARC group column's cells (read with the denial codes), if the export has one."""
    if "denial_group" not in table.match.columns:
        return None
    groups = table.cells[table.match.columns["denial_group"][0]]
    if "denial_codes" not in table.match.columns:
        report.warnings.append(
            f"column {table.header_of('denial_group')!r} (CARC group) found without a denial "
            "code column; ignored"
        )
    return groups


def _parse_columns(
    table: _Table, mapping: ColumnMapping | None, groups: pd.Series | None, report: FileReport
) -> tuple[dict[str, _Column], pd.Series | None]:
    """Pass 1: parse every canonical column; returns them and the modifiers found written
    after the code in the CPT column (``None`` when there are none)."""
    parsed: dict[str, _Column] = {}
    embedded = None
    for name, positions in table.match.columns.items():
        if name not in BY_NAME:
            continue
        sources = [table.cells[p] for p in positions]
        result, missing, mods, notes = _parse_lines(name, sources, mapping, groups, table.none)
        for note in notes:
            report.warnings.append(f"column {table.header_of(name)!r}: {note}")
        if mods is not None and bool((mods != "").any()):
            embedded = mods
        column = _to_column(table, name, positions, sources, result, missing)
        if len(table.index) and name in REQUIRED:
            _fail_if_unreadable(report, name, column, table.rows)
        parsed[name] = column
    return parsed, embedded


def _parse_lines(
    name: str,
    sources: list[pd.Series],
    mapping: ColumnMapping | None,
    groups: pd.Series | None,
    none: pd.Series,
) -> tuple[norm.Parsed, pd.Series, pd.Series | None, list[str]]:
    """:func:`_parse` for every line: run on the distinct rows when the cells allow it (see
    :func:`_distinct`) and spread back to the lines.

    Returns the parsed column, its mask of missing values (see :func:`_missing`), the
    cpt-embedded modifiers and the format notes. The masks are worked out on the distinct rows
    too, and a mask with no line set is ``none`` (the table's shared all-False mask) rather
    than a new million-line array.
    """
    with_groups = name == "denial_codes" and groups is not None
    distinct = _distinct(sources + [groups] if with_groups else sources)
    if distinct is None:
        result, mods, notes = _parse(name, sources, mapping, groups)
        return result, _missing(name, result), mods, notes
    few = distinct.sources
    result, mods, notes = _parse(
        name, few[: len(sources)], mapping, few[-1] if with_groups else None
    )
    codes = distinct.codes
    missing = _spread_mask(_missing(name, result), codes, none)
    result = norm.Parsed(
        _spread(result.values, codes, none.index), _spread_mask(result.bad, codes, none)
    )
    if mods is not None:
        mods = _spread(mods, codes, none.index) if bool((mods != "").any()) else None
    return result, missing, mods, notes


def _missing(name: str, result: norm.Parsed) -> pd.Series:
    """The cells with no value: blank (or an empty list, in a list column) but not unreadable."""
    values = result.values
    if BY_NAME[name].kind == "list":
        return values.isna() | (values == "")
    return values.isna() & ~result.bad


def _spread_mask(mask: pd.Series, codes: np.ndarray, none: pd.Series) -> pd.Series:
    """A per-distinct-row mask taken back to every line (``none`` when no row is set)."""
    flags = mask.to_numpy(dtype=bool)
    if not flags.any():
        return none
    return pd.Series(flags[codes], index=none.index)


def _to_column(
    table: _Table,
    name: str,
    positions: list[int],
    sources: list[pd.Series],
    result: norm.Parsed,
    missing: pd.Series,
) -> _Column:
    """One parsed column with its problem masks (``missing``: see :func:`_missing`); the
    export's cells are released unless a problem may still keep one of them as its value."""
    bad, missing = _or_none(result.bad, table.none), _or_none(missing, table.none)
    quoted = bad is not table.none or missing is not table.none
    column = _Column(
        table.header_of(name), result.values, bad, missing, _LazyDisplay(sources if quoted else [])
    )
    if not quoted:
        for position in positions:
            table.cells.pop(position, None)
    return column


def _leave_out_unplaceable(
    report: FileReport, parsed: dict[str, _Column], table: _Table
) -> pd.Series:
    """Lines without a claim number, a date of service or a code cannot be audited: the mask of
    those left out, each reported as a problem."""
    left_out = pd.Series(False, index=table.index)
    for name in LINE_KEYS:
        column = parsed[name]
        # an odd-looking code is kept as written (and reported); an unreadable date is not
        unreadable = column.bad if BY_NAME[name].kind == "date" else table.none
        if unreadable.any():
            _record_problems(report, column, name, unreadable, table.rows, kept=False)
        if column.missing.any():
            _record_problems(
                report,
                column,
                name,
                column.missing,
                table.rows,
                kept=False,
                message=f"blank {column.header}: the line cannot be audited without it",
            )
        left_out |= unreadable | column.missing
    return left_out


def _report_kept_problems(
    report: FileReport, parsed: dict[str, _Column], kept: pd.Series, rows: pd.Series
) -> None:
    """Pass 2: report the other problems on the lines that stay."""
    for name, column in parsed.items():
        # most columns have no problem: their shared all-False mask needs no second copy
        bad = column.bad & kept if column.bad.any() else column.bad
        if bad.any():
            report.unread_rows[name] = rows[bad].astype("int64").tolist()
        if name in _WORD_COLUMNS:
            if bad.any():
                _summarise_words(report, column, name, bad, rows)
        elif bad.any() and not (name in LINE_KEYS and BY_NAME[name].kind == "date"):
            _record_problems(report, column, name, bad, rows, kept=True)
        if name in REQUIRED and name not in LINE_KEYS:
            missing = column.missing & kept
            if missing.any():
                report.warnings.append(
                    f"column {column.header!r}: blank on {int(missing.sum()):,} of "
                    f"{int(kept.sum()):,} lines (e.g. "
                    f"{', '.join(f'row {r}' for r in rows[missing].iloc[:3])}); kept with no {name}"
                )


def _move_embedded_modifiers(
    out: dict[str, pd.Series], embedded: pd.Series, header: str, report: FileReport
) -> None:
    """Modifiers written after the code (like 64483-50) join the modifiers column."""
    if "modifiers" in out:
        both = (out["modifiers"].fillna("") + LIST_SEP + embedded).str.strip(LIST_SEP)
        out["modifiers"] = norm.parse_modifiers(both).values
    else:
        out["modifiers"] = embedded.fillna("").astype(norm.TEXT)
        report.mapping.setdefault("modifiers", header)
    report.warnings.append(
        f"column {header!r}: modifiers written after the code (like 64483-50) were moved "
        "to the modifiers column"
    )


def _count_left_out(report: FileReport, left_out: pd.Series, unsplit: int) -> None:
    """Order the problems by row and count the lines left out (``unsplit``: rows the reader
    could not split, already left out)."""
    report.problems.sort(key=lambda problem: problem.row)
    report.rows_left_out = int(left_out.sum()) + unsplit
    if left_out.any():
        report.warnings.append(
            f"{_plural(int(left_out.sum()), 'line')} left out because a claim number, date of "
            "service or code is blank or unreadable (see problems)"
        )


def _canonical_frame(
    out: dict[str, pd.Series], table: _Table, left_out: pd.Series, path: str
) -> pd.DataFrame:
    """The canonical columns of the lines kept, with ``source_file`` and ``source_row``."""
    frame = pd.DataFrame(out, index=table.index, copy=False)
    rows = table.rows
    if left_out.any():
        frame = frame[~left_out]
        rows = rows[~left_out]
    frame["source_file"] = _constant_text(path, len(frame), frame.index)
    frame["source_row"] = rows.astype("Int64")
    return frame.reset_index(drop=True)


def _constant_text(value: str, n: int, index: pd.Index) -> pd.Series:
    """A text column holding ``value`` on every line, its arrow buffers made directly (the
    value's bytes repeated, evenly spaced offsets): no n Python objects, and several times
    faster than pyarrow's take for a million lines."""
    data = value.encode("utf-8")
    offsets = np.arange(n + 1, dtype=np.int64)
    offsets *= len(data)
    buffers = [None, pa.py_buffer(offsets), pa.py_buffer(data * n)]
    array = pa.Array.from_buffers(pa.large_string(), n, buffers)
    return pd.Series(pd.array(array, dtype=norm.TEXT), index=index)


@dataclass
class _Column:
    """One parsed canonical column and what is needed to report on it."""

    header: str
    values: pd.Series
    bad: pd.Series
    missing: pd.Series
    shown: _LazyDisplay


def _or_none(mask: pd.Series, none: pd.Series) -> pd.Series:
    return mask if bool(mask.any()) else none


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}" + ("" if count == 1 else "s")


def _fail_if_unreadable(report: FileReport, name: str, column: _Column, rows: pd.Series) -> None:
    """A required column that is blank or unreadable on every line is the wrong column."""
    if not bool((column.missing | column.bad).all()):
        return
    if bool(column.missing.all()):
        raise InputError(
            "is blank on every row",
            path=report.path,
            row=int(rows.iloc[0]),
            column=column.header,
            hint=f"this column was taken as {name}; name the right one in a mapping file",
        )
    first = column.bad[column.bad].index[0]
    raise InputError(
        f"none of the {int(column.bad.sum()):,} values could be read as {_what(name)} "
        f"(the first, on this row, is {value_shape(str(column.shown()[first]))})",
        path=report.path,
        row=int(rows[first]),
        column=column.header,
        hint=f"check that this is the {name} column, or name the right one in a mapping file",
    )


def _what(name: str) -> str:
    return _WHAT.get(name, _WHAT.get(BY_NAME[name].kind, "a value"))


def _record_problems(
    report: FileReport,
    column: _Column,
    name: str,
    bad: pd.Series,
    rows: pd.Series,
    *,
    kept: bool,
    message: str | None = None,
) -> None:
    count = int(bad.sum())
    if not count:
        return
    shown = column.shown() if message is None else None
    for i in bad[bad].index[:MAX_EXAMPLES]:
        text = message or f"not {_what(name)}"
        value = None if shown is None else str(shown[i])
        report.problems.append(RowProblem(int(rows[i]), column.header, text, kept, value))
    if message is None:
        if not kept:
            effect = "those lines were left out"
        elif name == "cpt":
            effect = "kept as written"
        else:
            effect = "the values were left blank"
        report.warnings.append(
            f"column {column.header!r}: {_plural(count, 'value')} could not be read as "
            f"{_what(name)} ({_rows_text(rows, bad)}); {effect}"
        )
    if kept and name != "cpt":
        report.cells_unread += count


def _summarise_words(
    report: FileReport, column: _Column, name: str, bad: pd.Series, rows: pd.Series
) -> None:
    """One problem per distinct unknown word (at its first row, with its count; the word is the
    problem's value) and one warning for the column."""
    shown = column.shown()[bad].astype(str)
    counts = shown.value_counts(sort=False)
    words = _WORD_COLUMNS[name]
    for i, word in shown.drop_duplicates().iloc[:MAX_EXAMPLES].items():
        count = int(counts[word])
        report.problems.append(
            RowProblem(
                int(rows[i]),
                column.header,
                f"unknown {words[:-1]} on {_plural(count, 'line')}, left blank",
                True,
                word,
            )
        )
    hint = _HINT_WORDS.get(name, "")
    report.warnings.append(
        f"column {column.header!r}: unknown {words} on {_plural(int(bad.sum()), 'line')} "
        f"({len(counts):,} different, listed with the problems), left blank "
        f"({_rows_text(rows, bad)})" + (f"; {hint}" if hint else "")
    )
    report.cells_unread += int(bad.sum())
