"""Audit ``modifier-25-missing``: an office visit and a procedure the same day, no 25 on the visit."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from auditkit.engine.context import Context
from auditkit.engine.contract import Audit, NothingToAudit
from auditkit.engine.result import empty_findings
from auditkit.measures.coding import coding_view, group_any


class Modifier25Missing(Audit):
    """Office visit billed the same day as a procedure by the same physician, without modifier 25.

    Why it matters
    --------------
    A procedure's payment already includes the short assessment that leads to it. When the
    physician also bills an office visit (E/M) that day, the payer pays the visit only if modifier
    25 says it was a significant, separately identifiable service; without it the visit line is
    denied or bundled into the procedure, and the visit's whole payment is lost.

    What is flagged
    ---------------
    Each office visit line (E/M, 99202-99215 in the reference data) that carries neither 25 nor 57
    (decision for surgery) when the same patient has a procedure on the same date of service by
    the same rendering physician, on the same claim or on another one. A procedure is a code of a
    procedure family (trigger point, joint, epidural, facet, nerve block, neurostimulation) or of
    the CPT surgery range 10000-69999. Voided lines are ignored. Without ``patient_id`` only lines
    of the same claim are compared. Severity high. Dollars at risk: the visit line's paid amount
    when paid (a payer may take it back), else its charge.

    How to fix
    ----------
    If the note shows a separate problem-oriented evaluation beyond the usual pre-procedure
    assessment, add 25 to the visit and send a corrected claim; if it does not, remove the visit.
    Add the rule to the charge-entry checklist: a visit and a procedure on one day need 25 on the
    visit.

    Columns needed
    --------------
    Required: cpt, modifiers, date_of_service, rendering_provider. Optional: patient_id (same-day
    lines across claims), claim_id, status (voided lines left out), paid and charge (dollars).

    Example
    -------
    Flagged: an established-patient visit and a lumbar facet injection by Dr. Lee on the same day,
    no 25 on the visit.

        claim_id | patient_id | date_of_service | rendering_provider | cpt   | modifiers
        ---------+------------+-----------------+--------------------+-------+----------
        C2001    | P100       | 2024-03-04      | Dr. Lee            | 99213 |
        C2001    | P100       | 2024-03-04      | Dr. Lee            | 64493 | RT

    Result: 1 high finding, on the 99213 line.

    Not flagged: the note documents a separate evaluation, and the visit carries 25.

        claim_id | patient_id | date_of_service | rendering_provider | cpt   | modifiers
        ---------+------------+-----------------+--------------------+-------+----------
        C2001    | P100       | 2024-03-04      | Dr. Lee            | 99213 | 25
        C2001    | P100       | 2024-03-04      | Dr. Lee            | 64493 | RT
    """

    id = "modifier-25-missing"
    title = "Office visit with a same-day procedure but no modifier 25"
    severities = ("high",)
    columns = ("cpt", "modifiers", "date_of_service", "rendering_provider")
    optional_columns = ("patient_id", "claim_id", "status", "paid", "charge")

    def run(self, lines: pd.DataFrame, settings: SimpleNamespace, context: Context) -> pd.DataFrame:
        view = coding_view(lines, context)
        visits = view.is_em & view.billed
        if not visits.any():
            raise NothingToAudit("no office visit (E/M) lines in the data")
        same_physician_day = view.session_provider
        procedures = view.is_procedure & view.billed
        flagged = visits & ~view.has("25", "57") & group_any(same_physician_day, procedures)
        pos = np.flatnonzero(flagged)
        if not len(pos):
            return empty_findings()
        keys = same_physician_day[pos]
        done = view.listing(same_physician_day, procedures, keys)
        message = view.where(pos) + " has no modifier 25, but the same physician billed " + done
        message += " for the same patient that day."
        evidence = [
            {"procedures": d, "dollars_basis": b}
            for d, b in zip(done, view.basis_at(pos), strict=True)
        ]
        return view.findings(self, pos, severity="high", message=message, evidence=evidence)
