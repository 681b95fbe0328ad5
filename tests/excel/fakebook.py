"""A workbook that behaves like Excel's for the calls auditkit makes, built on xlwings' classes.

Every object is a ``MagicMock(spec_set=<xlwings class>)`` - ``xw.Book``, ``xw.Sheet``,
``xw.Range``, ``Font``, ``Names``, ``Tables``, ``Charts``, ``ConditionalFormats``, ... - so a
call or attribute that xlwings does not have (``rng.colour``, ``sheet.add_table``) fails as it
would against Excel. The properties auditkit uses are wired to a cell grid that follows Excel's
rules where they matter for correctness:

* a text value is parsed as if typed: ``'text`` stores ``text`` (quote prefix), ``=...`` becomes
  a formula, text that reads as a number becomes a number (``coerced``);
* a list of rows must fit the range it is assigned to; a single value fills the whole range;
* conditional-format rules are kept and can be evaluated (:meth:`FakeSheet.shown_fill`);
* list validations (dropdowns) are kept, refusing what xlwings refuses (:attr:`validations`);
* ``sheet.used_range`` spans A1 (or the first used cell) to the last used cell.

It is not Excel: no recalculation, no rendering, no COM. Build one with :func:`fake_book`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from unittest.mock import MagicMock, NonCallableMock

import xlwings as xw
from xlwings import main as xwmain


@dataclass
class Cell:
    value: Any = None
    quoted: bool = False  # written with Excel's quote prefix
    formula: str | None = None  # text Excel would have taken as a formula
    coerced: bool = False  # text Excel would have turned into a number
    number_format: str = "General"
    fill: str | None = None
    font: dict[str, Any] = field(default_factory=dict)
    wrap: bool | None = None
    halign: str | None = None
    valign: str | None = None
    link: str | None = None


def _hex(color: Any) -> str | None:
    if color is None:
        return None
    if isinstance(color, tuple):
        return "".join(f"{c:02X}" for c in color)
    text = str(color).lstrip("#").upper()
    if not re.fullmatch(r"[0-9A-F]{6}", text):
        raise ValueError(f"not a colour xlwings accepts: {color!r}")
    return text


def _letters(col: int) -> str:
    out = ""
    while col:
        col, rest = divmod(col - 1, 26)
        out = chr(65 + rest) + out
    return out


def _number(col: str) -> int:
    n = 0
    for ch in col:
        n = n * 26 + ord(ch) - 64
    return n


def _parse(address: str) -> list[tuple[int, int, int, int]]:
    areas = []
    for part in address.replace("$", "").split(","):
        cells = [re.fullmatch(r"([A-Z]+)(\d+)", c.strip()) for c in part.split(":")]
        if any(m is None for m in cells):
            raise ValueError(f"bad address {address!r}")
        (c1, r1), (c2, r2) = [(m.group(1), m.group(2)) for m in (cells[0], cells[-1])]
        areas.append((int(r1), _number(c1), int(r2), _number(c2)))
    return areas


_ALLOWED = (str, int, float, bool, datetime, date, type(None))


def _wire(mock: MagicMock, **properties: tuple) -> MagicMock:
    """Attach (getter, setter) pairs as properties of a spec_set mock.

    Plain properties on the mock's own class (each mock has one): the mock's spec_set still
    refuses names xlwings does not have, and the property runs the fake's getter or setter.
    """
    for name, (getter, setter) in properties.items():

        def read_only(_self: Any, value: Any, name: str = name) -> None:
            raise AttributeError(f"{name} is read-only")

        setattr(
            type(mock),
            name,
            property(
                lambda _self, getter=getter: getter(),
                (lambda _self, value, setter=setter: setter(value)) if setter else read_only,
            ),
        )
    return mock


class FakeSheet:
    """The state of one sheet, and its ``xw.Sheet`` mock (:attr:`api`)."""

    def __init__(self, book: FakeBook, name: str) -> None:
        self.book = book
        self.name = name
        self.cells: dict[tuple[int, int], Cell] = {}
        self.merged: list[tuple[int, int, int, int]] = []
        self.column_widths: dict[int, float] = {}
        self.row_heights: dict[int, float] = {}
        self.rules: list[dict[str, Any]] = []
        self.validations: list[dict[str, Any]] = []
        self.tables: list[dict[str, Any]] = []
        self.charts: list[dict[str, Any]] = []
        self.names: dict[str, str] = {}
        self.bold_spans: list[tuple[int, int, int, int]] = []
        self.freeze: str | None = None
        self.gridlines = True
        self.writes: list[dict[str, Any]] = []  # every value assignment, with its options
        self._ranges: dict[int, FakeRange] = {}
        self.mock = self._make()

    def fake(self, rng: MagicMock) -> FakeRange:
        """The :class:`FakeRange` behind a range mock of this workbook."""
        for sheet in self.book.sheets:
            if id(rng) in sheet._ranges:
                return sheet._ranges[id(rng)]
        raise AssertionError("not a range of this workbook")

    # -- the xw.Sheet mock ------------------------------------------------------------------

    def _make(self) -> MagicMock:
        sheet = MagicMock(spec_set=xw.Sheet)

        def set_name(value: str) -> None:
            self.name = value

        def set_gridlines(value: bool) -> None:
            self.gridlines = bool(value)

        _wire(
            sheet,
            name=(lambda: self.name, set_name),
            show_gridlines=(lambda: self.gridlines, set_gridlines),
            book=(lambda: self.book.mock, None),
            index=(lambda: self.book.sheets.index(self) + 1, None),
            used_range=(self._used_range, None),
        )
        sheet.range.side_effect = self.range
        sheet.__getitem__.side_effect = lambda key: self.range(key)
        sheet.activate.side_effect = lambda: self.book.activated.append(self.name)
        sheet.delete.side_effect = lambda: self.book.sheets.remove(self)

        names = MagicMock(spec_set=xwmain.Names)
        names.add.side_effect = self._add_name
        names.contains.side_effect = lambda key: key in self.names
        names.__contains__.side_effect = lambda key: key in self.names
        names.__getitem__.side_effect = self._name
        names.__iter__.side_effect = lambda: iter([self._name(n) for n in self.names])
        _wire(sheet, names=(lambda: names, None))

        tables = MagicMock(spec_set=xwmain.Tables)
        tables.add.side_effect = self._add_table
        tables.__iter__.side_effect = lambda: iter([t["mock"] for t in self.tables])
        _wire(sheet, tables=(lambda: tables, None))

        charts = MagicMock(spec_set=xwmain.Charts)
        charts.add.side_effect = self._add_chart
        _wire(sheet, charts=(lambda: charts, None))

        freeze = NonCallableMock(spec_set=xwmain.FreezePanes)

        def freeze_at(where: Any) -> None:
            self.freeze = where

        freeze.freeze_at.side_effect = freeze_at
        _wire(sheet, freeze_panes=(lambda: freeze, None))
        return sheet

    def _used_range(self) -> MagicMock:
        used = [key for key, cell in self.cells.items() if cell.value is not None]
        if not used:
            return self.range((1, 1))
        rows, cols = [r for r, _ in used], [c for _, c in used]
        return self.range((min(rows), min(cols)), (max(rows), max(cols)))

    def _add_name(self, name: str, refers_to: str) -> MagicMock:
        if not refers_to.startswith("="):
            raise ValueError("refers_to must start with '='")
        self.names[name] = refers_to
        return self._name(name)

    def _name(self, name: str) -> MagicMock:
        if name not in self.names:
            raise KeyError(name)
        mock = NonCallableMock(spec_set=xwmain.Name)
        _wire(mock, name=(lambda: name, None), refers_to=(lambda: self.names[name], None))
        return mock

    def _add_table(self, source: Any = None, name: str | None = None, **options: Any) -> Any:
        unknown = set(options) - {"table_style_name", "has_headers"}
        if unknown:
            raise TypeError(f"unexpected options {unknown}")
        mock = NonCallableMock(spec_set=xwmain.Table)
        _wire(mock, name=(lambda: name, None))
        area = self.fake(source)._area
        self.tables.append({"name": name, "area": area, "mock": mock, **options})
        return mock

    def _add_chart(self, **options: Any) -> MagicMock:
        chart = NonCallableMock(spec_set=xwmain.Chart)
        record: dict[str, Any] = {
            "options": options,
            "anchor": self.fake(options["anchor"])._area if "anchor" in options else None,
            "source": self.fake(options["source"])._areas if "source" in options else None,
            "series": [],
            "axes": {},
            "legend": {},
        }

        def series_at(index: int) -> MagicMock:
            while len(record["series"]) <= index:
                record["series"].append({})
            series = NonCallableMock(spec_set=xwmain.ChartSeries)
            series.set.side_effect = lambda **kw: record["series"][index].update(kw)
            return series

        collection = MagicMock(spec_set=xwmain.ChartSeriesCollection)
        collection.__getitem__.side_effect = series_at

        def axis(which: str) -> MagicMock:
            store = record["axes"].setdefault(which, {})
            mock = NonCallableMock(spec_set=xwmain.ChartAxis)
            props = {
                key: (lambda key=key: store.get(key), lambda v, key=key: store.__setitem__(key, v))
                for key in ("number_format", "minimum_scale", "maximum_scale", "reverse_order")
            }
            return _wire(mock, **props)

        legend = _wire(
            NonCallableMock(spec_set=xwmain.ChartLegend),
            position=(
                lambda: record["legend"].get("position"),
                lambda v: record["legend"].__setitem__("position", v),
            ),
            visible=(
                lambda: record["legend"].get("visible", True),
                lambda v: record["legend"].__setitem__("visible", v),
            ),
        )
        _wire(
            chart,
            series=(lambda: collection, None),
            value_axis=(lambda: axis("value"), None),
            category_axis=(lambda: axis("category"), None),
            legend=(lambda: legend, None),
            title=(lambda: record.get("title"), lambda v: record.__setitem__("title", v)),
        )
        self.charts.append(record)
        return chart

    # -- cells --------------------------------------------------------------------------------

    def cell(self, row: int, col: int) -> Cell:
        return self.cells.setdefault((row, col), Cell())

    def value(self, row: int, col: int) -> Any:
        cell = self.cells.get((row, col))
        return None if cell is None else cell.value

    def range(self, first: Any, last: Any = None) -> MagicMock:
        if isinstance(first, str):
            areas = _parse(first)
        else:
            r1, c1 = first
            r2, c2 = last if last is not None else first
            areas = [(min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2))]
        return FakeRange(self, areas).mock

    def shown_fill(self, row: int, col: int) -> str | None:
        """The fill Excel would show: the first matching conditional rule, else the cell's."""
        for rule in self.rules:
            r1, c1, r2, c2 = rule["area"]
            inside = r1 <= row <= r2 and c1 <= col <= c2
            if inside and rule.get("fill_color") and self._rule_matches(rule, row):
                return _hex(rule["fill_color"])
        cell = self.cells.get((row, col))
        return None if cell is None else cell.fill

    def shown_font_color(self, row: int, col: int) -> str | None:
        for rule in self.rules:
            r1, c1, r2, c2 = rule["area"]
            inside = r1 <= row <= r2 and c1 <= col <= c2
            if inside and rule.get("font_color") and self._rule_matches(rule, row):
                return _hex(rule["font_color"])
        cell = self.cells.get((row, col))
        return None if cell is None else cell.font.get("color")

    def _rule_matches(self, rule: dict[str, Any], row: int) -> bool:
        formula = rule["formula"]
        match = re.fullmatch(r'=INDEX\(\$([A-Z]+):\$\1,ROW\(\)\)="([^"]*)"', formula)
        if match is not None:
            return self.value(row, _number(match.group(1))) == match.group(2)
        # A number between bounds: =AND(ISNUMBER(INDEX($L:$L,ROW())),INDEX(...)>=0,...)
        cell = r"INDEX\(\$([A-Z]+):\$\1,ROW\(\)\)"
        match = re.fullmatch(rf"=AND\(ISNUMBER\({cell}\)((?:,{cell}[<>]=-?[\d.]+)*)\)", formula)
        if match is None:
            raise AssertionError(f"the fake cannot evaluate {formula!r}")
        value = self.value(row, _number(match.group(1)))
        if not isinstance(value, int | float) or isinstance(value, bool):
            return False
        for op, bound in re.findall(r"([<>]=)(-?[\d.]+)", match.group(2)):
            if not (value >= float(bound) if op == ">=" else value <= float(bound)):
                return False
        return True

    def in_merge(self, row: int, col: int) -> tuple[int, int, int, int] | None:
        for area in self.merged:
            if area[0] <= row <= area[2] and area[1] <= col <= area[3]:
                return area
        return None


class FakeRange:
    """One ``xw.Range`` mock over an area (or several, for a chart's source)."""

    def __init__(self, sheet: FakeSheet, areas: list[tuple[int, int, int, int]]) -> None:
        self.sheet = sheet
        self._areas = areas
        self._area = areas[0]
        self.options: dict[str, Any] = {}
        self.mock = self._make()
        sheet._ranges[id(self.mock)] = self

    def positions(self) -> list[tuple[int, int]]:
        return [
            (r, c)
            for r1, c1, r2, c2 in self._areas
            for r in range(r1, r2 + 1)
            for c in range(c1, c2 + 1)
        ]

    def _each(self, setter: Any) -> Any:
        def apply(value: Any) -> None:
            for r, c in self.positions():
                setter(self.sheet.cell(r, c), value)

        return apply

    def _make(self) -> MagicMock:
        rng = NonCallableMock(spec_set=xw.Range)
        r1, c1, r2, c2 = self._area

        def set_width(value: float) -> None:
            for col in range(c1, c2 + 1):
                self.sheet.column_widths[col] = value

        def set_height(value: float) -> None:
            for row in range(r1, r2 + 1):
                self.sheet.row_heights[row] = value

        def first(attribute: str) -> Any:
            return getattr(self.sheet.cell(r1, c1), attribute)

        _wire(
            rng,
            value=(self._get_value, self._set_value),
            number_format=(
                lambda: first("number_format"),
                self._each(lambda cell, v: setattr(cell, "number_format", v)),
            ),
            color=(
                lambda: first("fill"),
                self._each(lambda cell, v: setattr(cell, "fill", _hex(v))),
            ),
            wrap_text=(lambda: first("wrap"), self._each(lambda cell, v: setattr(cell, "wrap", v))),
            horizontal_alignment=(
                lambda: first("halign"),
                self._each(lambda cell, v: setattr(cell, "halign", v)),
            ),
            vertical_alignment=(
                lambda: first("valign"),
                self._each(lambda cell, v: setattr(cell, "valign", v)),
            ),
            column_width=(lambda: self.sheet.column_widths.get(c1), set_width),
            row_height=(lambda: self.sheet.row_heights.get(r1), set_height),
            font=(lambda: self._font(), None),
            characters=(lambda: self._characters(), None),
            conditional_formats=(lambda: self._conditional_formats(), None),
            data_validation=(lambda: self._data_validation(), None),
            sheet=(lambda: self.sheet.mock, None),
            row=(lambda: r1, None),
            column=(lambda: c1, None),
            shape=(lambda: (r2 - r1 + 1, c2 - c1 + 1), None),
            address=(
                lambda: ",".join(
                    f"${_letters(a[1])}${a[0]}:${_letters(a[3])}${a[2]}" for a in self._areas
                ),
                None,
            ),
        )
        rng.merge.side_effect = lambda across=False: self.sheet.merged.append(self._area)

        def with_options(convert: Any = None, **options: Any) -> MagicMock:
            other = FakeRange(self.sheet, self._areas)
            other.options = dict(options, convert=convert)
            return other.mock

        rng.options.side_effect = with_options

        def add_hyperlink(
            address: str, text_to_display: str | None = None, screen_tip=None
        ) -> None:
            cell = self.sheet.cell(r1, c1)
            cell.link = address
            if text_to_display is not None:
                self._store(cell, text_to_display)

        rng.add_hyperlink.side_effect = add_hyperlink
        return rng

    # -- values -------------------------------------------------------------------------------

    def _get_value(self) -> Any:
        r1, c1, r2, c2 = self._area
        rows = [[self.sheet.value(r, c) for c in range(c1, c2 + 1)] for r in range(r1, r2 + 1)]
        if self.options.get("ndim") == 2:
            return rows
        if len(rows) == 1 and len(rows[0]) == 1:
            return rows[0][0]
        return rows

    def _store(self, cell: Cell, value: Any) -> None:
        if not isinstance(value, _ALLOWED):
            raise TypeError(f"{type(value).__name__} values are not written to Excel as they are")
        cell.quoted = cell.coerced = False
        cell.formula = None
        if isinstance(value, str):
            if value.startswith("'"):
                cell.value, cell.quoted = value[1:], True
                return
            if value.startswith(("=", "+", "-", "@")) and len(value) > 1:
                cell.formula, cell.value = value, None
                return
            try:
                cell.value, cell.coerced = float(value.replace(",", "")), True
                return
            except ValueError:
                pass
            cell.value = value or None
            return
        cell.value = value

    def _set_value(self, value: Any) -> None:
        r1, c1, r2, c2 = self._area
        self.sheet.writes.append({"area": self._area, "options": dict(self.options)})
        if isinstance(value, list | tuple):
            rows = [list(v) if isinstance(v, list | tuple) else [v] for v in value]
            if isinstance(value[0], list | tuple) is False:
                rows = [list(value)]
            if (r1, c1) != (r2, c2) and (len(rows), len(rows[0])) != (r2 - r1 + 1, c2 - c1 + 1):
                raise AssertionError(
                    f"{len(rows)}x{len(rows[0])} values assigned to a "
                    f"{r2 - r1 + 1}x{c2 - c1 + 1} range"
                )
            for i, row in enumerate(rows):
                for j, item in enumerate(row):
                    self._store(self.sheet.cell(r1 + i, c1 + j), item)
            return
        for r, c in self.positions():
            self._store(self.sheet.cell(r, c), value)

    # -- fonts, characters, rules --------------------------------------------------------------

    def _font(self) -> MagicMock:
        font = NonCallableMock(spec_set=xwmain.Font)

        def setter(key: str) -> Any:
            def apply(value: Any) -> None:
                for r, c in self.positions():
                    self.sheet.cell(r, c).font[key] = _hex(value) if key == "color" else value

            return apply

        r1, c1 = self._area[:2]
        props = {
            key: (lambda key=key: self.sheet.cell(r1, c1).font.get(key), setter(key))
            for key in ("name", "size", "color", "bold", "italic")
        }
        return _wire(font, **props)

    def _characters(self, start: int = 0, stop: int | None = None) -> MagicMock:
        chars = MagicMock(spec_set=xwmain.Characters)
        r1, c1 = self._area[:2]

        def item(key: Any) -> MagicMock:
            if not isinstance(key, slice):
                key = slice(key, key + 1)
            return self._characters(key.start or 0, key.stop)

        chars.__getitem__.side_effect = item
        font = NonCallableMock(spec_set=xwmain.Font)

        def bold(value: bool) -> None:
            if value:
                self.sheet.bold_spans.append((r1, c1, start, stop if stop is not None else -1))

        _wire(font, bold=(lambda: None, bold))
        _wire(chars, font=(lambda: font, None))
        return chars

    def _conditional_formats(self) -> MagicMock:
        formats = NonCallableMock(spec_set=xwmain.ConditionalFormats)

        def add_custom(formula: str, **style: Any) -> MagicMock:
            allowed = {"fill_color", "font_color", "font_bold", "font_italic", "stop_if_true"}
            if set(style) - allowed:
                raise TypeError(f"unexpected {set(style) - allowed}")
            self.sheet.rules.append({"area": self._area, "formula": formula, **style})
            return NonCallableMock(spec_set=xwmain.ConditionalFormat)

        formats.add_custom.side_effect = add_custom
        return formats

    def _data_validation(self) -> MagicMock:
        validation = NonCallableMock(spec_set=xwmain.DataValidation)

        def set_list(source: Any, *, in_cell_dropdown: bool = True) -> None:
            # What xlwings' DataValidation.set_list checks for a literal list.
            values = list(source)
            if not values or not all(isinstance(v, str) for v in values):
                raise TypeError("a literal list of text is expected")
            if any("," in v or ";" in v for v in values) or len(",".join(values)) > 255:
                raise ValueError("not a literal list xlwings accepts")
            self.sheet.validations.append(
                {"area": self._area, "list": values, "in_cell_dropdown": in_cell_dropdown}
            )

        validation.set_list.side_effect = set_list
        return validation


class FakeBook:
    """A workbook: sheets in order, workbook names, the app; :attr:`mock` is the ``xw.Book``."""

    def __init__(self, fullname: str = "audit.xlsm") -> None:
        self.fullname = fullname
        self.sheets: list[FakeSheet] = []
        self.names: dict[str, tuple[str, str]] = {}  # name -> (sheet, address)
        self.activated: list[str] = []
        self.alerts: list[str] = []
        self.app_state: dict[str, Any] = {"screen_updating": True, "status_bar": False}
        self.status_history: list[Any] = []
        self.mock = self._make()

    def sheet(self, name: str) -> FakeSheet:
        for sheet in self.sheets:
            if sheet.name.casefold() == name.casefold():
                return sheet
        raise KeyError(name)

    def add_sheet(self, name: str) -> FakeSheet:
        sheet = FakeSheet(self, name)
        self.sheets.append(sheet)
        return sheet

    def _make(self) -> MagicMock:
        book = MagicMock(spec_set=xw.Book)
        sheets = MagicMock(spec_set=xwmain.Sheets)
        sheets.__iter__.side_effect = lambda: iter([s.mock for s in self.sheets])
        sheets.__len__.side_effect = lambda: len(self.sheets)

        def get(key: Any) -> MagicMock:
            if isinstance(key, int):
                return self.sheets[key].mock
            return self.sheet(key).mock

        sheets.__getitem__.side_effect = get

        def add(name: str | None = None, before: Any = None, after: Any = None) -> MagicMock:
            if name is not None and any(s.name.casefold() == name.casefold() for s in self.sheets):
                raise ValueError(f"Sheet named '{name}' already present in workbook")
            sheet = FakeSheet(self, name or f"Sheet{len(self.sheets) + 1}")
            if before is not None:
                index = [s.mock for s in self.sheets].index(before)
            elif after is not None:
                index = [s.mock for s in self.sheets].index(after) + 1
            else:
                index = len(self.sheets)
            self.sheets.insert(index, sheet)
            self.activated.append(sheet.name)  # Excel activates a new sheet
            return sheet.mock

        sheets.add.side_effect = add

        names = MagicMock(spec_set=xwmain.Names)

        def name(key: str) -> MagicMock:
            if key not in self.names:
                raise KeyError(key)
            sheet_name, address = self.names[key]
            mock = NonCallableMock(spec_set=xwmain.Name)
            _wire(
                mock,
                name=(lambda: key, None),
                refers_to=(lambda: f"='{sheet_name}'!{address}", None),
                refers_to_range=(lambda: self.sheet(sheet_name).range(address), None),
            )
            return mock

        names.__getitem__.side_effect = name
        names.__iter__.side_effect = lambda: iter([name(k) for k in self.names])
        names.contains.side_effect = lambda key: key in self.names

        app = NonCallableMock(spec_set=xw.App)

        def set_status_bar(value: Any) -> None:
            self.app_state["status_bar"] = value
            self.status_history.append(value)

        _wire(
            app,
            screen_updating=(
                lambda: self.app_state["screen_updating"],
                lambda v: self.app_state.__setitem__("screen_updating", v),
            ),
            status_bar=(lambda: self.app_state["status_bar"], set_status_bar),
        )
        app.alert.side_effect = lambda prompt, **kw: self.alerts.append(prompt)
        _wire(
            book,
            sheets=(lambda: sheets, None),
            names=(lambda: names, None),
            app=(lambda: app, None),
            fullname=(lambda: self.fullname, None),
            name=(lambda: self.fullname.replace("\\", "/").rsplit("/", 1)[-1], None),
        )
        return book


def fake_book(fullname: str = "audit.xlsm", sheets: tuple[str, ...] = ("Sheet1",)) -> FakeBook:
    book = FakeBook(fullname)
    for name in sheets:
        book.add_sheet(name)
    return book
