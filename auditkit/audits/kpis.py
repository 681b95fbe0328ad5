"""Practice measures shared by the audits, the summary and the supporting tables.

Definitions (also in the README and the audits' docstrings):

* **Clean claim**: paid on its first submission. A claim is *not clean* when any of its lines was
  denied or rejected, or the claim was corrected, replaced or voided (frequency code 7 or 8, or a
  ``voided`` line), or it was submitted more than once (more than one distinct
  ``submitted_date``), or - unless ``[clean-claim-rate] edited_counts_as_unclean = false`` - it
  was edited before it went out. Claims whose lines are all settled without any of those count
  as clean; claims still pending (and not already unclean) are left out of the rate.
* **Denial rate** (by lines): denied lines / adjudicated lines (paid, partially paid or denied).
  By dollars: charges on denied lines / charges on adjudicated lines.
* **20553 share**: 20553 lines / (20552 + 20553 lines), leaving out rejected and voided lines
  (a claim sent twice counts once).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from auditkit.audits.base import PAID_STATUSES, usable
from auditkit.audits.result import SEVERITIES

if TYPE_CHECKING:
    from auditkit.audits.base import Context

#: Industry target for the clean claim rate (HFMA MAP CL-1 benchmark, secondary source).
CLEAN_CLAIM_TARGET = 0.95
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
    return out
