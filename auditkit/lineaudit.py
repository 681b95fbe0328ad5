"""Audits on worksheet ranges: the library behind auditkit's Excel functions (UDFs).

Each function takes *ranges* as Excel hands them over - a single value, a list, a list of rows
(``[[v], [v], ...]``), a pandas Series or DataFrame - and cleans the cells the way the export
reader does (:mod:`auditkit.ingest.normalise`): blank cells are missing, ``20552.0`` is the code
``20552``, numbers stored as text are numbers, ``PD``/``Paid``/``paid`` are one status. The
definitions are the audits' own (:mod:`auditkit.measures.kpis`, the reference tables, the audit
registry), so a rate computed in a cell agrees with the audit workbook.

* :func:`tpi_mix` - share of 20553 among trigger-point codes;
* :func:`clean_rate`, :func:`denial_rate` - the Summary's indicators over a range;
* :func:`cpm_units`, :func:`cpm_text`, :func:`cpm_codes` - G3002/G3003 units a month's
  chronic-pain-management minutes support;
* :func:`carc_lookup`, :func:`families` - reference lookups for whole columns;
* :func:`check_line`, :func:`check_lines` - the problems the registered audits find with one
  claim line, or with each of many (one run of the audits for all of them);
* ``*_answer`` - what a spreadsheet function shows, for the UDF shells;
* :func:`lines_from_grid`, :func:`findings_table` - a pasted export (with its header row) read
  by the export reader's header recognition and parsers, audited by :func:`run_audits`.

Cleaning works on the distinct values of a range (a column of 100,000 cells holds a few dozen
codes or statuses), so every function is a handful of whole-column operations.
User mistakes raise :class:`~auditkit.errors.InputError` with a one-line message.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from auditkit.audits.cpm_time import EXTRA_MINUTES, FIRST_MINUTES
from auditkit.claims import REQUIRED
from auditkit.engine.context import TPI_CODES
from auditkit.engine.result import SEVERITIES
from auditkit.errors import InputError
from auditkit.ingest import normalise as norm
from auditkit.ingest.model import ClaimLines, FileReport
from auditkit.measures.kpis import UNCLEAN_STATUSES

#: Statuses of lines the payer settled (paid, denied, ...): a claim whose lines all have one of
#: these is rated by the clean-claim rate; see :func:`auditkit.measures.kpis.clean_claims`.
SETTLED_STATUSES: tuple[str, ...] = ("paid", "partially_paid", "denied", "rejected", "voided")
#: Statuses a denial rate counts as adjudicated (denominator), as in ``kpis.summary``.
ADJUDICATED_STATUSES: tuple[str, ...] = ("paid", "partially_paid", "denied")
#: Claim frequency codes of corrected (7) and voided (8) claims.
CORRECTED_FREQUENCIES: tuple[int, ...] = (7, 8)

#: Chronic pain management (CMS PFS 2023): G3002 needs 30 minutes in the calendar month, each
#: G3003 unit a further full 15 minutes; the minutes are the cpm-time audit's.
CPM_FIRST_CODE, CPM_ADD_ON_CODE = "G3002", "G3003"
CPM_FIRST_MINUTES, CPM_ADD_ON_MINUTES = FIRST_MINUTES, EXTRA_MINUTES

#: Where :func:`lines_from_grid` says the lines came from.
GRID_SOURCE = "(table)"
#: Placeholders :func:`check_lines` gives the required columns a line check does not need.
LINE_DEFAULTS: dict[str, Any] = {
    "claim_id": "LINE-",  # numbered per line: LINE-1, LINE-2, ...
    "rendering_provider": "(this line)",
    "payer": "(not given)",
}


# --------------------------------------------------------------------------------------------
# ranges in


def cells(values: Any) -> pd.Series:
    """A range as one column of cells (object dtype), row by row; None gives an empty column.

    Accepts what xlwings passes for a range (a value, a list, a list of rows) and pandas or
    numpy data. Empty strings and NaN are kept as they are; the cleaners treat them as blank.
    """
    if values is None:
        return pd.Series([], dtype=object)
    if isinstance(values, pd.DataFrame):
        return pd.Series(values.to_numpy(dtype=object).ravel(), dtype=object)
    if isinstance(values, pd.Series | pd.Index):
        return pd.Series(values.to_numpy(dtype=object), dtype=object)
    if isinstance(values, np.ndarray):
        return pd.Series(values.astype(object).ravel(), dtype=object)
    if isinstance(values, list | tuple):
        if values and isinstance(values[0], list | tuple):
            return pd.Series(list(itertools.chain.from_iterable(values)), dtype=object)
        return pd.Series(list(values), dtype=object)
    return pd.Series([values], dtype=object)


def shape_of(values: Any) -> tuple[int, int]:
    """(rows, columns) of a range as :func:`cells` reads it (a single value is 1 x 1)."""
    if values is None:
        return (0, 0)
    if isinstance(values, pd.DataFrame | np.ndarray) and np.ndim(values) == 2:
        return (int(values.shape[0]), int(values.shape[1]))
    if isinstance(values, list | tuple):
        if values and isinstance(values[0], list | tuple):
            return (len(values), len(values[0]))
        return (len(values), 1)
    if isinstance(values, pd.Series | pd.Index | np.ndarray):
        return (len(values), 1)
    return (1, 1)


def _per_value(values: pd.Series, parse: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """Apply ``parse`` to the distinct values of ``values`` and spread the result back.

    ``parse`` gets the distinct non-blank cells (object dtype, 0..k-1 index) and returns a
    Series aligned with them; blank cells give a missing value.
    """
    codes, uniques = pd.factorize(values.to_numpy(dtype=object), use_na_sentinel=True)
    parsed = parse(pd.Series(uniques, dtype=object))
    taken = parsed.array.take(codes, allow_fill=True)
    return pd.Series(taken, index=values.index)


def _same_length(first: tuple[str, pd.Series], *others: tuple[str, pd.Series | None]) -> None:
    name, series = first
    for other_name, other in others:
        if other is not None and len(other) and len(other) != len(series):
            raise InputError(
                f"{name} has {len(series):,} cells but {other_name} has {len(other):,}",
                hint="select ranges with the same number of rows",
            )


def _cells_text(count: int) -> str:
    return "1 cell is" if count == 1 else f"{count:,} cells are"


def _examples(values: pd.Series, mask: pd.Series, limit: int = 3) -> str:
    shown = values[mask].astype(str).drop_duplicates().head(limit)
    return ", ".join(repr(v) for v in shown)


def codes(values: Any) -> pd.Series:
    """Procedure or reason codes as canonical text: ``20552.0`` -> ``"20552"``, ``g3002`` ->
    ``"G3002"``; blank cells are ``<NA>``."""
    return _per_value(cells(values), norm.clean_codes).astype(norm.TEXT)


def statuses(values: Any, name: str = "statuses") -> pd.Series:
    """Claim statuses as canonical words (:data:`auditkit.claims.STATUSES`); blank is ``<NA>``.

    Raises InputError naming unknown words (a wrong rate is worse than no rate).
    """
    column = cells(values)
    parsed = _per_value(column, lambda u: norm.parse_status(u).values).astype("string")
    text = _per_value(column, norm.as_text).astype("string")
    unknown = (text.notna() & parsed.isna()).to_numpy(dtype=bool)
    if unknown.any():
        raise InputError(
            f"{name}: {_cells_text(int(unknown.sum()))} not a claim status "
            f"({_examples(text, pd.Series(unknown, index=text.index))})",
            hint="use paid, partially paid, denied, rejected, pending or voided",
        )
    return parsed


def numbers(values: Any, name: str = "numbers") -> pd.Series:
    """Numbers (also stored as text, with ``$`` or ``,``) as float64; blank is NaN.

    Raises InputError when a non-blank cell is not a number.
    """
    column = cells(values)
    direct = pd.to_numeric(column, errors="coerce")
    numeric = pd.Series(direct, index=column.index, dtype="float64")
    rest = numeric.isna() & column.notna()
    if rest.any():
        parsed = _per_value(column[rest], lambda u: norm.parse_money(u).values)
        numeric[rest] = parsed.astype("float64")
        text = _per_value(column[rest], norm.as_text).astype("string")
        bad = (text.notna() & numeric[rest].isna()).to_numpy(dtype=bool)
        if bad.any():
            raise InputError(
                f"{name}: {_cells_text(int(bad.sum()))} not a number "
                f"({_examples(text, pd.Series(bad, index=text.index))})",
                hint="clear them or type the number",
            )
    return numeric


def _provider_filter(
    n: int, providers: Any, provider: Any, name: str
) -> tuple[np.ndarray, str | None]:
    """Mask of the rows of one provider (all rows when no provider is asked for)."""
    wanted = norm.as_text(cells(provider)).dropna()
    if not len(wanted):
        return np.ones(n, dtype=bool), None
    if providers is None:
        raise InputError(
            f"a provider ({wanted.iloc[0]!r}) was given without the providers range",
            hint=f"give the column of providers next to the {name}",
        )
    column = _per_value(cells(providers), lambda u: norm.as_text(u).str.casefold())
    if len(column) != n:
        raise InputError(
            f"{name} has {n:,} cells but providers has {len(column):,}",
            hint="select ranges with the same number of rows",
        )
    who = str(wanted.iloc[0])
    return column.eq(who.casefold()).fillna(False).to_numpy(dtype=bool), who


# --------------------------------------------------------------------------------------------
# rates


class Rate(NamedTuple):
    """A rate with its counts: ``value`` is None when ``total`` is 0."""

    value: float | None
    count: float
    total: float
    #: Why there is no value, for the cell ("no trigger-point codes", ...).
    reason: str | None = None


def _rate(count: float, total: float, reason: str) -> Rate:
    if total <= 0:
        return Rate(None, count, total, reason)
    return Rate(count / total, count, total)


def _for_whom(who: str | None) -> str:
    return f" for {who!r}" if who else ""


def tpi_mix(values: Any, providers: Any = None, provider: Any = None) -> Rate:
    """Share of 20553 among the trigger-point codes (20552, 20553) in a range.

    With ``providers`` (a same-sized range) and ``provider`` (a name, matched ignoring case),
    only that provider's rows count. Other codes and blank cells are ignored.
    """
    column = codes(values)
    keep, who = _provider_filter(len(column), providers, provider, "codes")
    column = column[keep]
    n_52 = int(column.eq(TPI_CODES[0]).sum())
    n_53 = int(column.eq(TPI_CODES[1]).sum())
    return _rate(n_53, n_52 + n_53, f"no 20552 or 20553 codes{_for_whom(who)}")


def clean_rate(
    status_values: Any, frequency: Any = None, providers: Any = None, provider: Any = None
) -> Rate:
    """Clean-claim rate over rows that are claims (or lines, each counted as a claim).

    The definition of :func:`auditkit.measures.kpis.clean_claims` for one-line claims: a row is
    unclean when denied, rejected or voided, or its claim frequency code is 7 or 8; rows still
    pending (or blank) that are not unclean are left out; the rest are clean.
    """
    status = statuses(status_values)
    freq = None
    if frequency is not None:
        freq_cells = cells(frequency)
        if freq_cells.notna().any():
            _same_length(("statuses", status), ("frequency", freq_cells))
            parsed = _per_value(freq_cells, lambda u: norm.parse_frequency(u).values)
            freq = parsed.astype("Int64")
    keep, who = _provider_filter(len(status), providers, provider, "statuses")
    unclean = status.isin(UNCLEAN_STATUSES) | status.eq("voided")
    if freq is not None:
        unclean |= freq.isin(CORRECTED_FREQUENCIES)
    unclean = unclean.fillna(False).to_numpy(dtype=bool)
    pending = ~status.isin(SETTLED_STATUSES).fillna(False).to_numpy(dtype=bool)
    counted = (unclean | ~pending) & keep
    clean = counted & ~unclean
    return _rate(int(clean.sum()), int(counted.sum()), f"no settled claims{_for_whom(who)}")


def denial_rate(
    status_values: Any, charges: Any = None, providers: Any = None, provider: Any = None
) -> Rate:
    """Denial rate: denied lines / adjudicated lines (paid, partially paid or denied).

    With ``charges`` (a same-sized range) the rate is in dollars: charges on denied lines /
    charges on adjudicated lines, as the Summary's "Denial rate (dollars)".
    """
    status = statuses(status_values)
    keep, who = _provider_filter(len(status), providers, provider, "statuses")
    adjudicated = status.isin(ADJUDICATED_STATUSES).fillna(False).to_numpy(dtype=bool) & keep
    denied = status.eq("denied").fillna(False).to_numpy(dtype=bool) & keep
    reason = f"no paid or denied lines{_for_whom(who)}"
    if charges is not None and cells(charges).notna().any():
        amounts = numbers(charges, "charges")
        _same_length(("statuses", status), ("charges", amounts))
        money = amounts.fillna(0.0).to_numpy()
        return _rate(float(money[denied].sum()), float(money[adjudicated].sum()), reason)
    return _rate(int(denied.sum()), int(adjudicated.sum()), reason)


# --------------------------------------------------------------------------------------------
# chronic pain management


def cpm_units(minutes: Any) -> pd.DataFrame:
    """Units of G3002 and G3003 each month's minutes support (one row per cell).

    Columns ``G3002`` and ``G3003`` (Int64; missing for a blank cell). Under 30 minutes
    supports nothing; 30 minutes one G3002; each further full 15 minutes one G3003.
    """
    value = numbers(minutes, "minutes")
    negative = (value < 0).to_numpy(dtype=bool)
    if negative.any():
        raise InputError(
            f"minutes: {_cells_text(int(negative.sum()))} negative "
            f"({_examples(value.astype(str), pd.Series(negative, index=value.index))})",
            hint="give the minutes documented in the month",
        )
    first = (value >= CPM_FIRST_MINUTES).astype("float64").where(value.notna())
    extra = np.floor((value - CPM_FIRST_MINUTES) / CPM_ADD_ON_MINUTES).clip(lower=0)
    return pd.DataFrame(
        {
            CPM_FIRST_CODE: first.astype("Int64"),
            CPM_ADD_ON_CODE: extra.where(value.notna()).astype("Int64"),
        }
    )


def cpm_text(minutes: Any) -> pd.Series:
    """The codes as text per cell: ``"G3002 x1, G3003 x2"``; ``"none (under 30 minutes)"``."""
    units = cpm_units(minutes)
    first = units[CPM_FIRST_CODE]
    extra = units[CPM_ADD_ON_CODE]
    text = pd.Series(f"{CPM_FIRST_CODE} x1", index=units.index, dtype="string")
    text = text.mask(
        extra.gt(0).fillna(False), text + f", {CPM_ADD_ON_CODE} x" + extra.astype("string")
    )
    text = text.mask(first.eq(0).fillna(False), f"none (under {CPM_FIRST_MINUTES} minutes)")
    return text.mask(first.isna())


def cpm_codes(minutes: float) -> list[tuple[str, int]]:
    """The codes and units one month's minutes support, e.g. ``[("G3002", 1), ("G3003", 2)]``."""
    row = cpm_units(minutes).iloc[0]
    return [(code, int(row[code])) for code in (CPM_FIRST_CODE, CPM_ADD_ON_CODE) if row[code]]


# --------------------------------------------------------------------------------------------
# reference lookups


def families(values: Any) -> pd.Series:
    """Procedure family of each code ("trigger point", "facet", ..., "other"); blank stays
    blank. See :func:`auditkit.reference.procedure_family`."""
    from auditkit.reference import procedure_family

    def family(uniques: pd.Series) -> pd.Series:
        clean = norm.clean_codes(uniques)
        return procedure_family(clean.fillna("")).mask(clean.isna())

    return _per_value(cells(values), family).astype("string")


def carc_lookup(values: Any) -> pd.DataFrame:
    """Meaning and root-cause group of each denial reason code (``CO-197``, ``197``, 197.0).

    Columns: ``code`` (the reason part), ``group`` (CO, PR, ... or missing), ``meaning``,
    ``root_cause`` (missing for codes not in the reference table; see
    :func:`auditkit.reference.carc_info`).
    """
    from auditkit.reference import carcs, split_carc

    table = carcs()
    meanings = dict(zip(table["code"], table["meaning"], strict=True))
    causes = dict(zip(table["code"], table["root_cause"], strict=True))
    column = cells(values)
    positions, uniques = pd.factorize(column.to_numpy(dtype=object), use_na_sentinel=True)
    clean = norm.clean_codes(pd.Series(uniques, dtype=object))
    # A range holds few distinct codes: split_carc and the look-ups run once per code.
    parts = [split_carc(c) if isinstance(c, str) else (None, None) for c in clean.tolist()]
    found = pd.DataFrame(
        {
            "code": [p[1] for p in parts],
            "group": [p[0] for p in parts],
            "meaning": [meanings.get(p[1]) for p in parts],
            "root_cause": [causes.get(p[1]) for p in parts],
        },
        dtype="string",
    )
    out = {name: found[name].array.take(positions, allow_fill=True) for name in found.columns}
    return pd.DataFrame(out, index=column.index)


def _first_text(value: Any) -> str | None:
    """The first non-blank cell of an optional argument, as trimmed text."""
    text = _per_value(cells(value), norm.as_text).dropna()
    return str(text.iloc[0]) if len(text) else None


def cpm_answer(minutes: Any, code: Any = None) -> pd.Series:
    """What AUDIT_CPM_CODES shows per cell: :func:`cpm_text`, or one code's units when ``code``
    is ``G3002`` or ``G3003``."""
    wanted = _first_text(code)
    if wanted is None:
        return cpm_text(minutes)
    name = wanted.upper()
    if name not in (CPM_FIRST_CODE, CPM_ADD_ON_CODE):
        raise InputError(f"code {wanted!r} is not a CPM code", hint='use "G3002" or "G3003"')
    return cpm_units(minutes)[name]


#: What AUDIT_CARC shows for a code the reference table does not have.
UNKNOWN_CARC = ("not in auditkit's reason-code table", "unknown")


def carc_answer(values: Any, part: Any = None) -> pd.DataFrame:
    """What AUDIT_CARC shows: columns ``meaning`` and ``root_cause`` (blank for blank cells,
    :data:`UNKNOWN_CARC` for codes not in the table), or only the one ``part`` names
    (``meaning``, ``cause``)."""
    found = carc_lookup(values)
    blank = found["code"].isna()
    out = pd.DataFrame(
        {
            "meaning": found["meaning"].fillna(UNKNOWN_CARC[0]).mask(blank),
            "root_cause": found["root_cause"].fillna(UNKNOWN_CARC[1]).mask(blank),
        }
    )
    which = (_first_text(part) or "").lower().replace("_", " ")
    if not which:
        return out
    if which == "meaning":
        return out[["meaning"]]
    if which in ("cause", "root cause"):
        return out[["root_cause"]]
    raise InputError(f"part {which!r} is not known", hint='use "meaning" or "cause"')


# --------------------------------------------------------------------------------------------
# a pasted export


def _grid_rows(grid: Any) -> list[list[Any]]:
    """A 2-D range as a list of rows (a DataFrame keeps its header row)."""
    if isinstance(grid, pd.DataFrame):
        header = [str(c) for c in grid.columns]
        return [header, *grid.astype(object).where(grid.notna(), None).values.tolist()]
    if isinstance(grid, list | tuple) and grid and isinstance(grid[0], list | tuple):
        return [list(row) for row in grid]
    raise InputError(
        "the table must be a range of several columns with a header row",
        hint="select the export including its header row",
    )


def lines_from_grid(
    grid: Any,
    mapping: str | Path | Mapping[str, Any] | None = None,
    *,
    source: str = GRID_SOURCE,
) -> ClaimLines:
    """Claim lines from a pasted export: header row found and matched, cells parsed, exactly as
    :func:`auditkit.load` reads a workbook sheet. ``source_row`` counts from the range's top
    row (1); ``source_file`` is ``source``.
    """
    from auditkit.claims import conform
    from auditkit.ingest.footers import trailing_footer
    from auditkit.ingest.headers import find_header_row, match_headers
    from auditkit.ingest.loader import build_frame
    from auditkit.ingest.mapping import load_mapping
    from auditkit.ingest.readers import RawTable, header_text, typed_column

    rows = _grid_rows(grid)
    mp = load_mapping(mapping)
    text_grid = [[header_text(c) for c in row] for row in rows[:30]]
    index = find_header_row(text_grid, mp)
    if index < 0:
        raise InputError("the table is empty", path=source, hint="select the export's cells")
    headers = [header_text(c) for c in rows[index]]
    while headers and not headers[-1]:
        headers.pop()
    match = match_headers(headers, mp, where=f"{source} row {index + 1}")
    missing = [name for name in REQUIRED if name not in match.columns]
    if missing:
        raise InputError(
            f"no column found for required {', '.join(missing)} (header row {index + 1})",
            path=source,
            hint="include those columns, or name their headers in a mapping file",
        )
    width = len(headers)
    body = rows[index + 1 :]
    n_keep, footer_offsets = trailing_footer(body, width)
    body = body[:n_keep]
    first_row = index + 2
    if body:
        columns = list(zip(*[(list(r) + [None] * width)[:width] for r in body], strict=True))
        data = pd.DataFrame({i: typed_column(col) for i, col in enumerate(columns)})
    else:
        data = pd.DataFrame({i: pd.Series([], dtype=norm.TEXT) for i in range(width)})
    raw = RawTable(
        headers,
        data,
        np.arange(first_row, first_row + len(body), dtype="int64"),
        [first_row + off for off in footer_offsets],
    )
    report = FileReport(
        path=source,
        header_row=index + 1,
        mapping=match.as_report(headers),
        unmapped_headers=[headers[p] for p in match.unmapped],
        ignored_headers=[headers[p] for p in match.ignored],
        warnings=list(match.warnings),
    )
    frame = build_frame(raw, match, mp, report)
    report.rows = len(frame)
    return ClaimLines(conform(frame.reset_index(drop=True)), [report])


#: Columns of :func:`findings_table`: (finding column, header).
FINDINGS_VIEW: tuple[tuple[str, str], ...] = (
    ("severity", "Severity"),
    ("audit", "Audit"),
    ("provider", "Provider"),
    ("payer", "Payer"),
    ("cpt", "CPT"),
    ("claim_id", "Claim"),
    ("line", "Line"),
    ("dollars_at_risk", "At risk"),
    ("message", "Finding"),
    ("fix", "How to fix"),
    ("source_row", "Row"),
)


def findings_table(
    grid: Any,
    mapping: str | Path | Mapping[str, Any] | None = None,
    config: Any = None,
) -> pd.DataFrame:
    """Every finding of the registered audits for a pasted export, one row per finding.

    Columns are the headers of :data:`FINDINGS_VIEW`; "Row" is the finding's row in the pasted
    range (blank for findings about a provider, payer or the practice).
    """
    from auditkit.engine.runner import run_audits

    result = run_audits(lines_from_grid(grid, mapping), config=config)
    found = result.findings
    view = pd.DataFrame({header: found[key].to_numpy() for key, header in FINDINGS_VIEW})
    return view.astype(object).where(view.notna(), None)


# --------------------------------------------------------------------------------------------
# one claim line


@dataclass(frozen=True)
class LineProblem:
    """One finding about a line."""

    audit: str
    severity: str
    message: str
    fix: str

    def __str__(self) -> str:
        return f"[{self.severity}] {self.audit}: {self.message}"


def _per_line(value: Any, n: int, name: str) -> list[Any]:
    """One value per line from a range: a single cell applies to every line; ``n * k`` cells
    (k per line, e.g. Mod 1..Mod 4) are joined with commas, blanks left out."""
    column = cells(value)
    if not len(column):
        return [None] * n
    if len(column) == 1:
        return [column.iloc[0]] * n
    if len(column) % n:
        raise InputError(
            f"{name} has {len(column):,} cells for {n:,} lines",
            hint="give one cell per line, or the same number of cells for every line",
        )
    if len(column) == n:
        return column.tolist()
    text = _per_value(column, norm.as_text).astype("string").fillna("")
    rows = text.to_numpy(dtype=object).reshape(n, len(column) // n)
    joined = [",".join(v for v in row if v) for row in rows]
    return [v or None for v in joined]


def check_lines(
    cpt: Any,
    modifiers: Any = None,
    diagnoses: Any = None,
    units: Any = None,
    payer: Any = None,
    headers: Any = None,
    values: Any = None,
    *,
    config: Any = None,
    select: Sequence[str] | None = None,
    today: date | None = None,
) -> list[list[LineProblem]]:
    """The problems the registered audits find with each claim line (one list per line).

    ``cpt`` gives the lines (one cell each); the other arguments give one value per line (or
    one for all, or several cells per line for modifiers and diagnoses). ``headers`` names
    further columns (export headers or auditkit's column names, e.g. ``muscles_treated``,
    ``laterality``) and ``values`` holds one row of them per line. Each line is read like an
    export row (:func:`lines_from_grid`), as a claim of its own, and all lines are run through
    :func:`auditkit.audits.run_audits` together: audits that compare lines (per payer, per
    provider) see them all. Notes of audits skipped for lack of a column are left out, and so
    are findings about a provider, payer or the practice rather than a line. ``select`` limits
    the audits run (ids).
    """
    from auditkit.engine.runner import run_audits

    codes_given = cells(cpt)
    n = len(codes_given)
    if not n or not (codes_given.notna() & codes_given.astype(str).str.strip().ne("")).any():
        raise InputError("cpt is blank", hint="give the line's CPT or HCPCS code")
    extra = [str(h).strip() for h in cells(headers).tolist() if h is not None and str(h).strip()]
    header_row: list[Any] = ["cpt"]
    columns: list[list[Any]] = [codes_given.tolist()]
    for name, value in (
        ("modifiers", modifiers),
        ("diagnosis_codes", diagnoses),
        ("units", units),
        ("payer", payer),
    ):
        if value is not None and cells(value).notna().any():
            header_row.append(name)
            columns.append(_per_line(value, n, name))
    if extra:
        block = cells(values)
        if len(block) != n * len(extra):
            raise InputError(
                f"values has {len(block):,} cells for {len(extra)} headers and {n:,} lines",
                hint="give one row of values per line, one value per header",
            )
        rows = block.to_numpy(dtype=object).reshape(n, len(extra))
        header_row.extend(extra)
        columns.extend(rows[:, j].tolist() for j in range(len(extra)))
    present = _recognised(header_row)
    day = datetime.combine(today or date.today(), datetime.min.time())
    defaults = {**LINE_DEFAULTS, "date_of_service": day}
    for name, value in defaults.items():
        if name not in present:
            header_row.append(name)
            # Each line is a claim of its own, so claim-level rules never mix two lines.
            columns.append(
                [f"{value}{i + 1}" for i in range(n)] if name == "claim_id" else [value] * n
            )
    grid = [header_row, *map(list, zip(*columns, strict=True))]
    lines = lines_from_grid(grid, source="(line)")
    result = run_audits(lines, select=list(select) if select else None, config=config)
    ran = {run.id for run in result.audits if run.status == "ran"}
    found = result.findings[result.findings["audit"].isin(ran)]
    rows_of = pd.to_numeric(found["source_row"], errors="coerce") - 2  # row 1 is the header
    problems: list[list[LineProblem]] = [[] for _ in range(n)]
    for report in lines.inputs:
        for problem in report.problems:  # a line that could not be read (blank code, bad date)
            if not problem.kept and 0 <= problem.row - 2 < n:
                note = LineProblem("input", "info", f"not checked: {problem.message}", "")
                problems[problem.row - 2].append(note)
    # One pass over the findings (not the lines): each finding goes to the line it names.
    for row, r in zip(rows_of, found.itertuples(index=False), strict=True):
        if row == row and 0 <= row < n:
            problems[int(row)].append(
                LineProblem(str(r.audit), str(r.severity), str(r.message), str(r.fix or ""))
            )
    return problems


def check_line(
    cpt: Any,
    modifiers: Any = None,
    diagnoses: Any = None,
    units: Any = None,
    payer: Any = None,
    headers: Any = None,
    values: Any = None,
    *,
    config: Any = None,
    select: Sequence[str] | None = None,
    today: date | None = None,
) -> list[LineProblem]:
    """The problems the registered audits find with one claim line (see :func:`check_lines`);
    ``modifiers`` and ``diagnoses`` may be the line's several cells (Mod 1..Mod 4)."""
    code = cells(cpt).dropna()
    return check_lines(
        code.iloc[:1] if len(code) else None,
        _per_line(modifiers, 1, "modifiers") if modifiers is not None else None,
        _per_line(diagnoses, 1, "diagnoses") if diagnoses is not None else None,
        units,
        payer,
        headers,
        values,
        config=config,
        select=select,
        today=today,
    )[0]


def _recognised(headers: Iterable[Any]) -> set[str]:
    from auditkit.ingest.headers import synonyms

    table = synonyms()
    found = set()
    for header in headers:
        rec = table.recognise(header)
        if rec is not None:
            found.add(rec.name)
    return found


def problems_text(problems: Sequence[LineProblem]) -> str:
    """Problems as one line of text for a cell: most serious first, "OK" when there are none."""
    if not problems:
        return "OK"
    ordered = sorted(problems, key=lambda p: SEVERITIES.index(p.severity))
    return " | ".join(str(p) for p in ordered)


__all__ = [
    "FINDINGS_VIEW",
    "LineProblem",
    "Rate",
    "carc_answer",
    "carc_lookup",
    "cells",
    "check_line",
    "check_lines",
    "clean_rate",
    "codes",
    "cpm_answer",
    "cpm_codes",
    "cpm_text",
    "cpm_units",
    "denial_rate",
    "families",
    "findings_table",
    "lines_from_grid",
    "numbers",
    "problems_text",
    "shape_of",
    "statuses",
    "tpi_mix",
]
