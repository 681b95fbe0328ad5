"""Audit ``tpi-once-per-session``: trigger-point injections reported more than once a session."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from auditkit.engine.context import TPI_CODES, Context
from auditkit.engine.contract import Audit, NothingToAudit
from auditkit.engine.findings import Evidence
from auditkit.engine.result import empty_findings
from auditkit.measures.coding import coding_view, excess_units, group_any

_TAIL = " ({session_lines}); report one code, once per session."
#: The message's wordings after "<cpt> on claim <id> (<date>)" (message templates, see
#: :meth:`~auditkit.measures.coding.CodingView.message`): the line is billed beside 20553, has
#: extra units itself, or repeats a code billed that day.
TAILS: tuple[str, ...] = (
    " is billed with 20553 for the same patient that day" + _TAIL,
    " has {tpi_line_units:g} units" + _TAIL,
    " repeats a trigger-point code already billed for the patient that day" + _TAIL,
)


class TpiOncePerSession(Audit):
    """Trigger-point injections reported more than once for one patient on one day.

    Why it matters
    --------------
    20552 (one or two muscles) and 20553 (three or more) are each reported once per session,
    whatever the number of injections: the muscle count decides the code, not the units. Both
    codes on one day, two lines of one code, or more than one unit are denied beyond the first
    unit, or paid and then recovered as an overpayment.

    What is flagged
    ---------------
    Per patient and date of service, across claims: the trigger-point units beyond the first one.
    When both codes were billed, 20553 is the one kept and the 20552 lines are flagged; otherwise
    the units after the first (a second line, or the extra units of a line) are. Voided and
    rejected lines are not counted (a rejected claim is usually sent again). Without
    ``patient_id`` only lines of the same claim are compared. Severity high. Dollars at risk:
    the flagged units' share of the line's paid amount when paid, else of its expected payment,
    else of its charge (the whole line when all its units are flagged).

    How to fix
    ----------
    Report one trigger-point code per session, with 1 unit: 20553 when three or more muscles were
    injected (the note names them), 20552 for one or two. Correct the claim and refund what was
    paid for the extra units.

    Columns needed
    --------------
    Required: cpt, date_of_service. Optional: patient_id (sessions across claims), units,
    claim_id, status (voided and rejected lines left out), paid and charge (dollars).

    Example
    -------
    Flagged: both trigger-point codes billed for one patient on one day (three muscles in the
    neck on one claim, two in the back on another).

        claim_id | patient_id | date_of_service | cpt   | units
        ---------+------------+-----------------+-------+------
        C1201    | P120       | 2024-03-04      | 20553 | 1
        C1202    | P120       | 2024-03-04      | 20552 | 1

    Result: 1 high finding, on the 20552 line.

    Not flagged: one 20553 line with 1 unit for the five muscles injected that day.

        claim_id | patient_id | date_of_service | cpt   | units
        ---------+------------+-----------------+-------+------
        C1201    | P120       | 2024-03-04      | 20553 | 1
    """

    id = "tpi-once-per-session"
    title = "Trigger-point injections reported more than once a session"
    severities = ("high",)
    columns = ("cpt", "date_of_service")
    optional_columns = ("patient_id", "units", "claim_id", "status", "paid", "charge")

    def run(self, lines: pd.DataFrame, settings: SimpleNamespace, context: Context) -> pd.DataFrame:
        view = coding_view(lines, context)
        tpi = view.code_in(TPI_CODES) & view.counted
        if not tpi.any():
            raise NothingToAudit("no 20552 or 20553 lines in the data")
        pos = np.flatnonzero(tpi)
        session = view.session[pos]
        is_53 = view.code_in(["20553"])[pos]
        both = group_any(session, is_53) & group_any(session, ~is_53)
        # Keep 20553 first within a session, then the rows in order; count units as they come.
        frame = pd.DataFrame({"session": session, "rank": ~is_53, "units": view.units[pos]})
        order = frame.sort_values(["session", "rank"], kind="stable").index.to_numpy()
        units = frame["units"].to_numpy()[order]
        excess, share, _ = excess_units(session[order], units, 1.0)
        over = excess > 0
        flagged = pos[order][over]
        if not len(flagged):
            return empty_findings()
        both_codes = both[order][over]
        # The session's lines as text, one per flagged line (Arrow text, not Python objects).
        claims = view.listing_text(view.session, tpi, view.session[flagged], codes=True)
        first_on_line = excess[over] < units[over]  # the line holds the kept unit too
        wording = np.select([both_codes, first_on_line], [0, 1], 2)
        message = view.message(
            flagged, pd.Categorical.from_codes(wording, TAILS), tpi_line_units=units[over]
        )
        evidence = Evidence(
            {
                "session_lines": claims,
                "excess_units": excess[over],
                "both_codes": pd.array(both_codes, dtype="boolean"),
            }
        )
        return view.findings(
            self,
            flagged,
            severity="high",
            message=message,
            dollars=view.dollars[flagged] * share[over],
            evidence=evidence,
        )
