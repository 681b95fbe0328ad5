"""Audit ``frequency-limit``: more spinal injection sessions per region than 12 months allow."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from auditkit.engine.context import Context
from auditkit.engine.contract import Audit, NothingToAudit, Threshold
from auditkit.engine.findings import Evidence
from auditkit.measures.coding import coding_view, combine, concat, member

#: Session kind (spinal_sessions reference file) -> the setting holding its limit.
LIMIT_SETTING: dict[str, str] = {
    "epidural": "epidural_sessions",
    "facet injection": "facet_sessions",
    "radiofrequency ablation": "ablation_sessions",
}


class FrequencyLimit(Audit):
    """More epidural, facet or ablation sessions in one spinal region than allowed in 12 months.

    Why it matters
    --------------
    Medicare's coverage rules for epidurals and facet procedures, and most payers after them,
    limit how often a region may be treated: at most 4 epidural sessions, 4 facet injection
    sessions and 2 radiofrequency ablation sessions per spinal region in any rolling 12 months.
    Sessions beyond the limit are denied as exceeding frequency (CARC 119, 151) or recovered on
    review, and they need documented relief from the earlier sessions to be covered at all.

    What is flagged
    ---------------
    Sessions are the distinct dates of service on which a patient had a code of a kind
    (epidural, facet injection, radiofrequency ablation) in a region (cervical-thoracic,
    lumbar-sacral), per the ``spinal_sessions`` reference file. A session is flagged when it is
    more than the kind's limit (``epidural_sessions``, ``facet_sessions``,
    ``ablation_sessions``) counting the sessions of the same patient, kind and region in the
    ``window_days`` days up to and including it. The limits are a secondary source, consistent
    across the Medicare contractors (confidence S), hence settings. Voided and rejected lines are
    not counted. Severity high. Each line of the kind in a session over the limit is flagged
    (the payer denies them all as exceeding frequency); dollars at risk: the line's paid amount
    when paid, else its expected payment, else its charge.

    How to fix
    ----------
    Before scheduling, check how many sessions the patient had in the region in the last 12
    months. For sessions already done, make sure the note documents the relief and function
    gained from the earlier ones; for Medicare patients obtain an ABN when the limit is reached,
    and expect a denial otherwise.

    Columns needed
    --------------
    Required: cpt, date_of_service, patient_id. Optional: claim_id, status (voided and rejected
    lines left out), paid and charge (dollars).

    Example
    -------
    Flagged: a fifth lumbar epidural session for one patient within 12 months (the limit is 4).

        claim_id | patient_id | date_of_service | cpt
        ---------+------------+-----------------+------
        C1301    | P130       | 2024-01-08      | 62323
        C1302    | P130       | 2024-03-11      | 62323
        C1303    | P130       | 2024-05-13      | 62323
        C1304    | P130       | 2024-07-15      | 62323
        C1305    | P130       | 2024-11-18      | 62323

    Result: 1 high finding, on the session of 2024-11-18.

    Not flagged: the fifth session on 2025-01-13, more than 12 months after the first, so the 12
    months up to it hold four sessions.

        claim_id | patient_id | date_of_service | cpt
        ---------+------------+-----------------+------
        C1301    | P130       | 2024-01-08      | 62323
        C1302    | P130       | 2024-03-11      | 62323
        C1303    | P130       | 2024-05-13      | 62323
        C1304    | P130       | 2024-07-15      | 62323
        C1305    | P130       | 2025-01-13      | 62323
    """

    id = "frequency-limit"
    title = "Spinal injection sessions above the 12-month limit"
    severities = ("high",)
    columns = ("cpt", "date_of_service", "patient_id")
    optional_columns = ("claim_id", "status", "paid", "charge")
    thresholds = (
        Threshold(
            "epidural_sessions",
            int,
            4,
            "Epidural sessions allowed per spinal region in the window.",
            min=1,
        ),
        Threshold(
            "facet_sessions",
            int,
            4,
            "Facet injection sessions allowed per spinal region in the window.",
            min=1,
        ),
        Threshold(
            "ablation_sessions",
            int,
            2,
            "Radiofrequency ablation sessions allowed per spinal region in the window.",
            min=1,
        ),
        Threshold(
            "window_days",
            int,
            365,
            "Length of the rolling window in days (365 = 12 months).",
            min=1,
        ),
    )

    def run(self, lines: pd.DataFrame, settings: SimpleNamespace, context: Context) -> pd.DataFrame:
        view = coding_view(lines, context)
        table = context.reference.coding("spinal_sessions").drop_duplicates("code", keep="last")
        table = table.set_index("code")
        # Kind and region per distinct code, spread over the lines that have one.
        kind_of_code = view.per_code(table["kind"], "")
        region_of_code = view.per_code(table["region"], "")
        has_kind = np.asarray(kind_of_code != "", dtype=bool)[view.code_ids]
        used = has_kind & view.counted & (view.day >= 0)
        if not used.any():
            raise NothingToAudit("no epidural, facet or ablation lines with a date")
        pos = np.flatnonzero(used)
        kind_ids, kinds = pd.factorize(kind_of_code[view.code_ids[pos]])
        region_ids, regions = pd.factorize(region_of_code[view.code_ids[pos]])
        series = combine(view.patient[pos], kind_ids, region_ids)  # patient, kind, region
        session = combine(series, view.day[pos])
        # One row per session: its series and date; sorted by series then date.
        first = ~pd.Series(session).duplicated().to_numpy()
        sessions = pd.DataFrame(
            {
                "series": series[first],
                "day": view.day[pos][first],
                "kind": np.asarray(kinds, dtype=object)[kind_ids[first]],
                "region": np.asarray(regions, dtype=object)[region_ids[first]],
                "session": session[first],
            }
        ).sort_values(["series", "day"], kind="stable")
        # Sessions in (day - window, day] of the same series: a sorted key and two searches.
        key = sessions["series"].to_numpy() * (1 << 32) + sessions["day"].to_numpy()
        start = np.searchsorted(key, key - settings.window_days + 1, side="left")
        sessions["in_window"] = np.arange(len(key)) - start + 1
        sessions["window_start"] = sessions["day"].to_numpy()[start]
        limits = {k: getattr(settings, s) for k, s in LIMIT_SETTING.items()}
        # Looked up once per kind (three at most), then spread over the sessions.
        limit_of_kind = pd.Series(np.asarray(kinds, dtype=object)).map(limits)
        sessions["limit"] = limit_of_kind.to_numpy()[kind_ids[first][sessions.index.to_numpy()]]
        over = sessions[sessions["in_window"] > sessions["limit"]]
        if over.empty:
            return concat([])
        # Every line of a session over the limit is denied as exceeding frequency: one finding
        # per line, each with its own value, in row order.
        at = member(session, over["session"].to_numpy())
        flagged = pos[at]
        # The sessions' values spread over their lines, by position (no text built per line).
        where_over = pd.Index(over["session"].to_numpy()).get_indexer(session[at])
        since = pd.Categorical.from_codes(*_day_text(over["window_start"].to_numpy()))
        message = view.message(
            flagged,
            " is in {region} {kind} session number {sessions_in_window} for the patient since "
            f"{{since}} (within {settings.window_days} days); the limit is {{limit}}.",
        )
        evidence = Evidence(
            {
                "kind": pd.Categorical(over["kind"]).take(where_over),
                "region": pd.Categorical(over["region"]).take(where_over),
                # Nullable integers: a message shows them as "5" beside other audits' findings.
                "sessions_in_window": _int(over["in_window"], where_over),
                "limit": _int(over["limit"], where_over),
                "since": since.take(where_over),
            }
        )
        return view.findings(self, flagged, severity="high", message=message, evidence=evidence)


def _int(values: pd.Series, at: np.ndarray) -> pd.Series:
    """Whole numbers at ``at``, as nullable integers (a value a message names stays "5", never
    "5.0", when findings of other audits are rendered with it)."""
    return pd.Series(values.to_numpy(dtype=np.int64)[at], dtype="Int64")


def _day_text(days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Days since 1970-01-01 as the codes and categories of their YYYY-MM-DD text (each distinct
    day formatted once)."""
    codes, uniques = pd.factorize(np.asarray(days, dtype=np.int64))
    return codes, np.datetime_as_string(uniques.astype("datetime64[D]"), unit="D")
