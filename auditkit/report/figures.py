"""The Summary's charts, each drawn from one of ``AuditResult.tables`` with its data below it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from auditkit.report.cells import make_table
from auditkit.report.model import Chart, Column, Figure, Series
from auditkit.report.style import SERIES_COLORS, TARGET_LINE

#: Categories (physicians, payers) a chart shows at most.
CHART_CATEGORIES = 20


@dataclass(frozen=True)
class FigureSpec:
    """A Summary chart drawn from one of ``AuditResult.tables``."""

    table: str
    title: str
    category: Column
    columns: tuple[Column, ...]  # the values shown in the table (missing ones are left out)
    series: tuple[Series, ...]  # the columns drawn
    value_kind: str
    stacked: bool = False
    horizontal: bool = False
    value_max: float | None = None
    #: Column ranking categories when there are too many to draw (largest first).
    rank_by: str | None = None
    #: Column the categories are ordered by (largest first); None keeps the table's order.
    sort_by: str | None = None
    #: Summary key drawn as a flat target line (e.g. the clean-claim target).
    target_key: str | None = None


FIGURES: tuple[FigureSpec, ...] = (
    FigureSpec(
        "clean_claim_rate_by_provider",
        "Clean-claim rate by physician",
        Column("provider", "Physician"),
        (
            Column("claims", "Claims", "integer"),
            Column("clean", "Clean", "integer"),
            Column("rate", "Clean rate", "percent"),
        ),
        (Series("rate", "Clean-claim rate", SERIES_COLORS[0]),),
        "percent",
        value_max=1.0,
        rank_by="claims",
        target_key="clean_claim_target",
    ),
    FigureSpec(
        "tpi_mix_by_provider",
        "Trigger-point lines by physician: 20552 and 20553",
        Column("provider", "Physician"),
        (
            Column("n_20552", "20552 lines", "integer"),
            Column("n_20553", "20553 lines", "integer"),
            Column("share_20553", "20553 share", "percent"),
        ),
        (
            Series("n_20552", "20552 (1-2 muscles)", SERIES_COLORS[0]),
            Series("n_20553", "20553 (3+ muscles)", SERIES_COLORS[1]),
        ),
        "integer",
        stacked=True,
        rank_by="n_20553",
    ),
    FigureSpec(
        "denial_rate_by_payer",
        "Denial rate by payer",
        Column("payer", "Payer"),
        (
            Column("lines", "Lines", "integer"),
            Column("denied", "Denied", "integer"),
            Column("rate", "Denial rate", "percent"),
            Column("denied_dollars", "Denied $", "currency0"),
        ),
        (Series("rate", "Denial rate", SERIES_COLORS[1]),),
        "percent",
        horizontal=True,
        rank_by="lines",
        sort_by="rate",
    ),
)


def summary_figures(tables: dict[str, pd.DataFrame], summary: dict[str, Any]) -> list[Figure]:
    """The :data:`FIGURES` whose table is in ``tables`` with the columns drawn, in order."""
    figures = (figure(spec, tables, summary) for spec in FIGURES)
    return [f for f in figures if f is not None]


def figure(
    spec: FigureSpec, tables: dict[str, pd.DataFrame], summary: dict[str, Any]
) -> Figure | None:
    """The chart ``spec`` describes, or None when its table or a drawn column is missing."""
    frame = tables.get(spec.table)
    needed = [spec.category.key, *(s.column for s in spec.series)]
    if frame is None or not len(frame) or any(c not in frame.columns for c in needed):
        return None
    title = spec.title
    if spec.rank_by in frame.columns and len(frame) > CHART_CATEGORIES:
        rank = pd.to_numeric(frame[spec.rank_by], errors="coerce").fillna(-math.inf)
        frame = frame.loc[rank.sort_values(ascending=False, kind="stable").index]
        title += f" (top {CHART_CATEGORIES} of {len(frame)})"
        frame = frame.iloc[:CHART_CATEGORIES]
    if spec.sort_by in frame.columns:
        order = pd.to_numeric(frame[spec.sort_by], errors="coerce").fillna(-math.inf)
        frame = frame.loc[order.sort_values(ascending=False, kind="stable").index]
    frame = frame.reset_index(drop=True)
    columns = [spec.category, *(c for c in spec.columns if c.key in frame.columns)]
    series = list(spec.series)
    target = summary.get(spec.target_key) if spec.target_key else None
    if isinstance(target, int | float) and math.isfinite(target):
        frame = frame.assign(_target=float(target))
        columns.append(Column("_target", "Target", spec.value_kind))
        series.append(Series("_target", "Target", TARGET_LINE, as_line=True))
    key = f"chart:{spec.table}"
    table = make_table(key, columns, frame)
    chart = Chart(
        title=title,
        category=spec.category.key,
        series=series,
        value_kind=spec.value_kind,
        horizontal=spec.horizontal,
        stacked=spec.stacked,
        value_max=spec.value_max,
        height_rows=max(16, min(1 + len(frame), 30)),
    )
    return Figure(table, chart)
