"""The claim-level arrays shared by the generator's steps and the planting.

A *claim table* is a dict of numpy arrays, one entry per claim (see :data:`CLAIM_FIELDS`):
the base claims and the planted ones (:mod:`auditkit.synth.plant`) are both claim tables, and
every step of the generator adds to or reads from one. Here too: the claim outcome categories,
the 12-month :class:`Calendar`, the templates flattened into arrays (:func:`template_tables`)
and :class:`Generated`, the generator's result.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from auditkit.synth import catalog as cat

#: Claim outcome categories (claim level); line-level denials are added on top.
OK, ELIGIBILITY, INFO, TIMELY, REJECTED, RESUBMITTED, EDITED, VOIDED, MODIFIER_DENIAL = range(9)

#: Days from the last date of service to the date of the export ("as of").
AS_OF_LAG_DAYS = 30
#: Planted claims are dated at least this many business days before the period's end, so that
#: they are adjudicated (not pending) in the export.
EARLY_MARGIN_BUSINESS_DAYS = 55

# Claim-level fields and their "not forced" default.
CLAIM_FIELDS: dict[str, tuple[type, int]] = {
    "template": (np.int16, -1),
    "tag": (np.int16, 0),
    "group": (np.int32, -1),  # special patient group (planted), -1 none
    "payer": (np.int8, -1),
    "phys": (np.int8, -1),
    "patient": (np.int64, -1),  # pool patient (base claims); the final patient after assignment
    "fresh": (np.int64, -1),  # planted groups: their own new patient number (0, 1, ...)
    "day": (np.int32, -1),  # business-day index, -1 = drawn
    "early": (bool, 0),
    "side": (np.int8, -1),
    "tpi_code": (np.int16, -1),
    "dx_mode": (np.int8, 0),  # 1 = axial-only diagnoses
    "muscles_mode": (np.int8, 0),  # 1 = 3-5 muscles on 20552, 2 = no count on 20553
    "minutes": (np.int16, -1),  # forced CPM minutes
    "g3003_units": (np.int8, -1),  # forced G3003 units (else from the minutes)
    "bilat_style": (np.int8, -1),  # forced bilateral style (index into cat.BILATERAL_STYLES)
    "outcome": (np.int8, -1),  # forced outcome category
    "protect": (bool, 0),
}


def claim_table(n: int, **values: object) -> dict[str, np.ndarray]:
    """A claim table of ``n`` rows with defaults, overridden by ``values`` (scalars or arrays)."""
    table = {}
    for name, (dtype, default) in CLAIM_FIELDS.items():
        column = np.full(n, default, dtype=dtype)
        if name in values:
            column[:] = values[name]
        table[name] = column
    unknown = set(values) - set(CLAIM_FIELDS)
    if unknown:
        raise TypeError(f"unknown claim fields: {sorted(unknown)}")
    return table


def concat_tables(*tables: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: np.concatenate([t[k] for t in tables]) for k in CLAIM_FIELDS}


@dataclass(frozen=True)
class Calendar:
    """The 12-month period: business days, their month, and the export date."""

    days: np.ndarray  # datetime64[D] business days
    month: np.ndarray  # month number 0..11 of each business day
    as_of: np.datetime64
    early_last: int  # last business-day index planted claims may use

    @property
    def n(self) -> int:
        return len(self.days)


def make_calendar(start: str) -> Calendar:
    first = np.datetime64(start, "D")
    end = (first.astype("datetime64[M]") + 12).astype("datetime64[D]") - np.timedelta64(1, "D")
    days = np.arange(first, end + np.timedelta64(1, "D"))
    days = days[np.is_busday(days)]
    month = (days.astype("datetime64[M]") - first.astype("datetime64[M]")).astype(np.int64)
    return Calendar(
        days=days,
        month=month,
        as_of=end + np.timedelta64(AS_OF_LAG_DAYS, "D"),
        early_last=len(days) - 1 - EARLY_MARGIN_BUSINESS_DAYS,
    )


@dataclass(frozen=True)
class TemplateTables:
    """The templates flattened into arrays (one entry per template, or per template line)."""

    length: np.ndarray
    offset: np.ndarray
    family: np.ndarray
    weight: np.ndarray
    has_us: np.ndarray  # the template has a 76942 line
    # per template line
    code: np.ndarray  # code index, -1 visit, -2 trigger point
    side: np.ndarray  # 0 none, 1 claim side, 2 documented only, 3 RT, 4 LT
    units: np.ndarray
    extra: np.ndarray  # object: extra modifiers


@functools.cache
def template_tables() -> TemplateTables:
    side_kind = {"": 0, "S": 1, "N": 2, "RT": 3, "LT": 4}
    specs = [s for t in cat.TEMPLATES for s in t.lines]
    length = np.array([len(t.lines) for t in cat.TEMPLATES])
    return TemplateTables(
        length=length,
        offset=np.concatenate([[0], np.cumsum(length)[:-1]]),
        family=np.array([cat.FAMILY_INDEX[t.family] for t in cat.TEMPLATES]),
        weight=np.array([t.weight for t in cat.TEMPLATES], dtype=float),
        has_us=np.array([any(s.code == "76942" for s in t.lines) for t in cat.TEMPLATES]),
        code=np.array(
            [{"EM": -1, "TPI": -2}.get(s.code, cat.CODE_INDEX.get(s.code, -9)) for s in specs]
        ),
        side=np.array([side_kind[s.side] for s in specs]),
        units=np.array([s.units for s in specs], dtype=float),
        extra=np.array([s.extra for s in specs], dtype=object),
    )


@dataclass
class Generated:
    """The frame plus the internal arrays the planting truth needs."""

    frame: pd.DataFrame
    claims: dict[str, np.ndarray]  # claim-level arrays (final patients, days, ...)
    line_claim: np.ndarray  # claim index of each frame row


def choose(options: tuple[str, ...], n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` picks from ``options``, uniformly."""
    return np.array(options, dtype=object)[rng.integers(0, len(options), size=n)]


def join_items(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Join two object arrays of list items with the canonical separator, skipping blanks."""
    return np.where(b == "", a, np.where(a == "", b, a + "," + b))
