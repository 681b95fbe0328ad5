"""The ``[kpis]`` table of the config file: settings of the practice measures.

The key indicators and the A/R measures are shared by several audits and the summary, so their
settings live in a table of their own rather than in one audit's.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING

from auditkit.engine.contract import SettingsTable, Threshold

if TYPE_CHECKING:
    from auditkit.engine.context import Context

#: Dates an open line's age may be counted from.
AGE_FROM: tuple[str, ...] = ("date_of_service", "submitted_date")

KPI_SETTINGS = SettingsTable(
    id="kpis",
    title="Key indicators and the A/R measures (as-of date, ages, clean claims)",
    thresholds=(
        Threshold(
            "as_of",
            str,
            "",
            "Date the ages are counted to (YYYY-MM-DD); empty: the latest date in the data.",
        ),
        Threshold(
            "age_from",
            str,
            "date_of_service",
            "Count ages from date_of_service or submitted_date.",
        ),
        Threshold(
            "edited_counts_as_unclean",
            bool,
            True,
            "Count claims edited before submission (scrubber or manual) as not clean, as HFMA does.",
        ),
    ),
    #: Settings that lived in an audit's table before they moved here: (old table, key).
    moved_from=(
        ("ar-aging", "as_of"),
        ("ar-aging", "age_from"),
        ("clean-claim-rate", "edited_counts_as_unclean"),
    ),
)


def kpi_settings(ctx: Context) -> SimpleNamespace:
    """The run's ``[kpis]`` settings, defaults filled in."""
    return ctx.config.settings(KPI_SETTINGS)


WORKLIST_SETTINGS = SettingsTable(
    id="worklist",
    title="The work list of open money (see `auditkit explain worklist`)",
    thresholds=(
        Threshold(
            "follow_up_days",
            int,
            30,
            "Days a pending claim may wait before it is followed up, where the export does not "
            "show the payer's own usual time to pay (its median over at least 5 paid lines).",
            min=1,
            max=365,
        ),
        Threshold(
            "underpaid_tolerance",
            float,
            1.0,
            "Dollars a payment may fall below the expected payment before it is an underpaid item.",
            min=0,
        ),
    ),
)


def worklist_settings(ctx: Context) -> SimpleNamespace:
    """The run's ``[worklist]`` settings, defaults filled in."""
    return ctx.config.settings(WORKLIST_SETTINGS)
