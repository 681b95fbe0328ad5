"""The fast paths of reading a large export give what the plain paths give.

Splitting list cells in pyarrow, joining tokens per cell in one pyarrow call, returning an
already clean text column as it is, transcoding ASCII-only Windows-1252 cells and building a
constant text column are shortcuts taken for speed (issue 16); each is checked here against
the plain computation it replaces.
"""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from auditkit.ingest import normalise as n
from auditkit.ingest.canonical_frame import _constant_text
from auditkit.ingest.text_body import _cp1252_to_utf8

#: Characters list cells are made of, with the separators and Unicode spaces Python's ``\s``
#: takes and RE2's ``\s`` does not.
_ALPHABET = [
    *"AB12.-,;|/+ \t\n",
    "\xa0",
    "\u3000",
    "\u2028",
    "\x1c",
    "\x85",
    "\x0b",
    "\u200b",
    "\ufeff",
    "é",
]


def text(*values: object) -> pd.Series:
    return pd.Series(list(values), dtype=n.TEXT)


@pytest.mark.parametrize("separators", [r",;/|+\-", ",;|/"])
def test_tokens_split_in_pyarrow_as_python_splits_them(separators: str) -> None:
    python, re2 = n._separators(separators)
    rng = random.Random(16)
    for _ in range(200):
        cells = [
            "".join(rng.choice(_ALPHABET) for _ in range(rng.randint(0, 10)))
            for _ in range(rng.randint(1, 12))
        ]
        uniques = text(*cells)
        expected = uniques.str.upper().str.split(python, regex=True).explode()
        pd.testing.assert_series_equal(n._tokens(uniques, python, re2), expected)


def test_unicode_spaces_separate_modifiers_and_diagnoses() -> None:
    modifiers = n.parse_modifiers(text("25\xa059", "rt\u3000lt", None))
    assert modifiers.values.tolist() == ["25,59", "RT,LT", ""]
    diagnoses = n.parse_diagnoses(text("m54.16\xa0M47.816", "x"))
    assert diagnoses.values.tolist() == ["M54.16,M47.816", ""]
    assert diagnoses.bad.tolist() == [False, True]


def _regroup_by_hand(
    tokens: pd.Series, keep: pd.Series, cells: int, limit: int
) -> tuple[list[str], list[bool]]:
    kept = tokens[keep.fillna(False).astype(bool)]
    joined, over = [], []
    for cell in range(cells):
        mine = [str(t) for t in kept[kept.index == cell]]
        joined.append(",".join(mine[:limit]))
        over.append(len(mine) > limit)
    return joined, over


def test_regroup_joins_the_kept_tokens_of_each_cell_up_to_the_limit() -> None:
    rng = np.random.default_rng(16)
    for trial in range(100):
        cells = int(rng.integers(0, 12))
        where = np.sort(rng.integers(0, max(cells, 1), int(rng.integers(0, 30)) if cells else 0))
        tokens = pd.Series([f"T{rng.integers(0, 9)}" for _ in where], index=where, dtype="str")
        keep = pd.Series(rng.random(len(where)) < 0.7, index=where)
        if trial % 2:
            keep = keep.astype("boolean")
            keep.iloc[:1] = pd.NA
        limit = int(rng.integers(1, 4))
        joined, over = n._regroup(tokens, keep, cells, limit)
        assert (joined.tolist(), over.tolist()) == _regroup_by_hand(tokens, keep, cells, limit)
        assert joined.dtype == n.TEXT
        assert list(joined.index) == list(range(cells))


def test_regroup_keeps_at_most_the_limit_and_flags_the_rest() -> None:
    parsed = n.parse_modifiers(text("25 59 RT LT XS", "25"))
    assert parsed.values.tolist() == ["25,59,RT,LT", "25"]
    assert parsed.bad.tolist() == [True, False]


def test_clean_text_returns_a_clean_column_as_it_is() -> None:
    values = text("2500001", "P142798", None, "A-17/B")
    parsed = n.clean_text(values)
    pd.testing.assert_series_equal(parsed.values, values)
    assert not parsed.bad.any()


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        (" 2500001", "2500001"),
        ("Smith,  John", "Smith, John"),
        ("Smith,\tJohn", "Smith, John"),
        ("Karen\xa0", "Karen"),
        ("", None),
        ("Ann Lee", "Ann Lee"),
        ("Zoë", "Zoë"),
    ],
)
def test_clean_text_still_cleans_what_needs_it(cell: str, expected: str | None) -> None:
    values = n.clean_text(text("2500001", cell)).values.tolist()
    assert values[0] == "2500001"
    assert (None if pd.isna(values[1]) else values[1]) == expected


def test_spaceless_ascii_reads_only_the_cells_of_a_sliced_chunk() -> None:
    chunk = pa.array(["ab", "cd "], pa.large_string())
    assert n._spaceless_ascii(pa.chunked_array([chunk.slice(0, 1)]))
    assert not n._spaceless_ascii(pa.chunked_array([chunk.slice(1, 1)]))
    assert not n._spaceless_ascii(pa.chunked_array([pa.array(["ab", ""], pa.large_string())]))


def test_cp1252_cells_transcode_with_and_without_accents() -> None:
    cells = [b"2500001", b"", b"P142798"]
    assert _cp1252_to_utf8(pa.array(cells, pa.binary())).to_pylist() == [
        "2500001",
        "",
        "P142798",
    ]
    accented = pa.array([b"Zo\xeb", b"caf\xe9 \x80", b"x"], pa.binary()).slice(1)
    assert _cp1252_to_utf8(accented).to_pylist() == ["café €", "x"]


@pytest.mark.parametrize(
    ("value", "lines"), [("exports/a.csv", 3), ("", 2), ("é.csv", 1), ("x", 0)]
)
def test_constant_text_repeats_the_value_on_every_line(value: str, lines: int) -> None:
    column = _constant_text(value, lines, pd.RangeIndex(lines))
    pd.testing.assert_series_equal(column, pd.Series([value] * lines, dtype=n.TEXT))
