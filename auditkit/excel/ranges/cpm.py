"""Chronic pain management (G3002, G3003): the units a month's documented minutes support.

G3002 needs 30 minutes in the calendar month and each G3003 unit a further full 15 minutes
(CMS Physician Fee Schedule 2023); the minutes are the ``cpm-time`` audit's own.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from auditkit.audits.cpm_time import EXTRA_MINUTES, FIRST_MINUTES
from auditkit.errors import InputError
from auditkit.excel.ranges.cells import cells_text, examples, first_text, numbers

CPM_FIRST_CODE, CPM_ADD_ON_CODE = "G3002", "G3003"
CPM_FIRST_MINUTES, CPM_ADD_ON_MINUTES = FIRST_MINUTES, EXTRA_MINUTES


def cpm_units(minutes: Any) -> pd.DataFrame:
    """Units of G3002 and G3003 each month's minutes support (one row per cell).

    Columns ``G3002`` and ``G3003`` (Int64; missing for a blank cell). Under 30 minutes
    supports nothing; 30 minutes one G3002; each further full 15 minutes one G3003.
    """
    value = numbers(minutes, "minutes")
    negative = (value < 0).to_numpy(dtype=bool)
    if negative.any():
        raise InputError(
            f"minutes: {cells_text(int(negative.sum()))} negative "
            f"({examples(value.astype(str), pd.Series(negative, index=value.index))})",
            hint="give the minutes documented in the month",
        )
    first = (value >= CPM_FIRST_MINUTES).astype("float64").where(value.notna())
    extra = np.floor((value - CPM_FIRST_MINUTES) / CPM_ADD_ON_MINUTES).clip(lower=0)
    return pd.DataFrame(
        {
            CPM_FIRST_CODE: first.astype("Int64"),
            CPM_ADD_ON_CODE: extra.where(value.notna()).astype("Int64"),
        }
    )


def cpm_text(minutes: Any) -> pd.Series:
    """The codes as text per cell: ``"G3002 x1, G3003 x2"``; ``"none (under 30 minutes)"``."""
    units = cpm_units(minutes)
    first = units[CPM_FIRST_CODE]
    extra = units[CPM_ADD_ON_CODE]
    text = pd.Series(f"{CPM_FIRST_CODE} x1", index=units.index, dtype="string")
    text = text.mask(
        extra.gt(0).fillna(False), text + f", {CPM_ADD_ON_CODE} x" + extra.astype("string")
    )
    text = text.mask(first.eq(0).fillna(False), f"none (under {CPM_FIRST_MINUTES} minutes)")
    return text.mask(first.isna())


def cpm_codes(minutes: float) -> list[tuple[str, int]]:
    """The codes and units one month's minutes support, e.g. ``[("G3002", 1), ("G3003", 2)]``."""
    row = cpm_units(minutes).iloc[0]
    return [(code, int(row[code])) for code in (CPM_FIRST_CODE, CPM_ADD_ON_CODE) if row[code]]


def cpm_answer(minutes: Any, code: Any = None) -> pd.Series:
    """What AUDIT_CPM_CODES shows per cell: :func:`cpm_text`, or one code's units when ``code``
    is ``G3002`` or ``G3003``."""
    wanted = first_text(code)
    if wanted is None:
        return cpm_text(minutes)
    name = wanted.upper()
    if name not in (CPM_FIRST_CODE, CPM_ADD_ON_CODE):
        raise InputError(f"code {wanted!r} is not a CPM code", hint='use "G3002" or "G3003"')
    return cpm_units(minutes)[name]
