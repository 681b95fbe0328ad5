"""Audit ``laterality-missing``: a side-specific code without RT, LT or 50."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from auditkit.engine.context import Context
from auditkit.engine.contract import Audit, NothingToAudit
from auditkit.measures.coding import SIDE_MODIFIERS, choose, coding_view, literal

#: Documented side -> the modifier to add, and how the side reads in a message.
SIDE_FIX: dict[str, str] = {"right": "RT", "left": "LT", "bilateral": "50 (or RT and LT lines)"}
SIDE_WORDS: dict[str, str] = {
    "right": "the right side",
    "left": "the left side",
    "bilateral": "both sides",
}


class LateralityMissing(Audit):
    """Side-specific procedure code billed without RT, LT or 50.

    Why it matters
    --------------
    Joint injections, transforaminal epidurals, facet injections and ablations, and occipital
    nerve blocks are done on one side or both. Payers need RT, LT or 50 on these codes to price the
    line and to tell a second side from a duplicate: without one the line is denied (CARC 4,
    "modifier missing") and must be corrected and sent again, which delays the payment by weeks.

    What is flagged
    ---------------
    Each line whose code is side-specific (``side_specific = yes`` in the reference procedure
    table: 20610, 20611, 64405, 64450, 64479-64484, 0228T-0231T, 64490-64495, 64633-64636) and
    carries none of RT, LT or 50. Add-on levels (64480, 64484, 64491, 64492, 64494, 64495, 64634,
    64636) are priced line by line like their primaries, so each add-on line needs its own side
    too, even when the primary line has one. Voided lines are ignored. Where the export has
    ``laterality`` (the documented side), the message and the fix name the modifier to add.
    Severity high. Dollars at risk: the line's paid amount when paid (a payer can take it back),
    else its expected payment (fee schedule, else the practice's mean paid for the code at the
    payer), else its charge.

    How to fix
    ----------
    Add the side from the procedure note (RT, LT, or 50 or two lines RT and LT for both sides, as
    the payer wants) and send a corrected claim. Make the side a required field in charge entry
    for these codes, or add a scrubber edit.

    Columns needed
    --------------
    Required: cpt, modifiers. Optional: laterality (names the side to add), claim_id,
    date_of_service, status (voided lines left out), paid and charge (dollars).

    Example
    -------
    Flagged: a visit and a right lumbar facet injection on one claim; the injection line has no
    side modifier.

        claim_id | date_of_service | cpt   | modifiers | laterality
        ---------+-----------------+-------+-----------+-----------
        C1001    | 2024-03-04      | 99213 | 25        |
        C1001    | 2024-03-04      | 64493 |           | right

    Result: 1 high finding, on the 64493 line; the message names RT, the side the note documents.

    Not flagged: the injection line with RT.

        claim_id | date_of_service | cpt   | modifiers | laterality
        ---------+-----------------+-------+-----------+-----------
        C1001    | 2024-03-04      | 99213 | 25        |
        C1001    | 2024-03-04      | 64493 | RT        | right
    """

    id = "laterality-missing"
    title = "Side-specific code without RT, LT or 50"
    severities = ("high",)
    columns = ("cpt", "modifiers")
    optional_columns = ("laterality", "claim_id", "date_of_service", "status", "paid", "charge")

    def run(self, lines: pd.DataFrame, settings: SimpleNamespace, context: Context) -> pd.DataFrame:
        view = coding_view(lines, context)
        sided = view.procedure_is("side_specific", "yes") & view.billed
        if not sided.any():
            raise NothingToAudit("no side-specific procedure codes in the data")
        pos = np.flatnonzero(sided & ~view.has(*SIDE_MODIFIERS))
        # The documented side of each flagged line, read once per distinct laterality value.
        side = np.full(len(pos), -1, dtype=np.int64)
        sides: list[str] = []
        if "laterality" in lines.columns:
            codes, uniques = view.factorized("laterality", keep=False)
            tidy = pd.Series(np.asarray(uniques, dtype=object), dtype=object)
            sides = tidy.astype("string").str.strip().str.lower().fillna("").tolist()
            side = codes[pos]

        def known(code: int) -> str | None:
            found = sides[code] if code >= 0 else None
            return found if found in SIDE_FIX else None

        def tail(code: int) -> str:
            found = known(code)
            said = f"; the note documents {SIDE_WORDS[found]}" if found else ""
            return literal(f" has none of RT, LT or 50{said}.")

        def fix(code: int) -> str:
            found = known(code)
            if not found:
                return self.fix()
            return (
                f"Add {SIDE_FIX[found]} (the side the note documents) and send a corrected "
                "claim; make the side a required field in charge entry for this code."
            )

        return view.findings(
            self,
            pos,
            severity="high",
            message=view.message(pos, choose(side, tail)),
            fix=choose(side, fix),
        )
