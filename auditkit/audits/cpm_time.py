"""Audit ``cpm-time``: chronic pain management codes against the month's documented minutes."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from auditkit.engine.context import Context
from auditkit.engine.contract import Audit, NothingToAudit, Threshold
from auditkit.engine.findings import Evidence, Message
from auditkit.measures.coding import (
    coding_view,
    concat,
    excess_units,
    group_any,
    group_max,
    group_min,
    group_sum,
)

FIRST_MINUTES = 30  # G3002: the first 30 minutes of the month
EXTRA_MINUTES = 15  # G3003: each further full 15 minutes

#: Wordings after "<cpt> on claim <id> (<date>)" (message templates, see
#: :meth:`~auditkit.measures.coding.CodingView.message`) of G3003 units beyond the minutes: with
#: the month's minutes, or with none documented.
G3003_TAILS: tuple[str, ...] = tuple(
    ": {cpm_g3003_units:g} G3003 units billed for the month, but "
    + said
    + " minutes support {cpm_g3003_supported:g} (one per full 15 minutes beyond 30)."
    for said in ("{cpm_g3003_minutes:g}", "no")
)
#: Wordings of a month with minutes and no G3002: the estimate is G3002 alone, or G3002 plus
#: the G3003 units the minutes support.
MISSED_TAILS: tuple[str, ...] = tuple(
    " documents {cpm_missed_minutes:g} chronic pain management minutes in the month and no G3002 "
    "was billed: about ${cpm_missed_estimate:,.0f} unbilled (G3002" + plus + ")."
    for plus in ("", " plus {g3003_units_supported:g} G3003")
)


def _round2(values: np.ndarray) -> np.ndarray:
    """Amounts rounded to cents as Python's ``round`` does (each distinct amount once)."""
    codes, uniques = pd.factorize(np.asarray(values, dtype="float64"), use_na_sentinel=False)
    return np.array([round(float(u), 2) for u in uniques], dtype="float64")[codes]


class CpmTime(Audit):
    """Chronic pain management (G3002, G3003) billed against the month's documented minutes.

    Why it matters
    --------------
    G3002 pays for the first 30 minutes of chronic pain management in a calendar month and G3003
    for each further full 15 minutes. A G3002 without 30 documented minutes, or G3003 units the
    minutes do not cover, are overpayments a review takes back. The other way round, a month with
    30 or more tracked minutes and no G3002 is care given and never billed. The initial CPM visit
    is part of G3002 and is not billed again as an office visit.

    What is flagged
    ---------------
    Minutes are the month's documented minutes (``cpm_minutes``, the largest value on the
    patient's lines that month). Per patient and calendar month:

    - each G3002 line with fewer than 30 minutes (high) or no minutes documented (medium);
    - a second G3002 in the month (high): G3002 is the first 30 minutes of the month, so only
      one is billed a month (CMS Physician Fee Schedule 2023); the G3002 units after the first,
      in date order, are flagged;
    - G3003 units above what the minutes beyond 30 support (one per full 15), flagged on the
      G3003 lines that go over (high);
    - a month with 30 or more minutes and no G3002 billed (medium, missed revenue), on the line
      that documents the minutes. Dollars: an estimate of G3002 plus the G3003 units the minutes
      support, from ``[fee_schedule]``, else the practice's mean paid amounts for the codes, else
      ``g3002_fee`` and ``g3003_fee``;
    - an office visit (E/M) on the date of the patient's first G3002 in the data, by the same
      patient: the initial CPM visit billed twice (medium; the rule comes from a coding guide and
      is unverified, confidence V).

    Without ``patient_id`` only the G3002 minutes check runs, on each line's own minutes. Voided
    lines are ignored and rejected lines are not counted. Dollars at risk, except for missed
    months: the line's (or the excess units' share of its) paid amount when paid, else its
    expected payment, else its charge.

    How to fix
    ----------
    Record the minutes of each month's chronic pain management in one place and bill from them:
    G3002 from 30 minutes, once a month, one G3003 per further full 15. Correct overbilled
    months and refund the difference; bill G3002 (and G3003) for months with enough minutes and
    nothing billed, while the payer's filing window is open. Do not bill an office visit for the
    initial CPM visit.

    Columns needed
    --------------
    Required: cpt, cpm_minutes. Optional: patient_id and date_of_service (months, missed months,
    the initial visit), units, payer (fees), claim_id, status (voided and rejected lines), paid and
    charge (dollars).

    Example
    -------
    Flagged: G3002 for a month with 25 documented minutes, and 2 G3003 units for a month with 50
    minutes (which support one: 30 for G3002, then one per full 15).

        claim_id | patient_id | date_of_service | cpt   | units | cpm_minutes
        ---------+------------+-----------------+-------+-------+------------
        C1401    | P140       | 2024-03-28      | G3002 | 1     | 25
        C1402    | P141       | 2024-03-28      | G3002 | 1     | 50
        C1402    | P141       | 2024-03-28      | G3003 | 2     | 50

    Result: 2 high findings, on the first G3002 line and on the G3003 line.

    Not flagged: the first patient's month reaches 35 minutes, and the second month bills one
    G3003 unit.

        claim_id | patient_id | date_of_service | cpt   | units | cpm_minutes
        ---------+------------+-----------------+-------+-------+------------
        C1401    | P140       | 2024-03-28      | G3002 | 1     | 35
        C1402    | P141       | 2024-03-28      | G3002 | 1     | 50
        C1402    | P141       | 2024-03-28      | G3003 | 1     | 50
    """

    id = "cpm-time"
    title = "Chronic pain management billed against documented minutes"
    severities = ("high", "medium")
    columns = ("cpt", "cpm_minutes")
    optional_columns = (
        "patient_id",
        "date_of_service",
        "units",
        "payer",
        "claim_id",
        "status",
        "paid",
        "charge",
    )
    thresholds = (
        Threshold(
            "g3002_fee",
            float,
            70.0,
            "Dollars per G3002 for missed months when neither fees nor paid G3002 lines exist.",
            min=0,
        ),
        Threshold(
            "g3003_fee",
            float,
            30.0,
            "Dollars per G3003 unit for missed months when neither fees nor paid lines exist.",
            min=0,
        ),
    )

    def run(self, lines: pd.DataFrame, settings: SimpleNamespace, context: Context) -> pd.DataFrame:
        view = coding_view(lines, context)
        minutes_line = lines["cpm_minutes"].astype("Float64").to_numpy("float64", na_value=np.nan)
        g3002 = view.code_in(["G3002"]) & view.billed
        g3003 = view.code_in(["G3003"]) & view.counted
        tracked = ~np.isnan(minutes_line) & view.billed
        if not (g3002.any() or g3003.any() or tracked.any()):
            raise NothingToAudit("no G3002, G3003 or documented CPM minutes in the data")
        by_patient = view.patient_column == "patient_id" and (view.month >= 0).any()
        if by_patient:
            month = view.patient_month
            known = np.where(np.isnan(minutes_line), -1.0, minutes_line)
            most = group_max(month, known, -np.inf)
            minutes = np.where(most >= 0, most, np.nan)
        else:
            minutes = minutes_line
        parts = [self._short_g3002(view, g3002, minutes)]
        if by_patient:
            parts.append(self._second_g3002(view, g3002 & view.counted, month))
            parts.append(self._g3003_units(view, g3003, minutes, month))
            parts.append(self._missed(view, g3002, tracked, minutes, month, settings, context))
            parts.append(self._initial_visit(view, g3002))
        return concat(parts)

    def _short_g3002(self, view, g3002: np.ndarray, minutes: np.ndarray) -> pd.DataFrame:
        return view.rule_findings(
            self,
            [
                (
                    g3002 & (minutes < FIRST_MINUTES),
                    "high",
                    lambda pos: Message(
                        " has {cpm_short_minutes:g} chronic pain management minutes documented "
                        "that month; G3002 needs 30.",
                        cpm_short_minutes=minutes[pos],
                    ),
                    None,
                ),
                (
                    g3002 & np.isnan(minutes),
                    "medium",
                    " has no chronic pain management minutes documented; G3002 needs 30 in the "
                    "month.",
                    "Document the month's minutes (at least 30) or correct the line.",
                ),
            ],
        )

    def _second_g3002(self, view, g3002: np.ndarray, month: np.ndarray) -> pd.DataFrame:
        """G3002 units after the first in a patient's calendar month (in date order)."""
        pos = np.flatnonzero(g3002)
        if not len(pos):
            return concat([])
        order = np.lexsort((pos, view.day[pos], month[pos]))  # by month, then date, then row
        pos = pos[order]
        units = view.units[pos]
        excess, share, total = excess_units(month[pos], units, 1.0)
        over = excess > 0
        flagged = pos[over]
        if not len(flagged):
            return concat([])
        message = view.message(
            flagged,
            ": {g3002_units_in_month:g} G3002 units for the patient in the calendar month (claims "
            "{cpm_g3002_claims}); G3002 is the month's first 30 minutes and is billed once a "
            "month, further time is G3003.",
            cpm_g3002_claims=view.listing_text(month, g3002, month[flagged], codes=False),
        )
        return view.findings(
            self,
            flagged,
            severity="high",
            message=message,
            dollars=view.dollars[flagged] * share[over],
            evidence=Evidence({"g3002_units_in_month": total[over]}),
            fix="Keep one G3002 for the month (the first 30 minutes); bill the further time as "
            "G3003 (one per full 15 minutes), correct the claim and refund the second G3002.",
        )

    def _g3003_units(self, view, g3003, minutes, month) -> pd.DataFrame:
        pos = np.flatnonzero(g3003)
        if not len(pos):
            return concat([])
        supported = np.floor(np.maximum(np.nan_to_num(minutes[pos]) - FIRST_MINUTES, 0) / 15)
        units = view.units[pos]
        excess, share, total = excess_units(pd.factorize(month[pos])[0], units, supported)
        over = excess > 0
        flagged = pos[over]
        # "no minutes" where the month documents none.
        undocumented = np.isnan(minutes[flagged]).astype(np.int8)
        message = view.message(
            flagged,
            pd.Categorical.from_codes(undocumented, G3003_TAILS),
            cpm_g3003_units=total[over],
            cpm_g3003_minutes=minutes[flagged],
            cpm_g3003_supported=supported[over],
        )
        return view.findings(
            self,
            flagged,
            severity="high",
            message=message,
            dollars=view.dollars[flagged] * share[over],
            fix="Bill one G3003 per full 15 minutes beyond the first 30; correct the units and "
            "refund the difference.",
        )

    def _missed(self, view, g3002, tracked, minutes, month, settings, context) -> pd.DataFrame:
        has_g3002 = group_any(month, g3002)
        candidate = tracked & ~has_g3002 & (minutes >= FIRST_MINUTES)
        if not candidate.any():
            return concat([])
        # The line documenting the most minutes, first in row order, stands for the month.
        pos = np.flatnonzero(candidate)
        frame = pd.DataFrame({"month": month[pos], "minutes": minutes[pos], "pos": pos})
        frame = frame.sort_values(["month", "minutes", "pos"], ascending=[True, False, True])
        pos = frame.drop_duplicates("month")["pos"].to_numpy()
        extra = np.floor((minutes[pos] - FIRST_MINUTES) / 15)
        billed_3003 = group_sum(
            month, np.where(view.code_in(["G3003"]) & view.counted, view.units, 0)
        )
        unbilled_3003 = np.maximum(extra - billed_3003[pos], 0)
        payers = context.text("ctx.payer", pos).reset_index(drop=True)
        fee_2, source_2 = context.fees(pd.Series("G3002", index=payers.index), payers)
        fee_3, _ = context.fees(pd.Series("G3003", index=payers.index), payers)
        fee_2 = fee_2.fillna(settings.g3002_fee).to_numpy()
        fee_3 = fee_3.fillna(settings.g3003_fee).to_numpy()
        estimate = fee_2 + unbilled_3003 * fee_3
        message = view.message(
            pos,
            pd.Categorical.from_codes((unbilled_3003 > 0).astype(np.int8), MISSED_TAILS),
            cpm_missed_minutes=minutes[pos],
            cpm_missed_estimate=estimate,
        )
        evidence = Evidence(
            {
                "minutes": minutes[pos],
                "g3003_units_supported": unbilled_3003,
                "g3002_fee": _round2(fee_2),
                "g3003_fee": _round2(fee_3),
                "fee_source": source_2.where(source_2.ne("none"), "default setting"),
                "estimate": _round2(estimate),
            }
        )
        found = view.findings(
            self,
            pos,
            severity="medium",
            message=message,
            dollars=estimate,
            dollars_basis="unbilled",
            evidence=evidence,
            fix="Bill G3002 (and one G3003 per full 15 minutes beyond 30) for the month while the "
            "payer's filing window is open.",
        )
        # The month's unbilled care sits on no billed line: nothing to share with other audits.
        found["covers"] = ""
        return found

    def _initial_visit(self, view, g3002: np.ndarray) -> pd.DataFrame:
        if not g3002.any():
            return concat([])
        never = np.iinfo(np.int64).max
        first_day = group_min(view.patient, np.where(g3002, view.day, never), never)
        visit = view.is_em & view.billed & (view.day == first_day)
        pos = np.flatnonzero(visit)
        message = view.message(
            pos,
            " is an office visit on the day of the patient's first G3002; the initial chronic "
            "pain management visit is part of G3002.",
        )
        return view.findings(
            self,
            pos,
            severity="medium",
            message=message,
            fix="Remove the office visit (the initial CPM visit is billed as G3002) unless the note "
            "documents a separate problem, and send a corrected claim.",
        )
