"""Filing, corrected-claim and appeal deadlines for rows of a worksheet: the work list's own
rule (:func:`auditkit.measures.worklist.deadlines_for`, from ``deadlines.csv`` by payer class)
applied to a payer, a date of service, a remittance date and a deadline kind per row.

Each argument is one cell (applied to every row) or a range with one cell per row. A row is
answered on its own: a date that cannot be read, an unknown kind or a remittance dated before
the service makes a problem for that row only, quoted back as typed (the cells are the user's,
in their own sheet). A row without a date of service and without a remittance date is blank.

Without a remittance date, a window that counts from the remittance (appeals, corrected claims)
counts from the date of service: the remittance is never earlier, so that deadline is never later
than the real one.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from auditkit.config import Config
from auditkit.engine.settings import load_settings
from auditkit.errors import InputError
from auditkit.excel.ranges.cells import cells, first_text, per_value
from auditkit.ingest import normalise as norm
from auditkit.measures.worklist import deadlines_for
from auditkit.reference.deadlines import SLOT_OF_KIND, deadline_rules

#: The deadline kinds a row may ask for (``redetermination`` is Medicare's appeal).
DEADLINE_KINDS: tuple[str, ...] = tuple(SLOT_OF_KIND)
#: The arguments of :func:`deadline_table`, in order, as the messages name them.
ARGUMENTS: tuple[str, ...] = ("payer", "dos", "remit_date", "kind")
#: Columns of :func:`deadline_table`.
DEADLINE_COLUMNS: tuple[str, ...] = (
    "deadline",
    "deadline_kind",
    "source_date_used",
    "rule",
    "problem",
)

_KIND_HINT = "use " + ", ".join(DEADLINE_KINDS[:-1]) + " or " + DEADLINE_KINDS[-1]


def deadline_rows(payer: Any, dos: Any, remit_date: Any = None, kind: Any = None) -> Any:
    """The argument whose shape the answer takes: the first with the most cells (a single
    value when every argument is one cell)."""
    given = [payer, dos, remit_date, kind]
    sizes = [len(cells(v)) for v in given]
    return given[sizes.index(max(sizes))]


def deadline_table(
    payer: Any,
    dos: Any,
    remit_date: Any = None,
    kind: Any = None,
    config: str | Path | Mapping[str, Any] | Config | None = None,
) -> pd.DataFrame:
    """The deadline of each row (:data:`DEADLINE_COLUMNS`, one row per cell of the longest
    argument, row by row).

    ``deadline`` is a date (NaT when the row has none), ``deadline_kind``, ``source_date_used``
    and ``rule`` are :func:`~auditkit.measures.worklist.deadlines_for`'s, and ``problem`` says
    why a row has no deadline (``<NA>`` for answered rows and blank rows). ``config`` (an
    ``auditkit.toml`` path, a mapping or a :class:`Config`) brings the practice's deadlines
    file (``[reference] deadlines``) and per-payer windows (``[deadlines."Payer name"]``).

    Raises :class:`InputError` when ranges of several cells differ in length, when ``dos`` is
    not given, or when a single ``kind`` cell is blank or unknown (every row would say so);
    :class:`~auditkit.errors.ConfigError` for a bad config or deadlines file.
    """
    columns = dict(zip(ARGUMENTS, map(cells, (payer, dos, remit_date, kind)), strict=True))
    if not len(columns["dos"]):
        raise InputError("dos is missing", hint="give the date of service, a cell or a column")
    n = _rows(columns)
    rules, overrides = _deadline_settings(config)

    # payer names cleaned as the export reader cleans them (inner runs of spaces made one)
    payer_text = per_value(columns["payer"], lambda u: norm.clean_text(u).values)
    payer_text = _spread(payer_text.astype("string"), n)
    words = per_value(columns["kind"], _kind_words).astype("string")
    if len(words) <= 1:
        _check_one_kind(words)
    kind_words = _spread(words, n)
    kind_text = _spread(per_value(columns["kind"], norm.as_text).astype("string"), n)
    service, service_problem = _dates(columns["dos"], "dos", n)
    remit, remit_problem = _dates(columns["remit_date"], "remit_date", n)

    # Each row's own problem, the first that applies: a date that is not a date, no kind or
    # an unknown one, a remittance before the service. Rows without any date stay blank.
    dated = service.notna() | remit.notna()
    problem = service_problem.fillna(remit_problem)
    blank_kind = dated & problem.isna() & kind_words.isna()
    problem[blank_kind] = f"kind is blank ({_KIND_HINT})"
    unknown = dated & problem.isna() & ~kind_words.isin(DEADLINE_KINDS)
    problem[unknown] = (
        "kind " + kind_text[unknown].map(repr) + f" is not a deadline kind ({_KIND_HINT})"
    )
    early = problem.isna() & (remit < service)
    problem[early] = (
        "remit_date "
        + remit[early].dt.strftime("%Y-%m-%d")
        + " is before the date of service "
        + service[early].dt.strftime("%Y-%m-%d")
    )
    todo = (dated & problem.isna()).to_numpy(dtype=bool)

    out = pd.DataFrame(
        {
            "deadline": pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns]"),
            "deadline_kind": pd.Series(pd.NA, index=range(n), dtype="string"),
            "source_date_used": pd.Series(pd.NA, index=range(n), dtype="string"),
            "rule": pd.Series(pd.NA, index=range(n), dtype="string"),
            "problem": problem,
        }
    )
    if todo.any():
        found = deadlines_for(
            payer_text[todo],
            kind_words[todo],
            service[todo],
            remit[todo],
            deadlines=rules,
            overrides=overrides,
        )
        out.loc[todo, "deadline"] = found["deadline"].to_numpy(dtype="datetime64[ns]")
        for name in ("deadline_kind", "source_date_used", "rule"):
            out.loc[todo, name] = found[name].astype("string").to_numpy()
        # no date to count from: a rule that counts from the date of service, and no service date
        missing = todo & out["deadline"].isna().to_numpy(dtype=bool)
        out.loc[missing, "problem"] = (
            "dos is blank (the "
            + kind_words[missing]
            + " deadline counts from the date of service)"
        )
    return out


def deadline_answer(
    payer: Any,
    dos: Any,
    remit_date: Any = None,
    kind: Any = None,
    config: Any = None,
    *,
    prefix: str = "",
) -> pd.Series:
    """What AUDIT_DEADLINE shows per row (object values): the deadline as a ``datetime``, the
    row's problem as text after ``prefix``, or None for a blank row. ``config`` may also be a
    cell holding the config file's path (blank: none). See :func:`deadline_table`."""
    if not isinstance(config, Path | Mapping | Config):
        config = first_text(config)
    found = deadline_table(payer, dos, remit_date, kind, config)
    dates = found["deadline"]
    shown = np.full(len(found), None, dtype=object)
    has_date = dates.notna().to_numpy(dtype=bool)
    # one Python datetime per distinct deadline (a column holds a few hundred at most)
    codes, uniques = pd.factorize(dates[has_date])
    shown[has_date] = pd.DatetimeIndex(uniques).to_pydatetime()[codes]
    has_problem = found["problem"].notna().to_numpy(dtype=bool)
    shown[has_problem] = (prefix + found["problem"][has_problem]).to_numpy(dtype=object)
    return pd.Series(shown, dtype=object)


# --------------------------------------------------------------------------------------------


def _rows(columns: dict[str, pd.Series]) -> int:
    """The number of rows: the length of the ranges of several cells, which must agree."""
    longer = [(name, len(c)) for name, c in columns.items() if len(c) > 1]
    if not longer:
        return 1
    first, n = longer[0]
    for name, size in longer[1:]:
        if size != n:
            raise InputError(
                f"{first} has {n:,} cells but {name} has {size:,}",
                hint="select ranges with the same number of rows, or one cell for all rows",
            )
    return n


def _spread(values: pd.Series, n: int) -> pd.Series:
    """One value per row: a range of ``n`` cells as it is, one cell (or none) repeated."""
    if len(values) == n:
        return values.reset_index(drop=True)
    fill = values.iloc[0] if len(values) else pd.NA
    return pd.Series([fill] * n, dtype=values.dtype)


def _kind_words(uniques: pd.Series) -> pd.Series:
    """A kind as written (``Timely filing``, ``timely-filing``) as its word (``timely_filing``)."""
    text = norm.as_text(uniques)
    return text.str.lower().str.replace(r"[\s\-]+", "_", regex=True)


def _check_one_kind(words: pd.Series) -> None:
    """A single kind cell applies to every row: a blank or unknown one is one message."""
    if not len(words) or pd.isna(words.iloc[0]):
        raise InputError("kind is blank", hint=_KIND_HINT)
    if words.iloc[0] not in DEADLINE_KINDS:
        raise InputError(f"kind {words.iloc[0]!r} is not a deadline kind", hint=_KIND_HINT)


def _dates(values: pd.Series, name: str, n: int) -> tuple[pd.Series, pd.Series]:
    """A column of dates read as the export reader reads them (Excel serials, date cells, date
    text; :func:`auditkit.ingest.normalise.parse_dates`, which works once per distinct cell),
    one per row, and per row the problem of a cell that is not a date."""
    cells = pd.Series(values.to_numpy(dtype=object), dtype=object)
    parsed = norm.parse_dates(cells)
    bad = parsed.bad.to_numpy(dtype=bool)
    problem = pd.Series(pd.NA, index=cells.index, dtype="string")
    if bad.any():
        problem[bad] = f"{name}: not a date: " + norm.as_text(cells[bad]).map(repr)
    dates = pd.Series(parsed.values.to_numpy(dtype="datetime64[ns]"))
    return _spread(dates, n), _spread(problem, n)


def _deadline_settings(
    config: str | Path | Mapping[str, Any] | Config | None,
) -> tuple[pd.DataFrame | None, dict[str, dict[str, Any]]]:
    """The deadlines table and per-payer overrides a config gives (packaged table, none)."""
    if config is None:
        return None, {}
    settings = load_settings(config)
    path = settings.reference.get("deadlines")
    return (deadline_rules(path) if path is not None else None), dict(settings.deadlines)
