"""Measures shared by the revenue audits and the summary KPIs, computed once per run.

Definitions (also in docs/kpis.md):

* **As-of date**: ``[kpis] as_of`` in the config file (``YYYY-MM-DD``), else the latest
  ``paid_date``, ``submitted_date`` or ``date_of_service`` in the data - never today's date,
  so the same export always gives the same ages. Statuses and balances are as exported; the
  as-of date only sets the ages.
* **Open balance** of a line: ``charge - paid - adjustment - patient_responsibility`` (a missing
  amount counts as 0) on lines whose status is ``pending``, ``denied`` or ``partially_paid``;
  other statuses (paid, rejected at the clearinghouse, voided) have no open balance. A line is
  open when its balance is at least one cent; negative balances (credits) count in the A/R
  total ("net of credits") but never as open claims.
* **Age** of an open line: days from its date of service (``[kpis] age_from =
  "submitted_date"`` ages from the first submission instead, falling back to the date of
  service) to the as-of date. Buckets: 0-30, 31-60, 61-90, 91-120 and over 120 days.
* **Days to pay** of a line: days from ``submitted_date`` (else ``date_of_service``) to
  ``paid_date`` on lines paid or partially paid; other lines, and negative spans, have none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import pandas as pd

from auditkit.claims import LIST_SEP, OPEN_STATUSES, PAID_STATUSES, list_contains
from auditkit.engine.context import BLANK, Context, dense_unique, usable
from auditkit.errors import ConfigError
from auditkit.measures.settings import AGE_FROM, kpi_settings
from auditkit.reference import split_carc
from auditkit.reference.revenue import (
    NOT_REFUSAL_CAUSES,
    denial_causes,
    multiple_procedure_subject,
)

BUCKETS: tuple[str, ...] = ("0-30", "31-60", "61-90", "91-120", "over 120")
_BUCKET_EDGES = np.array([30, 60, 90, 120])


def bool_mask(series: pd.Series) -> pd.Series:
    """A nullable boolean/comparison result as plain bool (missing -> False)."""
    return series.fillna(False).astype(bool)


def line_balance(lines: pd.DataFrame) -> pd.Series:
    """Each line's balance, to the cent: the charge less what was paid, adjusted and left to
    the patient (missing amounts count as zero)."""
    return (
        money_or_zero(lines, "charge")
        - money_or_zero(lines, "paid")
        - money_or_zero(lines, "adjustment")
        - money_or_zero(lines, "patient_responsibility")
    ).round(2)


def money_or_zero(lines: pd.DataFrame, column: str) -> pd.Series:
    """A money column with missing amounts (or a missing column) as 0."""
    if column not in lines.columns:
        return pd.Series(0.0, index=lines.index)
    return lines[column].astype("float64").fillna(0.0)


# --------------------------------------------------------------------------------------------
# as-of date


def as_of(ctx: Context) -> tuple[pd.Timestamp | None, str]:
    """The as-of date and how it was chosen ("configured" or "latest date in the data")."""
    return ctx.cached("revenue.as_of", lambda: _as_of(ctx))


def _as_of(ctx: Context) -> tuple[pd.Timestamp | None, str]:
    configured = str(kpi_settings(ctx).as_of).strip()
    if configured:
        try:
            value = pd.Timestamp(configured)
        except ValueError:
            value = pd.NaT
        if pd.isna(value):
            raise ConfigError(
                f"[kpis] as_of: {configured!r} is not a date",
                path=ctx.config.source,
                hint="write it as YYYY-MM-DD, or leave it empty for the latest date in the data",
            )
        return value.normalize(), "configured"
    latest = [
        ctx.lines[c].max()
        for c in ("paid_date", "submitted_date", "date_of_service")
        if usable(ctx.lines, c)
    ]
    latest = [d for d in latest if pd.notna(d)]
    if not latest:
        return None, "no dates in the data"
    return pd.Timestamp(max(latest)).normalize(), "latest date in the data"


# --------------------------------------------------------------------------------------------
# open balances (A/R)


@dataclass
class OpenBalances:
    """A/R per line: balance (0 where not open), age in days and bucket of open lines."""

    balance: pd.Series  # float64 over all lines; 0 on lines that are not open
    is_open: pd.Series  # bool: balance at least one cent on an open status
    age: pd.Series  # float64 days since the age date, NaN where unknown
    bucket: pd.Series  # string bucket label where open and aged
    as_of: pd.Timestamp
    as_of_source: str
    age_from: str

    @property
    def total(self) -> float:
        """A/R net of credits: every balance on an open status, credits included."""
        return float(self.balance.sum())

    def over(self, days: int) -> float:
        return float(self.balance[self.is_open & (self.age > days)].sum())


def open_balances(ctx: Context) -> OpenBalances | None:
    """Open balances (None without status or charge, or without any date)."""
    return ctx.cached("revenue.open_balances", lambda: _open_balances(ctx))


def _open_balances(ctx: Context) -> OpenBalances | None:
    lines = ctx.lines
    if not ctx.has_status or not usable(lines, "charge"):
        return None
    when, source = as_of(ctx)
    if when is None:
        return None
    settings = kpi_settings(ctx)
    age_from = str(settings.age_from).strip()
    if age_from not in AGE_FROM:
        raise ConfigError(
            f"[kpis] age_from: {age_from!r} is not one of {', '.join(AGE_FROM)}",
            path=ctx.config.source,
        )
    on_status = pd.Series(ctx.status_is(*OPEN_STATUSES), index=lines.index)
    balance = line_balance(lines).where(on_status, 0.0)
    start = lines["date_of_service"]
    if age_from == "submitted_date" and usable(lines, "submitted_date"):
        start = lines["submitted_date"].fillna(start)
    age = (when - start).dt.days.astype("float64")
    is_open = on_status & (balance >= 0.01) & age.notna()
    which = np.searchsorted(_BUCKET_EDGES, age.fillna(0).clip(lower=0).to_numpy(), side="left")
    # Bucket labels taken from the five texts (missing where the line is not open).
    labels = pd.array([*BUCKETS, pd.NA], dtype="string")
    bucket = labels.take(np.where(is_open.to_numpy(), which, len(BUCKETS)))
    return OpenBalances(
        balance=balance,
        is_open=is_open,
        age=age,
        bucket=pd.Series(bucket, index=lines.index, dtype="string"),
        as_of=when,
        as_of_source=source,
        age_from=age_from,
    )


def aging_by_payer(ctx: Context) -> pd.DataFrame | None:
    """Open balances per payer and bucket, with the total and the share over 90 days."""
    ar = open_balances(ctx)
    if ar is None:
        return None
    frame = pd.DataFrame(
        {
            "payer": ctx.text("ctx.payer", ar.is_open.to_numpy()).array,
            "bucket": ar.bucket[ar.is_open].array,
        }
    )
    frame["balance"] = ar.balance[ar.is_open].to_numpy()
    table = frame.pivot_table(
        index="payer", columns="bucket", values="balance", aggfunc="sum", fill_value=0.0
    )
    table = table.reindex(columns=list(BUCKETS), fill_value=0.0).round(2)
    table["total"] = table[list(BUCKETS)].sum(axis=1).round(2)
    over = table["91-120"] + table["over 120"]
    table["over_90_share"] = (over / table["total"]).where(table["total"] > 0)
    table.columns.name = None
    return table.reset_index().sort_values("total", ascending=False, kind="stable")


# --------------------------------------------------------------------------------------------
# days to pay


def days_to_pay(ctx: Context) -> pd.Series | None:
    """Days from submission (else service) to payment per line; NaN where not paid.

    None without status or paid_date.
    """
    return ctx.cached("revenue.days_to_pay", lambda: _days_to_pay(ctx))


def _days_to_pay(ctx: Context) -> pd.Series | None:
    lines = ctx.lines
    if not ctx.has_status or not usable(lines, "paid_date"):
        return None
    start = lines["date_of_service"]
    if usable(lines, "submitted_date"):
        start = lines["submitted_date"].fillna(start)
    days = (lines["paid_date"] - start).dt.days.astype("float64")
    paid = ctx.status_is(*PAID_STATUSES)
    return days.where(paid & (days >= 0))


def days_to_pay_tables(ctx: Context) -> dict[str, pd.DataFrame]:
    """Median days to pay by payer x procedure family and by code."""
    days = days_to_pay(ctx)
    if days is None or not days.notna().any():
        return {}
    has = days.notna().to_numpy()
    values = {"days": days.to_numpy()}
    agg = {"lines": ("days", "size"), "median_days": ("days", "median")}

    def table(by: dict[str, str]) -> pd.DataFrame:
        return ctx.group_agg(by, has, values, agg).reset_index()

    return {
        "days_to_pay_by_payer_family": table({"payer": "ctx.payer", "family": "ctx.family"}),
        "days_to_pay_by_code": table({"cpt": "cpt"}),
    }


# --------------------------------------------------------------------------------------------
# denials


def line_causes(ctx: Context) -> pd.DataFrame | None:
    """Per line: ``reason`` (the denial code that explains it) and its root ``cause``; a CO-16
    takes its cause from the line's remark codes where ``remark_codes`` is exported
    (:func:`auditkit.reference.revenue.denial_causes`)."""
    if "denial_codes" not in ctx.lines.columns:
        return None
    return ctx.cached("revenue.causes", lambda: _line_causes(ctx))


def _line_causes(ctx: Context) -> pd.DataFrame:
    """:func:`denial_causes` worked out once per distinct (denial codes, remark codes) pair,
    then spread over the lines."""
    codes, uniques = ctx.codes("denial_codes")
    values = np.append(np.asarray(uniques, dtype=object), None)
    at = np.where(codes < 0, len(uniques), codes)  # last slot: no codes
    remarks = None
    if usable(ctx.lines, "remark_codes"):
        remark_ids, remark_values = ctx.codes("remark_codes", keep=False)
        remark_values = np.append(np.asarray(remark_values, dtype=object), None)
        remark_at = np.where(remark_ids < 0, len(remark_values) - 1, remark_ids)
        pairs, inverse = dense_unique(at * len(remark_values) + remark_at)
        codes_of = values[pairs // len(remark_values)]
        remarks = pd.Series(remark_values[pairs % len(remark_values)], dtype="string")
    else:
        pairs, inverse = dense_unique(at)
        codes_of = values[pairs]
    per_value = denial_causes(
        pd.Series(codes_of, dtype="string"),
        ctx.reference.carcs,
        remarks,
        remark_reference(ctx) if remarks is not None else None,
    )
    return pd.DataFrame(
        {name: per_value[name].array.take(inverse) for name in ("reason", "cause")},
        index=ctx.lines.index,
    )


def remark_reference(ctx: Context) -> pd.DataFrame:
    """``rarcs.csv`` (or the practice's copy named in ``[reference] rarcs``), read once."""
    return ctx.cached("revenue.rarcs", lambda: ctx.reference.coding("rarcs"))


def denials_by_cause(ctx: Context) -> pd.DataFrame | None:
    """Denied lines and dollars (charges) by procedure family x payer x root cause."""
    causes = line_causes(ctx)
    if causes is None or not ctx.has_status:
        return None
    denied = pd.Series(ctx.status_is("denied"), index=ctx.lines.index)
    frame = pd.DataFrame(
        {
            "family": ctx.text("ctx.family", denied.to_numpy()).array,
            "payer": ctx.text("ctx.payer", denied.to_numpy()).array,
            "cause": causes.loc[denied, "cause"].fillna("(no reason code)").array,
            "charge": money_or_zero(ctx.lines, "charge")[denied].to_numpy(),
        }
    )
    out = frame.groupby(["family", "payer", "cause"], sort=True, observed=True).agg(
        denied_lines=("charge", "size"), denied_dollars=("charge", "sum")
    )
    out["denied_dollars"] = out["denied_dollars"].round(2)
    return out.reset_index()


def denial_explains_reduction(ctx: Context) -> pd.Series:
    """Lines carrying a reason code that is a refusal to pay: a payment reduced for such a
    reason is the denial audits' business, not an underpayment. Contractual reductions (CO-45,
    CO-59, CO-253), the patient's share and codes carcs.csv does not list are not refusals:
    those lines are still checked against the contract."""
    causes = line_causes(ctx)
    if causes is None:
        return pd.Series(False, index=ctx.lines.index)
    return bool_mask(causes["cause"].notna() & ~causes["cause"].isin(NOT_REFUSAL_CAUSES))


# --------------------------------------------------------------------------------------------
# underpayment against a contract fee schedule


def payer_key(values: pd.Series) -> pd.Series:
    """Payer names compared without case or outer spaces (worked out per distinct name)."""
    codes, uniques = pd.factorize(values.astype("string"), use_na_sentinel=True)
    keys = pd.Series(uniques, dtype="string").str.strip().str.casefold().to_numpy(dtype=object)
    out = np.where(codes >= 0, keys[np.maximum(codes, 0)] if len(keys) else None, None)
    return pd.Series(out, index=values.index, dtype="string")


def underpaid_lines(ctx: Context, settings: SimpleNamespace) -> pd.DataFrame | None:
    """Lines paid below the contract (see the underpayment audit), None without a fee schedule.

    Columns: ``pos`` (position in the claim-line frame), payer, cpt, units, observed, expected,
    shortfall, fee, fee_payer, fee_modifier, fee_pos, fee_row, bilateral, contract (the
    contract amount before the reductions below), mpr_percent (the multiple-procedure
    percent paid, 100 where the rule does not reduce the line), mpr_rank and mpr_of (the line's
    place among the session's procedures; NaN where the rule does not apply), sequestration
    (dollars taken off the expected amount), basis ("allowed" or "paid + patient
    responsibility").
    """
    if ctx.fee_schedule is None:
        return None
    return ctx.cached("revenue.underpaid", lambda: _underpaid(ctx, settings))


def _underpaid(ctx: Context, settings: SimpleNamespace) -> pd.DataFrame:
    lines = ctx.lines
    if not ctx.has_status:
        return _empty_underpaid()
    settled = pd.Series(ctx.status_is(*PAID_STATUSES), index=lines.index)
    if usable(lines, "allowed"):
        observed = lines["allowed"].astype("float64")
        basis = pd.Series("allowed", index=lines.index, dtype="string")
        fallback = money_or_zero(lines, "paid") + money_or_zero(lines, "patient_responsibility")
        if usable(lines, "paid"):
            basis = basis.mask(observed.isna(), "paid + patient responsibility")
            observed = observed.fillna(fallback.where(lines["paid"].notna()))
    elif usable(lines, "paid"):
        observed = (lines["paid"] + money_or_zero(lines, "patient_responsibility")).astype(
            "float64"
        )
        basis = pd.Series("paid + patient responsibility", index=lines.index, dtype="string")
    else:
        return _empty_underpaid()
    # Every paid line of a code is priced (a session's procedures are ranked among them all);
    # lines whose payment a refusal to pay explains are not checked.
    priced = settled & bool_mask(lines["cpt"].notna())
    check = priced & observed.notna() & ~denial_explains_reduction(ctx)
    if not check.any():
        return _empty_underpaid()

    fees = ctx.fee_schedule
    modifiers = lines["modifiers"] if "modifiers" in lines.columns else None
    pricing = pd.Series(pd.NA, index=lines.index, dtype="string")
    fee_mods = sorted(fees["modifier"].dropna().unique()) if "modifier" in fees.columns else []
    if modifiers is not None:
        # One pass per modifier the fee schedule prices (a handful), not per line.
        for mod in reversed(fee_mods):
            pricing = pricing.mask(list_contains(modifiers, mod), mod)
    pos = (
        lines["place_of_service"].astype("string")
        if "place_of_service" in lines.columns
        else pd.Series(pd.NA, index=lines.index, dtype="string")
    )
    keys = pd.DataFrame(
        {
            "payer": payer_key(ctx.payer).where(ctx.payer != BLANK),
            "cpt": lines["cpt"].astype("string").str.upper(),
            "mod": pricing,
            "pos": pos,
        }
    )[priced]
    # Look the fee up once per distinct (payer, code, modifier, place) combination.
    combos = keys.drop_duplicates().reset_index(drop=True)
    lookup = _lookup_fees(combos, fees)
    merged = keys.reset_index().merge(lookup, on=["payer", "cpt", "mod", "pos"], how="left")
    merged = merged.set_index("index").reindex(keys.index)
    units = (
        lines.loc[priced, "units"].astype("Float64").fillna(1.0).astype("float64")
        if "units" in lines.columns
        else pd.Series(1.0, index=keys.index)
    )
    units = units.where(units > 0, 1.0)
    bilateral = (
        list_contains(modifiers[priced], "50")
        if modifiers is not None
        else pd.Series(False, index=keys.index)
    )
    # Only codes the procedures table lets be billed bilaterally are paid at the bilateral
    # rate; 50 on any other code (a billing error of its own) is paid at 100%.
    procedures = ctx.reference.procedures
    two_sided = set(procedures.loc[procedures["bilateral_allowed"] == "yes", "code"])
    bilateral &= keys["cpt"].isin(sorted(two_sided)).fillna(False).astype(bool)
    factor = pd.Series(
        np.where(
            bilateral & merged["fee_modifier"].ne("50").fillna(True).astype(bool),
            settings.bilateral_percent / 100.0,
            1.0,
        ),
        index=keys.index,
    )
    contract = merged["fee"] * units * factor
    mpr = _multiple_procedure(ctx, settings, merged["fee"] * factor, units, observed[priced])
    sequestration = _sequestration(ctx, settings, keys["payer"], basis[priced])
    expected = (contract * mpr["percent"] / 100.0 - sequestration).round(2)
    at = check[priced].to_numpy()
    shortfall = (expected - observed[priced]).round(2)
    tolerance = np.maximum(settings.tolerance_dollars, settings.tolerance_percent * expected)
    under = bool_mask(shortfall > tolerance).to_numpy() & at
    rows = keys.index[under]
    out = pd.DataFrame(
        {
            "pos": rows,
            "payer": ctx.payer[rows].to_numpy(),
            "cpt": keys["cpt"][under].to_numpy(),
            "units": units[under].to_numpy(),
            "observed": observed[rows].round(2).to_numpy(),
            "expected": expected[under].to_numpy(),
            "shortfall": shortfall[under].to_numpy(),
            "fee": merged["fee"][under].to_numpy(),
            "fee_payer": merged["fee_payer"][under].to_numpy(),
            "fee_modifier": merged["fee_modifier"][under].to_numpy(),
            "fee_pos": merged["fee_pos"][under].to_numpy(),
            "fee_row": merged["fee_row"][under].to_numpy(),
            "bilateral": factor[under].to_numpy() != 1.0,
            "contract": contract[under].round(2).to_numpy(),
            "mpr_percent": mpr["percent"][under].to_numpy(),
            "mpr_rank": mpr["rank"][under].to_numpy(),
            "mpr_of": mpr["of"][under].to_numpy(),
            "sequestration": sequestration[under].round(2).to_numpy(),
            "basis": basis[rows].to_numpy(),
        }
    )
    out.attrs["checked"] = int(check.sum())
    out.attrs["priced"] = int(merged["fee"][at].notna().sum())
    return out


def _empty_underpaid() -> pd.DataFrame:
    out = pd.DataFrame(
        columns=[
            "pos", "payer", "cpt", "units", "observed", "expected", "shortfall", "fee",
            "fee_payer", "fee_modifier", "fee_pos", "fee_row", "bilateral", "contract",
            "mpr_percent", "mpr_rank", "mpr_of", "sequestration", "basis",
        ]
    )  # fmt: skip
    out.attrs["checked"] = 0
    out.attrs["priced"] = 0
    return out


def multiple_procedure_percents(ctx: Context, settings: SimpleNamespace) -> list[float]:
    """``[underpayment] multiple_procedure_percents`` as numbers ("100,50" -> [100.0, 50.0])."""
    text = str(settings.multiple_procedure_percents)
    try:
        values = [float(v) for v in text.replace(";", ",").split(",") if v.strip()]
    except ValueError:
        values = []
    if not values or not all(0 <= v <= 100 for v in values):
        raise ConfigError(
            f"[underpayment] multiple_procedure_percents: {text!r} is not a list of percents",
            path=ctx.config.source,
            hint='write it like "100,50": the session\'s highest-valued procedure at 100%, '
            'the others at 50% (the last percent repeats); "100" turns the reduction off',
        )
    return values


def session_ids(ctx: Context) -> np.ndarray | None:
    """Per line: the session it belongs to (same patient, date of service, rendering provider
    and payer), -1 where the patient or the date is unknown; None when the data cannot tell
    sessions apart. Without ``patient_id`` the claim stands for the patient; without
    ``date_of_service`` the claim stands for the date."""
    lines = ctx.lines

    def cached() -> np.ndarray | None:
        who = next((c for c in ("patient_id", "claim_id") if usable(lines, c)), None)
        when = [c for c in ("date_of_service", "claim_id") if usable(lines, c) and c != who]
        if who is None or (who == "patient_id" and not when):
            return None
        needed = [who, *when[:1]]
        optional = [c for c in ("rendering_provider",) if c in lines.columns] + ["ctx.payer"]
        key = np.zeros(len(lines), dtype=np.int64)
        missing = np.zeros(len(lines), dtype=bool)
        for column in (*needed, *optional):
            codes, uniques = ctx.codes(column)
            if column in needed:
                missing |= codes < 0
            _, key = dense_unique(key * (len(uniques) + 1) + (codes + 1))
            key = key.astype(np.int64)
        return np.where(missing, -1, key)

    return ctx.cached("revenue.sessions", cached)


def _multiple_procedure(
    ctx: Context,
    settings: SimpleNamespace,
    value: pd.Series,
    units: pd.Series,
    observed: pd.Series,
) -> pd.DataFrame:
    """Per priced line (the index of ``value``): the percent of the contract the multiple-
    procedure rule pays (``percent``, averaged over the line's units), the line's first place
    among its session's procedures (``rank``) and their number (``of``).

    The session's procedures subject to the rule (:func:`~auditkit.reference.revenue.
    multiple_procedure_subject`) are ranked by their contract amount per unit (``value``,
    bilateral pricing included), highest first; a procedure the fee schedule does not price
    ranks first (it may be the most valuable: assuming so never expects more than the rule
    pays). Equal amounts rank the better-paid line first, as the payer chose it. Each unit is
    one procedure: units 2 of a code take the 2nd and 3rd places after a first procedure.
    """
    out = pd.DataFrame(
        {"percent": 100.0, "rank": np.nan, "of": np.nan}, index=value.index, dtype="float64"
    )
    percents = multiple_procedure_percents(ctx, settings)
    sessions = session_ids(ctx)
    if sessions is None or all(p == 100 for p in percents):
        return out
    where = ctx.lines.index.get_indexer(value.index)
    rules = ctx.cached(
        "revenue.multiple_procedures", lambda: ctx.reference.coding("multiple_procedures")
    )
    subject = multiple_procedure_subject(
        ctx.lines["cpt"].iloc[where], rules, ctx.reference.procedures
    ).to_numpy(dtype=bool)
    session = sessions[where]
    take = np.flatnonzero(subject & (session >= 0))
    if not len(take):
        return out
    worth = value.to_numpy(dtype="float64", na_value=np.nan)[take]
    worth = np.where(np.isnan(worth), np.inf, worth)
    count = units.to_numpy(dtype="float64")[take]
    paid_per_unit = observed.to_numpy(dtype="float64", na_value=np.nan)[take] / count
    paid_per_unit = np.where(np.isnan(paid_per_unit), -np.inf, paid_per_unit)
    order = np.lexsort([take, -paid_per_unit, -worth, session[take]])
    ranked = session[take][order]
    count = count[order]
    total = np.cumsum(count)
    group_start = np.r_[True, ranked[1:] != ranked[:-1]]
    before = total - count
    start = before - np.maximum.accumulate(np.where(group_start, before, 0))
    per_session = pd.Series(count).groupby(ranked).transform("sum").to_numpy()
    paid = _percent_sum(percents, start + count) - _percent_sum(percents, start)
    rows = take[order]
    out.iloc[rows, 0] = paid / count
    out.iloc[rows, 1] = start + 1
    out.iloc[rows, 2] = per_session
    # A procedure alone in its session is not reduced, and has no place to report.
    alone = rows[per_session <= 1]
    out.iloc[alone, 1] = np.nan
    out.iloc[alone, 2] = np.nan
    return out


def _percent_sum(percents: list[float], n: np.ndarray) -> np.ndarray:
    """The percents of the first ``n`` procedures added up (the last percent repeats; a
    fraction of a unit takes that fraction of its place's percent)."""
    p = np.asarray(percents, dtype="float64")
    before = np.r_[0.0, np.cumsum(p)]
    whole = np.floor(n).astype(np.int64)
    fraction = n - whole
    inside = np.minimum(whole, len(p))
    return (
        before[inside]
        + np.maximum(whole - len(p), 0) * p[-1]
        + fraction * p[np.minimum(whole, len(p) - 1)]
    )


def sequestered_payers(ctx: Context, settings: SimpleNamespace) -> np.ndarray:
    """Per line: is its payer's payment sequestered? Payers whose name holds one of
    ``[underpayment] sequestration_payers`` as a whole word (case ignored), and payers any of
    whose lines carry reason code 253. Worked out once per distinct payer."""

    def compute() -> np.ndarray:
        payer_codes, payers = ctx.codes("ctx.payer")
        names = pd.Series(np.asarray(payers, dtype=object), dtype="string")
        hit = np.zeros(len(names), dtype=bool)
        for word in (w.strip() for w in str(settings.sequestration_payers).split(",")):
            if word:
                pattern = r"\b" + re.escape(word) + r"\b"
                hit |= bool_mask(names.str.contains(pattern, case=False, regex=True)).to_numpy()
        if "denial_codes" in ctx.lines.columns:
            codes, uniques = ctx.codes("denial_codes")
            carries = np.array(
                [
                    any(split_carc(i)[1] == "253" for i in str(v).split(LIST_SEP) if i.strip())
                    for v in np.asarray(uniques, dtype=object)
                ]
                + [False],
                dtype=bool,
            )  # one test per distinct list of codes
            on_line = carries[np.where(codes < 0, len(uniques), codes)]
            hit[np.unique(payer_codes[on_line & (payer_codes >= 0)])] = True
        return np.append(hit, False)[np.where(payer_codes < 0, len(hit), payer_codes)]

    return ctx.cached("revenue.sequestered", compute)


def _sequestration(
    ctx: Context, settings: SimpleNamespace, payers: pd.Series, basis: pd.Series
) -> pd.Series:
    """Dollars sequestration takes off the expected amount of each priced line (the index of
    ``payers``): where the line is compared on paid plus patient responsibility at a
    sequestered payer, the payer's payment was cut by ``sequestration_percent`` after the
    patient's share, so ``paid`` is that share short of the payment before the cut:
    paid x s / (1 - s). An allowed amount is not cut, so lines compared on it lose nothing."""
    share = settings.sequestration_percent / 100.0
    out = pd.Series(0.0, index=payers.index)
    if share <= 0 or not usable(ctx.lines, "paid"):
        return out
    where = ctx.lines.index.get_indexer(payers.index)
    cut = (
        sequestered_payers(ctx, settings)[where]
        & bool_mask(basis.eq("paid + patient responsibility")).to_numpy()
    )
    paid = ctx.lines["paid"].to_numpy(dtype="float64", na_value=np.nan)[where]
    amount = np.where(cut & ~np.isnan(paid) & (paid > 0), paid * share / (1.0 - share), 0.0)
    return pd.Series(amount, index=payers.index)


def _lookup_fees(combos: pd.DataFrame, fees: pd.DataFrame) -> pd.DataFrame:
    """The most specific fee-schedule row for each (payer, cpt, mod, pos) combination.

    Specificity: a payer's own row beats an every-payer row, then a row for the line's modifier
    beats a row without one, then a row for its place of service beats one for any place.
    """
    table = pd.DataFrame(
        {
            "f_payer": payer_key(fees["payer"]) if "payer" in fees.columns else pd.NA,
            "cpt": fees["cpt"].astype("string").str.upper(),
            "f_mod": fees["modifier"].astype("string") if "modifier" in fees.columns else pd.NA,
            "f_pos": fees["place_of_service"].astype("string")
            if "place_of_service" in fees.columns
            else pd.NA,
            "fee": fees["allowed"].astype("float64"),
            "fee_payer": fees["payer"].astype("string") if "payer" in fees.columns else pd.NA,
            "fee_row": fees["source_row"] if "source_row" in fees.columns else pd.NA,
        }
    ).astype({"f_payer": "string", "f_mod": "string", "f_pos": "string"})
    cand = combos.reset_index().merge(table, on="cpt", how="inner")
    ok = (cand["f_payer"].isna() | cand["f_payer"].eq(cand["payer"]).fillna(False)) & (
        cand["f_mod"].isna() | cand["f_mod"].eq(cand["mod"]).fillna(False)
    )
    ok &= cand["f_pos"].isna() | cand["f_pos"].eq(cand["pos"]).fillna(False)
    cand = cand[ok.astype(bool)]
    cand = cand.assign(
        score=cand["f_payer"].notna().astype(int) * 4
        + cand["f_mod"].notna().astype(int) * 2
        + cand["f_pos"].notna().astype(int)
    )
    best = cand.sort_values(["index", "score"], ascending=[True, False], kind="stable")
    best = best.drop_duplicates("index").set_index("index")
    out = combos.copy()
    out["fee"] = best["fee"].reindex(out.index)
    out["fee_payer"] = best["fee_payer"].reindex(out.index)
    out["fee_modifier"] = best["f_mod"].reindex(out.index)
    out["fee_pos"] = best["f_pos"].reindex(out.index)
    out["fee_row"] = best["fee_row"].reindex(out.index)
    return out


def underpayment_by_payer(ctx: Context, settings: SimpleNamespace) -> pd.DataFrame | None:
    """Underpaid lines and dollars recoverable per payer (``settings``: the underpayment
    audit's tolerances, see :func:`underpaid_lines`)."""
    under = underpaid_lines(ctx, settings)
    if under is None:
        return None
    out = under.groupby("payer", sort=True).agg(
        lines=("shortfall", "size"), recoverable=("shortfall", "sum")
    )
    out["recoverable"] = out["recoverable"].round(2)
    return out.reset_index().sort_values("recoverable", ascending=False, kind="stable")


# --------------------------------------------------------------------------------------------
# the money of denied lines


def expected_payments(ctx: Context) -> tuple[np.ndarray, np.ndarray]:
    """Per line: its expected payment (:meth:`Context.line_fees`: the config's fee schedule,
    else the practice's mean paid amount for the code at the payer, else at any payer; NaN
    where none is known) and its charge (0 where missing)."""
    return ctx.line_fees(), money_or_zero(ctx.lines, "charge").to_numpy(dtype="float64")


def group_dollars(
    ctx: Context, groups: np.ndarray, n_groups: int, lines: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The dollars of groups of lines, each with one basis: ``groups`` labels each line of the
    frame (0..n_groups-1, -1 for none; or each of ``lines``, positions in the frame).

    A group whose every line has an expected payment is worth their sum ("expected payment");
    otherwise, where the export has charges, the lines' charges ("charge"), so that a figure
    never adds two kinds of money; without charges, the expected payments that are known.
    Returns ``(dollars, basis)``.
    """
    fee, charge = expected_payments(ctx)
    if lines is not None:
        fee, charge = fee[lines], charge[lines]
    inside = groups >= 0
    at = groups[inside]
    known = ~np.isnan(fee[inside])
    fees = np.bincount(at, weights=np.where(known, fee[inside], 0.0), minlength=n_groups)
    unknown = np.bincount(at, weights=~known, minlength=n_groups) > 0
    charges = np.bincount(at, weights=charge[inside], minlength=n_groups)
    by_charge = unknown & usable(ctx.lines, "charge")
    dollars = np.where(by_charge, charges, fees).round(2)
    basis = np.where(by_charge, "charge", "expected payment")
    return dollars, basis
