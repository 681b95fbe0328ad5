"""Audit ``slow-collection``: payers, and codes at a payer, that take far longer to pay."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

from auditkit.engine.context import Context
from auditkit.engine.contract import Audit, NothingToAudit, Threshold
from auditkit.engine.findings import findings_frame
from auditkit.engine.result import empty_findings
from auditkit.engine.text import money
from auditkit.measures.revenue import days_to_pay, money_or_zero


class SlowCollection(Audit):
    """A code at a payer, or a whole payer, takes far longer to pay than the practice's median.

    Why it matters
    --------------
    Money that arrives weeks late is cash the practice has to carry, and slow payment is often
    the visible end of a hidden problem: claims pended for records, an authorization check, a
    payer's manual review of one procedure. The guide's example is facet injections billed
    regularly but collected slowly. Knowing which codes at which payers are slow tells the
    billing team where to ask the payer, send records up front, or escalate under the contract's
    prompt-pay terms.

    What is flagged
    ---------------
    Days to pay per line: from ``submitted_date`` (else the date of service) to ``paid_date``,
    on lines paid or partially paid. Medians by payer x procedure family and by code go to the
    ``days_to_pay_by_payer_family`` and ``days_to_pay_by_code`` tables.

    A code at a payer is flagged (medium) when it has at least ``min_lines`` paid lines and its
    median is at least ``ratio`` times the practice's median and ``min_extra_days`` longer, and
    also ``min_extra_days`` longer than the payer's own median, so that a payer that is slow on
    everything is reported once, not once per code. A whole payer is flagged (medium) when it
    has at least ``payer_min_lines`` paid lines and its median is at least ``ratio`` times the
    practice's and ``min_extra_days`` longer. Nothing is lost yet, so dollars at risk are 0;
    the evidence holds the dollars paid late.

    How to fix
    ----------
    Ask the payer why the code pends (claim status line, provider services), and send what it
    waits for with the claim: the operative note, the imaging report, the authorization number.
    For a payer slow on everything, check the contract's prompt-payment clause and escalate
    through the provider representative; follow up on claims unpaid after the median.

    Columns needed
    --------------
    Required: cpt, payer, status, paid_date. Optional: submitted_date (else date_of_service is
    the start), paid (dollars paid late).

    Example
    -------
    Medians are judged from ``min_lines`` paid lines, so each row stands for ``repeat`` identical
    lines, each on its own claim.

    Flagged: Aetna pays office visits in 18 days but lumbar facet injections in 77.

        payer | cpt   | status | paid   | submitted_date | paid_date  | repeat
        ------+-------+--------+--------+----------------+------------+-------
        Aetna | 99213 | paid   | 76.00  | 2024-03-04     | 2024-03-22 | 20
        Aetna | 64493 | paid   | 180.00 | 2024-03-04     | 2024-05-20 | 10
        Cigna | 99213 | paid   | 72.00  | 2024-03-04     | 2024-03-22 | 20

    Result: 1 medium finding: 64493 at Aetna, a median of 77 days against 18 for the practice and
    for Aetna overall.

    Not flagged: with the procedure note sent with the claim, Aetna pays the facet injections in
    28 days, less than ``min_extra_days`` over the practice's median.

        payer | cpt   | status | paid   | submitted_date | paid_date  | repeat
        ------+-------+--------+--------+----------------+------------+-------
        Aetna | 99213 | paid   | 76.00  | 2024-03-04     | 2024-03-22 | 20
        Aetna | 64493 | paid   | 180.00 | 2024-03-04     | 2024-04-01 | 10
        Cigna | 99213 | paid   | 72.00  | 2024-03-04     | 2024-03-22 | 20
    """

    id = "slow-collection"
    title = "Slow collection: days from submission to payment by payer and code"
    severities = ("medium",)
    columns = ("cpt", "payer", "status", "paid_date")
    optional_columns = ("submitted_date", "date_of_service", "paid")
    thresholds = (
        Threshold("min_lines", int, 10, "Paid lines a code at a payer needs to be judged.", min=1),
        Threshold("payer_min_lines", int, 30, "Paid lines a payer needs to be judged.", min=1),
        Threshold(
            "ratio",
            float,
            1.5,
            "How many times the practice's median days a slow median must be.",
            min=1,
        ),
        Threshold(
            "min_extra_days",
            int,
            15,
            "And how many days longer than the practice's (and the payer's own) median.",
            min=0,
        ),
    )

    def run(self, lines: pd.DataFrame, settings: SimpleNamespace, context: Context) -> pd.DataFrame:
        days = days_to_pay(context)
        if days is None or not days.notna().any():
            raise NothingToAudit("no paid line has a payment date")
        has = days.notna().to_numpy()
        # Grouped on integer codes of the payer, code and family (see Context.group_agg).
        values = {"days": days.to_numpy(), "paid": money_or_zero(lines, "paid").to_numpy()}
        practice = float(pd.Series(values["days"][has]).median())
        slow_at = max(practice * settings.ratio, practice + settings.min_extra_days)
        by_payer = context.group_agg(
            {"payer": "ctx.payer"},
            has,
            values,
            {"lines": ("days", "size"), "median_days": ("days", "median"), "paid": ("paid", "sum")},
        )
        parts = []
        slow_payers = by_payer[
            (by_payer["lines"] >= settings.payer_min_lines) & (by_payer["median_days"] >= slow_at)
        ]
        if len(slow_payers):
            parts.append(self._payers(slow_payers, practice))
        pairs = context.group_agg(
            {"cpt": "cpt", "payer": "ctx.payer"},
            has,
            values,
            {"lines": ("days", "size"), "median_days": ("days", "median"), "paid": ("paid", "sum")},
        )
        # Every line of a code has the code's family: the pair's family is its code's.
        pairs["family"] = context.family_of(pairs.index.get_level_values("cpt")).array
        pairs = pairs.join(by_payer["median_days"].rename("payer_median"), on="payer")
        fam = context.group_agg(
            {"payer": "ctx.payer", "family": "ctx.family"},
            has,
            values,
            {"days": ("days", "median")},
        )["days"]
        pairs["family_median"] = fam.reindex(
            pd.MultiIndex.from_arrays([pairs.index.get_level_values("payer"), pairs["family"]])
        ).to_numpy()
        slow = pairs[
            (pairs["lines"] >= settings.min_lines)
            & (pairs["median_days"] >= slow_at)
            & (pairs["median_days"] >= pairs["payer_median"] + settings.min_extra_days)
        ]
        if len(slow):
            parts.append(self._pairs(slow, practice))
        return pd.concat(parts, ignore_index=True) if parts else empty_findings()

    def _payers(self, slow: pd.DataFrame, practice: float) -> pd.DataFrame:
        messages = [
            f"{payer} pays in a median of {row.median_days:.0f} days from submission over "
            f"{int(row.lines)} paid lines, against {practice:.0f} days for the practice; "
            f"{money(row.paid)} paid."
            for payer, row in slow.iterrows()
        ]  # one message per slow payer (a handful)
        evidence = [
            {
                "median_days": float(row.median_days),
                "practice_median_days": practice,
                "paid_lines": int(row.lines),
                "paid_dollars": round(float(row.paid), 2),
            }
            for _, row in slow.iterrows()
        ]
        return findings_frame(
            self,
            severity="medium",
            scope="payer",
            payer=list(slow.index),
            message=messages,
            evidence=evidence,
        )

    def _pairs(self, slow: pd.DataFrame, practice: float) -> pd.DataFrame:
        messages, evidence = [], []
        for (cpt, payer), row in slow.iterrows():  # flagged pairs only (a few dozen at most)
            messages.append(
                f"{cpt} ({row.family}) at {payer}: median {row.median_days:.0f} days from submission "
                f"to payment over {int(row.lines)} paid lines, against {practice:.0f} for the "
                f"practice and {row.payer_median:.0f} for {payer} overall ({row.family} at "
                f"{payer}: {row.family_median:.0f}); {money(row.paid)} paid late."
            )
            evidence.append(
                {
                    "family": row.family,
                    "median_days": float(row.median_days),
                    "practice_median_days": practice,
                    "payer_median_days": float(row.payer_median),
                    "family_median_days": float(row.family_median),
                    "paid_lines": int(row.lines),
                    "paid_dollars": round(float(row.paid), 2),
                }
            )
        return findings_frame(
            self,
            severity="medium",
            scope="code",
            cpt=[k[0] for k in slow.index],
            payer=[k[1] for k in slow.index],
            message=messages,
            evidence=evidence,
        )
