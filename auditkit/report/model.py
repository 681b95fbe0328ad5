"""The report model: what an audit workbook contains, independent of the library that writes it.

A :class:`Report` is a list of :class:`Sheet`; a sheet is a vertical flow of blocks:

* :class:`Title` - a sheet title or a section heading;
* :class:`Text` - a paragraph (optionally labelled, e.g. "Why it matters");
* :class:`Facts` - label/value rows, optionally with a benchmark and a traffic-light status;
* :class:`Table` - a typed table (a DataFrame plus :class:`Column` specs) written as a real
  Excel table, rows optionally coloured by severity, cells optionally linking elsewhere;
* :class:`Figure` - a small data table with a chart (:class:`Chart`, a spec) beside it.

Values are plain Python/pandas data and styles are names into :mod:`auditkit.report.style`,
so the openpyxl writer and the xlwings writer render the same model. Positions (which row a
block starts on, column widths, where a link points) come from :mod:`auditkit.report.layout`.

What a writer does with each sheet (``auditkit.excel.openpyxl_writer`` is the reference):

* column widths from ``layout.column_widths``; blocks at the rows ``layout.place`` gives, all
  from column A; freeze below the header of the table named by ``Sheet.freeze``;
* ``Title``: one cell (style.TITLE_LOOK / HEADING_LOOK); ``Text``: one cell merged across
  ``layout.text_columns`` with wrapping, ``layout.text_height`` tall, label in bold first;
* ``Facts``: label, value (number format of its kind, STATUS_LOOK fill when it has a status),
  then for a grid the status word (STATUS_LABEL) and the benchmark;
* ``Table``: a real Excel table, header in HEADER_LOOK, number formats by column kind
  (``style.number_format``), wrapping columns with ``layout.row_heights``, rows coloured by the
  ``row_look`` column's severity (SEVERITY_LOOK), link cells pointing at
  ``layout.resolve(report, link)``; a column's ``choices`` as a list validation (dropdown) and
  its ``rules`` as conditional formats over its data rows; an ``entry`` column's header in
  ENTRY_HEADER_LOOK and its number format on the whole column;
* ``Figure``: the chart at the figure's first row, its table ``table_offset`` rows below;
* a ``protected`` sheet: sheet protection on, the ``entry`` columns' cells (blank ones too,
  and the rest of those columns) unlocked; a ``hidden`` sheet hidden;
* every text value literally as text, never as a formula (``safety.formula_like`` says which
  need care), and every ``replaceable`` sheet marked as auditkit's (``auditkit.excel.markers``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd


@dataclass(frozen=True)
class CellRule:
    """Colour a column's cells whose number lies between ``low`` and ``high`` (inclusive; None:
    no bound) with ``style.CELL_RULE_LOOK[look]``; blank and text cells never match. Written
    as a conditional format, so a cell a user changes is coloured by its new value."""

    look: str
    low: float | None = None
    high: float | None = None

    def condition(self, cell: str) -> str:
        """The rule as an Excel condition (no '=') on ``cell``, a reference or an expression:
        true for a number within the bounds, never for a blank or text."""
        parts = [f"ISNUMBER({cell})"]
        if self.low is not None:
            parts.append(f"{cell}>={self.low:g}")
        if self.high is not None:
            parts.append(f"{cell}<={self.high:g}")
        return f"AND({','.join(parts)})"


@dataclass(frozen=True)
class Column:
    """One column of a :class:`Table`: DataFrame column ``key`` shown as ``header``."""

    key: str
    header: str
    kind: str = "text"  # "text", "bool" or a key of auditkit.report.style.NUMBER_FORMATS
    width: float | None = None  # in characters; None: estimated from the content
    wrap: bool = False  # long text wraps within the column (rows grow to show it)
    #: The values a user may pick (an in-cell dropdown over the column's data rows).
    choices: tuple[str, ...] | None = None
    #: Value-driven colours of the column's cells (conditional formats), first match wins.
    rules: tuple[CellRule, ...] = ()
    #: A column for people to fill in: its header stands out (style.ENTRY_HEADER_LOOK) and the
    #: whole column carries its number format, so what is typed later is formatted too.
    entry: bool = False
    #: Hidden in the workbook (for tools, not people: a finding's key), unless another table
    #: of the sheet shows a column there.
    hidden: bool = False


@dataclass(frozen=True)
class Link:
    """A link to one data row (0-based) of a table anywhere in the report."""

    table: str  # Table.key
    row: int


@dataclass
class Title:
    text: str
    level: int = 1  # 1: sheet title, 2: section heading


@dataclass
class Text:
    """A paragraph, written across the sheet's width with wrapping."""

    text: str
    label: str | None = None  # shown in bold before the text, e.g. "Why it matters"
    tone: str = "body"  # "body", "note" or "warning" (see style.TONE_LOOK)


@dataclass(frozen=True)
class Fact:
    """One label/value row. ``status`` is a key of style.STATUS_LOOK (None: no traffic light)."""

    label: str
    value: Any
    kind: str = "text"
    benchmark: str | None = None
    status: str | None = None


@dataclass
class Facts:
    """Label/value rows. With ``headers`` it is a grid of up to four columns: label, value,
    status (the word for the traffic light) and benchmark, in that order; the benchmark comes
    last so long benchmark text can run on into the empty cells to its right."""

    rows: list[Fact]
    headers: tuple[str, ...] | None = None

    @property
    def columns(self) -> int:
        return len(self.headers) if self.headers else 2


@dataclass
class Table:
    """A typed table. ``frame`` holds one column per :class:`Column` key, already sanitised."""

    key: str  # unique in the report; links and Excel table names derive from it
    columns: list[Column]
    frame: pd.DataFrame
    #: Column whose values (severities) colour whole rows with style.SEVERITY_LOOK.
    row_look: str | None = None
    #: Column key -> one Link (or None) per row; those cells link to the target row.
    links: dict[str, list[Link | None]] = field(default_factory=dict)
    #: For a table too long to hold its text (a million findings): ``frame`` holds what the
    #: text is made from, and ``fill(rows)`` returns those rows of ``frame`` with exactly the
    #: :attr:`columns`, in order, when a writer writes them (a slice at a time). Columns that
    #: only ``fill`` makes need a width; such tables have no links and no row heights.
    fill: Callable[[pd.DataFrame], pd.DataFrame] | None = None

    def __len__(self) -> int:
        return len(self.frame)

    def rows(self, start: int = 0, stop: int | None = None) -> pd.DataFrame:
        """Data rows ``start`` to ``stop`` with every column, filled when the table is lazy."""
        part = self.frame.iloc[start:stop]
        return self.fill(part) if self.fill is not None else part

    def values(self, key: str) -> pd.Series | None:
        """A column's values when ``frame`` holds them (None for a column only ``fill``
        makes)."""
        return self.frame[key] if key in self.frame.columns else None


@dataclass(frozen=True)
class Series:
    """One chart series: a column of the figure's table."""

    column: str
    label: str
    color: str | None = None
    as_line: bool = False  # drawn as a line over the bars (a target, a benchmark)


@dataclass
class Chart:
    """A chart over the figure's table: categories from one column, series from others. A
    ``"bar"`` chart draws bars (a series ``as_line`` over them); a ``"line"`` chart draws every
    series as a line with markers (a trend over months; an empty cell leaves a gap)."""

    title: str
    category: str
    series: list[Series]
    kind: str = "bar"  # "bar" or "line"
    value_kind: str = "integer"  # number format kind of the value axis
    horizontal: bool = False
    stacked: bool = False
    value_max: float | None = None
    width_cm: float | None = None  # None: as wide as the figure's table, at least 15 cm
    height_rows: int = 16


@dataclass
class Figure:
    """A chart with its data table just below it, so a reader sees the numbers behind it."""

    table: Table
    chart: Chart

    @property
    def height(self) -> int:
        return self.chart.height_rows + 1 + len(self.table)

    @property
    def table_offset(self) -> int:
        """Rows from the top of the figure to its table's header row."""
        return self.chart.height_rows


Block = Title | Text | Facts | Table | Figure


@dataclass
class Sheet:
    """One worksheet: a name (made valid and unique), what it is for, and its blocks."""

    name: str
    role: str  # "summary", "audit", "about", "lines"
    blocks: list[Block] = field(default_factory=list)
    #: Key of the table whose header row is frozen and printed on every page.
    freeze: str | None = None
    #: Protect the sheet: every cell locked but those of its tables' ``entry`` columns (people
    #: fill those in); filtering, sorting and resizing stay allowed. A guard against slips,
    #: not security: there is no password.
    protected: bool = False
    #: Hide the sheet (what auditkit reads back later, not for people to read).
    hidden: bool = False
    #: Marked as auditkit's, so a later run writing into the workbook replaces it. False for a
    #: sheet whose loss would lose people's work (the chart-pull review): it is left alone.
    replaceable: bool = True

    def hidden_columns(self) -> list[int]:
        """1-based sheet columns to hide: a table's ``hidden`` column where no table of the
        sheet shows a column."""
        hidden, shown = set(), set()
        for table in self.tables():
            for i, column in enumerate(table.columns, start=1):
                (hidden if column.hidden else shown).add(i)
        return sorted(hidden - shown)

    def tables(self) -> list[Table]:
        found = []
        for block in self.blocks:
            if isinstance(block, Table):
                found.append(block)
            elif isinstance(block, Figure):
                found.append(block.table)
        return found


@dataclass
class Report:
    """Everything one audit workbook shows."""

    sheets: list[Sheet]
    title: str
    generated_at: datetime
    version: str
    practice: str | None = None
    period: str | None = None
    prepared_by: str | None = None

    def sheet(self, name: str) -> Sheet:
        for sheet in self.sheets:
            if sheet.name == name:
                return sheet
        raise KeyError(name)

    def find_table(self, key: str) -> tuple[Sheet, Table]:
        """The sheet and table with this key (KeyError when absent)."""
        for sheet in self.sheets:
            for table in sheet.tables():
                if table.key == key:
                    return sheet, table
        raise KeyError(key)

    def cover_values(self) -> dict[str, Any]:
        """Values for a template's cover cells, by defined name; None means leave as is."""
        return {
            "AK_Practice": self.practice,
            "AK_Period": self.period,
            "AK_PreparedBy": self.prepared_by,
            "AK_RunDate": self.generated_at,
        }
