"""What the loader returns: the canonical frame plus a report per input file."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


@dataclass
class RowProblem:
    """A row that could not be read (kept out of the table, always reported)."""

    row: int  # 1-based row number as a spreadsheet program shows it
    column: str | None  # the export's header, when one column is at fault
    message: str


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
    unmapped_headers: list[str] = field(default_factory=list)
    footer_rows: list[int] = field(default_factory=list)  # totals/footer rows left out
    problems: list[RowProblem] = field(default_factory=list)  # unreadable rows, left out
    warnings: list[str] = field(default_factory=list)


@dataclass
class ClaimLines:
    """Canonical claim lines (see :mod:`auditkit.claims`) and how they were read."""

    frame: pd.DataFrame
    inputs: list[FileReport] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.frame)
