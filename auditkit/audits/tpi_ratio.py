"""Audit ``tpi-ratio``: 20552 versus 20553 on trigger-point injection lines."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd

from auditkit.engine.context import Context, usable
from auditkit.engine.contract import Audit, NothingToAudit, Threshold
from auditkit.engine.findings import (
    FINDING_SOURCE_COLUMNS,
    Evidence,
    Message,
    findings_frame,
    line_findings,
)
from auditkit.engine.result import empty_findings
from auditkit.engine.stats import normal_cdf, two_proportion_z
from auditkit.engine.text import money, pct
from auditkit.measures.kpis import tpi_mix

SAMPLE_CLAIMS = 5


def _priced(dollars: float, fee: float, excess: float, found: int) -> str:
    """How the estimate of a physician or group finding is priced, for its message."""
    if not fee:
        return "no paid amounts or fee schedule to price them"
    if not found:
        return f"{money(dollars)} at {money(fee)} per line"
    rest = max(excess - found, 0.0)
    return (
        f"{found} of them flagged line by line and counted there; {money(dollars)} for the "
        f"other {rest:.0f} at {money(fee)} per line"
    )


class TpiRatio(Audit):
    """Trigger-point injections coded 20552 when the group or the note points to 20553.

    Why it matters
    --------------
    20553 (three or more muscles) pays more than 20552 (one or two muscles). A physician who
    bills 20552 far more often than colleagues treating similar patients usually has a note
    template that does not record the muscle count, or a coder who defaults to the lower code:
    each such line leaves the fee difference unpaid. When the whole group shares the habit, no
    physician stands out from the others, and only a comparison with an expected mix shows it.
    The other way round, a 20553 line without a
    documented muscle count is what a reviewer asks for first; it is denied or taken back when
    the note cannot show three muscles.

    What is flagged
    ---------------
    - A rendering physician whose share of 20553 among trigger-point lines is at least
      ``min_gap`` below the rest of the group's, with at least ``min_lines`` trigger-point lines
      on each side and a one-sided two-proportion z-test below ``alpha``. Medium; high when the
      gap is at least ``high_gap``.
    - The whole group (scope practice) when its share of 20553 is at least ``min_gap`` below
      ``expected_20553_share``, with at least ``min_lines`` trigger-point lines and a one-sided
      test (normal approximation) below ``alpha``. Medium; high when the gap is at least
      ``high_gap``. Only lines without a documented muscle count take part: a documented count
      settles the code (the line checks below cover it), so a group whose notes show 1 or 2
      muscles on its 20552 lines is not flagged however low its 20553 share. The default expected share, 0.45, is an unverified guess (confidence V):
      no published benchmark was found; set it from your own months with documented muscle
      counts, or your specialty's mix.
    - Where ``muscles_treated`` is exported: each 20552 line with 3 or more muscles documented
      (undercoded, high); each 20553 line with no muscle count (denial risk, medium); each 20553
      line with fewer than 3 muscles documented (overcoded, high: refund risk).

    Rejected and voided lines are left out, so a claim sent twice counts once.

    Dollars at risk: the fee difference between the two codes for the lines concerned, from
    ``[fee_schedule]`` in the config when given, else the practice's mean paid amount per code
    and payer; for a 20553 line without a muscle count, the whole 20553 fee. For a physician:
    the lines needed to reach the rest of the group's share, less the undercoded 20552 lines
    flagged on their own, at the mean fee difference of the physician's 20552 lines; it covers
    the physician's other 20552 lines. For the group: the lines needed to reach the expected
    share, at the mean fee difference of the 20552 lines it looked at, which it covers. Each
    line's fee difference is counted once: undercoded lines count in their own findings, and
    a group finding gives way to a flagged physician's (more specific) on the lines they
    share, and is then not counted.

    How to fix
    ----------
    Put a muscle count (naming each muscle) in the trigger-point note template and code from it:
    one or two muscles 20552, three or more 20553, once per session. Review the flagged
    physician's (or, for a group finding, every physician's) recent notes with the coder, and send corrected claims for undercoded lines that
    are still inside the payer's correction window.

    Columns needed
    --------------
    Required: cpt, rendering_provider. Optional: muscles_treated (line checks), date_of_service
    (monthly table), paid and status (fee estimate when no fee schedule is configured), payer.

    Example
    -------
    The comparison needs at least ``min_lines`` trigger-point lines per physician, so each row
    stands for ``repeat`` identical lines, each on its own claim.

    Flagged: Dr. Lee bills 20553 (three or more muscles) far less often than the rest of the group.

        rendering_provider | cpt   | status | paid  | repeat
        -------------------+-------+--------+-------+-------
        Dr. Lee            | 20552 | paid   | 60.00 | 22
        Dr. Lee            | 20553 | paid   | 80.00 | 3
        Dr. Adams          | 20552 | paid   | 60.00 | 10
        Dr. Adams          | 20553 | paid   | 80.00 | 15

    Result: 1 high finding. Dr. Lee billed 20553 on 3 of 25 lines (12%), the rest of the group on
    15 of 25 (60%): 48 points lower, more than ``high_gap``. About 12 of Dr. Lee's lines would be
    20553 at the group's share, $240 at the $20 difference in payment.

    Not flagged: once Dr. Lee's note template records the muscle count, the mix is close to the
    group's (48% against 60%, less than ``min_gap`` apart).

        rendering_provider | cpt   | status | paid  | repeat
        -------------------+-------+--------+-------+-------
        Dr. Lee            | 20552 | paid   | 60.00 | 13
        Dr. Lee            | 20553 | paid   | 80.00 | 12
        Dr. Adams          | 20552 | paid   | 60.00 | 10
        Dr. Adams          | 20553 | paid   | 80.00 | 15
    """

    id = "tpi-ratio"
    title = "Trigger-point injections: 20552 versus 20553"
    severities = ("high", "medium", "info")
    columns = ("cpt", "rendering_provider")
    optional_columns = ("muscles_treated", "date_of_service", "paid", "status", "payer")
    thresholds = (
        Threshold(
            "min_lines",
            int,
            20,
            "Trigger-point lines a physician (and the rest of the group), or the whole group, "
            "needs before being compared.",
            min=1,
        ),
        Threshold(
            "min_gap",
            float,
            0.20,
            "How far below the rest of the group a physician's 20553 share must be (0.20 = 20 points).",
            min=0,
            max=1,
        ),
        Threshold(
            "high_gap",
            float,
            0.40,
            "A gap at least this large makes the physician finding high instead of medium.",
            min=0,
            max=1,
        ),
        Threshold(
            "alpha",
            float,
            0.05,
            "Significance level of the one-sided tests that a physician's (or the group's) "
            "share is lower.",
            min=0,
            max=1,
        ),
        Threshold(
            "expected_20553_share",
            float,
            0.45,
            "Share of 20553 expected among the group's trigger-point lines (unverified default, "
            "confidence V); the group is flagged when it is min_gap or more below it.",
            min=0,
            max=1,
        ),
    )

    def run(self, lines: pd.DataFrame, settings: SimpleNamespace, context: Context) -> pd.DataFrame:
        tpi = context.tpi_lines
        if not tpi.any():
            raise NothingToAudit("no 20552 or 20553 lines in the data")
        # Only the columns used here and in line findings (not a copy of every column).
        used = ("cpt", "claim_id", "muscles_treated", *FINDING_SOURCE_COLUMNS)
        tpi_lines = lines.loc[tpi, [c for c in dict.fromkeys(used) if c in lines.columns]]
        payers = context.text("ctx.payer", tpi.to_numpy())
        fee_52, src_52 = context.fees(pd.Series("20552", index=payers.index), payers)
        fee_53, src_53 = context.fees(pd.Series("20553", index=payers.index), payers)
        fee_diff = (fee_53 - fee_52).clip(lower=0.0)
        fee_diff.index = tpi_lines.index
        fee_53.index = tpi_lines.index
        fee_source = src_53.where(src_53.eq(src_52), "mixed")
        fee_source.index = tpi_lines.index

        # 20552 lines with 3 or more muscles documented are findings of their own: the physician
        # estimate leaves them out of the lines it covers, and counts them as already found, so
        # that each line's fee difference is counted once.
        on_52 = tpi_lines["cpt"].astype("string").eq("20552").fillna(False).astype(bool)
        undercoded = on_52 & self._muscle_count(tpi_lines).ge(3).fillna(False).astype(bool)
        parts = [
            self._providers(tpi_lines, fee_diff, fee_source, undercoded, settings, context),
            self._group(tpi_lines, fee_diff, fee_source, settings, context),
        ]
        parts.append(self._muscles(tpi_lines, fee_diff, fee_53, fee_source))
        parts = [p for p in parts if len(p)]
        return pd.concat(parts, ignore_index=True) if parts else empty_findings()

    @staticmethod
    def _muscle_count(tpi_lines: pd.DataFrame) -> pd.Series:
        """The documented muscle count of each trigger-point line (NA where not exported)."""
        if "muscles_treated" not in tpi_lines.columns:
            return pd.Series(pd.NA, index=tpi_lines.index, dtype="Float64")
        return tpi_lines["muscles_treated"].astype("Float64")

    def _providers(
        self,
        tpi_lines: pd.DataFrame,
        fee_diff: pd.Series,
        fee_source: pd.Series,
        undercoded: pd.Series,
        settings: SimpleNamespace,
        context: Context,
    ) -> pd.DataFrame:
        mix = tpi_mix(context)["tpi_mix_by_provider"].set_index("provider")
        rest_n = mix["lines"].sum() - mix["lines"]
        rest_53 = mix["n_20553"].sum() - mix["n_20553"]
        rest_share = rest_53 / rest_n.where(rest_n > 0)
        gap = rest_share - mix["share_20553"]
        _, p_lower, _ = two_proportion_z(mix["n_20553"], mix["lines"], rest_53, rest_n)
        flagged = (
            (mix["lines"] >= settings.min_lines)
            & (rest_n >= settings.min_lines)
            & (gap >= settings.min_gap)
            & (p_lower < settings.alpha)
        )
        if not flagged.any():
            return empty_findings()
        prov = mix.index[flagged.to_numpy()]
        found = mix.loc[prov].assign(
            rest_lines=rest_n[prov],
            rest_20553=rest_53[prov],
            rest_share=rest_share[prov],
            gap=gap[prov],
            p_value=p_lower[flagged.to_numpy()],
        )
        providers = context.text("ctx.provider", tpi_lines.index.to_numpy())
        on_52 = tpi_lines["cpt"].astype("string").eq("20552").fillna(False).astype(bool)
        mean_diff = fee_diff[on_52].groupby(providers[on_52]).mean()
        source = fee_source[on_52].groupby(providers[on_52]).first()
        samples = (
            tpi_lines.loc[on_52 & providers.isin(prov), "claim_id"]
            .groupby(providers[on_52 & providers.isin(prov)])
            .apply(lambda ids: list(ids.astype(str).unique()[:SAMPLE_CLAIMS]))
            if "claim_id" in tpi_lines
            else pd.Series(dtype=object)
        )
        found["fee_difference"] = mean_diff.reindex(prov).fillna(0.0)
        found["excess_lines"] = found["gap"] * found["lines"]
        found["found_lines"] = (
            undercoded[providers.isin(prov)].groupby(providers[providers.isin(prov)]).sum()
        ).reindex(prov, fill_value=0)
        found["rest_excess"] = (found["excess_lines"] - found["found_lines"]).clip(lower=0.0)
        found["dollars"] = (found["rest_excess"] * found["fee_difference"]).round(2)
        # The estimate sits on the physician's other 20552 lines: the undercoded ones carry their
        # own fee difference in their line findings (and the group finding, on the same lines,
        # gives way to this more specific one).
        slot = pd.Series(np.arange(len(prov)), index=prov)
        label = np.full(len(context.lines), -1, dtype=np.int64)
        mine = on_52 & providers.isin(prov) & ~undercoded
        label[tpi_lines.index[mine].to_numpy()] = providers[mine].map(slot).to_numpy()
        covers = context.covers_of(label, len(prov))
        severity = np.where(found["gap"] >= settings.high_gap, "high", "medium")
        # One message per flagged physician (a handful), so a loop is fine here.
        messages, evidence = [], []
        for r in found.itertuples():
            messages.append(
                f"{r.Index} billed 20553 on {int(r.n_20553)} of {int(r.lines)} trigger-point "
                f"lines ({pct(r.share_20553)}) and 20552 on {int(r.n_20552)}; the rest of the "
                f"group billed 20553 on {pct(r.rest_share)} ({int(r.rest_20553)} of "
                f"{int(r.rest_lines)}), {r.gap * 100:.0f} points higher. About "
                f"{r.excess_lines:.0f} more lines would be 20553 at the group's share "
                f"({_priced(r.dollars, r.fee_difference, r.excess_lines, r.found_lines)})."
            )
            evidence.append(
                {
                    "n_20552": int(r.n_20552),
                    "n_20553": int(r.n_20553),
                    "lines": int(r.lines),
                    "share_20553": round(float(r.share_20553), 4),
                    "rest_lines": int(r.rest_lines),
                    "rest_20553": int(r.rest_20553),
                    "rest_share_20553": round(float(r.rest_share), 4),
                    "gap": round(float(r.gap), 4),
                    "p_value": float(r.p_value),
                    "excess_lines": round(float(r.excess_lines), 1),
                    "undercoded_lines_found": int(r.found_lines),
                    "fee_difference": round(float(r.fee_difference), 2),
                    "fee_source": str(source.get(r.Index, "none")),
                    "sample_claims_20552": samples.get(r.Index, []),
                }
            )
        return findings_frame(
            self,
            severity=severity,
            scope="provider",
            provider=list(prov),
            cpt="20552",
            dollars_at_risk=found["dollars"].to_numpy(),
            dollars_basis="fee difference",
            covers=covers,
            message=messages,
            evidence=evidence,
        )

    def _group(
        self,
        tpi_lines: pd.DataFrame,
        fee_diff: pd.Series,
        fee_source: pd.Series,
        settings: SimpleNamespace,
        context: Context,
    ) -> pd.DataFrame:
        """The whole group against ``expected_20553_share`` (a group where every physician
        defaults to 20552 looks normal when physicians are only compared with each other), on
        the lines whose code the note does not settle: a documented muscle count settles the
        code (1 or 2 muscles 20552, 3 or more 20553) and the line checks cover those lines."""
        documented = self._muscle_count(tpi_lines).notna().to_numpy(dtype=bool)
        cpt = tpi_lines["cpt"].astype("string")[~documented]
        on_52 = cpt.eq("20552").fillna(False).astype(bool)
        n = len(cpt)
        n_53 = int(cpt.eq("20553").fillna(False).sum())
        if n < settings.min_lines:
            return empty_findings()
        share = n_53 / n
        expected = settings.expected_20553_share
        gap = expected - share
        spread = math.sqrt(expected * (1.0 - expected) / n)
        # One-sided test of "the group's share is below the expected one" (normal approximation
        # of the binomial; with min_lines lines or more it is close enough for a screen).
        p_lower = float(normal_cdf((share - expected) / spread)) if spread > 0 else 1.0
        if not (gap >= settings.min_gap and p_lower < settings.alpha):
            return empty_findings()
        excess = gap * n
        diff = fee_diff[~documented][on_52]
        fee = float(diff.mean()) if len(diff) else 0.0
        fee = 0.0 if math.isnan(fee) else fee
        dollars = round(excess * fee, 2)
        source = fee_source[~documented][on_52].iloc[0] if len(diff) else "none"
        # The estimate sits on those 20552 lines; a flagged physician's finding, more specific,
        # wins the lines it shares with this one (and this one is then not counted).
        label = np.full(len(context.lines), -1, dtype=np.int64)
        label[cpt.index[on_52].to_numpy()] = 0
        covers = context.covers_of(label, 1)
        left_out = (
            f" without a documented muscle count ({int(documented.sum())} lines with one are "
            "checked line by line)"
            if documented.any()
            else ""
        )
        message = (
            f"The group billed 20553 on {n_53} of {n} trigger-point lines{left_out} "
            f"({pct(share)}) and 20552 on {int(on_52.sum())}; the expected share is "
            f"{pct(expected)} (expected_20553_share, an unverified default), {gap * 100:.0f} "
            "points higher. Comparing physicians with each other cannot show a habit the whole "
            f"group shares. About {excess:.0f} more lines would be 20553 at the expected share "
            f"({_priced(dollars, fee, excess, 0)})."
        )
        evidence = {
            "n_20552": int(on_52.sum()),
            "n_20553": n_53,
            "lines": n,
            "documented_lines_left_out": int(documented.sum()),
            "share_20553": round(share, 4),
            "expected_20553_share": expected,
            "gap": round(gap, 4),
            "p_value": p_lower,
            "excess_lines": round(excess, 1),
            "fee_difference": round(fee, 2),
            "fee_source": str(source),
        }
        return findings_frame(
            self,
            severity="high" if gap >= settings.high_gap else "medium",
            scope="practice",
            cpt="20552",
            dollars_at_risk=dollars,
            dollars_basis="fee difference",
            covers=covers,
            message=message,
            evidence=evidence,
            fix="Check the trigger-point note template of every physician: it must name each "
            "muscle injected, and the coder must code from the count (3 or more: 20553). Review "
            "a sample of recent 20552 notes and correct undercoded claims still in the window.",
        )

    def _muscles(
        self,
        tpi_lines: pd.DataFrame,
        fee_diff: pd.Series,
        fee_53: pd.Series,
        fee_source: pd.Series,
    ) -> pd.DataFrame:
        if "muscles_treated" not in tpi_lines.columns:
            return empty_findings()
        muscles = self._muscle_count(tpi_lines)
        if not usable(tpi_lines, "muscles_treated"):
            return findings_frame(
                self,
                severity="info",
                scope="practice",
                message=(
                    f"muscles_treated is blank on all {len(tpi_lines)} trigger-point lines, so "
                    "the line checks against the documented muscle count were not done."
                ),
                evidence={"trigger_point_lines": len(tpi_lines)},
                fix="Export the muscle count with each trigger-point line to get line checks.",
            )
        cpt = tpi_lines["cpt"].astype("string")
        # Messages are templates over the evidence's muscle count (whole numbers: the column is
        # an integer one), so no text is built per line.
        rules = (
            (
                cpt.eq("20552") & muscles.ge(3),
                "high",
                "fee difference",
                "20552 billed with {muscles_treated} muscles documented; 3 or more muscles is "
                "20553 (undercoded).",
                fee_diff,
                "Send a corrected claim as 20553 if still inside the payer's window; code from "
                "the documented muscle count.",
            ),
            (
                cpt.eq("20553") & muscles.isna(),
                "medium",
                "expected payment",
                "20553 billed with no muscle count documented; the note must show 3 or more "
                "muscles or the line is denied or taken back on review.",
                fee_53,
                "Add the number and names of the muscles injected to the note; if fewer than 3, "
                "correct the line to 20552.",
            ),
            (
                cpt.eq("20553") & muscles.lt(3),
                "high",
                "fee difference",
                "20553 billed with {muscles_treated} muscles documented; 1 or 2 muscles is 20552 "
                "(overcoded, refund risk).",
                fee_diff,
                "Correct the line to 20552 (or amend the note if more muscles were injected) "
                "and refund any overpayment.",
            ),
        )
        parts = []
        for mask, severity, basis, template, dollars, fix in rules:
            mask = mask.fillna(False).astype(bool)
            if not mask.any():
                continue
            rows = tpi_lines[mask]
            # The count as a whole number: what int() of the documented count gives.
            count = np.trunc(muscles[mask].astype("Float64")).astype("Int64")
            evidence = Evidence({"muscles_treated": count, "fee_source": fee_source[mask]})
            parts.append(
                line_findings(
                    self,
                    rows,
                    severity=severity,
                    message=Message(template),
                    dollars_at_risk=dollars[mask].fillna(0.0).round(2),
                    dollars_basis=basis,
                    evidence=evidence,
                    fix=fix,
                )
            )
        return pd.concat(parts, ignore_index=True) if parts else empty_findings()
