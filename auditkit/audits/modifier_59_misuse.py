"""Audit ``modifier-59-misuse``: 59 or X{E,S,P,U} where it does not belong."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from auditkit.engine.context import Context
from auditkit.engine.contract import Audit, NothingToAudit, Threshold
from auditkit.engine.findings import Evidence, Message
from auditkit.measures.code_pairs import (
    EDIT_SEVERITY,
    code_pair_edits,
    column2_needs,
    pair_hits,
)
from auditkit.measures.coding import (
    DISTINCT_MODIFIERS,
    SIDE_MODIFIERS,
    Rule,
    coding_view,
    concat,
    group_sum,
    template,
    where_template,
)


def _marked(n: int, positions: Any) -> np.ndarray:
    """A mask of length ``n`` that is True at ``positions``."""
    mask = np.zeros(n, dtype=bool)
    mask[np.asarray(positions, dtype=np.int64)] = True
    return mask


class Modifier59Misuse(Audit):
    """Modifier 59 or XE/XS/XP/XU used where the rules do not allow it or a better one fits.

    Why it matters
    --------------
    59 and its specific forms XE (separate encounter), XS (separate structure), XP (separate
    practitioner) and XU (unusual non-overlapping service) unbundle a pair of codes that are
    normally paid as one: under the NCCI procedure-to-procedure edits, the modifier goes on the
    edit's column 2 code, and only where the edit's modifier indicator is 1. Payers watch them
    closely: used on an office visit (where 25 belongs), doubled on a line, on the wrong code of
    the pair, where no edit can be bypassed, or in place of the side modifiers, they get lines
    denied and make the practice a target for unbundling audits with refunds.

    What is flagged
    ---------------
    Code pairs are the run's NCCI procedure-to-procedure edits (as ``ncci-ptp`` reads them):
    CMS's practitioner PTP files from ``[reference] ptp`` or ``--ptp`` (confirmed edits), else
    auditkit's packaged pain-procedure subset (mostly unverified, confidence V). An edit applies
    to two billed lines of one claim, or of one patient, date of service and rendering provider,
    when it is in effect on the column 2 line's date of service (effective date <= date <
    deletion date; on a line without a date, when CMS has not deleted it); edits with modifier
    indicator 9 never apply.

    - 59 or an X modifier on an office visit (E/M): high.
    - More than one of 59, XE, XS, XP, XU on one line: medium.
    - 59 on a side-specific code (reference procedure table) without RT, LT or 50: RT or LT
      describes the other side, medium.
    - 59 or an X modifier on the column 1 code of an edit (indicator 1) whose column 2 code is
      billed with it, where the line is not itself the column 2 code of another such edit: the
      modifier belongs on the column 2 code (for example 20552 or 20553, not 64405, in a
      trigger-point injection with an occipital nerve block). Medium; low when the edit's
      confidence is V. Dollars: the column 2 line's, when it carries no distinct-service
      modifier (it is the line the edit denies), else none.
    - 59 or an X modifier on the column 2 code of an edit with modifier indicator 0 (nothing
      bypasses it), where no indicator-1 edit justifies it: medium; low when V.
    - 59 or an X modifier on a line with nothing else billed for the patient that day (on its
      claim or any other): there is nothing to be distinct from. Low.
    - With ``flag_without_edit`` on: 59 or an X modifier on a procedure billed with other
      procedures (same claim, or same patient, day and physician) where no edit in the table
      pairs it with them. Low. Off by default, because the packaged table is only a sample of
      the edits; turn it on with a full edit table.
    - 59 on a procedure whose only other procedures that day for the patient are on other
      claims: by another physician (XP fits) or by the same physician (a separate encounter, XE
      fits). Low, and only when ``x_modifier_hints`` is on (payers differ in whether they want X
      modifiers; Medicare prefers them but still takes 59).
    A line is flagged by the first of these rules that fits. Voided lines are ignored. Dollars
    at risk, unless said otherwise: the line's paid amount when paid, else its expected payment,
    else its charge.

    How to fix
    ----------
    Take 59 and X modifiers off office visits (use 25 when a procedure was done the same day).
    Keep one distinct-service modifier per line, on the column 2 code of the pair it unbundles,
    and only when the services really were separate (another site, session or practitioner).
    Use RT and LT for the two sides of a side-specific code. Where the payer accepts them, use
    the X modifier that says why the service is distinct. Send corrected claims for lines still
    open or denied.

    Columns needed
    --------------
    Required: cpt, modifiers. Optional: patient_id and date_of_service (same-day lines across
    claims), rendering_provider (XP, and whose services an edit pairs), claim_id, status
    (voided lines left out), paid and charge (dollars).

    Example
    -------
    Flagged: 59 on an office visit billed with trigger-point injections, 59 used for the second
    side of a lumbar facet injection, and 59 on the occipital nerve block (the column 1 code)
    instead of the trigger-point injection (the column 2 code) of the pair.

        claim_id | patient_id | date_of_service | cpt   | modifiers
        ---------+------------+-----------------+-------+----------
        C5001    | P500       | 2024-03-04      | 99213 | 59
        C5001    | P500       | 2024-03-04      | 20552 |
        C5002    | P501       | 2024-03-06      | 64493 | RT
        C5002    | P501       | 2024-03-06      | 64493 | 59
        C5003    | P502       | 2024-03-07      | 20552 |
        C5003    | P502       | 2024-03-07      | 64405 | RT,59

    Result: 1 high, 1 medium and 1 low finding: high on the visit, medium on the 64493 line
    with 59, low on the 64405 line (the packaged edit is unverified).

    Not flagged: 25 on the visit, RT and LT for the two sides, and 59 where it belongs: on the
    trigger-point injection billed with an occipital nerve block.

        claim_id | patient_id | date_of_service | cpt   | modifiers
        ---------+------------+-----------------+-------+----------
        C5001    | P500       | 2024-03-04      | 99213 | 25
        C5001    | P500       | 2024-03-04      | 20552 |
        C5002    | P501       | 2024-03-06      | 64493 | RT
        C5002    | P501       | 2024-03-06      | 64493 | LT
        C5003    | P502       | 2024-03-07      | 20552 | 59
        C5003    | P502       | 2024-03-07      | 64405 | RT
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
        Threshold(
            "flag_without_edit",
            bool,
            False,
            "Also flag 59/X on a procedure that no code-pair edit pairs with the codes billed with "
            "it (needs CMS's full PTP files in [reference] ptp).",
        ),
    )

    def run(self, lines: pd.DataFrame, settings: SimpleNamespace, context: Context) -> pd.DataFrame:
        view = coding_view(lines, context)
        n_distinct = view.count(*DISTINCT_MODIFIERS)
        distinct = (n_distinct > 0) & view.billed
        with_59 = view.has("59") & view.billed
        if not distinct.any():
            raise NothingToAudit("no line carries 59, XE, XS, XP or XU")

        def said(tail: str, **fields: object) -> Callable[[np.ndarray], Message]:
            """A rule's message tail naming the line's modifiers (``{m59_mods}``)."""
            return lambda pos: Message(
                tail,
                m59_mods=view.modifier_field(pos),
                **{k: f(pos) for k, f in fields.items()},  # type: ignore[operator]
            )

        on_visit = view.is_em & distinct
        doubled = (n_distinct > 1) & view.billed & ~on_visit
        side_specific = view.procedure_is("side_specific", "yes")
        rt_lt_fits = with_59 & side_specific & ~view.has(*SIDE_MODIFIERS) & ~on_visit & ~doubled
        # What the code-pair edits say about the remaining lines with a distinct modifier.
        rest = distinct & ~on_visit & ~doubled & ~rt_lt_fits
        hits = pair_hits(view, code_pair_edits(context))
        needs, _ = column2_needs(view, hits)
        first_of_bypass = _marked(view.n, hits.loc[hits["indicator"] == 1, "first"])
        second_of_fixed = _marked(view.n, hits.loc[hits["indicator"] == 0, "second"])
        unjustified = rest & ~needs
        wrong_code = unjustified & first_of_bypass
        no_bypass = unjustified & ~first_of_bypass & second_of_fixed
        unjustified &= ~(wrong_code | no_bypass)
        alone = (group_sum(view.claim, view.billed) <= 1) & (
            group_sum(view.session, view.billed) <= 1
        )
        lone = unjustified & ~view.is_em & alone
        unjustified &= ~lone
        unpaired = np.zeros(view.n, dtype=bool)
        if settings.flag_without_edit:
            proc = (view.is_procedure & view.billed).astype("float64")
            partners = (group_sum(view.claim, proc) - proc > 0) | (
                group_sum(view.session_provider, proc) - proc > 0
            )
            paired = _marked(view.n, hits[["first", "second"]].to_numpy().ravel())
            unpaired = unjustified & view.is_procedure & partners & ~paired
        rules: list[Rule] = [
            (
                on_visit,
                "high",
                said(
                    " is an office visit with modifiers {m59_mods}: 59 and X modifiers never go "
                    "on a visit."
                ),
                "Remove 59/X from the visit; use 25 if a procedure was done the same day.",
            ),
            (
                doubled,
                "medium",
                said(
                    " carries {m59_count} distinct-service modifiers ({m59_mods}); one per line.",
                    m59_count=lambda pos: pd.array(n_distinct[pos], dtype="Int64"),
                ),
                "Keep the one modifier that says why the service is distinct; remove the rest.",
            ),
            (
                rt_lt_fits,
                "medium",
                " uses 59 without RT, LT or 50; for a second side RT and LT say it.",
                "Replace 59 with RT or LT (the side treated) and send a corrected claim.",
            ),
            (
                lone,
                "low",
                said(
                    " carries {m59_mods} but nothing else is billed for the patient that day: "
                    "there is no other service for it to be distinct from."
                ),
                "Remove the distinct-service modifier and send a corrected claim.",
            ),
            (
                unpaired,
                "low",
                said(
                    " carries {m59_mods}, but no code-pair edit pairs it with the procedures "
                    "billed with it: there is no edit for the modifier to bypass."
                ),
                "Remove the distinct-service modifier unless the payer's own edits pair these "
                "codes; send a corrected claim.",
            ),
        ]
        if settings.x_modifier_hints:
            flagged = wrong_code | no_bypass | lone | unpaired
            rules += self._x_hints(view, with_59 & rest & ~flagged)
        return concat(
            [
                view.rule_findings(self, rules),
                self._wrong_code(view, hits, wrong_code),
                self._no_bypass(view, hits, no_bypass),
            ]
        )

    def _wrong_code(self, view, hits: pd.DataFrame, flagged: np.ndarray) -> pd.DataFrame:
        """59/X on the column 1 line of an indicator-1 edit billed with its column 2 code."""
        hits = hits[(hits["indicator"] == 1) & flagged[hits["first"].to_numpy()]]
        if hits.empty:
            return concat([])
        # One finding per flagged line: its best-sourced edit, then its first column 2 line.
        hits = hits.sort_values(["first", "rank", "second"]).drop_duplicates("first")
        pos = hits["first"].to_numpy()
        second = hits["second"].to_numpy()
        rank = hits["rank"].to_numpy()
        message = view.message(
            pos,
            " carries {m59_mods}, but its code-pair edit with "
            + where_template("m59_col2")
            + " puts the distinct-service modifier on the column 2 code, {m59_col2_cpt}.",
            m59_mods=view.modifier_field(pos),
            **view.where_fields(second, "m59_col2"),
        )
        fix = template(
            "Move the distinct-service modifier to ",
            view.cpt_field(second),
            " (the column 2 code) if the services were separate, and send a corrected claim.",
        )
        # The money at risk is the column 2 line's, the line the edit denies, unless it carries
        # a distinct-service modifier itself.
        bare = view.count(*DISTINCT_MODIFIERS)[second] == 0
        keys = view.line_keys_at(second)
        found = view.findings(
            self,
            pos,
            severity=np.asarray(EDIT_SEVERITY, dtype=object)[rank],
            message=message,
            dollars=np.where(bare, view.dollars[second], 0.0),
            dollars_basis=np.where(bare, np.asarray(view.basis_at(second), dtype=object), "none"),
            evidence=Evidence({"column2_line": keys, "column2_has_modifier": ~bare}),
            fix=fix,
        )
        found["covers"] = pd.Series(keys.where(bare, "").array, index=found.index)
        return found

    def _no_bypass(self, view, hits: pd.DataFrame, flagged: np.ndarray) -> pd.DataFrame:
        """59/X on the column 2 line of an edit that no modifier bypasses (indicator 0)."""
        hits = hits[(hits["indicator"] == 0) & flagged[hits["second"].to_numpy()]]
        if hits.empty:
            return concat([])
        hits = hits.sort_values(["second", "rank", "first"]).drop_duplicates("second")
        pos = hits["second"].to_numpy()
        message = view.message(
            pos,
            " carries {m59_mods}, but its code-pair edit with "
            + where_template("m59_col1")
            + " has modifier indicator 0: no modifier bypasses it.",
            m59_mods=view.modifier_field(pos),
            **view.where_fields(hits["first"].to_numpy(), "m59_col1"),
        )
        return view.findings(
            self,
            pos,
            severity=np.asarray(EDIT_SEVERITY, dtype=object)[hits["rank"].to_numpy()],
            message=message,
            fix="Remove the line (it is part of the other service), or the modifier if it is; "
            "send a corrected claim.",
        )

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
