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
    cover_text = findings["covers"].fillna("").astype("str")
    covers = cover_text.to_numpy(dtype=object)
    has_cover = cover_text.ne("").to_numpy(dtype=bool)
    counted = eligible & ~has_cover
    contenders = np.flatnonzero(eligible & has_cover)
    if not len(contenders):
        return counted
    # Each contender's keys, one row per (finding, key); most findings cover one line.
    parts = pd.Series(covers[contenders], index=contenders)
    multi = parts.str.contains(COVERS_SEP, regex=False)
    if multi.any():
        keys = pd.concat([parts[~multi], parts[multi].str.split(COVERS_SEP).explode()])
    else:
        keys = parts
    pairs = pd.DataFrame({"owner": keys.index.to_numpy(), "key": keys.to_numpy(dtype=object)})
    pairs = pairs.drop_duplicates()  # a finding naming a line twice does not compete with itself
    owner = pairs["owner"].to_numpy()
    scope = findings["scope"].map(SCOPE_RANK).fillna(len(SCOPE_RANK)).to_numpy()
    audit_rank = findings["audit"].map({a: i for i, a in enumerate(order)}).fillna(len(order))
    # Rank the (finding, key) rows: most specific, largest, earliest audit, earliest finding.
    ranked = np.lexsort([owner, audit_rank.to_numpy()[owner], -dollars[owner], scope[owner]])
    key_codes, _ = pd.factorize(pairs["key"].to_numpy(dtype=object)[ranked])
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
