"""Shared helpers that turn values into report cells: typed tables and short plain text."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from datetime import date
from typing import Any

import pandas as pd

from auditkit.report.model import Column, Link, Table
from auditkit.report.safety import as_text, clean_text_series
from auditkit.report.style import NUMERIC_KINDS


def make_table(
    key: str,
    columns: Iterable[Column],
    source: pd.DataFrame,
    *,
    row_look: str | None = None,
    links: dict[str, list[Link | None]] | None = None,
) -> Table:
    """A :class:`Table` of the given columns, values coerced to their kinds and sanitised.

    A column whose values do not fit its kind (e.g. text in a money column) is shown as text
    rather than losing values.
    """
    data, kept = {}, []
    for col in columns:
        if col.key not in source.columns:
            continue
        values, kind = _coerce(source[col.key].reset_index(drop=True), col.kind)
        data[col.key] = values
        kept.append(replace(col, kind=kind) if kind != col.kind else col)
    frame = pd.DataFrame(data, index=pd.RangeIndex(len(source)))
    return Table(key, kept, frame, row_look=row_look, links=dict(links or {}))


def _coerce(values: pd.Series, kind: str) -> tuple[pd.Series, str]:
    if kind in NUMERIC_KINDS:
        if kind in ("date", "datetime"):
            converted = _to_datetime(values)
        else:
            converted = pd.to_numeric(values, errors="coerce").astype("float64")
        if converted is not None and not bool((converted.isna() & values.notna()).any()):
            return converted, kind
        kind = "text"
    if kind == "bool":
        try:
            return values.astype("boolean"), kind
        except (TypeError, ValueError):
            kind = "text"
    return clean_text_series(values), "text"


def _to_datetime(values: pd.Series) -> pd.Series | None:
    try:
        converted = pd.to_datetime(values, errors="coerce")
    except (TypeError, ValueError):
        return None
    if getattr(converted.dt, "tz", None) is not None:
        converted = converted.dt.tz_localize(None)
    return converted.astype("datetime64[ns]")


def has_content(values: pd.Series) -> bool:
    """True when any value is present (for text: not blank)."""
    if values.dtype == object or pd.api.types.is_string_dtype(values):
        text = as_text(values).str.strip()
        return bool((text.fillna("") != "").any())
    return bool(values.notna().any())


def short_text(value: Any) -> str:
    """A value as short text: floats to 4 significant digits, at most 10 items of a list."""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list | tuple | set):
        items = [short_text(v) for v in value]
        return ", ".join(items[:10]) + (f" (+{len(items) - 10} more)" if len(items) > 10 else "")
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {short_text(v)}" for k, v in value.items()) + "}"
    return str(value)


def plain_doc_text(text: str) -> str:
    """Documentation text without reStructuredText markup: ``x`` and :role:`x` become x."""
    text = re.sub(r":[\w:.-]+:`~?([^`]+)`", r"\1", text)
    return re.sub(r"``(.+?)``", r"\1", text)


def plain_value(value: Any) -> Any:
    """numpy scalars and pandas timestamps as plain Python values."""
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item") and not isinstance(value, str | bytes | date):
        try:
            return value.item()
        except (ValueError, AttributeError):
            return value
    return value
