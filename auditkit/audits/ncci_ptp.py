"""Audit ``ncci-ptp``: two codes of a CMS procedure-to-procedure edit billed the same day."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from auditkit.engine.context import Context
from auditkit.engine.contract import Audit, NothingToAudit
from auditkit.engine.findings import Evidence
from auditkit.measures.code_pairs import (
    PTP_MODIFIERS,
    code_pair_edits,
    different_sites,
    imaging_bundle_pairs,
    pair_hits,
)
from auditkit.measures.coding import coding_view, literal, where_template

#: Severity by modifier indicator (0, 1); an edit of the packaged default graded V is low.
SEVERITY_BY_INDICATOR: tuple[str, ...] = ("high", "medium")
SEVERITY_ORDER: dict[str, int] = {"high": 0, "medium": 1, "low": 2}


class NcciPtp(Audit):
    """Two codes of an NCCI procedure-to-procedure edit billed for one patient, day and provider.

    Why it matters
    --------------
    CMS's National Correct Coding Initiative publishes, every quarter, the pairs of codes that
    are not paid together when one provider bills them for one patient on one date of service
    (the PTP edits): the column 2 code is part of the column 1 code, or the two are mutually
    exclusive. Medicare and most commercial payers run them: the column 2 line is denied
    (CARC 97, or 236 for a modifier problem), or, once paid, taken back on review. An edit's
    modifier indicator says whether anything can bypass it: ``0``, nothing (the line is
    never paid beside the column 1 code); ``1``, an NCCI-associated modifier that shows the
    two services were separate may, when the medical record supports it (59, or the more
    precise XE separate encounter, XS separate structure, XP separate practitioner, XU unusual
    non-overlapping service; anatomic modifiers of different sites such as RT and LT; 25 on a
    visit and the other global surgery modifiers); ``9``, the edit was deleted back to its first
    day and never applies.

    What is flagged
    ---------------
    The edits are the run's PTP table: CMS's practitioner PTP files from ``[reference] ptp``
    or ``--ptp`` (authoritative), else auditkit's packaged pain-procedure subset
    (``ncci_ptp_default.csv``, mostly unverified against CMS's files; the About sheet says
    which was used). An edit applies to two billed lines with its column 1 and column 2 codes
    for the same patient, date of service and rendering provider, on one claim or on several;
    without a ``patient_id`` column (or on a line whose patient id is blank) the claim stands
    in for the patient, so only lines of one claim are paired. Without a rendering provider
    the lines count as one provider's. The edit must be in effect on the date of service
    (effective date <= date of service < deletion date; CMS's ``*`` is no deletion).

    - Modifier indicator 0: the column 2 line is flagged whatever its modifiers. High.
    - Modifier indicator 1: the column 2 line is flagged unless either line carries 59, XE, XS,
      XP or XU (or another NCCI-associated modifier: the global surgery modifiers 24, 25, 57,
      58, 78, 79, and 27, 91), or both lines carry anatomic modifiers of one kind that put them
      on different sites (RT and LT, 50 counting as both sides; eyelids E1-E4, fingers FA and
      F1-F9, toes TA and T1-T9, coronary arteries LC, LD, RC, LM, RI). Medium. Whether that 59
      or X modifier was justified, or sits on the right code, is ``modifier-59-misuse``'s
      question (and 25's, ``modifier-25-unsupported``'s).
    - Modifier indicator 9: never flagged.

    An edit of the packaged default graded V (unverified) makes a low finding whatever its
    indicator; edits from CMS's files, and packaged ones graded C or S, keep the severity above.
    One finding per column 2 line (the most severe of its edits; the evidence lists every
    column 1 line it is paired with). Imaging guidance billed with a code that includes it is
    left to ``imaging-bundled``, which explains those pairs in plain words: an edit between an
    imaging code of the ``imaging_bundles`` reference table and a code in one of its ranges is
    not reported here, so the same line is not reported twice. Voided and rejected lines are not
    billed lines and pair with nothing. Dollars at risk: the column 2 line's, as every coding
    rule values a line: its paid amount when the payer paid it (what a review takes back), else
    its expected payment (fee schedule, or the practice's usual payment for the code), else its
    charge.

    How to fix
    ----------
    Correct the code first: when the column 2 service was part of the column 1 service (or the
    wrong code was chosen), remove or replace the column 2 line and refund any payment for it.
    With modifier indicator 1, add 59 or the X modifier that fits (XS for another site, XE for
    another session the same day), or the anatomic modifiers of the two sites, to the column 2
    line only when the documentation shows a distinct site or session, and send a corrected
    claim. With modifier indicator 0 no modifier helps. Add the current CMS PTP files to
    ``auditkit.toml`` (``[reference] ptp``) so every edit is checked.

    Columns needed
    --------------
    Required: cpt, date_of_service. Optional: patient_id (lines across claims; without it the
    claim stands in for the patient), rendering_provider, claim_id, modifiers (bypass), status
    (voided and rejected lines left out), paid and charge (dollars).

    Example
    -------
    Flagged: with the packaged default edits, a cervical facet ablation and a lumbar
    transforaminal epidural add-on on the same side and day (an edit graded S), a trigger-point
    injection billed beside an occipital nerve block without 59 or an X modifier, and a lumbar
    transforaminal and an interlaminar epidural billed on two claims the same day by one
    physician (two edits graded V).

        claim_id | patient_id | date_of_service | rendering_provider | cpt   | modifiers
        ---------+------------+-----------------+--------------------+-------+----------
        C9001    | P900       | 2024-03-04      | Dr. Lee            | 64633 | RT
        C9001    | P900       | 2024-03-04      | Dr. Lee            | 64484 | RT
        C9002    | P901       | 2024-03-05      | Dr. Lee            | 64405 |
        C9002    | P901       | 2024-03-05      | Dr. Lee            | 20552 |
        C9003    | P902       | 2024-03-06      | Dr. Lee            | 64483 | LT
        C9004    | P902       | 2024-03-06      | Dr. Lee            | 62323 |

    Result: 1 medium and 2 low findings: medium on the 64484 line, low on the 20552 and 62323
    lines.

    Not flagged: the ablation alone, XS on the trigger-point injection given at a separate site,
    the interlaminar epidural done by another physician, and fluoroscopy beside a transforaminal
    epidural (a bundled-imaging pair that ``imaging-bundled`` reports).

        claim_id | patient_id | date_of_service | rendering_provider | cpt   | modifiers
        ---------+------------+-----------------+--------------------+-------+----------
        C9001    | P900       | 2024-03-04      | Dr. Lee            | 64633 | RT
        C9002    | P901       | 2024-03-05      | Dr. Lee            | 64405 |
        C9002    | P901       | 2024-03-05      | Dr. Lee            | 20552 | XS
        C9003    | P902       | 2024-03-06      | Dr. Lee            | 64483 | LT
        C9004    | P902       | 2024-03-06      | Dr. Patel          | 62323 |
        C9005    | P903       | 2024-03-07      | Dr. Lee            | 64483 | RT
        C9005    | P903       | 2024-03-07      | Dr. Lee            | 77003 |
    """

    id = "ncci-ptp"
    title = "Codes of an NCCI PTP edit billed for one patient, day and provider"
    severities = ("high", "medium", "low")
    columns = ("cpt", "date_of_service")
    optional_columns = (
        "patient_id",
        "rendering_provider",
        "claim_id",
        "modifiers",
        "status",
        "paid",
        "charge",
    )

    def run(self, lines: pd.DataFrame, settings: SimpleNamespace, context: Context) -> pd.DataFrame:
        view = coding_view(lines, context)
        edits = code_pair_edits(context)
        imaging = imaging_bundle_pairs(edits, context.reference.coding("imaging_bundles"))
        edits = edits[~imaging].reset_index(drop=True)
        hits = pair_hits(view, edits, lines=view.counted, groups=(view.session_provider,))
        if hits.empty and not self._any_pair(view, edits):
            raise NothingToAudit(
                "no two codes billed in the export form a PTP edit of the table in use"
                + (" (auditkit's packaged default)" if context.ptp.default else "")
                + (
                    ", other than imaging guidance pairs (imaging-bundled's)"
                    if imaging.any()
                    else ""
                )
            )
        first = hits["first"].to_numpy()
        second = hits["second"].to_numpy()
        distinct = view.has(*PTP_MODIFIERS)
        bypassed = (hits["indicator"].to_numpy() == 1) & (
            distinct[first] | distinct[second] | different_sites(view, first, second)
        )
        hits = hits[~bypassed].reset_index(drop=True)
        if hits.empty:
            return view.findings(self, np.zeros(0, dtype=np.int64), severity="high", message=[])
        return self._findings(view, hits, edits)

    @staticmethod
    def _any_pair(view, edits: pd.DataFrame) -> bool:
        """Does the export bill both codes of some edit (on any lines)?"""
        billed = set(
            view.code_values[np.unique(view.code_ids[view.counted & (view.code_ids >= 0)])]
        )
        return bool((edits["column1"].isin(billed) & edits["column2"].isin(billed)).any())

    def _findings(self, view, hits: pd.DataFrame, edits: pd.DataFrame) -> pd.DataFrame:
        edit = edits.iloc[hits["edit"].to_numpy()].reset_index(drop=True)
        indicator = edit["indicator"].to_numpy()
        unverified = edit["default"].to_numpy(dtype=bool) & edit["confidence"].eq("V").to_numpy()
        severity = np.where(
            unverified, "low", np.asarray(SEVERITY_BY_INDICATOR, dtype=object)[indicator]
        )
        hits = hits.assign(
            severity=severity, order=pd.Series(severity).map(SEVERITY_ORDER).to_numpy()
        )
        # Every column 1 line paired with each column 2 line, for the evidence.
        partners = _partners(view, hits)
        # One finding per column 2 line: its most severe edit, then the best sourced.
        hits = hits.sort_values(["second", "order", "indicator", "rank", "first"])
        hits = hits.drop_duplicates("second").reset_index(drop=True)
        # What depends on the edit alone is worked out once per distinct edit, then spread.
        used, at_edit = np.unique(hits["edit"].to_numpy(), return_inverse=True)
        edit = edits.iloc[used].reset_index(drop=True)
        first = hits["first"].to_numpy()
        second = hits["second"].to_numpy()
        indicator = edit["indicator"].to_numpy()
        column1 = edit["column1"].astype("string")
        column2 = edit["column2"].astype("string")
        default = edit["default"].to_numpy(dtype=bool)
        rationale = edit["rationale"].astype("string").fillna("")
        same = (
            "(same claim, day and rendering provider)"
            if view.patient_column == "claim_id"
            else "(same patient, day and rendering provider)"
        )
        wording = default * 4 + indicator * 2 + rationale.ne("").to_numpy(dtype=bool)
        tails = [
            " is billed with "
            + where_template(FIRST)
            + " "
            + literal(same)
            + ": "
            + WHOSE[d]
            + "{column1}/{column2} makes {column2} the column 2 code and "
            + MEANING[i]
            + "."
            + (" Rationale: {rationale}." if r else "")
            for d in (0, 1)
            for i in (0, 1)
            for r in (0, 1)
        ]
        # The column 1 line is named as the column 2 line is, under fields of its own.
        message = view.message(
            second,
            pd.Categorical.from_codes(wording[at_edit], tails),
            **view.where_fields(first, FIRST),
        )
        fix = pd.Series(
            np.where(
                indicator == 0,
                "Remove or correct the "
                + column2
                + " line (it is not paid beside "
                + column1
                + " whatever the modifiers) and refund it if paid.",
                "Remove or correct the "
                + column2
                + " line if it was part of "
                + column1
                + "; only if the record shows a separate site or session, add XS or XE (or "
                "59), or the two sites' anatomic modifiers, to "
                + column2
                + " and send a corrected claim.",
            ),
            dtype="string",
        )
        source = edit["source"].where(default, "CMS practitioner PTP file")
        evidence = Evidence(
            {
                "column1": _spread(column1, at_edit),
                "column2": _spread(column2, at_edit),
                "modifier_indicator": pd.array(indicator[at_edit], dtype="Int64"),
                "effective": _spread(_dates_text(edit["effective"].to_numpy()), at_edit),
                "deletion": _spread(_dates_text(edit["deletion"].to_numpy()), at_edit),
                "rationale": _spread(rationale.where(rationale.ne(""), None), at_edit),
                "edit_source": _spread(source, at_edit),
                "confidence": _spread(edit["confidence"], at_edit),
                "column1_lines": partners.take(second),
            }
        )
        return view.findings(
            self,
            second,
            severity=hits["severity"].to_numpy(dtype=object),
            message=message,
            evidence=evidence,
            fix=_spread(fix, at_edit),
        )


#: Name of the message fields of the column 1 line ("<cpt> on claim <id> (<date>)", see
#: :func:`~auditkit.measures.coding.where_template`).
FIRST = "ptp_first"
#: Whose edit it is, in a message: CMS's, or auditkit's packaged one (with its confidence).
WHOSE: tuple[str, ...] = (
    "CMS's PTP edit ",
    "auditkit's packaged PTP edit (not CMS's file; confidence {confidence}) ",
)
#: What the edit's modifier indicator (0, 1) means, in a message.
MEANING: tuple[str, ...] = (
    "has modifier indicator 0: no modifier bypasses it",
    "has modifier indicator 1: only 59, an X modifier (XE, XS, XP, XU), anatomic modifiers of "
    "different sites or a global surgery modifier such as 25 bypass it, and neither line "
    "carries one",
)


class _Partners:
    """The column 1 lines' keys paired with each column 2 line, as an Arrow list per line."""

    def __init__(self, seconds: np.ndarray, lists: pa.ListArray) -> None:
        self.seconds = seconds
        self.lists = lists

    def take(self, second: np.ndarray) -> pd.Series:
        """The lists of the column 2 lines at positions ``second`` (each one of ``seconds``)."""
        at = np.searchsorted(self.seconds, second)
        return pd.Series(pd.arrays.ArrowExtensionArray(self.lists.take(pa.array(at))))


def _partners(view, hits: pd.DataFrame) -> _Partners:
    """Per column 2 line of ``hits``: the keys of its column 1 lines, in the hits' order."""
    keys = view.line_keys_at(hits["first"].to_numpy())
    seconds = hits["second"].to_numpy()
    order = np.argsort(seconds, kind="stable")
    distinct, counts = np.unique(seconds, return_counts=True)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    values = pa.array(keys.array)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    values = values.cast(pa.string()).take(pa.array(order))
    return _Partners(distinct, pa.ListArray.from_arrays(pa.array(offsets), values))


def _spread(values: Any, at: np.ndarray) -> pd.Categorical:
    """A value per distinct edit spread over the findings (``at``: each finding's edit)."""
    return pd.Categorical(pd.Series(values).reset_index(drop=True)).take(at)


def _dates_text(days: np.ndarray) -> pd.Series:
    """Days since 1970-01-01 as YYYY-MM-DD text (missing for no date or no deletion)."""
    days = np.asarray(days, dtype=np.int64)
    known = (days >= 0) & (days < np.iinfo(np.int64).max)
    text = np.datetime_as_string(np.where(known, days, 0).astype("datetime64[D]"), unit="D")
    return pd.Series(text, dtype="string").where(known, None)
