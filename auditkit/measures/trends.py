"""Trends inside one export: the practice's measures month by month.

Months are months of the **date of service** (a line with no date of service is in no month).
For each month there is one row for the practice (``provider`` and ``payer`` both None), one
per rendering physician (``provider`` set) and one per payer (``payer`` set), holding the same
measures :mod:`auditkit.measures.kpis` defines for the whole export, counted within the month:

* ``lines``: claim lines with a date of service in the month;
* ``claims``, ``claims_rated``, ``clean_claim_rate``: the clean-claim rule of
  :func:`auditkit.measures.kpis.clean_claims` (paid on its first submission: no line denied or
  rejected, not corrected, replaced or voided, not submitted twice, not edited before it went
  out; claims still pending are not rated). A claim counts in the month of its earliest date of
  service, for the physician it belongs to in kpis (its first line's) and the payer of its first
  row in the export;
* ``adjudicated_lines``, ``denial_rate``, ``denial_rate_dollars``: denied over adjudicated
  lines (paid, partially paid or denied), by lines and by charges (kpis' denial rate);
* ``tpi_lines``, ``tpi_20553_share``: 20553 lines / (20552 + 20553 lines), rejected and voided
  lines left out (:attr:`auditkit.engine.context.Context.tpi_lines`);
* ``median_days_to_pay``: the median of :func:`auditkit.measures.revenue.days_to_pay` over the
  month's paid lines;
* ``findings.<audit id>``: the audit's line findings (scope ``line``) on lines of the month,
  each found through the line it covers (:func:`finding_counts`);
* ``clean_claim_change`` and ``biggest_change`` (practice and physician rows): the change in
  clean-claim rate from the calendar month before, where both months have at least
  :data:`MIN_RATED_CLAIMS` rated claims, and, per physician (and for the practice), the one
  month with the largest absolute change marked True.

Rates are fractions 0..1, NaN where the month has nothing to rate. Everything is counted on
integer codes over whole columns (no Python per line): a million lines take a fraction of a
second.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from auditkit.claims import ADJUDICATED_STATUSES
from auditkit.engine.context import dense_unique, usable
from auditkit.engine.result import COVERS_SEP
from auditkit.measures import kpis, revenue

if TYPE_CHECKING:
    from auditkit.engine.context import Context

__all__ = [
    "FINDINGS_PREFIX",
    "MIN_RATED_CLAIMS",
    "TREND_COLUMNS",
    "finding_counts",
    "monthly",
    "records",
]

#: Rated claims a month needs (and the month before it) for its change in clean-claim rate to
#: count: below it one claim moves the rate by more than five points.
MIN_RATED_CLAIMS = 20
#: Prefix of the columns counting an audit's line findings per month.
FINDINGS_PREFIX = "findings."
#: The columns of :func:`monthly` before the findings counts, in order.
TREND_COLUMNS: tuple[str, ...] = (
    "month",
    "provider",
    "payer",
    "lines",
    "claims",
    "claims_rated",
    "clean_claim_rate",
    "adjudicated_lines",
    "denial_rate",
    "denial_rate_dollars",
    "tpi_lines",
    "tpi_20553_share",
    "median_days_to_pay",
    "clean_claim_change",
    "biggest_change",
)
#: The groups of rows: name, then the Context code column (None: the practice).
_LAYERS: tuple[tuple[str, str | None], ...] = (
    ("practice", None),
    ("provider", "ctx.provider"),
    ("payer", "ctx.payer"),
)


def _months(ctx: Context) -> tuple[np.ndarray, list[str]]:
    """Per line its month of service as a code 0..M-1 in calendar order (-1 without a date),
    and the months as ``YYYY-MM``; worked out once per run."""

    def compute() -> tuple[np.ndarray, list[str]]:
        lines = ctx.lines
        n = len(lines)
        if not usable(lines, "date_of_service"):
            return np.full(n, -1, dtype=np.int64), []
        dates = lines["date_of_service"].to_numpy(dtype="datetime64[ns]")
        dated = ~np.isnat(dates)
        number = dates[dated].astype("datetime64[M]").astype(np.int64)
        low = int(number.min())
        found, inverse = dense_unique(number - low)
        code = np.full(n, -1, dtype=np.int64)
        code[dated] = inverse
        text = [str(np.datetime64(int(m) + low, "M")) for m in found]
        return code, text

    return ctx.cached("trends.months", compute)


def _layer_codes(ctx: Context, source: str | None) -> tuple[np.ndarray, list[Any]]:
    """Per line the group code of a layer and the group names (the practice: one group)."""
    if source is None:
        return np.zeros(len(ctx.lines), dtype=np.int64), [None]
    codes, names = ctx.codes(source)
    return codes, [str(v) for v in np.asarray(names, dtype=object)]


def finding_counts(ctx: Context, parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Line findings (scope ``line``) per audit, month of service and group of rows, found
    through the line each covers (its first key in ``covers``, matched to
    :attr:`~auditkit.engine.context.Context.line_keys`); a finding whose line is not found (or
    has no date of service) is in no month.

    Call it while the audits' line keys are alive (before ``release_audit_views``): the keys of
    every line finding are looked up at once. Returns long counts: ``audit``, ``layer``,
    ``month`` (code), ``group`` (code), ``count``."""
    empty = pd.DataFrame({"audit": [], "layer": [], "month": [], "group": [], "count": []})
    month, month_text = _months(ctx)
    if not month_text:
        return empty
    audits: list[str] = []
    chunks: list[pa.Array] = []
    sizes: list[int] = []
    claims: list[tuple[pd.DataFrame, np.ndarray]] = []
    for part in parts:
        if not len(part) or "scope" not in part or "covers" not in part:
            continue
        is_line = np.asarray(part["scope"] == "line", dtype=bool)
        if not is_line.any():
            continue
        covers = part["covers"].astype("string[pyarrow]").fillna("").array.__arrow_array__()
        covers = covers.combine_chunks() if isinstance(covers, pa.ChunkedArray) else covers
        chosen = covers.filter(pa.array(is_line))
        audits.append(str(part["audit"].iloc[0]))
        claims.append((part, is_line))
        chunks.append(chosen)
        sizes.append(len(chosen))
    if not chunks:
        return empty
    if sum(c.nbytes for c in chunks) >= 2**31 - 1:  # past what 32-bit offsets reach
        chunks = [c.cast(pa.large_string()) for c in chunks]
    keys = pa.concat_arrays(chunks)
    del chunks
    if pc.any(pc.match_substring(keys, COVERS_SEP)).as_py():
        keys = pc.replace_substring_regex(keys, r"\|.*$", "")
    where = pc.index_in(keys, value_set=ctx.line_keys).to_numpy(zero_copy_only=False)
    del keys
    found = ~np.isnan(where) if where.dtype.kind == "f" else np.ones(len(where), dtype=bool)
    position = np.where(found, np.nan_to_num(where, nan=0), 0).astype(np.int64)
    if not found.all() and usable(ctx.lines, "claim_id"):
        # A key by position in the audit's own rows names no line here: the claim's first line.
        ids = pd.concat(
            [part["claim_id"][mask].astype("string") for part, mask in claims], ignore_index=True
        )
        missing = np.flatnonzero(~found)
        claim_codes, claim_ids = ctx.codes("claim_id")
        at = _positions_in(ids.iloc[missing].fillna(""), claim_ids)
        first_row = _first_rows(claim_codes, len(claim_ids))
        position[missing[at >= 0]] = first_row[at[at >= 0]]
        found[missing[at >= 0]] = True
    del claims
    audit_code = np.repeat(np.arange(len(audits)), sizes)
    of_month = np.where(found, month[position], -1)
    keep = of_month >= 0
    rows = []
    n_months = len(month_text)
    for layer, source in _LAYERS:
        group, names = _layer_codes(ctx, source)
        of_group = group[position]
        ok = keep & (of_group >= 0)
        width = n_months * len(names)
        key = (audit_code[ok] * n_months + of_month[ok]) * len(names) + of_group[ok]
        counts = np.bincount(key, minlength=len(audits) * width)
        hit = np.flatnonzero(counts)
        rows.append(
            pd.DataFrame(
                {
                    "audit": np.asarray(audits, dtype=object)[hit // width],
                    "layer": layer,
                    "month": (hit % width) // len(names),
                    "group": hit % len(names),
                    "count": counts[hit],
                }
            )
        )
    out = pd.concat(rows, ignore_index=True)
    # Several parts of one audit (it may return more than one frame) add up.
    return out.groupby(["audit", "layer", "month", "group"], sort=False, as_index=False)[
        "count"
    ].sum()


def _positions_in(values: pd.Series, distinct: Any) -> np.ndarray:
    """Where each of ``values`` is in ``distinct`` (-1: not there), compared as text in Arrow
    (no Python string per value: at a million findings they would be hundreds of MB)."""
    needles = pa.array(values.astype("string[pyarrow]").array).cast(pa.large_string())
    haystack = pa.array(pd.Series(distinct, dtype="string[pyarrow]").array)
    at = pc.index_in(needles, value_set=haystack.cast(pa.large_string()))
    return at.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def _first_rows(claim_codes: np.ndarray, n_claims: int) -> np.ndarray:
    """The first row of each claim in the export (codes as :meth:`Context.codes` gives)."""
    rows = np.flatnonzero(claim_codes >= 0)
    first = np.full(n_claims, len(claim_codes), dtype=np.int64)
    np.minimum.at(first, claim_codes[rows], rows)
    return first


def monthly(ctx: Context, findings: pd.DataFrame | None = None) -> pd.DataFrame | None:
    """The month-by-month table (see the module docstring): one row per month with lines for
    the practice, each physician and each payer, ordered practice, physicians, payers, then by
    name and month; ``findings`` is what :func:`finding_counts` returned. None when the data
    has no date of service."""
    month, month_text = _months(ctx)
    if not month_text:
        return None
    lines = ctx.lines
    n_months = len(month_text)
    dated = month >= 0
    has_status = ctx.has_status
    adjudicated = ctx.status_is(*ADJUDICATED_STATUSES)
    denied = ctx.status_is("denied") & adjudicated
    charge = (
        lines["charge"].to_numpy(dtype="float64", na_value=np.nan)
        if usable(lines, "charge")
        else None
    )
    money = np.nan_to_num(charge) if charge is not None else None
    tpi = ctx.tpi_lines.to_numpy() if "cpt" in lines.columns else np.zeros(len(lines), bool)
    n_20553 = ctx.code_is("cpt", ["20553"]) & tpi if "cpt" in lines.columns else tpi
    days = revenue.days_to_pay(ctx)
    days_values = days.to_numpy(dtype="float64") if days is not None else None
    clean = kpis.clean_claims(ctx)
    claim_side = _claim_side(ctx, month, clean)
    frames = []
    for layer, source in _LAYERS:
        group, names = _layer_codes(ctx, source)
        width = len(names)
        size = n_months * width
        ok = dated & (group >= 0)
        key = month[ok] * width + group[ok]

        def count(
            weights: np.ndarray | None, key: np.ndarray = key, ok: np.ndarray = ok, size: int = size
        ) -> Any:
            w = None if weights is None else weights[ok]
            return np.bincount(key, weights=w, minlength=size)

        frame = pd.DataFrame(
            {
                "month": np.repeat(np.arange(n_months), width),
                "group": np.tile(np.arange(width), n_months),
                "lines": count(None).astype(np.int64),
            }
        )
        n_adj = count(adjudicated.astype(np.float64))
        frame["adjudicated_lines"] = n_adj.astype(np.int64)
        frame["denial_rate"] = (
            _ratio(count(denied.astype(np.float64)), n_adj) if has_status else np.nan
        )
        if has_status and money is not None:
            charged = count(np.where(adjudicated, money, 0.0))
            frame["denial_rate_dollars"] = _ratio(
                count(np.where(denied, money, 0.0)), charged, positive=True
            )
        else:
            frame["denial_rate_dollars"] = np.nan
        n_tpi = count(tpi.astype(np.float64))
        frame["tpi_lines"] = n_tpi.astype(np.int64)
        frame["tpi_20553_share"] = _ratio(count(n_20553.astype(np.float64)), n_tpi)
        frame["median_days_to_pay"] = np.nan
        if days_values is not None:
            paid = ok & ~np.isnan(days_values)
            if paid.any():
                medians = (
                    pd.Series(days_values[paid]).groupby(month[paid] * width + group[paid]).median()
                )
                frame.loc[medians.index.to_numpy(), "median_days_to_pay"] = medians.to_numpy()
        if claim_side is not None:
            claims, rated, clean_n = claim_side(layer, group, width, size)
            frame["claims"] = claims
            frame["claims_rated"] = rated
            frame["clean_claim_rate"] = (
                _ratio(clean_n, rated.astype(np.float64)) if clean is not None else np.nan
            )
        else:
            frame["claims"] = pd.NA
            frame["claims_rated"] = pd.NA
            frame["clean_claim_rate"] = np.nan
        frame = frame[frame["lines"] > 0].copy()
        frame["layer"] = layer
        frame["name"] = np.asarray(names, dtype=object)[frame["group"].to_numpy()]
        frames.append(frame)
    table = pd.concat(frames, ignore_index=True)
    table = _mark_changes(table)
    table = _add_findings(table, findings)
    layer_rank = table["layer"].map({name: i for i, (name, _) in enumerate(_LAYERS)})
    table = table.assign(_rank=layer_rank, _name=table["name"].fillna("").astype(str))
    table = table.sort_values(["_rank", "_name", "month"], kind="stable").reset_index(drop=True)
    is_provider = table["layer"].eq("provider")
    is_payer = table["layer"].eq("payer")
    table["provider"] = table["name"].where(is_provider, None)
    table["payer"] = table["name"].where(is_payer, None)
    table["month"] = np.asarray(month_text, dtype=object)[table["month"].to_numpy()]
    for name in ("claims", "claims_rated"):
        table[name] = pd.array(table[name], dtype="Int64")
    extra = sorted(c for c in table.columns if c.startswith(FINDINGS_PREFIX))
    return table[[*TREND_COLUMNS, *extra]]


def _ratio(top: np.ndarray, bottom: np.ndarray, positive: bool = False) -> np.ndarray:
    """top / bottom, NaN where bottom is 0 (or not positive, for money)."""
    bottom = np.asarray(bottom, dtype=np.float64)
    fine = bottom > 0 if positive else bottom != 0
    out = np.full(len(bottom), np.nan)
    np.divide(top, bottom, out=out, where=fine)
    return out


def _claim_side(ctx: Context, month: np.ndarray, clean: kpis.CleanClaims | None) -> Any:
    """A function counting claims, rated claims and clean claims per (month, group) of a layer,
    each claim in the month of its earliest date of service; None without claim ids."""
    if not usable(ctx.lines, "claim_id"):
        return None
    claim_codes, claim_ids = ctx.codes("claim_id")
    n_claims = len(claim_ids)
    keep = np.flatnonzero((claim_codes >= 0) & (month >= 0))
    claim = claim_codes[keep]
    claim_month = np.full(n_claims, np.iinfo(np.int64).max)
    np.minimum.at(claim_month, claim, month[keep])
    first_row = _first_rows(claim_codes, n_claims)
    has_month = claim_month < np.iinfo(np.int64).max
    if clean is not None:
        rated = clean.claims["counted"].to_numpy(dtype=bool)
        good = clean.claims["clean"].to_numpy(dtype=bool)
        claim_provider = clean.codes["claims"]["provider"][0]
    else:
        rated = good = np.zeros(n_claims, dtype=bool)
        claim_provider = None

    def counts(
        layer: str, group: np.ndarray, width: int, size: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if layer == "provider" and claim_provider is not None:
            of_claim = claim_provider
        else:  # the practice, a payer: the claim's first row
            of_claim = group[np.minimum(first_row, len(group) - 1)]
        ok = has_month & (of_claim >= 0)
        key = claim_month[ok] * width + of_claim[ok]
        claims = np.bincount(key, minlength=size).astype(np.int64)
        n_rated = np.bincount(key, weights=rated[ok], minlength=size).round().astype(np.int64)
        n_clean = np.bincount(key, weights=good[ok], minlength=size)
        return claims, n_rated, n_clean

    return counts


def _mark_changes(table: pd.DataFrame) -> pd.DataFrame:
    """``clean_claim_change`` (from the calendar month before, both months with at least
    :data:`MIN_RATED_CLAIMS` rated claims) and ``biggest_change`` (per practice or physician,
    the month of the largest absolute change) for the practice and physician rows."""
    table = table.sort_values(["layer", "group", "month"], kind="stable")
    rated = pd.to_numeric(table["claims_rated"], errors="coerce").fillna(0).to_numpy()
    rate = table["clean_claim_rate"].to_numpy(dtype="float64")
    same = (table["layer"].to_numpy() == np.roll(table["layer"].to_numpy(), 1)) & (
        table["group"].to_numpy() == np.roll(table["group"].to_numpy(), 1)
    )
    follows = table["month"].to_numpy() == np.roll(table["month"].to_numpy(), 1) + 1
    enough = rated >= MIN_RATED_CLAIMS
    usable_pair = same & follows & enough & np.roll(enough, 1) & ~table["layer"].eq("payer")
    usable_pair[0] = False
    change = np.where(usable_pair, rate - np.roll(rate, 1), np.nan)
    table["clean_claim_change"] = change
    size = pd.Series(np.abs(change), index=table.index).dropna()
    at = table.loc[size.index]
    best = size.groupby([at["layer"], at["group"]], sort=False).idxmax()
    table["biggest_change"] = False
    table.loc[best.to_numpy(), "biggest_change"] = True
    return table


def _add_findings(table: pd.DataFrame, findings: pd.DataFrame | None) -> pd.DataFrame:
    """One ``findings.<audit>`` column per audit with line findings (0 where none)."""
    if findings is None or not len(findings):
        return table
    wide = findings.pivot_table(
        index=["layer", "month", "group"], columns="audit", values="count", aggfunc="sum"
    )
    wide.columns = [FINDINGS_PREFIX + str(c) for c in wide.columns]
    joined = table.join(wide, on=["layer", "month", "group"])
    for column in wide.columns:
        joined[column] = joined[column].fillna(0).astype(np.int64)
    return joined


def _number(value: Any, digits: int | None = None) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and not np.isfinite(value)):
        return None
    if isinstance(value, np.integer | int):
        return int(value)
    value = float(value)
    return round(value, digits) if digits is not None else value


def records(table: pd.DataFrame | None) -> list[dict[str, Any]]:
    """The table as the JSON's ``trends`` array: one object per row with ``month``,
    ``provider`` (null for the practice and the payer rows), ``payer`` (null but on payer
    rows), the measures (rates as fractions 0..1 or null), ``biggest_change`` and
    ``findings`` ``{audit id: line findings}``."""
    if table is None or not len(table):
        return []
    extra = [c for c in table.columns if c.startswith(FINDINGS_PREFIX)]
    out = []
    for row in table.to_dict("records"):
        item: dict[str, Any] = {
            "month": row["month"],
            "provider": row["provider"],
            "payer": row["payer"],
        }
        for key in TREND_COLUMNS[3:-1]:
            item[key] = _number(row[key])
        item["biggest_change"] = bool(row["biggest_change"])
        item["findings"] = {c[len(FINDINGS_PREFIX) :]: int(row[c]) for c in extra}
        out.append(item)
    return out
