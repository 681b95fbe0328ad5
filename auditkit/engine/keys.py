"""Stable finding keys: the same problem in the same place has the same key in the next run.

A key is built from the fields that say *where* a finding is, chosen by its scope:

==========  =============================================================
scope       fields (besides ``audit`` and ``scope``)
==========  =============================================================
line        ``claim_id``, ``line``, ``cpt``
claim       ``claim_id``, ``cpt``
provider    ``provider``, ``payer``, ``cpt``
payer       ``provider``, ``payer``, ``cpt``
code        ``provider``, ``payer``, ``cpt``
practice    ``provider``, ``payer``, ``cpt``
==========  =============================================================

A line or claim finding's physician and payer only describe it (a corrected payer is the same
line), so they are left out; a finding about a group names the group in exactly the fields it
fills (an audit per code at a payer fills ``cpt`` and ``payer``, one about the practice none),
so all three are used, blank where the audit leaves them blank. Never message text, dollars or
row numbers: those change when nothing else does.

Each field is taken as text (surrounding spaces dropped; missing, NaN and empty text are all
the empty text; a whole number is written without decimals, so ``3`` and ``3.0`` agree) and
hashed with SipHash-2-4 under pandas' fixed key (:func:`pandas.util.hash_array` of its UTF-8
bytes); the fields' hashes are combined in the order above with pandas' integer mix. The
result depends on nothing but those texts: it is the same on every run, machine and Python
process (Python's own ``hash`` of text is salted per process and is not used). It is shown as
16 lower-case hex digits.

An audit may report one place twice (a line in two NCCI pairs; two denial causes at one payer).
Keys are made unique by an occurrence number: the first finding of a place has the bare key,
the second ``KEY-2``, and so on, numbered in an order that does not depend on the input file's
row order: by message template, then the lines covered, then the evidence (JSON text). Two
findings equal in all of those are interchangeable.

The same function works from the findings' core columns and from the fields of an audit JSON
written before keys existed (:func:`hashes` takes any frame with the seven columns).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.util import hash_array

__all__ = ["KEY_COLUMNS", "KEY_FIELDS", "hashes", "key_text", "occurrences"]

#: The fields that locate a finding, by scope (besides ``audit`` and ``scope``).
KEY_FIELDS: dict[str, tuple[str, ...]] = {
    "line": ("claim_id", "line", "cpt"),
    "claim": ("claim_id", "cpt"),
    "provider": ("provider", "payer", "cpt"),
    "payer": ("provider", "payer", "cpt"),
    "code": ("provider", "payer", "cpt"),
    "practice": ("provider", "payer", "cpt"),
}
#: Every column a key may read, in the order their hashes are combined.
KEY_COLUMNS: tuple[str, ...] = ("audit", "scope", "provider", "payer", "cpt", "claim_id", "line")
#: Rows hashed at once (bounds the Python text made for distinct values).
_CHUNK = 100_000
_MIX = np.uint64(0x100000001B3)


def _text(value: object) -> str:
    if value is None or value is pd.NA:
        return ""
    if isinstance(value, float | np.floating):
        if value != value:
            return ""
        if float(value).is_integer():
            return str(int(value))
    if isinstance(value, np.integer):
        return str(int(value))
    return str(value).strip()


def _field_hashes(values: pd.Series) -> np.ndarray:
    """SipHash of each value's normalised text (distinct values hashed once)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy()
        uniques = list(values.cat.categories)
    else:
        codes, found = pd.factorize(values, use_na_sentinel=True)
        uniques = list(found)
    texts = np.array([_text(u) for u in uniques] + [""], dtype=object)
    table = hash_array(texts, categorize=False)
    return table[np.where(codes < 0, len(texts) - 1, codes)]


def hashes(frame: pd.DataFrame) -> np.ndarray:
    """The 64-bit key of each finding in ``frame`` (columns :data:`KEY_COLUMNS`; a missing
    column counts as blank), before occurrence numbers (see the module docstring)."""
    n = len(frame)
    out = np.empty(n, dtype=np.uint64)
    scope = frame["scope"].astype("string").fillna("").str.strip().to_numpy(dtype=object)
    for start in range(0, n, _CHUNK):
        stop = min(n, start + _CHUNK)
        part = frame.iloc[start:stop]
        kinds = scope[start:stop]
        acc = np.zeros(stop - start, dtype=np.uint64)
        blank = hash_array(np.array([""], dtype=object), categorize=False)[0]
        for name in KEY_COLUMNS:
            if name in part.columns:
                column = _field_hashes(part[name].reset_index(drop=True))
            else:
                column = np.full(stop - start, blank, dtype=np.uint64)
            if name not in ("audit", "scope"):
                scopes = [k for k, fields in KEY_FIELDS.items() if name in fields]
                wanted = np.isin(kinds, scopes)
                if name in KEY_FIELDS["practice"]:  # an unknown scope: as a group's
                    wanted |= ~np.isin(kinds, list(KEY_FIELDS))
                column = np.where(wanted, column, blank)
            with np.errstate(over="ignore"):
                acc = hash_array(acc * _MIX + column)
        out[start:stop] = acc
    return out


def occurrences(
    keys: np.ndarray, tiebreak: Callable[[np.ndarray], pd.Series] | None = None
) -> np.ndarray:
    """Each finding's occurrence number among the findings with its key (1 for the first).

    ``tiebreak(positions)`` gives a text per finding at ``positions`` (only findings that share
    a key are asked) by which findings of one key are numbered; ties keep the given order."""
    n = len(keys)
    seq = np.ones(n, dtype=np.uint32)
    if n < 2:
        return seq
    order = np.argsort(keys, kind="stable")
    ranked = keys[order]
    same = ranked[1:] == ranked[:-1]
    if not same.any():
        return seq
    shared = np.zeros(n, dtype=bool)
    shared[1:] |= same
    shared[:-1] |= same
    where = np.sort(order[shared])  # positions of findings sharing a key, in the given order
    sub = keys[where]
    if tiebreak is not None:
        text = pd.Series(tiebreak(where)).astype("string").fillna("").to_numpy(dtype=object)
        codes = pd.factorize(text, sort=True)[0]
        inner = np.lexsort((np.arange(len(where)), codes, sub))
    else:
        inner = np.lexsort((np.arange(len(where)), sub))
    group_sorted = sub[inner]
    starts = np.r_[True, group_sorted[1:] != group_sorted[:-1]]
    first = np.maximum.accumulate(np.where(starts, np.arange(len(inner)), 0))
    seq[where[inner]] = (np.arange(len(inner)) - first + 1).astype(np.uint32)
    return seq


def key_text(key_hash: np.ndarray | pd.Series, key_seq: np.ndarray | pd.Series) -> pd.Series:
    """The keys as text: 16 hex digits, ``-N`` added for the N-th finding of a place (N > 1)."""
    h = np.ascontiguousarray(np.asarray(key_hash, dtype=np.uint64).astype(">u8"))
    n = len(h)
    if not n:
        return pd.Series(pd.array([], dtype="string[pyarrow]"))
    digits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    raw = h.view(np.uint8).reshape(n, 8)
    hexed = np.empty((n, 16), dtype=np.uint8)
    hexed[:, 0::2] = digits[raw >> 4]
    hexed[:, 1::2] = digits[raw & 15]
    offsets = pa.py_buffer((np.arange(n + 1, dtype=np.int32) * 16).tobytes())
    text = pa.Array.from_buffers(pa.string(), n, [None, offsets, pa.py_buffer(hexed.tobytes())])
    seq = np.asarray(key_seq, dtype=np.int64)
    if (seq > 1).any():
        suffix = pa.array(np.where(seq > 1, pd.Series(seq).astype(str).radd("-"), ""))
        text = pc.binary_join_element_wise(text, suffix, "")
    return pd.Series(pd.array(text, dtype="string[pyarrow]"))
