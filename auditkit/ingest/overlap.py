"""Claim lines that two exports both hold, counted once.

Exports are pulled by date range, so two pulls often overlap (January, then January to March),
and sometimes the same file is given twice. Read together, every line in the overlap would be
counted twice: twice the charges, twice the denials, and duplicate-billing findings that are
not real. :func:`drop_overlaps` keeps one copy of each such line.

*The key.* Two lines are the same line when they have the same claim number, date of service
and code, and the same line number when every export read has a line-number column (an export
without one cannot be matched on it, so then it is left out of the key for all files). Values
are compared as read (after normalisation: ``20552.0`` is ``20552``, dates are dates).

*The occurrence.* A claim can legitimately bill one code twice on one day (two lines, say a
second injection), and an export without line numbers shows two lines with the same key. So
lines are matched by occurrence: the first such line of the earlier file matches the first of
the later file, the second the second. Lines of one file are never compared with each other,
so nothing is ever dropped within a file: only a line of an earlier file that a later file
holds too.

*Which copy wins.* The later file's, in the order the files were given (on the command line,
or to :func:`auditkit.ingest.load`): a later pull shows the claim's newer state (a payment
posted, a status changed). With three files, a line goes to the last file that holds it.

*What is reported.* For each pair of files, a warning on the later file's report names both
files and how many lines overlapped, and the earlier file's ``FileReport.rows`` is lowered by
the lines it gave up, so that the files' rows add up to the lines in the table.

Only exports are compared: lines read from X12 835 remittances (``FileReport.reader ==
"x12"``) are left as they are; the remittance reader finds repeated remittances itself.
Everything is done on whole columns (factorised keys, one grouped count): about half a second
for a million lines, nothing at all when only one export is read.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from auditkit.ingest.model import FileReport

#: The columns that identify a claim line (with ``line_number`` when every export has it).
OVERLAP_KEY: tuple[str, ...] = ("claim_id", "date_of_service", "cpt")


def drop_overlaps(frame: pd.DataFrame, reports: Sequence[FileReport]) -> pd.DataFrame:
    """``frame`` without the lines of an earlier export that a later export holds too.

    ``frame`` is the files' lines stacked in the order of ``reports`` (``reports[i].rows``
    lines each, as :func:`auditkit.ingest.load` builds it). Warnings go to the later file's
    report; the earlier file's ``rows`` count drops by the lines it gave up. Returns ``frame``
    itself when nothing overlaps.
    """
    sizes = np.array([report.rows for report in reports], dtype=np.int64)
    if int(sizes.sum()) != len(frame):
        raise ValueError(
            f"drop_overlaps: the reports count {int(sizes.sum())} lines, the table has {len(frame)}"
        )
    exports = [i for i, report in enumerate(reports) if _is_export(report) and report.rows]
    if len(exports) < 2:
        return frame
    file_of_line = np.repeat(np.arange(len(reports), dtype=np.int64), sizes)
    lines = np.flatnonzero(np.isin(file_of_line, exports))
    files = file_of_line[lines]
    columns = list(OVERLAP_KEY)
    if "line_number" in frame.columns and all("line_number" in reports[i].mapping for i in exports):
        columns.append("line_number")
    key = _key(frame, columns, lines)
    # the n-th line with a key in its file is matched with the n-th in every other file
    in_file = _combine(key, files)
    occurrence = pd.Series(in_file).groupby(in_file).cumcount().to_numpy(dtype=np.int64)
    same = _combine(key, occurrence)
    winner = np.full(int(same.max()) + 1, -1, dtype=np.int64)
    np.maximum.at(winner, same, files)
    line_winner = winner[same]
    dropped = files < line_winner
    if not dropped.any():
        return frame
    _report(reports, files[dropped], line_winner[dropped], columns)
    keep = np.ones(len(frame), dtype=bool)
    keep[lines[dropped]] = False
    return frame.iloc[np.flatnonzero(keep)].reset_index(drop=True)


def _is_export(report: FileReport) -> bool:
    """True for a file read by an export reader (pyarrow, python-csv, calamine), False for an
    X12 835 remittance (reader ``"x12"``)."""
    return report.reader != "x12"


def _key(frame: pd.DataFrame, columns: list[str], lines: np.ndarray) -> np.ndarray:
    """One int64 per line in ``lines``, equal exactly when the lines agree on ``columns``
    (a missing value counts as a value of its own)."""
    every = len(lines) == len(frame)
    key = np.zeros(len(lines), dtype=np.int64)
    for name in columns:
        values = frame[name] if every else frame[name].iloc[lines]
        codes, _ = pd.factorize(values, use_na_sentinel=False)
        key = _combine(key, codes.astype(np.int64))
    return key


def _combine(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Dense codes (0..k-1) for the pairs ``(first, second)``: ``first`` dense codes too,
    ``second`` non-negative (so the pair's number stays below len(first) squared)."""
    width = int(second.max()) + 1 if len(second) else 1
    return pd.factorize(first * width + second)[0].astype(np.int64)


def _report(
    reports: Sequence[FileReport], losers: np.ndarray, winners: np.ndarray, columns: list[str]
) -> None:
    """A warning per pair of files on the later one; the earlier one's ``rows`` lowered."""
    pairs, counts = np.unique(np.stack([losers, winners], axis=1), axis=0, return_counts=True)
    read = [report.rows for report in reports]
    same = "claim number, date of service, code" + (
        " and line number" if "line_number" in columns else ""
    )
    for (earlier, later), count in zip(pairs.tolist(), counts.tolist(), strict=True):
        before, after = reports[earlier], reports[later]
        lines = f"{count:,} claim line" + ("" if count == 1 else "s")
        if before.path == after.path:
            after.warnings.append(
                f"{after.path} was given twice (files {earlier + 1} and {later + 1}): {lines} "
                f"of the earlier copy are also in the later one; each is counted once"
            )
        else:
            after.warnings.append(
                f"{lines} of {before.path} (of {read[earlier]:,}) are also in {after.path} "
                f"(same {same}: an overlapping date range?); each is counted once, from "
                f"{after.path}, the later file given"
            )
        before.rows -= count
