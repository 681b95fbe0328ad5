"""Audit ``units-exceed-limit``: more units of a code in a day than the limit table allows."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from auditkit.engine.context import Context
from auditkit.engine.contract import Audit, NothingToAudit, Threshold
from auditkit.measures.coding import (
    SEVERITY_BY_CONFIDENCE,
    coding_view,
    combine,
    excess_units,
    units_text,
)


class UnitsExceedLimit(Audit):
    """More units of a code for one patient on one day than the per-day limit allows.

    Why it matters
    --------------
    Payers cap the units of a code per patient per day (Medicare's medically unlikely edits and
    the coverage rules' level limits). Units above the cap are denied, sometimes the whole line
    with them, and units paid above it are an overpayment to refund. Excess units are usually a
    keying error (3 for 1), a level coded as units, or a service billed twice across claims.

    What is flagged
    ---------------
    Units of each code in the ``unit_limits`` reference file are added up per patient and date
    of service, across claims, in the order of the rows; every line that takes the total above
    ``max_units`` is flagged with its excess units. The packaged limits come from the facts
    file: once per session for 20552 and 20553, one interlaminar level, two transforaminal or
    facet levels counting both sides, once a month for G3002 (confidence S or C). The rest
    (joints, ablations, 64405, office visits, imaging) are unverified guesses (confidence V):
    their findings are medium instead of high, setting ``use_unverified`` to false leaves them
    out, and ``[reference] unit_limits`` replaces the table with your payers' limits.
    Voided and rejected lines are not counted. Without ``patient_id`` units are added up per
    claim. Dollars at risk: the excess units' share of the line's paid amount when paid, else of
    its charge.

    How to fix
    ----------
    Check the note for the number of levels, joints or sessions really done; correct the units
    (or remove the duplicate line) and send a corrected claim, refunding any units paid above the
    limit. Where the extra units were truly done and the payer allows it, document the medical
    necessity and bill them as the payer's policy says (separate lines with RT/LT or 59).

    Columns needed
    --------------
    Required: cpt, units. Optional: patient_id (units across claims), date_of_service, claim_id,
    status (voided and rejected lines left out), paid and charge (dollars).

    Example
    -------
    Flagged: a bilateral lumbar transforaminal epidural at one level keyed as 3 units (the limit is
    2 a day, one per side).

        claim_id | patient_id | date_of_service | cpt   | modifiers | units
        ---------+------------+-----------------+-------+-----------+------
        C1101    | P110       | 2024-03-04      | 64483 | RT,LT     | 3

    Result: 1 high finding, 1 unit over.

    Not flagged: one line per side, 1 unit each.

        claim_id | patient_id | date_of_service | cpt   | modifiers | units
        ---------+------------+-----------------+-------+-----------+------
        C1101    | P110       | 2024-03-04      | 64483 | RT        | 1
        C1101    | P110       | 2024-03-04      | 64483 | LT        | 1
    """

    id = "units-exceed-limit"
    title = "Units above the per-day limit"
    severities = ("high", "medium")
    columns = ("cpt", "units")
    optional_columns = ("patient_id", "date_of_service", "claim_id", "status", "paid", "charge")
    thresholds = (
        Threshold(
            "use_unverified",
            bool,
            True,
            "Also apply the limits marked unverified (confidence V) in the unit_limits table.",
        ),
    )

    def run(self, lines: pd.DataFrame, settings: SimpleNamespace, context: Context) -> pd.DataFrame:
        view = coding_view(lines, context)
        table = context.reference.coding("unit_limits").drop_duplicates("code", keep="last")
        if not settings.use_unverified:
            table = table[table["confidence"] != "V"]
        table = table.set_index("code")
        per_code = pd.to_numeric(table["max_units"], errors="coerce")
        limit = view.per_code(per_code, np.nan).astype("float64")[view.code_ids]
        limited = ~np.isnan(limit) & view.counted
        if not limited.any():
            raise NothingToAudit("no lines of a code with a unit limit")
        pos = np.flatnonzero(limited)
        day_code = combine(view.session[pos], view.code_ids[pos] + 1)
        units = view.units[pos]
        excess, share, total = excess_units(day_code, units, limit[pos])
        over = excess > 0
        flagged = pos[over]
        if not len(flagged):
            return view.findings(self, flagged, severity="high", message=[])
        confidence = pd.Series(view.by_code(table["confidence"], "V")[flagged], dtype="string")
        source = pd.Series(view.by_code(table["source"], "")[flagged], dtype="string")
        message = (
            view.where(flagged)
            + ": "
            + units_text(total[over])
            + " units for the patient that day, the limit is "
            + units_text(limit[flagged])
            + " a day ("
            + units_text(excess[over])
            + " over on this line)."
        )
        evidence = [
            {
                "units_that_day": float(t),
                "max_units": float(m),
                "excess_units": float(e),
                "limit_source": s,
                "confidence": c,
            }
            for t, m, e, s, c in zip(
                total[over], limit[flagged], excess[over], source, confidence, strict=True
            )
        ]
        return view.findings(
            self,
            flagged,
            severity=confidence.map(SEVERITY_BY_CONFIDENCE).fillna("medium").to_numpy(),
            message=message,
            dollars=view.dollars[flagged] * share[over],
            evidence=evidence,
        )
