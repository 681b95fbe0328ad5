"""A messy practice: most lines carry random modifiers, diagnoses and units.

The base generator makes a practice that bills cleanly apart from its planted errors; a billing
company's worst client does not. :func:`messify` scrambles the coding of a share of the lines
(whole arrays, no loop over lines), so that most lines break some rule and a run produces more
findings than lines. It is for measuring findings at scale (``benchmarks/run.py``), not for
checking what the audits find: nothing about it is planted truth.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from auditkit.claims import LIST_SEP

#: Modifier cells a messy practice puts on lines, blank included (drawn uniformly).
MESSY_MODIFIERS: tuple[str, ...] = (
    "",
    "25",
    "59",
    "RT",
    "LT",
    "50",
    "XU",
    "KX",
    "25,59",
    "RT,LT",
    "50,59",
)


def messify(frame: pd.DataFrame, seed: int = 7, share: float = 0.85) -> pd.DataFrame:
    """A copy of a canonical claim-line table where ``share`` of the lines get scrambled coding.

    Each line is drawn independently with probability ``share`` (so the share is met roughly,
    not exactly), reproducibly from ``seed``; a drawn line gets

    * ``modifiers``: one of :data:`MESSY_MODIFIERS`, uniformly (blank included);
    * ``diagnosis_codes``: one to three diagnoses (one, two, three with odds 1:2:1) drawn
      uniformly from every diagnosis the table already uses, joined with ``LIST_SEP``; the
      same code can be drawn twice in one cell;
    * ``units``: a whole number from 1 to 6, uniformly.

    Nothing else changes: no other column (charges are not scaled to the new units), the
    column order, the dtypes and the index stay as they were, and the input is not modified.
    A drawn line whose new values happen to equal its old ones is left unchanged in effect.
    ``share=0`` returns an equal copy.

    The lines are addressed by position through ``.loc``, so ``frame`` must have the default
    ``RangeIndex`` (as :func:`auditkit.synth.generate` makes); it must also hold at least one
    diagnosis when any line is drawn. Raises :class:`ValueError` when ``share`` is not between
    0 and 1.
    """
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"share must be between 0 and 1, got {share}")
    out = frame.copy()
    n = len(out)
    if not n:
        return out
    rng = np.random.default_rng([seed, 16])
    hit = rng.random(n) < share
    k = int(hit.sum())
    modifiers = np.asarray(MESSY_MODIFIERS, dtype=object)[rng.integers(0, len(MESSY_MODIFIERS), k)]
    pool = (
        out["diagnosis_codes"]
        .dropna()
        .astype("str")
        .str.split(LIST_SEP)
        .explode()
        .dropna()
        .unique()
    )
    pool = np.asarray(sorted(d for d in pool if d), dtype=object)
    diagnoses = pd.Series(pool[rng.integers(0, len(pool), k)], dtype="string")
    for _ in range(2):
        more = rng.random(k) < 0.5
        extra = pd.Series(pool[rng.integers(0, len(pool), k)], dtype="string")
        diagnoses = diagnoses.where(~more, diagnoses + LIST_SEP + extra)
    units = rng.integers(1, 7, k).astype("float64")
    where = np.flatnonzero(hit)
    out.loc[where, "modifiers"] = pd.array(modifiers, dtype=out["modifiers"].dtype)
    out.loc[where, "diagnosis_codes"] = pd.array(
        diagnoses.to_numpy(dtype=object), dtype=out["diagnosis_codes"].dtype
    )
    out.loc[where, "units"] = pd.array(units, dtype=out["units"].dtype)
    return out
