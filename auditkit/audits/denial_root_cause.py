"""Audit ``denial-root-cause``: denials that keep recurring for one reason, and physicians whose
denials run well above their peers'."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from auditkit.engine.context import Context, dense_unique
from auditkit.engine.contract import Audit, NothingToAudit, Threshold
from auditkit.engine.findings import findings_frame
from auditkit.engine.result import empty_findings
from auditkit.engine.stats import two_proportion_z
from auditkit.engine.text import money, pct
from auditkit.measures.revenue import expected_payments, group_dollars, line_causes
from auditkit.reference.revenue import NOT_DENIAL_CAUSES


class DenialRootCause(Audit):
    """Denials recur for one root cause on a procedure family, or one physician's run high.

    Why it matters
    --------------
    A denial that comes back again and again for the same reason on the same procedures is
    not bad luck but a rule the practice has not built into charge entry: a modifier a payer
    wants, an authorization step, a documentation element. Each repeat costs the payment or
    the rework, and appeals recover only part of it. Grouping denial codes into root causes
    (modifier, coding or diagnosis, claim data, medical necessity, coverage, documentation,
    authorization, eligibility, timely filing, bundling, duplicate, frequency, credentialing,
    contractual, patient responsibility) shows which fix pays most; a physician whose denials
    for a code at a payer run far above colleagues' points to their notes or charge habits.

    What is flagged
    ---------------
    Every denied line's reason codes are mapped to a root-cause group with the editable data
    file ``auditkit/reference/carcs.csv`` (codes given without a group, like "197", are matched
    on the reason part). A CO-16 ("missing information") takes the cause its remark code names
    (``auditkit/reference/rarcs.csv``: N290, the rendering provider's NPI, is "claim data"; M76,
    the diagnosis, "coding or diagnosis"), where the export has remark codes. A line's cause
    comes from its first code that is a refusal to pay: a contractual code (CO-45, the
    multiple-procedure CO-59, the sequestration CO-253), a patient's PR-1 or a code the data
    file does not list next to it does not explain the denial. A denied line (by its status)
    whose only refusal is a code the file does not list counts under "unknown cause", flagged
    like any other cause so the code gets added. Denied lines and charges by procedure family x
    payer x cause go to the ``denials_by_cause`` table.

    A cause *recurs* on a family at a payer by count, when at least ``min_denials`` lines of
    the family were denied for it and they are at least ``min_share`` of the family's
    adjudicated lines at that payer; or by dollars, when at least ``dollar_min_denials`` lines
    were denied for it, worth at least ``min_dollars``, and at least ``min_share`` of the
    expected payments of the family's adjudicated lines at that payer (a few denied
    neurostimulator trials can outweigh dozens of injections). Medium; high from
    ``high_dollars`` at risk.

    A physician is flagged for a code at a payer when they have at least ``provider_min_lines``
    adjudicated lines and ``provider_min_denied`` denials there, their colleagues together at
    least ``peer_min_lines`` lines, and the physician's denial rate is at least
    ``provider_min_gap`` above the colleagues' and at least ``provider_ratio`` times it, with a
    one-sided two-proportion z-test below ``alpha`` (medium; high from ``high_dollars``).

    Dollars at risk: the denied lines' expected payment (the config's fee schedule, else the
    practice's mean paid amount for the code at that payer, else at any payer); where a line
    has none, the finding counts the lines' charges instead (basis "charge"). For a physician,
    the denials above the colleagues' rate times that payment. Each finding lists up to
    ``examples`` claim ids.

    How to fix
    ----------
    Work the largest recurring cause first: add the missing modifier or diagnosis rule to the
    scrubber for that payer and family, put the authorization step before scheduling, or fix
    the note template the documentation denials point to; then appeal or correct the denied
    lines still inside the payer's window; a cause that recurs by its dollars (implants,
    stimulator trials) is worth working line by line at once. For a flagged physician, compare
    their denied lines with colleagues' paid ones for the same code and payer and review the
    notes with them.

    Columns needed
    --------------
    Required: cpt, payer, status, denial_codes. Optional: remark_codes (the cause of a CO-16),
    rendering_provider (the physician check), charge and paid (dollars), claim_id (examples).

    Example
    -------
    A cause recurs from ``min_denials`` denied lines, so each row stands for ``repeat`` identical
    lines, each on its own claim.

    Flagged: Aetna denies a third of the lumbar epidurals for a missing authorization (CO-197),
    and three of eight spinal cord stimulator trials for the same reason.

        cpt   | payer | status | paid     | denial_codes | repeat
        ------+-------+--------+----------+--------------+-------
        62323 | Aetna | paid   | 420.00   |              | 20
        62323 | Aetna | denied | 0.00     | CO-197       | 10
        63650 | Aetna | paid   | 1,200.00 |              | 5
        63650 | Aetna | denied | 0.00     | CO-197       | 3

    Result: 2 medium findings: authorization denials on 10 of 30 epidural lines at Aetna, $4,200
    at risk (the $420 paid on average), and on 3 of 8 neurostimulation lines, too few to recur
    by count but $3,600 at risk, at least ``min_dollars``; both less than ``high_dollars``.

    Not flagged: with the authorization requested at scheduling, two epidural denials and one
    trial denial are left.

        cpt   | payer | status | paid     | denial_codes | repeat
        ------+-------+--------+----------+--------------+-------
        62323 | Aetna | paid   | 420.00   |              | 28
        62323 | Aetna | denied | 0.00     | CO-197       | 2
        63650 | Aetna | paid   | 1,200.00 |              | 7
        63650 | Aetna | denied | 0.00     | CO-197       | 1
    """

    id = "denial-root-cause"
    title = "Denial root causes: recurring causes and physicians above their peers"
    severities = ("high", "medium")
    columns = ("cpt", "payer", "status", "denial_codes")
    optional_columns = ("remark_codes", "rendering_provider", "charge", "paid", "claim_id")
    thresholds = (
        Threshold(
            "min_denials",
            int,
            10,
            "Denied lines with one cause on one family at one payer for it to recur.",
            min=1,
        ),
        Threshold(
            "min_share",
            float,
            0.10,
            "Share of the family's adjudicated lines at the payer denied for that cause.",
            min=0,
            max=1,
        ),
        Threshold(
            "min_dollars",
            float,
            3000.0,
            "Dollars at risk with which fewer denied lines make a cause recur.",
            min=0,
        ),
        Threshold(
            "dollar_min_denials",
            int,
            2,
            "Denied lines a cause needs to recur by its dollars.",
            min=1,
        ),
        Threshold(
            "provider_min_lines",
            int,
            8,
            "Adjudicated lines a physician needs for a code at a payer to be compared.",
            min=1,
        ),
        Threshold(
            "provider_min_denied",
            int,
            4,
            "Denied lines a physician needs for a code at a payer to be flagged.",
            min=1,
        ),
        Threshold(
            "peer_min_lines",
            int,
            15,
            "Adjudicated lines the colleagues together need for the same code and payer.",
            min=1,
        ),
        Threshold(
            "provider_min_gap",
            float,
            0.25,
            "How far above the colleagues' denial rate a physician's must be (0.25 = 25 points).",
            min=0,
            max=1,
        ),
        Threshold(
            "provider_ratio",
            float,
            2.0,
            "How many times the colleagues' denial rate a physician's must be.",
            min=1,
        ),
        Threshold(
            "alpha",
            float,
            0.01,
            "Significance level of the one-sided test on a physician's denial rate.",
            min=0,
            max=1,
        ),
        Threshold(
            "high_dollars", float, 5000.0, "Dollars at risk that make a finding high.", min=0
        ),
        Threshold("examples", int, 3, "Example claim ids listed per finding.", min=0),
    )

    def run(self, lines: pd.DataFrame, settings: SimpleNamespace, context: Context) -> pd.DataFrame:
        adjudicated = context.status_is("paid", "partially_paid", "denied")
        denied = context.status_is("denied") & adjudicated
        if not denied.any():
            raise NothingToAudit("no denied lines")
        causes = line_causes(context)
        fee, charge = expected_payments(context)
        has_fee = ~np.isnan(fee)
        value = np.where(has_fee, fee, charge)  # for shares and physicians' means
        # Counts over all adjudicated lines are taken on integer codes; only the denied lines
        # (a small share) are gathered into a frame with their text.
        den_pos = np.flatnonzero(denied)
        frame = pd.DataFrame(
            {
                "family": context.text("ctx.family", den_pos).array,
                "payer": context.text("ctx.payer", den_pos).array,
                "cpt": lines["cpt"].astype("string").array.take(den_pos),
                "provider": context.text("ctx.provider", den_pos).array,
                "cause": causes["cause"].array.take(den_pos),
                "reason": causes["reason"].array.take(den_pos),
                "denied": np.ones(len(den_pos), dtype=bool),
                "value": value[den_pos],
                "pos": den_pos,
                "claim_id": lines["claim_id"].astype("string").array.take(den_pos)
                if "claim_id" in lines.columns
                else pd.NA,
            }
        )
        family = _family_lines(context, adjudicated, value)
        parts = [self._recurring(frame, family, settings, context)]
        if "rendering_provider" in lines.columns:
            per = _per_physician(context, adjudicated, denied, value, has_fee)
            parts.append(self._physicians(frame, per, settings, context))
        parts = [p for p in parts if len(p)]
        return pd.concat(parts, ignore_index=True) if parts else empty_findings()

    # -- recurring causes on a family at a payer ------------------------------------------------

    def _recurring(
        self,
        frame: pd.DataFrame,
        family: pd.DataFrame,
        settings: SimpleNamespace,
        context: Context,
    ) -> pd.DataFrame:
        den = frame[frame["denied"] & frame["cause"].notna()]
        den = den[~den["cause"].isin(NOT_DENIAL_CAUSES)]
        if den.empty:
            return empty_findings()
        groups = den.groupby(["family", "payer", "cause"], sort=True)
        table = groups.agg(denied_lines=("denied", "size"), value=("value", "sum"))
        table = table.join(family, on=["family", "payer"])
        table["share"] = table["denied_lines"] / table["family_lines"]
        with np.errstate(invalid="ignore", divide="ignore"):
            table["dollar_share"] = (table["value"] / table["family_value"]).fillna(0.0)
        by_count = (table["denied_lines"] >= settings.min_denials) & (
            table["share"] >= settings.min_share
        )
        # A few lines can carry more money than dozens of injections (a denied stimulator
        # trial): the same share, of the family's expected payments, with fewer lines.
        by_dollars = (
            (table["denied_lines"] >= settings.dollar_min_denials)
            & (table["value"] >= settings.min_dollars)
            & (table["dollar_share"] >= settings.min_share)
        )
        table["path"] = np.where(by_count, np.where(by_dollars, "both", "count"), "dollars")
        hit = table[by_count | by_dollars].copy()
        if hit.empty:
            return empty_findings()
        keys = list(hit.index)
        label = _labels(context, den, ["family", "payer", "cause"], keys)
        hit["dollars"], hit["basis"] = group_dollars(context, label, len(keys))
        hit = hit.sort_values("dollars", ascending=False, kind="stable")
        keys = list(hit.index)
        sub = den.set_index(["family", "payer", "cause"]).loc[keys]
        reasons = sub.groupby(level=[0, 1, 2], sort=False)["reason"].value_counts().sort_index()
        codes = sub.groupby(level=[0, 1, 2], sort=False)["cpt"].value_counts().sort_index()
        examples = (
            sub["claim_id"].dropna().groupby(level=[0, 1, 2], sort=False).unique()
            if sub["claim_id"].notna().any()
            else pd.Series(dtype=object)
        )
        # One message per recurring (family, payer, cause): a handful, so a loop is fine.
        messages, evidence = [], []
        for (family_name, payer, cause), row in hit.iterrows():
            top_reasons = _top(reasons.loc[(family_name, payer, cause)], 3)
            top_codes = _top(codes.loc[(family_name, payer, cause)], 5)
            ex = list(examples.get((family_name, payer, cause), []))[: settings.examples]
            reason_text = ", ".join(f"{r} on {n}" for r, n in top_reasons.items())
            code_text = ", ".join(f"{c} ({n})" for c, n in top_codes.items())
            at_risk = f"{money(row.dollars)} at risk" + (
                " (charges)" if row.basis == "charge" else ""
            )
            if row.path == "dollars":
                at_risk += (
                    f" on {int(row.denied_lines)} lines, {pct(row.dollar_share)} of the "
                    f"{family_name} payments expected at {payer}"
                )
            messages.append(
                f"{payer} denied {int(row.denied_lines)} of {int(row.family_lines)} "
                f"{family_name} lines ({pct(row.share)}) for {cause} ({reason_text}); codes "
                f"{code_text}. {at_risk}." + (f" Examples: {', '.join(ex)}." if ex else "")
            )
            evidence.append(
                {
                    "family": family_name,
                    "cause": cause,
                    "denied_lines": int(row.denied_lines),
                    "family_lines": int(row.family_lines),
                    "share": round(float(row.share), 4),
                    "dollar_share": round(float(row.dollar_share), 4),
                    "recurs_by": row.path,
                    "reasons": {str(k): int(v) for k, v in top_reasons.items()},
                    "codes": {str(k): int(v) for k, v in top_codes.items()},
                    "examples": ex,
                }
            )
        severity = np.where(hit["dollars"] >= settings.high_dollars, "high", "medium")
        label = _labels(context, den, ["family", "payer", "cause"], keys)
        return findings_frame(
            self,
            severity=severity,
            scope="payer",
            payer=[k[1] for k in keys],
            dollars_at_risk=hit["dollars"].to_numpy(),
            dollars_basis=hit["basis"].to_numpy(),
            covers=context.covers_of(label, len(keys)),
            message=messages,
            evidence=evidence,
        )

    # -- physicians above their peers for a code at a payer ------------------------------------

    def _physicians(
        self,
        frame: pd.DataFrame,
        per: pd.DataFrame,
        settings: SimpleNamespace,
        context: Context,
    ) -> pd.DataFrame:
        pair = per.groupby(level=[0, 1], sort=False)[["lines", "denied"]].transform("sum")
        per["peer_lines"] = pair["lines"] - per["lines"]
        per["peer_denied"] = pair["denied"] - per["denied"]
        eligible = per[
            (per["lines"] >= settings.provider_min_lines)
            & (per["denied"] >= settings.provider_min_denied)
            & (per["peer_lines"] >= settings.peer_min_lines)
        ].copy()
        if eligible.empty:
            return empty_findings()
        eligible["rate"] = eligible["denied"] / eligible["lines"]
        eligible["peer_rate"] = eligible["peer_denied"] / eligible["peer_lines"]
        _, p_lower, _ = two_proportion_z(
            eligible["peer_denied"], eligible["peer_lines"], eligible["denied"], eligible["lines"]
        )
        eligible["p_value"] = p_lower  # "the peers' rate is below the physician's"
        hit = eligible[
            (eligible["rate"] - eligible["peer_rate"] >= settings.provider_min_gap)
            & (eligible["rate"] >= settings.provider_ratio * eligible["peer_rate"])
            & (eligible["p_value"] < settings.alpha)
        ]
        if hit.empty:
            return empty_findings()
        hit = hit.copy()
        hit["excess"] = hit["denied"] - hit["peer_rate"] * hit["lines"]
        # A code's expected payment at a payer is known for all its lines or for none; else
        # the lines' mean charge stands in for it.
        hit["dollars"] = (hit["excess"] * hit["value"]).round(2)
        hit["basis"] = np.where(hit["has_fee"], "expected payment", "charge")
        keys = list(hit.index)
        denied_rows = frame[frame["denied"]].set_index(["cpt", "payer", "provider"])
        mine = denied_rows.loc[denied_rows.index.isin(keys)]
        causes = mine.groupby(level=[0, 1, 2], sort=False)["cause"].value_counts().sort_index()
        examples = mine["claim_id"].dropna().groupby(level=[0, 1, 2], sort=False).unique()
        messages, evidence = [], []
        # One message per flagged physician-code-payer (a few at most).
        for (cpt, payer, provider), row in hit.iterrows():
            top = _top(causes.loc[(cpt, payer, provider)], 3) if len(causes) else pd.Series()
            ex = list(examples.get((cpt, payer, provider), []))[: settings.examples]
            cause_text = ", ".join(f"{c} {n}" for c, n in top.items())
            messages.append(
                f"{provider}: {int(row.denied)} of {int(row.lines)} {cpt} lines at {payer} "
                f"denied ({pct(row.rate)}); colleagues {int(row.peer_denied)} of "
                f"{int(row.peer_lines)} ({pct(row.peer_rate)}). Causes: {cause_text or 'none'}. "
                f"{money(row.dollars)} at risk." + (f" Examples: {', '.join(ex)}." if ex else "")
            )
            evidence.append(
                {
                    "lines": int(row.lines),
                    "denied": int(row.denied),
                    "rate": round(float(row.rate), 4),
                    "peer_lines": int(row.peer_lines),
                    "peer_denied": int(row.peer_denied),
                    "peer_rate": round(float(row.peer_rate), 4),
                    "p_value": float(row.p_value),
                    "causes": {str(k): int(v) for k, v in top.items()},
                    "examples": ex,
                }
            )
        severity = np.where(hit["dollars"] >= settings.high_dollars, "high", "medium")
        return findings_frame(
            self,
            severity=severity,
            scope="provider",
            provider=[k[2] for k in keys],
            payer=[k[1] for k in keys],
            cpt=[k[0] for k in keys],
            # The physician's excess denials over the colleagues' rate, valued at the code's
            # expected payment; the money sits on their denied lines of the code at the payer.
            dollars_at_risk=hit["dollars"].to_numpy(),
            dollars_basis=hit["basis"].to_numpy(),
            covers=context.covers_of(
                _labels(context, frame, ["cpt", "payer", "provider"], keys), len(keys)
            ),
            message=messages,
            evidence=evidence,
        )


def _labels(context: Context, rows: pd.DataFrame, by: list[str], keys: list[tuple]) -> np.ndarray:
    """Per line of the claim-line frame: the finding (0..len(keys)-1) whose key its ``by``
    columns match among ``rows`` (with their position in ``pos``), -1 for none. Gives each
    finding's ``covers`` and its dollars."""
    slot = pd.Series(np.arange(len(keys)), index=pd.MultiIndex.from_tuples(keys, names=by))
    label = np.full(len(context.lines), -1, dtype=np.int64)
    found = slot.reindex(pd.MultiIndex.from_frame(rows[by])).to_numpy()
    mine = ~np.isnan(found)
    label[rows["pos"].to_numpy()[mine]] = found[mine].astype(np.int64)
    return label


def _family_lines(context: Context, adjudicated: np.ndarray, value: np.ndarray) -> pd.DataFrame:
    """Adjudicated lines and their expected payments (``family_value``; the charge where no
    payment is expected) per (family, payer), counted on integer codes."""
    family_codes, families = context.codes("ctx.family")
    payer_codes, payers = context.codes("ctx.payer")
    key = family_codes[adjudicated] * len(payers) + payer_codes[adjudicated]
    combos, inverse = dense_unique(key)
    index = pd.MultiIndex.from_arrays(
        [
            pd.Index(families).take(combos // len(payers)),
            pd.Index(payers).take(combos % len(payers)),
        ],
        names=["family", "payer"],
    )
    return pd.DataFrame(
        {
            "family_lines": np.bincount(inverse, minlength=len(combos)),
            "family_value": np.bincount(inverse, weights=value[adjudicated], minlength=len(combos)),
        },
        index=index,
    )


def _per_physician(
    context: Context,
    adjudicated: np.ndarray,
    denied: np.ndarray,
    value: np.ndarray,
    has_fee: np.ndarray,
) -> pd.DataFrame:
    """Adjudicated lines, denied lines and mean expected payment per (code, payer, physician),
    sorted by code, payer and physician: grouped on integer codes in row order (the same sums
    as grouping the text), then labelled."""
    cpt_codes, cpts = context.codes("cpt")
    payer_codes, payers = context.codes("ctx.payer")
    provider_codes, providers = context.codes("ctx.provider")
    rows = adjudicated & (cpt_codes >= 0)
    key = (cpt_codes[rows] * len(payers) + payer_codes[rows]) * len(providers)
    key += provider_codes[rows]
    grouped = pd.DataFrame(
        {"denied": denied[rows], "value": value[rows], "has_fee": has_fee[rows]}
    ).groupby(key)
    per = grouped.agg(
        lines=("denied", "size"),
        denied=("denied", "sum"),
        value=("value", "mean"),
        has_fee=("has_fee", "all"),
    )
    at = per.index.to_numpy()
    per.index = pd.MultiIndex.from_arrays(
        [
            pd.Index(cpts).astype("string").take(at // (len(payers) * len(providers))),
            pd.Index(payers).take(at // len(providers) % len(payers)),
            pd.Index(providers).take(at % len(providers)),
        ],
        names=["cpt", "payer", "provider"],
    )
    return per.sort_index()


def _top(counts: pd.Series, n: int) -> pd.Series:
    """The ``n`` largest counts, ties in name order."""
    return counts.sort_index(kind="stable").sort_values(ascending=False, kind="stable").head(n)
