"""Audit ``addon-without-primary``: an add-on code without its primary code."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from auditkit.engine.context import Context
from auditkit.engine.contract import Audit, NothingToAudit
from auditkit.measures.coding import coding_view, member


class AddonWithoutPrimary(Audit):
    """Add-on code billed without its primary code for the same patient and day (or month).

    Why it matters
    --------------
    An add-on code (an extra level, an extra joint, extra minutes) is paid only together with its
    primary code. Billed alone it is denied every time, and it usually means the primary line was
    left off the claim, keyed on another date, or replaced by the wrong code: the visit is then
    paid at a fraction of what was done.

    What is flagged
    ---------------
    Each line of an add-on code (``addon_to`` in the reference procedure table: 64480 -> 64479,
    64484 -> 64483, 64491 and 64492 -> 64490, 64494 and 64495 -> 64493, 64634 -> 64633, 64636 ->
    64635, 0229T -> 0228T, 0231T -> 0230T) with no line of the primary code for the same patient
    and date of service, on any claim; for add-ons whose ``addon_window`` is ``month`` (G3003 ->
    G3002), in the same calendar month. Voided lines are ignored, on either side. Without
    ``patient_id`` only the add-on's own claim is searched. Severity high. Dollars at risk: the
    add-on line's paid amount when paid, else its charge.

    How to fix
    ----------
    Find the primary service in the note and the charge log: add the missing primary line (or
    correct the code or date) and send a corrected claim. If only the add-on's service was done,
    bill the primary code instead of the add-on. For G3003, bill G3002 in the same month first.

    Columns needed
    --------------
    Required: cpt, date_of_service. Optional: patient_id (lines across claims), claim_id, status
    (voided lines left out), paid and charge (dollars).

    Example
    -------
    Flagged: the second lumbar facet level keyed on the day after the first level.

        claim_id | patient_id | date_of_service | cpt   | modifiers
        ---------+------------+-----------------+-------+----------
        C9001    | P900       | 2024-03-04      | 64493 | RT
        C9002    | P900       | 2024-03-05      | 64494 | RT

    Result: 1 high finding, on the 64494 line.

    Not flagged: both levels on the day of the session.

        claim_id | patient_id | date_of_service | cpt   | modifiers
        ---------+------------+-----------------+-------+----------
        C9001    | P900       | 2024-03-04      | 64493 | RT
        C9001    | P900       | 2024-03-04      | 64494 | RT
    """

    id = "addon-without-primary"
    title = "Add-on code without its primary code"
    severities = ("high",)
    columns = ("cpt", "date_of_service")
    optional_columns = ("patient_id", "claim_id", "status", "paid", "charge")

    def run(self, lines: pd.DataFrame, settings: SimpleNamespace, context: Context) -> pd.DataFrame:
        view = coding_view(lines, context)
        # Worked out per distinct code, then spread over the lines.
        primary_of_code = view.per_code(view.procedures["addon_to"], "")
        addon = np.asarray(primary_of_code != "", dtype=bool)[view.code_ids] & view.billed
        if not addon.any():
            raise NothingToAudit("no add-on code lines in the data")
        by_month = view.procedure_is("addon_window", "month")
        pos = np.flatnonzero(addon)
        primary_code = primary_of_code[view.code_ids[pos]]
        # The primary code's id in this data (-1: the primary never occurs, so it is missing).
        index = {c: i for i, c in enumerate(view.code_values)}
        primary_id_of_code = np.asarray([index.get(c, -1) for c in primary_of_code], np.int64)
        primary_id = primary_id_of_code[view.code_ids[pos]]
        monthly_lines = by_month[pos]
        # Only add-ons with a monthly window need the patient-month groups.
        window = view.session[pos]
        if monthly_lines.any():
            window = np.where(monthly_lines, view.patient_month[pos], window)
        # Is the (window, primary code) pair among the billed lines' (window, code) pairs?
        # Primary codes are numbered among themselves (a handful) to keep the pairs compact.
        billed = view.billed & view.code_in(set(primary_code))
        primaries = np.unique(primary_id[primary_id >= 0])
        slot = np.full(len(view.code_values) + 1, len(primaries), dtype=np.int64)
        slot[primaries] = np.arange(len(primaries))
        width = len(primaries) + 1
        wanted = window * width + slot[primary_id]
        found = np.zeros(len(pos), dtype=bool)
        for monthly in (False, True):
            mine = monthly_lines == monthly
            if mine.any():
                groups = view.patient_month if monthly else view.session
                present = groups[billed] * width + slot[view.code_ids[billed]]
                found[mine] = member(wanted[mine], present)
        found &= primary_id >= 0
        pos, primary_code = pos[~found], primary_code[~found]
        needed = pd.Series(primary_code, dtype="string")
        month = pd.Series(by_month[pos])
        when = pd.Series(
            np.where(
                month,
                " in " + view.date_text(pos).str.slice(0, 7),
                " that day",
            ),
            dtype="string",
        )
        message = view.where(pos) + " is an add-on, but the patient has no " + needed + when + "."
        return view.findings(self, pos, severity="high", message=message)
