"""CMS's National Correct Coding Initiative tables as CMS publishes them: PTP pairs and MUEs.

CMS publishes two practitioner tables every quarter, free to download (see
:data:`CURRENT_FILES_HELP`):

* **PTP edits** (procedure to procedure): code pairs that are not paid together for one patient,
  provider and day. The practitioner table is split by code range into several files (``f1`` to
  ``f4``, each served as a zip holding a tab-delimited ``.txt``; over a million rows in all). A
  ``.txt`` opens with a copyright line and a title line, then a header whose cell texts are
  wrapped over four lines (Column 1, Column 2, the in-existence-before-1996 flag, Effective Date,
  Deletion Date, Modifier with its legend 0/1/9, PTP Edit Rationale). Dates are ``YYYYMMDD``; a
  deletion date of ``*`` means the edit has not been deleted. Modifier indicator ``0``: no
  modifier bypasses the edit; ``1``: a distinct-service modifier may; ``9``: the edit was deleted
  back to its first day and never applies.
* **MUEs** (medically unlikely edits): the most units of a code per line or per day. The
  practitioner services table is a ``.csv`` (or ``.xlsx``) whose first record is a long quoted
  copyright notice, then HCPCS/CPT Code, Practitioner Services MUE Values, MUE Adjudication
  Indicator (a digit and its meaning: ``1`` line edit, ``2`` date-of-service edit set by policy,
  ``3`` date-of-service edit set on clinical grounds) and MUE Rationale.

:func:`read_ptp` and :func:`read_mue` take the files as downloaded (the zips, or the ``.txt``,
``.csv`` or ``.xlsx`` inside, or a folder holding them), find the header row by its names, read
the body with pyarrow, keep only the codes an export bills (``codes``) and cache each parsed
file by its SHA-256 as Parquet, so the next run only hashes the file and reads the cache.
Each result records its :class:`NcciSource` list (file, hash, rows, CMS version and quarter) for
the About sheet and the JSON.

:func:`default_ptp` and :func:`default_mue` load the packaged pain-procedure subset, a stand-in
for when the user has not downloaded CMS's files. It is built from the project's own facts, not
from a CMS file (its quarter is :data:`DEFAULT_QUARTER`):

* ``ncci_ptp_default.csv``: column1, column2, effective and deletion (``YYYY-MM-DD``, blank for
  none), modifier_indicator, rationale (own words), source, confidence. Imaging guidance billed
  with a procedure that includes it (from ``imaging_bundles.csv``), the pairs of
  ``code_pair_edits.csv`` and one pair quoted from a CMS table (64633 with 64484). Where the
  effective date is not known, 1996-01-01 stands in so that the edit applies to any date.
* ``ncci_mue_default.csv``: code, mue, mai, rationale, source, confidence. One unit a day for
  the codes the facts limit to once a session, month or day, a bilateral service counted as one
  line with modifier 50 (Medicare's way), as ``unit_limits.csv`` where the facts say nothing.

``confidence`` grades the edit itself (that CMS pairs the two codes this way round; the unit
limit): ``C`` confirmed, ``S`` backed by a CMS billing article or a secondary source, ``V``
unverified. The parts a row's ``source`` calls assumed (a modifier indicator, an adjudication
indicator, a stand-in date) are unverified whatever the grade.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import itertools
import json
import os
import re
import sys
import tempfile
import zipfile
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from auditkit.errors import InputError

HERE = Path(__file__).parent

#: Environment variable naming the folder for auditkit's caches (the NCCI cache is ``ncci/``).
CACHE_ENV = "AUDITKIT_CACHE_DIR"
#: Bumped whenever the parsed table changes shape or meaning, so older caches are ignored.
CACHE_FORMAT = 1
#: How many records from the top are searched for the header row.
HEADER_SCAN_ROWS = 40
#: Suffixes read as delimited text, as workbooks, and as archives.
TEXT_SUFFIXES = (".txt", ".csv", ".tsv")
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls")
ARCHIVE_SUFFIX = ".zip"
#: Inside a zip, when one table comes in several formats (same name), the first of these wins.
_FORMAT_PREFERENCE = (".txt", ".csv", ".tsv", ".xlsx", ".xlsm", ".xls")

#: The quarter the packaged defaults reflect: none in particular.
DEFAULT_QUARTER = "unknown (not taken from a CMS file)"

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

PTP_SCHEMA = pa.schema(
    [
        ("column1", pa.string()),
        ("column2", pa.string()),
        ("effective", pa.date32()),
        ("deletion", pa.date32()),
        ("modifier_indicator", pa.int8()),
        ("rationale", pa.string()),
    ]
)
MUE_SCHEMA = pa.schema(
    [
        ("code", pa.string()),
        ("mue", pa.int32()),
        ("mai", pa.int8()),
        ("rationale", pa.string()),
    ]
)

_CODE = r"^[A-Z0-9]{5}$"
_META_KEY = b"auditkit.ncci"
_HEAD_BYTES = 64 * 1024
_BLOCK_BYTES = 8 << 20
_WORKBOOK_CHUNK = 100_000
_T = TypeVar("_T")


# --------------------------------------------------------------------------------------------
# the two layouts


def _key(text: object) -> str:
    """The comparison key of a header: lower-case letters and digits only (as the export
    readers compare headers; ``"HCPCS/\\nCPT Code"`` is ``hcpcscptcode``)."""
    return re.sub(r"[^a-z0-9]", "", str(text).lower())


@dataclass(frozen=True)
class _Layout:
    """One published table: its columns (name, pattern on the header key), which are needed,
    and how to describe it in messages."""

    kind: str
    title: str
    fields: tuple[tuple[str, re.Pattern[str]], ...]
    required: tuple[str, ...]
    expected: str  # the header names, for messages
    schema: pa.Schema

    def recognise(self, cell: str) -> str | None:
        key = _key(cell)
        if not key:
            return None
        for name, pattern in self.fields:
            if pattern.fullmatch(key):
                return name
        return None


PTP_LAYOUT = _Layout(
    kind="ptp",
    title="CMS practitioner PTP edits file",
    fields=(
        ("column1", re.compile(r"(column|col)(1|one)(code)?")),
        ("column2", re.compile(r"(column|col)(2|two)(code)?")),
        ("prior_1996", re.compile(r".*(prior(to)?1996|inexistence).*")),
        ("effective", re.compile(r"eff(ective)?(date|dt)?")),
        ("deletion", re.compile(r"del(etion)?(date|dt)?(nodata)?")),
        ("modifier", re.compile(r"(modifier|ccmi)(indicator|ind)?(0.*)?")),
        ("rationale", re.compile(r"(ptp)?(edit)?rationale")),
    ),
    required=("column1", "column2", "effective", "deletion", "modifier"),
    expected="Column 1, Column 2, Effective Date, Deletion Date and Modifier",
    schema=PTP_SCHEMA,
)
MUE_LAYOUT = _Layout(
    kind="mue",
    title="CMS practitioner services MUE table",
    fields=(
        ("code", re.compile(r"(hcpcs|cpt|hcpcscpt|cpthcpcs)(code)?")),
        ("mue", re.compile(r"[a-z]*muevalues?")),
        ("mai", re.compile(r"(mue)?adjudicationindicator|mai")),
        ("rationale", re.compile(r"(mue)?rationale")),
    ),
    required=("code", "mue", "mai"),
    expected="HCPCS/CPT Code, Practitioner Services MUE Values and MUE Adjudication Indicator",
    schema=MUE_SCHEMA,
)
_LAYOUTS = {"ptp": PTP_LAYOUT, "mue": MUE_LAYOUT}
#: How the published files name each column (for messages).
_DISPLAY = {
    "column1": "Column 1",
    "column2": "Column 2",
    "effective": "Effective Date",
    "deletion": "Deletion Date",
    "modifier": "Modifier",
    "code": "HCPCS/CPT Code",
    "mue": "Practitioner Services MUE Values",
    "mai": "MUE Adjudication Indicator",
}

#: Header keys of claim exports (a few of each kind), to say what a wrong file looks like.
_CLAIM_KEYS = frozenset({
    "claimid", "claimno", "claimnumber", "claim", "dos", "dateofservice", "servicedate",
    "fromdate", "patient", "patientname", "patientid", "accountno", "acctno", "chargeamount",
    "charges", "charge", "chgamt", "billed", "billedamount", "paid", "inspaid", "paidamount",
    "units", "proccode", "procedurecode", "cptcode", "cpt", "modifier", "mod1", "modifier1",
    "dx1", "diagnosis", "diagnosis1", "payer", "primaryins", "insurance", "rendprov",
    "renderingprovider", "provider", "status", "pos", "placeofservice",
})  # fmt: skip


@dataclass(frozen=True)
class _Header:
    row: int  # index of the first header record
    span: int  # records the header takes (the PTP .txt wraps its header over four lines)
    positions: dict[str, int]  # field -> column position
    width: int  # cells in the header
    cells: list[str]  # the (merged) header texts

    @property
    def score(self) -> int:
        return len(self.positions)


def _is_continuation(row: Sequence[str]) -> bool:
    """A header line that continues the one above: the code columns empty, something else not."""
    cells = [c.strip() for c in row]
    return len(cells) > 2 and not cells[0] and not cells[1] and any(cells[2:])


def _merged(grid: Sequence[Sequence[str]], row: int) -> tuple[list[str], int]:
    """The header texts starting at ``row``, with up to four continuation lines joined in."""
    cells = [str(c) for c in grid[row]]
    span = 1
    while span < 5 and row + span < len(grid) and _is_continuation(grid[row + span]):
        extra = grid[row + span]
        width = max(len(cells), len(extra))
        cells += [""] * (width - len(cells))
        for pos, text in enumerate(extra):
            if str(text).strip():
                cells[pos] = f"{cells[pos]} {text}".strip()
        span += 1
    return cells, span


def _find_header(grid: Sequence[Sequence[str]], layout: _Layout) -> _Header | None:
    """The row among the top :data:`HEADER_SCAN_ROWS` naming the most of ``layout``'s columns
    (continuation lines merged in; the earliest wins a tie), or None when no row names two."""
    best: _Header | None = None
    for row in range(min(len(grid), HEADER_SCAN_ROWS)):
        if _is_continuation(grid[row]):
            continue
        cells, span = _merged(grid, row)
        positions: dict[str, int] = {}
        for pos, text in enumerate(cells):
            name = layout.recognise(text)
            if name is not None and name not in positions:
                positions[name] = pos
        if len(positions) >= 2 and (best is None or len(positions) > best.score):
            best = _Header(row, span, positions, len(cells), cells)
    return best


def _looks_like(grid: Sequence[Sequence[str]], text: str, layout: _Layout) -> str:
    """What a file that is not ``layout`` looks like instead, for the error ("" if unsure)."""
    stripped = text.lstrip("\ufeff \r\n\t")
    if stripped.startswith("ISA"):
        return "it looks like an X12 835 remittance file"
    if stripped.startswith("%PDF"):
        return "it looks like a PDF"
    for other in _LAYOUTS.values():
        if other is layout:
            continue
        hit = _find_header(grid, other)
        if hit is not None and all(f in hit.positions for f in other.required):
            return f"it looks like the {other.title} instead (give it as the {other.kind.upper()} file)"
    for row in grid[:HEADER_SCAN_ROWS]:
        if sum(_key(c) in _CLAIM_KEYS for c in row) >= 3:
            return "it looks like a claim export"
    if not any(str(c).strip() for row in grid for c in row):
        return "it is empty"
    return ""


def _why_not(
    grid: Sequence[Sequence[str]], text: str, layout: _Layout, header: _Header | None
) -> str:
    """Why a file is not ``layout``: what it looks like instead, else which columns its best
    header row lacks."""
    reason = _looks_like(grid, text, layout)
    if reason or header is None:
        return reason
    missing = [_DISPLAY[f] for f in layout.required if f not in header.positions]
    return f"its header row has no {' or '.join(missing)} column"


def _not_this(where: str, layout: _Layout, reason: str) -> InputError:
    message = f"not a {layout.title}: expected a header row naming {layout.expected}"
    if reason:
        message += f"; {reason}"
    other = "instead" in reason
    hint = None if other else "download the practitioner file from CMS's NCCI pages"
    return _WrongTableError(message, path=where, hint=hint)


class _WrongTableError(InputError):
    """The file is readable but is not the table asked for (a zip may hold such files)."""


def _check_table_kind(header: _Header, layout: _Layout, where: str) -> None:
    """The outpatient hospital and DME tables share the practitioner layouts: refuse them."""
    if layout.kind != "mue":
        return
    key = _key(header.cells[header.positions["mue"]])
    for word, name in (("outpatient", "outpatient hospital"), ("hospital", "outpatient hospital")):
        if word in key:
            raise _WrongTableError(
                f"this is the {name} services MUE table; auditkit audits professional claims",
                path=where,
                hint="use the Practitioner Services MUE table",
            )
    if key.startswith("dme"):
        raise _WrongTableError(
            "this is the DME supplier services MUE table; auditkit audits professional claims",
            path=where,
            hint="use the Practitioner Services MUE table",
        )


def _check_name(name: str, layout: _Layout, where: str) -> None:
    """CMS names the outpatient hospital PTP files ``ccioph-...``: same layout, other claims."""
    if layout.kind == "ptp" and name.lower().startswith("ccioph"):
        raise _WrongTableError(
            "this is the outpatient hospital PTP edits file (ccioph); auditkit audits "
            "professional claims",
            path=where,
            hint="use the practitioner files, named ccipra-...",
        )


# --------------------------------------------------------------------------------------------
# where a table came from


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


# --------------------------------------------------------------------------------------------
# the tables


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


# --------------------------------------------------------------------------------------------
# public readers


PathLike = str | os.PathLike[str]


def read_ptp(
    paths: Sequence[PathLike] | PathLike,
    codes: Collection[str] | None = None,
    cache_dir: Path | None = None,
) -> PtpTable:
    """Read CMS's practitioner PTP edit files as downloaded.

    ``paths``: the zips CMS serves (each may hold several files), the ``.txt`` / ``.xlsx`` /
    ``.csv`` files inside them, or folders holding them; give all of f1 to f4. ``codes``: keep
    only pairs whose two codes are both among them (an export's billed codes); None keeps
    every edit. ``cache_dir``: where parsed files are cached (default :func:`default_cache_dir`).

    Raises :class:`~auditkit.errors.InputError`, one line naming the file, for a file that is
    missing, unreadable or not a practitioner PTP file. Example::

        table = read_ptp(["ccipra-v322r0-f1.zip", "ccipra-v322r0-f2.zip"], codes={"64483", "77003"})
        table.frame()  # column1, column2, effective, deletion, modifier_indicator, rationale
    """
    table, sources, wanted = _read(paths, PTP_LAYOUT, codes, cache_dir)
    return PtpTable(table, sources, wanted)


def read_mue(
    paths: Sequence[PathLike] | PathLike,
    codes: Collection[str] | None = None,
    cache_dir: Path | None = None,
) -> MueTable:
    """Read CMS's practitioner services MUE table as downloaded (zip, ``.csv``, ``.txt`` or
    ``.xlsx``); see :func:`read_ptp` for ``codes``, ``cache_dir`` and errors. Example::

        table = read_mue("medicare-ncci-2026-q3-practitioner-services-mue-table.zip")
        table.frame()  # code, mue, mai, rationale
    """
    table, sources, wanted = _read(paths, MUE_LAYOUT, codes, cache_dir)
    return MueTable(table, sources, wanted)


def default_cache_dir() -> Path:
    """The folder for parsed NCCI files: ``$AUDITKIT_CACHE_DIR/ncci`` when that is set, else the
    user's cache folder (``%LOCALAPPDATA%`` on Windows, ``~/Library/Caches`` on macOS,
    ``$XDG_CACHE_HOME`` or ``~/.cache`` elsewhere) ``/auditkit/ncci``."""
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return Path(explicit).expanduser() / "ncci"
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
        return base / "auditkit" / "Cache" / "ncci"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "auditkit" / "ncci"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "auditkit" / "ncci"


def _as_codes(codes: Collection[str] | str) -> Iterable[object]:
    return [codes] if isinstance(codes, str) else codes


def normalise_codes(codes: Iterable[object]) -> frozenset[str]:
    """Codes as the tables hold them: trimmed, upper-case; blanks and missing values dropped."""
    out = set()
    for code in codes:
        if code is None or (isinstance(code, float) and code != code):
            continue
        text = str(code).strip().upper()
        if text and text not in ("NAN", "<NA>", "NONE"):
            out.add(text)
    return frozenset(out)


# --------------------------------------------------------------------------------------------
# reading: files, zips and folders


def _read(
    paths: Sequence[PathLike] | PathLike,
    layout: _Layout,
    codes: Collection[str] | None,
    cache_dir: Path | None,
) -> tuple[pa.Table, tuple[NcciSource, ...], frozenset[str] | None]:
    wanted = None if codes is None else normalise_codes(_as_codes(codes))
    files = _expand(paths)
    if not files:
        raise InputError(f"no {layout.title} given", hint="give the files downloaded from CMS")
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    tables: list[pa.Table] = []
    sources: list[NcciSource] = []
    seen: set[str] = set()
    for path in files:
        sha = _sha256(path)
        if sha in seen:  # the same file given twice
            continue
        seen.add(sha)
        cache = folder / f"{layout.kind}-{sha}-f{CACHE_FORMAT}.parquet"
        hit = _read_cache(cache, layout, wanted)
        if hit is None:
            hit = _parse_file(path, layout, wanted, cache)
        table, parts = hit
        tables.append(table)
        for part in parts:
            sources.append(
                NcciSource(
                    kind=layout.kind,
                    file=path.name,
                    member=part["member"],
                    sha256=sha,
                    rows=part["rows"],
                    skipped=part["skipped"],
                    kept=part["kept"],
                    version=part["version"],
                    quarter=part["quarter"],
                    from_cache=part["from_cache"],
                )
            )
    table = pa.concat_tables(tables) if tables else layout.schema.empty_table()
    return table, tuple(sources), wanted


def _expand(paths: Sequence[PathLike] | PathLike) -> list[Path]:
    """The files to read: each path as given; a folder gives its table files, sorted (one per
    table: a file that is also inside one of the folder's zips, or a .xlsx beside its .txt, is
    left out)."""
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    out: list[Path] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found = sorted(
                p
                for p in path.iterdir()
                if p.is_file()
                and p.suffix.lower() in (*TEXT_SUFFIXES, *WORKBOOK_SUFFIXES, ARCHIVE_SUFFIX)
                and not p.name.startswith((".", "~$"))
            )
            if not found:
                raise InputError(
                    "the folder holds no .zip, .txt, .csv or .xlsx file", path=str(given)
                )
            zips = [p for p in found if p.suffix.lower() == ARCHIVE_SUFFIX]
            zipped = {_stem(name) for z in zips for name in _member_names(z)}
            loose = _preferred([p for p in found if p not in zips], lambda p: p.name)
            out += zips + [p for p in loose if _stem(p.name) not in zipped]
        elif path.is_file():
            out.append(path)
        else:
            raise InputError("file not found", path=str(given))
    return out


def _stem(name: str) -> str:
    """A table file's name without folders or suffix, lower-case (to pair a .txt and .xlsx)."""
    return Path(name).stem.lower()


def _member_names(path: Path) -> list[str]:
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return []  # reported when the zip itself is read


def _preferred(items: list[_T], name_of: Callable[[_T], str]) -> list[_T]:
    """Of table files with the same name in several formats, the first of
    :data:`_FORMAT_PREFERENCE` (the text is faster to read than the workbook)."""
    rank = {suffix: i for i, suffix in enumerate(_FORMAT_PREFERENCE)}
    best: dict[str, _T] = {}
    for item in items:
        name = name_of(item)
        key = str(Path(name).with_suffix("")).lower()
        other = best.get(key)
        if other is None or rank.get(Path(name).suffix.lower(), 99) < rank.get(
            Path(name_of(other)).suffix.lower(), 99
        ):
            best[key] = item
    return [i for i in items if best[str(Path(name_of(i)).with_suffix("")).lower()] is i]


def _sha256(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path=str(path)) from exc


@dataclass
class _Part:
    """One table file to parse: a file, or a file inside a zip."""

    name: str  # the file's own name (a zip member's, without folders)
    member: str | None
    where: str  # for messages: the path, or "zip/member"
    load: Callable[[], bytes]


def _parts(path: Path) -> Iterator[_Part]:
    suffix = path.suffix.lower()
    head = b""
    if suffix != ARCHIVE_SUFFIX:
        with path.open("rb") as handle:
            head = handle.read(4)
    if suffix == ARCHIVE_SUFFIX or (suffix not in WORKBOOK_SUFFIXES and head == b"PK\x03\x04"):
        try:
            archive = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise InputError("not a readable zip file", path=str(path)) from exc
        with archive:
            members = [
                m
                for m in archive.infolist()
                if not m.is_dir()
                and Path(m.filename).suffix.lower() in (*TEXT_SUFFIXES, *WORKBOOK_SUFFIXES)
                and not Path(m.filename).name.startswith((".", "~$"))
                and not m.filename.startswith("__MACOSX/")
            ]
            chosen = _preferred(members, lambda m: m.filename)
            if not chosen:
                names = ", ".join(m.filename for m in archive.infolist()) or "nothing"
                raise InputError(
                    f"the zip holds no .txt, .csv or .xlsx file (it holds {names})", path=str(path)
                )
            for info in chosen:
                yield _Part(
                    name=Path(info.filename).name,
                    member=info.filename,
                    where=f"{path}/{info.filename}",
                    load=lambda info=info: _read_member(archive, info, path),
                )
    else:
        yield _Part(path.name, None, str(path), lambda: path.read_bytes())


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path) -> bytes:
    try:
        return archive.read(info)
    except (zipfile.BadZipFile, OSError, RuntimeError, EOFError) as exc:
        # RuntimeError: an encrypted member; EOFError / BadZipFile: a truncated download
        raise InputError(f"cannot read {info.filename} in the zip: {exc}", path=str(path)) from exc


def _parse_file(
    path: Path, layout: _Layout, wanted: frozenset[str] | None, cache: Path
) -> tuple[pa.Table, list[dict[str, Any]]]:
    """Parse every table file in ``path``, writing the full parse to ``cache`` as it goes."""
    writer = _CacheWriter(cache, layout.schema)
    kept: list[pa.RecordBatch] = []
    parts: list[dict[str, Any]] = []
    refused: list[_WrongTableError] = []
    try:
        for part in _parts(path):
            try:
                _check_name(part.name, layout, part.where)
                counts, batches = _parse_part(part, layout)
            except _WrongTableError as exc:
                if part.member is not None:
                    refused.append(exc)  # a zip may hold a read-me beside the table
                    continue
                raise
            rows_kept = 0
            first_group = writer.row_groups
            for batch in batches:
                writer.write(batch)
                if wanted is not None:
                    batch = batch.filter(_keep_mask(batch, layout, wanted))
                rows_kept += batch.num_rows
                if batch.num_rows:
                    kept.append(batch)
            if counts["rows"] == 0:
                raise InputError(
                    f"found the {layout.title}'s header but no edits below it",
                    path=part.where,
                    hint="the download may be incomplete: download it again",
                )
            version, quarter = version_and_quarter(part.name, path.name, counts["title"])
            parts.append(
                {
                    "member": part.member,
                    "rows": counts["rows"],
                    "skipped": counts["skipped"],
                    "kept": rows_kept,
                    "version": version,
                    "quarter": quarter,
                    "from_cache": False,
                    "row_groups": [first_group, writer.row_groups],
                }
            )
        if not parts:
            first = refused[0]
            member = (first.path or "").rpartition("/")[2]
            detail = first.message.removeprefix(f"not a {layout.title}: ")
            raise InputError(
                f"the zip holds no {layout.title} ({member}: {detail})",
                path=str(path),
                hint=first.hint,
            )
    except BaseException:
        writer.abandon()
        raise
    writer.commit({"format": CACHE_FORMAT, "kind": layout.kind, "parts": parts})
    table = pa.Table.from_batches(kept, schema=layout.schema)
    return table, parts


def _keep_mask(batch: pa.RecordBatch, layout: _Layout, wanted: frozenset[str]) -> pa.Array:
    values = pa.array(sorted(wanted), type=pa.string())
    if layout.kind == "ptp":
        return pc.and_(
            pc.is_in(batch.column("column1"), value_set=values),
            pc.is_in(batch.column("column2"), value_set=values),
        )
    return pc.is_in(batch.column("code"), value_set=values)


# --------------------------------------------------------------------------------------------
# the cache


class _CacheWriter:
    """Writes the parsed table beside its final name, then replaces it in one step; a failure
    to cache (read-only folder, full disk) only means that the next run parses again.

    Each batch is one row group, and each part (a file of a zip) records the row groups it
    spans, so a cached read can count what it keeps per part."""

    def __init__(self, target: Path, schema: pa.Schema) -> None:
        self.target = target
        self.schema = schema
        self.tmp: str | None = None
        self.writer: pq.ParquetWriter | None = None
        self.failed = False
        self.row_groups = 0

    def write(self, batch: pa.RecordBatch) -> None:
        if self.failed or batch.num_rows == 0:
            return
        try:
            if self.writer is None:
                self.target.parent.mkdir(parents=True, exist_ok=True)
                fd, self.tmp = tempfile.mkstemp(
                    prefix=f".{self.target.name}.", suffix=".tmp", dir=self.target.parent
                )
                os.close(fd)
                self.writer = pq.ParquetWriter(self.tmp, self.schema, compression="zstd")
            self.writer.write_batch(batch, row_group_size=batch.num_rows)
            self.row_groups += 1
        except (OSError, pa.ArrowException):
            self.abandon()
            self.failed = True

    def commit(self, meta: dict[str, Any]) -> None:
        if self.failed or self.writer is None:
            return
        try:
            self.writer.add_key_value_metadata({_META_KEY: json.dumps(meta).encode()})
            self.writer.close()
            self.writer = None
            assert self.tmp is not None
            os.replace(self.tmp, self.target)
            self.tmp = None
        except (OSError, pa.ArrowException):
            self.abandon()

    def abandon(self) -> None:
        if self.writer is not None:
            with contextlib.suppress(OSError, pa.ArrowException):
                self.writer.close()
            self.writer = None
        if self.tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.tmp)
            self.tmp = None


def _read_cache(
    cache: Path, layout: _Layout, wanted: frozenset[str] | None
) -> tuple[pa.Table, list[dict[str, Any]]] | None:
    """The cached parse of a file, filtered to ``wanted``; None when there is no usable cache
    (missing, unreadable, written by another version): the file is then parsed again and the
    cache rewritten."""
    if not cache.is_file():
        return None
    try:
        parquet = pq.ParquetFile(cache)
        with parquet:
            meta = json.loads((parquet.metadata.metadata or {})[_META_KEY])
            schema = parquet.schema_arrow.remove_metadata()
            groups = parquet.num_row_groups
        if meta.get("format") != CACHE_FORMAT or meta.get("kind") != layout.kind:
            return None
        if not schema.equals(layout.schema):
            return None
        parts = [dict(part) for part in meta["parts"]]
        if sum(part["row_groups"][1] - part["row_groups"][0] for part in parts) != groups:
            return None
        fragment = next(iter(ds.dataset(cache, format="parquet").get_fragments()))
        expression = None if wanted is None else _keep_expression(layout, wanted)
        tables = []
        for part in parts:
            first, last = part["row_groups"]
            table = fragment.subset(row_group_ids=list(range(first, last))).to_table(
                filter=expression, schema=layout.schema
            )
            part["kept"] = table.num_rows
            part["from_cache"] = True
            tables.append(table)
        return pa.concat_tables(tables), parts
    except (OSError, ValueError, KeyError, TypeError, IndexError, StopIteration, pa.ArrowException):
        return None


def _keep_expression(layout: _Layout, wanted: frozenset[str]) -> ds.Expression:
    values = pa.array(sorted(wanted), type=pa.string())
    if layout.kind == "ptp":
        return pc.field("column1").isin(values) & pc.field("column2").isin(values)
    return pc.field("code").isin(values)


# --------------------------------------------------------------------------------------------
# parsing one table file


def _parse_part(part: _Part, layout: _Layout) -> tuple[dict[str, Any], Iterator[pa.RecordBatch]]:
    """Find the header of one table file and return its counts (filled in as the batches are
    read) and its typed, valid batches. Raises :class:`_WrongTableError` before any batch."""
    data = part.load()
    suffix = Path(part.name).suffix.lower()
    if suffix in WORKBOOK_SUFFIXES or data[:4] == b"PK\x03\x04" or data[:4] == b"\xd0\xcf\x11\xe0":
        return _parse_workbook(data, part, layout)
    return _parse_text(data, part, layout)


def _to_utf8(data: bytes) -> bytes:
    """Text as UTF-8 for pyarrow: a UTF-16 file transcoded, a UTF-8 byte-order mark dropped."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data.decode("utf-16").encode("utf-8")
    if data[:3] == b"\xef\xbb\xbf":
        return data[3:]
    return data


def _records(text: str, quoting: bool, complete: bool) -> list[tuple[str, int]]:
    """Split ``text`` into records with the offset just past each; a newline inside double
    quotes does not end a record when ``quoting``. The last, unterminated record is kept only
    when ``complete`` (the whole file is in ``text``)."""
    out: list[tuple[str, int]] = []
    start = 0
    if not quoting:
        while len(out) < HEADER_SCAN_ROWS + 10:
            end = text.find("\n", start)
            if end < 0:
                break
            out.append((text[start:end], end + 1))
            start = end + 1
    else:
        inside = False
        for pos, char in enumerate(text):
            if char == '"':
                inside = not inside
            elif char == "\n" and not inside:
                out.append((text[start:pos], pos + 1))
                start = pos + 1
                if len(out) >= HEADER_SCAN_ROWS + 10:
                    break
    if complete and start < len(text) and len(out) < HEADER_SCAN_ROWS + 10:
        out.append((text[start:], len(text)))
    return out


def _cells(record: str, delimiter: str, quoting: bool) -> list[str]:
    record = record.rstrip("\r")
    if not quoting:
        return record.split(delimiter)
    return next(csv.reader(io.StringIO(record), delimiter=delimiter), [])


def _parse_text(
    data: bytes, part: _Part, layout: _Layout
) -> tuple[dict[str, Any], Iterator[pa.RecordBatch]]:
    data = _to_utf8(data)
    head = data[:_HEAD_BYTES]
    # latin-1 maps every byte to one character, so offsets in the text are offsets in the bytes
    text = head.decode("latin-1")
    complete = len(head) == len(data)
    best: tuple[_Header, str, bool, list[tuple[str, int]]] | None = None
    grids: list[list[list[str]]] = []
    for delimiter, quoting in (("\t", False), (",", True)):
        records = _records(text, quoting, complete)
        grid = [_cells(r, delimiter, quoting) for r, _ in records]
        grids.append(grid)
        hit = _find_header(grid, layout)
        if hit is not None and (best is None or hit.score > best[0].score):
            best = (hit, delimiter, quoting, records)
    if best is None or not all(f in best[0].positions for f in layout.required):
        grid = max(grids, key=lambda g: max((len(r) for r in g), default=0))
        raise _not_this(part.where, layout, _why_not(grid, text, layout, best and best[0]))
    header, delimiter, quoting, records = best
    _check_table_kind(header, layout, part.where)
    title = " ".join(r for r, _ in records[: header.row])
    offset = records[header.row + header.span - 1][1]
    body = data[offset:]
    del data
    if not body.isascii():
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            body = body.decode("latin-1").encode("utf-8")
    counts: dict[str, Any] = {"rows": 0, "skipped": 0, "title": title}
    return counts, _text_batches(body, header, delimiter, quoting, layout, counts, part.where)


def _text_batches(
    body: bytes,
    header: _Header,
    delimiter: str,
    quoting: bool,
    layout: _Layout,
    counts: dict[str, Any],
    where: str,
) -> Iterator[pa.RecordBatch]:
    if not body or body.isspace():
        return
    names = [f"c{i}" for i in range(header.width)]

    def skip_row(row: pacsv.InvalidRow) -> str:
        if row.text and row.text.strip(" \t\r\n" + delimiter):
            counts["skipped"] += 1
        return "skip"

    needed = {name: names[pos] for name, pos in header.positions.items()}
    try:
        reader = pacsv.open_csv(
            pa.BufferReader(body),
            read_options=pacsv.ReadOptions(column_names=names, block_size=_BLOCK_BYTES),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter,
                quote_char='"' if quoting else False,
                newlines_in_values=quoting,
                invalid_row_handler=skip_row,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                include_columns=sorted(set(needed.values())),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        for batch in reader:
            columns = {name: batch.column(col) for name, col in needed.items()}
            yield _typed(columns, batch.num_rows, layout, counts)
    except pa.ArrowInvalid as exc:
        raise InputError(f"cannot read the table: {exc}".splitlines()[0], path=where) from exc


def _cell_text(value: object) -> str:
    """A workbook cell as the text CMS's text files hold (20220101, not 20220101.0)."""
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, datetime | date):
        return value.strftime("%Y%m%d")
    return str(value)


def _parse_workbook(
    data: bytes, part: _Part, layout: _Layout
) -> tuple[dict[str, Any], Iterator[pa.RecordBatch]]:
    import python_calamine as calamine  # the workbook reader is only loaded for workbooks

    try:
        book = calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheets = [
            m.name
            for m in book.sheets_metadata
            if m.typ == calamine.SheetTypeEnum.WorkSheet
            and m.visible == calamine.SheetVisibleEnum.Visible
        ]
    except Exception as exc:  # calamine raises several types for a broken or locked workbook
        raise InputError(
            f"cannot open the workbook: {exc}".splitlines()[0], path=part.where
        ) from exc
    first_grid: list[list[str]] = []
    found: _Header | None = None
    for sheet_name in sheets:
        rows = book.get_sheet_by_name(sheet_name).iter_rows()
        top = list(itertools.islice(rows, HEADER_SCAN_ROWS + 5))
        grid = [[_cell_text(c) for c in row] for row in top]
        first_grid = first_grid or grid
        header = _find_header(grid, layout)
        if header is None or not all(f in header.positions for f in layout.required):
            found = found or header
            continue
        _check_table_kind(header, layout, part.where)
        title = " ".join(" ".join(r) for r in grid[: header.row])
        counts: dict[str, Any] = {"rows": 0, "skipped": 0, "title": title}
        body = itertools.chain(top[header.row + header.span :], rows)
        return counts, _workbook_batches(body, header, layout, counts)
    text = "\n".join("\t".join(r) for r in first_grid)
    raise _not_this(part.where, layout, _why_not(first_grid, text, layout, found))


def _workbook_batches(
    rows: Iterator[list[Any]], header: _Header, layout: _Layout, counts: dict[str, Any]
) -> Iterator[pa.RecordBatch]:
    positions = header.positions
    while chunk := list(itertools.islice(rows, _WORKBOOK_CHUNK)):
        columns = {
            name: pa.array(
                [_cell_text(r[pos]) if pos < len(r) else "" for r in chunk], type=pa.string()
            )
            for name, pos in positions.items()
        }
        yield _typed(columns, len(chunk), layout, counts)


# --------------------------------------------------------------------------------------------
# typing the text cells, a batch at a time


def _trimmed(array: pa.Array) -> pa.Array:
    return pc.utf8_trim_whitespace(array)


def _codes(array: pa.Array) -> pa.Array:
    """Codes trimmed and upper-case; an all-digit code a spreadsheet shortened (1996) padded
    back to five digits (01996)."""
    codes = pc.utf8_upper(_trimmed(array))
    short = pc.less(pc.utf8_length(codes), 5)
    if pc.any(short).as_py():
        digits = pc.match_substring_regex(codes, r"^[0-9]+$")
        codes = pc.if_else(pc.and_(short, digits), pc.utf8_lpad(codes, width=5, padding="0"), codes)
    return codes


def _dates(text: pa.Array, blank: pa.Array) -> pa.Array:
    """``YYYYMMDD`` (exactly eight digits) as date32, null where not a date; ISO and US forms
    are read as well, for a table re-saved by a spreadsheet."""
    eight = pc.match_substring_regex(text, r"^[0-9]{8}$")
    parsed = pc.strptime(
        pc.if_else(eight, text, None), format="%Y%m%d", unit="s", error_is_null=True
    )
    blanks = pc.sum(blank).as_py() or 0
    if parsed.null_count > blanks:
        for fmt, shape in (
            ("%Y-%m-%d", r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"),
            ("%m/%d/%Y", r"^[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}$"),
        ):
            other = pc.if_else(pc.match_substring_regex(text, shape), text, None)
            parsed = pc.coalesce(
                parsed, pc.strptime(other, format=fmt, unit="s", error_is_null=True)
            )
    return pc.cast(parsed, pa.date32())


def _in(array: pa.Array, values: Sequence[str]) -> pa.Array:
    return pc.is_in(array, value_set=pa.array(values, type=pa.string()))


def _typed(
    columns: dict[str, pa.Array], n: int, layout: _Layout, counts: dict[str, Any]
) -> pa.RecordBatch:
    """One batch of text cells as a typed batch of the valid rows; the invalid ones (a stray
    note, a bad date or indicator) are counted in ``counts['skipped']``, blank ones ignored."""
    empty = pa.array([""] * n, type=pa.string())
    rationale = _trimmed(columns.get("rationale", empty))
    if layout.kind == "ptp":
        column1, column2 = _codes(columns["column1"]), _codes(columns["column2"])
        effective_text = _trimmed(columns["effective"])
        deletion_text = _trimmed(columns["deletion"])
        none_deleted = _in(deletion_text, ["*", ""])
        effective = _dates(effective_text, pc.equal(effective_text, ""))
        deletion = _dates(deletion_text, none_deleted)
        modifier_text = _trimmed(columns["modifier"])
        modifier = pc.cast(
            pc.if_else(_in(modifier_text, ["0", "1", "9"]), modifier_text, None), pa.int8()
        )
        valid = pc.and_(
            pc.and_(
                pc.match_substring_regex(column1, _CODE), pc.match_substring_regex(column2, _CODE)
            ),
            pc.and_(
                pc.and_(pc.is_valid(effective), pc.is_valid(modifier)),
                pc.or_(none_deleted, pc.is_valid(deletion)),
            ),
        )
        blank = pc.and_(pc.equal(column1, ""), pc.equal(column2, ""))
        arrays = [column1, column2, effective, deletion, modifier, rationale]
    else:
        code = _codes(columns["code"])
        value_text = _trimmed(columns["mue"])
        is_number = pc.match_substring_regex(value_text, r"^[0-9]+$")
        mue = pc.cast(pc.if_else(is_number, value_text, None), pa.int32())
        mai_digit = pc.utf8_slice_codeunits(_trimmed(columns["mai"]), 0, 1)
        mai = pc.cast(pc.if_else(_in(mai_digit, ["1", "2", "3"]), mai_digit, None), pa.int8())
        valid = pc.and_(
            pc.match_substring_regex(code, _CODE), pc.and_(pc.is_valid(mue), pc.is_valid(mai))
        )
        blank = pc.and_(pc.equal(code, ""), pc.equal(value_text, ""))
        arrays = [code, mue, mai, rationale]
    valid = pc.fill_null(valid, False)
    n_valid = pc.sum(valid).as_py() or 0
    n_blank = pc.sum(pc.and_(blank, pc.invert(valid))).as_py() or 0
    counts["rows"] += n_valid
    counts["skipped"] += n - n_valid - n_blank
    batch = pa.RecordBatch.from_arrays(arrays, schema=layout.schema)
    return batch.filter(valid) if n_valid < n else batch


# --------------------------------------------------------------------------------------------
# the packaged defaults

_DEFAULT_FILES = {"ptp": "ncci_ptp_default.csv", "mue": "ncci_mue_default.csv"}
_DEFAULT_COLUMNS = {
    "ptp": (
        "column1",
        "column2",
        "effective",
        "deletion",
        "modifier_indicator",
        "rationale",
        "source",
        "confidence",
    ),
    "mue": ("code", "mue", "mai", "rationale", "source", "confidence"),
}


def _default_table(kind: str) -> tuple[pa.Table, str]:
    """The packaged default as a typed table (with ``source`` and ``confidence``) and the
    file's SHA-256. The file is checked here: a mistake in it is a packaging bug."""
    path = HERE / _DEFAULT_FILES[kind]
    raw = path.read_bytes()
    frame = pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False)
    if tuple(frame.columns) != _DEFAULT_COLUMNS[kind]:  # pragma: no cover - packaging mistake
        raise RuntimeError(f"{path.name}: expected columns {_DEFAULT_COLUMNS[kind]}")
    frame = frame.apply(lambda col: col.str.strip())
    if not frame["confidence"].isin(["C", "S", "V"]).all():  # pragma: no cover
        raise RuntimeError(f"{path.name}: confidence must be C, S or V")
    layout = _LAYOUTS[kind]
    if kind == "ptp":
        columns = {
            "column1": pa.array(frame["column1"].str.upper()),
            "column2": pa.array(frame["column2"].str.upper()),
            "effective": pa.array(frame["effective"]),
            "deletion": pa.array(frame["deletion"].where(frame["deletion"] != "", "*")),
            "modifier": pa.array(frame["modifier_indicator"]),
            "rationale": pa.array(frame["rationale"]),
        }
    else:
        columns = {
            "code": pa.array(frame["code"].str.upper()),
            "mue": pa.array(frame["mue"]),
            "mai": pa.array(frame["mai"]),
            "rationale": pa.array(frame["rationale"]),
        }
    counts: dict[str, Any] = {"rows": 0, "skipped": 0}
    typed = _typed(columns, len(frame), layout, counts)
    if counts["skipped"] or typed.num_rows != len(frame):  # pragma: no cover - packaging mistake
        raise RuntimeError(f"{path.name}: {counts['skipped']} rows are not valid edits")
    table = (
        pa.Table.from_batches([typed])
        .append_column("source", pa.array(frame["source"]))
        .append_column("confidence", pa.array(frame["confidence"]))
    )
    return table, hashlib.sha256(raw).hexdigest()


def _default(
    kind: str, codes: Collection[str] | None
) -> tuple[pa.Table, tuple[NcciSource, ...], frozenset[str] | None]:
    table, sha = _default_table(kind)
    wanted = None if codes is None else normalise_codes(_as_codes(codes))
    rows = table.num_rows
    if wanted is not None:
        table = table.filter(_keep_mask(table, _LAYOUTS[kind], wanted))
    source = NcciSource(
        kind=kind,
        file=_DEFAULT_FILES[kind],
        member=None,
        sha256=sha,
        rows=rows,
        skipped=0,
        kept=table.num_rows,
        version="auditkit default",
        quarter=DEFAULT_QUARTER,
    )
    return table, (source,), wanted


def default_ptp(codes: Collection[str] | None = None) -> PtpTable:
    """The packaged pain-procedure PTP subset (``ncci_ptp_default.csv``), for when no CMS file
    is given; filtered to ``codes`` like :func:`read_ptp`. Each row has its ``source`` and
    ``confidence`` (C confirmed, S secondary source, V unverified)."""
    return PtpTable(*_default("ptp", codes), default=True)


def default_mue(codes: Collection[str] | None = None) -> MueTable:
    """The packaged pain-procedure MUE subset (``ncci_mue_default.csv``); see
    :func:`default_ptp`."""
    return MueTable(*_default("mue", codes), default=True)
