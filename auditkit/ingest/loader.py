"""``load`` and ``inspect``: export files in, canonical claim lines (and reports) out."""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from auditkit.claims import REQUIRED, conform
from auditkit.errors import ConfigError, InputError
from auditkit.ingest.canonical_frame import build_frame
from auditkit.ingest.headers import (
    MIN_RECOGNISED,
    HeaderMatch,
    closest_headers,
    find_header_row,
    match_headers,
)
from auditkit.ingest.mapping import ColumnMapping, load_mapping
from auditkit.ingest.model import ClaimLines, FileReport
from auditkit.ingest.overlap import drop_overlaps
from auditkit.ingest.readers import Candidate, Source
from auditkit.ingest.sniff import sniff
from auditkit.ingest.text_reader import TextSource
from auditkit.ingest.workbook_reader import WorkbookSource

PathLike = str | Path


def _as_paths(paths: PathLike | Sequence[PathLike]) -> list[tuple[Path, str]]:
    if isinstance(paths, str | Path):
        paths = [paths]
    items = [(Path(p), str(p)) for p in paths]
    if not items:
        raise InputError("no export files given", hint="name one or more CSV/Excel/835 files")
    return items


# --------------------------------------------------------------------------------------------
# choosing the header row (and sheet)


@dataclass
class _Choice:
    candidate: Candidate
    header_index: int
    headers: list[str]
    match: HeaderMatch
    missing: list[str]

    @property
    def header_row(self) -> int:
        return self.header_index + 1

    def where(self, display: str) -> str:
        sheet = f" sheet {self.candidate.sheet!r}" if self.candidate.sheet else ""
        return f"{display}{sheet} row {self.header_row}"


def _choose(source: Source, mapping: ColumnMapping | None, display: str) -> _Choice:
    """The first sheet whose header row names every required column, else the best one."""
    best: _Choice | None = None
    config_error: ConfigError | None = None
    for candidate in source.candidates():
        index = find_header_row(candidate.grid, mapping)
        if index < 0:
            continue
        headers = list(candidate.grid[index])
        while headers and not headers[-1]:
            headers.pop()
        sheet = f" sheet {candidate.sheet!r}" if candidate.sheet else ""
        try:
            match = match_headers(headers, mapping, where=f"{display}{sheet} row {index + 1}")
        except ConfigError as exc:
            config_error = config_error or exc
            continue
        missing = [name for name in REQUIRED if name not in match.columns]
        choice = _Choice(candidate, index, headers, match, missing)
        if not missing:
            return choice
        if best is None or len(match.columns) > len(best.match.columns):
            best = choice
    if best is None or (config_error is not None and len(best.match.columns) < MIN_RECOGNISED):
        if config_error is not None:
            raise config_error
        raise InputError(
            "has no data (every row and sheet is blank)",
            path=display,
            hint="export the report again from the PM system",
        )
    return best


def _missing_error(display: str, choice: _Choice) -> InputError:
    unmapped = [choice.headers[p] for p in choice.match.unmapped]
    parts = []
    for name in choice.missing:
        close = closest_headers(name, unmapped)
        near = f" (closest header: {', '.join(repr(c) for c in close)})" if close else ""
        parts.append(name + near)
    sheet = f"sheet {choice.candidate.sheet!r}: " if choice.candidate.sheet else ""
    example = choice.missing[0]
    return InputError(
        f"{sheet}no column found for required {', '.join(parts)}",
        path=display,
        row=choice.header_row,
        hint=f'name the export\'s headers in a mapping file, e.g. [columns] {example} = "Header", '
        "and pass it with --mapping (`auditkit columns FILE` lists what was recognised)",
    )


def _report(display: str, source: Source, choice: _Choice, warning: str | None) -> FileReport:
    report = FileReport(
        path=display,
        header_row=choice.header_row,
        sheet=choice.candidate.sheet,
        encoding=source.encoding,
        delimiter=source.delimiter,
        mapping=choice.match.as_report(choice.headers),
        missing_required=list(choice.missing),
        unmapped_headers=[choice.headers[p] for p in choice.match.unmapped],
        ignored_headers=[choice.headers[p] for p in choice.match.ignored],
        warnings=list(choice.match.warnings),
    )
    if warning:
        report.warnings.insert(0, f"{display} {warning}")
    return report


def _open(path: Path, display: str) -> tuple[Source | None, str | None]:
    sniffed = sniff(path, display)
    if sniffed.kind == "x12":
        return None, sniffed.warning
    if sniffed.kind == "text":
        return TextSource(path, display), sniffed.warning
    return WorkbookSource(path, display), sniffed.warning


def _read_x12(
    path: Path, display: str, *, strict_x12: bool = False
) -> tuple[pd.DataFrame, FileReport]:
    """An 835's claim lines, not netted: :func:`load` nets reversals across all its files."""
    try:
        from auditkit.ingest.x12 import read_claim_lines
    except ImportError as exc:
        raise InputError(
            "is an X12 835 remittance file, but 835 support is not installed in this auditkit",
            path=display,
            hint="load the practice's CSV or Excel export instead, or update auditkit",
        ) from exc
    frame, report = read_claim_lines(path, strict_x12=strict_x12, net=False)
    report.path = display
    report.reader = "x12"
    frame = frame.copy()
    frame["source_file"] = display
    if "source_row" not in frame.columns:
        frame["source_row"] = pd.array([pd.NA] * len(frame), dtype="Int64")
    return frame, report


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc (macOS, Windows, musl): nothing to trim
        return None


def release_freed_memory() -> None:
    """Hand memory the previous step freed back to the system before the next one allocates.

    glibc keeps freed blocks in its heap and pyarrow's allocator caches them for reuse; after
    reading a million lines that is a couple of hundred MB, which would otherwise add to the
    peak while the canonical table is built. Both calls only return memory that is free.
    """
    pa.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


# --------------------------------------------------------------------------------------------
# public API


def inspect(
    paths: PathLike | Sequence[PathLike],
    mapping: str | Path | Mapping[str, Any] | None = None,
    *,
    strict_x12: bool = False,
) -> list[FileReport]:
    """Find the header row of each file and report how its headers map (nothing is parsed).

    For the ``auditkit columns`` command: each report has ``header_row``, ``sheet``,
    ``mapping`` (canonical -> header, or a list of headers), ``missing_required`` and
    ``unmapped_headers``. Unreadable files raise :class:`InputError`; mapping problems raise
    :class:`ConfigError`. Missing required columns are reported, not raised. ``strict_x12``:
    as for :func:`load`.
    """
    mp = load_mapping(mapping)
    reports = []
    for path, display in _as_paths(paths):
        source, warning = _open(path, display)
        if source is None:
            reports.append(_read_x12(path, display, strict_x12=strict_x12)[1])
            continue
        choice = _choose(source, mp, display)
        reports.append(_report(display, source, choice, warning))
    return reports


def load(
    paths: PathLike | Sequence[PathLike],
    mapping: str | Path | Mapping[str, Any] | None = None,
    *,
    strict_x12: bool = False,
) -> ClaimLines:
    """Read one or more exports (CSV/TSV/TXT, XLSX/XLSM/XLS, X12 835) as canonical claim lines.

    Several files are stacked into one table; ``source_file`` and ``source_row`` say where each
    line came from. Columns and dtypes follow :mod:`auditkit.claims`; only columns some file
    has are present. ``mapping`` (a TOML path or a dict, see :mod:`auditkit.ingest.mapping`)
    completes or overrides header detection. Input files are only ever read.

    X12 835 remittances are counted once (a file given twice, or a remittance two files hold:
    the later copy is left out, with a warning) and their reversals netted across all the files
    (see :func:`auditkit.ingest.x12.count_remittances_once`). An 835 whose trailer counts or
    control numbers do not match (SE, GE, IEA) is read with a warning; ``strict_x12`` refuses
    it instead.

    Raises :class:`InputError` (one line naming file, row, column and the fix) for files that
    cannot be read or lack required columns, :class:`ConfigError` for mapping problems.
    """
    mp = load_mapping(mapping)
    frames = []
    reports = []
    for path, display in _as_paths(paths):
        source, warning = _open(path, display)
        if source is None:
            frame, report = _read_x12(path, display, strict_x12=strict_x12)
        else:
            choice = _choose(source, mp, display)
            report = _report(display, source, choice, warning)
            if choice.missing:
                raise _missing_error(display, choice)
            raw = source.read(choice.candidate, choice.header_index)
            report.reader = getattr(raw, "reader", None)
            release_freed_memory()
            frame = build_frame(raw, choice.match, mp, report)
            del raw  # the export's cells are not needed any more: free them before conform
            release_freed_memory()
        report.rows = len(frame)
        frames.append(frame)
        reports.append(report)
    if len(frames) == 1:
        combined = frames[0]
    else:
        combined = pd.concat([f for f in frames], ignore_index=True, sort=False)
    combined = conform(combined.reset_index(drop=True))
    # the same lines in two exports (overlapping date ranges): counted once, the later file's
    combined = drop_overlaps(combined, reports)
    if "claim_status_code" in combined.columns:
        # Remittances: a file or a remittance given twice counts once, and a payment reversed
        # in one file and re-paid in another is netted across all files read together, so
        # money is not counted twice (warnings and row counts go to the files concerned).
        from auditkit.ingest.x12 import count_remittances_once

        combined = count_remittances_once(combined, reports)
    return ClaimLines(combined, reports)
