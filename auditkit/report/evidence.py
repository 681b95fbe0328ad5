"""A finding's evidence in plain words, for cells a manager reads.

Audits keep their evidence as a dict of counts, rates, sources and nested tables. Shown as it is,
that reads like Python (``{'0-30': 0.0}``, ``p_value: 7.978e-11``, ``mai: None``, internal file
names and confidence letters). :func:`evidence_text` writes it as short text instead:

* keys with spaces for underscores; empty values (None, NaN, blank) left out;
* a p-value as what it means: "very unlikely to be chance (p < 0.001)", "p = 0.03";
* shares and rates as percentages, large amounts with thousands separators, yes/no for flags;
* lists joined with ", " (at most a few items), nested dicts as "key value; ...";
* sources without auditkit's own file names, confidence letters as words.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from auditkit.engine.findingset import FindingSet

#: Keys the finding shows in columns of their own (or that only locate it).
HIDDEN_KEYS = frozenset({"source_file", "source_row"})
#: Keys whose value says where a rule or number came from.
SOURCE_KEYS = frozenset(
    {"source", "fee_source", "limit_source", "edit_source", "as_of_source", "limit_from"}
)
#: What the confidence letters of auditkit's reference tables mean.
CONFIDENCE_WORDS = {"C": "confirmed", "S": "secondary source", "V": "unverified"}

#: Items of a list shown before "(+N more)".
MAX_ITEMS = 5
#: Rows of a nested table (a list of dicts) shown before "(+N more)".
MAX_ROWS = 3
#: Characters of one text value before it is cut with "...".
MAX_VALUE_CHARS = 160

_FILE_NAME = re.compile(r"\b[\w.-]+\.(?:csv|tsv|toml|json|parquet|xlsx|txt|md|py)\b", re.I)
_AUDITKIT_FILE_LEAD = re.compile(
    r"\b(?:as|from|in)\s+auditkit's\s+[\w.-]+\.(?:csv|tsv|toml|json|parquet|xlsx)\s*[:,;]?\s*",
    re.I,
)
_INTERNAL_NOTES = re.compile(r"\s*;?\s*pain-billing-facts\s+s\.\s*[\d.\-–, ]*\d", re.I)
_CONFIDENCE_IN_TEXT = re.compile(r"\(([CSV])\)")
_IDENTIFIER = re.compile(r"[a-z0-9]+(?:_[a-z0-9]+)+")


def evidence_text(evidence: Any) -> str | None:
    """``evidence`` as short plain text ("key: value; ..."), None when there is nothing to say."""
    if _empty(evidence):
        return None
    if isinstance(evidence, dict):
        parts = []
        for key, value in evidence.items():
            if key in HIDDEN_KEYS:
                continue
            part = _item(str(key), value, top=True)
            if part:
                parts.append(part)
        return "; ".join(parts) or None
    if isinstance(evidence, list | tuple | set):
        return _value("", evidence) or None
    return plain(evidence) or None


def p_value_text(p: float) -> str:
    """What a p-value means, in words."""
    if p < 0.001:
        return "very unlikely to be chance (p < 0.001)"
    shown = f"p = {_number(p)}"
    if p < 0.05:
        return f"unlikely to be chance ({shown})"
    return f"could be chance ({shown})"


def plain(value: Any) -> str:
    """One scalar as plain text: yes/no, numbers without exponents, text as it is."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _number(value)
    if hasattr(value, "item") and not isinstance(value, str | bytes):  # numpy scalars
        try:
            return plain(value.item())
        except (ValueError, AttributeError):
            pass
    return str(value)


def _item(key: str, value: Any, *, top: bool) -> str | None:
    """One "key: value" (top level) or "key value" (nested), None when the value is empty."""
    if _empty(value):
        return None
    label = key.replace("_", " ").strip()
    lowered = key.lower()
    if lowered in ("p_value", "pvalue", "p") and _is_number(value):
        return p_value_text(float(value))
    if lowered == "confidence" and isinstance(value, str):
        words = CONFIDENCE_WORDS.get(value.strip().upper(), value)
        return f"{label}: {words}" if top else f"{label} {words}"
    if lowered in SOURCE_KEYS and isinstance(value, str):
        text = _source_text(value)
    else:
        text = _value(lowered, value)
    if not text:
        return None
    return f"{label}: {text}" if top else f"{label} {text}"


def _value(key: str, value: Any) -> str:
    if isinstance(value, dict):
        parts = [_item(str(k), v, top=False) for k, v in value.items()]
        return "; ".join(p for p in parts if p)
    if isinstance(value, list | tuple | set):
        items = [v for v in value if not _empty(v)]
        if items and all(isinstance(v, dict) for v in items):
            shown = [f"({_value(key, v)})" for v in items[:MAX_ROWS]]
            more = len(items) - MAX_ROWS
        else:
            shown = [_value(key, v) for v in items[:MAX_ITEMS]]
            more = len(items) - MAX_ITEMS
        shown = [s for s in shown if s and s != "()"]
        return ", ".join(shown) + (f" (+{more} more)" if more > 0 and shown else "")
    if _is_share(key) and _is_number(value) and 0 <= float(value) <= 1:
        return _percent(float(value))
    if isinstance(value, str):
        return _cut(_plain_text(value))
    return _cut(plain(value))


def _source_text(text: str) -> str:
    """Where a rule came from, without auditkit's internal file and note names."""
    text = _AUDITKIT_FILE_LEAD.sub("", text)
    text = _INTERNAL_NOTES.sub("", text)
    text = _FILE_NAME.sub("", text)
    text = _CONFIDENCE_IN_TEXT.sub(lambda m: f"({CONFIDENCE_WORDS[m.group(1)]})", text)
    text = text.replace("_", " ")
    text = re.sub(r"\(\s*[;,]?\s*\)", "", text)  # brackets emptied by the removals
    text = re.sub(r"\s+([;,.)])", r"\1", re.sub(r"\s{2,}", " ", text))
    return _cut(text.strip(" ;,:"))


def _plain_text(text: str) -> str:
    """Text as it is, except internal names (``submitted_date``) with spaces for underscores."""
    text = text.replace("``", "")
    return text.replace("_", " ") if _IDENTIFIER.fullmatch(text) else text


def _cut(text: str) -> str:
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 3].rstrip() + "..."


def _is_share(key: str) -> bool:
    return "share" in key or key.endswith("rate") or "rate_" in key or key.endswith("_pct")


def _percent(value: float) -> str:
    return f"{value * 100:.1f}".rstrip("0").rstrip(".") + "%"


def _number(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    if abs(value) >= 1:
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    text = f"{value:.2g}"
    if "e" in text:  # very small: plain decimals, never an exponent
        text = f"{value:.10f}".rstrip("0").rstrip(".")
    return text


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, str) and not value.strip():
        return True
    if isinstance(value, dict | list | tuple | set) and not value:
        return True
    if isinstance(value, dict | list | tuple | set):
        return False
    try:  # numpy / pandas missing values
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def evidence_texts(found: FindingSet, core: pd.DataFrame) -> pd.Series:
    """:func:`evidence_text` of each finding in ``core`` (a slice of ``found.core``), built
    column by column: each distinct value of an evidence column is put in words once, and a
    finding's parts are joined with "; " (empty parts left out), so no dict is made per
    finding. None where there is nothing to say."""
    out = pd.Series(pd.array([None] * len(core), dtype="string[pyarrow]"))
    for where, keys, values in found.evidence_groups(core):
        pieces = []
        for key in keys:
            if key in HIDDEN_KEYS or key not in values.columns:
                continue
            pieces.append(_item_column(key, values[key]))
        if not pieces:
            continue
        if len(pieces) == 1:  # (Arrow drops null rows when it joins a single array)
            joined = pieces[0]
        else:
            joined = pc.binary_join_element_wise(*pieces, "; ", null_handling="skip")
        joined = pc.if_else(pc.equal(joined, ""), pa.scalar(None, pa.string()), joined)
        out.iloc[where] = pd.array(joined, dtype="string[pyarrow]")
    return out


def _item_column(key: str, values: pd.Series) -> pa.Array:
    """``_item(key, value, top=True)`` of each value, as an Arrow string array (null where the
    value says nothing)."""
    if _holds_containers(values):  # lists and dicts cannot be hashed: one by one (few findings)
        texts = [_item(key, _plain_value(v), top=True) for v in values]
        return pa.array(texts, type=pa.string())
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    words = [_item(key, v, top=True) for v in np.asarray(uniques, dtype=object)] + [None]
    table = pa.array(words, type=pa.string())
    return table.take(pa.array(np.where(codes < 0, len(words) - 1, codes)))


def _plain_value(value: Any) -> Any:
    """A list held by numpy or Arrow as a Python list."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def _holds_containers(values: pd.Series) -> bool:
    """Whether a column holds lists or dicts (Python objects, or an Arrow list or struct)."""
    if isinstance(values.dtype, pd.ArrowDtype):
        kind = values.dtype.pyarrow_dtype
        return pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_struct(kind)
    return values.dtype == object and any(isinstance(v, list | dict | tuple) for v in values)
