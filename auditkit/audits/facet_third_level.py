"""Audit ``facet-third-level``: a third facet level (64492, 64495) billed."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from auditkit.engine.context import Context
from auditkit.engine.contract import Audit, NothingToAudit, Threshold
from auditkit.measures.coding import coding_view, parse_codes


class FacetThirdLevel(Audit):
    """Third-level facet injection code (64492 or 64495) billed.

    Why it matters
    --------------
    Medicare's facet coverage rules allow at most two levels per session, and their billing
    articles treat the third-level codes 64492 and 64495 as not covered; many commercial payers
    copy the rule. The line is denied, or paid and taken back on review, and a pattern of
    three-level sessions invites a wider review of facet claims.

    What is flagged
    ---------------
    Each line of a code listed in ``codes`` (64492, 64495 by default). The non-coverage of the
    third level is a secondary source for the two-level limit and unverified for the codes
    themselves (confidence S / V), which is why the list is a setting. High when the line's payer
    or plan names Medicare, medium for other payers. Voided lines are ignored. Dollars at risk: the
    line's paid amount when paid, else its charge.

    How to fix
    ----------
    Limit facet sessions to two levels (one or both sides) and document why the levels treated
    were chosen. For a third level already billed, expect a denial: for Medicare bill it only with
    an ABN on file (modifier GA), and do not send the patient a bill without one.

    Columns needed
    --------------
    Required: cpt. Optional: payer and payer_plan (Medicare or not), claim_id, date_of_service,
    status (voided lines left out), paid and charge (dollars).

    Example
    -------
    Flagged: a bilateral lumbar facet session at three levels, billed to Medicare.

        claim_id | date_of_service | payer    | cpt   | modifiers
        ---------+-----------------+----------+-------+----------
        C7001    | 2024-03-04      | Medicare | 64493 | 50
        C7001    | 2024-03-04      | Medicare | 64494 | 50
        C7001    | 2024-03-04      | Medicare | 64495 | 50

    Result: 1 high finding, on the 64495 line.

    Not flagged: the session limited to two levels.

        claim_id | date_of_service | payer    | cpt   | modifiers
        ---------+-----------------+----------+-------+----------
        C7001    | 2024-03-04      | Medicare | 64493 | 50
        C7001    | 2024-03-04      | Medicare | 64494 | 50

    Result: nothing to audit: no line is a third facet level.
    """

    id = "facet-third-level"
    title = "Third facet level (64492, 64495) billed"
    severities = ("high", "medium")
    columns = ("cpt",)
    optional_columns = (
        "payer",
        "payer_plan",
        "claim_id",
        "date_of_service",
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
    )

    def run(self, lines: pd.DataFrame, settings: SimpleNamespace, context: Context) -> pd.DataFrame:
        view = coding_view(lines, context)
        codes = parse_codes(settings.codes)
        pos = np.flatnonzero(view.code_in(codes) & view.billed)
        if not len(pos):
            raise NothingToAudit(f"no {', '.join(codes)} lines in the data")
        payers = context.text("ctx.payer", pos)
        medicare = payers.str.contains("medicare", case=False, regex=False)
        if "payer_plan" in lines.columns:
            plan = lines["payer_plan"].iloc[pos].astype("string")
            medicare |= plan.str.contains("medicare", case=False, regex=False).fillna(False)
        medicare = medicare.fillna(False).to_numpy(dtype=bool)
        message = view.where(pos) + np.where(
            medicare,
            " is a third facet level, which Medicare's facet rules treat as not covered "
            "(at most two levels per session).",
            " is a third facet level; Medicare treats it as not covered (at most two levels per "
            "session) and many payers follow.",
        )
        return view.findings(
            self, pos, severity=np.where(medicare, "high", "medium"), message=message
        )
