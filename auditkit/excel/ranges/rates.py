"""Rates over worksheet ranges: the 20552/20553 mix, the clean-claim rate and the denial rate.

The rules are the Summary's own (:mod:`auditkit.measures.kpis` and the status groups of
:mod:`auditkit.claims`), applied to ranges where each row is a claim (or a line counted as a
claim), so a rate computed in a cell agrees with the audit workbook.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from auditkit.claims import ADJUDICATED_STATUSES, SETTLED_STATUSES, UNCLEAN_STATUSES
from auditkit.engine.context import TPI_CODES
from auditkit.excel.ranges.cells import (
    cells,
    codes,
    numbers,
    per_value,
    provider_filter,
    same_length,
    statuses,
)
from auditkit.ingest import normalise as norm
from auditkit.measures.kpis import CORRECTED_FREQUENCIES, denial_counts, rated_and_clean


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
    keep, who = provider_filter(len(column), providers, provider, "codes")
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
            same_length(("statuses", status), ("frequency", freq_cells))
            parsed = per_value(freq_cells, lambda u: norm.parse_frequency(u).values)
            freq = parsed.astype("Int64")
    keep, who = provider_filter(len(status), providers, provider, "statuses")
    # A voided line is a corrected claim, as in the clean-claim rate of the Summary.
    unclean = status.isin(UNCLEAN_STATUSES) | status.eq("voided")
    if freq is not None:
        unclean |= freq.isin(CORRECTED_FREQUENCIES)
    unclean = unclean.fillna(False).to_numpy(dtype=bool)
    pending = ~status.isin(SETTLED_STATUSES).fillna(False).to_numpy(dtype=bool)
    rated, clean = rated_and_clean(unclean, pending)
    return _rate(
        int((clean & keep).sum()), int((rated & keep).sum()), f"no settled claims{_for_whom(who)}"
    )


def denial_rate(
    status_values: Any, charges: Any = None, providers: Any = None, provider: Any = None
) -> Rate:
    """Denial rate: denied lines / adjudicated lines (paid, partially paid or denied).

    With ``charges`` (a same-sized range) the rate is in dollars: charges on denied lines /
    charges on adjudicated lines, as the Summary's "Denial rate (dollars)".
    """
    status = statuses(status_values)
    keep, who = provider_filter(len(status), providers, provider, "statuses")
    adjudicated = status.isin(ADJUDICATED_STATUSES).fillna(False).to_numpy(dtype=bool) & keep
    denied = status.eq("denied").fillna(False).to_numpy(dtype=bool)
    reason = f"no paid or denied lines{_for_whom(who)}"
    if charges is not None and cells(charges).notna().any():
        amounts = numbers(charges, "charges")
        same_length(("statuses", status), ("charges", amounts))
        return _rate(*denial_counts(denied, adjudicated, amounts.to_numpy()), reason)
    return _rate(*denial_counts(denied, adjudicated), reason)
