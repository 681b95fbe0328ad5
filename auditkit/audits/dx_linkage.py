"""Audit ``dx-linkage``: epidural and facet lines whose diagnoses do not support them."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from auditkit.claims import LIST_SEP
from auditkit.engine.context import Context
from auditkit.engine.contract import Audit, NothingToAudit
from auditkit.measures.coding import coding_view, concat, factorize_text


def _plain(code: str) -> str:
    """A diagnosis code compared without its dot and in upper case."""
    return code.replace(".", "").strip().upper()


class DxLinkage(Audit):
    """Epidural or facet procedure whose diagnoses do not support it.

    Why it matters
    --------------
    Medicare's coverage rules (LCDs) and most payers pay an epidural only for radicular pain,
    stenosis, post-laminectomy syndrome or zoster, and a facet procedure only for facet
    spondylosis. Axial back pain alone (M54.50, M54.59) or an unspecified code (M54.9) does not
    support either, and M54.5 is no longer a valid code: such lines are denied for medical
    necessity (CARC 50, 11, 167), and when paid they are the first thing a post-payment review
    takes back.

    What is flagged
    ---------------
    Lines of the procedure families listed in the ``dx_groups`` reference file (epidural:
    62320-62327, 64479-64484, 0228T-0231T; facet: 64490-64495, 64633-64636), reading the
    line's own diagnoses:

    - only axial or nonspecific codes (``axial`` and ``invalid`` rows of the file: M54.50, M54.59,
      M54.9, M54.5): high;
    - no code of the family's ``supporting`` groups (epidural: M54.1x, M50.1x, M51.1x, M47.2x,
      M48.0x, M96.1, B02.2x; facet: M47.81x), or no diagnosis at all: medium;
    - a supporting code together with a code that is invalid on the date of service (M54.5 from
      2021-10-01): medium (the claim is rejected until the code is replaced).

    The diagnosis groups are unverified (confidence V: the LCD article tables were not
    retrieved); replace them with your payers' lists through ``[reference] dx_groups`` in the
    config. Voided lines are ignored. Dollars at risk: the line's paid amount when paid, else its
    charge.

    How to fix
    ----------
    Code the diagnosis the note documents to the highest specificity: radiculopathy, stenosis or
    disc disorder with radiculopathy for epidurals, facet spondylosis (M47.81x) for facet
    procedures. If the note only documents axial pain, the procedure does not meet the coverage
    rule: hold the claim, or obtain an ABN before the next one for Medicare patients. Replace
    M54.5 with M54.50, M54.51 or M54.59.

    Columns needed
    --------------
    Required: cpt, diagnosis_codes. Optional: date_of_service (invalid-from dates), claim_id,
    status (voided lines left out), paid and charge (dollars).

    Example
    -------
    Flagged: a lumbar interlaminar epidural with only low back pain coded, and a lumbar facet
    injection with only a radiculopathy code.

        claim_id | date_of_service | cpt   | modifiers | diagnosis_codes
        ---------+-----------------+-------+-----------+----------------
        C6001    | 2024-03-04      | 62323 |           | M54.50
        C6002    | 2024-03-05      | 64493 | RT        | M54.16

    Result: 1 high and 1 medium finding: high on the epidural (axial pain only), medium on the
    facet line (no facet spondylosis code).

    Not flagged: the diagnoses the notes document: lumbar radiculopathy and a lumbar disc disorder
    with radiculopathy for the epidural, lumbar facet spondylosis for the facet injection.

        claim_id | date_of_service | cpt   | modifiers | diagnosis_codes
        ---------+-----------------+-------+-----------+----------------
        C6001    | 2024-03-04      | 62323 |           | M54.16, M51.16
        C6002    | 2024-03-05      | 64493 | RT        | M47.816
    """

    id = "dx-linkage"
    title = "Epidural and facet lines without a supporting diagnosis"
    severities = ("high", "medium")
    columns = ("cpt", "diagnosis_codes")
    optional_columns = ("date_of_service", "claim_id", "status", "paid", "charge")

    def run(self, lines: pd.DataFrame, settings: SimpleNamespace, context: Context) -> pd.DataFrame:
        view = coding_view(lines, context)
        groups = context.reference.coding("dx_groups")
        families = list(dict.fromkeys(groups["family"]))
        checked = view.in_family(*families) & view.billed
        if not checked.any():
            raise NothingToAudit(f"no {' or '.join(families)} lines in the data")
        dx_ids, dx_values = factorize_text(
            None, normalise=True, factorized=view.factorized("diagnosis_codes")
        )
        parts = []
        for family in families:  # the families of the file (two in the packaged one)
            mask = checked & view.in_family(family)
            if mask.any():
                table = groups[groups["family"] == family]
                parts.append(self._family(view, mask, family, table, dx_ids, dx_values))
        return concat(parts)

    def _family(self, view, mask, family, table, dx_ids, dx_values) -> pd.DataFrame:
        kinds = {
            kind: [
                (_plain(c), m, d)
                for c, m, d in table.loc[
                    table["kind"] == kind, ["code", "match", "from_date"]
                ].itertuples(index=False, name=None)
            ]
            for kind in ("supporting", "axial", "invalid")
        }

        def hits(code: str, kind: str) -> list[tuple[str, str, str]]:
            return [
                r
                for r in kinds[kind]
                if (code.startswith(r[0]) if r[1] == "prefix" else code == r[0])
            ]

        # Classify each distinct diagnosis list once (hundreds of lists, not millions of lines).
        rows = []
        for value in dx_values:
            codes = [_plain(c) for c in str(value).split(LIST_SEP) if c.strip()]
            invalid = [(c, r[2]) for c in codes for r in hits(c, "invalid")]
            rows.append(
                (
                    bool(codes) and all(hits(c, "axial") or hits(c, "invalid") for c in codes),
                    any(hits(c, "supporting") for c in codes),
                    min((d for _, d in invalid if d), default="") if invalid else None,
                )
            )
        rows.append((False, False, None))  # blank diagnosis list (id -1)
        axial_only = np.array([r[0] for r in rows])[dx_ids]
        supported = np.array([r[1] for r in rows])[dx_ids]
        blank = dx_ids < 0
        # Invalid-from dates per distinct list (parsed once each), then compared per line.
        invalid_from = np.array([r[2] for r in rows], dtype=object)
        has_invalid_list = np.array([r is not None for r in invalid_from], dtype=bool)
        dated_list = has_invalid_list & np.array([r not in (None, "") for r in invalid_from])
        start = np.zeros(len(rows), dtype=np.int64)
        if dated_list.any():
            days = pd.to_datetime(pd.Series(invalid_from[dated_list])).to_numpy("datetime64[D]")
            start[dated_list] = days.astype(np.int64)
        has_invalid = has_invalid_list[dx_ids]
        dated = dated_list[dx_ids]
        invalid_now = has_invalid & (~dated | (view.day >= start[dx_ids]))

        shown = table.loc[table["kind"] == "supporting", ["code", "match"]]
        supporting = ", ".join(
            c + ("x" if m == "prefix" else "") for c, m in shown.itertuples(index=False, name=None)
        )
        article = "an" if family[:1] in "aeiou" else "a"

        def text(pos: np.ndarray) -> pd.Series:
            dx = view.lines["diagnosis_codes"].iloc[pos].astype("string").fillna("")
            return dx.str.replace(LIST_SEP, ", ", regex=False).reset_index(drop=True)

        needs = f"{article} {family} procedure needs one of: {supporting}."
        return view.rule_findings(
            self,
            [
                (
                    mask & axial_only,
                    "high",
                    lambda pos: (
                        " has only axial or nonspecific diagnoses (" + text(pos) + "); " + needs
                    ),
                    None,
                ),
                (
                    mask & ~axial_only & ~supported & ~blank,
                    "medium",
                    lambda pos: " has no diagnosis that supports it (" + text(pos) + "); " + needs,
                    None,
                ),
                (mask & blank, "medium", " has no diagnosis code; " + needs, None),
                (
                    mask & supported & invalid_now,
                    "medium",
                    lambda pos: (
                        " lists a diagnosis code that is not valid on the date of "
                        "service (" + text(pos) + "); the claim is rejected until it is replaced."
                    ),
                    "Replace the invalid code (M54.5 became M54.50, M54.51 or M54.59) and "
                    "resubmit.",
                ),
            ],
        )
