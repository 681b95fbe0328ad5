"""The **Trends** sheet: the practice's measures month by month of service.

From ``AuditResult.trends`` (:func:`auditkit.measures.trends.monthly`): three line charts (the
clean-claim rate per physician, the 20553 share of trigger-point lines per physician, the
denial rate per payer, each over the months, the busiest :data:`CHART_SERIES` drawn), the month
where each physician's clean-claim rate changed most, then the whole table (practice,
physician and payer rows) with the line findings of each audit per month. Made only when the
export spans at least two months of service: one month is no trend.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from auditkit.measures.trends import FINDINGS_PREFIX, MIN_RATED_CLAIMS
from auditkit.report.cells import make_table
from auditkit.report.model import (
    Block,
    Chart,
    Column,
    Fact,
    Facts,
    Figure,
    Series,
    Sheet,
    Table,
    Text,
    Title,
)
from auditkit.report.safety import clean_text
from auditkit.report.style import SERIES_COLORS

__all__ = ["CHART_SERIES", "TRENDS_SHEET", "TREND_TABLE_COLUMNS", "trends_sheet"]

TRENDS_SHEET = "Trends"
#: Lines a chart draws at most (one colour each from the palette): the busiest physicians or
#: payers; the table below lists them all.
CHART_SERIES = len(SERIES_COLORS)
#: Marks the month of a physician's largest change in clean-claim rate in the table.
BIGGEST_CHANGE_MARK = "Largest change"

#: The table's columns (before one column of line findings per audit).
TREND_TABLE_COLUMNS: tuple[Column, ...] = (
    Column("month", "Month of service", width=10),
    Column("level", "Level", width=10),
    Column("provider", "Physician", width=22),
    Column("payer", "Payer", width=22),
    Column("lines", "Lines", "integer"),
    Column("claims", "Claims", "integer"),
    Column("claims_rated", "Rated claims", "integer"),
    Column("clean_claim_rate", "Clean-claim rate", "percent"),
    Column("clean_claim_change", "Change from month before", "percent"),
    Column("biggest_change", "Biggest change", width=15),
    Column("adjudicated_lines", "Adjudicated lines", "integer"),
    Column("denial_rate", "Denial rate", "percent"),
    Column("denial_rate_dollars", "Denial rate ($)", "percent"),
    Column("tpi_lines", "Trigger-point lines", "integer"),
    Column("tpi_20553_share", "20553 share", "percent"),
    Column("median_days_to_pay", "Median days to pay", "number"),
)

_ABOUT = (
    "Months are months of the date of service. Each row counts one month for the practice, "
    "one physician or one payer, with the definitions of the Summary's key indicators: the "
    "clean-claim rate counts claims paid on their first submission (no line denied or "
    "rejected, not corrected, replaced or voided, not submitted twice, not edited before it "
    "went out) over the claims rated (settled, or already unclean), each claim in the month "
    "of its earliest date of service; the denial rate is denied lines over adjudicated lines "
    "(paid, partially paid or denied), and in dollars their charges; the 20553 share is 20553 "
    "lines over 20552 and 20553 lines sent to the payer; days to pay run from submission "
    "(else service) to payment. The findings columns count each audit's findings about single "
    "lines on the month's lines."
)


def trends_sheet(trends: pd.DataFrame | None) -> Sheet | None:
    """The Trends sheet, or None when there is no table or it spans fewer than two months."""
    if trends is None or not len(trends) or trends["month"].nunique() < 2:
        return None
    months = sorted(trends["month"].unique())
    practice = trends[trends["provider"].isna() & trends["payer"].isna()]
    physicians = trends[trends["provider"].notna()]
    payers = trends[trends["payer"].notna()]
    blocks: list[Block] = [
        Title("Trends by month of service"),
        Text(_ABOUT, label="How to read it"),
    ]
    blocks += _changes(practice, physicians)
    charts = [
        _line_figure(
            "trend:clean",
            "Clean-claim rate per physician, by month of service",
            physicians,
            "provider",
            "clean_claim_rate",
            "claims_rated",
            months,
            practice,
        ),
        _line_figure(
            "trend:tpi",
            "20553 share of trigger-point lines per physician, by month of service",
            physicians,
            "provider",
            "tpi_20553_share",
            "tpi_lines",
            months,
            practice,
        ),
        _line_figure(
            "trend:denials",
            "Denial rate per payer, by month of service",
            payers,
            "payer",
            "denial_rate",
            "adjudicated_lines",
            months,
            practice,
        ),
    ]
    blocks += [figure for figure in charts if figure is not None]
    blocks += [Title("Every month", level=2), _table(trends)]
    return Sheet(TRENDS_SHEET, "summary", blocks, freeze="trends")


def _changes(practice: pd.DataFrame, physicians: pd.DataFrame) -> list[Block]:
    """Per physician (and the practice) the month its clean-claim rate changed most."""
    rows = []
    for frame, label in ((practice, None), (physicians, "provider")):
        marked = frame[frame["biggest_change"].astype(bool)]
        for row in marked.itertuples(index=False):
            name = "Practice" if label is None else clean_text(str(row.provider))
            change = float(row.clean_claim_change)
            before = float(row.clean_claim_rate) - change
            rows.append(
                Fact(
                    name,
                    f"{row.month}: {before:.1%} to {row.clean_claim_rate:.1%} "
                    f"({change * 100:+.1f} points)",
                )
            )
    note = Text(
        "The month each physician's clean-claim rate changed most from the month before, "
        f"counting only months with at least {MIN_RATED_CLAIMS} rated claims and the month "
        "before them too (marked in the table below).",
        tone="note",
    )
    if not rows:
        return [
            Title("Biggest change in clean-claim rate", level=2),
            Text(
                f"No physician has two months in a row with {MIN_RATED_CLAIMS} or more rated "
                "claims, so no change is marked.",
                tone="note",
            ),
        ]
    return [Title("Biggest change in clean-claim rate", level=2), note, Facts(rows)]


def _line_figure(
    key: str,
    title: str,
    frame: pd.DataFrame,
    by: str,
    value: str,
    weight: str,
    months: list[str],
    practice: pd.DataFrame,
) -> Figure | None:
    """A line chart of ``value`` per ``by`` over ``months`` (the busiest by ``weight`` drawn,
    the practice's line first), its data table below: one row per month, a column per line."""
    if frame.empty or frame[value].notna().sum() == 0:
        return None
    totals = frame.groupby(by)[weight].sum().sort_values(ascending=False, kind="stable")
    shown = totals.index[: CHART_SERIES - 1].tolist()
    if len(totals) > len(shown):
        title += f" (top {len(shown)} of {len(totals)})"
    table = pd.DataFrame({"month": months})
    columns = [Column("month", "Month of service", width=10)]
    series = []
    sources = [("Practice", practice)] + [(name, frame[frame[by] == name]) for name in shown]
    for i, (name, rows) in enumerate(sources):
        column = f"s{i}"
        values = rows.set_index("month")[value].reindex(months)
        table[column] = values.to_numpy(dtype="float64")
        label = clean_text(str(name))
        columns.append(Column(column, label, "percent", width=max(10, min(len(label) + 2, 24))))
        series.append(Series(column, label, SERIES_COLORS[i % len(SERIES_COLORS)]))
    chart = Chart(
        title=title,
        category="month",
        series=series,
        kind="line",
        value_kind="percent",
        height_rows=18,
    )
    return Figure(make_table(key, columns, table), chart)


def _table(trends: pd.DataFrame) -> Table:
    """The whole month-by-month table: practice, physician and payer rows."""
    frame = trends.copy()
    frame["level"] = np.where(
        frame["provider"].notna(),
        "Physician",
        np.where(frame["payer"].notna(), "Payer", "Practice"),
    )
    frame["biggest_change"] = np.where(
        frame["biggest_change"].astype(bool), BIGGEST_CHANGE_MARK, ""
    )
    columns = list(TREND_TABLE_COLUMNS)
    for name in frame.columns:
        if name.startswith(FINDINGS_PREFIX):
            audit = name[len(FINDINGS_PREFIX) :]
            columns.append(Column(name, f"{audit} findings", "integer", width=12))
    return make_table("trends", columns, frame)
