"""Code-pair edits: pairs of procedure codes that may not be billed together for one patient on
one day by one provider (or only with a distinct-service modifier on the column 2 code), as the
National Correct Coding Initiative publishes them. Shared by the modifier audits: which lines a
pair applies to, and which need 59 or an X modifier to bypass it.

The packaged ``code_pair_edits.csv`` is a small pain-procedure sample (see its sources and
confidence); a practice can point ``[reference] code_pair_edits`` at its own copy.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from auditkit.engine.context import Context
from auditkit.measures.coding import CodingView, member

#: Reference confidence, strongest first: the rank of the edit a rule rests on.
CONFIDENCE_RANK: dict[str, int] = {"C": 0, "S": 1, "V": 2}
#: Severity of a finding that rests on one code-pair edit, by the edit's confidence rank.
EDIT_SEVERITY: tuple[str, ...] = ("medium", "medium", "low")


def code_pair_edits(context: Context) -> pd.DataFrame:
    """The run's code-pair edits (the packaged ``code_pair_edits`` file, or the one the config
    names): column1, column2 (trimmed, upper case), indicator (0 or 1) and rank (confidence,
    0 = confirmed). A pair listed twice keeps its last row."""
    table = context.reference.coding("code_pair_edits")
    out = pd.DataFrame(
        {
            "column1": table["column1"].str.upper(),
            "column2": table["column2"].str.upper(),
            "indicator": pd.to_numeric(table["modifier_indicator"]).astype(np.int64),
            "rank": table["confidence"].map(CONFIDENCE_RANK).astype(np.int64),
        }
    )
    out = out[out["column1"].ne("") & out["column2"].ne("") & out["column1"].ne(out["column2"])]
    return out.drop_duplicates(["column1", "column2"], keep="last").reset_index(drop=True)


def pair_hits(view: CodingView, edits: pd.DataFrame) -> pd.DataFrame:
    """The pairs of billed lines an edit applies to: lines of one claim, or of one patient,
    date of service and rendering provider, whose codes are an edit's column 1 and column 2.
    Columns: first (position of the column 1 line), second (the column 2 line), indicator and
    rank of the edit; one row per pair of lines."""
    columns = ["first", "second", "indicator", "rank"]
    empty = pd.DataFrame({c: np.zeros(0, dtype=np.int64) for c in columns})
    code_id = {str(c): i for i, c in enumerate(view.code_values)}
    known = edits["column1"].isin(code_id) & edits["column2"].isin(code_id)
    if not known.any():
        return empty
    pairs = pd.DataFrame(
        {
            "c1": edits.loc[known, "column1"].map(code_id).to_numpy(dtype=np.int64),
            "c2": edits.loc[known, "column2"].map(code_id).to_numpy(dtype=np.int64),
            "indicator": edits.loc[known, "indicator"].to_numpy(),
            "rank": edits.loc[known, "rank"].to_numpy(),
        }
    )
    codes = np.union1d(pairs["c1"].to_numpy(), pairs["c2"].to_numpy())
    pos = np.flatnonzero(member(view.code_ids, codes) & view.billed)
    if not len(pos):
        return empty
    parts = []
    # The edits apply to one provider's services for a patient on a day; a claim stands in
    # where the export has no patient, date or provider.
    for group in (view.claim, view.session_provider):
        lines = pd.DataFrame({"pos": pos, "group": group[pos], "code": view.code_ids[pos]})
        left = lines.merge(pairs, left_on="code", right_on="c1")
        both = left.merge(
            lines, left_on=["group", "c2"], right_on=["group", "code"], suffixes=("_1", "_2")
        )
        parts.append(both[["pos_1", "pos_2", "indicator", "rank"]])
    hits = pd.concat(parts, ignore_index=True).drop_duplicates(["pos_1", "pos_2"])
    return hits.rename(columns={"pos_1": "first", "pos_2": "second"}).reset_index(drop=True)


def column2_needs(view: CodingView, hits: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per line: is it the column 2 code of an edit with modifier indicator 1 whose column 1
    code is billed with it (a distinct-service modifier on it bypasses the edit), and the best
    confidence rank among those edits (3 where none)."""
    rank = np.full(view.n, len(CONFIDENCE_RANK), dtype=np.int64)
    bypass = hits[hits["indicator"] == 1]
    np.minimum.at(rank, bypass["second"].to_numpy(), bypass["rank"].to_numpy())
    return rank < len(CONFIDENCE_RANK), rank
