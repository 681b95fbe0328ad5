"""Patterns of line findings: the lines one audit flags for the same physician, payer and code.

A messy export can give one audit tens of thousands of line findings; nobody reads them one
by one. A *pattern* is one physician x payer x code (a missing value is a group of its own,
shown as "(none)") with its number of lines, its dollars (listed, and counted in the total),
its worst severity and its first claims. An audit sheet with at least :data:`PATTERNS_FROM` line
findings opens with a patterns table linking each pattern to its first line, and the Summary's
top findings are patterns rather than single lines of one pattern.

Everything works on whole columns (factorised keys, ``bincount``, ``groupby``): no Python
object per finding, so a million findings take a fraction of a second.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from auditkit.engine.result import SEVERITIES
from auditkit.report.cells import make_table
from auditkit.report.findings import counted_mask
from auditkit.report.layout import rows_before
from auditkit.report.model import Block, Column, Link, Table, Text, Title
from auditkit.report.safety import as_text

#: What makes a pattern: the lines of one audit with the same values of these columns.
PATTERN_KEYS: tuple[str, ...] = ("provider", "payer", "cpt")
#: An audit sheet with at least this many line findings opens with a patterns table.
PATTERNS_FROM = 50
#: Most patterns a patterns table shows (the largest first; every line stays in the line table).
#: A reader works the top of the list; each row is a link, written cell by cell, so a longer
#: table also costs writing time on a messy export with thousands of small patterns.
PATTERNS_SHOWN = 250
#: Claim ids named per pattern.
FIRST_CLAIMS = 3
#: Kinds of dollars named per pattern (a pattern usually has one: see DOLLAR_BASES).
BASES_SHOWN = 3
#: How a missing (or blank) physician, payer or code is shown; such lines are a group of their own.
NONE_LABEL = "(none)"

#: Columns of :func:`line_patterns` besides the keys.
PATTERN_COLUMNS: tuple[str, ...] = (
    "lines",
    "claims",
    "dollars_listed",
    "dollars_counted",
    "severity",
    "first_claims",
    "first",
    "dollars_basis",
    "message",
)

#: The columns of an audit sheet's patterns table. The link to the first line sits on the short
#: count (as in the Summary's Start here), so the cell that links never needs to wrap.
PATTERN_VIEW: tuple[Column, ...] = (
    Column("severity", "Severity", "text", 10),
    Column("provider", "Provider"),
    Column("payer", "Payer"),
    Column("cpt", "CPT", "text", 9),
    Column("lines", "Lines (go to first)", "integer"),
    Column("claims", "Claims", "integer", 9),
    Column("dollars_listed", "At risk (listed)", "currency", 15),
    Column("dollars_counted", "Counted in total", "currency", 15),
    Column("first_claims", "First claims", "text", 30),
)
#: The column of the patterns table whose cells link to the pattern's first line.
LINK_COLUMN = "lines"


def patterns_key(audit_id: str) -> str:
    """The table key of an audit's patterns table (links from the Summary go to it)."""
    return f"patterns:{audit_id}"


def line_count(found: pd.DataFrame) -> int:
    """How many of ``found`` are line findings (scope "line")."""
    return len(line_positions(found))


def line_patterns(found: pd.DataFrame, keys: Sequence[str] = PATTERN_KEYS) -> pd.DataFrame:
    """The line findings of ``found`` (scope "line") grouped by ``keys``, largest first.

    One row per group: the key values (categories; missing or blank as :data:`NONE_LABEL`),
    ``lines`` (line findings), ``claims`` (distinct claim ids), ``dollars_listed`` (sum of
    dollars at risk), ``dollars_counted`` (the part counted in the total), ``severity`` (the
    worst), ``first_claims`` (the first :data:`FIRST_CLAIMS` distinct claim ids in the findings'
    order, joined by ", "), ``first`` (the index label in ``found`` of the group's first
    finding), that finding's ``message``, and ``dollars_basis`` (the kinds of dollars of the
    group, joined by ", " where its findings' differ). Ordered by counted
    dollars, listed dollars, then lines, descending; ties keep the order of their first
    findings.
    """
    keys = list(keys)
    pos = line_positions(found)
    if not len(pos):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in [*keys, *PATTERN_COLUMNS]})
    coded = {k: _key_codes(found[k], pos) for k in keys if k in found.columns}
    group = np.zeros(len(pos), dtype=np.int64)
    for codes, labels in coded.values():
        # Re-factorised at each step: numbered in order of first appearance, and the combined
        # key stays below the number of lines.
        group = pd.factorize(group * len(labels) + codes)[0]
    n_groups = int(group.max()) + 1
    # A group's first finding is where its number first exceeds every number before it.
    seen = np.maximum.accumulate(group)
    first = np.flatnonzero(np.r_[True, group[1:] > seen[:-1]])

    dollars = pd.to_numeric(found["dollars_at_risk"], errors="coerce")
    dollars = dollars.to_numpy(dtype=float, na_value=np.nan)[pos]
    dollars = np.where(np.isnan(dollars), 0.0, dollars)
    counted = counted_mask(found).to_numpy(dtype=bool)[pos]
    lines = np.bincount(group, minlength=n_groups)
    listed = np.bincount(group, weights=dollars, minlength=n_groups)
    in_total = np.bincount(group, weights=np.where(counted, dollars, 0.0), minlength=n_groups)
    # Renumber the groups in their final order (lexsort is stable: ties by first appearance),
    # so the text columns are built in place rather than reordered.
    order = np.lexsort((-lines, -listed, -in_total))
    rank = np.empty(n_groups, dtype=np.int64)
    rank[order] = np.arange(n_groups)
    group, first = rank[group], first[order]

    out: dict[str, object] = {}
    for key in keys:
        if key in coded:
            codes, labels = coded[key]
            out[key] = pd.Categorical.from_codes(codes[first], categories=labels)
        else:
            out[key] = pd.Categorical.from_codes(np.zeros(n_groups, int), [NONE_LABEL])
    out["lines"] = lines[order]
    claims, first_claims = _first_claims(found, pos, group, n_groups)
    out["claims"] = claims
    # Sums of cents: rounded to cents, so the cell holds 6867.2, not 6867.199999999993.
    out["dollars_listed"] = np.round(listed[order], 2)
    out["dollars_counted"] = np.round(in_total[order], 2)
    out["severity"] = _worst_severity(found, pos, group, first)
    out["first_claims"] = first_claims
    out["first"] = found.index[pos[first]]
    out["dollars_basis"] = _basis(found, pos, group, n_groups)
    out["message"] = (
        found["message"].iloc[pos[first]].array
        if "message" in found.columns
        else np.full(n_groups, None, dtype=object)
    )
    return pd.DataFrame(out)


def patterns_section(
    audit_id: str, found: pd.DataFrame, intro: list[Block], max_rows: int
) -> tuple[list[Block], Table | None, pd.DataFrame]:
    """The blocks an audit sheet shows between its intro and its line table when it has at
    least :data:`PATTERNS_FROM` line findings: a "Patterns" heading, what a pattern is, the
    patterns table (at most :data:`PATTERNS_SHOWN` rows, and fewer when a sheet of ``max_rows``
    rows would hold no line after them) and a "Lines" heading. Also the table and the patterns
    it shows (rows of :func:`line_patterns`), to link once the line table is placed
    (:func:`link_patterns`). No blocks, no table for a smaller audit.
    """
    if line_count(found) < PATTERNS_FROM:
        return [], None, line_patterns(found.iloc[0:0])
    patterns = line_patterns(found)
    heading = Title("Patterns", level=2)
    lines_heading = Title("Lines", level=2)
    # Rows taken before the line table's header when it spills (its warning included), with
    # an empty patterns table; then room for the patterns, keeping one line on the first sheet.
    fixed = rows_before(
        [*intro, heading, Text(""), _table(audit_id, patterns.iloc[0:0]), lines_heading, Text("")]
    )
    room = max_rows - fixed - 1
    shown = patterns.iloc[: max(0, min(PATTERNS_SHOWN, room))]
    if not len(shown):
        return [], None, shown
    others = len(found) - int(patterns["lines"].sum())
    text = (
        "One row per physician, payer and code: how many lines this audit flags for it, their "
        "dollars and first claims, largest counted dollars first. Click a pattern's number of "
        "lines to go to its first line in the table below."
    )
    if len(shown) < len(patterns):
        text += (
            f" The {len(shown):,} largest of {len(patterns):,} patterns are shown; the line "
            "table has every line."
        )
    if others > 0:
        text += (
            f" {others:,} finding{'s' if others != 1 else ''} about a whole claim, physician, "
            "payer or code "
            f"{'are' if others != 1 else 'is'} in the line table, not in a pattern."
        )
    table = _table(audit_id, shown)
    return [heading, Text(text, tone="note"), table, lines_heading], table, shown


def link_patterns(
    table: Table, shown: pd.DataFrame, found_index: pd.Index, where: pd.DataFrame
) -> np.ndarray:
    """Point each pattern of ``table`` at the row of its first line, and say which pattern row
    each finding starts.

    ``where`` is, per finding of ``found_index`` (in order), the table part and row it was
    written to (:func:`auditkit.report.spill.spill`). Returns one number per finding: the row in
    the patterns table of the pattern it is the first line of, -1 for every other finding.
    """
    rows = found_index.get_indexer(pd.Index(shown["first"]))
    parts = where["table"].to_numpy()[rows]
    at = where["row"].to_numpy()[rows]
    table.links[LINK_COLUMN] = [Link(str(p), int(r)) for p, r in zip(parts, at, strict=True)]
    pattern_row = np.full(len(found_index), -1, dtype=np.int32)
    pattern_row[rows] = np.arange(len(rows), dtype=np.int32)
    return pattern_row


def _table(audit_id: str, patterns: pd.DataFrame) -> Table:
    return make_table(patterns_key(audit_id), PATTERN_VIEW, patterns, row_look="severity")


def line_positions(found: pd.DataFrame) -> np.ndarray:
    """Positions (0-based, in order) of the line findings of ``found`` (scope "line")."""
    if "scope" not in found.columns or not len(found):
        return np.zeros(0, dtype=np.int64)
    scope = found["scope"]
    if isinstance(scope.dtype, pd.CategoricalDtype):
        is_line = scope.cat.codes.to_numpy() == (
            scope.cat.categories.get_loc("line") if "line" in scope.cat.categories else -2
        )
    else:
        is_line = (scope == "line").fillna(False).to_numpy(dtype=bool)
    return np.flatnonzero(is_line)


def severity_order(values: pd.Series) -> np.ndarray:
    """0 for the most serious severity (:data:`SEVERITIES`), counting up; others rank last.
    Ranks each distinct value once."""
    codes, uniques = _codes(values)
    known = {s: i for i, s in enumerate(SEVERITIES)}
    written = _text(uniques).str.strip().str.lower().fillna("")
    rank_of = np.array([known.get(w, len(SEVERITIES)) for w in written] + [len(SEVERITIES)])
    return rank_of[codes]


def _codes(values: pd.Series) -> tuple[np.ndarray, object]:
    """Codes (-1 for missing) and distinct values of a column: a category's own codes, or
    factorised (hashing each value once, making no Python object per value)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy(dtype=np.int64), values.cat.categories
    return pd.factorize(values, use_na_sentinel=True)


def _key_codes(values: pd.Series, pos: np.ndarray) -> tuple[np.ndarray, pd.Index]:
    """Codes (0..k-1) at ``pos`` and the labels of a key column: missing and blank share the
    label "(none)", and values equal once trimmed share one code. Only the distinct values are
    turned into text."""
    codes, uniques = _codes(values)
    labels = _text(uniques).str.strip()
    labels = labels.mask(labels.eq(""), pd.NA).fillna(NONE_LABEL)
    # The last label stands for the missing values (code -1 indexes it).
    labels = pd.concat([labels, pd.Series([NONE_LABEL], dtype=labels.dtype)], ignore_index=True)
    merged, names = pd.factorize(labels)
    return merged[codes[pos]], pd.Index(names, dtype="string")


def _first_claims(
    found: pd.DataFrame, pos: np.ndarray, group: np.ndarray, n_groups: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per group: the number of distinct claim ids, and the first few joined by ", "."""
    if "claim_id" not in found.columns:
        return np.zeros(n_groups, dtype=np.int64), np.full(n_groups, "", dtype=object)
    return _distinct(_codes(found["claim_id"]), pos, group, n_groups, FIRST_CLAIMS)


def _distinct(
    coded: tuple[np.ndarray, object], pos: np.ndarray, group: np.ndarray, n_groups: int, limit: int
) -> tuple[np.ndarray, pd.Series]:
    """Per group (``group`` numbers the findings at ``pos``): how many distinct values it has
    (missing and blank left out), and the first ``limit`` of them in order joined by ", "
    (Arrow text: no Python string per value). ``coded`` is the column's :func:`_codes`."""
    codes, uniques = coded
    codes = codes[pos]
    names = pc.utf8_trim_whitespace(_arrow_text(uniques))
    names = pc.if_else(pc.equal(names, ""), pa.scalar(None, names.type), names)
    named = np.append(pc.is_valid(names).to_numpy(zero_copy_only=False), False)  # -1: missing
    # Each (group, value) pair once, at its first finding.
    pair = codes.astype(np.int64) * n_groups + group
    keep = named[codes] & ~pd.Series(pair).duplicated().to_numpy()
    groups, codes = group[keep], codes[keep]
    count = np.bincount(groups, minlength=n_groups)
    # The j-th distinct value of each group at once, for each j: no loop over groups.
    nth = pd.Series(groups).groupby(groups, sort=False).cumcount().to_numpy()
    sep = pa.scalar(", ", names.type)
    text = pa.chunked_array([pa.array(np.full(n_groups, ""), names.type)])
    for j in range(min(limit, int(count.max(initial=0)))):
        at = np.full(n_groups, -1, dtype=np.int64)
        at[groups[nth == j]] = codes[nth == j]
        part = pc.take(names, pa.array(at, mask=at < 0))
        # (binary_join_element_wise's null_handling="skip" drops rows in pyarrow 26: not used)
        joined = part if j == 0 else pc.binary_join_element_wise(text, pc.fill_null(part, ""), sep)
        text = pc.if_else(pc.is_valid(part), joined, text)
    return count, pd.Series(pd.arrays.ArrowStringArray(text), dtype="string")


def _arrow_text(values: object) -> pa.ChunkedArray:
    """Distinct values as Arrow text (one conversion per distinct value)."""
    return pa.chunked_array(_text(values).array.__arrow_array__())


def _text(values: object) -> pd.Series:
    """Distinct values as a pandas string column (Arrow-backed)."""
    text = pd.Series(values)
    try:
        return text.astype("string[pyarrow]").reset_index(drop=True)
    except UnicodeEncodeError:  # lone surrogates (undecodable bytes)
        return as_text(text.astype(object)).astype("string[pyarrow]").reset_index(drop=True)


def _worst_severity(
    found: pd.DataFrame, pos: np.ndarray, group: np.ndarray, first: np.ndarray
) -> pd.Categorical:
    """Per group, the most serious severity (:data:`SEVERITIES` order); a group with none of
    them shows its first finding's severity as written."""
    rank = severity_order(found["severity"])[pos]
    worst = pd.Series(rank).groupby(group).min().to_numpy()
    codes = np.where(worst < len(SEVERITIES), worst, -1)
    categories = list(SEVERITIES)
    unknown = np.flatnonzero(worst >= len(SEVERITIES))
    if len(unknown):  # rare: as written by the group's first finding
        written = _text(found["severity"].iloc[pos[first[unknown]]]).str.strip()
        extra = [w for w in written.dropna().unique() if w not in categories]
        categories += extra
        codes[unknown] = pd.Index(categories).get_indexer(written.fillna("").to_numpy(object))
    return pd.Categorical.from_codes(codes, categories=categories)


def _basis(found: pd.DataFrame, pos: np.ndarray, group: np.ndarray, n_groups: int) -> pd.Series:
    """Per group, what its dollars are (the kinds in order of first appearance where its
    findings' differ, e.g. "paid amount, expected payment")."""
    if "dollars_basis" not in found.columns:
        return pd.Series(pd.NA, index=range(n_groups), dtype="string")
    codes, uniques = coded = _codes(found["dollars_basis"])
    names = _text(uniques).str.strip().replace("", pd.NA)
    by_group = pd.Series(codes[pos]).groupby(group)
    low, high = by_group.min().to_numpy(), by_group.max().to_numpy()
    basis = pd.Series(names.reindex(low).to_numpy(), dtype="string")  # -1 (missing): NA
    mixed = low != high
    if mixed.any():  # only the findings of those groups are looked at again
        rows = mixed[group]
        count, text = _distinct(coded, pos[rows], group[rows], n_groups, BASES_SHOWN)
        basis = basis.where(~mixed, text.where(count > 0))
    return basis
