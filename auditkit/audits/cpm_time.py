"""Audit ``cpm-time``: chronic pain management codes against the month's documented minutes."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from auditkit.engine.context import Context
from auditkit.engine.contract import Audit, NothingToAudit, Threshold
from auditkit.engine.text import money
from auditkit.measures.coding import (
    coding_view,
    concat,
    excess_units,
    group_any,
    group_max,
    group_min,
    group_sum,
    units_text,
)

FIRST_MINUTES = 30  # G3002: the first 30 minutes of the month
EXTRA_MINUTES = 15  # G3003: each further full 15 minutes


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
                    lambda pos: (
                        " has "
                        + units_text(minutes[pos])
                        + " chronic pain management minutes documented that month; G3002 needs 30."
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
        first = view.listing(month, g3002, month[flagged], codes=False)
        message = (
            view.where(flagged)
            + ": "
            + units_text(total[over])
            + " G3002 units for the patient in the calendar month (claims "
            + pd.Series(first, dtype="string")
            + "); G3002 is the month's first 30 minutes and is billed once a month, further "
            "time is G3003."
        )
        return view.findings(
            self,
            flagged,
            severity="high",
            message=message,
            dollars=view.dollars[flagged] * share[over],
            evidence=[{"g3002_units_in_month": float(t)} for t in total[over]],
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
        message = (
            view.where(flagged)
            + ": "
            + units_text(total[over])
            + " G3003 units billed for the month, but "
            + units_text(minutes[flagged])
            + " minutes support "
            + units_text(supported[over])
            + " (one per full 15 minutes beyond 30)."
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
        message = (
            view.where(pos)
            + " documents "
            + units_text(minutes[pos])
            + " chronic pain management minutes in the month and no G3002 was billed: about "
            + pd.Series([money(x) for x in estimate], dtype="string")
            + " unbilled (G3002"
            + pd.Series(
                np.where(unbilled_3003 > 0, " plus " + units_text(unbilled_3003) + " G3003", ""),
                dtype="string",
            )
            + ")."
        )
        evidence = [
            {
                "minutes": float(m),
                "g3003_units_supported": float(u),
                "g3002_fee": round(float(a), 2),
                "g3003_fee": round(float(b), 2),
                "fee_source": s2 if s2 != "none" else "default setting",
                "estimate": round(float(e), 2),
            }
            for m, u, a, b, s2, e in zip(
                minutes[pos], unbilled_3003, fee_2, fee_3, source_2, estimate, strict=True
            )
        ]
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
        message = (
            view.where(pos)
            + " is an office visit on the day of the patient's first G3002; the initial chronic "
            "pain management visit is part of G3002."
        )
        return view.findings(
            self,
            pos,
            severity="medium",
            message=message,
            fix="Remove the office visit (the initial CPM visit is billed as G3002) unless the note "
            "documents a separate problem, and send a corrected claim.",
        )
