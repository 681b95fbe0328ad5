"""The packaged pain-procedure PTP subset (``ncci_ptp_default.csv`` beside this package), for
when no CMS file is given. (Without an MUE file, ``units-exceed-limit`` uses the packaged
``unit_limits.csv``: there is one packaged unit table, not two.)"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Collection
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from auditkit.reference.ncci.layouts import LAYOUTS
from auditkit.reference.ncci.tables import NcciSource, PtpTable
from auditkit.reference.ncci.values import as_codes, keep_mask, normalise_codes, typed_batch

#: The folder holding the packaged default files (``auditkit/reference``).
HERE = Path(__file__).parent.parent

#: The quarter the packaged defaults reflect: none in particular.
DEFAULT_QUARTER = "unknown (not taken from a CMS file)"

_DEFAULT_FILES = {"ptp": "ncci_ptp_default.csv"}
_DEFAULT_COLUMNS = {
    "ptp": (
        "column1",
        "column2",
        "effective",
        "deletion",
        "modifier_indicator",
        "rationale",
        "source",
        "confidence",
    ),
}


def _default_table(kind: str) -> tuple[pa.Table, str]:
    """The packaged default as a typed table (with ``source`` and ``confidence``) and the
    file's SHA-256. The file is checked here: a mistake in it is a packaging bug."""
    path = HERE / _DEFAULT_FILES[kind]
    raw = path.read_bytes()
    frame = pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False)
    if tuple(frame.columns) != _DEFAULT_COLUMNS[kind]:  # pragma: no cover - packaging mistake
        raise RuntimeError(f"{path.name}: expected columns {_DEFAULT_COLUMNS[kind]}")
    frame = frame.apply(lambda col: col.str.strip())
    if not frame["confidence"].isin(["C", "S", "V"]).all():  # pragma: no cover
        raise RuntimeError(f"{path.name}: confidence must be C, S or V")
    layout = LAYOUTS[kind]
    columns = {
        "column1": pa.array(frame["column1"].str.upper()),
        "column2": pa.array(frame["column2"].str.upper()),
        "effective": pa.array(frame["effective"]),
        "deletion": pa.array(frame["deletion"].where(frame["deletion"] != "", "*")),
        "modifier": pa.array(frame["modifier_indicator"]),
        "rationale": pa.array(frame["rationale"]),
    }
    counts: dict[str, Any] = {"rows": 0, "skipped": 0}
    typed = typed_batch(columns, len(frame), layout, counts)
    if counts["skipped"] or typed.num_rows != len(frame):  # pragma: no cover - packaging mistake
        raise RuntimeError(f"{path.name}: {counts['skipped']} rows are not valid edits")
    table = (
        pa.Table.from_batches([typed])
        .append_column("source", pa.array(frame["source"]))
        .append_column("confidence", pa.array(frame["confidence"]))
    )
    return table, hashlib.sha256(raw).hexdigest()


def _default(
    kind: str, codes: Collection[str] | None
) -> tuple[pa.Table, tuple[NcciSource, ...], frozenset[str] | None]:
    table, sha = _default_table(kind)
    wanted = None if codes is None else normalise_codes(as_codes(codes))
    rows = table.num_rows
    if wanted is not None:
        table = table.filter(keep_mask(table, LAYOUTS[kind], wanted))
    source = NcciSource(
        kind=kind,
        file=_DEFAULT_FILES[kind],
        member=None,
        sha256=sha,
        rows=rows,
        skipped=0,
        kept=table.num_rows,
        version="auditkit default",
        quarter=DEFAULT_QUARTER,
    )
    return table, (source,), wanted


def default_ptp(codes: Collection[str] | None = None) -> PtpTable:
    """The packaged pain-procedure PTP subset (``ncci_ptp_default.csv``), for when no CMS file
    is given; filtered to ``codes`` like :func:`read_ptp`. Each row has its ``source`` and
    ``confidence`` (C confirmed, S secondary source, V unverified)."""
    return PtpTable(*_default("ptp", codes), default=True)
