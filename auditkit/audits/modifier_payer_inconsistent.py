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
from auditkit.measures.coding import coding_view, combine, concat, parse_codes
from auditkit.reference import FAMILIES

SAMPLE_CLAIMS = 5


class ModifierPayerInconsistent(Audit):
    """A modifier applied to a code for most payers but clearly less often for one of them.

    Why it matters
    --------------
    A modifier that a code needs in a given situation is needed whichever payer is billed. When
    the practice applies it on nearly every line for most payers but rarely for one, the coders
    have learned the rule for some carriers and miss it for another ("correct for one carrier,
    missed for another"): those lines are denied or underpaid at that payer, while the same
    service is paid elsewhere.

    What is flagged
    ---------------
    Lines are compared like with like: the same code billed with the same procedure families on
    the rest of the claim (for example 64405 with a trigger-point injection, or 64405 alone). For
    each modifier that occurs in the data, other than those listed in ``ignore_modifiers``
    (modifiers that depend on the payer by design, like the side modifiers and KX), each payer's
    share of lines with the modifier is compared with all other payers together. A payer is
    flagged when both sides have at least ``min_lines`` lines, the other payers use the modifier
    on at least ``min_rate_others`` of theirs, the payer's share is at least ``min_gap`` lower,
    and a one-sided two-proportion z-test is below ``alpha``. Medium; high when the gap is at
    least ``high_gap``. Voided and rejected lines are not counted. Dollars at risk: the lines the
    payer would have with the modifier at the others' share, times the mean paid amount (else
    charge) of its lines without it.

    How to fix
    ----------
    Check the payer's policy for the code: if it requires the modifier as the others do, add it
    to the payer's open and denied lines and send corrected claims, and add the rule to the
    charge-entry checklist for that payer. If the payer really does not want it, add the modifier
    to ``ignore_modifiers``.

    Columns needed
    --------------
    Required: cpt, modifiers, payer. Optional: claim_id (the other codes on the claim), status
    (voided and rejected lines left out), paid and charge (dollars).

    Example
    -------
    The comparison needs at least ``min_lines`` lines per payer, so a claim with ``repeat`` n
    stands for n such claims (A1-1, A1-2, ...).

    Flagged: visits billed with a lumbar facet injection carry 25 at Aetna and Cigna, never at
    Humana.

        claim_id | payer  | cpt   | modifiers | repeat
        ---------+--------+-------+-----------+-------
        A1       | Aetna  | 99214 | 25        | 12
        A1       | Aetna  | 64493 | RT        | 12
        C1       | Cigna  | 99214 | 25        | 10
        C1       | Cigna  | 64493 | RT        | 10
        H1       | Humana | 99214 |           | 10
        H1       | Humana | 64493 | RT        | 10

    Result: 1 high finding: 25 on 99214 with a facet procedure on the claim, Humana 0 of 10 lines,
    the other payers 22 of 22 (a gap above ``high_gap``).

    Not flagged: Humana's visits carry 25 like the others'.

        claim_id | payer  | cpt   | modifiers | repeat
        ---------+--------+-------+-----------+-------
        A1       | Aetna  | 99214 | 25        | 12
        A1       | Aetna  | 64493 | RT        | 12
        C1       | Cigna  | 99214 | 25        | 10
        C1       | Cigna  | 64493 | RT        | 10
        H1       | Humana | 99214 | 25        | 10
        H1       | Humana | 64493 | RT        | 10
    """

    id = "modifier-payer-inconsistent"
    title = "Modifier applied for one payer far less often than for the others"
    severities = ("high", "medium")
    columns = ("cpt", "modifiers", "payer")
    optional_columns = ("claim_id", "status", "paid", "charge")
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
        modifiers = [m for m in view.modifier_names if m not in ignored]
        if not modifiers:
            raise NothingToAudit("no modifiers to compare between payers")
        counted = view.counted & (view.code_ids >= 0)
        context_bits = self._claim_context(view, counted)
        payer_ids, payer_names = context.codes("ctx.payer")
        payer_names = np.asarray(payer_names, dtype=object)
        cell = combine(view.code_ids + 1, context_bits, payer_ids)  # (code, context, payer)
        cell = np.where(counted, cell, -1)
        keep = np.flatnonzero(cell >= 0)
        in_cell = cell[keep]
        # The cells that occur, in order, each with its code, context and payer (every line of
        # a cell has the same three, so any line of it tells them).
        lines_per_cell = np.bincount(in_cell)
        present = np.flatnonzero(lines_per_cell)
        one_line = np.zeros(len(lines_per_cell), dtype=np.int64)
        one_line[in_cell] = keep
        at = one_line[present]
        cells = pd.DataFrame(
            {"code": view.code_ids[at], "context": context_bits[at], "payer": payer_ids[at]},
            index=pd.Index(present, name="cell"),
        )
        cells["lines"] = lines_per_cell[present]
        parts = []
        # One pass per modifier in the data (a few dozen at most), each over whole columns.
        for modifier in modifiers:
            has = view.has(modifier)[keep]
            cells["n_with"] = np.bincount(in_cell, weights=has, minlength=len(lines_per_cell))[
                present
            ]
            found = self._compare(cells, settings)
            if len(found):
                found["modifier"] = modifier
                parts.append(found)
        if not parts:
            return concat([])
        found = pd.concat(parts, ignore_index=True)
        return self._findings(found, view, cell, payer_names, settings)

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
        groups = cells.groupby(["code", "context"])
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
        view,
        cell: np.ndarray,
        payer_names: np.ndarray,
        settings: SimpleNamespace,
    ) -> pd.DataFrame:
        codes = view.code_values[found["code"].to_numpy()]
        payers = np.asarray(payer_names, dtype=object)[found["payer"].to_numpy()]
        # Lines of the flagged cells that lack the modifier: dollars and example claims.
        messages, evidence, dollars = [], [], []
        label = np.full(len(view.lines), -1, dtype=np.int64)
        # One entry per finding (a handful): the loop builds their texts.
        for i, (row, code, payer) in enumerate(zip(found.itertuples(), codes, payers, strict=True)):
            in_cell = cell == row.cell
            lacking = np.flatnonzero(in_cell & ~view.has(row.modifier))
            label[lacking] = i
            mean = float(view.dollars[lacking].mean()) if len(lacking) else 0.0
            missing = max(row.rest_rate * row.lines - row.n_with, 0.0)
            dollars.append(round(missing * mean, 2))
            where = _context_text(row.context)
            messages.append(
                f"{row.modifier} on {code} ({where}): {payer} {int(row.n_with)} of "
                f"{int(row.lines)} lines ({pct(row.rate)}), the other payers "
                f"{int(row.rest_with)} of {int(row.rest_lines)} ({pct(row.rest_rate)})."
            )
            evidence.append(
                {
                    "modifier": row.modifier,
                    "context": where,
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
        gap = found["rest_rate"] - found["rate"]
        return findings_frame(
            self,
            severity=np.where(gap >= settings.high_gap, "high", "medium"),
            scope="code",
            cpt=list(codes),
            payer=list(payers),
            # The lines without the modifier, valued as each line is when a coding rule flags it.
            dollars_at_risk=dollars,
            dollars_basis="expected payment",
            covers=view.context.covers_of(label, len(found)),
            message=messages,
            evidence=evidence,
        )


def _context_text(bits: int) -> str:
    families = [f for i, f in enumerate(FAMILIES) if bits & (1 << i)]
    return "with " + ", ".join(families) + " on the claim" if families else "alone on the claim"
