"""Audit ``dx-linkage``: epidural and facet lines whose diagnoses do not support them."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from auditkit.claims import LIST_SEP
from auditkit.engine.context import Context
from auditkit.engine.contract import Audit, NothingToAudit
from auditkit.engine.findings import Evidence, Message
from auditkit.measures.coding import (
    SEVERITY_BY_CONFIDENCE,
    CodingView,
    choose,
    coding_view,
    combination,
    concat,
    factorize_text,
    literal,
    pick,
    template,
)
from auditkit.reference import DX_REGION_SPANS

#: The procedure regions of the ``spinal_sessions`` reference file, in words for messages.
REGION_WORDS: dict[str, str] = {
    "cervical-thoracic": "cervical or thoracic",
    "lumbar-sacral": "lumbar or sacral",
}
#: Confidence letters from the strongest to the weakest.
CONFIDENCE_ORDER = "CSV"


def _plain(code: str) -> str:
    """A diagnosis code compared without its dot and in upper case."""
    return code.replace(".", "").strip().upper()


def _weakest(*letters: str) -> str:
    """The least sure of several confidence letters ("C" when none is given)."""
    return max(letters, key=lambda c: CONFIDENCE_ORDER.find(c), default="C")


class DxRegions:
    """The spinal region of a diagnosis code, from the ``dx_regions`` reference file: the row
    of the longest matching code or prefix (an exact row before a prefix of the same length)."""

    def __init__(self, table: pd.DataFrame) -> None:
        rows = [
            (_plain(c), m, r, conf)
            for c, m, r, conf in table[["code", "match", "region", "confidence"]].itertuples(
                index=False, name=None
            )
        ]
        self.rows = sorted(rows, key=lambda r: (len(r[0]), r[1] == "exact"), reverse=True)

    def of(self, code: str) -> tuple[str, str] | None:
        """(region, confidence) of a plain code, or None when no row names its region."""
        for c, m, region, confidence in self.rows:
            if code == c or (m == "prefix" and code.startswith(c)):
                return region, confidence
        return None


class DxLinkage(Audit):
    """Epidural or facet procedure whose diagnoses do not support it.

    Why it matters
    --------------
    Medicare's coverage rules (LCDs) and most payers pay an epidural only for radicular pain,
    stenosis, post-laminectomy syndrome or zoster, and a facet procedure only for facet
    spondylosis. Axial back pain alone (M54.50, M54.59) or an unspecified code (M54.9) does not
    support either, and M54.5 is no longer a valid code: such lines are denied for medical
    necessity (CARC 50, 11, 167), and when paid they are the first thing a post-payment review
    takes back. The diagnosis must also be of the region treated: the codes are split by spinal
    region (CMS billing article A58993: cervical-thoracic 62321, 64479, 64480; lumbar-sacral
    62323, 64483, 64484; likewise the facet codes), so lumbar radiculopathy (M54.16) does not
    support a cervical epidural.

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
      2021-10-01): medium (the claim is rejected until the code is replaced);
    - supporting codes that all name another spinal region than the procedure's: high. The
      procedure's region comes from the ``spinal_sessions`` reference file (62320/62321,
      64479/64480, 64490-64492, 64633/64634 and 0228T/0229T cervical or thoracic; 62322/62323,
      64483/64484, 64493-64495, 64635/64636 and 0230T/0231T lumbar or sacral), the diagnosis's
      from ``dx_regions`` (the region ICD-10-CM's code title names: M54.16 lumbar, M47.812
      cervical). A thoracolumbar code (M54.15, M47.815, M48.05) lies in both regions, a
      lumbosacral or sacral one in the lumbar-sacral region. One supporting code of the
      procedure's region is enough, so a claim for a cervical and a lumbar procedure whose lines
      share one diagnosis list is not flagged; a supporting code without a region (M96.1,
      B02.2x, a "site unspecified" code) is never a mismatch. The catheter codes 62324-62327
      have no region in ``spinal_sessions`` and are not checked for it.

    The diagnosis groups are unverified (confidence V: the LCD article tables were not
    retrieved); replace them with your payers' lists through ``[reference] dx_groups`` in the
    config. The regions are confirmed (ICD-10-CM code titles, CMS billing article A58993); a
    region finding is medium when a region row it rests on is unverified. Voided lines are
    ignored. Dollars at risk: the line's paid amount when paid (what a review takes back), else
    its expected payment (fee schedule, or the practice's usual payment for the code), else its
    charge.

    How to fix
    ----------
    Code the diagnosis the note documents to the highest specificity: radiculopathy, stenosis or
    disc disorder with radiculopathy for epidurals, facet spondylosis (M47.81x) for facet
    procedures, of the region treated; where the note shows the other region was treated, the
    procedure code is what is wrong. If the note only documents axial pain, the procedure does not meet the coverage
    rule: hold the claim, or obtain an ABN before the next one for Medicare patients. Replace
    M54.5 with M54.50, M54.51 or M54.59.

    Columns needed
    --------------
    Required: cpt, diagnosis_codes. Optional: date_of_service (invalid-from dates), claim_id,
    status (voided lines left out), paid and charge (dollars).

    Example
    -------
    Flagged: a lumbar interlaminar epidural with only low back pain coded, a lumbar facet
    injection with only a radiculopathy code, and a cervical transforaminal epidural with a
    lumbar radiculopathy code.

        claim_id | date_of_service | cpt   | modifiers | diagnosis_codes
        ---------+-----------------+-------+-----------+----------------
        C6001    | 2024-03-04      | 62323 |           | M54.50
        C6002    | 2024-03-05      | 64493 | RT        | M54.16
        C6003    | 2024-03-06      | 64479 | LT        | M54.16

    Result: 2 high and 1 medium finding: high on the epidurals (axial pain only; a lumbar
    diagnosis on a cervical code), medium on the facet line (no facet spondylosis code).

    Not flagged: the diagnoses the notes document: lumbar radiculopathy and a lumbar disc disorder
    with radiculopathy for the epidural, lumbar facet spondylosis for the facet injection,
    cervical radiculopathy for the cervical epidural.

        claim_id | date_of_service | cpt   | modifiers | diagnosis_codes
        ---------+-----------------+-------+-----------+----------------
        C6001    | 2024-03-04      | 62323 |           | M54.16, M51.16
        C6002    | 2024-03-05      | 64493 | RT        | M47.816
        C6003    | 2024-03-06      | 64479 | LT        | M54.12
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
        regions = DxRegions(context.reference.coding("dx_regions"))
        sessions = context.reference.coding("spinal_sessions").drop_duplicates("code", keep="last")
        code_region = view.by_code(sessions.set_index("code")["region"], "")
        code_confidence = view.by_code(sessions.set_index("code")["confidence"], "C")
        parts = []
        for family in families:  # the families of the file (two in the packaged one)
            mask = checked & view.in_family(family)
            if mask.any():
                table = groups[groups["family"] == family]
                parts.append(self._family(view, mask, family, table, dx_ids, dx_values))
                parts.append(
                    self._region_mismatch(
                        view, mask, table, dx_ids, dx_values, regions, code_region, code_confidence
                    )
                )
        return concat(parts)

    def _region_mismatch(
        self,
        view: CodingView,
        mask: np.ndarray,
        table: pd.DataFrame,
        dx_ids: np.ndarray,
        dx_values: np.ndarray,
        regions: DxRegions,
        code_region: np.ndarray,
        code_confidence: np.ndarray,
    ) -> pd.DataFrame:
        """Lines of a spinal region whose supporting diagnoses all name another region.

        A line passes when one supporting diagnosis lies in the procedure's region or names no
        region (M96.1, B02.2x, site unspecified); a line without a supporting diagnosis is left to
        the other rules. Each distinct diagnosis list is read once."""
        supporting = [
            (_plain(c), m)
            for c, m in table.loc[table["kind"] == "supporting", ["code", "match"]].itertuples(
                index=False, name=None
            )
        ]
        procedure_regions = list(REGION_WORDS)
        n_lists = len(dx_values) + 1  # the last slot: a blank list (id -1)
        checked = np.zeros(n_lists, dtype=bool)  # every supporting code has a known region
        covers = {r: np.zeros(n_lists, dtype=bool) for r in procedure_regions}
        named = np.full(n_lists, "", dtype=object)  # "M54.16 lumbar, M51.16 lumbar"
        confidence = np.full(n_lists, "C", dtype=object)
        for i, value in enumerate(dx_values):
            found = []
            for raw in str(value).split(LIST_SEP):
                code = _plain(raw)
                if code and any(
                    code == c or (m == "prefix" and code.startswith(c)) for c, m in supporting
                ):
                    found.append((raw.strip(), regions.of(code)))
            if not found or any(r is None for _, r in found):
                continue
            checked[i] = True
            for _, (region, _conf) in found:
                for spanned in DX_REGION_SPANS.get(region, ()):
                    if spanned in covers:
                        covers[spanned][i] = True
            named[i] = ", ".join(f"{raw} {region}" for raw, (region, _c) in found)
            confidence[i] = _weakest(*(conf for _, (_r, conf) in found))
        wrong = np.zeros(view.n, dtype=bool)
        for region in procedure_regions:
            wrong |= (code_region == region) & ~covers[region][dx_ids]
        pos = np.flatnonzero(mask & checked[dx_ids] & wrong)
        if not len(pos):
            return view.findings(self, pos, severity="high", message=[])
        ids = np.where(dx_ids[pos] < 0, n_lists - 1, dx_ids[pos])
        named_here = pick(ids, named)
        weakest = combination(_weakest, confidence[ids], code_confidence[pos])
        message = view.message(
            pos,
            template(
                " is a ",
                choose(code_region[pos], lambda r: literal(REGION_WORDS[r])),
                " spine procedure, but its supporting diagnoses name another region "
                "({dx_named}); the diagnosis must describe the region treated.",
            ),
            dx_named=named_here,
        )
        severity = choose(weakest, lambda c: SEVERITY_BY_CONFIDENCE.get(c, "medium"))
        evidence = Evidence(
            {
                "procedure_region": choose(code_region[pos], str),
                "diagnoses": named_here,
                "confidence": weakest,
            }
        )
        return view.findings(
            self,
            pos,
            severity=severity,
            message=message,
            evidence=evidence,
            fix="Code the diagnosis of the region the note documents as treated, or correct the "
            "procedure code if the other region was treated, and send a corrected claim.",
        )

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

        def listed(pos: np.ndarray) -> pd.Categorical:
            """The line's diagnoses as written, once per distinct list."""
            return view.column_field(
                "diagnosis_codes",
                pos,
                lambda t: t.astype("string").str.replace(LIST_SEP, ", ", regex=False),
                "",
            )

        needs = literal(f"{article} {family} procedure needs one of: {supporting}.")
        return view.rule_findings(
            self,
            [
                (
                    mask & axial_only,
                    "high",
                    lambda pos: Message(
                        " has only axial or nonspecific diagnoses ({dx_list}); " + needs,
                        dx_list=listed(pos),
                    ),
                    None,
                ),
                (
                    mask & ~axial_only & ~supported & ~blank,
                    "medium",
                    lambda pos: Message(
                        " has no diagnosis that supports it ({dx_list}); " + needs,
                        dx_list=listed(pos),
                    ),
                    None,
                ),
                (mask & blank, "medium", Message(" has no diagnosis code; " + needs), None),
                (
                    mask & supported & invalid_now,
                    "medium",
                    lambda pos: Message(
                        " lists a diagnosis code that is not valid on the date of service "
                        "({dx_list}); the claim is rejected until it is replaced.",
                        dx_list=listed(pos),
                    ),
                    "Replace the invalid code (M54.5 became M54.50, M54.51 or M54.59) and "
                    "resubmit.",
                ),
            ],
        )
