"""Write the audit workbook with openpyxl: a new workbook, or auditkit's sheets in an existing one.

``write_workbook(result, path)`` builds the report model (:func:`auditkit.report.build_report`)
and renders it:

* **New workbook** (``--out``): openpyxl's write-only mode, so memory stays flat.
* **Existing workbook** (``--into``, or a ``--template`` copied to ``--out``): the workbook is
  loaded (``keep_vba`` for .xlsm), auditkit's own sheets from an earlier run are removed (see
  :mod:`auditkit.excel.markers`) and the new ones are put where they were. Every other sheet,
  defined name, formula, style and the VBA project are carried over by openpyxl; rich text in a
  cell (bold, coloured or mixed-font runs) is loaded as rich text and kept. Each drawing on the
  user's sheets (charts with their style, pictures) and their notes are put back byte for byte
  after openpyxl has saved (:class:`~auditkit.excel.package.KeptParts`): openpyxl would
  re-create the charts and lose their style, and re-create notes as plain text. Content that
  openpyxl cannot carry over (pictures without Pillow, shapes, controls, slicers, phonetic
  guides, ...) makes the writer refuse with an :class:`~auditkit.errors.OutputError` naming it
  (and its sheet where known) rather than lose it; :func:`check_base` runs that check alone,
  before an audit. Cells named ``AK_Practice``, ``AK_Period``, ``AK_PreparedBy`` and
  ``AK_RunDate`` are filled.

In both cases the body rows of each sheet's final table (findings, claim lines) are produced a
column at a time by :mod:`auditkit.excel.sheetdata` and spliced in while saving; everything else
is ordinary openpyxl. Saving is atomic (:mod:`auditkit.excel.package`).

Text is always written as text: a value such as ``=HYPERLINK(...)`` from an export is stored as
a string cell with Excel's quote prefix, never as a formula.
"""

from __future__ import annotations

import math
import warnings
import zipfile
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook, load_workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.chart.series import SeriesLabel
from openpyxl.chart.shapes import GraphicalProperties
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.table import Table as ExcelTable
from openpyxl.worksheet.table import TableStyleInfo

from auditkit.engine.result import AuditResult
from auditkit.errors import AuditkitError, OutputError
from auditkit.excel import markers
from auditkit.excel.package import (
    LOSS_WARNING,
    KeptParts,
    check_target,
    kept_parts,
    save_with_rows,
    unkeepable_content,
    without_own_rows,
)
from auditkit.excel.sheetdata import CellFormat, RowBlock
from auditkit.excel.worklist_notes import is_worklist_sheet, read_worklist_notes
from auditkit.ingest.model import ClaimLines
from auditkit.report import build_report
from auditkit.report.layout import (
    column_widths,
    place,
    resolve,
    row_heights,
    table_header_row,
    text_columns,
    text_height,
    text_width,
    unique_headers,
)
from auditkit.report.model import (
    Chart,
    Fact,
    Facts,
    Figure,
    Link,
    Report,
    Sheet,
    Table,
    Text,
    Title,
)
from auditkit.report.safety import is_formula_like, sheet_name, table_name
from auditkit.report.style import (
    CELL_RULE_LOOK,
    ENTRY_HEADER_LOOK,
    FONT_NAME,
    FONT_SIZE,
    HEADER_LOOK,
    HEADING_LOOK,
    LABEL_LOOK,
    LINK_LOOK,
    NOTE_LOOK,
    NUMERIC_KINDS,
    SEVERITY_LOOK,
    STATUS_LABEL,
    STATUS_LOOK,
    TAB_COLOR,
    TABLE_STYLE,
    TEXT_LOOK,
    TITLE_LOOK,
    TONE_LOOK,
    Look,
    number_format,
)

#: Height of the rows a chart covers, in points and in centimetres.
_ROW_POINTS = 15.0
_ROW_CM = _ROW_POINTS * 2.54 / 72
#: Width of one character of column width in centimetres (7 pixels at 96 dpi, plus padding).
_CHAR_CM = 0.19
#: The cells people fill in on a protected sheet.
_UNLOCKED = Protection(locked=False)
#: File name endings and whether they hold macros.
_MACRO_SUFFIXES = {".xlsm": True, ".xltm": True, ".xlsx": False, ".xltx": False}


def write_workbook(
    result: AuditResult,
    path: str | Path,
    *,
    lines: ClaimLines | None = None,
    into: str | Path | None = None,
    template: str | Path | None = None,
    with_lines: bool = False,
    practice: str | None = None,
    period: str | None = None,
    prepared_by: str | None = None,
    on_rename: Callable[[str, str], None] | None = None,
    worklist_only: bool = False,
    comparison: Any | None = None,
) -> Path:
    """Write the audit workbook for ``result`` to ``path`` and return the path.

    ``into``: an existing .xlsx/.xlsm to write auditkit's sheets into (normally ``path``
    itself); ``template``: a workbook to start a new one from (with ``--out``).
    ``on_rename(wanted, used)`` is called for each sheet that got another name because the
    workbook already has a sheet of the user's called ``wanted``. Writing ``into`` a workbook
    that has a Work list, what people typed on it is read first and kept on the same items
    (:mod:`auditkit.excel.worklist_notes`). ``worklist_only``: the Work list and About sheets
    only. ``comparison`` (``--baseline``): add its Comparison sheet. Raises
    :class:`OutputError` (one line) when the file cannot be written; the existing file is then
    left exactly as it was.
    """
    target = Path(path)
    if into is not None and template is not None:
        raise OutputError(
            "--template starts a new workbook; use it with --out, not with --into", path=template
        )
    base = Path(into) if into is not None else Path(template) if template is not None else None
    _check_suffixes(target, base)
    check_target(target)  # before any work; checked again when saving
    previous = None
    if into is not None:
        previous = _readable(Path(into), False, lambda: read_worklist_notes(Path(into)))
    from auditkit.engine.runner import reuse_freed_memory

    # Built and written a slice at a time, with Arrow and numpy sharing one allocator.
    with reuse_freed_memory():
        report = build_report(
            result,
            lines,
            practice=practice,
            period=period,
            with_lines=with_lines,
            prepared_by=prepared_by,
            previous_worklist=previous,
            worklist_only=worklist_only,
            comparison=comparison,
        )
        # Only the work list into a workbook with an audit: the audit's sheets stay.
        replacing = is_worklist_sheet if worklist_only and into is not None else None
        return write_report(
            report,
            target,
            base=base,
            creating=into is None,
            on_rename=on_rename,
            replacing=replacing,
        )


def write_report(
    report: Report,
    path: str | Path,
    *,
    base: str | Path | None = None,
    creating: bool = True,
    on_rename: Callable[[str, str], None] | None = None,
    replacing: Callable[[str], bool] | None = None,
) -> Path:
    """Render a report model to ``path``, into a copy of ``base`` when given.

    ``on_rename(wanted, used)``: see :func:`write_workbook` (called before saving).
    ``replacing`` (with ``base``): a test of a sheet title; only auditkit's sheets it picks are
    replaced, its other sheets are kept as they are, and of the report's sheets those it does
    not pick are written only when the workbook has no sheet of that name (``auditkit worklist
    --into`` a workbook with an audit: the Work list is replaced, the audit sheets stay).
    """
    target = Path(path)
    kept = None
    if base is None:
        wb = Workbook(write_only=True)
        wb.properties.creator = f"auditkit {report.version}"
        wb.properties.title = report.title
        position, taken = 0, []
    else:
        wb, kept = _open_base(Path(base), creating=creating, replacing=replacing)
        active = wb.active
        keep_active = active.title if active and not markers.is_auditkit_sheet(active) else None
        position, taken = _remove_own_sheets(wb, replacing)
        if replacing is not None:
            present = {t.casefold() for t in taken}
            report.sheets = [
                sheet
                for sheet in report.sheets
                if replacing(sheet.name) or sheet.name.casefold() not in present
            ]
    names = _final_names(report, taken)
    if on_rename is not None:
        for wanted, used in renamed_sheets(report, names):
            on_rename(wanted, used)
    table_names = _names_in_use(wb)
    rows: dict[Any, RowBlock] = {}
    first = None
    for offset, sheet in enumerate(report.sheets):
        ws = wb.create_sheet(names[sheet.name], index=position + offset)
        first = first or ws
        block = _SheetWriter(ws, sheet, report, names, table_names).write()
        if sheet.replaceable:
            markers.mark(ws)
        if block is not None:
            rows[ws] = block
    if base is not None:
        _fill_cover(wb, report)
        # Formulas elsewhere that read auditkit's sheets must see the new values.
        wb.calculation.fullCalcOnLoad = True
        _activate(wb, keep_active, first)
    return save_with_rows(wb, target, rows, kept)


# -- opening and preparing an existing workbook --------------------------------------------------


def _check_suffixes(target: Path, base: Path | None) -> None:
    suffix = target.suffix.lower()
    if suffix not in (".xlsx", ".xlsm"):
        raise OutputError(
            "auditkit writes Excel workbooks: use a file name ending in .xlsx (or .xlsm for a "
            "macro workbook)",
            path=target,
        )
    macros = _MACRO_SUFFIXES.get(base.suffix.lower()) if base is not None else False
    if base is not None and macros is None:
        raise OutputError("can only write into .xlsx, .xlsm, .xltx or .xltm workbooks", path=base)
    if macros and suffix != ".xlsm":
        raise OutputError("a macro workbook must be saved as .xlsm to keep its macros", path=target)
    if not macros and suffix == ".xlsm":
        raise OutputError(
            "a workbook without macros must be saved as .xlsx", path=target, hint="rename it"
        )


def check_base(base: str | Path, *, target: str | Path | None = None) -> None:
    """Refuse (OutputError, one line) a workbook to write into (``--into``, ``target`` None) or
    to start ``target`` from (``--template``) that is missing, not a workbook, or holds content
    auditkit cannot keep.

    Cheap (it reads the package, not the cells): shells call it before auditing so the user
    does not wait for an audit whose workbook will be refused.
    """
    base = Path(base)
    creating = target is not None
    _check_suffixes(Path(target) if target is not None else base, base)
    _refuse_losses(base, _readable(base, creating, lambda: unkeepable_content(base)))


def _readable(base: Path, creating: bool, read: Callable[[], Any]) -> Any:
    """``read()`` with the workbook's reading errors as one-line OutputErrors."""
    hint = "check the --template path" if creating else "use --out to create a new workbook"
    return read_workbook_file(base, read, error=OutputError, missing_hint=hint)


def read_workbook_file(
    path: Path,
    read: Callable[[], Any],
    *,
    error: type[AuditkitError] = OutputError,
    missing_hint: str | None = None,
) -> Any:
    """``read()`` of the workbook at ``path``, its reading errors (missing, locked, not a
    workbook or damaged) turned into one-line ``error``s naming the file."""
    if not path.is_file():
        raise error("does not exist", path=path, hint=missing_hint)
    try:
        return read()
    except PermissionError as exc:
        raise error(
            "cannot be read: permission denied, or it is open in another program",
            path=path,
            hint="close it and run again",
        ) from exc
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise error(
            "cannot be opened as an Excel workbook (password-protected or damaged?)",
            path=path,
            hint=type(exc).__name__,
        ) from exc


def _refuse_losses(base: Path, lost: list[str]) -> None:
    if lost:
        raise OutputError(
            f"holds {', '.join(dict.fromkeys(lost))}, which auditkit cannot keep when it "
            "rewrites the workbook; nothing was written",
            path=base,
            hint="write a new workbook with --out, or remove them first",
        )


def _open_base(
    base: Path, *, creating: bool, replacing: Callable[[str], bool] | None = None
) -> tuple[Workbook, KeptParts | None]:
    """Load the workbook to write into, refusing content it would lose; also return the user's
    drawings and notes, put back unchanged when saving (openpyxl would simplify them).

    Rich text in the user's cells is loaded as rich text (``rich_text=True``): without it
    openpyxl keeps only the characters of a cell with bold, coloured or mixed-font runs.
    """

    def read() -> tuple[list[str], Workbook, KeptParts | None, list]:
        lost = unkeepable_content(base)
        kept = kept_parts(base, replacing)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            wb = load_workbook(
                without_own_rows(base, replacing),
                keep_vba=bool(_MACRO_SUFFIXES.get(base.suffix.lower())),
                rich_text=True,
            )
        return lost, wb, kept, caught

    lost, wb, kept, caught = _readable(base, creating, read)
    for warning in caught:
        text = str(warning.message)
        if LOSS_WARNING.search(text):
            lost.append(text.split(".")[0].strip().lower())
    _refuse_losses(base, lost)
    wb.template = False
    return wb, kept


def _remove_own_sheets(
    wb: Workbook, replacing: Callable[[str], bool] | None = None
) -> tuple[int, list[str]]:
    """Remove auditkit's sheets (those ``replacing`` picks, when given); return where they
    began and the names still in use."""
    own = [
        ws
        for ws in wb.worksheets
        if markers.is_auditkit_sheet(ws) and (replacing is None or replacing(ws.title))
    ]
    position = min((wb.index(ws) for ws in own), default=len(wb.sheetnames))
    for ws in own:
        wb.remove(ws)
    return position, list(wb.sheetnames)


def _final_names(report: Report, taken: list[str]) -> dict[str, str]:
    """Model sheet name -> name in the workbook (differs only when the user has that name)."""
    names, used = {}, list(taken)
    for sheet in report.sheets:
        names[sheet.name] = sheet_name(sheet.name, used)
        used.append(names[sheet.name])
    return names


def renamed_sheets(report: Report, names: dict[str, str]) -> list[tuple[str, str]]:
    """(wanted, used) for each sheet whose name was taken by a sheet of the user's."""
    return [
        (sheet_name(sheet.name), names[sheet.name])
        for sheet in report.sheets
        if names[sheet.name] != sheet_name(sheet.name)
    ]


def rename_note(wanted: str, used: str) -> str:
    """The one line that tells the user which name auditkit used instead of ``wanted``."""
    return f"your workbook already has a sheet '{wanted}'; auditkit's is '{used}'"


def _names_in_use(wb: Workbook) -> set[str]:
    """Table and defined names already in the workbook (a new table name must differ)."""
    used = set(wb.defined_names.keys())
    for ws in wb.worksheets:
        used.update(getattr(ws, "tables", {}).keys())
        used.update(getattr(ws, "defined_names", {}).keys())
    return used


def _fill_cover(wb: Workbook, report: Report) -> None:
    """Fill the cells named AK_Practice, AK_Period, AK_PreparedBy, AK_RunDate (when given)."""
    scopes = [wb.defined_names] + [ws.defined_names for ws in wb.worksheets]
    for name, value in report.cover_values().items():
        if value is None:
            continue
        for scope in scopes:
            defined = scope.get(name)
            if defined is None:
                continue
            try:
                destinations = list(defined.destinations)
            except (AttributeError, TypeError, ValueError):
                continue
            for title, ref in destinations:
                title = title.replace("''", "'")
                if title not in wb.sheetnames:
                    continue
                cell = wb[title][ref.replace("$", "").split(":")[0]]
                if isinstance(value, datetime):
                    cell.value = value.date()  # a date format the cell has is kept
                else:
                    cell.value = str(value)
                    cell.data_type = "s"
                    if is_formula_like(cell.value):
                        cell.quotePrefix = True


def _activate(wb: Workbook, keep: str | None, first) -> None:
    """Keep the user's active sheet; show the Summary when the active sheet was auditkit's."""
    if keep is not None and keep in wb.sheetnames:
        # Sheets were removed and inserted: the active index must follow the sheet.
        wb.active = wb.index(wb[keep])
        return
    if first is None:
        return
    for ws in wb.worksheets:
        ws.sheet_view.tabSelected = ws is first
    wb.active = wb.index(first)


# -- one sheet -----------------------------------------------------------------------------------


class _SheetWriter:
    """Writes one :class:`Sheet` top to bottom (rows are appended in order, as write-only needs)."""

    def __init__(
        self,
        ws,
        sheet: Sheet,
        report: Report,
        names: dict[str, str],
        table_names: set[str],
    ) -> None:
        self.ws = ws
        self.sheet = sheet
        self.report = report
        self.names = names
        self.table_names = table_names
        self.placements = place(sheet)
        self.widths = column_widths(sheet)
        self.span = text_columns(sheet)
        self.row = 0  # last row appended
        self._fonts: dict[Look, Font] = {}
        self._fills: dict[str, PatternFill] = {}

    # The last block is written by the fast row path when it is a table without links (not on
    # a protected sheet: there every cell, blank ones too, is written with its lock state).
    def _fast_table(self) -> Table | None:
        last = self.placements[-1].block if self.placements else None
        if self.sheet.protected and not (isinstance(last, Table) and last.fill is not None):
            return None
        if isinstance(last, Table) and not last.links and len(last):
            return last
        if isinstance(last, Table) and last.fill is not None:
            raise ValueError(f"table {last.key}: a lazy table must be its sheet's last block")
        return None

    def write(self) -> RowBlock | None:
        self._set_up()
        fast = self._fast_table()
        rows = None
        for placement in self.placements:
            self._skip_to(placement.row)
            block = placement.block
            if isinstance(block, Title):
                look = TITLE_LOOK if block.level == 1 else HEADING_LOOK
                self._append([self._cell(block.text, look=look)])
            elif isinstance(block, Text):
                self._text(block)
            elif isinstance(block, Facts):
                self._facts(block)
            elif isinstance(block, Figure):
                self._chart(block, placement.row)
                self._skip_to(placement.row + block.table_offset)
                self._table(block.table, placement.row + block.table_offset)
            elif isinstance(block, Table):
                rows = self._table(block, placement.row, fast=block is fast)
                self._print_to_entry_columns(block, placement.row)
        return rows

    def _print_to_entry_columns(self, table: Table, top: int) -> None:
        """A table with columns for people (the Work list) prints from column A to the last of
        them: the long detail columns after it (reason, rule) would shrink a printed page to
        an unreadable width."""
        entry = [i for i, c in enumerate(table.columns, start=1) if c.entry]
        if entry and max(entry) < len(table.columns):
            last = top + max(len(table), 1)
            self.ws.print_area = f"A1:{get_column_letter(max(entry))}{last}"

    # -- sheet settings (before any row: write-only mode writes them first) ----------------------

    def _set_up(self) -> None:
        ws = self.ws
        for col, width in self.widths.items():
            ws.column_dimensions[get_column_letter(col)].width = round(width, 1)
        for col in self.sheet.hidden_columns():
            ws.column_dimensions[get_column_letter(col)].hidden = True
        ws.sheet_properties.tabColor = TAB_COLOR.get(self.sheet.role)
        ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
        ws.page_setup.orientation = "landscape"
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_view.showGridLines = self.sheet.role == "lines"
        if self.sheet.hidden:
            ws.sheet_state = "hidden"
        if self.sheet.protected:
            _protect(ws)
        for table in self.sheet.tables():
            for col, column in enumerate(table.columns, start=1):
                if column.entry and column.kind != "text":
                    # What people type later in the column gets its format too.
                    ws.column_dimensions[get_column_letter(col)].number_format = number_format(
                        column.kind
                    )
                if column.entry and self.sheet.protected:
                    # Rows people add below the table can be typed in too.
                    ws.column_dimensions[get_column_letter(col)].protection = _UNLOCKED
        if self.sheet.freeze:
            header = table_header_row(self.sheet, self.sheet.freeze)
            ws.freeze_panes = f"A{header + 1}"
            ws.print_title_rows = f"{header}:{header}"
        width = text_width(self.sheet, self.widths)
        for placement in self.placements:
            block = placement.block
            if isinstance(block, Text):
                shown = f"{block.label}: {block.text}" if block.label else block.text
                height = text_height(shown, width)
                if height > 18:
                    ws.row_dimensions[placement.row].height = height
            elif isinstance(block, Title) and block.level == 1:
                ws.row_dimensions[placement.row].height = 24
            elif isinstance(block, Figure):
                # Charts are sized in rows: fix those rows' height so every program agrees.
                for row in range(placement.row, placement.row + block.table_offset):
                    ws.row_dimensions[row].height = _ROW_POINTS

    # -- rows --------------------------------------------------------------------------------

    def _append(self, cells: list) -> None:
        self.ws.append(cells)
        self.row += 1
        for cell in cells:
            # Normal worksheets do not move a cell's hyperlink with the cell; set its anchor.
            if isinstance(cell, Cell) and cell.hyperlink is not None:
                cell.hyperlink.ref = cell.coordinate

    def _skip_to(self, row: int) -> None:
        while self.row < row - 1:
            self._append([])

    def _font(self, look: Look) -> Font:
        if look not in self._fonts:
            self._fonts[look] = Font(
                name=FONT_NAME,
                size=look.size or FONT_SIZE,
                color=look.font,
                bold=look.bold or None,
                italic=look.italic or None,
                underline="single" if look.underline else None,
            )
        return self._fonts[look]

    def _fill(self, color: str) -> PatternFill:
        if color not in self._fills:
            self._fills[color] = PatternFill(fill_type="solid", start_color=color, end_color=color)
        return self._fills[color]

    def _cell(
        self,
        value: Any,
        *,
        kind: str = "text",
        look: Look | None = None,
        wrap: bool = False,
        top: bool = False,
        align: str | None = None,
        link: str | None = None,
        unlocked: bool = False,
    ):
        cell = WriteOnlyCell(self.ws, value=_excel_value(value, kind))
        if unlocked:
            cell.protection = _UNLOCKED
            if kind not in ("text", "bool"):
                cell.number_format = number_format(kind)  # for what people type in it
        if isinstance(cell.value, str):
            cell.data_type = "s"  # never a formula, whatever the text starts with
            if is_formula_like(cell.value):
                cell.quotePrefix = True
        if kind != "text" and cell.value is not None and not isinstance(cell.value, str):
            cell.number_format = number_format(kind)
        if link is not None:
            cell.hyperlink = Hyperlink(ref="A1", location=link)
            look = LINK_LOOK if look is None else Look(look.fill, LINK_LOOK.font, underline=True)
        if look is not None:
            cell.font = self._font(look)
            if look.fill:
                cell.fill = self._fill(look.fill)
        if wrap or top or align:
            cell.alignment = _alignment(wrap, top or wrap, align)
        return cell

    def _text(self, block: Text) -> None:
        look = TONE_LOOK.get(block.tone, TEXT_LOOK)
        cell = self._cell(block.text, look=look, wrap=True)
        if block.label:
            # The label in bold, then the paragraph, in one cell.
            bold = InlineFont(rFont=FONT_NAME, sz=FONT_SIZE, b=True, color=look.font)
            plain = InlineFont(
                rFont=FONT_NAME, sz=FONT_SIZE, color=look.font, i=look.italic or None
            )
            cell.value = CellRichText(
                TextBlock(bold, f"{block.label}: "), TextBlock(plain, block.text)
            )
        self._append([cell])
        last = get_column_letter(self.span)
        self.ws.merged_cells.add(f"A{self.row}:{last}{self.row}")

    def _facts(self, block: Facts) -> None:
        if block.headers:
            self._append([self._cell(h, look=HEADER_LOOK) for h in block.headers])
        for fact in block.rows:
            self._append(self._fact_cells(fact, block))

    def _fact_cells(self, fact: Fact, block: Facts) -> list:
        status_look = STATUS_LOOK.get(fact.status) if fact.status else None
        cells = [
            self._cell(fact.label, look=LABEL_LOOK),
            self._cell(fact.value, kind=fact.kind, look=status_look, align="left"),
        ]
        if block.columns >= 3:
            label = STATUS_LABEL.get(fact.status, "") if fact.status else ""
            cells.append(self._cell(label, look=status_look))
        if block.columns >= 4:
            cells.append(self._cell(fact.benchmark, look=NOTE_LOOK))
        return cells

    def _location(self, link: Link) -> str:
        sheet, row = resolve(self.report, link)
        return f"{quote_sheetname(self.names.get(sheet, sheet))}!A{row}"

    # -- tables --------------------------------------------------------------------------------

    def _table(self, table: Table, top: int, *, fast: bool = False) -> RowBlock | None:
        heights = row_heights(table, self.widths)
        headers = unique_headers([c.header for c in table.columns])
        self._append(
            [
                # Numbers are right-aligned: so are their headers.
                self._cell(
                    h,
                    look=ENTRY_HEADER_LOOK if c.entry else HEADER_LOOK,
                    align="right" if c.kind in NUMERIC_KINDS else None,
                )
                for h, c in zip(headers, table.columns, strict=True)
            ]
        )
        n = len(table)
        rows = None
        if fast:
            formats = self._formats(table, tall=heights is not None)
            rows = RowBlock(
                table.frame, formats, first_row=top + 1, heights=heights, fill=table.fill
            )
        else:
            self._table_rows(table, heights)
        last_col = get_column_letter(len(table.columns))
        last_row = top + max(n, 1)  # Excel needs a data row, even an empty one
        name = table_name("ak_" + table.key.replace(":", "_").replace("-", "_"), self.table_names)
        self.table_names.add(name)
        excel_table = ExcelTable(displayName=name, ref=f"A{top}:{last_col}{last_row}")
        excel_table.tableStyleInfo = TableStyleInfo(name=TABLE_STYLE, showRowStripes=True)
        excel_table._initialise_columns()
        for column, header in zip(excel_table.tableColumns, headers, strict=True):
            column.name = header
        with warnings.catch_warnings():
            # Columns were set above; openpyxl warns in write-only mode regardless.
            warnings.filterwarnings("ignore", message="In write-only mode you must add table")
            self.ws.add_table(excel_table)
        if table.row_look and n:
            self._severity_rules(table, top, last_col, last_row)
        self._column_rules(table, top, last_row)
        return rows

    def _column_rules(self, table: Table, top: int, last_row: int) -> None:
        """Each column's dropdown (``choices``) and value colours (``rules``) over its rows."""
        for col, column in enumerate(table.columns, start=1):
            letter = get_column_letter(col)
            area = f"{letter}{top + 1}:{letter}{last_row}"
            if column.choices:
                listed = ",".join(column.choices)
                validation = DataValidation(
                    type="list",
                    formula1=f'"{listed}"',
                    allow_blank=True,
                    showErrorMessage=True,
                    errorTitle=column.header,
                    error=f"Choose one of: {', '.join(column.choices)}.",
                )
                validation.add(area)
                self.ws.data_validations.append(validation)
            for rule in column.rules:
                look = CELL_RULE_LOOK[rule.look]
                self.ws.conditional_formatting.add(
                    area,
                    FormulaRule(
                        formula=[rule.condition(f"${letter}{top + 1}")],
                        fill=self._fill(look.fill) if look.fill else None,
                        font=Font(color=look.font),
                        stopIfTrue=True,
                    ),
                )

    def _table_rows(self, table: Table, heights) -> None:
        columns = table.columns
        tall = heights is not None
        unlocked = [self.sheet.protected and c.entry for c in columns]
        link_columns = {
            i: table.links[c.key] for i, c in enumerate(columns) if c.key in table.links
        }
        # Small tables (Summary, About) go through openpyxl cell by cell; big ones use the
        # fast row path.
        for r, values in enumerate(table.rows().itertuples(index=False, name=None)):
            if tall and heights[r] == heights[r]:  # not NaN: the row needs more than one line
                self.ws.row_dimensions[self.row + 1].height = float(heights[r])
            cells = []
            for i, value in enumerate(values):
                target = link_columns[i][r] if i in link_columns else None
                link = self._location(target) if target is not None else None
                column = columns[i]
                cells.append(
                    self._cell(
                        value,
                        kind=column.kind,
                        link=link,
                        wrap=column.wrap,
                        top=tall,
                        unlocked=unlocked[i],
                    )
                )
            self._append(cells)

    def _formats(self, table: Table, *, tall: bool) -> list[CellFormat]:
        """Style ids for the fast row path, registered in this workbook through probe cells."""
        formats = []
        for column in table.columns:
            alignment = _alignment(column.wrap, True, None) if tall else None
            probe = WriteOnlyCell(self.ws)
            if column.kind != "text":
                probe.number_format = number_format(column.kind)
            if alignment is not None:
                probe.alignment = alignment
            quote = None
            if column.kind == "text":
                quoted = WriteOnlyCell(self.ws)
                quoted.quotePrefix = True
                if alignment is not None:
                    quoted.alignment = alignment
                quote = quoted.style_id
            formats.append(CellFormat(column.kind, probe.style_id, quote))
        return formats

    def _severity_rules(self, table: Table, top: int, last_col: str, last_row: int) -> None:
        keys = [c.key for c in table.columns]
        column = get_column_letter(keys.index(table.row_look) + 1)
        area = f"A{top + 1}:{last_col}{last_row}"
        for severity, look in SEVERITY_LOOK.items():
            rule = FormulaRule(
                formula=[f'${column}{top + 1}="{severity}"'],
                fill=self._fill(look.fill) if look.fill else None,
                font=Font(color=look.font),
                stopIfTrue=True,
            )
            self.ws.conditional_formatting.add(area, rule)

    # -- charts --------------------------------------------------------------------------------

    def _figure_chars(self) -> float:
        """Width of the widest figure table on the sheet: all its charts get that width."""
        widest = max(
            (len(b.table.columns) for b in self.sheet.blocks if isinstance(b, Figure)), default=1
        )
        return sum(self.widths.get(i, 8.43) for i in range(1, widest + 1))

    def _chart(self, figure: Figure, top: int) -> None:
        spec: Chart = figure.chart
        table = figure.table
        keys = [c.key for c in table.columns]
        n = len(table)
        header = top + figure.table_offset
        first, last = header + 1, header + n
        if spec.kind == "line":
            chart = LineChart()
        else:
            chart = BarChart()
            chart.type = "bar" if spec.horizontal else "col"
            chart.grouping = "stacked" if spec.stacked else "clustered"
        if spec.stacked and spec.kind != "line":
            chart.overlap = 100
        chart.title = spec.title
        chart.width = spec.width_cm or max(15.0, self._figure_chars() * _CHAR_CM)
        chart.height = (spec.height_rows - 1) * _ROW_CM  # a spare row above the table
        categories = Reference(
            self.ws, min_col=keys.index(spec.category) + 1, min_row=first, max_row=last
        )
        lines = LineChart()
        for series in spec.series:
            col = keys.index(series.column) + 1
            data = Reference(self.ws, min_col=col, min_row=first, max_row=last)
            holder = lines if series.as_line and spec.kind != "line" else chart
            holder.add_data(data, titles_from_data=False)
            drawn = holder.series[-1]
            drawn.tx = SeriesLabel(v=series.label)
            if spec.kind == "line":  # a trend: a solid line with a marker on each month
                drawn.graphicalProperties.line.solidFill = series.color
                drawn.graphicalProperties.line.width = 22000
                drawn.marker.symbol = "circle"
                drawn.marker.size = 5
                drawn.marker.graphicalProperties = GraphicalProperties(solidFill=series.color)
                drawn.marker.graphicalProperties.line.solidFill = series.color
                drawn.smooth = False
            elif series.as_line:
                drawn.graphicalProperties.line.solidFill = series.color
                drawn.graphicalProperties.line.dashStyle = "dash"
                drawn.graphicalProperties.line.width = 22000
                drawn.marker.symbol = "none"
                drawn.smooth = False
            elif series.color:
                drawn.graphicalProperties.solidFill = series.color
                drawn.graphicalProperties.line.solidFill = series.color
        chart.set_categories(categories)
        fmt = "0%" if spec.value_kind == "percent" else number_format(spec.value_kind)
        chart.y_axis.number_format = fmt
        if spec.kind != "line":  # a trend's axis fits its values, so a change shows
            chart.y_axis.scaling.min = 0
        if spec.value_max is not None:
            chart.y_axis.scaling.max = spec.value_max
        chart.x_axis.delete = False
        chart.y_axis.delete = False
        if spec.horizontal:
            chart.x_axis.scaling.orientation = "maxMin"  # first category at the top
        if lines.series:
            lines.set_categories(categories)
            chart += lines
        if len(spec.series) > 1:
            chart.legend.position = "b"
        else:
            chart.legend = None
        self.ws.add_chart(chart, f"A{top}")


def _protect(ws) -> None:
    """Sheet protection without a password: cells cannot be edited unless unlocked; people may
    still filter, sort and resize columns and rows."""
    ws.protection.sheet = True
    ws.protection.autoFilter = False
    ws.protection.sort = False
    ws.protection.formatColumns = False
    ws.protection.formatRows = False


def _alignment(wrap: bool, top: bool, horizontal: str | None) -> Alignment:
    return Alignment(wrap_text=wrap or None, vertical="top" if top else None, horizontal=horizontal)


def _excel_value(value: Any, kind: str) -> Any:
    """A value openpyxl writes as intended (missing values become empty cells)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        try:
            value = value.item()
        except (ValueError, AttributeError):
            value = str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, datetime) and kind == "date":
        return value.date()
    if isinstance(value, str | int | float | bool | date | datetime):
        return value
    return str(value)
