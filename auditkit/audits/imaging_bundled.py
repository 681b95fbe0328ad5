"""Audit ``imaging-bundled``: imaging guidance billed with a code that includes it."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from auditkit.engine.context import Context
from auditkit.engine.contract import Audit, NothingToAudit
from auditkit.engine.findings import Evidence
from auditkit.measures.coding import SEVERITY_BY_CONFIDENCE, coding_view, literal

#: What each kind of guidance is, for messages.
GUIDANCE: dict[str, str] = {
    "77002": "fluoroscopic guidance",
    "77003": "fluoroscopic guidance",
    "77012": "CT guidance",
    "76942": "ultrasound guidance",
    "72275": "epidurography",
}


class ImagingBundled(Audit):
    """Imaging guidance billed with a procedure that includes it, or instead of the right code.

    Why it matters
    --------------
    Many pain procedure codes include their imaging guidance: epidurals with imaging (62321,
    62323, 62325, 62327, 64479-64484), facet injections and ablations (64490-64495,
    64633-64636), the sacroiliac joint injection and its nerve block and ablation (27096, 64451,
    64625), genicular nerve blocks and ablations (64454, 64624), paravertebral and TAP blocks
    (64461-64463, 64486-64489) and the ultrasound-guided joint injections (20604, 20606, 20611).
    A separate fluoroscopy (77002, 77003), CT (77012), ultrasound (76942) or epidurography
    (72275) line is denied as bundled (CARC 97) or, once paid, taken back. Ultrasound is not
    billed with the spinal codes defined with fluoroscopy or CT at all. Some pairs mean the wrong
    primary code: 20610 with 76942 should be 20611 (20600 and 20605: 20604 and 20606), and 62320
    or 62322 with fluoroscopy or epidurography should be 62321 or 62323, which pay more than the
    pair.

    What is flagged
    ---------------
    Each imaging line (the ``imaging`` codes of the ``imaging_bundles`` reference file) billed
    for the same patient, date of service and rendering physician as a code in one of its ranges:
    ``included`` (the guidance is part of the procedure), ``not_billable`` (that guidance is not
    billed with it) or ``wrong_pair`` (bill ``use_instead``). Imaging beside a code that does not
    include it (ultrasound with an occipital or other peripheral nerve block, fluoroscopy with a
    joint injection coded 20610 or a sympathetic block) is billed separately and not flagged.
    Severity follows the rule's confidence: high for confirmed or secondary-source rows, medium
    for unverified ones (epidurography or CT beside a code without imaging, the catheter
    epidural pairs); each finding's evidence names the row's source. Edit the file through
    ``[reference] imaging_bundles`` if your payers differ. ``ncci-ptp`` leaves the PTP edits
    between these imaging codes and the codes of their ranges to this audit, so a line is
    reported once. Voided lines are ignored. Dollars at
    risk: the imaging line's paid amount when paid (what a review takes back), else its expected
    payment (fee schedule, or the practice's usual payment for the code), else its charge.

    How to fix
    ----------
    Remove the imaging line from claims where the procedure includes it, and refund any payment
    for it. For a wrong pair, replace both lines with the combined code (20604, 20606, 20611,
    62321, 62323) and send a corrected claim. Add the pairs to the claim scrubber.

    Columns needed
    --------------
    Required: cpt, date_of_service. Optional: patient_id (lines across claims),
    rendering_provider, claim_id, status (voided lines left out), paid and charge (dollars).

    Example
    -------
    Flagged: fluoroscopy billed beside a lumbar epidural whose code includes it, a knee
    injection with ultrasound billed as 20610 plus 76942, and an epidurogram billed beside a
    transforaminal epidural.

        claim_id | patient_id | date_of_service | cpt   | modifiers
        ---------+------------+-----------------+-------+----------
        C8001    | P800       | 2024-03-04      | 62323 |
        C8001    | P800       | 2024-03-04      | 77003 |
        C8002    | P801       | 2024-03-05      | 20610 | RT
        C8002    | P801       | 2024-03-05      | 76942 |
        C8004    | P803       | 2024-03-07      | 64483 | LT
        C8004    | P803       | 2024-03-07      | 72275 |

    Result: 3 high findings, on the 77003, 76942 and 72275 lines.

    Not flagged: the epidurals alone, the knee injection as 20611, and imaging beside codes that
    do not include it: fluoroscopy with a lumbar sympathetic block, ultrasound with an occipital
    nerve block.

        claim_id | patient_id | date_of_service | cpt   | modifiers
        ---------+------------+-----------------+-------+----------
        C8001    | P800       | 2024-03-04      | 62323 |
        C8002    | P801       | 2024-03-05      | 20611 | RT
        C8003    | P802       | 2024-03-06      | 64520 | LT
        C8003    | P802       | 2024-03-06      | 77003 |
        C8004    | P803       | 2024-03-07      | 64483 | LT
        C8005    | P804       | 2024-03-08      | 64405 | RT
        C8005    | P804       | 2024-03-08      | 76942 |
    """

    id = "imaging-bundled"
    title = "Imaging guidance billed with a code that includes it"
    severities = ("high", "medium")
    columns = ("cpt", "date_of_service")
    optional_columns = ("patient_id", "rendering_provider", "claim_id", "status", "paid", "charge")

    def run(self, lines: pd.DataFrame, settings: SimpleNamespace, context: Context) -> pd.DataFrame:
        view = coding_view(lines, context)
        rules = context.reference.coding("imaging_bundles")
        imaging = view.code_in(rules["imaging"]) & view.billed
        if not imaging.any():
            raise NothingToAudit("no imaging guidance lines in the data")
        same_day = view.session_provider
        rule_of = np.full(view.n, -1, dtype=np.int64)
        # One pass per rule row (a few dozen); the first row that matches a line explains it.
        # Only the imaging lines are looked up: whether their same-day group holds a primary.
        at = np.flatnonzero(imaging)
        day_at = same_day[at]
        code_at = view.code_ids[at]
        code_index = {c: i for i, c in enumerate(view.code_values)}
        with_primary = np.zeros(int(same_day.max()) + 1 if view.n else 0, dtype=bool)
        for i, row in enumerate(rules.itertuples(index=False)):
            if row.imaging not in code_index:  # that guidance is not billed in this data
                continue
            primary_code = np.append(view.code_between(row.first_code, row.last_code), False)
            if not primary_code.any():
                continue
            primary = primary_code[view.code_ids] & view.billed
            if not primary.any():
                continue
            hit = (code_at == code_index[row.imaging]) & (rule_of[at] < 0)
            with_primary[:] = False
            with_primary[same_day[primary]] = True
            hit &= with_primary[day_at]
            rule_of[at[hit]] = i
        pos = np.flatnonzero(rule_of >= 0)
        if not len(pos):
            return view.findings(self, pos, severity="high", message=[])
        # Everything but the partner lines depends on the rule row alone: worked out once per
        # matched row (a few dozen at most), then spread over the findings by the row's number.
        used, at_row = np.unique(rule_of[pos], return_inverse=True)
        matched = rules.iloc[used].reset_index(drop=True)
        pieces = []
        for k, i in enumerate(used):  # one listing per matched rule row
            row = rules.iloc[i]
            primary = np.append(view.code_between(row["first_code"], row["last_code"]), False)
            mine = np.flatnonzero(at_row == k)
            listed = view.listing_text(
                same_day, primary[view.code_ids] & view.billed, same_day[pos[mine]]
            )
            pieces.append(listed.set_axis(mine))
        partners = pd.concat(pieces).sort_index().reset_index(drop=True)
        # The first partner's code: the text before the first " on claim ".
        first_partner = partners.str.replace(" on claim .*", "", regex=True)
        tails = [_tail(row) for row in matched.itertuples(index=False)]
        tail_ids, tail_texts = pd.factorize(pd.Series(tails, dtype=object))
        message = view.message(
            pos,
            pd.Categorical.from_codes(tail_ids[at_row], tail_texts),
            img_with=partners,
            img_first=first_partner,
        )
        rule = matched["rule"]
        fix = np.where(
            rule.eq("wrong_pair"),
            "Replace the pair with " + matched["use_instead"] + " and send a corrected claim.",
            "Remove the imaging line (refund it if paid); the procedure code covers it.",
        )
        use_instead = matched["use_instead"].where(matched["use_instead"].ne(""), None)
        evidence = Evidence(
            {
                "rule": _per_finding(rule, at_row),
                "with": partners,
                "use_instead": _per_finding(use_instead, at_row),
                "source": _per_finding(matched["source"], at_row),
                "confidence": _per_finding(matched["confidence"], at_row),
            }
        )
        severity = matched["confidence"].map(SEVERITY_BY_CONFIDENCE).fillna("medium")
        return view.findings(
            self,
            pos,
            severity=_per_finding(severity, at_row),
            message=message,
            evidence=evidence,
            fix=_per_finding(fix, at_row),
        )


def _per_finding(values: Any, at_row: np.ndarray) -> pd.Categorical:
    """A value per matched rule row, spread over the findings (``at_row``: each finding's row)."""
    return pd.Categorical(np.asarray(values, dtype=object)).take(at_row)


def _tail(row: Any) -> str:
    """The message after "<cpt> on claim <id> (<date>) is billed with <lines>" for one rule row
    (a message template: ``img_first`` is the first partner's code)."""
    guidance = literal(GUIDANCE.get(row.imaging, "imaging guidance"))
    if row.rule == "included":
        tail = ": " + guidance + " is included in {img_first} and not paid separately."
    elif row.rule == "not_billable":
        tail = ": " + guidance + " is not billed with {img_first}."
    else:
        tail = (
            ": bill "
            + literal(row.use_instead)
            + " instead of {img_first} plus "
            + literal(row.imaging)
            + "."
        )
    if row.rule == "not_billable" and row.use_instead != "":
        tail += " Ultrasound-guided procedures are coded " + literal(row.use_instead) + "."
    return " is billed with {img_with}" + tail
