"""The batch index workbook: one row per client, as a real Excel table."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.table import Table, TableStyleInfo

PERCENT = ("clean_claim_rate", "denial_rate")
CURRENCY = ("dollars_at_risk",)
ERROR_FILL = PatternFill("solid", fgColor="FFC7CE")


def write_index_workbook(
    rows: Sequence[dict[str, Any]], columns: Sequence[str], path: str | Path
) -> Path:
    """Write ``rows`` as the batch index table to ``path`` (atomically)."""
    from auditkit.fileio import atomic_write_bytes
    from auditkit.textsafe import safe_text

    wb = Workbook()
    ws = wb.active
    ws.title = "Clients"
    ws.append([c.replace("_", " ") for c in columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for r, row in enumerate(rows, start=2):
        for c, name in enumerate(columns, start=1):
            value = row.get(name)
            cell = ws.cell(row=r, column=c)
            if isinstance(value, str):
                cell.value = safe_text(value)
                cell.data_type = "s"
            else:
                cell.value = value
            if name in PERCENT:
                cell.number_format = "0.0%"
            elif name in CURRENCY:
                cell.number_format = '"$"#,##0.00'
        if row.get("status") != "ok":
            for c in range(1, len(columns) + 1):
                ws.cell(row=r, column=c).fill = ERROR_FILL
    last = ws.cell(row=max(len(rows) + 1, 2), column=len(columns)).coordinate
    table = Table(displayName="Clients", ref=f"A1:{last}")
    table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
    ws.add_table(table)
    ws.freeze_panes = "A2"
    for c, name in enumerate(columns, start=1):
        width = 60 if name in ("error", "top_finding") else max(12, len(name) + 2)
        ws.column_dimensions[ws.cell(row=1, column=c).column_letter].width = width
    import io

    buffer = io.BytesIO()
    wb.save(buffer)
    return atomic_write_bytes(path, buffer.getvalue())
