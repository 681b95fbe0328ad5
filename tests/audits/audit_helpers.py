"""Build small claim-line tables for audit tests: give only the columns a test cares about."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from auditkit.claims import BY_NAME, LIST_COLUMNS, conform, join_list

#: Values for the required columns when a test does not give them.
REQUIRED_DEFAULTS: dict[str, Any] = {
    "date_of_service": "2024-03-04",
    "rendering_provider": "Dr. Adams",
    "payer": "Acme Health",
    "cpt": "99213",
}


def make_lines(
    rows: Iterable[Mapping[str, Any]], defaults: Mapping[str, Any] | None = None
) -> pd.DataFrame:
    """A canonical claim-line frame from row dicts.

    * ``repeat = n`` in a row makes n copies of it (each its own claim unless ``claim_id`` is
      given).
    * ``per_line = [{...}, {...}]`` makes each copy one claim with one line per entry (line
      numbers 1, 2, ...), each entry adding or overriding columns for its line.
    * ``claim_id`` defaults to C00001, C00002, ... in claim order.
    * ``defaults`` fill columns a row does not set; required columns fall back to
      :data:`REQUIRED_DEFAULTS`. Optional columns appear only when some row or default sets them.
    * List columns may be given as lists.
    """
    defaults = dict(defaults or {})
    claims: list[list[dict[str, Any]]] = []
    for row in rows:
        row = dict(row)
        repeat = int(row.pop("repeat", 1))
        per_line = row.pop("per_line", None)
        for _ in range(repeat):
            if per_line:
                claims.append(
                    [{**row, "line_number": i, **extra} for i, extra in enumerate(per_line, 1)]
                )
            else:
                claims.append([dict(row)])
    records = []
    for n, claim in enumerate(claims, start=1):
        for row in claim:
            records.append({**REQUIRED_DEFAULTS, **defaults, **row})
            records[-1].setdefault("claim_id", f"C{n:05d}")
    for record in records:
        for name in LIST_COLUMNS:
            if isinstance(record.get(name), list | tuple):
                record[name] = join_list(record[name])
    unknown = {k for r in records for k in r} - set(BY_NAME)
    if unknown:
        raise ValueError(f"not canonical columns: {sorted(unknown)}")
    return conform(pd.DataFrame.from_records(records))
