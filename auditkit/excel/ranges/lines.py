"""Claim lines typed or pasted into a worksheet, audited: a pasted export read as
:func:`auditkit.load` reads a sheet (:func:`lines_from_grid`, :func:`findings_table`), and
the problems the registered audits find with one claim line or with each of many
(:func:`check_line`, :func:`check_lines`).

A line that cannot be read (a blank code, a date of service that is not a date) is answered
"not checked: ..." with the value as typed (``DOS: not a date: '13/45/2026'``): the user typed
it in their own sheet, so, unlike the workbook and JSON outputs, the answer quotes it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from auditkit.engine.result import SEVERITIES
from auditkit.engine.runner import run_audits
from auditkit.errors import InputError
from auditkit.excel.ranges.cells import cells, per_value
from auditkit.ingest import ClaimLines, claim_lines_from_grid, recognised_columns
from auditkit.ingest import normalise as norm
from auditkit.ingest.model import RowProblem

#: Where :func:`lines_from_grid` says the lines came from.
GRID_SOURCE = "(table)"
#: Placeholders :func:`check_lines` gives the required columns a line check does not need.
LINE_DEFAULTS: dict[str, Any] = {
    "claim_id": "LINE-",  # numbered per line: LINE-1, LINE-2, ...
    "rendering_provider": "(this line)",
    "payer": "(not given)",
}


def lines_from_grid(
    grid: Any,
    mapping: str | Path | Mapping[str, Any] | None = None,
    *,
    source: str = GRID_SOURCE,
) -> ClaimLines:
    """Claim lines from a pasted export: header row found and matched, cells parsed, exactly as
    :func:`auditkit.load` reads a workbook sheet (:func:`auditkit.ingest.claim_lines_from_grid`).
    ``source_row`` counts from the range's top row (1); ``source_file`` is ``source``.
    """
    return claim_lines_from_grid(grid, mapping=mapping, source=source)


#: Columns of :func:`findings_table`: (finding column, header).
FINDINGS_VIEW: tuple[tuple[str, str], ...] = (
    ("severity", "Severity"),
    ("audit", "Audit"),
    ("provider", "Provider"),
    ("payer", "Payer"),
    ("cpt", "CPT"),
    ("claim_id", "Claim"),
    ("line", "Line"),
    ("dollars_at_risk", "At risk"),
    ("message", "Finding"),
    ("fix", "How to fix"),
    ("source_row", "Row"),
)


def findings_table(
    grid: Any,
    mapping: str | Path | Mapping[str, Any] | None = None,
    config: Any = None,
) -> pd.DataFrame:
    """Every finding of the registered audits for a pasted export, one row per finding.

    Columns are the headers of :data:`FINDINGS_VIEW`; "Row" is the finding's row in the pasted
    range (blank for findings about a provider, payer or the practice).
    """
    result = run_audits(lines_from_grid(grid, mapping), config=config)
    found = result.findings
    view = pd.DataFrame({header: found[key].to_numpy() for key, header in FINDINGS_VIEW})
    return view.astype(object).where(view.notna(), None)


# --------------------------------------------------------------------------------------------
# one claim line


@dataclass(frozen=True)
class LineProblem:
    """One finding about a line."""

    audit: str
    severity: str
    message: str
    fix: str

    def __str__(self) -> str:
        return f"[{self.severity}] {self.audit}: {self.message}"


def _per_line(value: Any, n: int, name: str) -> list[Any]:
    """One value per line from a range: a single cell applies to every line; ``n * k`` cells
    (k per line, e.g. Mod 1..Mod 4) are joined with commas, blanks left out."""
    column = cells(value)
    if not len(column):
        return [None] * n
    if len(column) == 1:
        return [column.iloc[0]] * n
    if len(column) % n:
        raise InputError(
            f"{name} has {len(column):,} cells for {n:,} lines",
            hint="give one cell per line, or the same number of cells for every line",
        )
    if len(column) == n:
        return column.tolist()
    text = per_value(column, norm.as_text).astype("string").fillna("")
    rows = text.to_numpy(dtype=object).reshape(n, len(column) // n)
    joined = [",".join(v for v in row if v) for row in rows]
    return [v or None for v in joined]


def check_lines(
    cpt: Any,
    modifiers: Any = None,
    diagnoses: Any = None,
    units: Any = None,
    payer: Any = None,
    headers: Any = None,
    values: Any = None,
    *,
    config: Any = None,
    select: Sequence[str] | None = None,
    today: date | None = None,
) -> list[list[LineProblem]]:
    """The problems the registered audits find with each claim line (one list per line).

    ``cpt`` gives the lines (one cell each); the other arguments give one value per line (or
    one for all, or several cells per line for modifiers and diagnoses). ``headers`` names
    further columns (export headers or auditkit's column names, e.g. ``muscles_treated``,
    ``laterality``) and ``values`` holds one row of them per line. Each line is read like an
    export row (:func:`lines_from_grid`), as a claim of its own, and all lines are run through
    :func:`auditkit.audits.run_audits` together: audits that compare lines (per payer, per
    provider) see them all. Notes of audits skipped for lack of a column are left out, and so
    are findings about a provider, payer or the practice rather than a line. ``select`` limits
    the audits run (ids).
    """
    codes_given = cells(cpt)
    n = len(codes_given)
    if not n or not (codes_given.notna() & codes_given.astype(str).str.strip().ne("")).any():
        raise InputError("cpt is blank", hint="give the line's CPT or HCPCS code")
    extra = [str(h).strip() for h in cells(headers).tolist() if h is not None and str(h).strip()]
    header_row: list[Any] = ["cpt"]
    columns: list[list[Any]] = [codes_given.tolist()]
    for name, value in (
        ("modifiers", modifiers),
        ("diagnosis_codes", diagnoses),
        ("units", units),
        ("payer", payer),
    ):
        if value is not None and cells(value).notna().any():
            header_row.append(name)
            columns.append(_per_line(value, n, name))
    if extra:
        block = cells(values)
        if len(block) != n * len(extra):
            raise InputError(
                f"values has {len(block):,} cells for {len(extra)} headers and {n:,} lines",
                hint="give one row of values per line, one value per header",
            )
        rows = block.to_numpy(dtype=object).reshape(n, len(extra))
        header_row.extend(extra)
        columns.extend(rows[:, j].tolist() for j in range(len(extra)))
    present = recognised_columns(header_row)
    day = datetime.combine(today or date.today(), datetime.min.time())
    defaults = {**LINE_DEFAULTS, "date_of_service": day}
    for name, value in defaults.items():
        if name not in present:
            header_row.append(name)
            # Each line is a claim of its own, so claim-level rules never mix two lines.
            columns.append(
                [f"{value}{i + 1}" for i in range(n)] if name == "claim_id" else [value] * n
            )
    grid = [header_row, *map(list, zip(*columns, strict=True))]
    lines = lines_from_grid(grid, source="(line)")
    result = run_audits(lines, select=list(select) if select else None, config=config)
    ran = {run.id for run in result.audits if run.status == "ran"}
    found = result.findings[result.findings["audit"].isin(ran)]
    rows_of = pd.to_numeric(found["source_row"], errors="coerce") - 2  # row 1 is the header
    problems: list[list[LineProblem]] = [[] for _ in range(n)]
    for report in lines.inputs:
        for problem in report.problems:  # a line that could not be read (blank code, bad date)
            if not problem.kept and 0 <= problem.row - 2 < n:
                note = LineProblem("input", "info", f"not checked: {_unread(problem)}", "")
                problems[problem.row - 2].append(note)
    # One pass over the findings (not the lines): each finding goes to the line it names.
    for row, r in zip(rows_of, found.itertuples(index=False), strict=True):
        if row == row and 0 <= row < n:
            problems[int(row)].append(
                LineProblem(str(r.audit), str(r.severity), str(r.message), str(r.fix or ""))
            )
    return problems


def _unread(problem: RowProblem) -> str:
    """Why a line could not be read, with the value the user typed ("DOS: not a date:
    '13/45/2026'"): the cell is in the user's own sheet, so quoting it back reveals nothing
    (redaction is for outputs that leave the practice; a UDF's answer stays in the sheet)."""
    if problem.value is None or not problem.column:
        return problem.text()
    return f"{problem.column}: {problem.text()}"


def check_line(
    cpt: Any,
    modifiers: Any = None,
    diagnoses: Any = None,
    units: Any = None,
    payer: Any = None,
    headers: Any = None,
    values: Any = None,
    *,
    config: Any = None,
    select: Sequence[str] | None = None,
    today: date | None = None,
) -> list[LineProblem]:
    """The problems the registered audits find with one claim line (see :func:`check_lines`);
    ``modifiers`` and ``diagnoses`` may be the line's several cells (Mod 1..Mod 4)."""
    code = cells(cpt).dropna()
    return check_lines(
        code.iloc[:1] if len(code) else None,
        _per_line(modifiers, 1, "modifiers") if modifiers is not None else None,
        _per_line(diagnoses, 1, "diagnoses") if diagnoses is not None else None,
        units,
        payer,
        headers,
        values,
        config=config,
        select=select,
        today=today,
    )[0]


def problems_text(problems: Sequence[LineProblem]) -> str:
    """Problems as one line of text for a cell: most serious first, "OK" when there are none."""
    if not problems:
        return "OK"
    ordered = sorted(problems, key=lambda p: SEVERITIES.index(p.severity))
    return " | ".join(str(p) for p in ordered)
