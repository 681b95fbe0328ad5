"""Practice measures shared by the audits, the summary and the supporting tables.

Definitions (also in docs/kpis.md, with sources; rates are fractions 0..1). Each KPI is computed
only when its columns are present; when it cannot be, its value is None and
``summary["kpi_notes"][key]`` says which columns are missing. ``summary["benchmarks"][key]``
holds each KPI's benchmark (:data:`BENCHMARKS`).

* **Clean claim**: paid on its first submission. A claim is *not clean* when any of its lines was
  denied or rejected, or the claim was corrected, replaced or voided (frequency code 7 or 8, or a
  ``voided`` line), or it was submitted more than once (more than one distinct
  ``submitted_date``), or - unless ``[kpis] edited_counts_as_unclean = false`` - it
  was edited before it went out. Claims whose lines are all settled without any of those count
  as clean; claims still pending (and not already unclean) are left out of the rate.
  ``clean_claim_rate`` = clean claims / rated claims. Needs claim_id, rendering_provider, status.
* **Denial rate** (by lines): ``denial_rate`` = denied lines / adjudicated lines (paid,
  partially paid or denied). By dollars: ``denial_rate_dollars`` = charges on denied lines /
  charges on adjudicated lines. Needs status (and charge for dollars).
* **As-of date** (``as_of``): ``[kpis] as_of``, else the latest paid, submitted or service
  date in the data (never the wall clock). See :mod:`auditkit.measures.revenue`.
* **Open A/R** (``ar_balance``): the sum of charge - paid - adjustment - patient responsibility
  over lines pending, denied or partially paid (missing amounts count as 0), credits included.
* **Days in A/R**: ``days_in_ar`` = open A/R / average daily charges, where average daily
  charges = charges on lines (not voided) with a date of service in the 90 days ending on the
  latest date of service on or before the as-of date, divided by 90. Needs status, charge.
* **Share of A/R over 90 days**: ``ar_over_90_share`` = open balances of lines more than 90
  days old / open balances (lines with a positive open balance). Needs status, charge.
* **Net collection rate**: ``net_collection_rate`` = (paid + patient responsibility) /
  (charges - contractual adjustments) over adjudicated lines (paid, partially paid, denied).
  Contractual adjustments are the ``adjustment`` on paid and partially paid lines (without
  that column: charge - allowed on them). A denied line's adjustment writes off its whole
  charge, which hides the contractual part: its net charge is estimated as its charge times
  the mean net-to-charge ratio of paid lines of the same code at the same payer (else of the
  code, else of the practice), so a denial counts as the money the contract would have paid.
  The patient's share counts as collected (exports carry no patient payments). Needs status,
  charge, paid, and adjustment or allowed.
* **Median days to pay**: ``median_days_to_pay`` = the median over paid and partially paid
  lines of the days from ``submitted_date`` (else date of service) to ``paid_date``. Needs
  status, paid_date.
* **20553 share**: 20553 lines / (20552 + 20553 lines), leaving out rejected and voided lines
  (a claim sent twice counts once).

Benchmarks are packaged in ``auditkit/reference/kpi_benchmarks.csv``, each with its source and
confidence: HFMA's MAP Keys define the clean claim rate (CL-1), the denial rate (AR-5) and aged
A/R (AR-3); the ranges come from MGMA-based and revenue-cycle summaries (confidence S). The
median days to pay has no published benchmark, so its threshold is a practice convention (V).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from auditkit.claims import (
    ADJUDICATED_STATUSES,
    PAID_STATUSES,
    SETTLED_STATUSES,
    UNCLEAN_STATUSES,
)
from auditkit.engine.context import dense_unique, usable
from auditkit.engine.result import SEVERITIES
from auditkit.measures import revenue
from auditkit.measures.settings import kpi_settings
from auditkit.reference import kpi_benchmarks

if TYPE_CHECKING:
    from auditkit.engine.context import Context

#: Days of charges averaged for days in A/R (the last three months).
AR_CHARGE_DAYS = 90


@dataclass(frozen=True)
class Benchmark:
    """A KPI's benchmark: text for people, thresholds for traffic lights, and where it is from.

    A value at or better than ``good`` is good, at or better than ``fair`` fair, else poor;
    "better" is higher when ``higher_is_better``.
    """

    text: str
    good: float
    fair: float
    higher_is_better: bool
    source: str
    confidence: str  # C confirmed, S secondary source, V unverified / practice convention

    def as_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "good": self.good,
            "fair": self.fair,
            "higher_is_better": self.higher_is_better,
            "source": self.source,
            "confidence": self.confidence,
        }


def _benchmarks() -> dict[str, Benchmark]:
    rows = kpi_benchmarks().to_dict("records")
    return {
        row["kpi"]: Benchmark(
            text=row["text"],
            good=float(row["good"]),
            fair=float(row["fair"]),
            higher_is_better=row["higher_is_better"].strip().lower() == "yes",
            source=row["source"],
            confidence=row["confidence"],
        )
        for row in rows
    }


#: The benchmark of each summary KPI (the workbook's traffic lights read the same values), from
#: the packaged ``kpi_benchmarks.csv`` with its sources.
BENCHMARKS: dict[str, Benchmark] = _benchmarks()
#: Industry target for the clean claim rate (HFMA MAP Keys CL-1, via secondary sources).
CLEAN_CLAIM_TARGET = BENCHMARKS["clean_claim_rate"].good
#: Columns each summary KPI needs (for ``kpi_notes`` when it cannot be computed).
KPI_COLUMNS: dict[str, tuple[str, ...]] = {
    "clean_claim_rate": ("claim_id", "rendering_provider", "status"),
    "denial_rate": ("status",),
    "denial_rate_dollars": ("status", "charge"),
    "days_in_ar": ("status", "charge"),
    "ar_over_90_share": ("status", "charge"),
    "net_collection_rate": ("status", "charge", "paid"),
    "median_days_to_pay": ("status", "paid_date"),
}


def _bool(series: pd.Series) -> pd.Series:
    """A nullable boolean/comparison result as plain bool (missing -> False)."""
    return series.fillna(False).astype(bool)


@dataclass
class CleanClaims:
    """Clean-claim flags per claim and per (claim, procedure family)."""

    #: One row per claim: claim_id, provider, denied, corrected, resubmitted, edited, pending,
    #: unclean, counted (in the rate's denominator), clean, charge.
    claims: pd.DataFrame
    #: The columns of :attr:`units` (arrays, or functions giving them): the frame is only
    #: assembled when asked for, as the run's tables and audits count on the codes.
    unit_columns: dict[str, Any]
    #: Which optional signals were available (for evidence and notes).
    signals: list[str]
    #: ``{"claims" or "units": {column: (integer code per row, names)}}`` for the provider and
    #: family columns, so tables count rows without grouping a million text values.
    codes: dict[str, dict[str, tuple[np.ndarray, Any]]] = field(default_factory=dict)

    @cached_property
    def units(self) -> pd.DataFrame:
        """One row per (claim, family): claim, provider, family, unclean, counted, clean."""
        return pd.DataFrame({k: v() if callable(v) else v for k, v in self.unit_columns.items()})

    def _column(self, level: str, name: str) -> np.ndarray:
        if level == "claims":
            return self.claims[name].to_numpy()
        return np.asarray(self.unit_columns[name])

    @property
    def rate(self) -> float | None:
        counted = int(self.claims["counted"].sum())
        return float(self.claims["clean"].sum()) / counted if counted else None

    def counted_by(self, level: str, by: list[str], mask: np.ndarray | None = None) -> pd.DataFrame:
        """Counted rows (``claims``) and clean ones (``clean``) of ``self.claims`` or
        ``self.units`` (``level``) per distinct combination of the ``by`` columns, with the
        columns' own values and dtypes; ``mask`` narrows the rows further. One row per
        combination that occurs, unsorted: group it by ``by`` and sum for a table."""
        keep = self._column(level, "counted").astype(bool)
        if mask is not None:
            keep = keep & mask
        pos = np.flatnonzero(keep)
        key = np.zeros(len(pos), dtype=np.int64)
        for name in by:
            codes, names = self.codes[level][name]
            key = key * (len(names) + 1) + codes[pos]
        combos, inverse = dense_unique(key)
        out: dict[str, Any] = {}
        rest = combos
        for name in reversed(by):
            codes, names = self.codes[level][name]
            out[name] = names.take(rest % (len(names) + 1))
            rest = rest // (len(names) + 1)
        clean = self._column(level, "clean").astype(bool)[pos]
        counts = pd.DataFrame({name: out[name] for name in by})
        counts["claims"] = np.bincount(inverse, minlength=len(combos)).astype("int64")
        counts["clean"] = np.bincount(inverse, weights=clean, minlength=len(combos))
        counts["clean"] = counts["clean"].round().astype("int64")
        return counts


#: Claim frequency codes of a corrected claim: 7 replaces an earlier claim, 8 voids one.
CORRECTED_FREQUENCIES: tuple[int, ...] = (7, 8)


def rated_and_clean(unclean: np.ndarray, pending: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The clean-claim rule over claims (or claim x family units, or one-line claims in a
    spreadsheet range): a claim is rated when it is unclean or fully settled (none of its lines
    pending), and clean when it is rated and not unclean. Returns ``(rated, clean)``."""
    rated = unclean | ~pending
    return rated, rated & ~unclean


def denial_counts(
    status_is_denied: np.ndarray, adjudicated: np.ndarray, charges: np.ndarray | None = None
) -> tuple[float, float]:
    """The denial rate's numerator and denominator: denied over adjudicated lines, counted as
    lines, or as charges (missing charges count 0) when ``charges`` is given."""
    denied = status_is_denied & adjudicated
    if charges is None:
        return int(denied.sum()), int(adjudicated.sum())
    money = np.nan_to_num(np.asarray(charges, dtype="float64"))
    return float(money[denied].sum()), float(money[adjudicated].sum())


def claim_any(ctx: Context, signal: str) -> np.ndarray | None:
    """Per claim (``Context.codes("claim_id")`` order): does any of its lines show ``signal``?

    Signals: ``voided`` (status), ``frequency`` (claim frequency 7 or 8), ``edited`` (edited
    before submission) and ``resubmitted`` (more than one distinct submission date). None when
    the data cannot show it. Worked out once per run for the clean-claim rate and the rework
    audit alike.
    """

    def compute() -> np.ndarray | None:
        lines = ctx.lines
        claim_codes, claim_ids = ctx.codes("claim_id")
        keep = np.flatnonzero(claim_codes >= 0)
        claim = claim_codes[keep]
        n_claims = len(claim_ids)
        if signal == "resubmitted":
            if not usable(lines, "submitted_date"):
                return None
            # More than one distinct submission date: the earliest and latest differ.
            submitted = lines["submitted_date"].to_numpy(dtype="datetime64[ns]")[keep]
            dated = ~np.isnat(submitted)
            days = submitted[dated].view(np.int64)
            first = np.full(n_claims, np.iinfo(np.int64).max)
            last = np.full(n_claims, np.iinfo(np.int64).min)
            np.minimum.at(first, claim[dated], days)
            np.maximum.at(last, claim[dated], days)
            return last > first
        if signal == "voided":
            if not ctx.has_status:
                return None
            flags = ctx.status_is("voided")
        elif signal == "frequency":
            if not usable(lines, "claim_frequency"):
                return None
            flags = _bool(lines["claim_frequency"].isin(CORRECTED_FREQUENCIES)).to_numpy()
        elif signal == "edited":
            if not usable(lines, "edited_before_submission"):
                return None
            flags = _bool(lines["edited_before_submission"]).to_numpy()
        else:
            raise ValueError(f"unknown claim signal {signal!r}")
        return np.bincount(claim, weights=flags[keep], minlength=n_claims) > 0

    found = ctx.cached(f"claim_any.{signal}", compute)
    return None if found is None else found.copy()


def clean_claims(ctx: Context) -> CleanClaims | None:
    """Claim-level clean/unclean flags (None when claim_id, rendering_provider or status is
    missing), worked out once per run."""
    return ctx.cached("kpis.clean_claims", lambda: _clean_claims(ctx))


def _clean_claims(ctx: Context) -> CleanClaims | None:
    lines = ctx.lines
    if not ctx.has_status or not usable(lines, "claim_id") or "rendering_provider" not in lines:
        return None
    settings = kpi_settings(ctx)
    # Whole-column work on integer codes: claims are numbered in order of first appearance
    # (as a groupby without sorting would list them) and every flag is a count per claim.
    claim_codes, claim_ids = ctx.codes("claim_id")
    signals = ["status"]
    unknown = ~ctx.status_is(*SETTLED_STATUSES)
    n_claims = len(claim_ids)
    # Per claim, a flag is set when any of its lines has it (shared with the rework audit).
    corrected = claim_any(ctx, "voided")
    frequency = claim_any(ctx, "frequency")
    if frequency is not None:
        corrected |= frequency
        signals.append("claim_frequency")
    edited = claim_any(ctx, "edited") if settings.edited_counts_as_unclean else None
    if edited is not None:
        signals.append("edited_before_submission")
    else:
        edited = np.zeros(n_claims, dtype=bool)
    charge = (
        lines["charge"].fillna(0.0).to_numpy(dtype="float64")
        if usable(lines, "charge")
        else np.zeros(len(lines))
    )
    line_no = (
        lines["line_number"].astype("Float64").fillna(np.inf).to_numpy(dtype="float64")
        if usable(lines, "line_number")
        else np.arange(len(lines), dtype="float64")
    )
    keep = np.flatnonzero(claim_codes >= 0)
    claim = claim_codes[keep]

    def any_of(flags: np.ndarray, keys: np.ndarray = claim, size: int = n_claims) -> np.ndarray:
        return np.bincount(keys, weights=flags[keep], minlength=size) > 0

    denied = ctx.status_is(*UNCLEAN_STATUSES)
    claims = pd.DataFrame(
        {
            "denied": any_of(denied),
            "corrected": corrected,
            "edited": edited,
            "pending": any_of(unknown),
            # pandas' grouped sum (compensated), as the per-claim totals were always added up
            "charge": pd.Series(charge[keep]).groupby(claim).sum().to_numpy(),
        }
    )
    resubmitted = claim_any(ctx, "resubmitted")
    if resubmitted is not None:
        signals.append("submitted_date")
        claims["resubmitted"] = resubmitted
    else:
        claims["resubmitted"] = False
    # The claim belongs to the provider of its first line (lowest line number, then row order).
    lowest = np.full(n_claims, np.inf)
    np.minimum.at(lowest, claim, line_no[keep])
    at_lowest = line_no[keep] == lowest[claim]
    first_row = np.full(n_claims, len(lines), dtype=np.int64)
    np.minimum.at(first_row, claim[at_lowest], keep[at_lowest])
    provider_codes, providers = ctx.codes("ctx.provider")
    claim_provider = provider_codes[first_row]
    provider_text = pd.array(np.asarray(providers, dtype=object), dtype="str")
    claims["provider"] = provider_text.take(claim_provider)
    claims["unclean"] = claims[["denied", "corrected", "edited", "resubmitted"]].any(axis=1)
    claims["counted"], claims["clean"] = rated_and_clean(
        claims["unclean"].to_numpy(), claims["pending"].to_numpy()
    )
    claims.insert(0, "claim_id", pd.array(claim_ids, dtype="str"))
    codes = {"claims": {"provider": (claim_provider, provider_text)}}

    # One row per (claim, procedure family), in order of first appearance.
    family_codes, families = ctx.codes("ctx.family")
    width = len(families) + 1
    pair_keys = claim * width + family_codes[keep]
    if len(pair_keys) and int(pair_keys.max()) < 2**31:
        pair_keys = pair_keys.astype(np.int32)  # the same codes; 32-bit keys hash faster
    pair_codes, pairs = pd.factorize(pair_keys)
    pairs = pairs.astype(np.int64)
    at_claim = pairs // width
    unit_provider = claim_provider[at_claim]
    unit_family = pairs % width
    family_text = pd.Index(families).array
    codes["units"] = {
        "provider": (unit_provider, provider_text),
        "family": (unit_family, family_text),
    }
    denied_pair = any_of(denied, pair_codes, len(pairs))
    pending_pair = any_of(unknown, pair_codes, len(pairs))
    unit_unclean = (
        denied_pair
        | claims["corrected"].to_numpy()[at_claim]
        | claims["edited"].to_numpy()[at_claim]
        | claims["resubmitted"].to_numpy()[at_claim]
    )
    unit_counted, unit_clean = rated_and_clean(unit_unclean, pending_pair)
    units = {
        "claim": at_claim,
        "provider": lambda: provider_text.take(unit_provider),
        "family": lambda: family_text.take(unit_family),
        "unclean": unit_unclean,
        "counted": unit_counted,
        "clean": unit_clean,
    }
    return CleanClaims(claims, units, signals, codes)


def rate_table_of_counts(counts: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Counted claims, clean claims and rate per group, from :meth:`CleanClaims.counted_by`."""
    out = counts.groupby(by, sort=True, observed=True).agg(
        claims=("claims", "sum"), clean=("clean", "sum")
    )
    out["claims"] = out["claims"].astype("int64")
    out["clean"] = out["clean"].astype("int64")
    out["rate"] = out["clean"] / out["claims"]
    return out.reset_index()


def tpi_mix(ctx: Context) -> dict[str, pd.DataFrame]:
    """20552/20553 counts and 20553 share overall, per provider, per month, per provider-month."""
    return dict(ctx.cached("kpis.tpi_mix", lambda: _tpi_mix(ctx)))


def _tpi_mix(ctx: Context) -> dict[str, pd.DataFrame]:
    lines = ctx.lines
    if "cpt" not in lines.columns:
        return {}
    tpi = ctx.tpi_lines.to_numpy()
    frame = pd.DataFrame(
        {
            "provider": ctx.text("ctx.provider", tpi).array,
            "n_20552": ctx.code_is("cpt", ["20552"])[tpi].astype("int64"),
            "n_20553": ctx.code_is("cpt", ["20553"])[tpi].astype("int64"),
        }
    )
    if usable(lines, "date_of_service"):
        frame["month"] = ctx.month_text("date_of_service")[tpi]

    def mix(by: list[str]) -> pd.DataFrame:
        out = frame.groupby(by, sort=True)[["n_20552", "n_20553"]].sum().reset_index()
        out["lines"] = out["n_20552"] + out["n_20553"]
        out["share_20553"] = out["n_20553"] / out["lines"]
        return out

    tables = {"tpi_mix_by_provider": mix(["provider"])}
    if "month" in frame:
        tables["tpi_mix_by_month"] = mix(["month"])
        tables["tpi_mix_by_provider_month"] = mix(["provider", "month"])
    return tables


def denial_by_payer(ctx: Context) -> pd.DataFrame | None:
    """Adjudicated lines, denied lines, rate and denied dollars (charges) per payer."""
    if not ctx.has_status:
        return None
    lines = ctx.lines
    adjudicated = ctx.status_is(*ADJUDICATED_STATUSES)
    denied = ctx.status_is("denied")
    charge = lines["charge"].fillna(0.0).to_numpy() if usable(lines, "charge") else None
    values = {
        "denied": denied,
        "denied_dollars": np.where(denied, charge, 0.0) if charge is not None else np.nan,
    }
    if charge is None:
        values["denied_dollars"] = np.full(len(lines), np.nan)
    out = ctx.group_agg(
        {"payer": "ctx.payer"},
        adjudicated,
        values,
        {
            "lines": ("denied", "size"),
            "denied": ("denied", "sum"),
            "denied_dollars": ("denied_dollars", "sum"),
        },
    )
    out["denied"] = out["denied"].astype("int64")
    if charge is None:
        out["denied_dollars"] = np.nan
    out["rate"] = out["denied"] / out["lines"]
    return out.reset_index()[["payer", "lines", "denied", "rate", "denied_dollars"]]


def tables(ctx: Context) -> dict[str, pd.DataFrame]:
    """Every supporting table the data allows."""
    out: dict[str, pd.DataFrame] = {}
    clean = clean_claims(ctx)
    if clean is not None:
        out["clean_claim_rate_by_provider"] = rate_table_of_counts(
            clean.counted_by("claims", ["provider"]), ["provider"]
        )
        by_family = ["provider", "family"]
        out["clean_claim_rate_by_provider_family"] = rate_table_of_counts(
            clean.counted_by("units", by_family), by_family
        )
    out.update(tpi_mix(ctx))
    by_payer = denial_by_payer(ctx)
    if by_payer is not None:
        out["denial_rate_by_payer"] = by_payer
    aging = revenue.aging_by_payer(ctx)
    if aging is not None:
        out["ar_aging_by_payer"] = aging
    out.update(revenue.days_to_pay_tables(ctx))
    causes = revenue.denials_by_cause(ctx)
    if causes is not None:
        out["denials_by_cause"] = causes
    return out


def _money(lines: pd.DataFrame, column: str, mask: pd.Series | None = None) -> float | None:
    if not usable(lines, column):
        return None
    values = lines[column] if mask is None else lines.loc[mask, column]
    return round(float(values.sum()), 2)


#: The summary's keys that come from the findings (filled by :func:`add_finding_summary`).
FINDING_KEYS = ("findings", "findings_by_severity", "dollars_at_risk", "dollars_at_risk_by_basis")


def line_summary(ctx: Context, tables: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """Practice-level KPIs from the claim lines alone (rates are fractions 0..1, or None when
    the data cannot give them), the findings' keys left None in their place: the run works
    this out before the findings are joined, so the lines can be let go first, then fills
    those keys with :func:`add_finding_summary`."""
    lines = ctx.lines
    dates = lines.get("date_of_service")
    has_dates = dates is not None and dates.notna().any()
    clean = clean_claims(ctx)
    out: dict[str, Any] = {
        "practice": ctx.config.practice.get("name"),
        "period": ctx.config.practice.get("period"),
        "lines": len(lines),
        "claims": _distinct(ctx, "claim_id"),
        "providers": _distinct(ctx, "rendering_provider"),
        "payers": _distinct(ctx, "payer"),
        "period_start": dates.min().date().isoformat() if has_dates else None,
        "period_end": dates.max().date().isoformat() if has_dates else None,
        "clean_claim_rate": clean.rate if clean is not None else None,
        "clean_claims": int(clean.claims["clean"].sum()) if clean is not None else None,
        "claims_rated": int(clean.claims["counted"].sum()) if clean is not None else None,
        "clean_claim_target": CLEAN_CLAIM_TARGET,
        "denial_rate": None,
        "denial_rate_dollars": None,
        "denied_lines": None,
        "denied_dollars": None,
        "charges": _money(lines, "charge"),
        "paid": _money(lines, "paid"),
    }
    if ctx.has_status:
        adjudicated = ctx.status_is(*ADJUDICATED_STATUSES)
        denied = ctx.status_is("denied")
        n_adj = int(adjudicated.sum())
        out["denied_lines"] = int(denied.sum())
        out["denial_rate"] = out["denied_lines"] / n_adj if n_adj else None
        if usable(lines, "charge"):
            charges_adj = float(lines.loc[adjudicated, "charge"].sum())
            out["denied_dollars"] = _money(lines, "charge", denied)
            out["denial_rate_dollars"] = (
                out["denied_dollars"] / charges_adj if charges_adj > 0 else None
            )
    out.update(dict.fromkeys(FINDING_KEYS))
    mix = tables.get("tpi_mix_by_provider")
    n_tpi = int(mix["lines"].sum()) if mix is not None else 0
    out["tpi_lines"] = n_tpi
    out["tpi_20553_share"] = float(mix["n_20553"].sum()) / n_tpi if n_tpi else None
    out.update(revenue_kpis(ctx))
    out["benchmarks"] = {key: b.as_dict() for key, b in BENCHMARKS.items()}
    out["kpi_notes"] = kpi_notes(ctx, out)
    return out


def add_finding_summary(out: dict[str, Any], findings: pd.DataFrame) -> None:
    """Fill the summary's findings keys: counts by severity and the dollars at risk, each
    dollar once (only counted findings, see :mod:`auditkit.engine.money`), by what they are."""
    n = len(findings)
    severity = findings["severity"] if n else pd.Series(dtype="string")
    by_severity = severity.value_counts() if n else pd.Series(dtype=int)
    out["findings"] = n
    out["findings_by_severity"] = {s: int(by_severity.get(s, 0)) for s in SEVERITIES}
    counted = findings["counted"].to_numpy(dtype=bool) if n else np.zeros(0, dtype=bool)
    dollars = findings["dollars_at_risk"][counted] if n else pd.Series(dtype="float64")
    out["dollars_at_risk"] = round(float(dollars.sum()), 2) if len(dollars) else 0.0
    by_basis = (
        dollars.groupby(findings["dollars_basis"][counted], observed=True).sum()
        if len(dollars)
        else {}
    )
    out["dollars_at_risk_by_basis"] = {  # by name
        str(k): round(float(v), 2)
        for k, v in sorted(dict(by_basis).items(), key=lambda kv: str(kv[0]))
        if v
    }


def _distinct(ctx: Context, column: str) -> int | None:
    """Distinct values of a column (missing not counted), None when the column is absent."""
    if column not in ctx.lines:
        return None
    known = ctx.cached(f"distinct.{column}", lambda: len(ctx.codes(column, keep=False)[1]))
    return int(known)


def revenue_kpis(ctx: Context) -> dict[str, Any]:
    """Days in A/R, share of A/R over 90 days, net collection rate, median days to pay."""
    out: dict[str, Any] = {
        "as_of": None,
        "as_of_source": None,
        "ar_balance": None,
        "ar_over_90": None,
        "average_daily_charges": None,
        "days_in_ar": None,
        "ar_over_90_share": None,
        "net_collection_rate": None,
        "median_days_to_pay": None,
    }
    when, source = revenue.as_of(ctx)
    if when is not None:
        out["as_of"], out["as_of_source"] = when.date().isoformat(), source
    ar = revenue.open_balances(ctx)
    if ar is not None:
        open_total = float(ar.balance[ar.is_open].sum())
        out["ar_balance"] = round(ar.total, 2)
        out["ar_over_90"] = round(ar.over(90), 2)
        out["ar_over_90_share"] = ar.over(90) / open_total if open_total > 0 else None
        daily = _average_daily_charges(ctx, ar.as_of)
        out["average_daily_charges"] = round(daily, 2) if daily is not None else None
        out["days_in_ar"] = ar.total / daily if daily else None
    out["net_collection_rate"] = _net_collection_rate(ctx)
    days = revenue.days_to_pay(ctx)
    if days is not None and days.notna().any():
        out["median_days_to_pay"] = float(days.median())
    return out


def _average_daily_charges(ctx: Context, as_of: pd.Timestamp) -> float | None:
    """Charges (not voided) with a date of service in the last 90 days of service, / 90."""
    lines = ctx.lines
    dos = lines["date_of_service"]
    last = dos[dos <= as_of].max()
    if pd.isna(last):
        return None
    window = (dos > last - pd.Timedelta(days=AR_CHARGE_DAYS)) & (dos <= last)
    if ctx.has_status:
        window &= ~ctx.status_is("voided")
    total = float(lines.loc[_bool(window), "charge"].sum())
    return total / AR_CHARGE_DAYS if total > 0 else None


def _net_collection_rate(ctx: Context) -> float | None:
    lines = ctx.lines
    if not ctx.has_status or not usable(lines, "charge") or not usable(lines, "paid"):
        return None
    if not usable(lines, "adjustment") and not usable(lines, "allowed"):
        return None
    settled = pd.Series(ctx.status_is(*PAID_STATUSES), index=lines.index)
    denied = pd.Series(ctx.status_is("denied"), index=lines.index)
    charge = lines["charge"].astype("float64").fillna(0.0)
    if usable(lines, "adjustment"):
        contractual = lines["adjustment"].astype("float64").fillna(0.0)
    else:
        contractual = (charge - lines["allowed"].astype("float64")).fillna(0.0)
    net = (charge - contractual).where(settled)
    # A denied line's adjustment writes off the whole charge, hiding its contractual part: its
    # net charge is estimated from paid lines of the same code at the same payer (else the
    # code at any payer, else the practice's net-to-charge ratio).
    ratio = (net / charge.where(charge > 0)).where(settled)
    # Means per (code, payer) and per code, grouped on integer codes in row order (the same
    # additions as grouping the text); lines without a code have neither.
    cpt_codes, _ = ctx.codes("cpt")
    payer_codes, payers = ctx.codes("ctx.payer")
    coded = cpt_codes >= 0
    pair_key = cpt_codes * len(payers) + payer_codes
    values = pd.Series(ratio.to_numpy()[coded])
    by_pair = values.groupby(pair_key[coded]).mean()
    by_code = values.groupby(cpt_codes[coded]).mean()
    overall = float(ratio.mean()) if ratio.notna().any() else 1.0
    on_denied = denied.to_numpy()
    den_key = np.where(coded, pair_key, -1)[on_denied]
    pair_ratio = pd.Series(by_pair.reindex(den_key).to_numpy(), index=lines.index[on_denied])
    code_ratio = pd.Series(
        by_code.reindex(cpt_codes[on_denied]).to_numpy(), index=lines.index[on_denied]
    )
    estimate = pair_ratio.fillna(code_ratio).fillna(overall) * charge[denied]
    collected = lines["paid"].astype("float64").fillna(0.0)
    if "patient_responsibility" in lines.columns:
        collected = collected + lines["patient_responsibility"].astype("float64").fillna(0.0)
    expected = float(net[settled].sum()) + float(estimate.sum())
    received = float(collected[settled | denied].sum())
    return received / expected if expected > 0 else None


def kpi_notes(ctx: Context, summary: dict[str, Any]) -> dict[str, str]:
    """For each KPI that is None: why (the columns it needs that are missing or empty)."""
    lines = ctx.lines
    notes: dict[str, str] = {}
    for key, needed in KPI_COLUMNS.items():
        if summary.get(key) is not None:
            continue
        absent = [c for c in needed if c not in lines.columns]
        empty = [c for c in needed if c in lines.columns and not usable(lines, c)]
        extra: list[str] = []
        if key == "net_collection_rate" and not (
            usable(lines, "adjustment") or usable(lines, "allowed")
        ):
            extra.append("adjustment or allowed")
        if absent or empty or extra:
            parts = []
            if absent or extra:
                parts.append("the data has no " + ", ".join([*absent, *extra]) + " column")
            if empty:
                parts.append(", ".join(empty) + " is empty on every line")
            notes[key] = f"needs {', '.join(needed)}: " + "; ".join(parts)
        else:
            notes[key] = "no lines to compute it from (" + _empty_reason(key) + ")"
    return notes


def _empty_reason(key: str) -> str:
    return {
        "clean_claim_rate": "no settled claims",
        "denial_rate": "no adjudicated lines",
        "denial_rate_dollars": "no charges on adjudicated lines",
        "days_in_ar": "no dates or no charges in the last 90 days of service",
        "ar_over_90_share": "no open balances",
        "net_collection_rate": "no adjudicated lines with charges",
        "median_days_to_pay": "no paid line has a payment date",
    }[key]
