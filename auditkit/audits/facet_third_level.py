"""Audit ``facet-third-level``: a third facet level or ablated joint billed in a session."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from auditkit.engine.context import Context
from auditkit.engine.contract import Audit, NothingToAudit, Threshold
from auditkit.engine.findings import Evidence
from auditkit.measures.coding import (
    CodingView,
    coding_view,
    combine,
    concat,
    excess_units,
    group_any,
    parse_codes,
)

#: Add-on codes that count ablated joints (the others count injected facet levels).
ABLATION_ADDONS: frozenset[str] = frozenset({"64634", "64636"})

#: What the third unit is: a facet level, or an ablated joint (``kind`` in the evidence).
KINDS: tuple[str, ...] = ("facet level", "ablated joint")
#: How a third level's coverage is put: for another payer, and for Medicare.
NOT_COVERED: tuple[str, ...] = (
    "; Medicare treats it as not covered (at most two levels per session) and many payers follow.",
    ", which Medicare's facet rules treat as not covered (at most two levels per session).",
)
#: The third-code message's wordings, for another payer and for Medicare.
THIRD_TAILS: tuple[str, ...] = tuple(" is a third facet level" + t for t in NOT_COVERED)


def _addon_template(medicare: int, ablation: int, both: int) -> str:
    return (
        ": the session's add-on units come to {addon_units:g} for "
        + ("both sides" if both else "one side")
        + " (one per side is the second "
        + ("joint" if ablation else "level")
        + "): {third_level_units:g} past that reach a third "
        + KINDS[ablation]
        + NOT_COVERED[medicare]
    )


#: The add-on message's wordings after "<cpt> on claim <id> (<date>)" (message templates, see
#: :meth:`~auditkit.measures.coding.CodingView.message`), at ``medicare * 4 + ablation * 2 +
#: both sides``.
ADDON_TAILS: tuple[str, ...] = tuple(
    _addon_template(m, a, b) for m in (0, 1) for a in (0, 1) for b in (0, 1)
)


def _medicare(view: CodingView, context: Context, pos: np.ndarray) -> np.ndarray:
    """Per line at ``pos``: does its payer (or plan) name Medicare?"""
    payers = context.text("ctx.payer", pos)
    medicare = payers.str.contains("medicare", case=False, regex=False)
    if "payer_plan" in view.lines.columns:
        plan = view.lines["payer_plan"].iloc[pos].astype("string")
        medicare |= plan.str.contains("medicare", case=False, regex=False).fillna(False)
    return medicare.fillna(False).to_numpy(dtype=bool)


def _sides(view: CodingView, group: np.ndarray, pos: np.ndarray, primary: np.ndarray):
    """Per line at ``pos``: the sides its session treated (1 or 2) and the line's add-on units
    counted per side. Both sides were treated when any line of the session (and region) has
    modifier 50, RT and LT both appear, or a first-level line has 2 units (one line for both
    sides); a line with modifier 50 is both sides, so its units count twice."""
    has50 = view.has("50")[pos]
    right = view.has("RT")[pos]
    left = view.has("LT")[pos]
    units = view.units[pos]
    both = group_any(group, has50 | (right & left) | (primary & (units >= 2))) | (
        group_any(group, right) & group_any(group, left)
    )
    return np.where(both, 2.0, 1.0), np.where(has50, 2.0 * units, units)


class FacetThirdLevel(Audit):
    """A third facet level or third ablated joint billed in one session.

    Why it matters
    --------------
    Medicare's facet coverage rules allow at most two levels per session, one or both sides, for
    facet injections and radiofrequency ablation alike, and their billing articles treat the
    third-level codes 64492 and 64495 as not covered; many commercial payers copy the rule. The
    third level is denied, or paid and taken back on review, and a pattern of three-level
    sessions invites a wider review of facet claims.

    What is flagged
    ---------------
    - Each line of a code listed in ``codes`` (64492, 64495 by default): the whole line.
    - A third level or joint reached with add-on units: per patient and date of service (across
      claims), the add-on codes in ``addon_codes`` (second facet level 64491, 64494; each extra
      ablated joint 64634, 64636) allow one unit per side treated, next to the first-level code
      they add on to (64490, 64493, 64633, 64635). 64494 with 2 units on one side is levels 2 and
      3; a first joint plus two extra-joint lines on one side is a third joint. Both sides were
      treated when a line of the session has modifier 50, or RT and LT both appear, or the
      first-level line has 2 units (one line for both sides); a line with 50 counts its units
      for each side. The add-on lines whose units take the count past one per side are flagged,
      for the units past it.

    The two-level limit is a secondary source and the non-coverage of the third level unverified
    (confidence S / V), which is why the codes are settings. High when the line's payer or plan
    names Medicare, medium for other payers. Voided lines are ignored, and rejected lines are not
    counted among the add-on units (a rejected claim is usually sent again). Dollars at risk:
    the line's paid amount when paid, else its expected payment, else its charge; for add-on
    units, the share of the line that is past the second level.

    How to fix
    ----------
    Limit facet sessions to two levels (one or both sides) and document why the levels treated
    were chosen: bill the second level once per side (with 50, or RT and LT, as the payer wants).
    For a third level already billed, expect a denial: for Medicare bill it only with an ABN on
    file (modifier GA), and do not send the patient a bill without one.

    Columns needed
    --------------
    Required: cpt. Optional: patient_id (sessions across claims), date_of_service, modifiers and
    units (sides and add-on units), payer and payer_plan (Medicare or not), claim_id, status
    (voided and rejected lines left out), paid and charge (dollars).

    Example
    -------
    Flagged: a bilateral lumbar facet session at three levels, and a lumbar ablation of three
    joints on the right (the first joint plus 2 units of the extra-joint code), both billed to
    Medicare.

        claim_id | patient_id | date_of_service | payer    | cpt   | modifiers | units
        ---------+------------+-----------------+----------+-------+-----------+------
        C7001    | P700       | 2024-03-04      | Medicare | 64493 | 50        | 1
        C7001    | P700       | 2024-03-04      | Medicare | 64494 | 50        | 1
        C7001    | P700       | 2024-03-04      | Medicare | 64495 | 50        | 1
        C7002    | P701       | 2024-03-04      | Medicare | 64635 | RT        | 1
        C7002    | P701       | 2024-03-04      | Medicare | 64636 | RT        | 2

    Result: 2 high findings, on the 64495 line and on the 64636 line.

    Not flagged: the facet session limited to two levels, and two joints ablated on each side.

        claim_id | patient_id | date_of_service | payer    | cpt   | modifiers | units
        ---------+------------+-----------------+----------+-------+-----------+------
        C7001    | P700       | 2024-03-04      | Medicare | 64493 | 50        | 1
        C7001    | P700       | 2024-03-04      | Medicare | 64494 | 50        | 1
        C7002    | P701       | 2024-03-04      | Medicare | 64635 | RT        | 1
        C7002    | P701       | 2024-03-04      | Medicare | 64636 | RT        | 1
        C7002    | P701       | 2024-03-04      | Medicare | 64635 | LT        | 1
        C7002    | P701       | 2024-03-04      | Medicare | 64636 | LT        | 1

    Result: no findings.
    """

    id = "facet-third-level"
    title = "Third facet level or ablated joint billed"
    severities = ("high", "medium")
    columns = ("cpt",)
    optional_columns = (
        "patient_id",
        "date_of_service",
        "modifiers",
        "units",
        "payer",
        "payer_plan",
        "claim_id",
        "status",
        "paid",
        "charge",
    )
    thresholds = (
        Threshold(
            "codes",
            str,
            "64492,64495",
            "Codes treated as not covered third facet levels, comma-separated.",
        ),
        Threshold(
            "addon_codes",
            str,
            "64491,64494,64634,64636",
            "Add-on codes of the second facet level or an extra ablated joint, comma-separated: "
            "more than one unit per side treated in a session is a third level.",
        ),
    )

    def run(self, lines: pd.DataFrame, settings: SimpleNamespace, context: Context) -> pd.DataFrame:
        view = coding_view(lines, context)
        codes = parse_codes(settings.codes)
        addons = parse_codes(settings.addon_codes)
        third = view.code_in(codes) & view.billed
        addon = view.code_in(addons) & view.counted
        if not (third.any() or addon.any()):
            raise NothingToAudit(f"no {', '.join(codes + addons)} lines in the data")
        return concat([self._third_codes(view, context, third), self._addons(view, context, addon)])

    def _third_codes(self, view: CodingView, context: Context, third: np.ndarray) -> pd.DataFrame:
        pos = np.flatnonzero(third)
        medicare = _medicare(view, context, pos)
        message = view.message(
            pos, pd.Categorical.from_codes(medicare.astype(np.int8), THIRD_TAILS)
        )
        return view.findings(
            self, pos, severity=np.where(medicare, "high", "medium"), message=message
        )

    def _addons(self, view: CodingView, context: Context, addon: np.ndarray) -> pd.DataFrame:
        if not addon.any():
            return concat([])
        # The first-level code each add-on adds on to: the first primary the reference
        # procedures list for it (64494 may also follow 64490 across T12-L1, but it counts
        # lumbar levels).
        first_primary = view.procedures["addon_to"].str.split(";").str[0]
        base_of = view.per_code(first_primary, "")
        base_code = np.where(addon, base_of[view.code_ids], "")
        bases = sorted(set(base_code[addon]) - {""})
        primary = view.code_in(bases) & view.counted
        # Each line's first-level code: its own for a primary, the one it adds on to otherwise.
        family = np.where(primary, view.by_code({c: c for c in bases}, ""), base_code)
        pos = np.flatnonzero((addon & (base_code != "")) | primary)
        if not len(pos):
            return concat([])
        family_ids, _ = pd.factorize(family[pos])
        group = combine(view.session[pos], family_ids)
        sides, side_units = _sides(view, group, pos, primary[pos])
        is_addon = addon[pos]
        # Add-on units counted per side in row order; one per side treated is allowed.
        at = np.flatnonzero(is_addon)
        excess, share, total = excess_units(group[at], side_units[at], sides[at])
        over = excess > 0
        flagged = pos[at][over]
        if not len(flagged):
            return concat([])
        side_count = sides[at][over]
        ablation = view.code_in(ABLATION_ADDONS)[flagged]
        medicare = _medicare(view, context, flagged)
        # One wording per (Medicare or not, ablation or facet, both sides or one): eight at most.
        wording = medicare * 4 + ablation * 2 + (side_count > 1)
        message = view.message(flagged, pd.Categorical.from_codes(wording, ADDON_TAILS))
        evidence = Evidence(
            {
                "addon_units": total[over],
                # Nullable integers stay whole numbers beside the third-code findings (which
                # have no such evidence) when the two parts are joined.
                "sides": pd.array(side_count.astype(np.int64), dtype="Int64"),
                "third_level_units": excess[over],
                "kind": pd.Categorical.from_codes(ablation.astype(np.int8), KINDS),
            }
        )
        return view.findings(
            self,
            flagged,
            severity=np.where(medicare, "high", "medium"),
            message=message,
            dollars=view.dollars[flagged] * share[over],
            evidence=evidence,
        )
