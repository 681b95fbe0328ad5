"""Audit ``units-exceed-limit``: more units of a code than its unit limit (line, day or month)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from auditkit.engine.context import Context
from auditkit.engine.contract import Audit, NothingToAudit, Threshold
from auditkit.measures.coding import (
    SEVERITY_BY_CONFIDENCE,
    CodingView,
    coding_view,
    combine,
    concat,
    group_sum,
    units_text,
)

#: How each kind of limit (``per`` in the unit_limits reference file) is said in messages.
PERIOD_TEXT: dict[str, str] = {
    "line": "on the line",
    "day": "for the patient with this provider that day",
    "month": "for the patient that calendar month",
}
LIMIT_TEXT: dict[str, str] = {"line": "a line", "day": "a day", "month": "a month"}


def _period_keys(view: CodingView, per: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """Per limited line (at ``pos``): the group its units are added up in. A line of its own
    for a per-line limit; (patient, rendering provider, date of service) for a per-day limit, as
    Medicare's date-of-service unit edits count; (patient, calendar month) for a per-month one.
    Lines without a date are groups of their own."""
    provider = view.provider[pos]
    provider = np.where(provider < 0, int(provider.max()) + 1, provider)  # blank: one group
    day = combine(view.session[pos], provider)
    month = view.patient_month[pos]
    kind = np.select([per == "line", per == "month"], [0, 2], 1)
    own = np.arange(len(pos))
    inner = np.select([kind == 0, kind == 2], [own, month], day)
    return combine(kind, inner)


class UnitsExceedLimit(Audit):
    """More units of a code than its unit limit allows, on one line, one day or one month.

    Why it matters
    --------------
    Payers cap the units of a code the way Medicare's medically unlikely edits (MUEs) do: some
    limits apply to each claim line (adjudication indicator 1), most to the patient's date of
    service, adding up the units of every line and claim of the same provider that day
    (indicators 2 and 3). Over the limit the payer denies the whole line (for a per-day limit,
    the day's lines of the code), not just the extra units, and units paid above it are an
    overpayment to refund. Excess units are usually a keying error (3 for 1), a level coded as
    units, or a service billed twice across claims.

    What is flagged
    ---------------
    Codes in the ``unit_limits`` reference file, by the kind of limit each row gives (``per``):

    - ``line``: each line whose own units are above ``max_units``;
    - ``day``: every line of the code for one patient, rendering provider and date of service
      when their units together are above ``max_units`` (across claims);
    - ``month``: every line of the code for one patient in a calendar month when their units
      together are above ``max_units`` (G3002, the first 30 minutes of chronic pain management
      in the month).

    A line with modifier 50 counts its units as billed (1 unit for both sides, as Medicare bills
    it), so the per-day limit of 2 on the bilateral spinal codes allows one line per side, one
    line RT,LT with 2 units, or one 50 line. The packaged limits come from the facts file: once
    per session for 20552 and 20553, one interlaminar level, two transforaminal or facet levels
    counting both sides (confidence S), once a month for G3002 (C). The rest (joints,
    ablations, 64405, office visits, imaging) are unverified guesses (confidence V): their
    findings are medium instead of high, setting ``use_unverified`` to false leaves them out, and
    ``[reference] unit_limits`` replaces the table with your payers' limits (a file without a
    ``per`` column counts per day). Voided and rejected lines are not counted. Without
    ``patient_id`` units are added up per claim. Dollars at risk: each flagged line's own value,
    its paid amount when paid, else its expected payment, else its charge.

    How to fix
    ----------
    Check the note for the number of levels, joints or sessions really done; correct the units
    (or remove the duplicate line) and send a corrected claim, refunding any line paid above the
    limit. Where the extra units were truly done and the payer allows it, document the medical
    necessity and bill them as the payer's policy says (a per-line limit: further lines with
    RT/LT or 59; a per-day limit: only on appeal with the records).

    Columns needed
    --------------
    Required: cpt, units. Optional: patient_id (units across claims), rendering_provider and
    date_of_service (the day and month of a limit), claim_id, status (voided and rejected lines
    left out), paid and charge (dollars).

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
    title = "Units above the unit limit (line, day or month)"
    severities = ("high", "medium")
    columns = ("cpt", "units")
    optional_columns = (
        "patient_id",
        "rendering_provider",
        "date_of_service",
        "claim_id",
        "status",
        "paid",
        "charge",
    )
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
        per = view.by_code(table["per"], "day")[pos].astype(str)
        group = combine(_period_keys(view, per, pos), view.code_ids[pos] + 1)
        units = view.units[pos]
        total = group_sum(group, units)
        over = total > limit[pos]
        if not over.any():
            return concat([])
        flagged = pos[over]
        group, total, per = group[over], total[over], per[over]
        max_units = limit[flagged]
        confidence = pd.Series(view.by_code(table["confidence"], "V")[flagged], dtype="string")
        source = pd.Series(view.by_code(table["source"], "")[flagged], dtype="string")
        # The flagged groups, numbered 0..G-1: their lines and claims, for the messages.
        number, _ = pd.factorize(group)
        lines_in = np.bincount(number)[number]
        labels = np.full(view.n, -1, dtype=np.int64)
        labels[flagged] = number
        claims = pd.Series(
            view.listing(labels, labels >= 0, np.arange(number.max() + 1), codes=False),
            dtype="string",
        ).iloc[number]
        several = pd.Series(lines_in > 1)
        spread = " (" + units_text(lines_in) + " lines: claim " + claims.reset_index(drop=True)
        spread = spread.str.replace(r"claim (.*,)", r"claims \1", regex=True) + ")"
        period = pd.Series(per, dtype="string")
        at_risk = period.map({"month": "month", "day": "day", "line": "day"})
        at_risk = ("; every line of the code that " + at_risk).where(several, "; the whole line")
        message = (
            view.where(flagged)
            + ": "
            + units_text(total)
            + " units "
            + period.map(PERIOD_TEXT)
            + spread.where(several, "")
            + ", the limit is "
            + units_text(max_units)
            + " "
            + period.map(LIMIT_TEXT)
            + " ("
            + units_text(total - max_units)
            + " over)"
            + at_risk
            + " is at risk."
        )
        evidence = [
            {
                "units": float(t),
                "max_units": float(m),
                "per": p,
                "excess_units": float(t - m),
                "lines": int(n),
                "limit_source": s,
                "confidence": c,
            }
            for t, m, p, n, s, c in zip(
                total, max_units, per.tolist(), lines_in, source, confidence, strict=True
            )
        ]
        return view.findings(
            self,
            flagged,
            severity=confidence.map(SEVERITY_BY_CONFIDENCE).fillna("medium").to_numpy(),
            message=message,
            evidence=evidence,
        )
