"""Code-pair edits: pairs of procedure codes that may not be billed together for one patient on
one day by one provider (or only with a distinct-service modifier), as the National Correct
Coding Initiative's procedure-to-procedure (PTP) edits publish them. Shared by ``ncci-ptp`` and
the modifier audits: which edits a run has, which billed lines they apply to on which dates,
and which modifiers bypass them.

The edits are the run's PTP table (:attr:`auditkit.engine.context.Context.ptp`): CMS's
practitioner PTP files when the config or the command line names them (``[reference] ptp``,
``--ptp``), else auditkit's packaged pain-procedure subset (``ncci_ptp_default.csv``, mostly
unverified: each row says how sure it is). Edits from CMS's files are confirmed (``C``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from auditkit.engine.context import Context
from auditkit.measures.coding import DISTINCT_MODIFIERS, CodingView, member

#: Reference confidence, strongest first: the rank of the edit a rule rests on.
CONFIDENCE_RANK: dict[str, int] = {"C": 0, "S": 1, "V": 2}
#: Severity of a finding that rests on one code-pair edit, by the edit's confidence rank.
EDIT_SEVERITY: tuple[str, ...] = ("medium", "medium", "low")
#: The deletion day of an edit CMS has not deleted (``*`` in the files).
NEVER: int = np.iinfo(np.int64).max
#: Modifiers that bypass a PTP edit with modifier indicator 1 on either line, besides the
#: anatomic ones (NCCI Policy Manual ch. I, E.1): 59 and XE/XS/XP/XU, the global surgery
#: modifiers (24, 25, 57, 58, 78, 79; 25 on a visit billed with a minor procedure), 27 and 91.
PTP_MODIFIERS: tuple[str, ...] = (
    *DISTINCT_MODIFIERS,
    "24",
    "25",
    "57",
    "58",
    "78",
    "79",
    "27",
    "91",
)
#: Anatomic modifiers that bypass a PTP edit with modifier indicator 1 when the two lines carry
#: different ones of a kind (NCCI Policy Manual ch. I, E.1): the sides, the eyelids, the
#: fingers, the toes and the coronary arteries. 50 (bilateral) stands for both sides.
ANATOMIC_MODIFIERS: dict[str, tuple[str, ...]] = {
    "side": ("RT", "LT"),
    "eyelid": ("E1", "E2", "E3", "E4"),
    "finger": ("FA", "F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8", "F9"),
    "toe": ("TA", "T1", "T2", "T3", "T4", "T5", "T6", "T7", "T8", "T9"),
    "coronary": ("LC", "LD", "RC", "LM", "RI"),
}


def code_pair_edits(context: Context) -> pd.DataFrame:
    """The run's PTP edits that can apply (see the module docstring), worked out once per run.

    One row per edit as published (a pair re-added after a deletion has a row per period):
    column1, column2 (upper case), indicator (0: no modifier bypasses it; 1: a distinct-service
    or anatomic modifier may), effective and deletion (days since 1970-01-01; deletion
    :data:`NEVER` when CMS has not deleted the edit; the edit is in effect on days
    ``effective <= day < deletion``), rank (:data:`CONFIDENCE_RANK` of the edit: 0 for CMS's
    files, the packaged row's confidence otherwise), confidence (the letter), rationale, source
    (the packaged row's source, "" for CMS's files) and default (True for the packaged table).
    Indicator 9 rows (CMS deleted the edit back to its first day: it never applies), rows
    deleted on or before their effective date and pairs of a code with itself are left out.
    """
    return context.cached("code_pairs.edits", lambda: _edits(context))


def _edits(context: Context) -> pd.DataFrame:
    table = context.ptp
    frame = table.frame()
    n = len(frame)
    effective = _days(frame["effective"], -1)
    deletion = _days(frame["deletion"], NEVER)
    if table.default and "confidence" in frame.columns:
        confidence = frame["confidence"].astype("string").str.strip().str.upper().fillna("V")
        confidence = confidence.where(confidence.isin(list(CONFIDENCE_RANK)), "V")
        source = frame["source"].astype("string").fillna("")
    else:
        confidence = pd.Series("C", index=frame.index, dtype="string")
        source = pd.Series("", index=frame.index, dtype="string")
    rationale = frame["rationale"] if "rationale" in frame.columns else pd.Series([""] * n)
    out = pd.DataFrame(
        {
            "column1": frame["column1"].astype("string").str.strip().str.upper(),
            "column2": frame["column2"].astype("string").str.strip().str.upper(),
            "indicator": frame["modifier_indicator"].to_numpy(dtype=np.int64),
            "effective": effective,
            "deletion": deletion,
            "rank": confidence.map(CONFIDENCE_RANK).to_numpy(dtype=np.int64),
            "confidence": confidence.to_numpy(dtype=object),
            "rationale": rationale.astype("string").fillna("").str.strip().to_numpy(dtype=object),
            "source": source.to_numpy(dtype=object),
            "default": np.full(n, bool(table.default)),
        }
    )
    usable = (
        out["indicator"].isin([0, 1])
        & (out["deletion"] > out["effective"])
        & out["column1"].ne("")
        & out["column2"].ne("")
        & out["column1"].ne(out["column2"])
    ).fillna(False)
    return out[usable.to_numpy(dtype=bool)].reset_index(drop=True)


def _days(dates: pd.Series, missing: int) -> np.ndarray:
    """Dates as days since 1970-01-01 (``missing`` where there is none)."""
    values = np.asarray(dates.to_numpy(dtype="datetime64[ns]"), dtype="datetime64[D]")
    out = values.astype(np.int64)
    out[np.isnat(values)] = missing
    return out


def imaging_bundle_pairs(edits: pd.DataFrame, bundles: pd.DataFrame) -> np.ndarray:
    """Per edit: is it an imaging guidance code with a code in one of its ranges in the
    ``imaging_bundles`` reference table (either way round)? ``imaging-bundled`` reports those
    pairs in its own words, so ``ncci-ptp`` leaves them to it."""
    c1 = edits["column1"].astype("string")
    c2 = edits["column2"].astype("string")
    shaped1 = c1.str.len().eq(5).fillna(False).to_numpy(dtype=bool)
    shaped2 = c2.str.len().eq(5).fillna(False).to_numpy(dtype=bool)
    c1 = c1.fillna("").to_numpy(dtype=object)
    c2 = c2.fillna("").to_numpy(dtype=object)
    covered = np.zeros(len(edits), dtype=bool)
    # One pass per row of the bundles table (a few dozen), each over the whole edit table.
    for imaging, first, last in bundles[["imaging", "first_code", "last_code"]].itertuples(
        index=False
    ):
        in_range2 = shaped2 & (c2 >= first) & (c2 <= last)
        in_range1 = shaped1 & (c1 >= first) & (c1 <= last)
        covered |= ((c1 == imaging) & in_range2) | ((c2 == imaging) & in_range1)
    return covered


def pair_hits(
    view: CodingView,
    edits: pd.DataFrame,
    *,
    lines: np.ndarray | None = None,
    groups: Sequence[np.ndarray] | None = None,
) -> pd.DataFrame:
    """The pairs of lines an edit applies to: two of ``lines`` (a mask; default: the billed,
    not voided, lines) in one group of ``groups`` (default: one claim, or one patient, date of
    service and rendering provider), whose codes are an edit's column 1 and column 2, where the
    edit is in effect on the column 2 line's date of service (on a line without a date: where
    CMS has not deleted the edit).

    Columns: first (position of the column 1 line), second (the column 2 line), indicator and
    rank of the edit, and edit (its row in ``edits``); one row per pair of lines (where two
    edits in effect pair them, the one no modifier bypasses, then the better-sourced).
    """
    columns = ["first", "second", "indicator", "rank", "edit"]
    empty = pd.DataFrame({c: np.zeros(0, dtype=np.int64) for c in columns})
    code_id = {str(c): i for i, c in enumerate(view.code_values)}
    known = edits["column1"].isin(code_id) & edits["column2"].isin(code_id)
    if not known.any():
        return empty
    width = len(view.code_values)
    pairs = pd.DataFrame(
        {
            "key": edits.loc[known, "column1"].map(code_id).to_numpy(dtype=np.int64) * width
            + edits.loc[known, "column2"].map(code_id).to_numpy(dtype=np.int64),
            "indicator": edits.loc[known, "indicator"].to_numpy(dtype=np.int64),
            "rank": edits.loc[known, "rank"].to_numpy(dtype=np.int64),
            "effective": edits.loc[known, "effective"].to_numpy(dtype=np.int64),
            "deletion": edits.loc[known, "deletion"].to_numpy(dtype=np.int64),
            "edit": np.flatnonzero(known.to_numpy(dtype=bool)),
        }
    )
    keys = pairs["key"].to_numpy()
    mask = view.billed if lines is None else np.asarray(lines, dtype=bool)
    codes = view.code_ids
    as_first = np.flatnonzero(member(codes, np.unique(keys // width)) & mask)
    as_second = np.flatnonzero(member(codes, np.unique(keys % width)) & mask)
    if not len(as_first) or not len(as_second):
        return empty
    parts = []
    # Lines are paired within their group first (a claim or a session holds a few lines), then
    # the pairs of codes are looked up among the edits: the edit table may be large.
    for group in (view.claim, view.session_provider) if groups is None else groups:
        left = pd.DataFrame({"group": group[as_first], "first": as_first})
        right = pd.DataFrame({"group": group[as_second], "second": as_second})
        both = left.merge(right, on="group")
        first = both["first"].to_numpy()
        second = both["second"].to_numpy()
        key = codes[first] * width + codes[second]
        keep = (first != second) & member(key, keys)
        parts.append(pd.DataFrame({"first": first[keep], "second": second[keep], "key": key[keep]}))
    lined = pd.concat(parts, ignore_index=True).drop_duplicates(["first", "second"])
    hits = lined.merge(pairs, on="key")
    day = view.day[hits["second"].to_numpy()]
    effective = hits["effective"].to_numpy()
    deletion = hits["deletion"].to_numpy()
    in_effect = np.where(day >= 0, (effective <= day) & (day < deletion), deletion == NEVER)
    hits = hits[in_effect].sort_values(["first", "second", "indicator", "rank", "edit"])
    hits = hits.drop_duplicates(["first", "second"])
    return hits[columns].reset_index(drop=True).astype(np.int64)


def different_sites(view: CodingView, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Per pair of lines (positions ``first`` and ``second``): do their anatomic modifiers put
    them on different sites? True when, for some kind of :data:`ANATOMIC_MODIFIERS`, both lines
    carry modifiers of that kind and none in common (RT and LT; F1 and F2); 50 counts as both
    sides."""
    first = np.asarray(first, dtype=np.int64)
    second = np.asarray(second, dtype=np.int64)
    present = set(view.modifier_names)
    bits = np.zeros(view.n, dtype=np.int64)
    kinds: list[int] = []
    bit = 0
    for modifiers in ANATOMIC_MODIFIERS.values():
        kind = 0
        for modifier in modifiers:
            if modifier in present:
                bits |= np.where(view.has(modifier), np.int64(1) << bit, 0)
            kind |= 1 << bit
            bit += 1
        kinds.append(kind)
    if "50" in present:
        side = kinds[0]
        bits |= np.where(view.has("50"), np.int64(side), 0)
    a, b = bits[first], bits[second]
    out = np.zeros(len(first), dtype=bool)
    for kind in kinds:
        out |= ((a & kind) != 0) & ((b & kind) != 0) & ((a & b & kind) == 0)
    return out


def column2_needs(view: CodingView, hits: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per line: is it the column 2 code of an edit with modifier indicator 1 whose column 1
    code is billed with it (a distinct-service modifier on it bypasses the edit), and the best
    confidence rank among those edits (3 where none)."""
    rank = np.full(view.n, len(CONFIDENCE_RANK), dtype=np.int64)
    bypass = hits[hits["indicator"] == 1]
    np.minimum.at(rank, bypass["second"].to_numpy(), bypass["rank"].to_numpy())
    return rank < len(CONFIDENCE_RANK), rank
