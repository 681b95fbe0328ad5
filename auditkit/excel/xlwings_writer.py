"""Write the audit report into a workbook open in Excel, through xlwings (open-source part only).

The twin of :mod:`auditkit.excel.openpyxl_writer`: both render the same report model
(:func:`auditkit.report.build_report`) with the same layout (:mod:`auditkit.report.layout`),
palette and number formats (:mod:`auditkit.report.style`), and mark their sheets the same way
(:mod:`auditkit.excel.markers`), so a re-run replaces auditkit's sheets from either writer and
leaves the user's own sheets alone. It is used by the macro workbook's *Run audit* button
(:mod:`auditkit.excel.macro`), where the workbook is open in Excel and cannot be rewritten as a
file. :func:`write_result` keeps what people typed on the book's Work list
(:func:`previous_worklist`, read before auditkit's sheets are replaced).

Writing goes through Excel, so it is done in blocks: a table's body is one 2-D assignment (in
chunks for big tables), formats are set per column range, severity colours are conditional
formats (like the openpyxl writer's), not cell-by-cell paint.

Differences from the openpyxl writer, all from what xlwings' open-source API offers: every
text value is written with Excel's quote prefix (``'``), because Excel parses a value assigned
through COM as if typed (``00123`` would become 123, ``=x`` a formula); the page setup (landscape,
fit to width, print titles) is not set; panes are frozen and tabs coloured on Windows only,
through Excel's own objects (xlwings has no call for them on the desktop).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
import xlwings as xw

from auditkit.engine.result import AuditResult
from auditkit.excel.markers import MARKER_NAME, marked_title, marker_value
from auditkit.excel.worklist_notes import is_worklist_sheet, open_first, worklist_notes
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

#: Excel's quote prefix: a value assigned as ``'text`` is stored as the text ``text``.
QUOTE = "'"
#: Rows written per Excel call for big tables (xlwings' ``chunksize``).
CHUNK_ROWS = 10_000
#: Height of the rows a chart covers, in points, and points per centimetre.
_ROW_POINTS = 15.0
_POINTS_PER_CM = 72 / 2.54
#: Width of one character of column width in centimetres (as the openpyxl writer).
_CHAR_CM = 0.19


def write_result(
    result: AuditResult,
    book: xw.Book,
    *,
    lines: ClaimLines | None = None,
    with_lines: bool = False,
    practice: str | None = None,
    period: str | None = None,
    prepared_by: str | None = None,
) -> list[xw.Sheet]:
    """Build the report model for ``result`` and write it into ``book`` (see :func:`write_report`),
    keeping what people typed on the book's Work list (:func:`previous_worklist`)."""
    report = build_report(
        result,
        lines,
        practice=practice,
        period=period,
        with_lines=with_lines,
        prepared_by=prepared_by,
        previous_worklist=previous_worklist(book),
    )
    return write_report(report, book)


def previous_worklist(book: xw.Book) -> pd.DataFrame | None:
    """What people typed on the Work list and Closed since last run sheets auditkit wrote into
    ``book`` before (:func:`auditkit.excel.worklist_notes.worklist_notes`), or None.

    Pass it to ``build_report(..., previous_worklist=...)`` before :func:`write_report` replaces
    those sheets. Each sheet is read in one call (its used range, from A1).
    """
    sheets = {s.name: s for s in book.sheets if is_auditkit_sheet(s) and is_worklist_sheet(s.name)}
    if not sheets:
        return None
    return worklist_notes((name, _sheet_rows(sheets[name])) for name in open_first(sheets))


def _sheet_rows(sheet: xw.Sheet) -> list[list[Any]]:
    used = sheet.used_range
    rows = used.options(ndim=2).value or []
    # The used range may start below or right of A1: give the rows back from A1.
    lead = [None] * (used.column - 1)
    return [[] for _ in range(used.row - 1)] + [lead + list(row) for row in rows]


def write_report(report: Report, book: xw.Book) -> list[xw.Sheet]:
    """Write the report's sheets into ``book``, replacing auditkit's sheets from an earlier run.

    New sheets go where the old ones were (at the end the first time); the user's sheets,
    names and settings are not touched. Returns the sheets written, Summary first.
    """
    with _quiet(book):
        position = _remove_own_sheets(book)
        taken = [s.name for s in book.sheets]
        names = _final_names(report, taken)
        table_names = _names_in_use(book)
        anchor = book.sheets[position] if position < len(book.sheets) else None
        written: list[xw.Sheet] = []
        for sheet in report.sheets:
            if written:
                ws = book.sheets.add(names[sheet.name], after=written[-1])
            elif anchor is not None:
                ws = book.sheets.add(names[sheet.name], before=anchor)
            elif len(book.sheets):
                ws = book.sheets.add(names[sheet.name], after=book.sheets[len(book.sheets) - 1])
            else:
                ws = book.sheets.add(names[sheet.name])
            _XlSheetWriter(ws, sheet, report, names, table_names).write()
            ws.names.add(MARKER_NAME, "=" + marker_value(ws.name))
            written.append(ws)
        if written:
            written[0].activate()
    return written


# -- the workbook ----------------------------------------------------------------------------


@contextmanager
def _quiet(book: xw.Book) -> Iterator[None]:
    """Stop Excel redrawing while writing (much faster); always switched back on."""
    app = book.app
    updating = app.screen_updating
    app.screen_updating = False
    try:
        yield
    finally:
        app.screen_updating = updating


def is_auditkit_sheet(sheet: xw.Sheet) -> bool:
    """True when the sheet carries auditkit's marker for its current name (see markers)."""
    names = sheet.names
    if not names.contains(MARKER_NAME):
        return False
    return marked_title(names[MARKER_NAME].refers_to) == sheet.name


def _remove_own_sheets(book: xw.Book) -> int:
    """Delete auditkit's sheets; return the index where the first of them was."""
    own = [(i, s) for i, s in enumerate(book.sheets) if is_auditkit_sheet(s)]
    for _, sheet in reversed(own):
        sheet.delete()
    return own[0][0] if own else len(book.sheets)


def _final_names(report: Report, taken: list[str]) -> dict[str, str]:
    names, used = {}, list(taken)
    for sheet in report.sheets:
        names[sheet.name] = sheet_name(sheet.name, used)
        used.append(names[sheet.name])
    return names


def _names_in_use(book: xw.Book) -> set[str]:
    """Table and defined names already in the workbook (a new table name must differ)."""
    used = {str(n.name).rsplit("!", 1)[-1] for n in book.names}
    for sheet in book.sheets:
        used.update(str(t.name) for t in sheet.tables)
    return used


def _hex(color: str) -> str:
    return "#" + color


# -- values ----------------------------------------------------------------------------------


def _cell_value(value: Any, kind: str = "text") -> Any:
    """One value as Excel should receive it (text quote-prefixed; missing values as None)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, datetime) and kind == "date":
        return datetime(value.year, value.month, value.day)
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, str):
        return QUOTE + value
    if isinstance(value, bool | int | float | datetime):
        return value
    return QUOTE + str(value)


def column_values(values: pd.Series, kind: str) -> list[Any]:
    """A table column as the values Excel receives, whole column at a time."""
    if kind in ("date", "datetime"):
        stamps = pd.to_datetime(values, errors="coerce")
        if kind == "date":
            stamps = stamps.dt.normalize()
        out = stamps.astype(object).where(stamps.notna(), None)
        return [v.to_pydatetime() if v is not None else None for v in out]
    if kind in NUMERIC_KINDS:
        numbers = pd.to_numeric(values, errors="coerce").astype("float64")
        finite = np.isfinite(numbers.to_numpy())
        return numbers.astype(object).where(finite, None).tolist()
    if kind == "bool":
        flags = values.astype("boolean")
        return flags.astype(object).where(flags.notna(), None).tolist()
    text = values.astype("string")
    quoted = (QUOTE + text).where(text.notna() & text.ne(""))
    return quoted.astype(object).where(quoted.notna(), None).tolist()


# -- one sheet -------------------------------------------------------------------------------


class _XlSheetWriter:
    """Writes one :class:`Sheet` into an xlwings sheet, block by block."""

    def __init__(
        self,
        ws: xw.Sheet,
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

    def write(self) -> None:
        self._set_up()
        for placement in self.placements:
            block, row = placement.block, placement.row
            if isinstance(block, Title):
                self._title(block, row)
            elif isinstance(block, Text):
                self._text(block, row)
            elif isinstance(block, Facts):
                self._facts(block, row)
            elif isinstance(block, Figure):
                self._table(block.table, row + block.table_offset)
                self._chart(block, row)
            elif isinstance(block, Table):
                self._table(block, row)

    # -- cells ---------------------------------------------------------------------------------

    def _range(self, row: int, col: int, last_row: int | None = None, last_col: int | None = None):
        if last_row is None and last_col is None:
            return self.ws.range((row, col))
        return self.ws.range((row, col), (last_row or row, last_col or col))

    def _look(self, rng, look: Look) -> None:
        font = rng.font
        font.name = FONT_NAME
        font.size = look.size or FONT_SIZE
        font.color = _hex(look.font)
        font.bold = look.bold
        font.italic = look.italic
        if look.fill:
            rng.color = _hex(look.fill)

    def _put(self, row: int, col: int, value: Any, kind: str = "text", look: Look | None = None):
        rng = self._range(row, col)
        shown = _cell_value(value, kind)
        if kind != "text" and shown is not None and not isinstance(shown, str):
            rng.number_format = number_format(kind)
        rng.value = shown
        if look is not None:
            self._look(rng, look)
        return rng

    # -- sheet settings ------------------------------------------------------------------------

    def _set_up(self) -> None:
        ws = self.ws
        for col, width in self.widths.items():
            self._range(1, col).column_width = round(width, 1)
        for col in self.sheet.hidden_columns():  # a width of 0 hides a column in Excel
            self._range(1, col).column_width = 0
        ws.show_gridlines = self.sheet.role == "lines"
        frozen = None
        if self.sheet.freeze:
            frozen = table_header_row(self.sheet, self.sheet.freeze) + 1
        _window_settings(ws, frozen, TAB_COLOR.get(self.sheet.role))
        width = text_width(self.sheet, self.widths)
        for placement in self.placements:
            block = placement.block
            if isinstance(block, Text):
                shown = f"{block.label}: {block.text}" if block.label else block.text
                height = text_height(shown, width)
                if height > 18:
                    self._range(placement.row, 1).row_height = height
            elif isinstance(block, Title) and block.level == 1:
                self._range(placement.row, 1).row_height = 24
            elif isinstance(block, Figure):
                last = placement.row + block.table_offset - 1
                self._range(placement.row, 1, last, 1).row_height = _ROW_POINTS

    # -- blocks --------------------------------------------------------------------------------

    def _title(self, block: Title, row: int) -> None:
        self._put(row, 1, block.text, look=TITLE_LOOK if block.level == 1 else HEADING_LOOK)

    def _text(self, block: Text, row: int) -> None:
        look = TONE_LOOK.get(block.tone, TEXT_LOOK)
        shown = f"{block.label}: {block.text}" if block.label else block.text
        area = self._range(row, 1, row, self.span)
        area.merge()
        cell = self._put(row, 1, shown, look=look)
        area.wrap_text = True
        area.vertical_alignment = "top"
        if block.label:
            # The label in bold, then the paragraph, in one cell (as the openpyxl writer).
            cell.characters[0 : len(block.label) + 2].font.bold = True

    def _facts(self, block: Facts, row: int) -> None:
        if block.headers:
            for col, header in enumerate(block.headers, start=1):
                self._put(row, col, header, look=HEADER_LOOK)
            row += 1
        for fact in block.rows:
            self._fact(fact, block, row)
            row += 1

    def _fact(self, fact: Fact, block: Facts, row: int) -> None:
        status_look = STATUS_LOOK.get(fact.status) if fact.status else None
        self._put(row, 1, fact.label, look=LABEL_LOOK)
        value = self._put(row, 2, fact.value, kind=fact.kind, look=status_look)
        value.horizontal_alignment = "left"
        if block.columns >= 3:
            label = STATUS_LABEL.get(fact.status, "") if fact.status else ""
            self._put(row, 3, label or None, look=status_look)
        if block.columns >= 4:
            self._put(row, 4, fact.benchmark, look=NOTE_LOOK)

    def _table(self, table: Table, top: int) -> None:
        columns = table.columns
        n, width = len(table), len(columns)
        headers = unique_headers([c.header for c in columns])
        header = self._range(top, 1, top, width)
        header.value = [[QUOTE + h for h in headers]]
        self._look(header, HEADER_LOOK)
        for col, column in enumerate(columns, start=1):
            if column.kind in NUMERIC_KINDS:
                # Numbers are right-aligned: so are their headers.
                self._range(top, col).horizontal_alignment = "right"
            if column.entry:
                self._look(self._range(top, col), ENTRY_HEADER_LOOK)
        last_row = top + max(n, 1)  # Excel needs a data row, even an empty one
        if n:
            self._body(table, top + 1)
        source = self._range(top, 1, last_row, width)
        name = table_name("ak_" + table.key.replace(":", "_").replace("-", "_"), self.table_names)
        self.table_names.add(name)
        self.ws.tables.add(source=source, name=name, table_style_name=TABLE_STYLE)
        if table.links:
            self._links(table, top)
        if table.row_look and n:
            self._severity_rules(table, top, last_row, width)
        self._column_rules(table, top, last_row)

    def _column_rules(self, table: Table, top: int, last_row: int) -> None:
        """Each column's dropdown (``choices``) and value colours (``rules``) over its rows."""
        for col, column in enumerate(table.columns, start=1):
            area = self._range(top + 1, col, last_row, col)
            if column.choices:
                area.data_validation.set_list(list(column.choices))
            letter = _column_letter(col)
            for rule in column.rules:
                look = CELL_RULE_LOOK[rule.look]
                # INDEX(..., ROW()): see _severity_rules.
                area.conditional_formats.add_custom(
                    "=" + rule.condition(f"INDEX(${letter}:${letter},ROW())"),
                    fill_color=_hex(look.fill) if look.fill else None,
                    font_color=_hex(look.font),
                    stop_if_true=True,
                )

    def _body(self, table: Table, first: int) -> None:
        columns = table.columns
        n, width = len(table), len(columns)
        last = first + n - 1
        frame = table.rows()  # Excel takes the values in one piece (chunked below)
        data = [column_values(frame[c.key], c.kind) for c in columns]
        rows = [list(row) for row in zip(*data, strict=True)]
        body = self._range(first, 1, last, width)
        if n > CHUNK_ROWS:
            body.options(chunksize=CHUNK_ROWS).value = rows
        else:
            body.value = rows
        heights = row_heights(table, self.widths)
        tall = heights is not None
        for col, column in enumerate(columns, start=1):
            area = self._range(first, col, last, col)
            area.number_format = number_format(column.kind)
            if column.wrap:
                area.wrap_text = True
        if tall:
            body.vertical_alignment = "top"
            for start, stop, points in _runs(heights):
                self._range(first + start, 1, first + stop - 1, 1).row_height = points

    def _location(self, link: Link) -> str:
        sheet, row = resolve(self.report, link)
        name = self.names.get(sheet, sheet).replace("'", "''")
        return f"#'{name}'!A{row}"

    def _links(self, table: Table, top: int) -> None:
        keys = [c.key for c in table.columns]
        for key, targets in table.links.items():
            col = keys.index(key) + 1
            for r, target in enumerate(targets):
                if target is None:
                    continue
                cell = self._range(top + 1 + r, col)
                text = table.frame[key].iloc[r]
                shown = "" if text is None or text is pd.NA else str(text)
                cell.add_hyperlink(
                    self._location(target), QUOTE + shown if is_formula_like(shown) else shown
                )
                cell.font.color = _hex(LINK_LOOK.font)

    def _severity_rules(self, table: Table, top: int, last_row: int, width: int) -> None:
        keys = [c.key for c in table.columns]
        letter = _column_letter(keys.index(table.row_look) + 1)
        area = self._range(top + 1, 1, last_row, width)
        for severity, look in SEVERITY_LOOK.items():
            # INDEX(..., ROW()) instead of a relative reference: a rule added through Excel's
            # object model reads relative references from the active cell, not the range.
            area.conditional_formats.add_custom(
                f'=INDEX(${letter}:${letter},ROW())="{severity}"',
                fill_color=_hex(look.fill) if look.fill else None,
                font_color=_hex(look.font),
                stop_if_true=True,
            )

    # -- charts --------------------------------------------------------------------------------

    def _figure_chars(self) -> float:
        widest = max(
            (len(b.table.columns) for b in self.sheet.blocks if isinstance(b, Figure)), default=1
        )
        return sum(self.widths.get(i, 8.43) for i in range(1, widest + 1))

    def _chart(self, figure: Figure, top: int) -> None:
        spec: Chart = figure.chart
        table = figure.table
        keys = [c.key for c in table.columns]
        header = top + figure.table_offset
        last = header + len(table)
        drawn = sorted(spec.series, key=lambda s: keys.index(s.column))
        columns = [keys.index(spec.category) + 1] + [keys.index(s.column) + 1 for s in drawn]
        address = ",".join(
            f"{_column_letter(c)}{header}:{_column_letter(c)}{last}" for c in columns
        )
        if spec.kind == "line":
            kind = "line_markers"
        elif spec.horizontal:
            kind = "bar_stacked" if spec.stacked else "bar_clustered"
        else:
            kind = "column_stacked" if spec.stacked else "column_clustered"
        width_cm = spec.width_cm or max(15.0, self._figure_chars() * _CHAR_CM)
        chart = self.ws.charts.add(
            width=width_cm * _POINTS_PER_CM,
            height=(spec.height_rows - 1) * _ROW_POINTS,  # a spare row above the table
            chart_type=kind,
            source=self.ws.range(address),
            plot_by="columns",
            anchor=self._range(top, 1),
        )
        chart.title = spec.title
        for index, series in enumerate(drawn):
            shown = chart.series[index]
            if spec.kind == "line":
                color = _hex(series.color)
                shown.set(
                    name=series.label,
                    line_color=color,
                    marker_foreground_color=color,
                    marker_background_color=color,
                )
            elif series.as_line:
                shown.set(name=series.label, chart_type="line", line_color=_hex(series.color))
            elif series.color:
                shown.set(name=series.label, fill_color=_hex(series.color))
            else:
                shown.set(name=series.label)
        axis = chart.value_axis
        axis.number_format = (
            "0%" if spec.value_kind == "percent" else number_format(spec.value_kind)
        )
        if spec.kind != "line":  # a trend's axis fits its values, so a change shows
            axis.minimum_scale = 0
        if spec.value_max is not None:
            axis.maximum_scale = spec.value_max
        if spec.horizontal:
            chart.category_axis.reverse_order = True  # first category at the top
        if len(spec.series) > 1:
            chart.legend.position = "bottom"
        else:
            chart.legend.visible = False


def _runs(heights: np.ndarray) -> list[tuple[int, int, float]]:
    """Runs of rows with the same explicit height: (start, stop, points), NaN rows left out."""
    runs: list[tuple[int, int, float]] = []
    values = np.asarray(heights, dtype=float)
    if not len(values):
        return runs
    # Whole-array comparison finds where the height changes; one Excel call per run.
    same = np.r_[
        False, (values[1:] == values[:-1]) | (np.isnan(values[1:]) & np.isnan(values[:-1]))
    ]
    starts = np.flatnonzero(~same)
    stops = np.r_[starts[1:], len(values)]
    for start, stop in zip(starts, stops, strict=True):
        if not np.isnan(values[start]):
            runs.append((int(start), int(stop), float(values[start])))
    return runs


def _column_letter(col: int) -> str:
    letters = ""
    while col:
        col, rest = divmod(col - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _window_settings(ws: xw.Sheet, frozen_row: int | None, tab: str | None) -> None:
    """Freeze the rows above ``frozen_row`` and colour the tab.

    xlwings' ``freeze_panes`` is not implemented for desktop Excel and it has no tab colour, so
    on Windows this goes through Excel's own objects; elsewhere the sheet keeps its defaults.
    """
    if frozen_row is not None:
        try:
            ws.freeze_panes.freeze_at(f"A{frozen_row}")
            frozen_row = None
        except NotImplementedError:
            pass
    if not sys.platform.startswith("win"):
        return
    if tab:  # pragma: no cover - Windows only
        ws.api.Tab.Color = int(tab[4:6] + tab[2:4] + tab[0:2], 16)  # Excel wants BGR
    if frozen_row is not None:  # pragma: no cover - Windows only
        ws.activate()
        window = ws.book.app.api.ActiveWindow
        window.FreezePanes = False
        window.ScrollRow = 1
        window.SplitColumn = 0
        window.SplitRow = frozen_row - 1
        window.FreezePanes = True


__all__ = [
    "QUOTE",
    "column_values",
    "is_auditkit_sheet",
    "previous_worklist",
    "write_report",
    "write_result",
]
