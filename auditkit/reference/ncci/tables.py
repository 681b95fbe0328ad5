"""Where an NCCI table came from (:class:`NcciSource`, :func:`version_and_quarter`) and the
tables the readers return (:class:`EditTable`, :class:`PtpTable`, :class:`MueTable`)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import pandas as pd
import pyarrow as pa

#: Where to get the current files, in plain words (for the About sheet, the CLI and the README).
CURRENT_FILES_HELP = (
    "Download this quarter's Medicare NCCI files from CMS's National Correct Coding Initiative "
    "pages on cms.gov (free, after accepting the AMA licence for CPT codes): on the Medicare "
    "NCCI Procedure to Procedure (PTP) Edits page, the Practitioner PTP Edits (four zip files, "
    "f1 to f4, all of them); on the Medicare NCCI Medically Unlikely Edits (MUEs) page, the "
    "Practitioner Services MUE table (one zip). Point auditkit at the zips as downloaded, or at "
    "the .txt, .csv or .xlsx files inside them; CMS replaces them every January, April, July "
    "and October."
)


@dataclass(frozen=True)
class NcciSource:
    """One file read into an NCCI table: what it is and what was taken from it."""

    kind: str  # "ptp" or "mue"
    file: str  # the file's name as given (no folders)
    member: str | None  # the file inside the zip, when ``file`` is a zip
    sha256: str  # of ``file``'s bytes
    rows: int  # edits read
    skipped: int  # lines below the header that were not edits (wrong shape, bad code or date)
    kept: int  # edits kept for the export's codes
    version: str | None  # CMS's version, from the names ("v322r0"), if shown
    quarter: str | None  # "2026 Q3", from the names or title lines, if shown
    from_cache: bool = False

    @property
    def name(self) -> str:
        """``file``, or ``file/member`` for a file inside a zip."""
        return f"{self.file}/{self.member}" if self.member else self.file

    def as_dict(self) -> dict[str, Any]:
        """Plain values for the JSON output."""
        return asdict(self)


_VERSION = re.compile(r"v(\d{2})(\d)r(\d+)", re.IGNORECASE)
_QUARTER = re.compile(r"(20\d\d)[-_ ]?q([1-4])(?!\d)|(?<![a-z])q([1-4])[-_ ]?(20\d\d)", re.I)
_EFFECTIVE = re.compile(r"eff(?:ective)?[-_ ]?(\d{1,2})[-_/](\d{1,2})[-_/](20\d\d)", re.I)
_US_DATE = re.compile(r"(?<!\d)(\d{1,2})/(\d{1,2})/(20\d\d)(?!\d)")


def version_and_quarter(*texts: str) -> tuple[str | None, str | None]:
    """CMS's version (``v322r0``) and quarter (``2026 Q3``) shown in file names or title lines.

    The quarter is read from an explicit ``2026q3`` / ``q3-2026``, else from an effective date
    (``Eff_07-01-2026``, ``07/01/2026``), else from the version: CMS numbers its versions by
    year and quarter (version 32.2 is 2026's third quarter: 32 + 1994, and 2 + 1).
    """
    version = quarter = None
    for text in texts:
        if version is None and (found := _VERSION.search(text)):
            version = found.group(0).lower()
    for text in texts:
        if found := _QUARTER.search(text):
            year, q = (found.group(1), found.group(2)) if found.group(1) else found.group(4, 3)
            return version, f"{year} Q{q}"
    for text in texts:
        if found := _EFFECTIVE.search(text) or _US_DATE.search(text):
            month, year = int(found.group(1)), found.group(3)
            if 1 <= month <= 12:
                return version, f"{year} Q{(month - 1) // 3 + 1}"
    if version is not None:
        found = _VERSION.search(version)
        assert found is not None
        minor = int(found.group(2))
        if minor <= 3:
            quarter = f"{1994 + int(found.group(1))} Q{minor + 1}"
    return version, quarter


@dataclass(frozen=True)
class EditTable:
    """An NCCI table (see :class:`PtpTable`, :class:`MueTable`)."""

    table: pa.Table
    sources: tuple[NcciSource, ...]
    #: The codes the table was filtered to (upper-case), or None when it holds every edit.
    codes: frozenset[str] | None = None
    #: True for the packaged default (no CMS file given).
    default: bool = False

    noun: ClassVar[str] = "edits"
    title: ClassVar[str] = ""
    short: ClassVar[str] = ""

    def __len__(self) -> int:
        return self.table.num_rows

    def frame(self) -> pd.DataFrame:
        """The table as a DataFrame: codes as strings, dates as datetime64 (NaT for none)."""
        return self.table.to_pandas(date_as_object=False)

    @property
    def rows_read(self) -> int:
        return sum(s.rows for s in self.sources)

    def describe(self) -> str:
        """One line for the About sheet: which table, which files, how many rows."""
        if self.default:
            return (
                f"{self.short}: auditkit's packaged default, a pain-procedure subset of "
                f"{self.rows_read:,} {self.noun} built from its own facts, mostly unverified "
                f"against CMS's files and taken from no CMS quarter. {CURRENT_FILES_HELP}"
            )
        versions = sorted({s.version for s in self.sources if s.version})
        quarters = sorted({s.quarter for s in self.sources if s.quarter})
        label = ", ".join(versions + [q for q in quarters if q not in versions])
        files = ", ".join(s.name for s in self.sources)
        text = f"{self.title}{f' {label}' if label else ''}: {files}; {self.rows_read:,} {self.noun} read"
        if self.codes is not None:
            text += f", {len(self):,} kept for the export's codes"
        skipped = sum(s.skipped for s in self.sources)
        if skipped:
            text += f" ({skipped:,} lines below the header were not {self.noun} and were skipped)"
        return text

    def about(self) -> dict[str, Any]:
        """What was used, for the JSON output."""
        return {
            "table": self.title,
            "default": self.default,
            "versions": sorted({s.version for s in self.sources if s.version}),
            "quarters": sorted({s.quarter for s in self.sources if s.quarter}),
            "rows": len(self),
            "rows_read": self.rows_read,
            "filtered_to_codes": self.codes is not None,
            "sources": [s.as_dict() for s in self.sources],
            "how_to_update": CURRENT_FILES_HELP if self.default else None,
        }


@dataclass(frozen=True)
class PtpTable(EditTable):
    """CMS practitioner PTP edits: one row per edit, columns of :data:`PTP_SCHEMA`.

    ``column1``, ``column2`` (codes, upper-case), ``effective`` (date), ``deletion`` (date, or
    null when CMS shows ``*``), ``modifier_indicator`` (int8: 0, 1 or 9), ``rationale``. An edit
    is in effect on a date of service when ``effective <= DOS`` and (no deletion or
    ``DOS < deletion``). The packaged default also has ``source`` and ``confidence``.
    Rows are as published: the same pair may appear more than once (re-added after a deletion).
    """

    noun: ClassVar[str] = "edits"
    title: ClassVar[str] = "CMS practitioner PTP edits"
    short: ClassVar[str] = "PTP edits"


@dataclass(frozen=True)
class MueTable(EditTable):
    """CMS practitioner services MUEs: one row per code, columns of :data:`MUE_SCHEMA`.

    ``code``, ``mue`` (int32: the most units), ``mai`` (int8, the adjudication indicator's
    digit: 1 per claim line, 2 per day set by policy, 3 per day on clinical grounds),
    ``rationale``. The packaged default also has ``source`` and ``confidence``.
    """

    noun: ClassVar[str] = "MUEs"
    title: ClassVar[str] = "CMS practitioner services MUEs"
    short: ClassVar[str] = "MUEs"
