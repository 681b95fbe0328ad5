"""One palette and one set of number formats, declared once for every workbook writer.

Everything here is plain data (RGB hex strings, Excel number-format codes), so the openpyxl
writer and the xlwings writer render the same report the same way. Colours are chosen so that
text stays readable when printed in black and white: each fill is light, each font is dark.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Look:
    """How a cell looks: fill and font colour (RGB hex, no '#'), and font weight."""

    fill: str | None = None
    font: str = "000000"
    bold: bool = False
    italic: bool = False
    underline: bool = False
    size: float | None = None  # points; None keeps the workbook's default size


#: Severity -> look of a finding row (whole row, through conditional formatting).
SEVERITY_LOOK: dict[str, Look] = {
    "high": Look(fill="F8CBAD", font="9C0006"),
    "medium": Look(fill="FFE699", font="7F6000"),
    "low": Look(fill="DDEBF7", font="1F4E78"),
    "info": Look(fill="EDEDED", font="404040"),
}

#: KPI status -> look of the value and status cells (a traffic light).
STATUS_LOOK: dict[str, Look] = {
    "good": Look(fill="C6EFCE", font="006100", bold=True),
    "fair": Look(fill="FFEB9C", font="9C5700", bold=True),
    "poor": Look(fill="FFC7CE", font="9C0006", bold=True),
    "neutral": Look(fill="F2F2F2", font="404040"),
    "unknown": Look(fill="F2F2F2", font="7F7F7F", italic=True),
}

#: KPI status -> the word shown in the status column.
STATUS_LABEL: dict[str, str] = {
    "good": "On target",
    "fair": "Watch",
    "poor": "Act",
    "neutral": "For information",
    "unknown": "Not available",
}

#: Font of auditkit's styled cells (Excel's default; LibreOffice shows its metric twin).
FONT_NAME = "Calibri"
FONT_SIZE = 11.0

BRAND = "1F4E78"
TITLE_LOOK = Look(font=BRAND, bold=True, size=16)
HEADING_LOOK = Look(font=BRAND, bold=True, size=12)
HEADER_LOOK = Look(fill=BRAND, font="FFFFFF", bold=True)
LABEL_LOOK = Look(font="262626", bold=True)
TEXT_LOOK = Look(font="262626")
NOTE_LOOK = Look(font="595959", italic=True)
WARNING_LOOK = Look(fill="FFF2CC", font="7F6000", bold=True)
LINK_LOOK = Look(font="0563C1", underline=True)
#: Header of a column people fill in (a work list's Owner, Work status, ...).
ENTRY_HEADER_LOOK = Look(fill="548235", font="FFFFFF", bold=True)

#: Name -> look of a value-driven cell colour (``report.model.CellRule``), e.g. days left to a
#: deadline: passed (red), due soon (amber), due within the month (yellow).
CELL_RULE_LOOK: dict[str, Look] = {
    "red": Look(fill="FFC7CE", font="9C0006"),
    "amber": Look(fill="FCD5B4", font="974706"),
    "yellow": Look(fill="FFEB9C", font="7F6000"),
}

#: Text tone (see :class:`auditkit.report.model.Text`) -> look.
TONE_LOOK: dict[str, Look] = {"body": TEXT_LOOK, "note": NOTE_LOOK, "warning": WARNING_LOOK}

#: Sheet role -> tab colour.
TAB_COLOR: dict[str, str] = {
    "summary": BRAND,
    "audit": "2E75B6",
    "lines": "A5A5A5",
    "worklist": "548235",
    "about": "7F7F7F",
}

#: Colours for chart series, in order; a target or benchmark line uses ``TARGET_LINE``.
SERIES_COLORS: tuple[str, ...] = ("2E75B6", "ED7D31", "A5A5A5", "FFC000", "5B9BD5", "70AD47")
TARGET_LINE = "C00000"

#: Excel table style (Excel shows it; header cells are also painted so other programs agree).
TABLE_STYLE = "TableStyleLight9"

#: Column kind -> Excel number format. ``text`` and ``bool`` use the General format.
NUMBER_FORMATS: dict[str, str] = {
    "integer": "#,##0",
    "ordinal": "0",  # row and line numbers: no thousands separator
    "number": "#,##0.00",
    "currency": '"$"#,##0.00;[Red]-"$"#,##0.00',
    "currency0": '"$"#,##0;[Red]-"$"#,##0',
    "percent": "0.0%",
    "days": '0.0" days"',
    "date": "yyyy-mm-dd",
    "datetime": "yyyy-mm-dd hh:mm",
}

#: Kinds whose values are numbers in Excel (dates included).
NUMERIC_KINDS: frozenset[str] = frozenset(NUMBER_FORMATS)


def number_format(kind: str) -> str:
    """The Excel number format for a column kind ('General' for text and booleans)."""
    return NUMBER_FORMATS.get(kind, "General")
