"""Build the workbook templates in this folder (run it after changing this file).

    python workbook_templates/build_templates.py [OUTPUT_FOLDER]

``consultant_template.xlsx`` is a branded cover for a consultant's deliverable. auditkit fills
the cells named ``AK_Practice``, ``AK_Period``, ``AK_PreparedBy`` and ``AK_RunDate`` and adds
its own sheets after the template's (``auditkit audit EXPORT --out AUDIT.xlsx --template
workbook_templates/consultant_template.xlsx --practice ... --prepared-by ...``). A consultant
can restyle the cover in Excel freely: auditkit only looks for those four names.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.properties import PageSetupProperties

HERE = Path(__file__).resolve().parent
FIRM = "Northbridge Revenue Advisors"  # a made-up consulting firm
BRAND, ACCENT, INK, MUTED = "1F3A4D", "E07A1F", "262626", "7F7F7F"
FONT = "Calibri"

#: Defined name -> (cover label, placeholder shown until auditkit fills it, number format).
COVER_FIELDS: dict[str, tuple[str, str, str]] = {
    "AK_Practice": ("Practice", "(practice name)", "General"),
    "AK_Period": ("Period reviewed", "(period)", "General"),
    "AK_PreparedBy": ("Prepared by", "(consultant)", "General"),
    "AK_RunDate": ("Date", "(date of the audit)", "d mmmm yyyy"),
}
FIRST_FIELD_ROW = 10


def consultant_template() -> Workbook:
    """The consultant template as an openpyxl workbook."""
    wb = Workbook()
    cover = wb.active
    cover.title = "Cover"
    cover.sheet_view.showGridLines = False
    for col, width in {"A": 3, "B": 24, "C": 56, "D": 3}.items():
        cover.column_dimensions[col].width = width

    band = PatternFill(fill_type="solid", start_color=BRAND, end_color=BRAND)
    for row in (2, 3, 4):
        for col in ("B", "C"):
            cover[f"{col}{row}"].fill = band
    cover.row_dimensions[2].height = 30
    cover["B2"] = FIRM
    cover["B2"].font = Font(name=FONT, size=20, bold=True, color="FFFFFF")
    cover["B2"].alignment = Alignment(vertical="center")
    cover["B3"] = "Revenue-cycle reviews for pain-management practices"
    cover["B3"].font = Font(name=FONT, size=11, italic=True, color="FFFFFF")
    accent = Side(style="thick", color=ACCENT)
    for col in ("B", "C"):
        cover[f"{col}4"].border = Border(bottom=accent)

    cover.row_dimensions[7].height = 36
    cover["B7"] = "Billing audit"
    cover["B7"].font = Font(name=FONT, size=28, bold=True, color=BRAND)
    cover["B8"] = "Coding, denial and clean-claim review of the practice's billing exports"
    cover["B8"].font = Font(name=FONT, size=12, color=MUTED)

    line = Side(style="thin", color="BFBFBF")
    for offset, (name, (label, placeholder, fmt)) in enumerate(COVER_FIELDS.items()):
        row = FIRST_FIELD_ROW + offset * 2
        cover.row_dimensions[row].height = 22
        cover[f"B{row}"] = label
        cover[f"B{row}"].font = Font(name=FONT, size=12, bold=True, color=BRAND)
        cover[f"B{row}"].alignment = Alignment(vertical="bottom")
        value = cover[f"C{row}"]
        value.value = placeholder
        value.font = Font(name=FONT, size=14, color=INK)
        value.number_format = fmt
        value.alignment = Alignment(horizontal="left", vertical="bottom")
        value.border = Border(bottom=line)
        wb.defined_names[name] = DefinedName(name, attr_text=f"Cover!$C${row}")

    contents_row = FIRST_FIELD_ROW + len(COVER_FIELDS) * 2 + 2
    cover[f"B{contents_row}"] = "In this workbook"
    cover[f"B{contents_row}"].font = Font(name=FONT, size=12, bold=True, color=BRAND)
    contents = (
        ("Summary", "key indicators against benchmarks, the largest findings and charts"),
        ("One sheet per audit", "its findings coloured by severity, why it matters, how to fix"),
        ("About", "the exports read, the column mapping, the settings used"),
        ("Notes", "the consultant's notes and follow-ups"),
    )
    for offset, (title, text) in enumerate(contents, start=1):
        cover[f"B{contents_row + offset}"] = title
        cover[f"B{contents_row + offset}"].font = Font(name=FONT, bold=True, color=INK)
        cover[f"C{contents_row + offset}"] = text
        cover[f"C{contents_row + offset}"].font = Font(name=FONT, color=INK)

    footer_row = contents_row + len(contents) + 3
    cover[f"B{footer_row}"] = (
        "Confidential: prepared for the practice named above from its own billing exports."
    )
    cover[f"B{footer_row}"].font = Font(name=FONT, size=9, italic=True, color=MUTED)

    cover.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    cover.page_setup.orientation = "portrait"
    cover.page_setup.fitToWidth = 1
    cover.page_setup.fitToHeight = 1
    cover.print_area = f"A1:D{footer_row + 1}"

    notes = wb.create_sheet("Notes")
    notes.sheet_properties.tabColor = ACCENT
    for col, width in {"A": 14, "B": 70, "C": 18, "D": 12}.items():
        notes.column_dimensions[col].width = width
    notes["A1"] = "Engagement notes"
    notes["A1"].font = Font(name=FONT, size=16, bold=True, color=BRAND)
    notes["A2"] = "Open items"
    notes["A2"].font = Font(name=FONT, bold=True, color=INK)
    notes["B2"] = '=COUNTIFS(B5:B500,"<>",D5:D500,"<>done")'
    notes["B2"].alignment = Alignment(horizontal="left")
    header = PatternFill(fill_type="solid", start_color=BRAND, end_color=BRAND)
    for col, title in zip("ABCD", ("Date", "Note", "Owner", "Status"), strict=True):
        cell = notes[f"{col}4"]
        cell.value = title
        cell.font = Font(name=FONT, bold=True, color="FFFFFF")
        cell.fill = header
    notes.freeze_panes = "A5"
    notes.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    notes.page_setup.orientation = "landscape"
    notes.page_setup.fitToWidth = 1
    notes.page_setup.fitToHeight = 0

    wb.properties.title = "Billing audit"
    wb.properties.creator = FIRM
    # Fixed dates: rebuilding the template does not change it for no reason.
    wb.properties.created = wb.properties.modified = datetime(2026, 1, 1)
    wb.active = 0
    return wb


def build(folder: str | Path = HERE) -> list[Path]:
    """Write every template into ``folder``; return the paths."""
    out = Path(folder) / "consultant_template.xlsx"
    consultant_template().save(out)
    return [out]


if __name__ == "__main__":
    for path in build(sys.argv[1] if len(sys.argv) > 1 else HERE):
        print(f"wrote {path}")
