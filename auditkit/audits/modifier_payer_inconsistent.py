"""Audit ``modifier-payer-inconsistent``: a modifier used for a code at most payers, but not one."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from auditkit.engine.context import Context
from auditkit.engine.contract import Audit, NothingToAudit, Threshold
from auditkit.engine.findings import findings_frame
from auditkit.engine.stats import two_proportion_z
from auditkit.engine.text import pct
from auditkit.measures.code_pairs import (
    CONFIDENCE_RANK,
    code_pair_edits,
    column2_needs,
    pair_hits,
)
from auditkit.measures.coding import (
    DISTINCT_MODIFIERS,
    SIDE_MODIFIERS,
    CodingView,
    coding_view,
    combine,
    concat,
    group_any,
    modifier_25_of_lines,
    parse_codes,
)
from auditkit.reference import FAMILIES

SAMPLE_CLAIMS = 5
#: Confidence rank (see CONFIDENCE_RANK) from which a code-pair edit is unverified: a finding
#: that rests on such an edit is medium at most.
UNVERIFIED = CONFIDENCE_RANK["V"]


class ModifierPayerInconsistent(Audit):
    """A modifier applied to a code for most payers but clearly less often for one of them.

    Why it matters
    --------------
    A modifier that a code needs in a given situation is needed whichever payer is billed. When
    the practice applies it on nearly every line for most payers but rarely for one, the coders
    have learned the rule for some carriers and miss it for another ("correct for one carrier,
    missed for another"): those lines are denied or underpaid at that payer, while the same
    service is paid elsewhere. Where no rule needs the modifier, the difference is only a habit:
    no money rides on it, and pushing 59 where no code-pair edit calls for it is itself an
    audit risk.

    What is flagged
    ---------------
    Lines are compared like with like: the same code billed with the same procedure families on
    the rest of the claim (for example 20552 with an occipital nerve block, or 20552 alone), and
    the same answer to "does a rule need the modifier here?":

    - 59 (which stands for 59, XE, XS, XP and XU: a line with any of them has it) is needed on
      the column 2 code of a code-pair edit with modifier indicator 1 (the run's NCCI
      procedure-to-procedure edits: CMS's PTP files from ``[reference] ptp``, else the packaged
      subset; an edit counts where it is in effect on the line's date of service) whose column 1
      code is billed with it on the claim, or for the patient that day by the same physician:
      for example on 20552, not on 64405, when both are billed;
    - 25 is needed on an office visit billed with a procedure (the same claim, or the same
      patient, day and physician);
    - RT, LT and 50 are needed on side-specific codes;
    - no rule needs any other modifier.

    For each modifier in the data other than those in ``ignore_modifiers`` (modifiers that
    depend on the payer by design, like the side modifiers and KX; listing 59 leaves out the X
    modifiers too), each payer's share of lines with the modifier is compared with all other
    payers together. A payer is flagged when both sides have at least ``min_lines`` lines, the
    other payers use the modifier on at least ``min_rate_others`` of theirs, the payer's share
    is at least ``min_gap`` lower, and a one-sided two-proportion z-test is below ``alpha``.
    Where a rule needs the modifier: medium, high when the gap is at least ``high_gap`` (medium
    at most when the need rests on an unverified, confidence V, edit); dollars at risk: the
    lines the payer would have with the modifier at the others' share, times the mean expected
    payment (the paid amount where paid) of its lines without it. Where no rule needs it: info,
    no dollars. Voided and rejected lines are not counted.

    How to fix
    ----------
    Check the payer's policy for the code: if it requires the modifier as the others do, add it
    to the payer's open and denied lines and send corrected claims, and add the rule to the
    charge-entry checklist for that payer. If the payer really does not want it, add the modifier
    to ``ignore_modifiers``. For an info finding, nothing is lost at that payer: check which
    habit is right rather than adding the modifier everywhere.

    Columns needed
    --------------
    Required: cpt, modifiers, payer. Optional: claim_id (the other codes on the claim),
    patient_id, date_of_service and rendering_provider (codes billed the same day on other
    claims), status (voided and rejected lines left out), paid and charge (dollars).

    Example
    -------
    The comparison needs at least ``min_lines`` lines per payer, so a claim with ``repeat`` n
    stands for n such claims (A1-1, A1-2, ...).

    Flagged: trigger-point injections billed with a greater occipital nerve block carry 59 at
    Aetna and Cigna, never at Humana. 20552 is the column 2 code of the packaged edit with
    64405, so 59 belongs on it.

        claim_id | payer  | cpt   | modifiers | repeat
        ---------+--------+-------+-----------+-------
        A1       | Aetna  | 20552 | 59        | 12
        A1       | Aetna  | 64405 | RT        | 12
        C1       | Cigna  | 20552 | 59        | 10
        C1       | Cigna  | 64405 | LT        | 10
        H1       | Humana | 20552 |           | 10
        H1       | Humana | 64405 | RT        | 10

    Result: 1 medium finding: 59 on 20552 with a nerve block on the claim, Humana 0 of 10 lines,
    the other payers 22 of 22 (a gap above ``high_gap``, but the packaged edit is unverified, so
    medium).

    Not flagged: Humana's trigger-point lines carry 59 like the others'.

        claim_id | payer  | cpt   | modifiers | repeat
        ---------+--------+-------+-----------+-------
        A1       | Aetna  | 20552 | 59        | 12
        A1       | Aetna  | 64405 | RT        | 12
        C1       | Cigna  | 20552 | 59        | 10
        C1       | Cigna  | 64405 | LT        | 10
        H1       | Humana | 20552 | 59        | 10
        H1       | Humana | 64405 | RT        | 10
    """

    id = "modifier-payer-inconsistent"
    title = "Modifier applied for one payer far less often than for the others"
    severities = ("high", "medium", "info")
    columns = ("cpt", "modifiers", "payer")
    optional_columns = (
        "claim_id",
        "patient_id",
        "date_of_service",
        "rendering_provider",
        "status",
        "paid",
        "charge",
    )
    thresholds = (
        Threshold(
            "min_lines",
            int,
            10,
            "Lines of a code (in the same claim context) the payer and the other payers each need.",
            min=1,
        ),
        Threshold(
            "min_rate_others",
            float,
            0.8,
            "Share of the other payers' lines that must carry the modifier.",
            min=0,
            max=1,
        ),
        Threshold(
            "min_gap",
            float,
            0.4,
            "How much lower the payer's share must be (0.4 = 40 points).",
            min=0,
            max=1,
        ),
        Threshold(
            "high_gap",
            float,
            0.7,
            "A gap at least this large makes the finding high instead of medium.",
            min=0,
            max=1,
        ),
        Threshold(
            "alpha",
            float,
            0.01,
            "Significance level of the one-sided test that the payer's share is lower.",
            min=0,
            max=1,
        ),
        Threshold(
            "ignore_modifiers",
            str,
            "RT,LT,50,KX,GA,GY,GZ",
            "Modifiers not compared (they depend on the payer by design), comma-separated.",
        ),
    )

    def run(self, lines: pd.DataFrame, settings: SimpleNamespace, context: Context) -> pd.DataFrame:
        view = coding_view(lines, context)
        ignored = set(parse_codes(settings.ignore_modifiers))
        in_data = [m for m in view.modifier_names if m not in ignored]
        modifiers = [m for m in in_data if m not in DISTINCT_MODIFIERS]
        # 59 and XE/XS/XP/XU are one habit: a line with any of them has "59".
        distinct = tuple(m for m in DISTINCT_MODIFIERS if m not in ignored and "59" not in ignored)
        distinct_in_data = [m for m in distinct if m in in_data]
        if distinct_in_data:
            modifiers.append("59")
        if not modifiers:
            raise NothingToAudit("no modifiers to compare between payers")
        counted = view.counted & (view.code_ids >= 0)
        context_bits = self._claim_context(view, counted)
        payer_ids, payer_names = context.codes("ctx.payer")
        payer_names = np.asarray(payer_names, dtype=object)
        base = combine(view.code_ids + 1, context_bits, payer_ids)  # (code, context, payer)
        keep = np.flatnonzero(counted)
        needs = _Needs(view, context)
        parts = []
        # One pass per modifier in the data (a few dozen at most), each over whole columns.
        for modifier in modifiers:
            needed, rank = needs.of(modifier)
            # A cell is (code, context, payer) and whether a rule needs the modifier there:
            # only like is compared with like.
            cell = np.full(view.n, -1, dtype=np.int64)
            cell[keep] = base[keep] * 2 + needed[keep]
            has = view.has(*distinct) if modifier == "59" else view.has(modifier)
            cells = self._cells(view, cell, keep, has, payer_ids, context_bits)
            found = self._compare(cells, settings)
            if len(found):
                label = "/".join(distinct_in_data) if modifier == "59" else modifier
                found["modifier"] = modifier
                parts.append(
                    self._findings(
                        found, label, view, cell, has, rank, needs, payer_names, settings
                    )
                )
        return concat(parts)

    @staticmethod
    def _cells(
        view: CodingView,
        cell: np.ndarray,
        keep: np.ndarray,
        has: np.ndarray,
        payer_ids: np.ndarray,
        context_bits: np.ndarray,
    ) -> pd.DataFrame:
        """The cells that occur, each with its code, context, payer, whether the modifier is
        needed, its lines and the lines with the modifier."""
        in_cell = cell[keep]
        lines_per_cell = np.bincount(in_cell)
        present = np.flatnonzero(lines_per_cell)
        # Every line of a cell has the same code, context and payer: any line of it tells them.
        one_line = np.zeros(len(lines_per_cell), dtype=np.int64)
        one_line[in_cell] = keep
        at = one_line[present]
        n_with = np.bincount(in_cell, weights=has[keep], minlength=len(lines_per_cell))
        return pd.DataFrame(
            {
                "code": view.code_ids[at],
                "context": context_bits[at],
                "payer": payer_ids[at],
                "needed": present % 2 == 1,
                "lines": lines_per_cell[present],
                "n_with": n_with[present],
            },
            index=pd.Index(present, name="cell"),
        )

    @staticmethod
    def _claim_context(view, counted: np.ndarray) -> np.ndarray:
        """Per line: bit mask of the procedure families of the *other* lines on its claim."""
        family = view.family_ids
        family = np.where(counted & (family >= 0), family, len(FAMILIES))  # last slot: ignored
        width = len(FAMILIES) + 1
        claims = int(view.claim.max()) + 1 if view.n else 0
        # The claim's families as bits; a line's own family only counts when another line of
        # the claim has it too.
        weights = np.append(1 << np.arange(len(FAMILIES), dtype=np.int64), 0)
        claim_bits = np.zeros(claims, dtype=np.int64)
        np.bitwise_or.at(claim_bits, view.claim, weights[family])
        shared = pd.Series(view.claim * width + family).duplicated(keep=False).to_numpy()
        alone = ~shared & (family < len(FAMILIES))
        return claim_bits[view.claim] & ~np.where(alone, weights[family], 0)

    @staticmethod
    def _compare(cells: pd.DataFrame, settings: SimpleNamespace) -> pd.DataFrame:
        groups = cells.groupby(["code", "context", "needed"])
        total_lines = groups["lines"].transform("sum")
        total_with = groups["n_with"].transform("sum")
        rest_lines = total_lines - cells["lines"]
        rest_with = total_with - cells["n_with"]
        rate = cells["n_with"] / cells["lines"]
        rest_rate = rest_with / rest_lines.where(rest_lines > 0)
        candidate = (
            (cells["lines"] >= settings.min_lines)
            & (rest_lines >= settings.min_lines)
            & (rest_rate >= settings.min_rate_others)
            & (rest_rate - rate >= settings.min_gap)
        )
        if not candidate.any():
            return pd.DataFrame()
        sub = cells[candidate].assign(
            rest_lines=rest_lines[candidate],
            rest_with=rest_with[candidate],
            rate=rate[candidate],
            rest_rate=rest_rate[candidate],
        )
        _, p_lower, _ = two_proportion_z(
            sub["n_with"], sub["lines"], sub["rest_with"], sub["rest_lines"]
        )
        sub["p_value"] = p_lower
        return sub[sub["p_value"] < settings.alpha].reset_index()

    def _findings(
        self,
        found: pd.DataFrame,
        label: str,
        view: CodingView,
        cell: np.ndarray,
        has: np.ndarray,
        rank: np.ndarray,
        needs: _Needs,
        payer_names: np.ndarray,
        settings: SimpleNamespace,
    ) -> pd.DataFrame:
        codes = view.code_values[found["code"].to_numpy()]
        payers = np.asarray(payer_names, dtype=object)[found["payer"].to_numpy()]
        gap = (found["rest_rate"] - found["rate"]).to_numpy()
        severity = np.where(gap >= settings.high_gap, "high", "medium").astype(object)
        # Lines of the flagged cells that lack the modifier: dollars and example claims.
        messages, evidence, dollars, bases, fixes = [], [], [], [], []
        label_of = np.full(view.n, -1, dtype=np.int64)
        # One entry per finding (a handful): the loop builds their texts.
        for i, (row, code, payer) in enumerate(zip(found.itertuples(), codes, payers, strict=True)):
            in_cell = np.flatnonzero(cell == row.cell)
            lacking = in_cell[~has[in_cell]]
            reason = needs.reason(row.modifier, label, str(code), in_cell, bool(row.needed))
            if row.needed:
                label_of[lacking] = i
                mean = float(view.dollars[lacking].mean()) if len(lacking) else 0.0
                missing = max(row.rest_rate * row.lines - row.n_with, 0.0)
                dollars.append(round(missing * mean, 2))
                bases.append("expected payment")
                fixes.append(self.fix())
                if len(lacking) and int(rank[lacking].max()) >= UNVERIFIED:
                    severity[i] = "medium"  # the edit it rests on is unverified
            else:
                severity[i] = "info"
                dollars.append(0.0)
                bases.append("none")
                fixes.append(
                    f"Nothing to correct for payment: {reason}. Check which payer's habit is "
                    f"right; a modifier added where no rule needs it (59 above all) invites "
                    f"unbundling audits (see modifier-59-misuse)."
                )
            where = _context_text(row.context)
            messages.append(
                f"{label} on {code} ({where}): {payer} {int(row.n_with)} of "
                f"{int(row.lines)} lines ({pct(row.rate)}), the other payers "
                f"{int(row.rest_with)} of {int(row.rest_lines)} ({pct(row.rest_rate)}); "
                f"{reason}."
            )
            evidence.append(
                {
                    "modifier": row.modifier,
                    "context": where,
                    "needed": bool(row.needed),
                    "reason": reason,
                    "lines": int(row.lines),
                    "with_modifier": int(row.n_with),
                    "rate": round(float(row.rate), 4),
                    "others_lines": int(row.rest_lines),
                    "others_with_modifier": int(row.rest_with),
                    "others_rate": round(float(row.rest_rate), 4),
                    "p_value": float(row.p_value),
                    "sample_claims_without": list(
                        view.claim_text(lacking[:SAMPLE_CLAIMS]).astype(str)
                    ),
                }
            )
        return findings_frame(
            self,
            severity=severity,
            scope="code",
            cpt=list(codes),
            payer=list(payers),
            # The lines without a needed modifier, valued as each line is when a coding rule
            # flags it; a habit no rule needs puts no money at risk.
            dollars_at_risk=dollars,
            dollars_basis=bases,
            covers=view.context.covers_of(label_of, len(found)),
            message=messages,
            evidence=evidence,
            fix=fixes,
        )


def _context_text(bits: int) -> str:
    families = [f for i, f in enumerate(FAMILIES) if bits & (1 << i)]
    return "with " + ", ".join(families) + " on the claim" if families else "alone on the claim"


class _Needs:
    """Where a rule needs a modifier, per line: a distinct-service modifier (59, X{EPSU}) on the
    column 2 code of a code-pair edit (modifier indicator 1) whose column 1 code is billed with
    it; 25 on an office visit billed with a procedure (same claim, or same patient, day and
    physician); a side modifier on a side-specific code. No rule needs any other modifier."""

    def __init__(self, view: CodingView, context: Context) -> None:
        self.view = view
        self.hits = pair_hits(view, code_pair_edits(context))
        column2, self.rank = column2_needs(view, self.hits)
        self.distinct = column2 & ~view.is_em
        # The same rule as modifier-25-missing: a code whose modifier_25 is "required" (a 0- or
        # 10-day global period in the reference procedure table).
        try:
            procedures = (modifier_25_of_lines(view) == "required") & view.billed
        except NothingToAudit:  # a procedures file without global periods: any procedure
            procedures = view.is_procedure & view.billed
        with_procedure = group_any(view.claim, procedures) | group_any(
            view.session_provider, procedures
        )
        self.visit = view.is_em & (with_procedure | column2)
        self.side = view.procedure_is("side_specific", "yes")
        self.none = np.zeros(view.n, dtype=bool)
        self.no_rank = np.zeros(view.n, dtype=np.int64)

    def of(self, modifier: str) -> tuple[np.ndarray, np.ndarray]:
        """Per line: is ``modifier`` needed, and the confidence rank of the edit that needs it
        (0 where the need does not rest on an edit)."""
        if modifier == "59":
            return self.distinct, np.where(self.distinct, self.rank, 0)
        if modifier == "25":
            return self.visit, self.no_rank
        if modifier in SIDE_MODIFIERS:
            return self.side, self.no_rank
        return self.none, self.no_rank

    def _partners(self, pos: np.ndarray, own: str, other: str) -> str:
        """The codes paired with the lines at ``pos`` (as ``own``: "first" or "second") by an
        edit with modifier indicator 1, best-sourced first."""
        hits = self.hits[(self.hits["indicator"] == 1) & self.hits[own].isin(pos)]
        hits = hits.sort_values(["rank", other])
        codes = self.view.code_values[self.view.code_ids[hits[other].to_numpy()]]
        return ", ".join(dict.fromkeys(str(c) for c in codes))

    def reason(self, modifier: str, label: str, code: str, pos: np.ndarray, needed: bool) -> str:
        """Why the modifier is needed on the lines at ``pos``, or why not."""
        if modifier == "59":
            if needed:
                column1 = self._partners(pos, "second", "first")
                return f"a code-pair edit with {column1} (column 1) needs it on {code} (column 2)"
            column2 = self._partners(pos, "first", "second")
            if column2:
                return (
                    f"the code-pair edit with {column2} takes it on {column2} (column 2), "
                    f"not on {code}"
                )
            return (
                f"no code-pair edit in the reference table pairs {code} with a code billed with it"
            )
        if modifier == "25":
            if needed:
                return "a visit billed with a procedure the same day needs 25"
            return "no procedure is billed with these visits"
        if modifier in SIDE_MODIFIERS:
            return f"{code} is side-specific" if needed else f"{code} is not side-specific"
        return f"no code-pair edit or side rule calls for {label}"
