"""Audit ``pre-submission-edits``: codes whose claims are often edited, replaced or resubmitted."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from auditkit.engine.context import Context
from auditkit.engine.contract import Audit, NothingToAudit, Threshold
from auditkit.engine.findings import findings_frame
from auditkit.engine.result import empty_findings
from auditkit.engine.stats import two_proportion_z
from auditkit.engine.text import money, pct
from auditkit.measures.kpis import claim_any

#: What usually goes wrong on these codes (the guide singles out the joint injections).
CODE_HINTS: dict[str, str] = {
    "20610": "for joint injections the usual gaps are the site, the side and whether imaging "
    "was used (20611 needs recorded ultrasound images)",
    "20611": "for joint injections the usual gaps are the site, the side and whether imaging "
    "was used (20611 needs recorded ultrasound images)",
}


class PreSubmissionEdits(Audit):
    """A code's claims are edited, replaced or resubmitted far more often than the practice's.

    Why it matters
    --------------
    Every claim that has to be reworked - fixed by the scrubber or a biller before it goes
    out, replaced or voided after (frequency code 7 or 8), or sent again - costs staff time and
    delays the money, even when it is paid in the end. When one code's claims are reworked far
    more often than the rest, the problem is upstream and specific: a documentation element
    charge entry keeps asking for, a modifier the scrubber keeps adding. The guide singles out
    joint injections 20610/20611, whose site, side or imaging documentation is often missing.

    What is flagged
    ---------------
    A claim is reworked when any of its lines was edited before submission
    (``edited_before_submission``), has frequency code 7 (replacement) or 8 (void), is voided,
    or the claim was submitted on more than one date. For each code, the claims holding it are
    compared with all other claims: the code is flagged when it has at least ``min_claims``
    claims, their reworked share is at least ``min_share``, at least ``min_gap`` above and
    ``ratio`` times the other claims' share, with a one-sided two-proportion z-test below
    ``alpha``. Medium; high when the share is at least ``high_share``. Dollars at risk: the
    reworked claims above the practice's share times ``rework_cost`` (a practice estimate of
    staff cost per reworked claim). Each finding lists up to ``examples`` reworked claim ids.

    How to fix
    ----------
    Pull a sample of the code's reworked claims and note what was changed each time; make that
    element a required field at charge entry or in the note template (for joint injections:
    site, side and imaging with a saved image for 20611), and add a scrubber rule so the claim
    is right before it is built. Re-check the share after a month.

    Columns needed
    --------------
    Required: claim_id, cpt, and at least one of edited_before_submission, claim_frequency or
    submitted_date (several dates per claim). Optional: status (voided lines count as replaced).

    Example
    -------
    A code is judged from ``min_claims`` claims, so each row stands for ``repeat`` identical
    one-line claims.

    Flagged: half the knee injection claims are fixed before they go out, against one office
    visit claim in twenty.

        cpt   | modifiers | edited_before_submission | repeat
        ------+-----------+--------------------------+-------
        20610 | RT        | yes                      | 10
        20610 | LT        | no                       | 10
        99213 |           | yes                      | 2
        99213 |           | no                       | 38

    Result: 1 high finding: 20610, 10 of 20 claims reworked (50%, at least ``high_share``).

    Not flagged: with the side and the imaging made required fields at charge entry, two 20610
    claims in twenty are edited.

        cpt   | modifiers | edited_before_submission | repeat
        ------+-----------+--------------------------+-------
        20610 | RT        | yes                      | 2
        20610 | RT        | no                       | 8
        20610 | LT        | no                       | 10
        99213 |           | yes                      | 2
        99213 |           | no                       | 38
    """

    id = "pre-submission-edits"
    title = "Codes whose claims are often edited or replaced before payment"
    severities = ("high", "medium")
    columns = ("claim_id", "cpt")
    optional_columns = (
        "edited_before_submission",
        "claim_frequency",
        "submitted_date",
        "status",
    )
    thresholds = (
        Threshold("min_claims", int, 20, "Claims a code needs to be judged.", min=1),
        Threshold(
            "min_share",
            float,
            0.20,
            "Smallest share of a code's claims reworked for it to be flagged.",
            min=0,
            max=1,
        ),
        Threshold(
            "min_gap",
            float,
            0.10,
            "How far above the other claims' share the code's must be (0.10 = 10 points).",
            min=0,
            max=1,
        ),
        Threshold("ratio", float, 2.0, "How many times the other claims' share it must be.", min=1),
        Threshold("alpha", float, 0.01, "Significance level of the one-sided test.", min=0, max=1),
        Threshold(
            "high_share",
            float,
            0.40,
            "A reworked share at least this large makes the finding high.",
            min=0,
            max=1,
        ),
        Threshold(
            "rework_cost",
            float,
            25.0,
            "Staff cost of reworking one claim, in dollars (practice estimate).",
            min=0,
        ),
        Threshold("examples", int, 3, "Example claim ids listed per finding.", min=0),
    )

    def run(self, lines: pd.DataFrame, settings: SimpleNamespace, context: Context) -> pd.DataFrame:
        # Per claim (claim numbers in order of first appearance): did any line show each sign
        # of rework? Shared with the clean-claim rate (see kpis.claim_any).
        signals: dict[str, np.ndarray] = {}
        edited = claim_any(context, "edited")
        if edited is not None:
            signals["edited"] = edited
        frequency, voided = claim_any(context, "frequency"), claim_any(context, "voided")
        if frequency is not None or voided is not None:
            signals["replaced"] = (
                frequency if voided is None else voided if frequency is None else frequency | voided
            )
        resubmitted = claim_any(context, "resubmitted")
        resubmit = resubmitted is not None
        if not signals and not resubmit:
            raise NothingToAudit(
                "the data has no edited_before_submission, claim_frequency or submitted_date"
            )
        claim_codes, claim_ids = context.codes("claim_id")
        n_claims = len(claim_ids)
        claims = pd.DataFrame(index=pd.RangeIndex(n_claims, name="claim"))
        for name, flags in signals.items():
            claims[name] = flags
        claims["resubmitted"] = resubmitted if resubmit else False
        for name in ("edited", "replaced"):
            if name not in claims:
                claims[name] = False
        claims["reworked"] = claims[["edited", "replaced", "resubmitted"]].any(axis=1)
        total_claims = len(claims)
        total_reworked = int(claims["reworked"].sum())

        # Each code once per claim: distinct (claim, upper-case code) pairs.
        cpt_ids, cpt_values = context.codes("cpt")
        upper = pd.Series(np.asarray(cpt_values, dtype=object), dtype="string").str.upper()
        upper_ids, upper_values = pd.factorize(upper, use_na_sentinel=True)
        code = np.append(upper_ids, -1)[cpt_ids]  # -1: no code
        with_code = np.flatnonzero((claim_codes >= 0) & (code >= 0))
        width = len(upper_values)
        pairs = claim_codes[with_code] * width + code[with_code]
        if n_claims * width <= 32 * len(pairs) + (1 << 24):  # the distinct pairs by a table
            seen = np.zeros(n_claims * width, dtype=bool)
            seen[pairs] = True
            pairs = np.flatnonzero(seen)
        else:
            pairs = pd.unique(pairs)
        pair_claim, pair_code = pairs // width, pairs % width
        flags = claims[["reworked", "edited", "replaced", "resubmitted"]].to_numpy()[pair_claim]
        counts = pd.DataFrame(
            {
                "cpt": pd.Index(upper_values).take(np.arange(width)).array,
                "claims": np.bincount(pair_code, minlength=width).astype("int64"),
            }
        )
        for i, name in enumerate(("reworked", "edited", "replaced", "resubmitted")):
            counts[name] = np.bincount(pair_code, weights=flags[:, i], minlength=width)
            counts[name] = counts[name].round().astype("int64")
        per = counts[counts["claims"] > 0].groupby("cpt", sort=True).sum()
        per["rest_claims"] = total_claims - per["claims"]
        per["rest_reworked"] = total_reworked - per["reworked"]
        per = per[(per["claims"] >= settings.min_claims) & (per["rest_claims"] > 0)]
        if per.empty:
            raise NothingToAudit(f"no code on at least {settings.min_claims} claims")
        per["share"] = per["reworked"] / per["claims"]
        per["rest_share"] = per["rest_reworked"] / per["rest_claims"]
        _, p_lower, _ = two_proportion_z(
            per["rest_reworked"], per["rest_claims"], per["reworked"], per["claims"]
        )
        per["p_value"] = p_lower
        hit = per[
            (per["share"] >= settings.min_share)
            & (per["share"] - per["rest_share"] >= settings.min_gap)
            & (per["share"] >= settings.ratio * per["rest_share"])
            & (per["p_value"] < settings.alpha)
        ].copy()
        if hit.empty:
            return empty_findings()
        hit["excess"] = hit["reworked"] - hit["rest_share"] * hit["claims"]
        hit["dollars"] = (hit["excess"].clip(lower=0) * settings.rework_cost).round(2)
        # Example claims of the flagged codes: reworked claims in order of first appearance.
        examples: dict[str, list[str]] = {}
        reworked = claims["reworked"].to_numpy()
        for cpt in hit.index:  # flagged codes only (a handful)
            wanted = int(pd.Index(upper_values).get_loc(cpt))
            at = with_code[code[with_code] == wanted]
            ids = pd.unique(claim_codes[at][reworked[claim_codes[at]]])[: settings.examples]
            if len(ids):
                examples[str(cpt)] = [str(claim_ids[i]) for i in ids]
        messages, evidence = [], []
        for cpt, row in hit.iterrows():  # flagged codes only (a handful)
            ex = examples.get(cpt, [])
            hint = CODE_HINTS.get(str(cpt))
            messages.append(
                f"{cpt}: {int(row.reworked)} of {int(row.claims)} claims ({pct(row.share)}) "
                f"were reworked - edited before submission {int(row.edited)}, replaced or "
                f"voided {int(row.replaced)}, resubmitted {int(row.resubmitted)} - against "
                f"{pct(row.rest_share)} of the practice's other claims; about "
                f"{money(row.dollars)} of staff time."
                + (f" {hint[0].upper() + hint[1:]}." if hint else "")
                + (f" Examples: {', '.join(ex)}." if ex else "")
            )
            evidence.append(
                {
                    "claims": int(row.claims),
                    "reworked": int(row.reworked),
                    "share": round(float(row.share), 4),
                    "edited": int(row.edited),
                    "replaced": int(row.replaced),
                    "resubmitted": int(row.resubmitted),
                    "rest_share": round(float(row.rest_share), 4),
                    "p_value": float(row.p_value),
                    "signals": [*signals, *(["submitted_date"] if resubmit else [])],
                    "examples": ex,
                }
            )
        return findings_frame(
            self,
            severity=np.where(hit["share"] >= settings.high_share, "high", "medium"),
            scope="code",
            cpt=list(hit.index),
            # The staff cost of the extra rework: money spent, on no claim line.
            dollars_at_risk=hit["dollars"].to_numpy(),
            dollars_basis="rework cost",
            message=messages,
            evidence=evidence,
        )
