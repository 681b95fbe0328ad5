"""Audit ``modifier-59-misuse``: 59 or X{E,S,P,U} where it does not belong."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from auditkit.engine.context import Context
from auditkit.engine.contract import Audit, NothingToAudit, Threshold
from auditkit.measures.coding import (
    DISTINCT_MODIFIERS,
    SIDE_MODIFIERS,
    Rule,
    coding_view,
    group_sum,
)


class Modifier59Misuse(Audit):
    """Modifier 59 or XE/XS/XP/XU used where the rules do not allow it or a better one fits.

    Why it matters
    --------------
    59 and its specific forms XE (separate encounter), XS (separate structure), XP (separate
    practitioner) and XU (unusual non-overlapping service) unbundle a pair of codes that are
    normally paid as one. Payers watch them closely: used on an office visit (where 25 belongs),
    doubled on a line, or in place of the side modifiers or the more specific X modifier, they
    get the line denied and make the practice a target for unbundling audits with refunds.

    What is flagged
    ---------------
    - 59 or an X modifier on an office visit (E/M): high.
    - More than one of 59, XE, XS, XP, XU on one line: medium.
    - 59 on a side-specific code (reference procedure table) without RT, LT or 50: RT or LT
      describes the other side, medium.
    - 59 on a procedure whose only other procedures that day for the patient are on other
      claims: by another physician (XP fits) or by the same physician (a separate encounter, XE
      fits). Low, and only when ``x_modifier_hints`` is on (payers differ in whether they want X
      modifiers; Medicare prefers them but still takes 59).
    Voided lines are ignored. Dollars at risk: the line's paid amount when paid, else its charge.

    How to fix
    ----------
    Take 59 and X modifiers off office visits (use 25 when a procedure was done the same day).
    Keep one distinct-service modifier per line. Use RT and LT for the two sides of a side-specific
    code. Where the payer accepts them, use the X modifier that says why the service is distinct.
    Send corrected claims for lines still open or denied.

    Columns needed
    --------------
    Required: cpt, modifiers. Optional: patient_id and date_of_service (same-day procedures for
    the X hints), rendering_provider (XP), claim_id, status (voided lines left out), paid and
    charge (dollars).

    Example
    -------
    Flagged: 59 on an office visit billed with trigger-point injections, and 59 used for the second
    side of a lumbar facet injection.

        claim_id | patient_id | date_of_service | cpt   | modifiers
        ---------+------------+-----------------+-------+----------
        C5001    | P500       | 2024-03-04      | 99213 | 59
        C5001    | P500       | 2024-03-04      | 20552 |
        C5002    | P501       | 2024-03-06      | 64493 | RT
        C5002    | P501       | 2024-03-06      | 64493 | 59

    Result: 1 high and 1 medium finding: high on the visit, medium on the 64493 line with 59.

    Not flagged: 25 on the visit, RT and LT for the two sides, and 59 where it belongs: an
    occipital nerve block billed with trigger-point injections on one claim.

        claim_id | patient_id | date_of_service | cpt   | modifiers
        ---------+------------+-----------------+-------+----------
        C5001    | P500       | 2024-03-04      | 99213 | 25
        C5001    | P500       | 2024-03-04      | 20552 |
        C5002    | P501       | 2024-03-06      | 64493 | RT
        C5002    | P501       | 2024-03-06      | 64493 | LT
        C5003    | P502       | 2024-03-07      | 20552 |
        C5003    | P502       | 2024-03-07      | 64405 | RT,59
    """

    id = "modifier-59-misuse"
    title = "Modifier 59 or X{EPSU} on a visit, doubled, or where RT/LT or an X modifier fits"
    severities = ("high", "medium", "low")
    columns = ("cpt", "modifiers")
    optional_columns = (
        "patient_id",
        "date_of_service",
        "rendering_provider",
        "claim_id",
        "status",
        "paid",
        "charge",
    )
    thresholds = (
        Threshold(
            "x_modifier_hints",
            bool,
            False,
            "Also suggest XP or XE where 59 separates a procedure from ones on other claims that day.",
        ),
    )

    def run(self, lines: pd.DataFrame, settings: SimpleNamespace, context: Context) -> pd.DataFrame:
        view = coding_view(lines, context)
        n_distinct = view.count(*DISTINCT_MODIFIERS)
        with_59 = view.has("59") & view.billed
        if not ((n_distinct > 0) & view.billed).any():
            raise NothingToAudit("no line carries 59, XE, XS, XP or XU")
        mods = pd.Series(view.modifier_text)

        def modifiers(pos: np.ndarray) -> pd.Series:
            return mods.iloc[pos].reset_index(drop=True)

        on_visit = view.is_em & (n_distinct > 0) & view.billed
        doubled = (n_distinct > 1) & view.billed & ~on_visit
        side_specific = view.procedure_is("side_specific", "yes")
        rt_lt_fits = with_59 & side_specific & ~view.has(*SIDE_MODIFIERS) & ~on_visit & ~doubled
        rules = [
            (
                on_visit,
                "high",
                lambda pos: (
                    " is an office visit with modifiers "
                    + modifiers(pos)
                    + ": 59 and X modifiers never go on a visit."
                ),
                "Remove 59/X from the visit; use 25 if a procedure was done the same day.",
            ),
            (
                doubled,
                "medium",
                lambda pos: (
                    " carries "
                    + pd.Series(n_distinct[pos]).astype(str)
                    + " distinct-service modifiers ("
                    + modifiers(pos)
                    + "); one per line."
                ),
                "Keep the one modifier that says why the service is distinct; remove the rest.",
            ),
            (
                rt_lt_fits,
                "medium",
                " uses 59 without RT, LT or 50; for a second side RT and LT say it.",
                "Replace 59 with RT or LT (the side treated) and send a corrected claim.",
            ),
        ]
        if settings.x_modifier_hints:
            rules += self._x_hints(view, with_59 & ~on_visit & ~doubled & ~rt_lt_fits)
        return view.rule_findings(self, rules)

    @staticmethod
    def _x_hints(view, candidate: np.ndarray) -> list[Rule]:
        """59 on a procedure whose same-day partners are all on other claims."""
        proc = (view.is_procedure & view.billed).astype("float64")
        per_claim = group_sum(view.claim, proc) - proc
        per_day = group_sum(view.session, proc) - proc
        same_doctor_day = view.session_provider
        per_doctor_day = group_sum(same_doctor_day, proc) - proc
        elsewhere = candidate & view.is_procedure & (per_claim == 0) & (per_day > 0)
        xp = elsewhere & (per_doctor_day == per_claim)
        xe = elsewhere & ~xp
        return [
            (
                mask,
                "low",
                " uses 59; the patient's other procedures that day are on other claims "
                f"{meaning}, which {modifier} states more precisely.",
                f"Use {modifier} instead of 59 where the payer accepts X modifiers.",
            )
            for mask, modifier, meaning in (
                (xp, "XP", "by another physician"),
                (xe, "XE", "at a separate encounter"),
            )
        ]
