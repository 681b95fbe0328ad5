"""How auditkit recognises its own sheets in a workbook it writes into again.

Each sheet auditkit writes carries a hidden **sheet-level defined name** ``AuditkitSheet`` whose
value is the sheet's name as written (a text constant such as ``"Summary"``). Defined names are
part of the workbook format itself, so they survive saving in Excel and LibreOffice, move with
the sheet when it is reordered and do not depend on cell contents a user might edit.

A sheet counts as auditkit's only while its name still equals the recorded one. Excel copies
sheet-level names when a sheet is copied, and a user who renames a sheet has made it their own:
both are left alone on a re-run, so a re-run never deletes something the user kept on purpose.

Both workbook writers use these rules (the xlwings writer through Excel's Names collection).
"""

from __future__ import annotations

from openpyxl.workbook.defined_name import DefinedName

#: The sheet-level name that marks a sheet as written by auditkit.
MARKER_NAME = "AuditkitSheet"


def marker_value(title: str) -> str:
    """The marker's value for a sheet called ``title``: an Excel text constant."""
    return '"' + title.replace('"', '""') + '"'


def marked_title(value: str | None) -> str | None:
    """The sheet name recorded in a marker value (None when it is not a text constant)."""
    if not value:
        return None
    text = value.strip()
    if text.startswith("="):
        text = text[1:].strip()
    if len(text) < 2 or not (text.startswith('"') and text.endswith('"')):
        return None
    return text[1:-1].replace('""', '"')


def mark(ws) -> None:
    """Mark an openpyxl worksheet as auditkit's (call after its title is final)."""
    ws.defined_names[MARKER_NAME] = DefinedName(
        MARKER_NAME, attr_text=marker_value(ws.title), hidden=True
    )


def is_auditkit_sheet(ws) -> bool:
    """True when an openpyxl worksheet carries auditkit's marker for its current name."""
    names = getattr(ws, "defined_names", None)
    if not names or MARKER_NAME not in names:
        return False
    return marked_title(names[MARKER_NAME].attr_text) == ws.title
