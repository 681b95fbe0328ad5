"""Audit ``modifier-25-unsupported``: modifier 25 on a visit with nothing to stand beside."""

from __future__ import annotations

import re
from types import SimpleNamespace

import numpy as np
import pandas as pd

from auditkit.engine.context import Context
from auditkit.engine.contract import Audit, NothingToAudit
from auditkit.engine.findings import Evidence
from auditkit.engine.result import empty_findings
from auditkit.measures.coding import coding_view, group_any, modifier_25_of_lines

#: A CPT code (five digits, or four digits and a letter for Category II/III and PLA codes), as
#: opposed to a HCPCS Level II code (a letter, then four digits: drugs, supplies, G-codes).
CPT_SHAPE = re.compile(r"\d{5}|\d{4}[A-Z]")

_HEAD = (
    " has modifier 25, but the patient has no procedure or other service that day for the visit "
    "to be separate from"
)
#: The message's wordings after "<cpt> on claim <id> (<date>)" (message templates, see
#: :meth:`~auditkit.measures.coding.CodingView.message`): with the patient's other lines that
#: day (the evidence's ``billed_that_day``), or with none.
TAILS: tuple[str, ...] = (
    _HEAD + "; the patient's other lines that day ({billed_that_day}) are not services 25 can "
    "stand beside.",
    _HEAD + ".",
)


class Modifier25Unsupported(Audit):
    """Modifier 25 on an office visit when the patient has no procedure that day.

    Why it matters
    --------------
    Modifier 25 tells the payer that a visit was separate from a procedure or other service done
    the same day. On a visit with nothing beside it, it has nothing to be separate from: payers
    read it as a coding error or a sign of template-driven modifiers, deny or hold the line, and
    a pattern of it draws a review of every visit billed with 25.

    What is flagged
    ---------------
    Each office visit line (E/M, 99202-99215 in the reference data) carrying 25 when the same
    patient has, on that date of service (on any claim, by any physician), no code that 25 can
    stand beside. A code supports 25 when its ``modifier_25`` in the reference procedure table is
    ``required`` (a 0- or 10-day global procedure and its add-ons) or ``allowed``: a major
    (090) procedure, where a separate visit for another problem takes 25 (CMS Claims Processing
    Manual ch. 12 §30.6.6 B), and services outside the global surgery rules (XXX) that have
    their own pre- and post-service work, such as a therapeutic injection (96372) or a
    neurostimulator analysis or programming (95970-95972): NCCI Policy Manual ch. I §D and
    ch. XI report a separate visit beside them with 25. Imaging guidance, chronic pain
    management (G3002/G3003) and other visits do not support it. A CPT code the table does not
    list is given the benefit of the doubt (its global period is unknown: add it to your
    procedures file to have it judged); an unlisted HCPCS Level II code (a drug, a supply, a
    G-code) does not support 25. Voided lines are ignored. Without ``patient_id`` only lines of
    the same claim are compared, so a procedure billed on another claim is not seen. Severity
    medium. Dollars at risk: the visit line's paid amount when paid, else its expected payment,
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

    Not flagged: the March 4 visit without 25; 25 stays on a visit billed the day of the epidural
    and on a visit beside a therapeutic injection (96372) a week later.

        claim_id | patient_id | date_of_service | cpt   | modifiers
        ---------+------------+-----------------+-------+----------
        C3001    | P200       | 2024-03-04      | 99214 |
        C3002    | P200       | 2024-03-11      | 99213 | 25
        C3002    | P200       | 2024-03-11      | 64483 | LT
        C3003    | P200       | 2024-03-18      | 99213 | 25
        C3003    | P200       | 2024-03-18      | 96372 |
    """

    id = "modifier-25-unsupported"
    title = "Modifier 25 on an office visit with no procedure or other service that day"
    severities = ("medium",)
    columns = ("cpt", "modifiers", "date_of_service")
    optional_columns = ("patient_id", "claim_id", "status", "paid", "charge")

    def run(self, lines: pd.DataFrame, settings: SimpleNamespace, context: Context) -> pd.DataFrame:
        view = coding_view(lines, context)
        visits = view.is_em & view.billed & view.has("25")
        if not visits.any():
            raise NothingToAudit("no office visit (E/M) line carries modifier 25")
        modifier_25 = modifier_25_of_lines(view)
        supports = np.isin(modifier_25, ["required", "allowed"])
        # A CPT code missing from the table: its global period is unknown, so it is not held
        # against the visit (worked out once per distinct code).
        cpt_shaped = np.array(
            [bool(CPT_SHAPE.fullmatch(c)) for c in view.code_values] + [False], dtype=bool
        )
        unknown = (modifier_25 == "") & cpt_shaped[view.code_ids] & ~view.is_em
        others = view.billed & ~view.is_em
        pos = np.flatnonzero(visits & ~group_any(view.session, others & (supports | unknown)))
        if not len(pos):
            return empty_findings()
        billed_that_day = view.listing_text(view.session, others, view.session[pos])
        alone = billed_that_day.eq("").to_numpy(dtype=bool)
        message = view.message(pos, pd.Categorical.from_codes(alone.astype(np.int8), TAILS))
        evidence = Evidence({"billed_that_day": billed_that_day})
        return view.findings(self, pos, severity="medium", message=message, evidence=evidence)
