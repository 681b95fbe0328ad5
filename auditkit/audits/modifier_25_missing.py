"""Audit ``modifier-25-missing``: an office visit and a minor procedure the same day, no 25."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from auditkit.engine.context import Context
from auditkit.engine.contract import Audit, NothingToAudit
from auditkit.engine.findings import Evidence
from auditkit.engine.result import empty_findings
from auditkit.measures.coding import coding_view, group_any, modifier_25_of_lines

#: The message after "<cpt> on claim <id> (<date>)" (a message template, see
#: :meth:`~auditkit.measures.coding.CodingView.message`; ``procedures`` is the evidence's list of
#: the same-day minor procedures).
TAIL = (
    " has no modifier 25, but the same physician billed {procedures} (a 0- or 10-day global "
    "procedure) for the same patient that day."
)


class Modifier25Missing(Audit):
    """Office visit billed the same day as a procedure by the same physician, without modifier 25.

    Why it matters
    --------------
    The payment for a minor procedure (a 0- or 10-day global period in the Medicare Physician
    Fee Schedule: injections, nerve blocks, facet and epidural procedures, radiofrequency
    ablation, stimulator lead placement) already includes the short assessment that leads to
    it. When the physician also bills an office visit (E/M) that day, the payer pays the visit
    only if modifier 25 says it was a significant, separately identifiable service; without it
    the visit line is denied or bundled into the procedure, and the visit's whole payment is lost.

    What is flagged
    ---------------
    Each office visit line (E/M, 99202-99215 in the reference data) that carries neither 25 nor 57
    (decision for surgery) when the same patient has, on the same date of service and by the
    same rendering physician (on the same claim or another one), a code whose ``modifier_25`` in
    the reference procedure table is ``required``: a code with a 000 or 010 global period, or an
    add-on to one. The periods come from the ``global_days`` column (the CMS Physician Fee
    Schedule's global surgery indicator, with its source and confidence on each row); a practice
    can correct them in its own procedures file. Not flagged: a visit beside a major procedure
    (090 days: a visit that decides on it takes 57, CMS Claims Processing Manual ch. 12
    §30.6.6 C), beside a service outside the global surgery rules (XXX) such as 96372 or a
    neurostimulator analysis (95970-95972, marked ``allowed``: whether the payer denies a visit
    without 25 there depends on its code-pair edits), beside imaging guidance or chronic pain
    management alone, or beside a code the table does not list. Voided lines are ignored.
    Without ``patient_id`` only lines of the same claim are compared. Severity high. Dollars at
    risk: the visit line's paid amount when paid (a payer may take it back), else its expected
    payment, else its charge.

    How to fix
    ----------
    If the note shows a separate problem-oriented evaluation beyond the usual pre-procedure
    assessment, add 25 to the visit and send a corrected claim; if it does not, remove the visit.
    Add the rule to the charge-entry checklist: a visit and a minor procedure on one day need 25
    on the visit.

    Columns needed
    --------------
    Required: cpt, modifiers, date_of_service, rendering_provider. Optional: patient_id (same-day
    lines across claims), claim_id, status (voided lines left out), paid and charge (dollars).

    Example
    -------
    Flagged: an established-patient visit and a lumbar facet injection (a 10-day global period)
    by Dr. Lee on the same day, no 25 on the visit.

        claim_id | patient_id | date_of_service | rendering_provider | cpt   | modifiers
        ---------+------------+-----------------+--------------------+-------+----------
        C2001    | P100       | 2024-03-04      | Dr. Lee            | 99213 |
        C2001    | P100       | 2024-03-04      | Dr. Lee            | 64493 | RT

    Result: 1 high finding, on the 99213 line.

    Not flagged: the note documents a separate evaluation, and the visit carries 25; a week
    later a visit beside a stimulator paddle placement (90-day global) is not a modifier 25 case.

        claim_id | patient_id | date_of_service | rendering_provider | cpt   | modifiers
        ---------+------------+-----------------+--------------------+-------+----------
        C2001    | P100       | 2024-03-04      | Dr. Lee            | 99213 | 25
        C2001    | P100       | 2024-03-04      | Dr. Lee            | 64493 | RT
        C2002    | P100       | 2024-03-11      | Dr. Lee            | 99214 | 57
        C2002    | P100       | 2024-03-11      | Dr. Lee            | 63655 |
    """

    id = "modifier-25-missing"
    title = "Office visit with a same-day minor procedure but no modifier 25"
    severities = ("high",)
    columns = ("cpt", "modifiers", "date_of_service", "rendering_provider")
    optional_columns = ("patient_id", "claim_id", "status", "paid", "charge")

    def run(self, lines: pd.DataFrame, settings: SimpleNamespace, context: Context) -> pd.DataFrame:
        view = coding_view(lines, context)
        visits = view.is_em & view.billed
        if not visits.any():
            raise NothingToAudit("no office visit (E/M) lines in the data")
        same_physician_day = view.session_provider
        minor = (modifier_25_of_lines(view) == "required") & view.billed
        flagged = visits & ~view.has("25", "57") & group_any(same_physician_day, minor)
        pos = np.flatnonzero(flagged)
        if not len(pos):
            return empty_findings()
        keys = same_physician_day[pos]
        done = view.listing_text(same_physician_day, minor, keys)
        message = view.message(pos, TAIL)
        # The basis takes one of four values: a category (a byte per finding), not text.
        basis = view.basis_at(pos)
        evidence = Evidence({"procedures": done, "dollars_basis": basis})
        return view.findings(self, pos, severity="high", message=message, evidence=evidence)
