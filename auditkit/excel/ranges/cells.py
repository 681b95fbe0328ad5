"""Cells of a worksheet range as Excel hands them over, cleaned the way the export reader cleans
them (:mod:`auditkit.ingest.normalise`): blank cells are missing, ``20552.0`` is the code
``20552``, numbers stored as text are numbers, ``PD``/``Paid``/``paid`` are one status.

Cleaning works on the distinct values of a range (a column of 100,000 cells holds a few dozen
codes or statuses), so every function is a handful of whole-column operations. User mistakes
raise :class:`~auditkit.errors.InputError` with a one-line message.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from auditkit.errors import InputError
from auditkit.ingest import normalise as norm


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


def per_value(values: pd.Series, parse: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """Apply ``parse`` to the distinct values of ``values`` and spread the result back.

    ``parse`` gets the distinct non-blank cells (object dtype, 0..k-1 index) and returns a
    Series aligned with them; blank cells give a missing value.
    """
    codes, uniques = pd.factorize(values.to_numpy(dtype=object), use_na_sentinel=True)
    parsed = parse(pd.Series(uniques, dtype=object))
    taken = parsed.array.take(codes, allow_fill=True)
    return pd.Series(taken, index=values.index)


def same_length(first: tuple[str, pd.Series], *others: tuple[str, pd.Series | None]) -> None:
    name, series = first
    for other_name, other in others:
        if other is not None and len(other) and len(other) != len(series):
            raise InputError(
                f"{name} has {len(series):,} cells but {other_name} has {len(other):,}",
                hint="select ranges with the same number of rows",
            )


def cells_text(count: int) -> str:
    return "1 cell is" if count == 1 else f"{count:,} cells are"


def examples(values: pd.Series, mask: pd.Series, limit: int = 3) -> str:
    shown = values[mask].astype(str).drop_duplicates().head(limit)
    return ", ".join(repr(v) for v in shown)


def codes(values: Any) -> pd.Series:
    """Procedure or reason codes as canonical text: ``20552.0`` -> ``"20552"``, ``g3002`` ->
    ``"G3002"``; blank cells are ``<NA>``."""
    return per_value(cells(values), norm.clean_codes).astype(norm.TEXT)


def statuses(values: Any, name: str = "statuses") -> pd.Series:
    """Claim statuses as canonical words (:data:`auditkit.claims.STATUSES`); blank is ``<NA>``.

    Raises InputError naming unknown words (a wrong rate is worse than no rate).
    """
    column = cells(values)
    parsed = per_value(column, lambda u: norm.parse_status(u).values).astype("string")
    text = per_value(column, norm.as_text).astype("string")
    unknown = (text.notna() & parsed.isna()).to_numpy(dtype=bool)
    if unknown.any():
        raise InputError(
            f"{name}: {cells_text(int(unknown.sum()))} not a claim status "
            f"({examples(text, pd.Series(unknown, index=text.index))})",
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
        parsed = per_value(column[rest], lambda u: norm.parse_money(u).values)
        numeric[rest] = parsed.astype("float64")
        text = per_value(column[rest], norm.as_text).astype("string")
        bad = (text.notna() & numeric[rest].isna()).to_numpy(dtype=bool)
        if bad.any():
            raise InputError(
                f"{name}: {cells_text(int(bad.sum()))} not a number "
                f"({examples(text, pd.Series(bad, index=text.index))})",
                hint="clear them or type the number",
            )
    return numeric


def provider_filter(
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
    column = per_value(cells(providers), lambda u: norm.as_text(u).str.casefold())
    if len(column) != n:
        raise InputError(
            f"{name} has {n:,} cells but providers has {len(column):,}",
            hint="select ranges with the same number of rows",
        )
    who = str(wanted.iloc[0])
    return column.eq(who.casefold()).fillna(False).to_numpy(dtype=bool), who


def first_text(value: Any) -> str | None:
    """The first non-blank cell of an optional argument, as trimmed text."""
    text = per_value(cells(value), norm.as_text).dropna()
    return str(text.iloc[0]) if len(text) else None
