"""The chart-pull review workbook on disk: write it, read the reviewer's answers back, add the
Results sheet.

:func:`write_review` renders :func:`auditkit.report.review_sheets.review_report` with the
openpyxl writer. :func:`read_review` reads a (filled-in) review workbook with openpyxl, matching
the Review sheet's columns by their headers, and refuses, before anything is scored, a workbook
whose sampled columns were edited: each row's sampled values must still have the SHA-256
fingerprint stored for its sample id on the hidden data sheet, no sampled row may be missing
and none may appear twice. :func:`write_results` adds (or replaces) the **Results** sheet,
keeping every other sheet as it is.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import load_workbook

from auditkit.errors import InputError, OutputError
from auditkit.excel.openpyxl_writer import read_workbook_file, write_report
from auditkit.fileio import all_or_nothing, atomic_write_bytes
from auditkit.ingest.model import FileReport
from auditkit.measures.review_score import ReviewAnswers, ReviewScore, review_json
from auditkit.measures.sampling import ReviewSample
from auditkit.report.review_sheets import (
    DATA_SHEET,
    DATA_TITLES,
    FORMAT,
    REVIEW_SHEET,
    REVIEWER_COLUMNS,
    SAMPLED_COLUMNS,
    fingerprint,
    is_results_sheet,
    results_report,
    review_report,
)

__all__ = ["read_review", "write_results", "write_review", "write_score_outputs"]

#: Review sheet header -> column key.
_KEYS = {c.header.casefold(): c.key for c in (*SAMPLED_COLUMNS, *REVIEWER_COLUMNS)}
#: Rows named in a refusal at most.
_NAMED = 10


def write_review(
    sample: ReviewSample,
    path: str | Path,
    *,
    inputs: Sequence[FileReport] = (),
    config_source: str | None = None,
) -> Path:
    """Write the review workbook for ``sample`` to ``path`` (a new .xlsx) and return it."""
    target = Path(path)
    if target.suffix.lower() != ".xlsx":
        raise OutputError(
            "the review workbook is an .xlsx file: use a name ending in .xlsx", path=target
        )
    report = review_report(
        sample, inputs=inputs, config_source=config_source, file_name=target.name
    )
    return write_report(report, target)


def write_results(score: ReviewScore, path: str | Path, *, base: str | Path) -> Path:
    """Write ``base`` (the review workbook) with a **Results** sheet for ``score`` to ``path``
    (``base`` itself for ``--into``); an earlier Results sheet is replaced, every other sheet
    kept."""
    target = Path(path)
    if target.suffix.lower() != ".xlsx":
        raise OutputError(
            "the scored workbook is an .xlsx file: use a name ending in .xlsx", path=target
        )
    return write_report(
        results_report(score),
        target,
        base=base,
        creating=Path(base) != target,
        replacing=is_results_sheet,
    )


def read_review(path: str | Path) -> ReviewAnswers:
    """The answers of a review workbook, checked against the fingerprints of the sample.

    Raises :class:`InputError` (one line) when the file is not a review workbook auditkit
    wrote, or when sampled values were edited, rows deleted or copied (naming the rows).
    """
    source = Path(path)
    wb = _open(source)
    try:
        for name in (REVIEW_SHEET, DATA_SHEET):
            if name not in wb.sheetnames:
                raise InputError(
                    f"has no '{name}' sheet: it is not a review workbook from auditkit sample",
                    path=source,
                )
        data = _data_tables(list(wb[DATA_SHEET].iter_rows(values_only=True)), source)
        rows = _review_rows(list(wb[REVIEW_SHEET].iter_rows(values_only=True)), source)
    finally:
        wb.close()
    run = dict(zip(data["run"]["key"].astype(str), data["run"]["value"], strict=True))
    if run.get("format") != FORMAT:
        raise InputError(
            "is not a review workbook from auditkit sample (its data sheet has another format)",
            path=source,
        )
    keys = [k for k in str(run.get("fingerprint_columns") or "").split(",") if k]
    _check_fingerprints(rows, data["fingerprints"], keys, source)
    by = [k for k in str(run.get("by") or "").split(",") if k]
    strata = data["strata"]
    for key in by:
        strata[key] = strata[key].map(_text).astype("string")
    for key in ("frame_lines", "sample_lines"):
        strata[key] = pd.to_numeric(strata[key]).astype("int64")
    strata["frame_dollars"] = pd.to_numeric(strata["frame_dollars"]).astype("float64")
    prices = data["prices"]
    prices["code"] = prices["code"].map(_text).astype("string")
    prices["payer"] = prices["payer"].map(_text).astype("string")
    prices["unit_price"] = pd.to_numeric(prices["unit_price"]).astype("float64")
    settings = {
        "seed": _integer(run.get("seed")),
        "by": by,
        "per_stratum": _integer(run.get("per_stratum")),
        "only": run.get("only") or "all",
        "date_from": run.get("date_from") or None,
        "date_to": run.get("date_to") or None,
        "version": run.get("version"),
        "generated": run.get("generated"),
    }
    for key in ("provider", "family", "payer"):
        rows[key] = rows[key].map(_text).astype("string")
    return ReviewAnswers(rows=rows, strata=strata, prices=prices, run=settings, source=str(source))


def _open(source: Path):
    return read_workbook_file(
        source, lambda: load_workbook(source, data_only=True), error=InputError
    )


def _data_tables(rows: list[tuple], source: Path) -> dict[str, pd.DataFrame]:
    """Each table of the data sheet, found below its title: header row, then rows up to the
    first blank one."""
    titles = {title: name for name, title in DATA_TITLES.items()}
    found: dict[str, pd.DataFrame] = {}
    i = 0
    while i < len(rows):
        first = rows[i][0] if rows[i] else None
        name = titles.get(first) if isinstance(first, str) else None
        if name is None:
            i += 1
            continue
        i += 1
        while i < len(rows) and _blank(rows[i]):
            i += 1
        if i >= len(rows):
            break
        header = [str(h) if h is not None else "" for h in rows[i]]
        width = len(header) - next((n for n, h in enumerate(reversed(header)) if h), len(header))
        header = header[:width]
        body = []
        i += 1
        while i < len(rows) and not _blank(rows[i]):
            body.append(list(rows[i][:width]) + [None] * (width - len(rows[i][:width])))
            i += 1
        found[name] = pd.DataFrame(body, columns=header, dtype=object)
    missing = [DATA_TITLES[n] for n in DATA_TITLES if n not in found]
    if missing:
        raise InputError(
            f"its '{DATA_SHEET}' sheet lacks {', '.join(missing)}: it is not a review workbook "
            "from auditkit sample, or that sheet was edited",
            path=source,
        )
    return found


def _review_rows(rows: list[tuple], source: Path) -> pd.DataFrame:
    """The Review table's rows by column key, each with its sheet row number."""
    header_at = None
    for i, row in enumerate(rows):
        names = {str(v).strip().casefold() for v in row if v is not None}
        if "sample id" in names and "supported" in names:
            header_at = i
            break
    if header_at is None:
        raise InputError(
            f"the '{REVIEW_SHEET}' sheet has no table with 'Sample id' and 'Supported' headers",
            path=source,
        )
    positions: dict[str, int] = {}
    for j, value in enumerate(rows[header_at]):
        key = _KEYS.get(str(value).strip().casefold()) if value is not None else None
        if key is not None and key not in positions:
            positions[key] = j
    needed = [c.header for c in (*SAMPLED_COLUMNS, *REVIEWER_COLUMNS) if c.key not in positions]
    if needed:
        raise InputError(
            f"the '{REVIEW_SHEET}' sheet's table has no column {', '.join(needed)}",
            path=source,
            hint="the sampled and reviewer columns must keep their headers",
        )
    records = []
    for i in range(header_at + 1, len(rows)):
        row = rows[i]
        values = {k: (row[j] if j < len(row) else None) for k, j in positions.items()}
        if all(_empty(v) for v in values.values()):
            continue
        records.append({"sheet_row": i + 1, **values})
    columns = ["sheet_row", *positions]
    return pd.DataFrame(records, columns=columns, dtype=object)


def _check_fingerprints(
    rows: pd.DataFrame, stored: pd.DataFrame, keys: list[str], source: Path
) -> None:
    """Refuse a Review sheet whose sampled values differ from those drawn."""
    pairs = zip(stored["sample_id"], stored["fingerprint"], strict=True)
    expected = {_integer(i): str(f) for i, f in pairs}
    changed, unknown, seen = [], [], {}
    for record in rows.to_dict("records"):
        sample_id = _integer(record.get("sample_id"))
        if sample_id is None or sample_id not in expected:
            unknown.append(record["sheet_row"])
            continue
        if sample_id in seen:
            unknown.append(record["sheet_row"])
            continue
        seen[sample_id] = record["sheet_row"]
        if fingerprint(record.get(k) for k in keys) != expected[sample_id]:
            changed.append(record["sheet_row"])
    hint = "undo the edits, or draw the sample again"
    if changed:
        raise InputError(
            f"the sampled columns of {_rows(changed)} were changed since the sample was drawn "
            "(their values no longer match the fingerprints auditkit stored); nothing was "
            "scored",
            path=source,
            hint=hint,
        )
    if unknown:
        raise InputError(
            f"{_rows(unknown)} of the Review sheet are not lines of the sample (a sample id "
            "changed, blank or copied); nothing was scored",
            path=source,
            hint=hint,
        )
    gone = sorted(set(expected) - set(seen))
    if gone:
        shown = ", ".join(str(i) for i in gone[:_NAMED])
        more = f" and {len(gone) - _NAMED} more" if len(gone) > _NAMED else ""
        raise InputError(
            f"{len(gone)} sampled line(s) are missing from the Review sheet (sample id "
            f"{shown}{more}); nothing was scored",
            path=source,
            hint="leave a line you could not review blank instead of deleting it",
        )


def _rows(numbers: list[int]) -> str:
    shown = ", ".join(str(n) for n in numbers[:_NAMED])
    more = f" and {len(numbers) - _NAMED} more" if len(numbers) > _NAMED else ""
    return f"row{'s' if len(numbers) > 1 else ''} {shown}{more}"


def _blank(row: tuple) -> bool:
    return all(_empty(v) for v in row)


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: Any) -> str | None:
    if _empty(value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def _integer(value: Any) -> int | None:
    if _empty(value) or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() else None


def write_score_outputs(
    score: ReviewScore,
    workbook: str | Path,
    *,
    json_path: str | Path | None = None,
    out: str | Path | None = None,
    into: str | Path | None = None,
) -> list[Path]:
    """Write the scored review: the JSON (:func:`auditkit.measures.review_score.review_json`)
    and/or the Results sheet: in a copy of the review ``workbook`` written to ``out``, or added
    to (replaced in) the workbook ``into`` (normally the review workbook itself; any other
    .xlsx keeps its sheets). All or nothing: the files are put in place together once
    each was written, or none is touched. Returns the paths written."""
    written: list[Path] = []
    with all_or_nothing():
        if json_path is not None:
            text = json.dumps(review_json(score), indent=2, ensure_ascii=False) + "\n"
            written.append(atomic_write_bytes(json_path, text.encode("utf-8")))
        if out is not None:
            written.append(write_results(score, out, base=workbook))
        elif into is not None:
            written.append(write_results(score, into, base=into))
    return written
