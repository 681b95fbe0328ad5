"""What the loader returns: the canonical frame plus a report per input file.

A cell's text is patient data until shown otherwise, so messages never quote it: a
:class:`RowProblem` says what is wrong in ``message`` ("not a date") and keeps the cell in
``value``, which :meth:`RowProblem.text` adds for a reader at the practice and
:class:`auditkit.redact.Redactor` replaces by its shape (:func:`value_shape`, "a 12-character
text") for outputs that leave it. ``FileReport.warnings`` name rows and columns, never values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


@dataclass
class RowProblem:
    """A row, or one cell of it, that could not be read (always reported).

    ``kept`` is False when the row was left out of the table (no claim number, date of service
    or code, or the row could not be parsed at all), True when the row was kept and only the
    value in ``column`` was left blank.
    """

    row: int  # 1-based row number as a spreadsheet program shows it
    column: str | None  # the export's header, when one column is at fault
    message: str  # what is wrong, never quoting the cell: "not a date"
    kept: bool = False
    #: The cell as the export shows it (can be patient data: see the module docstring).
    value: str | None = None

    def text(self) -> str:
        """The message with the cell's value when it is kept: "not a date: '13/45/2026'"."""
        return self.message if self.value is None else f"{self.message}: {self.value!r}"


def value_shape(value: str) -> str:
    """What a cell looks like without what it says: "a 6-digit number", "a 12-character
    text", "blank" (for messages that must not quote patient data)."""
    text = value.strip()
    if not text:
        return "blank"
    n = len(text)
    article = "an" if str(n).startswith("8") or n in (11, 18) else "a"  # an 8-, an 11-
    if text.isdigit():
        return f"{article} {n}-digit number"
    return f"{article} {n}-character text"


@dataclass
class FileReport:
    """How one input file was read."""

    path: str
    rows: int = 0  # claim lines read into the table
    header_row: int | None = None  # 1-based
    sheet: str | None = None  # worksheet read, for workbooks
    encoding: str | None = None  # for text files
    delimiter: str | None = None  # for text files
    mapping: dict[str, str | list[str]] = field(default_factory=dict)  # canonical -> header(s)
    missing_required: list[str] = field(default_factory=list)
    unmapped_headers: list[str] = field(default_factory=list)  # headers not recognised
    footer_rows: list[int] = field(default_factory=list)  # totals, footers, repeated headers
    problems: list[RowProblem] = field(default_factory=list)  # examples, up to 100 per column
    warnings: list[str] = field(default_factory=list)
    #: Which reader parsed the file: "pyarrow" (fast path), "python-csv", "calamine", "x12".
    reader: str | None = None
    rows_left_out: int = 0  # data rows not in the table (all counted, see problems for examples)
    cells_unread: int = 0  # values left blank because they could not be read (rows kept)
    ignored_headers: list[str] = field(default_factory=list)  # known, but no canonical column
    #: Canonical column -> rows kept with a value in it that could not be read (every row, not
    #: only the examples in ``problems``): where several columns of one row are unreadable its
    #: cells are likely shifted, which :class:`auditkit.redact.Redactor` needs to know.
    unread_rows: dict[str, list[int]] = field(default_factory=dict)


@dataclass
class ClaimLines:
    """Canonical claim lines (see :mod:`auditkit.claims`) and how they were read."""

    frame: pd.DataFrame
    inputs: list[FileReport] = field(default_factory=list)
    #: How the side tables were read (authorization export, fee schedule): shown with the
    #: inputs' warnings, not counted as claim-line inputs.
    side_inputs: list[FileReport] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.frame)

    def warnings(self) -> list[dict[str, str]]:
        """Every input's warnings, in input order: ``{"file": path, "warning": text}``.

        What the JSON's top-level ``warnings``, the About sheet and the CLI's stderr show.
        """
        return [
            {"file": report.path, "warning": text}
            for report in [*self.inputs, *self.side_inputs]
            for text in report.warnings
        ]
