"""A table on one sheet, or spread over continuation sheets when it has too many rows."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from auditkit.report.layout import rows_before
from auditkit.report.model import Block, Sheet, Table, Text, Title
from auditkit.report.safety import sheet_name


def spill(
    name: str, role: str, intro: list[Block], table: Table, max_rows: int
) -> tuple[list[Sheet], pd.DataFrame]:
    """The table on one sheet, or on continuation sheets when it has too many rows.

    ``max_rows`` is the number of rows a sheet holds. Returns the sheets and, per data row of
    ``table`` (in order), the key of the table part and the row within it that holds it.
    """
    n = len(table)
    if rows_before(intro) + n <= max_rows:
        where = pd.DataFrame({"table": table.key, "row": range(n)})
        return [Sheet(name, role, [*intro, table], freeze=table.key)], where
    intro = [*intro, Text("", tone="warning")]  # reworded below once the split is known
    chunks: list[tuple[list[Block], int, int]] = []
    start, blocks = 0, intro
    while start < n:
        room = max_rows - rows_before(blocks)
        if room < 1:
            raise ValueError("max_rows leaves no room for table rows")
        stop = min(n, start + room)
        chunks.append((blocks, start, stop))
        start = stop
        blocks = [Title(f"{name} (continued)"), Text("", tone="note")]
    names = [name]
    for i in range(2, len(chunks) + 1):
        names.append(sheet_name(f"{name} ({i})", names))  # valid now, so notes name them right
    sheets, parts = [], []
    for i, (blocks, lo, hi) in enumerate(chunks):
        key = table.key if i == 0 else f"{table.key}#{i + 1}"
        part = replace(
            table,
            key=key,
            frame=table.frame.iloc[lo:hi].reset_index(drop=True),
            links={k: v[lo:hi] for k, v in table.links.items()},
        )
        note = f"Rows {lo + 1:,} to {hi:,} of {n:,}."
        if i == 0:
            note = (
                f"{n:,} rows are more than one sheet holds: this sheet has rows 1 to {hi:,};"
                f" the rest continue on {', '.join(repr(x) for x in names[1:])}."
            )
        blocks[-1] = Text(note, tone="warning" if i == 0 else "note")
        sheets.append(Sheet(names[i], role, [*blocks, part], freeze=key))
        parts.append(pd.DataFrame({"table": key, "row": range(hi - lo)}))
    return sheets, pd.concat(parts, ignore_index=True)
