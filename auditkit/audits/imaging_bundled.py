"""Audit ``imaging-bundled``: imaging guidance billed with a code that includes it."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from auditkit.engine.context import Context
from auditkit.engine.contract import Audit, NothingToAudit
from auditkit.measures.coding import SEVERITY_BY_CONFIDENCE, coding_view

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
        matched = rules.iloc[rule_of[pos]].reset_index(drop=True)
        partners = np.empty(len(pos), dtype=object)
        for i in np.unique(rule_of[pos]):  # one listing per matched rule row
            row = rules.iloc[i]
            primary = np.append(view.code_between(row["first_code"], row["last_code"]), False)
            mine = rule_of[pos] == i
            partners[mine] = view.listing(
                same_day, primary[view.code_ids] & view.billed, same_day[pos[mine]]
            )
        partners = pd.Series(partners, dtype="string")
        guidance = matched["imaging"].map(GUIDANCE).fillna("imaging guidance")
        rule = matched["rule"]
        first_partner = partners.str.split(" on claim ").str[0]
        tail = pd.Series(
            np.select(
                [rule.eq("included"), rule.eq("not_billable")],
                [
                    ": " + guidance + " is included in " + first_partner + " and not paid "
                    "separately.",
                    ": " + guidance + " is not billed with " + first_partner + ".",
                ],
                default=": bill "
                + matched["use_instead"]
                + " instead of "
                + first_partner
                + " plus "
                + matched["imaging"]
                + ".",
            ),
            dtype="string",
        )
        extra = matched["use_instead"].where(
            rule.eq("not_billable") & matched["use_instead"].ne(""), ""
        )
        tail = tail + pd.Series(
            np.where(extra.ne(""), " Ultrasound-guided procedures are coded " + extra + ".", ""),
            dtype="string",
        )
        message = view.where(pos) + " is billed with " + partners + tail
        fix = pd.Series(
            np.where(
                rule.eq("wrong_pair"),
                "Replace the pair with " + matched["use_instead"] + " and send a corrected claim.",
                "Remove the imaging line (refund it if paid); the procedure code covers it.",
            )
        )
        evidence = [
            {
                "rule": r.rule,
                "with": p,
                "use_instead": r.use_instead or None,
                "source": r.source,
                "confidence": r.confidence,
            }
            for r, p in zip(matched.itertuples(index=False), partners, strict=True)
        ]
        severity = matched["confidence"].map(SEVERITY_BY_CONFIDENCE).fillna("medium")
        return view.findings(
            self,
            pos,
            severity=severity.to_numpy(),
            message=message,
            evidence=evidence,
            fix=fix.to_numpy(),
        )
