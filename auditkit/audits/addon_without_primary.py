"""Audit ``addon-without-primary``: an add-on code without its primary code."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from auditkit.engine.context import Context
from auditkit.engine.contract import Audit, NothingToAudit
from auditkit.engine.findings import Evidence
from auditkit.measures.coding import coding_view, member

_HEAD = " is an add-on, but the patient has no {primaries}"
#: The message's wordings after "<cpt> on claim <id> (<date>)" (message templates, see
#: :meth:`~auditkit.measures.coding.CodingView.message`): the primary is looked for that day, or
#: in the month (for add-ons with a monthly window).
TAILS: tuple[str, ...] = (_HEAD + " that day.", _HEAD + " in {addon_month}.")


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
    Each line of an add-on code with no line of one of its primary codes for the same patient and
    date of service, on any claim. The primaries come from ``addon_to`` in the reference procedure
    table, which may list several: 64480 -> 64479, 64484 -> 64483, 64491 and 64492 -> 64490,
    64494 and 64495 -> 64493 or 64490 (facet levels T12-L1 and L1-L2 together count as one
    lumbar region: 64490 for T12-L1, 64494 for L1-L2, per the NGS facet billing article), 64634 ->
    64633, 64636 -> 64635, 64421 -> 64420 (each extra intercostal level), 64462 -> 64461 (further
    thoracic paravertebral sites), 0229T -> 0228T, 0231T -> 0230T. For add-ons whose
    ``addon_window`` is ``month`` (G3003 -> G3002) the primary is looked for in the same calendar
    month. An add-on billed once per level beside its primary (two 64494 lines, RT and LT, with
    one 64493) is not flagged. Voided lines are ignored, on either side. Without ``patient_id``
    only the add-on's own claim is searched. Severity high. Dollars at risk: the add-on line's
    paid amount when paid, else its expected payment, else its charge.

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

    Not flagged: both levels on the day of the session; two weeks later a session at T12-L1
    (64490) and L1-L2 (64494), one lumbar region.

        claim_id | patient_id | date_of_service | cpt   | modifiers
        ---------+------------+-----------------+-------+----------
        C9001    | P900       | 2024-03-04      | 64493 | RT
        C9001    | P900       | 2024-03-04      | 64494 | RT
        C9003    | P900       | 2024-03-18      | 64490 | RT
        C9003    | P900       | 2024-03-18      | 64494 | RT
    """

    id = "addon-without-primary"
    title = "Add-on code without its primary code"
    severities = ("high",)
    columns = ("cpt", "date_of_service")
    optional_columns = ("patient_id", "claim_id", "status", "paid", "charge")

    def run(self, lines: pd.DataFrame, settings: SimpleNamespace, context: Context) -> pd.DataFrame:
        view = coding_view(lines, context)
        # Worked out per distinct code, then spread over the lines.
        primaries_of_code = view.per_code(view.procedures["addon_to"], "")
        addon = np.asarray(primaries_of_code != "", dtype=bool)[view.code_ids] & view.billed
        if not addon.any():
            raise NothingToAudit("no add-on code lines in the data")
        by_month = view.procedure_is("addon_window", "month")
        pos = np.flatnonzero(addon)
        # candidates[code id, k]: the id in this data of the code's k-th primary code (-1: none,
        # or a primary that never occurs, so it cannot be present).
        index = {c: i for i, c in enumerate(view.code_values)}
        listed = [str(p).split(";") if p else [] for p in primaries_of_code]
        candidates = np.full((len(listed), max(map(len, listed))), -1, dtype=np.int64)
        for code_id, codes in enumerate(listed):  # per distinct code, not per line
            candidates[code_id, : len(codes)] = [index.get(c, -1) for c in codes]
        line_candidates = candidates[view.code_ids[pos]]
        monthly_lines = by_month[pos]
        # Only add-ons with a monthly window need the patient-month groups.
        window = view.session[pos]
        if monthly_lines.any():
            window = np.where(monthly_lines, view.patient_month[pos], window)
        # Is some (window, primary code) pair among the billed lines' (window, code) pairs?
        # Primary codes are numbered among themselves (a handful) to keep the pairs compact.
        primaries = np.unique(candidates[candidates >= 0])
        billed = view.billed & np.isin(view.code_ids, primaries)
        slot = np.full(len(view.code_values) + 1, len(primaries), dtype=np.int64)
        slot[primaries] = np.arange(len(primaries))
        width = len(primaries) + 1
        found = np.zeros(len(pos), dtype=bool)
        for monthly in (False, True):
            mine = monthly_lines == monthly
            if not mine.any():
                continue
            groups = view.patient_month if monthly else view.session
            present = groups[billed] * width + slot[view.code_ids[billed]]
            for k in range(candidates.shape[1]):
                wanted = window[mine] * width + slot[line_candidates[mine, k]]
                found[mine] |= member(wanted, present) & (line_candidates[mine, k] >= 0)
        pos = pos[~found]
        # The primaries' text per distinct code, spread over the lines (no text per line).
        needed_of_code = pd.Series(primaries_of_code, dtype="string").str.replace(
            ";", " or ", regex=False
        )
        needed = pd.Series(needed_of_code.array.take(view.code_ids[pos]))
        monthly = by_month[pos]
        # The month in question ("YYYY-MM"), worked out per distinct month.
        month_ids, months = pd.factorize(view.month[pos])
        month_text = np.where(
            months >= 0, np.datetime_as_string(months.astype("datetime64[M]"), unit="M"), ""
        )
        month_text = np.where(months >= 0, month_text, "no date")
        message = view.message(
            pos,
            pd.Categorical.from_codes(monthly.astype(np.int8), TAILS),
            addon_month=pd.Categorical.from_codes(month_ids, month_text),
        )
        evidence = Evidence({"primaries": needed})
        return view.findings(self, pos, severity="high", message=message, evidence=evidence)
