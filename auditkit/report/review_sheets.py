"""The chart-pull review workbook (``auditkit sample``) and its Results sheet (``auditkit score``).

Sheets of the review workbook, built from a :class:`~auditkit.measures.sampling.ReviewSample`:

* **Review**: one row per sampled line with what the reviewer needs to pull the chart and
  compare (:data:`SAMPLED_COLUMNS`), then the reviewer's columns (:data:`REVIEWER_COLUMNS`):
  Supported (a dropdown of Yes / No / Partly), Correct code, Correct units, Correct modifiers,
  Notes. The sheet is protected without a password: the sampled cells are locked, the
  reviewer's columns are not (a guard against slips; the scorer checks the fingerprints too).
* **Frame**: each stratum's lines and charges, and how many were sampled.
* **About**: the method, seed, filters, inputs, how the answers are scored, the statistics.
* **Review data** (hidden, protected): what ``auditkit score`` reads so it needs nothing but
  the workbook: the sample's settings, the strata, a SHA-256 fingerprint of each sampled row's
  values (:func:`fingerprint`) and the prices per unit of each code at each payer.

The **Results** sheet (:func:`results_report`) is added by ``auditkit score``: per stratum and
overall, lines reviewed, errors, error rate and interval, projected dollars with interval and
lower bound, and the lines in error.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from auditkit import __version__
from auditkit.ingest.model import FileReport
from auditkit.measures.review_score import (
    INTERVAL_METHODS,
    SCORING_TEXT,
    SUPPORTED_CHOICES,
    ReviewScore,
    method_text,
)
from auditkit.measures.sampling import DRAW_TEXT, STRATUM_KEYS, ReviewSample
from auditkit.report.cells import make_table
from auditkit.report.model import Block, Column, Fact, Facts, Report, Sheet, Table, Text, Title
from auditkit.report.safety import clean_text

__all__ = [
    "ABOUT_SHEET",
    "DATA_SHEET",
    "DATA_TITLES",
    "FORMAT",
    "FRAME_SHEET",
    "RESULTS_SHEET",
    "REVIEWER_COLUMNS",
    "REVIEW_SHEET",
    "SAMPLED_COLUMNS",
    "canonical",
    "fingerprint",
    "is_results_sheet",
    "results_report",
    "review_report",
]

REVIEW_SHEET = "Review"
FRAME_SHEET = "Frame"
ABOUT_SHEET = "About"
DATA_SHEET = "Review data"
RESULTS_SHEET = "Results"
#: What the data sheet's settings say the workbook is (the reader checks it).
FORMAT = "auditkit chart-pull review 1"
#: Titles of the data sheet's tables (the reader finds each table below its title).
DATA_TITLES: dict[str, str] = {
    "run": "Sample settings",
    "strata": "Strata",
    "fingerprints": "Fingerprints",
    "prices": "Prices per unit",
}

#: The sampled columns, locked; fingerprinted in this order.
SAMPLED_COLUMNS: tuple[Column, ...] = (
    Column("sample_id", "Sample id", "ordinal", 10),
    Column("provider", "Physician"),
    Column("family", "Family", "text", 16),
    Column("claim_id", "Claim"),
    Column("line", "Line", "ordinal", 7),
    Column("date_of_service", "Date of service", "date", 16),
    Column("payer", "Payer"),
    Column("cpt", "Code", "text", 9),
    Column("modifiers", "Modifiers", "text", 11),
    Column("units", "Units", "number", 9),
    Column("diagnoses", "Diagnoses", "text", 20),
    Column("status", "Status", "text", 15),
    Column("charge", "Charge", "currency"),
    Column("paid", "Paid", "currency"),
)
_SAMPLED = {column.key: column for column in SAMPLED_COLUMNS}
#: The reviewer's columns.
REVIEWER_COLUMNS: tuple[Column, ...] = (
    Column("supported", "Supported", width=12, choices=SUPPORTED_CHOICES, entry=True),
    Column("correct_code", "Correct code", width=14, entry=True),
    Column("correct_units", "Correct units", "number", width=14, entry=True),
    Column("correct_modifiers", "Correct modifiers", width=18, entry=True),
    Column("notes", "Notes", width=40, entry=True),
)
_STRATUM_HEADERS = {"provider": "Physician", "family": "Family", "payer": "Payer"}


# -- fingerprints --------------------------------------------------------------------------------


def canonical(value: Any) -> str:
    """A cell's value as fingerprint text, the same whether it is the value written or the
    value read back from the saved workbook (by openpyxl, after Excel or LibreOffice saved it):
    blank is "", numbers have six decimals, dates are ISO dates, text is as it is."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, bool | np.bool_):
        return "TRUE" if value else "FALSE"
    if isinstance(value, pd.Timestamp | datetime):
        stamp = pd.Timestamp(value)
        if pd.isna(stamp):
            return ""
        return stamp.date().isoformat() if stamp == stamp.normalize() else stamp.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float | np.integer | np.floating):
        number = float(value)
        if not math.isfinite(number):
            return ""
        text = f"{number:.6f}"
        return "0.000000" if text == "-0.000000" else text
    return str(value)


def fingerprint(values: Iterable[Any]) -> str:
    """SHA-256 (hex) of a row's sampled values, each :func:`canonical`, in column order."""
    text = "\x1f".join(canonical(v) for v in values)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# -- the review workbook -------------------------------------------------------------------------


def review_report(
    sample: ReviewSample,
    *,
    inputs: Sequence[FileReport] = (),
    config_source: str | None = None,
    file_name: str | None = None,
    generated_at: datetime | None = None,
) -> Report:
    """The review workbook's report model: Review, Frame, About and the hidden data sheet.

    None of its sheets is marked as auditkit's (``Sheet.replaceable``): the reviewer's work is
    in them, so no later run writing into the workbook (``auditkit audit --into``) removes
    them; ``auditkit score`` only adds or replaces the Results sheet. ``file_name``: the
    workbook's name, for the score command shown on the Review sheet."""
    report = Report(
        sheets=[],
        title="Chart-pull review",
        generated_at=(generated_at or datetime.now()).replace(microsecond=0),
        version=__version__,
    )
    review = _review_table(sample)
    report.sheets = [
        _review_sheet(sample, review, file_name or "review.xlsx"),
        _frame_sheet(sample),
        _about_sheet(sample, report, inputs, config_source),
        _data_sheet(sample, review, report),
    ]
    return report


def _review_table(sample: ReviewSample) -> Table:
    rows = sample.sample.reset_index(drop=True).copy()
    for column in REVIEWER_COLUMNS:  # empty, for the reviewer
        if column.kind == "number":
            rows[column.key] = pd.Series(np.nan, index=rows.index, dtype="float64")
        else:
            rows[column.key] = pd.Series(pd.NA, index=rows.index, dtype="string")
    units = pd.to_numeric(rows["units"], errors="coerce").dropna()
    columns = list(SAMPLED_COLUMNS) + list(REVIEWER_COLUMNS)
    if bool((units % 1 == 0).all()):  # whole units (nearly always): no decimals shown
        columns = [
            Column(c.key, c.header, "integer", c.width) if c.key == "units" else c for c in columns
        ]
    return make_table("review", columns, rows)


def _review_sheet(sample: ReviewSample, table: Table, file_name: str) -> Sheet:
    strata = len(sample.frame)
    facts = [
        Fact(
            "Sample",
            f"{len(table):,} lines from {strata:,} strata of {sample.frame_lines:,} lines "
            f"({_by_words(sample.by)}); seed {sample.seed}",
        ),
        Fact(
            "Supported",
            "Yes: the note supports the line as billed; No: it does not; Partly: only in part. "
            "Leave it blank when the chart could not be reviewed (left out, not supported)",
        ),
        Fact(
            "Corrections",
            "type them only where they differ from what was billed ('none' for no modifier)",
        ),
        Fact(
            "When done",
            f"auditkit score {_quoted(file_name)} --json results.json --into {_quoted(file_name)}",
        ),
        Fact(
            "Locked",
            "the sampled columns are locked and fingerprinted: a workbook whose sampled values "
            "changed is refused; the green columns are yours",
        ),
    ]
    blocks: list[Block] = [Title("Chart-pull review"), Facts(facts), table]
    return Sheet(
        REVIEW_SHEET, "worklist", blocks, freeze="review", protected=True, replaceable=False
    )


def _quoted(name: str) -> str:
    """A file name as typed on a command line (quoted when it holds a space)."""
    return f'"{name}"' if " " in name else name


def _frame_sheet(sample: ReviewSample) -> Sheet:
    frame = sample.frame.reset_index(drop=True).copy()
    frame["fraction"] = frame["sample_lines"] / frame["frame_lines"].where(frame["frame_lines"] > 0)
    columns = [Column(key, _STRATUM_HEADERS[key]) for key in sample.by] + [
        Column("frame_lines", "Lines in frame", "integer", 15),
        Column("frame_dollars", "Charges in frame", "currency", 18),
        Column("sample_lines", "Lines sampled", "integer", 15),
        Column("fraction", "Share sampled", "percent", 15),
    ]
    dollars = frame["frame_dollars"].sum(min_count=1)
    blocks: list[Block] = [
        Title("Frame: the lines the sample was drawn from"),
        Text(
            "Each stratum's lines after the filters (voided lines are never in the frame), the "
            "sum of their charges (the billed amount, not what was paid) and how many lines "
            "were drawn. The reviewer's findings are projected to these lines.",
            tone="note",
        ),
        Facts(
            [
                Fact("Lines in frame", sample.frame_lines, "integer"),
                Fact(
                    "Charges in frame",
                    float(dollars) if pd.notna(dollars) else "unknown: the export has no charge",
                    "currency" if pd.notna(dollars) else "text",
                ),
                Fact("Lines sampled", int(frame["sample_lines"].sum()), "integer"),
            ]
        ),
        make_table("review-frame", columns, frame),
    ]
    return Sheet(
        FRAME_SHEET, "audit", blocks, freeze="review-frame", protected=True, replaceable=False
    )


def _about_sheet(
    sample: ReviewSample,
    report: Report,
    inputs: Sequence[FileReport],
    config_source: str | None,
) -> Sheet:
    filters = sample.filters
    dates = (
        f"{filters.get('date_from') or 'the first'} to {filters.get('date_to') or 'the last'}"
        if filters.get("date_from") or filters.get("date_to")
        else "all dates"
    )
    only = {
        "all": "all lines (voided lines are never sampled)",
        "denied": "denied or rejected lines",
        "paid": "paid or partially paid lines",
    }[filters.get("only", "all")]
    facts = [
        Fact("auditkit version", report.version),
        Fact("Generated", report.generated_at, "datetime"),
        Fact("Seed", str(sample.seed)),
        Fact("Strata", _by_words(sample.by)),
        Fact("Lines per stratum", f"{sample.per_stratum} (all lines of a smaller stratum)"),
        Fact("Lines", only),
        Fact("Dates of service", dates),
        Fact("Configuration", config_source or "defaults (no auditkit.toml)"),
    ]
    if sample.excluded:
        facts.append(
            Fact(
                "Left out",
                ", ".join(f"{n:,} {reason}" for reason, n in sample.excluded.items()),
            )
        )
    blocks: list[Block] = [Title("About this review"), Facts(facts)]
    blocks.append(Title("How the sample was drawn", level=2))
    blocks.extend(Text(p) for p in _split(DRAW_TEXT))
    blocks.append(Title("How the answers are scored", level=2))
    blocks.extend(Text(p) for p in _split(SCORING_TEXT))
    blocks.append(Title("The statistics", level=2))
    blocks.extend(Text(p) for p in _split(method_text()))
    if inputs:
        blocks.append(Title("Inputs", level=2))
        rows = pd.DataFrame({"file": [r.path for r in inputs], "rows": [r.rows for r in inputs]})
        blocks.append(
            make_table(
                "review-inputs",
                [Column("file", "File"), Column("rows", "Lines read", "integer")],
                rows,
            )
        )
    return Sheet(ABOUT_SHEET, "about", blocks, replaceable=False)


def _split(text: str) -> list[str]:
    """Paragraphs and list items ("- ") of plain text, each on one line."""
    out: list[str] = []
    for block in text.strip().split("\n\n"):
        items: list[list[str]] = []
        for raw in block.splitlines():
            line = raw.strip()
            if line.startswith(("* ", "- ")) or not items:
                items.append([line])
            else:
                items[-1].append(line)
        out.extend(" ".join(item) for item in items if any(item))
    return out


def _by_words(by: tuple[str, ...]) -> str:
    return " x ".join(STRATUM_KEYS[k] for k in by) if by else "one stratum: all lines"


def _data_sheet(sample: ReviewSample, review: Table, report: Report) -> Sheet:
    keys = [c.key for c in SAMPLED_COLUMNS if c.key in review.frame.columns]
    values = review.frame[keys]
    prints = [fingerprint(row) for row in values.itertuples(index=False, name=None)]
    settings = {
        "format": FORMAT,
        "version": report.version,
        "generated": report.generated_at.isoformat(sep=" "),
        "seed": str(sample.seed),
        "by": ",".join(sample.by),
        "per_stratum": str(sample.per_stratum),
        "only": sample.filters.get("only") or "all",
        "date_from": sample.filters.get("date_from") or "",
        "date_to": sample.filters.get("date_to") or "",
        "fingerprint_columns": ",".join(keys),
    }
    text = [Column("key", "key"), Column("value", "value")]
    strata = sample.frame
    prices = sample.prices
    blocks: list[Block] = [
        Title("What auditkit score reads: do not edit"),
        Title(DATA_TITLES["run"], level=2),
        make_table("review-run", text, pd.DataFrame(settings.items(), columns=["key", "value"])),
        Title(DATA_TITLES["strata"], level=2),
        make_table(
            "review-strata",
            [Column(k, k) for k in sample.by]
            + [
                Column("frame_lines", "frame_lines", "integer"),
                Column("frame_dollars", "frame_dollars", "number"),
                Column("sample_lines", "sample_lines", "integer"),
            ],
            strata,
        ),
        Title(DATA_TITLES["fingerprints"], level=2),
        make_table(
            "review-fingerprints",
            [Column("sample_id", "sample_id", "ordinal"), Column("fingerprint", "fingerprint")],
            pd.DataFrame({"sample_id": review.frame["sample_id"], "fingerprint": prints}),
        ),
        Title(DATA_TITLES["prices"], level=2),
        make_table(
            "review-prices",
            [
                Column("code", "code"),
                Column("payer", "payer"),
                Column("unit_price", "unit_price", "number"),
                Column("source", "source"),
            ],
            prices,
        ),
    ]
    return Sheet(DATA_SHEET, "about", blocks, protected=True, hidden=True, replaceable=False)


# -- the Results sheet ---------------------------------------------------------------------------


def is_results_sheet(title: str) -> bool:
    """True for the Results sheet's name (what ``auditkit score --into`` replaces)."""
    return title.strip().casefold() == RESULTS_SHEET.casefold()


def results_report(score: ReviewScore, *, generated_at: datetime | None = None) -> Report:
    """A report of one sheet, **Results**, to add to the review workbook."""
    report = Report(
        sheets=[],
        title="Chart-pull review results",
        generated_at=(generated_at or datetime.now()).replace(microsecond=0),
        version=__version__,
    )
    report.sheets = [_results_sheet(score)]
    return report


def _results_sheet(score: ReviewScore) -> Sheet:
    overall = score.overall
    level = f"{score.confidence:.0%}"
    facts = [
        Fact(
            "Reviewed",
            f"{overall['reviewed']:,} of {overall['sample_lines']:,} sampled lines"
            + (f" ({len(score.unanswered):,} not answered, left out)" if score.unanswered else ""),
        ),
        Fact("Errors", f"{overall['errors']:,}"),
        Fact("Error rate", _rate_words(overall, level)),
        Fact("Projected dollars", _dollar_words(overall, level)),
        Fact(
            "Lower bound",
            _money(overall.get("lower_bound"))
            + f" (one-sided {level}: the figure an overpayment demand uses)",
        ),
        Fact(
            "Method",
            f"{INTERVAL_METHODS[score.method]} for error rates; stratified difference "
            f"estimator for dollars; seed {score.run.get('seed', '?')}",
        ),
    ]
    blocks: list[Block] = [Title("Review results"), Facts(facts)]
    for warning in score.warnings:
        blocks.append(Text(clean_text(warning), tone="warning"))
    by = tuple(score.run.get("by") or ())
    stratum_columns = [Column(k, _STRATUM_HEADERS[k]) for k in by]
    figure_columns = [
        Column("frame_lines", "Lines in frame", "integer"),
        Column("frame_dollars", "Charges in frame", "currency"),
        Column("sample_lines", "Sampled", "integer"),
        Column("reviewed", "Reviewed", "integer"),
        Column("errors", "Errors", "integer"),
        Column("error_rate", "Error rate", "percent"),
        Column("ci_low", f"Rate {level} low", "percent"),
        Column("ci_high", f"Rate {level} high", "percent"),
        Column("projected_dollars", "Projected $", "currency"),
        Column("projected_low", f"Projected {level} low", "currency"),
        Column("projected_high", f"Projected {level} high", "currency"),
        Column("lower_bound", f"Lower bound (one-sided {level})", "currency"),
    ]
    blocks.append(Title("By stratum", level=2))
    blocks.append(make_table("review-results", stratum_columns + figure_columns, score.strata))
    blocks.append(Title("All strata", level=2))
    blocks.append(make_table("review-overall", figure_columns, pd.DataFrame([overall])))
    errors = score.lines[score.lines["error"]]
    blocks.append(Title("Lines in error", level=2))
    if not len(errors):
        blocks.append(Text("No answered line is in error.", tone="note"))
    else:
        blocks.append(
            make_table(
                "review-errors",
                [
                    _SAMPLED["sample_id"],
                    *stratum_columns,
                    *(_SAMPLED[key] for key in ("claim_id", "line", "cpt", "units")),
                    Column("supported", "Supported", "text", 11),
                    Column("correct_code", "Correct code", "text", 14),
                    Column("correct_units", "Correct units", "number", 14),
                    Column("error_kind", "Error", "text", 24),
                    Column("billed_price", "Billed price", "currency"),
                    Column("correct_price", "Correct price", "currency"),
                    Column("difference", "Difference", "currency"),
                    Column("notes", "Notes", "text", 40),
                ],
                errors,
            )
        )
    return Sheet(RESULTS_SHEET, "summary", blocks)


def _rate_words(row: dict[str, Any], level: str) -> str:
    rate = row.get("error_rate")
    if rate is None:
        return "no answered line"
    return f"{rate:.1%} ({level} interval {row['ci_low']:.1%} to {row['ci_high']:.1%})"


def _dollar_words(row: dict[str, Any], level: str) -> str:
    if row.get("projected_dollars") is None:
        return "no answered line"
    return (
        f"{_money(row['projected_dollars'])} ({level} interval {_money(row['projected_low'])} "
        f"to {_money(row['projected_high'])}) over {row.get('projected_frame_lines', 0):,} lines"
    )


def _money(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return f"-${-float(value):,.2f}" if float(value) < 0 else f"${float(value):,.2f}"
