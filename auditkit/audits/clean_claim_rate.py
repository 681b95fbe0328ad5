"""Audit ``clean-claim-rate``: physicians whose claims are paid first time far less often."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from auditkit.engine.context import Context
from auditkit.engine.contract import Audit, NothingToAudit, Threshold
from auditkit.engine.findings import findings_frame
from auditkit.engine.result import empty_findings
from auditkit.engine.stats import two_proportion_z, wilson_interval
from auditkit.engine.text import money, pct
from auditkit.measures.kpis import CLEAN_CLAIM_TARGET, clean_claims

DRIVERS_NAMED = 3
SAMPLE_CLAIMS = 5


class CleanClaimRate(Audit):
    """A physician's claims are paid on first submission far less often than the group's.

    Why it matters
    --------------
    Every claim that is denied, rejected, corrected or resubmitted costs staff time to rework
    and delays the money by weeks; some are never recovered. The industry target for the clean
    claim rate is 95% or better. When one physician sits well below colleagues billed by the
    same staff to the same payers, the cause is usually specific to that physician: note
    templates, missing authorizations for their procedures, or how their charges are entered,
    and the procedure families named in the finding show where.

    What is flagged
    ---------------
    A clean claim is paid on its first submission: no line denied or rejected, not corrected,
    replaced or voided (frequency code 7 or 8, or a voided line), not submitted more than once
    (several submission dates), and - unless ``[kpis] edited_counts_as_unclean`` is false - not
    edited before it went out. Claims still pending are left out. Each claim belongs to the
    physician of its first line. A physician is flagged when they have at least ``min_claims`` rated claims
    (the rest of the group too), their clean claim rate is at least ``min_gap`` below the rest of
    the group's, and a one-sided two-proportion z-test is below ``alpha``. Medium; high when the
    gap is at least ``high_gap``. The finding names the procedure families (trigger point, joint,
    epidural, facet, nerve block, neurostimulation, chronic pain management, E/M, other) that
    account for most of the gap, among families with at least ``driver_min_claims`` claims.

    A physician whose overall rate hides one bad family is flagged too (medium): at least
    ``family_min_claims`` claims in the family (the rest of the group too), a rate at least
    ``family_min_gap`` below the rest of the group's in the same family, and a test below the
    stricter ``family_alpha`` (many physician-family pairs are tested).

    Dollars at risk: the charges on the claims above the group's unclean rate (the excess unclean
    claims times the physician's mean charge per unclean claim); 0 when charges are not exported.
    The practice's overall clean claim rate goes in the summary against ``target``.

    How to fix
    ----------
    Pull the physician's unclean claims in the named families and sort them by denial reason:
    missing authorizations and modifiers are fixed at charge entry or in the scrubber,
    documentation denials in the note template. Re-check the rate after a month of claims.

    Columns needed
    --------------
    Required: claim_id, rendering_provider, status. Optional: claim_frequency,
    submitted_date and edited_before_submission (more ways to see a claim was not clean),
    line_number (which line is first), cpt (procedure families), charge (dollars at risk).

    Example
    -------
    The comparison needs at least ``min_claims`` claims per physician, so each row stands for
    ``repeat`` identical one-line claims.

    Flagged: a third of Dr. Lee's lumbar epidural claims are denied, against one in fifteen of
    Dr. Adams's.

        rendering_provider | cpt   | status | repeat
        -------------------+-------+--------+-------
        Dr. Lee            | 62323 | paid   | 20
        Dr. Lee            | 62323 | denied | 10
        Dr. Adams          | 62323 | paid   | 28
        Dr. Adams          | 62323 | denied | 2

    Result: 1 high finding. Dr. Lee has 20 of 30 claims clean (67%), the rest of the group 28 of
    30 (93%): 27 points lower, more than ``high_gap``.

    Not flagged: Dr. Lee's claims are denied about as often as Dr. Adams's (27 of 30 clean).

        rendering_provider | cpt   | status | repeat
        -------------------+-------+--------+-------
        Dr. Lee            | 62323 | paid   | 27
        Dr. Lee            | 62323 | denied | 3
        Dr. Adams          | 62323 | paid   | 28
        Dr. Adams          | 62323 | denied | 2
    """

    id = "clean-claim-rate"
    title = "Clean claim rate per physician"
    severities = ("high", "medium")
    columns = ("claim_id", "rendering_provider", "status")
    optional_columns = (
        "claim_frequency",
        "submitted_date",
        "edited_before_submission",
        "line_number",
        "cpt",
        "charge",
    )
    thresholds = (
        Threshold(
            "min_claims",
            int,
            30,
            "Rated claims a physician (and the rest of the group) needs before being compared.",
            min=1,
        ),
        Threshold(
            "min_gap",
            float,
            0.10,
            "How far below the rest of the group a physician's rate must be (0.10 = 10 points).",
            min=0,
            max=1,
        ),
        Threshold(
            "high_gap",
            float,
            0.20,
            "A gap at least this large makes the finding high instead of medium.",
            min=0,
            max=1,
        ),
        Threshold(
            "alpha",
            float,
            0.05,
            "Significance level of the one-sided test that the physician's rate is lower.",
            min=0,
            max=1,
        ),
        Threshold(
            "driver_min_claims",
            int,
            5,
            "Claims a physician needs in a procedure family before it can be named as a driver.",
            min=1,
        ),
        Threshold(
            "family_min_claims",
            int,
            20,
            "Claims a physician (and the rest) needs in a family for the family check.",
            min=1,
        ),
        Threshold(
            "family_min_gap",
            float,
            0.20,
            "How far below the rest of the group in the same family a physician's rate must be.",
            min=0,
            max=1,
        ),
        Threshold(
            "family_alpha",
            float,
            0.01,
            "Significance level of the family check (strict: every physician-family is tested).",
            min=0,
            max=1,
        ),
        Threshold(
            "target",
            float,
            CLEAN_CLAIM_TARGET,
            "Industry target for the practice's clean claim rate, shown in the summary.",
            min=0,
            max=1,
        ),
    )

    def run(self, lines: pd.DataFrame, settings: SimpleNamespace, context: Context) -> pd.DataFrame:
        clean = clean_claims(context)
        counted = clean.claims["counted"].to_numpy(dtype=bool)
        if not counted.any():
            raise NothingToAudit("no claims with a final status (all pending)")
        # Counts per provider (and family) come from integer codes; only the claims of the
        # flagged physicians are ever looked at row by row.
        per = _compare(clean.counted_by("claims", ["provider"]), ["provider"])
        provider_code, provider_names = clean.codes["claims"]["provider"]
        unclean = counted & ~clean.claims["clean"].to_numpy(dtype=bool)
        charge = pd.Series(clean.claims["charge"].to_numpy()[unclean])
        unclean_charge = charge.groupby(provider_code[unclean]).sum()
        unclean_charge.index = provider_names.take(unclean_charge.index.to_numpy())
        per["unclean_charge"] = unclean_charge.reindex(per.index).fillna(0.0)
        overall = (
            (per["claims"] >= settings.min_claims)
            & (per["rest_claims"] >= settings.min_claims)
            & (per["gap"] >= settings.min_gap)
            & (per["p_value"] < settings.alpha)
        )
        families = _compare(
            clean.counted_by("units", ["provider", "family"]), ["provider", "family"], "family"
        )
        families["excess_unclean"] = families["gap"] * families["claims"]
        in_family = (
            (families["claims"] >= settings.family_min_claims)
            & (families["rest_claims"] >= settings.family_min_claims)
            & (families["gap"] >= settings.family_min_gap)
            & (families["p_value"] < settings.family_alpha)
        )
        family_flags = families[in_family].reset_index()
        flagged = per[overall | per.index.isin(family_flags["provider"])].copy()
        if flagged.empty:
            return empty_findings()
        flagged["basis"] = np.where(overall[flagged.index], "overall", "family")

        drivers = _drivers(families, flagged.index, settings.driver_min_claims)
        unclean_n = flagged["claims"] - flagged["clean"]
        charge_per_unclean = flagged["unclean_charge"] / unclean_n.where(unclean_n > 0)
        family_excess = family_flags.groupby("provider")["excess_unclean"].sum()
        flagged["excess_unclean"] = np.where(
            flagged["basis"] == "overall",
            flagged["gap"] * flagged["claims"],
            family_excess.reindex(flagged.index).fillna(0.0),
        )
        flagged["dollars"] = (flagged["excess_unclean"] * charge_per_unclean).fillna(0.0)
        low, high = wilson_interval(flagged["clean"], flagged["claims"])
        mine = np.asarray(pd.Index(provider_names).isin(flagged.index), dtype=bool)
        claims = clean.claims.iloc[np.flatnonzero(counted & mine[provider_code])]
        samples = (
            claims[~claims["clean"] & claims["provider"].isin(flagged.index)]
            .groupby("provider")["claim_id"]
            .apply(lambda ids: [str(i) for i in ids.iloc[:SAMPLE_CLAIMS]])
        )
        reasons = _reasons(claims, flagged.index)
        big = flagged["gap"] >= settings.high_gap
        severity = np.where((flagged["basis"] == "overall") & big, "high", "medium")

        # One message per flagged physician (a handful), so a loop is fine here.
        messages, evidence = [], []
        for i, r in enumerate(flagged.itertuples()):
            name = r.Index
            own = family_flags[family_flags["provider"] == name]
            named = drivers.get(name, [])
            overall_text = (
                f"{int(r.clean)} of {int(r.claims)} claims clean ({pct(r.rate)}); the rest of "
                f"the group {pct(r.rest_rate)} ({int(r.rest_clean)} of {int(r.rest_claims)})"
            )
            if r.basis == "overall":
                text = f"{name}: {overall_text}, {r.gap * 100:.0f} points higher."
                if named:
                    text += " Most of the gap is in " + "; ".join(_family_text(d) for d in named)
                    text += "."
            else:
                text = (
                    f"{name}: well below the rest of the group in "
                    + "; ".join(_family_text(_family_dict(f)) for f in own.itertuples())
                    + f". Overall {overall_text}."
                )
            if r.dollars > 0:
                text += (
                    f" About {r.excess_unclean:.0f} more unclean claims than the group's rate "
                    f"would give ({money(r.dollars)} in charges worked twice; a rate, not money "
                    "lost)."
                )
            messages.append(text)
            evidence.append(
                {
                    "basis": r.basis,
                    "claims": int(r.claims),
                    "clean": int(r.clean),
                    "rate": round(float(r.rate), 4),
                    "rate_95ci": [round(float(low[i]), 4), round(float(high[i]), 4)],
                    "rest_claims": int(r.rest_claims),
                    "rest_clean": int(r.rest_clean),
                    "rest_rate": round(float(r.rest_rate), 4),
                    "gap": round(float(r.gap), 4),
                    "charges_on_excess_unclean_claims": round(float(r.dollars), 2),
                    "p_value": float(r.p_value),
                    "drivers": named,
                    "families_below": [_family_dict(f) for f in own.itertuples()],
                    "unclean_reasons": reasons.get(name, {}),
                    "signals_used": list(clean.signals),
                    "sample_unclean_claims": samples.get(name, []),
                }
            )
        return findings_frame(
            self,
            severity=severity,
            scope="provider",
            provider=list(flagged.index),
            # A clean-claim rate is rework, not money lost: its charges stay in the evidence.
            dollars_at_risk=0.0,
            message=messages,
            evidence=evidence,
        )


def _compare(counts: pd.DataFrame, by: list[str], within: str | None = None) -> pd.DataFrame:
    """Claims, clean claims and rate per group, against the rest of the group: all other
    providers (``within=None``) or the other providers in the same ``within`` value.
    ``counts`` is :meth:`~auditkit.measures.kpis.CleanClaims.counted_by` for ``by``."""
    per = counts.groupby(by, sort=True).agg(claims=("claims", "sum"), clean=("clean", "sum"))
    per["claims"] = per["claims"].astype("int64")
    per["clean"] = per["clean"].astype("int64")
    if within is None:
        totals = per[["claims", "clean"]].sum()
        per["rest_claims"] = totals["claims"] - per["claims"]
        per["rest_clean"] = totals["clean"] - per["clean"]
    else:
        totals = per.groupby(level=within)[["claims", "clean"]].transform("sum")
        per["rest_claims"] = totals["claims"] - per["claims"]
        per["rest_clean"] = totals["clean"] - per["clean"]
    per["rate"] = per["clean"] / per["claims"]
    per["rest_rate"] = per["rest_clean"] / per["rest_claims"].where(per["rest_claims"] > 0)
    per["gap"] = per["rest_rate"] - per["rate"]
    _, per["p_value"], _ = two_proportion_z(
        per["clean"], per["claims"], per["rest_clean"], per["rest_claims"]
    )
    return per


def _family_dict(r: Any) -> dict[str, Any]:
    return {
        "family": str(r.family),
        "claims": int(r.claims),
        "clean": int(r.clean),
        "rate": round(float(r.rate), 4),
        "rest_rate": round(float(r.rest_rate), 4),
        "excess_unclean": round(float(r.excess_unclean), 1),
    }


def _family_text(d: dict[str, Any]) -> str:
    return (
        f"{d['family']} ({d['clean']} of {d['claims']} clean, {pct(d['rate'])} vs "
        f"{pct(d['rest_rate'])} for the rest of the group)"
    )


def _drivers(families: pd.DataFrame, providers: pd.Index, min_claims: int) -> dict[str, list[dict]]:
    """Procedure families that explain most of each provider's gap, largest first.

    A family's share of the gap is the provider's claims in it times how far the provider's rate
    there is below the rest of the group's rate in the same family.
    """
    per = families.reset_index()
    per = per[
        per["provider"].isin(providers)
        & (per["claims"] >= min_claims)
        & (per["excess_unclean"] >= 1.0)
    ]
    per = per.sort_values(["provider", "excess_unclean"], ascending=[True, False])
    per = per.groupby("provider", sort=False).head(DRIVERS_NAMED)
    return {
        str(p): [_family_dict(r) for r in part.itertuples()]
        for p, part in per.groupby("provider", sort=False)
    }


def _reasons(claims: pd.DataFrame, providers: pd.Index) -> dict[str, dict[str, int]]:
    """Per flagged provider: how many unclean claims had each kind of problem."""
    kinds = ["denied", "corrected", "resubmitted", "edited"]
    part = claims[claims["provider"].isin(providers) & claims["unclean"]]
    counts = part.groupby("provider")[kinds].sum().astype("int64")
    counts = counts.rename(
        columns={
            "denied": "denied_or_rejected",
            "corrected": "corrected_replaced_or_voided",
            "edited": "edited_before_submission",
        }
    )
    return {str(p): {k: int(v) for k, v in row.items()} for p, row in counts.iterrows()}
