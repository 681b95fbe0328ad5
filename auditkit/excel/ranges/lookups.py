"""Reference look-ups for whole columns: procedure families and denial reason codes."""

from __future__ import annotations

from typing import Any

import pandas as pd

from auditkit.errors import InputError
from auditkit.excel.ranges.cells import cells, first_text, per_value
from auditkit.ingest import normalise as norm
from auditkit.reference import carcs, procedure_family, split_carc


def families(values: Any) -> pd.Series:
    """Procedure family of each code ("trigger point", "facet", ..., "other"); blank stays
    blank. See :func:`auditkit.reference.procedure_family`."""

    def family(uniques: pd.Series) -> pd.Series:
        clean = norm.clean_codes(uniques)
        return procedure_family(clean.fillna("")).mask(clean.isna())

    return per_value(cells(values), family).astype("string")


def carc_lookup(values: Any) -> pd.DataFrame:
    """Meaning and root-cause group of each denial reason code (``CO-197``, ``197``, 197.0).

    Columns: ``code`` (the reason part), ``group`` (CO, PR, ... or missing), ``meaning``,
    ``root_cause`` (missing for codes not in the reference table; see
    :func:`auditkit.reference.carc_info`).
    """
    table = carcs()
    meanings = dict(zip(table["code"], table["meaning"], strict=True))
    causes = dict(zip(table["code"], table["root_cause"], strict=True))
    column = cells(values)
    positions, uniques = pd.factorize(column.to_numpy(dtype=object), use_na_sentinel=True)
    clean = norm.clean_codes(pd.Series(uniques, dtype=object))
    # A range holds few distinct codes: split_carc and the look-ups run once per code.
    parts = [split_carc(c) if isinstance(c, str) else (None, None) for c in clean.tolist()]
    found = pd.DataFrame(
        {
            "code": [p[1] for p in parts],
            "group": [p[0] for p in parts],
            "meaning": [meanings.get(p[1]) for p in parts],
            "root_cause": [causes.get(p[1]) for p in parts],
        },
        dtype="string",
    )
    out = {name: found[name].array.take(positions, allow_fill=True) for name in found.columns}
    return pd.DataFrame(out, index=column.index)


#: What AUDIT_CARC shows for a code the reference table does not have.
UNKNOWN_CARC = ("not in auditkit's reason-code table", "unknown")


def carc_answer(values: Any, part: Any = None) -> pd.DataFrame:
    """What AUDIT_CARC shows: columns ``meaning`` and ``root_cause`` (blank for blank cells,
    :data:`UNKNOWN_CARC` for codes not in the table), or only the one ``part`` names
    (``meaning``, ``cause``)."""
    found = carc_lookup(values)
    blank = found["code"].isna()
    out = pd.DataFrame(
        {
            "meaning": found["meaning"].fillna(UNKNOWN_CARC[0]).mask(blank),
            "root_cause": found["root_cause"].fillna(UNKNOWN_CARC[1]).mask(blank),
        }
    )
    which = (first_text(part) or "").lower().replace("_", " ")
    if not which:
        return out
    if which == "meaning":
        return out[["meaning"]]
    if which in ("cause", "root cause"):
        return out[["root_cause"]]
    raise InputError(f"part {which!r} is not known", hint='use "meaning" or "cause"')
