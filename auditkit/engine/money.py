"""Counting money once: which findings' dollars go into a total.

Several audits can flag the same claim line (a denied facet line with no side modifier is a
laterality finding, a denial pattern and a denial root cause), and some findings roll up others
(a physician's trigger-point pattern and its lines; A/R aging and its claims). A total that adds
them all counts the same dollars several times. The rule, applied to every run:

* a finding marked as a roll-up is never counted: its dollars are its parts';
* a finding with no dollars is not counted (there is nothing to count);
* each claim line's money is counted in at most one finding: among the findings that cover a
  line, the most specific wins (a finding about the line, then about its claim, then about a
  code, physician or payer, then about the practice), then the largest amount, then the audit
  that comes first in the registry. A finding is counted when it wins every line it covers;
* a finding that covers no line (money on no line, e.g. an unbilled month of care
  management) is counted.

The result errs on the side of counting less: a finding that loses one of its lines to a more
specific one is left out as a whole rather than split.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from auditkit.engine.result import COVERS_SEP

#: How specific a finding is, by scope (lower is more specific).
SCOPE_RANK: dict[str, int] = {
    "line": 0,
    "claim": 1,
    "code": 2,
    "provider": 2,
    "payer": 2,
    "practice": 3,
}


def settle(findings: pd.DataFrame, order: Sequence[str]) -> np.ndarray:
    """The ``counted`` flag of every finding (see the module docstring). ``findings`` needs the
    columns audit, scope, dollars_at_risk, covers and counted (False marks a roll-up);
    ``order`` is the audits' registry order."""
    n = len(findings)
    if n == 0:
        return np.zeros(0, dtype=bool)
    dollars = findings["dollars_at_risk"].to_numpy(dtype="float64", na_value=0.0)
    eligible = findings["counted"].to_numpy(dtype=bool) & (dollars > 0)
    cover_text = pa.chunked_array(
        [findings["covers"].astype("string[pyarrow]").fillna("").array.__arrow_array__()]
    ).combine_chunks()
    has_cover = pc.not_equal(cover_text, "").to_numpy(zero_copy_only=False)
    counted = eligible & ~has_cover
    contenders = np.flatnonzero(eligible & has_cover)
    if not len(contenders):
        return counted
    # Each contender's keys, one row per (finding, key); whole Arrow columns, no Python string
    # per finding.
    lists = pc.split_pattern(cover_text.take(pa.array(contenders)), COVERS_SEP)
    flat = pc.list_flatten(lists)
    parents = pc.list_parent_indices(lists).to_numpy()
    encoded = pc.dictionary_encode(flat)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    key_ids = encoded.indices.to_numpy(zero_copy_only=False)
    pairs = pd.DataFrame({"owner": contenders[parents], "key": key_ids})
    pairs = pairs.drop_duplicates()  # a finding naming a line twice does not compete with itself
    owner = pairs["owner"].to_numpy()
    scope = _ranks(findings["scope"], SCOPE_RANK)
    audit_rank = pd.Series(_ranks(findings["audit"], {a: i for i, a in enumerate(order)}))
    # Rank the (finding, key) rows: most specific, largest, earliest audit, earliest finding.
    ranked = np.lexsort([owner, audit_rank.to_numpy()[owner], -dollars[owner], scope[owner]])
    key_codes = pairs["key"].to_numpy()[ranked]
    first_of_key = np.zeros(len(ranked), dtype=bool)
    _, first = np.unique(key_codes, return_index=True)
    first_of_key[first] = True
    winners = owner[ranked]
    # A finding is counted when it is first for every one of its keys.
    lost = np.zeros(n, dtype=bool)
    lost[winners[~first_of_key]] = True
    won_all = np.zeros(n, dtype=bool)
    won_all[contenders] = True
    won_all &= ~lost
    return counted | won_all


def _ranks(values: pd.Series, ranks: dict[str, int]) -> np.ndarray:
    """Each value's rank (unknown and missing values last), via the distinct values only."""
    if isinstance(values.dtype, pd.CategoricalDtype):  # no text per value
        codes, uniques = values.cat.codes.to_numpy(), values.cat.categories
    else:
        codes, uniques = pd.factorize(values.astype("string"), use_na_sentinel=True)
    table = np.array([ranks.get(str(u), len(ranks)) for u in uniques] + [len(ranks)], dtype=float)
    return table[np.where(codes < 0, len(uniques), codes)]
