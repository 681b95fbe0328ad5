"""Practice measures shared by the audits, the summary and the supporting tables.

Definitions (also in docs/kpis.md, with sources; rates are fractions 0..1). Each KPI is computed
only when its columns are present; when it cannot be, its value is None and
``summary["kpi_notes"][key]`` says which columns are missing. ``summary["benchmarks"][key]``
holds each KPI's benchmark (:data:`BENCHMARKS`).

* **Clean claim**: paid on its first submission. A claim is *not clean* when any of its lines was
  denied or rejected, or the claim was corrected, replaced or voided (frequency code 7 or 8, or a
  ``voided`` line), or it was submitted more than once (more than one distinct
  ``submitted_date``), or - unless ``[clean-claim-rate] edited_counts_as_unclean = false`` - it
  was edited before it went out. Claims whose lines are all settled without any of those count
  as clean; claims still pending (and not already unclean) are left out of the rate.
  ``clean_claim_rate`` = clean claims / rated claims. Needs claim_id, rendering_provider, status.
* **Denial rate** (by lines): ``denial_rate`` = denied lines / adjudicated lines (paid,
  partially paid or denied). By dollars: ``denial_rate_dollars`` = charges on denied lines /
  charges on adjudicated lines. Needs status (and charge for dollars).
* **As-of date** (``as_of``): ``[ar-aging] as_of``, else the latest paid, submitted or service
  date in the data (never the wall clock). See :mod:`auditkit.audits.revenue`.
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

Benchmarks come from /work/shared/reference/pain-billing-facts.md section 6 (confidence S:
secondary sources; the clean claim rate's is HFMA MAP Key CL-1); the median days to pay has
no published benchmark there, so its threshold is a practice convention (V).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from auditkit.audits import revenue
from auditkit.audits.base import PAID_STATUSES, usable
from auditkit.audits.result import SEVERITIES

if TYPE_CHECKING:
    from auditkit.audits.base import Context

#: Industry target for the clean claim rate (HFMA MAP CL-1 benchmark, secondary source).
CLEAN_CLAIM_TARGET = 0.95
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


_FACTS = "pain-billing-facts s.6"
#: The benchmark of each summary KPI (the workbook's traffic lights read the same values).
BENCHMARKS: dict[str, Benchmark] = {
    "clean_claim_rate": Benchmark(
        "95% or more (HFMA MAP CL-1); top practices 97-98%",
        CLEAN_CLAIM_TARGET,
        0.90,
        True,
        f"HFMA MAP Key CL-1 via {_FACTS}; fair from 90% is a practice convention",
        "S",
    ),
    "denial_rate": Benchmark(
        "under 5% good; 5-10% typical",
        0.05,
        0.10,
        False,
        f"secondary sources via {_FACTS}",
        "S",
    ),
    "denial_rate_dollars": Benchmark(
        "under 5% good; 5-10% typical",
        0.05,
        0.10,
        False,
        f"secondary sources via {_FACTS}",
        "S",
    ),
    "days_in_ar": Benchmark(
        "under 30 best; 30-40 fair; over 40 act",
        30.0,
        40.0,
        False,
        f"secondary sources via {_FACTS}",
        "S",
    ),
    "ar_over_90_share": Benchmark(
        "under 10-15% of A/R",
        0.10,
        0.15,
        False,
        f"secondary sources via {_FACTS}",
        "S",
    ),
    "net_collection_rate": Benchmark(
        "95-100%",
        0.95,
        0.90,
        True,
        f"secondary sources via {_FACTS}; fair from 90% is a practice convention",
        "S",
    ),
    "median_days_to_pay": Benchmark(
        "about 30 days or less (practice convention)",
        30.0,
        45.0,
        False,
        "practice convention: no published benchmark in pain-billing-facts",
        "V",
    ),
}
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
UNCLEAN_STATUSES = ("denied", "rejected")


def _bool(series: pd.Series) -> pd.Series:
    """A nullable boolean/comparison result as plain bool (missing -> False)."""
    return series.fillna(False).astype(bool)


@dataclass
class CleanClaims:
    """Clean-claim flags per claim and per (claim, procedure family)."""

    #: One row per claim: claim_id, provider, denied, corrected, resubmitted, edited, pending,
    #: unclean, counted (in the rate's denominator), clean, charge.
    claims: pd.DataFrame
    #: One row per (claim, family): claim_id, provider, family, unclean, counted, clean.
    units: pd.DataFrame
    #: Which optional signals were available (for evidence and notes).
    signals: list[str]

    @property
    def rate(self) -> float | None:
        counted = int(self.claims["counted"].sum())
        return float(self.claims["clean"].sum()) / counted if counted else None


def clean_claims(ctx: Context) -> CleanClaims | None:
    """Compute clean-claim flags (None when claim_id, rendering_provider or status is missing)."""
    from auditkit.audits.registry import get

    lines = ctx.lines
    status = ctx.status
    if status is None or not usable(lines, "claim_id") or "rendering_provider" not in lines:
        return None
    settings = ctx.config.settings(get("clean-claim-rate"))
    claim_codes, claim_ids = pd.factorize(lines["claim_id"].astype("string"), use_na_sentinel=True)
    signals = ["status"]
    unknown = ~_bool(status.isin(("paid", "partially_paid", "denied", "rejected", "voided")))
    corrected = _bool(status.eq("voided"))
    if usable(lines, "claim_frequency"):
        corrected |= _bool(lines["claim_frequency"].isin([7, 8]))
        signals.append("claim_frequency")
    if usable(lines, "edited_before_submission") and settings.edited_counts_as_unclean:
        edited = _bool(lines["edited_before_submission"])
        signals.append("edited_before_submission")
    else:
        edited = pd.Series(False, index=lines.index)
    charge = lines["charge"].fillna(0.0) if usable(lines, "charge") else 0.0
    line_no = (
        lines["line_number"].astype("Float64").fillna(np.inf).astype("float64")
        if usable(lines, "line_number")
        else pd.Series(np.arange(len(lines), dtype="float64"), index=lines.index)
    )
    frame = pd.DataFrame(
        {
            "claim": claim_codes,
            "denied": _bool(status.isin(UNCLEAN_STATUSES)).to_numpy(),
            "corrected": corrected.to_numpy(),
            "edited": edited.to_numpy(),
            "pending": unknown.to_numpy(),
            "family": ctx.family.array,
            "charge": np.asarray(charge, dtype="float64") if np.ndim(charge) else 0.0,
            "line_no": line_no.to_numpy(),
            "provider": ctx.provider.array,
        }
    )
    if usable(lines, "submitted_date"):
        frame["submitted"] = lines["submitted_date"].to_numpy()
        signals.append("submitted_date")
    frame = frame[frame["claim"] >= 0]
    grouped = frame.groupby("claim", sort=False)
    claims = grouped.agg(
        denied=("denied", "any"),
        corrected=("corrected", "any"),
        edited=("edited", "any"),
        pending=("pending", "any"),
        charge=("charge", "sum"),
    )
    if "submitted" in frame:
        claims["resubmitted"] = grouped["submitted"].nunique() > 1
    else:
        claims["resubmitted"] = False
    # The claim belongs to the provider of its first line.
    first = grouped["line_no"].idxmin()
    claims["provider"] = frame.loc[first.to_numpy(), "provider"].to_numpy()
    claims["unclean"] = claims[["denied", "corrected", "edited", "resubmitted"]].any(axis=1)
    claims["counted"] = claims["unclean"] | ~claims["pending"]
    claims["clean"] = claims["counted"] & ~claims["unclean"]
    claims.insert(0, "claim_id", np.asarray(claim_ids, dtype=object)[claims.index.to_numpy()])

    units = frame.groupby(["claim", "family"], sort=False).agg(
        denied=("denied", "any"), pending=("pending", "any")
    )
    units = units.reset_index()
    claim_level = claims[["corrected", "edited", "resubmitted", "provider"]]
    units = units.join(claim_level, on="claim")
    units["unclean"] = units[["denied", "corrected", "edited", "resubmitted"]].any(axis=1)
    units["counted"] = units["unclean"] | ~units["pending"]
    units["clean"] = units["counted"] & ~units["unclean"]
    units = units[["claim", "provider", "family", "unclean", "counted", "clean"]]
    return CleanClaims(claims.reset_index(drop=True), units, signals)


def rate_table(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Counted claims, clean claims and rate per group of a clean-claims frame."""
    counted = frame[frame["counted"]]
    out = counted.groupby(by, sort=True, observed=True).agg(
        claims=("clean", "size"), clean=("clean", "sum")
    )
    out["clean"] = out["clean"].astype("int64")
    out["rate"] = out["clean"] / out["claims"]
    return out.reset_index()


def tpi_mix(ctx: Context) -> dict[str, pd.DataFrame]:
    """20552/20553 counts and 20553 share overall, per provider, per month, per provider-month."""
    lines = ctx.lines
    if "cpt" not in lines.columns:
        return {}
    cpt = lines["cpt"].astype("string")
    tpi = ctx.tpi_lines
    frame = pd.DataFrame(
        {
            "provider": ctx.provider[tpi].array,
            "n_20552": _bool(cpt[tpi].eq("20552")).to_numpy().astype("int64"),
            "n_20553": _bool(cpt[tpi].eq("20553")).to_numpy().astype("int64"),
        }
    )
    if usable(lines, "date_of_service"):
        frame["month"] = lines.loc[tpi, "date_of_service"].dt.strftime("%Y-%m").to_numpy()

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
    if ctx.status is None:
        return None
    lines = ctx.lines
    adjudicated = _bool(ctx.status.isin((*PAID_STATUSES, "denied")))
    denied = _bool(ctx.status.eq("denied"))
    charge = lines["charge"].fillna(0.0) if usable(lines, "charge") else None
    frame = pd.DataFrame(
        {
            "payer": ctx.payer[adjudicated].array,
            "denied": denied[adjudicated].to_numpy(),
            "denied_dollars": (
                charge[adjudicated].where(denied[adjudicated], 0.0).to_numpy()
                if charge is not None
                else np.nan
            ),
        }
    )
    out = frame.groupby("payer", sort=True).agg(
        lines=("denied", "size"), denied=("denied", "sum"), denied_dollars=("denied_dollars", "sum")
    )
    out["denied"] = out["denied"].astype("int64")
    if charge is None:
        out["denied_dollars"] = np.nan
    out["rate"] = out["denied"] / out["lines"]
    return out.reset_index()[["payer", "lines", "denied", "rate", "denied_dollars"]]


def tables(ctx: Context) -> dict[str, pd.DataFrame]:
    """Every supporting table the data allows."""
    out: dict[str, pd.DataFrame] = {}
    clean = ctx.clean_claims
    if clean is not None:
        out["clean_claim_rate_by_provider"] = rate_table(clean.claims, ["provider"])
        out["clean_claim_rate_by_provider_family"] = rate_table(clean.units, ["provider", "family"])
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
    under = revenue.underpayment_by_payer(ctx)
    if under is not None:
        out["underpayment_by_payer"] = under
    return out


def _money(lines: pd.DataFrame, column: str, mask: pd.Series | None = None) -> float | None:
    if not usable(lines, column):
        return None
    values = lines[column] if mask is None else lines.loc[mask, column]
    return round(float(values.sum()), 2)


def summary(
    ctx: Context, findings: pd.DataFrame, tables: dict[str, pd.DataFrame]
) -> dict[str, Any]:
    """Practice-level KPIs. Rates are fractions 0..1, or None when the data cannot give them."""
    lines = ctx.lines
    dates = lines.get("date_of_service")
    has_dates = dates is not None and dates.notna().any()
    clean = ctx.clean_claims
    out: dict[str, Any] = {
        "practice": ctx.config.practice.get("name"),
        "period": ctx.config.practice.get("period"),
        "lines": len(lines),
        "claims": int(lines["claim_id"].nunique()) if "claim_id" in lines else None,
        "providers": int(lines["rendering_provider"].nunique())
        if "rendering_provider" in lines
        else None,
        "payers": int(lines["payer"].nunique()) if "payer" in lines else None,
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
    if ctx.status is not None:
        adjudicated = _bool(ctx.status.isin((*PAID_STATUSES, "denied")))
        denied = _bool(ctx.status.eq("denied"))
        n_adj = int(adjudicated.sum())
        out["denied_lines"] = int(denied.sum())
        out["denial_rate"] = out["denied_lines"] / n_adj if n_adj else None
        if usable(lines, "charge"):
            charges_adj = float(lines.loc[adjudicated, "charge"].sum())
            out["denied_dollars"] = _money(lines, "charge", denied)
            out["denial_rate_dollars"] = (
                out["denied_dollars"] / charges_adj if charges_adj > 0 else None
            )
    severities = findings["severity"].value_counts() if len(findings) else pd.Series(dtype=int)
    out["findings"] = len(findings)
    out["findings_by_severity"] = {s: int(severities.get(s, 0)) for s in SEVERITIES}
    out["dollars_at_risk"] = (
        round(float(findings["dollars_at_risk"].sum()), 2) if len(findings) else 0.0
    )
    mix = tables.get("tpi_mix_by_provider")
    n_tpi = int(mix["lines"].sum()) if mix is not None else 0
    out["tpi_lines"] = n_tpi
    out["tpi_20553_share"] = float(mix["n_20553"].sum()) / n_tpi if n_tpi else None
    out.update(revenue_kpis(ctx))
    out["benchmarks"] = {key: b.as_dict() for key, b in BENCHMARKS.items()}
    out["kpi_notes"] = kpi_notes(ctx, out)
    return out


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
    if ctx.status is not None:
        window &= ~_bool(ctx.status.eq("voided"))
    total = float(lines.loc[_bool(window), "charge"].sum())
    return total / AR_CHARGE_DAYS if total > 0 else None


def _net_collection_rate(ctx: Context) -> float | None:
    lines = ctx.lines
    if ctx.status is None or not usable(lines, "charge") or not usable(lines, "paid"):
        return None
    if not usable(lines, "adjustment") and not usable(lines, "allowed"):
        return None
    settled = _bool(ctx.status.isin(PAID_STATUSES))
    denied = _bool(ctx.status.eq("denied"))
    charge = lines["charge"].astype("float64").fillna(0.0)
    if usable(lines, "adjustment"):
        contractual = lines["adjustment"].astype("float64").fillna(0.0)
    else:
        contractual = (charge - lines["allowed"].astype("float64")).fillna(0.0)
    net = (charge - contractual).where(settled)
    # A denied line's adjustment writes off the whole charge, hiding its contractual part: its
    # net charge is estimated from paid lines of the same code at the same payer (else the
    # code at any payer, else the practice's net-to-charge ratio).
    keys = pd.DataFrame({"cpt": lines["cpt"].astype("string"), "payer": ctx.payer.astype("string")})
    ratio = (net / charge.where(charge > 0)).where(settled)
    by_pair = ratio.groupby([keys["cpt"], keys["payer"]]).mean()
    by_code = ratio.groupby(keys["cpt"]).mean()
    overall = float(ratio.mean()) if ratio.notna().any() else 1.0
    den = keys[denied]
    pair_ratio = pd.Series(
        by_pair.reindex(pd.MultiIndex.from_frame(den)).to_numpy(), index=den.index
    )
    code_ratio = den["cpt"].map(by_code).astype("float64")
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
