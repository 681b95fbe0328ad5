"""The **Work list** sheet: every claim line with money still to collect, ranked, with columns
for the people who work it; and the **Closed since last run** sheet.

The items are :func:`auditkit.measures.worklist.work_list`'s (``AuditResult.worklist``). Above
the ranked table: the as-of date and how it was chosen, how the list is ranked, where the
deadlines come from, and the open dollars by next action. The table is a real Excel table
(filters), Days left coloured by conditional formats (passed, within 14 and within 30 days),
then four columns for people: **Owner**, **Work status** (a dropdown of
:data:`WORK_STATUSES`), **Follow-up date** and **Notes**.

What people typed survives a re-run into the same workbook (``--into``): the writer reads the
old sheets back (:mod:`auditkit.excel.worklist_notes`) and :func:`worklist_sheets` puts each
typed row on the item with the same claim id, line and payer (:func:`item_keys`), whatever
order the rows were sorted into; the same key twice is paired in order. Columns a user added to
the table come along after Notes. A typed item that is no longer open moves, with its typing,
to **Closed since last run** (with the as-of date of the last run that listed it and of the
first that did not); closed rows stay there on every later run, so nothing typed disappears
unless the user deletes the row, and an item that opens again goes back to the Work list with
its typing. Rows with nothing typed are not carried: the list is made anew each run.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from auditkit.report.cells import make_table
from auditkit.report.model import Block, CellRule, Column, Fact, Facts, Sheet, Text, Title
from auditkit.report.safety import MAX_ROWS
from auditkit.report.spill import spill

__all__ = [
    "AS_OF_LABEL",
    "CLOSED_COLUMNS",
    "CLOSED_SHEET",
    "ENTRY_KEYS",
    "EXTRA_PREFIX",
    "HEADER_KEYS",
    "OPEN_COLUMNS",
    "PREVIOUS_KEYS",
    "WORKLIST_SHEET",
    "WORK_STATUSES",
    "item_keys",
    "worklist_sheets",
]

WORKLIST_SHEET = "Work list"
CLOSED_SHEET = "Closed since last run"
#: The choices of the Work status dropdown.
WORK_STATUSES: tuple[str, ...] = (
    "New",
    "In progress",
    "Appealed",
    "Resubmitted",
    "Paid",
    "Written off",
)
#: Label of the fact holding the list's as-of date (read back as "last seen open").
AS_OF_LABEL = "As of"
#: Key prefix of a column a user added to the table (its header follows the prefix).
EXTRA_PREFIX = "extra:"

#: Next action (the work list's ids) -> words.
ACTION_WORDS: dict[str, str] = {
    "correct_and_resubmit": "correct and resubmit",
    "appeal": "appeal",
    "submit": "submit",
    "follow_up": "follow up",
    "write_off_review": "write-off review",
}
#: Kind of item -> words.
ITEM_WORDS: dict[str, str] = {
    "denied": "denied",
    "rejected": "rejected",
    "underpaid": "underpaid",
    "partially_paid": "partially paid",
    "pending": "pending",
    "not_submitted": "not submitted",
}

#: Days left: passed (red), within 14 days (amber), within 30 (yellow).
DAYS_LEFT_RULES: tuple[CellRule, ...] = (
    CellRule("red", high=-1),
    CellRule("amber", low=0, high=14),
    CellRule("yellow", low=15, high=30),
)

#: The columns people fill in.
ENTRY_COLUMNS: tuple[Column, ...] = (
    Column("owner", "Owner", width=14, entry=True),
    Column("work_status", "Work status", width=15, choices=WORK_STATUSES, entry=True),
    Column("follow_up", "Follow-up date", "date", width=16, entry=True),
    Column("notes", "Notes", width=40, entry=True),
)
ENTRY_KEYS: tuple[str, ...] = tuple(c.key for c in ENTRY_COLUMNS)

#: Identify an item: claim, line, payer (first, so the eye finds them after the action).
_ITEM: tuple[Column, ...] = (
    Column("claim_id", "Claim"),
    Column("line", "Line", "ordinal", 7),
    Column("payer", "Payer"),
    Column("provider", "Physician"),
    Column("cpt", "Code", "text", 9),
    Column("date_of_service", "Date of service", "date", 16),
    Column("item", "Item", "text", 15),
    Column("amount", "Amount", "currency"),
)
#: The open table: rank and what to do, the item, the deadline, the people's columns, and the
#: longer explanations last.
OPEN_COLUMNS: tuple[Column, ...] = (
    Column("rank", "Rank", "ordinal", 8),
    Column("action", "Action", "text", 22),
    *_ITEM,
    Column("deadline", "Deadline", "date", 12),
    Column("days_left", "Days left", "integer", 11, rules=DAYS_LEFT_RULES),
    *ENTRY_COLUMNS,
    Column("reason", "Reason", "text", 50),
    Column("cause", "Root cause", "text", 18),
    Column("amount_basis", "Amount basis", "text", 30),
    Column("deadline_kind", "Deadline kind", "text", 16),
    Column("deadline_source_date_used", "Date counted from", "text", 36),
    Column("deadline_rule", "Rule", "text", 60),
)
#: Rows kept from an earlier list: the item as it was last seen, when, and the typing.
_SEEN: tuple[Column, ...] = (
    Column("action", "Action", "text", 22),
    *_ITEM,
    Column("deadline", "Deadline", "date", 12),
    Column("last_seen_open", "Last seen open", "date", 16),
)
CLOSED_COLUMNS: tuple[Column, ...] = (
    *_SEEN,
    Column("closed_as_of", "Closed as of", "date", 14),
    *ENTRY_COLUMNS,
)
KEPT_COLUMNS: tuple[Column, ...] = (*_SEEN, *ENTRY_COLUMNS)

#: Header text (casefolded) -> column key, for reading a written sheet back.
HEADER_KEYS: dict[str, str] = {c.header.casefold(): c.key for c in (*OPEN_COLUMNS, *CLOSED_COLUMNS)}
#: The keys a reader returns for each typed row (besides added columns).
PREVIOUS_KEYS: tuple[str, ...] = (*(c.key for c in CLOSED_COLUMNS), "section", "occurrence")

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def worklist_sheets(
    worklist: pd.DataFrame | None,
    summary: dict[str, Any] | None = None,
    previous: pd.DataFrame | None = None,
    max_rows: int = MAX_ROWS,
) -> list[Sheet]:
    """The Work list sheet (continued on more sheets past ``max_rows`` rows) and, when typed
    items are no longer open, the Closed since last run sheet.

    ``worklist``: :func:`~auditkit.measures.worklist.work_list`'s frame, or None when the run
    made none (then no sheet, unless ``previous`` holds typing to keep). ``summary``: the run's
    summary (``as_of``, ``as_of_source``). ``previous``: what people typed on the workbook's
    earlier sheets (:func:`auditkit.excel.worklist_notes.read_worklist_notes`), or None.
    """
    summary = summary or {}
    as_of = _as_of(summary)
    previous = _previous(previous)
    if worklist is None:
        if previous is None or not len(previous):
            return []
        kept = previous[previous["section"] != "closed"]
        closed = previous[previous["section"] == "closed"]
        sheets = _kept_sheets(kept, as_of, max_rows) if len(kept) else []
        return sheets + _closed_sheets(closed, as_of, max_rows)
    items = _display(worklist)
    closed, extras = None, []
    if previous is not None and len(previous):
        items, closed, extras = _carry_over(items, previous, as_of)
    sheets = _open_sheets(items, summary, as_of, closed, extras, max_rows)
    if closed is not None and len(closed):
        sheets += _closed_sheets(closed, as_of, max_rows)
    return sheets


# -- matching ----------------------------------------------------------------------------------


def item_keys(claim: pd.Series, line: pd.Series, payer: pd.Series) -> pd.DataFrame:
    """The match key of each row: claim id and line as text with surrounding spaces removed (a
    number read back from a cell as ``2.0`` is ``2``), payer also case-folded; ``k_n`` numbers
    the repeats of a key in order, so the same key twice is paired in order. Whole columns."""
    keys = pd.DataFrame(
        {
            "k_claim": _key_text(claim),
            "k_line": _key_text(line),
            "k_payer": _key_text(payer).str.casefold(),
        },
        index=claim.index,
    )
    keys["k_n"] = keys.groupby(["k_claim", "k_line", "k_payer"], sort=False).cumcount()
    return keys


def _key_text(values: pd.Series) -> pd.Series:
    text = values.astype("string").str.strip().str.replace(r"\.0+$", "", regex=True)
    return text.fillna("").astype(object)


_KEY_COLUMNS = ["k_claim", "k_line", "k_payer", "k_n"]


def _carry_over(
    items: pd.DataFrame, previous: pd.DataFrame, as_of: pd.Timestamp | None
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """The open items with the typing of their previous rows, the previous typed rows no
    longer open (closed), and the added columns' keys."""
    # Rows of the open section first, so an item pairs with its open row before a closed one.
    order = np.argsort((previous["section"] == "closed").to_numpy(), kind="stable")
    previous = previous.iloc[order].reset_index(drop=True)
    extras = _extras(previous)
    carried = [*ENTRY_KEYS, *extras]
    keys = item_keys(previous["claim_id"], previous["line"], previous["payer"])
    if previous["occurrence"].notna().all():
        # The reader numbered each key over every row of the sheets, typed or not: the second
        # of two rows of a key pairs with the second item even when only it was typed on.
        keys["k_n"] = previous["occurrence"].astype("int64").to_numpy()
    theirs = pd.concat([keys, previous[carried]], axis=1)
    theirs["_prev"] = np.arange(len(previous))
    mine = item_keys(items["claim_id"], items["line"], items["payer"])
    matched = mine.merge(theirs, on=_KEY_COLUMNS, how="left", sort=False, validate="one_to_one")
    items = items.drop(columns=list(ENTRY_KEYS))
    for key in carried:
        items[key] = matched[key].to_numpy()
    taken = matched["_prev"].dropna().astype("int64").to_numpy()
    left = np.ones(len(previous), dtype=bool)
    left[taken] = False
    return items, _closed_rows(previous[left], as_of), extras


def _closed_rows(rows: pd.DataFrame, as_of: pd.Timestamp | None = None) -> pd.DataFrame:
    """Previous typed rows no longer open: newly closed ones dated ``as_of``, newest first."""
    rows = rows.reset_index(drop=True).copy()
    closed = _dates(rows["closed_as_of"]) if "closed_as_of" in rows.columns else None
    if closed is None:
        closed = pd.Series(pd.NaT, index=rows.index, dtype="datetime64[ns]")
    rows["closed_as_of"] = closed.fillna(as_of) if as_of is not None else closed
    rows["section"] = "closed"
    order = np.argsort(-_day_numbers(rows["closed_as_of"]), kind="stable")
    return rows.iloc[order].reset_index(drop=True)


def _fix_typing(rows: pd.DataFrame) -> pd.DataFrame:
    """Typed values as their columns hold them (once, on the few rows read back): text stays
    text; a follow-up date typed as text that is not a date moves into Notes, saying so,
    rather than being lost; an added column keeps numbers or dates when it holds only those."""
    follow = rows["follow_up"]
    dates, text = _dates(follow), _texts(follow)
    notes = _texts(rows["notes"])
    stray = text.notna() & dates.isna()
    if stray.any():
        moved = "Follow-up date typed: " + text[stray]
        notes = notes.copy()
        notes[stray] = (notes[stray] + "; " + moved).fillna(moved)
    rows["notes"] = notes
    rows["follow_up"] = dates
    for key in ("owner", "work_status"):
        rows[key] = _texts(rows[key])
    for key in _extras(rows):
        rows[key] = _typed_column(rows[key])
    return rows


def _dates(values: pd.Series) -> pd.Series:
    """Dates (typed as dates, or ISO text) as datetime64; anything else NaT."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.astype("datetime64[ns]")
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    objects = values.astype(object)
    is_date = objects.map(lambda v: isinstance(v, date | pd.Timestamp)).astype(bool)
    if is_date.any():
        out[is_date] = pd.to_datetime(objects[is_date].astype(object), errors="coerce")
    text = _texts(values)
    iso = text.str.strip().str.match(_ISO_DATE).fillna(False).astype(bool) & ~is_date
    if iso.any():
        out[iso] = pd.to_datetime(text[iso].str.strip(), format="%Y-%m-%d", errors="coerce")
    return out.dt.normalize()


def _texts(values: pd.Series) -> pd.Series:
    """Typed values as text (None where blank): numbers without a spurious ``.0``, dates as
    ISO dates; the values come from a sheet people typed into, a few rows each run."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.dt.strftime("%Y-%m-%d").astype("string")
    return values.map(_text, na_action="ignore").astype("string").replace("", pd.NA)


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | pd.Timestamp):
        stamp = pd.Timestamp(value)
        return stamp.date().isoformat() if stamp == stamp.normalize() else stamp.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _typed_column(values: pd.Series) -> pd.Series:
    """A column a user added: numbers stay numbers and dates dates when the whole column is
    one of them; otherwise text."""
    present = values.dropna()
    present = present[present.map(lambda v: not (isinstance(v, str) and not v.strip()))]
    if len(present) and present.map(_is_number).all():
        return pd.to_numeric(values.where(values.map(_is_number)), errors="coerce")
    if len(present) and present.map(lambda v: isinstance(v, date | pd.Timestamp)).all():
        return _dates(values)
    return _texts(values)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | np.number) and not isinstance(value, bool)


def _day_numbers(values: pd.Series) -> np.ndarray:
    stamps = pd.to_datetime(values).to_numpy(dtype="datetime64[ns]")
    days = stamps.astype("datetime64[D]").astype("float64")
    return np.where(np.isnat(stamps), -np.inf, days)


# -- the sheets --------------------------------------------------------------------------------


def _display(worklist: pd.DataFrame) -> pd.DataFrame:
    """The work list's columns as the sheet shows them (actions and items in words), with
    empty columns for people."""
    items = worklist.reset_index(drop=True).copy()
    items["action_id"] = items["action"].astype("string")
    items["action"] = items["action_id"].map(ACTION_WORDS).fillna(items["action_id"])
    item = items["item"].astype("string")
    items["item"] = item.map(ITEM_WORDS).fillna(item)
    for key in ("owner", "work_status", "notes"):
        items[key] = pd.Series(pd.NA, index=items.index, dtype="string")
    items["follow_up"] = pd.Series(pd.NaT, index=items.index, dtype="datetime64[ns]")
    return items


def _open_sheets(
    items: pd.DataFrame,
    summary: dict[str, Any],
    as_of: pd.Timestamp | None,
    closed: pd.DataFrame | None,
    extras: list[str],
    max_rows: int,
) -> list[Sheet]:
    """The Work list: one short block of facts (one line each, so the frozen header stays near
    the top), then the ranked table."""
    facts = _facts(items, summary, as_of, len(closed) if closed is not None else 0)
    blocks: list[Block] = [Title("Work list"), Facts(facts)]
    if not len(items):
        return [Sheet(WORKLIST_SHEET, "worklist", blocks)]
    columns = _typed_kinds(_with_extras(OPEN_COLUMNS, extras), items)
    table = make_table("worklist", columns, items)
    sheets, _where = spill(WORKLIST_SHEET, "worklist", blocks, table, max_rows)
    return sheets


def _with_extras(columns: tuple[Column, ...], extras: list[str]) -> list[Column]:
    """``columns`` with the user's added columns after Notes."""
    out: list[Column] = []
    for column in columns:
        out.append(column)
        if column.key == "notes":
            out.extend(_extra_column(key) for key in extras)
    return out


def _extra_column(key: str) -> Column:
    return Column(key, key[len(EXTRA_PREFIX) :] or "Column", "text", entry=True)


def _typed_kinds(columns: list[Column], rows: pd.DataFrame) -> list[Column]:
    """Added columns with the kind their values have (numbers, dates or text)."""
    out = []
    for column in columns:
        if column.key.startswith(EXTRA_PREFIX) and column.key in rows.columns:
            values = rows[column.key]
            if pd.api.types.is_datetime64_any_dtype(values):
                column = Column(column.key, column.header, "date", entry=True)
            elif pd.api.types.is_numeric_dtype(values):
                whole = bool((values.dropna() % 1 == 0).all())
                kind = "integer" if whole else "number"
                column = Column(column.key, column.header, kind, entry=True)
        out.append(column)
    return out


def _closed_sheets(closed: pd.DataFrame, as_of: pd.Timestamp | None, max_rows: int) -> list[Sheet]:
    if not len(closed):
        return []
    extras = [c for c in closed.columns if str(c).startswith(EXTRA_PREFIX)]
    columns = _typed_kinds(_with_extras(CLOSED_COLUMNS, extras), closed)
    blocks: list[Block] = [
        Title(CLOSED_SHEET),
        Text(
            "Items someone typed on (Owner, Work status, Follow-up date, Notes or a column "
            f"added to the table) that are no longer on the work list as of {_day_text(as_of)}:"
            " paid or resolved, taken over by a corrected claim, or no longer in the export. "
            "'Last seen open' is the as-of date of the last run that listed the item, "
            "'Closed as of' that of the first run that did not. The rows stay here, with what "
            "was typed, on every re-run until you delete them; an item that opens again goes "
            "back to the Work list with its typing.",
            tone="note",
        ),
    ]
    table = make_table("worklist-closed", columns, _for_table(closed))
    sheets, _where = spill(CLOSED_SHEET, "worklist", blocks, table, max_rows)
    return sheets


def _kept_sheets(kept: pd.DataFrame, as_of: pd.Timestamp | None, max_rows: int) -> list[Sheet]:
    """The Work list of a run that made no work list: what was typed on the last one."""
    columns = _typed_kinds(_with_extras(KEPT_COLUMNS, _extras(kept)), kept)
    blocks: list[Block] = [
        Title("Work list"),
        Text(
            "This run made no work list (the export has no claim status, or no dates). What "
            "was typed on the last work list is kept below, as it was, until a run makes the "
            "list again and puts it back on the items still open.",
            tone="warning",
        ),
        Facts(
            [
                Fact(
                    AS_OF_LABEL,
                    as_of.to_pydatetime() if as_of is not None else "unknown",
                    "date" if as_of is not None else "text",
                )
            ]
        ),  # fmt: skip
    ]
    table = make_table("worklist-kept", columns, _for_table(kept))
    sheets, _where = spill(WORKLIST_SHEET, "worklist", blocks, table, max_rows)
    return sheets


def _extras(rows: pd.DataFrame) -> list[str]:
    return [c for c in rows.columns if str(c).startswith(EXTRA_PREFIX)]


def _for_table(rows: pd.DataFrame) -> pd.DataFrame:
    """Previous rows with their dates and amounts typed (as read, they may be text)."""
    rows = rows.reset_index(drop=True).copy()
    for key in ("date_of_service", "deadline", "last_seen_open", "closed_as_of"):
        if key in rows.columns:
            dates = _dates(rows[key])
            # A value that is not a date (a user's edit) is kept as text rather than lost.
            rows[key] = (
                dates if not (dates.isna() & _texts(rows[key]).notna()).any() else _texts(rows[key])
            )
    return rows


def _facts(
    items: pd.DataFrame, summary: dict[str, Any], as_of: pd.Timestamp | None, closed: int
) -> list[Fact]:
    """As of (and how it was chosen), the open items and dollars by next action, the
    write-off reviews and money lost, then how the list is made and what the columns for
    people do."""
    source = summary.get("as_of_source")
    chosen = {
        "configured": "set in the configuration or with --as-of",
        "latest date in the data": "the latest date in the data",
    }.get(str(source), str(source) if source else "")
    when = _day_text(as_of) + (f" ({chosen})" if chosen else "")
    facts = [Fact(AS_OF_LABEL, when)]
    if not len(items):
        facts.append(Fact("Open", f"nothing is open as of {_day_text(as_of)}: no claim line has "
                                  "money left to collect"))  # fmt: skip
    else:
        amount = pd.to_numeric(items["amount"], errors="coerce").fillna(0.0)
        groups = amount.groupby(items["action_id"].to_numpy(), sort=False).agg(["size", "sum"])
        in_time = groups.drop(index="write_off_review", errors="ignore")
        parts = [
            f"{words} {_items(int(in_time.loc[a, 'size']))} ({_money(in_time.loc[a, 'sum'])})"
            for a, words in ACTION_WORDS.items()
            if a in in_time.index
        ]
        total = f"{_items(int(in_time['size'].sum()))}, {_money(in_time['sum'].sum())}"
        facts.append(Fact("Open, in time", total + (": " + ", ".join(parts) if parts else "")))
        if "write_off_review" in groups.index:
            lost = groups.loc["write_off_review"]
            facts.append(
                Fact(
                    "Write-off review",
                    f"{_items(int(lost['size']))}, {_money(lost['sum'])} lost: the deadline "
                    "has passed",
                )
            )
    if closed:
        facts.append(
            Fact(
                "Closed",
                f"{_items(closed)} with typing on an earlier list no longer open: see sheet "
                f"'{CLOSED_SHEET}'",
            )
        )
    facts += [
        Fact(
            "Ranked by",
            "priority = amount / sqrt(max(days left, 1)), highest first, among the items still "
            "in time (no deadline counts as 365 days); then the write-off reviews, largest first",
        ),
        Fact(
            "Deadlines",
            "deadlines.csv by payer class (packaged, or [reference] deadlines), with per-payer "
            'overrides from [deadlines."Payer"]; column Rule names each rule and its source',
        ),
        Fact(
            "Amounts",
            "each item's amount per its Amount basis (expected payment, shortfall, open "
            "balance, else the charge); one item per claim line, so no dollar counts twice",
        ),
        Fact(
            "Your columns",
            "Owner, Work status, Follow-up date, Notes (green): a re-run with --into this "
            "workbook keeps them on the same claim, line and payer, however the rows are "
            f"sorted; closed items move to '{CLOSED_SHEET}'",
        ),
    ]
    return facts


def _money(value: float) -> str:
    return f"${float(value):,.2f}"


def _items(n: int) -> str:
    return f"{n:,} item{'s' if n != 1 else ''}"


def _as_of(summary: dict[str, Any]) -> pd.Timestamp | None:
    value = summary.get("as_of")
    if value is None:
        return None
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        return None
    return None if pd.isna(stamp) else stamp.normalize()


def _day_text(when: pd.Timestamp | None) -> str:
    return when.date().isoformat() if when is not None else "an unknown date"


def _previous(previous: pd.DataFrame | None) -> pd.DataFrame | None:
    """The typed rows read back, with every column this module uses (missing ones empty)."""
    if previous is None:
        return None
    previous = previous.reset_index(drop=True).copy()
    for key in PREVIOUS_KEYS:
        if key not in previous.columns:
            previous[key] = None
    previous["section"] = previous["section"].where(previous["section"] == "closed", "open")
    return _fix_typing(previous)
