"""Audit ``modifier-25-unsupported``: modifier 25 on an office visit with no procedure that day."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from auditkit.engine.context import Context
from auditkit.engine.contract import Audit, NothingToAudit
from auditkit.measures.coding import coding_view, group_any


class Modifier25Unsupported(Audit):
    """Modifier 25 on an office visit when the patient has no procedure that day.

    Why it matters
    --------------
    Modifier 25 tells the payer that a visit was separate from a procedure done the same day.
    On a visit with no procedure it has nothing to be separate from: payers read it as a coding
    error or a sign of template-driven modifiers, deny or hold the line, and a pattern of it draws
    a review of every visit billed with 25.

    What is flagged
    ---------------
    Each office visit line (E/M, 99202-99215 in the reference data) carrying 25 when the same
    patient has no procedure on that date of service (on any claim, by any physician). A
    procedure is a code of a procedure family (trigger point, joint, epidural, facet, nerve block,
    neurostimulation) or of the CPT surgery range 10000-69999. Voided lines are ignored. Without
    ``patient_id`` only lines of the same claim are compared, so a procedure billed on another
    claim is not seen. Severity medium. Dollars at risk: the visit line's paid amount when paid,
    else its charge.

    How to fix
    ----------
    Remove 25 from visits billed on their own and send a corrected claim where the payer denied
    or questioned the line. If a procedure was done but not billed, bill it. Check the visit
    templates or the charge-entry defaults that add 25 automatically.

    Columns needed
    --------------
    Required: cpt, modifiers, date_of_service. Optional: patient_id (same-day lines across
    claims), claim_id, status (voided lines left out), paid and charge (dollars).

    Example
    -------
    Flagged: a follow-up visit with 25 on March 4; the patient's only procedure, a transforaminal
    epidural, was a week later.

        claim_id | patient_id | date_of_service | cpt   | modifiers
        ---------+------------+-----------------+-------+----------
        C3001    | P200       | 2024-03-04      | 99214 | 25
        C3002    | P200       | 2024-03-11      | 64483 | LT

    Result: 1 medium finding, on the 99214 line of March 4.

    Not flagged: the March 4 visit without 25; 25 stays on a visit billed the day of the epidural.

        claim_id | patient_id | date_of_service | cpt   | modifiers
        ---------+------------+-----------------+-------+----------
        C3001    | P200       | 2024-03-04      | 99214 |
        C3002    | P200       | 2024-03-11      | 99213 | 25
        C3002    | P200       | 2024-03-11      | 64483 | LT
    """

    id = "modifier-25-unsupported"
    title = "Modifier 25 on an office visit with no procedure that day"
    severities = ("medium",)
    columns = ("cpt", "modifiers", "date_of_service")
    optional_columns = ("patient_id", "claim_id", "status", "paid", "charge")

    def run(self, lines: pd.DataFrame, settings: SimpleNamespace, context: Context) -> pd.DataFrame:
        view = coding_view(lines, context)
        visits = view.is_em & view.billed & view.has("25")
        if not visits.any():
            raise NothingToAudit("no office visit (E/M) line carries modifier 25")
        procedures = view.is_procedure & view.billed
        pos = np.flatnonzero(visits & ~group_any(view.session, procedures))
        message = (
            view.where(pos) + " has modifier 25, but the patient has no procedure on that date."
        )
        return view.findings(self, pos, severity="medium", message=message)
