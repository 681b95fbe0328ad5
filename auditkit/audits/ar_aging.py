"""Audit ``ar-aging``: open balances by age, the share over 90 days, and the oldest open claims."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from auditkit.engine.context import Context
from auditkit.engine.contract import Audit, NothingToAudit, Threshold
from auditkit.engine.findings import findings_frame
from auditkit.engine.result import empty_findings
from auditkit.engine.text import money, pct
from auditkit.measures.revenue import BUCKETS, OpenBalances, open_balances


class ArAging(Audit):
    """Open balances sit too long: the share of A/R over 90 days and the oldest open claims.

    Why it matters
    --------------
    The older a balance, the less of it is ever collected: past 90 days most payers' appeal
    and correction windows are closing and timely-filing limits approach, and a claim nobody
    has touched since it went out is usually lost, not slow. Benchmarks put A/R over 90 days
    under 10-15% of the total. Listing the oldest open claims with their dollars gives the
    billing team a worklist in the order that saves the most money.

    What is flagged
    ---------------
    A line's open balance is charge minus paid minus adjustment minus patient responsibility (a
    missing amount counts as 0) on lines whose status is pending, denied or partially paid;
    paid, rejected and voided lines have none. Ages run from the date of service (or the first
    submission when ``[kpis] age_from`` is "submitted_date") to the as-of date: ``[kpis] as_of``
    (YYYY-MM-DD), else the latest paid, submitted or service date in the data - never today's
    date, so the same export always gives the same result. Balances by payer in 0-30, 31-60, 61-90, 91-120
    and over 120 day buckets go to the ``ar_aging_by_payer`` table; days in A/R and the share
    over 90 days go to the summary.

    The practice is flagged when the share of open A/R over 90 days is above ``over_90_good``
    (medium; high above ``over_90_fair``). Every open claim (the claim's open lines together,
    at least ``min_balance``) older than ``min_age_days`` is flagged, oldest first, at most
    ``max_claims`` of them: high when older than ``high_age_days``, else medium. Dollars at
    risk: the open balance.

    How to fix
    ----------
    Work the list from the top: check each claim's status with the payer, resubmit claims the
    payer never received, correct and resubmit or appeal denied ones inside their window, and
    bill the patient's share. Write off what cannot be recovered so the A/R shows what is
    really collectable, and set a follow-up rule (every claim touched by day 30 without an
    answer) so claims do not age unseen again.

    Columns needed
    --------------
    Required: status, charge. Optional: paid, adjustment, patient_responsibility (the balance),
    submitted_date and paid_date (ages and the as-of date), claim_id (claims; each line is
    its own claim without it), payer, rendering_provider, line_number.

    Example
    -------
    Ages run to the latest date in the data: here 2024-06-21, the visit's payment date.

    Flagged: a denied lumbar epidural from January is still open, next to a paid visit and a
    pending facet injection from June.

        claim_id | date_of_service | payer | cpt   | status  | charge   | paid     | paid_date
        ---------+-----------------+-------+-------+---------+----------+----------+-----------
        C1501    | 2024-01-08      | Aetna | 62323 | denied  | 1,200.00 | 0.00     |
        C1502    | 2024-06-03      | Cigna | 99213 | paid    | 150.00   | 110.00   | 2024-06-21
        C1503    | 2024-06-10      | Aetna | 64493 | pending | 900.00   |          |

    Result: 2 high findings: the practice (57% of the open A/R is over 90 days old, more than
    ``over_90_fair``) and claim C1501 ($1,200 open for 165 days, more than ``high_age_days``).

    Not flagged: the epidural claim corrected, resubmitted and paid in March; only the June facet
    injection is open, for 11 days.

        claim_id | date_of_service | payer | cpt   | status  | charge   | paid     | paid_date
        ---------+-----------------+-------+-------+---------+----------+----------+-----------
        C1501    | 2024-01-08      | Aetna | 62323 | paid    | 1,200.00 | 1,000.00 | 2024-03-15
        C1502    | 2024-06-03      | Cigna | 99213 | paid    | 150.00   | 110.00   | 2024-06-21
        C1503    | 2024-06-10      | Aetna | 64493 | pending | 900.00   |          |
    """

    id = "ar-aging"
    title = "A/R aging: open balances over 90 days and the oldest open claims"
    severities = ("high", "medium")
    columns = ("status", "charge")
    optional_columns = (
        "paid",
        "adjustment",
        "patient_responsibility",
        "submitted_date",
        "paid_date",
        "claim_id",
        "payer",
        "rendering_provider",
        "line_number",
    )
    thresholds = (
        Threshold("min_age_days", int, 90, "Open claims older than this are listed.", min=0),
        Threshold(
            "high_age_days", int, 120, "Open claims older than this are high severity.", min=0
        ),
        Threshold("max_claims", int, 50, "Most open claims listed, oldest first.", min=0),
        Threshold("min_balance", float, 1.0, "Smallest open balance of a listed claim.", min=0),
        Threshold(
            "over_90_good",
            float,
            0.10,
            "Share of A/R over 90 days above which the practice is flagged (benchmark 10-15%).",
            min=0,
            max=1,
        ),
        Threshold(
            "over_90_fair",
            float,
            0.15,
            "Share of A/R over 90 days above which the practice finding is high.",
            min=0,
            max=1,
        ),
    )

    def run(self, lines: pd.DataFrame, settings: SimpleNamespace, context: Context) -> pd.DataFrame:
        ar = open_balances(context)
        if ar is None:
            raise NothingToAudit("no dates to count ages from")
        if not ar.is_open.any():
            raise NothingToAudit(f"no open balances as of {ar.as_of.date().isoformat()}")
        parts = [self._practice(ar, settings), self._claims(lines, ar, settings, context)]
        parts = [p for p in parts if len(p)]
        return pd.concat(parts, ignore_index=True) if parts else empty_findings()

    def _practice(self, ar: OpenBalances, settings: SimpleNamespace) -> pd.DataFrame:
        total = float(ar.balance[ar.is_open].sum())
        over_90 = ar.over(90)
        share = over_90 / total if total > 0 else 0.0
        if share <= settings.over_90_good:
            return empty_findings()
        buckets = (
            ar.balance[ar.is_open].groupby(ar.bucket[ar.is_open]).sum().reindex(list(BUCKETS))
        ).fillna(0.0)
        text = ", ".join(f"{b} days {money(v)}" for b, v in buckets.items())
        return findings_frame(
            self,
            severity="high" if share > settings.over_90_fair else "medium",
            scope="practice",
            dollars_at_risk=round(over_90, 2),
            dollars_basis="open balance",
            rollup=True,  # the oldest claims are listed with their own balances
            message=(
                f"{money(over_90)} of {money(total)} open A/R ({pct(share)}) is over 90 days "
                f"old as of {ar.as_of.date().isoformat()} ({ar.as_of_source}); benchmark under "
                f"10-15%. By age: {text}."
            ),
            evidence={
                "as_of": ar.as_of.date().isoformat(),
                "as_of_source": ar.as_of_source,
                "open_ar": round(total, 2),
                "over_90": round(over_90, 2),
                "over_90_share": round(share, 4),
                "buckets": {b: round(float(v), 2) for b, v in buckets.items()},
            },
        )

    def _claims(
        self, lines: pd.DataFrame, ar: OpenBalances, settings: SimpleNamespace, context: Context
    ) -> pd.DataFrame:
        if settings.max_claims == 0:
            return empty_findings()
        is_open = ar.is_open
        if "claim_id" in lines.columns:
            claim = lines["claim_id"].astype("string").fillna("(no claim number)")
        else:
            claim = pd.Series(np.arange(len(lines)).astype(str), index=lines.index, dtype="string")
        line_no = (
            lines["line_number"].astype("Float64").fillna(np.inf).astype("float64")
            if "line_number" in lines.columns
            else pd.Series(np.arange(len(lines), dtype="float64"), index=lines.index)
        )
        frame = pd.DataFrame(
            {
                "claim": claim[is_open].array,
                "balance": ar.balance[is_open].to_numpy(),
                "age": ar.age[is_open].to_numpy(),
                "line_no": line_no[is_open].to_numpy(),
                "payer": context.text("ctx.payer", is_open.to_numpy()).array,
                "provider": context.text("ctx.provider", is_open.to_numpy()).array,
                "cpt": lines.loc[is_open, "cpt"].astype("string").array
                if "cpt" in lines.columns
                else pd.NA,
                "status": context.text("ctx.status", is_open.to_numpy()).array,
                "start": (ar.as_of - pd.to_timedelta(ar.age[is_open], unit="D")).to_numpy(),
            },
            index=lines.index[is_open],
        )
        grouped = frame.groupby("claim", sort=False)
        claims = grouped.agg(
            balance=("balance", "sum"),
            age=("age", "max"),
            lines=("balance", "size"),
            start=("start", "min"),
        )
        old = claims[
            (claims["age"] > settings.min_age_days) & (claims["balance"] >= settings.min_balance)
        ]
        if old.empty:
            return empty_findings()
        old = old.sort_values(["age", "balance"], ascending=[False, False], kind="stable")
        old = old.head(settings.max_claims).copy()
        listed = frame[frame["claim"].isin(old.index)]
        first = listed.loc[listed.groupby("claim", sort=False)["line_no"].idxmin().to_numpy()]
        old = old.join(first.set_index("claim")[["payer", "provider"]])
        # Codes and statuses are joined for the listed claims only (at most max_claims).
        by_claim = listed.groupby("claim", sort=False)
        old["codes"] = by_claim["cpt"].agg(lambda s: ", ".join(pd.unique(s.dropna())))
        old["statuses"] = by_claim["status"].agg(lambda s: ", ".join(sorted(set(s.dropna()))))
        # Each listed claim counts the money of its open lines.
        slot = pd.Series(np.arange(len(old)), index=old.index)
        label = np.full(len(lines), -1, dtype=np.int64)
        label[lines.index.get_indexer(listed.index)] = listed["claim"].map(slot).to_numpy()
        covers = context.covers_of(label, len(old))
        messages = [
            f"Claim {claim} ({row.payer}; {row.codes or 'no code'}) has {money(row.balance)} "
            f"open for {row.age:.0f} days (since {pd.Timestamp(row.start).date().isoformat()}; "
            f"{row.statuses}) as of {ar.as_of.date().isoformat()}."
            for claim, row in old.iterrows()
        ]
        evidence = [
            {
                "age_days": int(row.age),
                "open_balance": round(float(row.balance), 2),
                "open_lines": int(row.lines),
                "statuses": row.statuses,
                "codes": row.codes,
                "as_of": ar.as_of.date().isoformat(),
            }
            for _, row in old.iterrows()
        ]
        return findings_frame(
            self,
            severity=np.where(old["age"] > settings.high_age_days, "high", "medium"),
            scope="claim",
            claim_id=list(old.index) if "claim_id" in lines.columns else None,
            payer=old["payer"].to_numpy(),
            provider=old["provider"].to_numpy(),
            dollars_at_risk=old["balance"].round(2).to_numpy(),
            dollars_basis="open balance",
            covers=covers,
            message=messages,
            evidence=evidence,
        )
