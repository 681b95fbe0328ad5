"""Read back what people typed on the Work list of a workbook auditkit wrote before.

A re-run into the same workbook (``--into``, or the macro's *Run audit*) replaces auditkit's
sheets; before it does, the writers call this module so the Owner, Work status, Follow-up date
and Notes typed on the old Work list (and on **Closed since last run**, and in columns a user
added to those tables) can be put back on the same items
(:func:`auditkit.report.worklist_sheet.worklist_sheets`).

Columns are found by their header text, not their position, and rows by their claim id, line
and payer, not their place: a user may sort, filter, move columns or add some. Only rows with
something typed are returned. The file is read with calamine a row at a time, converted a chunk
of rows at a time; the sheet can hold hundreds of thousands of items.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from auditkit.errors import OutputError
from auditkit.excel.package import own_sheet_parts, sheet_parts
from auditkit.report.worklist_sheet import (
    AS_OF_LABEL,
    CLOSED_COLUMNS,
    CLOSED_SHEET,
    ENTRY_KEYS,
    EXTRA_PREFIX,
    HEADER_KEYS,
    OPEN_COLUMNS,
    PREVIOUS_KEYS,
    WORKLIST_SHEET,
    item_keys,
)

__all__ = ["is_worklist_sheet", "open_first", "read_worklist_notes", "worklist_notes"]

#: Rows converted to a frame at a time.
CHUNK_ROWS = 50_000
#: Columns a table must have to be read as a work list.
_KEY_COLUMNS = ("claim_id", "line", "payer")
_SHEET_NAME = re.compile(
    "^(" + re.escape(WORKLIST_SHEET) + "|" + re.escape(CLOSED_SHEET) + r")( \(\d+\))*$",
    re.IGNORECASE,
)
#: Known headers in one row that make it the table's header row.
_HEADER_MIN = 4
#: Column key -> its header, as written.
_HEADERS = {c.header: c.key for c in (*OPEN_COLUMNS, *CLOSED_COLUMNS)}
_LEADING_DATE = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})")


def is_worklist_sheet(title: str) -> bool:
    """True for the names auditkit gives the Work list and Closed since last run sheets (and
    their continuation or renamed-for-a-clash variants, ``Work list (2)``)."""
    return _SHEET_NAME.match(title.strip()) is not None


def open_first(titles: Iterable[str]) -> list[str]:
    """Work list sheets before Closed since last run sheets (the order
    :func:`worklist_notes` needs), each group in workbook order."""
    closed = CLOSED_SHEET.casefold()
    return sorted(titles, key=lambda t: t.strip().casefold().startswith(closed))


def read_worklist_notes(path: str | Path) -> pd.DataFrame | None:
    """What was typed on the work list sheets of the workbook at ``path``, or None when it has
    none of auditkit's (see :func:`worklist_notes` for the columns).

    Raises :class:`~auditkit.errors.OutputError` when such a sheet exists but cannot be read:
    writing over it would lose what was typed.
    """
    path = Path(path)
    with zipfile.ZipFile(path) as archive:
        own = own_sheet_parts(archive)
        titles = open_first(
            title
            for title, part in sheet_parts(archive).items()
            if part in own and is_worklist_sheet(title)
        )
    if not titles:
        return None
    import python_calamine as calamine  # the reader is only loaded when there is a work list

    try:
        book = calamine.CalamineWorkbook.from_path(str(path))
        try:
            return worklist_notes(
                (title, book.get_sheet_by_name(title).iter_rows()) for title in titles
            )
        finally:
            book.close()
    except OutputError as exc:
        if exc.path is None:
            raise OutputError(exc.message, path=path, hint=exc.hint) from exc
        raise
    except Exception as exc:  # calamine raises several kinds for a damaged sheet
        raise OutputError(
            f"sheet '{titles[0]}' cannot be read, so what was typed on it could not be kept; "
            "nothing was written",
            path=path,
            hint=f"{type(exc).__name__}: {exc}"[:200],
        ) from exc


def worklist_notes(sheets: Iterable[tuple[str, Iterable[Sequence[Any]]]]) -> pd.DataFrame | None:
    """The typed rows of work list sheets, each given as (title, its rows from A1 down), the
    Work list sheets first (:func:`open_first`).

    Returns one row per table row with something typed in Owner, Work status, Follow-up date,
    Notes or an added column, in sheet order, with columns
    :data:`~auditkit.report.worklist_sheet.PREVIOUS_KEYS` (values as the cells hold them; the
    claim id, line and payer as text), ``section`` ("open" or "closed": from Closed since last
    run), ``last_seen_open`` (the row's own, else the sheet's As of date), ``occurrence`` (how
    many rows of the sheets before it, typed or not, have its claim, line and payer: the same
    key twice pairs in order) and one column per added column, keyed ``extra:<header>``. None
    when no sheet has a work list table.
    """
    seen = pd.Series(dtype="int64")  # rows read so far per key, over all the sheets
    as_of = None  # a continuation sheet (Work list (2)) has the first sheet's date
    parts = []
    for title, rows in sheets:
        part, seen, as_of = _sheet_notes(title, iter(rows), seen, as_of)
        if part is not None:
            parts.append(part)
    if not parts:
        return None
    return pd.concat(parts, ignore_index=True)


def _sheet_notes(
    title: str, rows: Iterator[Sequence[Any]], seen: pd.Series, as_of: Any
) -> tuple[pd.DataFrame | None, pd.Series, Any]:
    for row in rows:
        texts = [_header(v) for v in row]
        if texts and texts[0] == AS_OF_LABEL.casefold() and len(row) > 1:
            as_of = _as_of(row[1])
        keys = [HEADER_KEYS.get(t) for t in texts]
        if all(k in keys for k in _KEY_COLUMNS):
            columns = _columns(row, keys)
            break
        if sum(k is not None for k in keys) >= _HEADER_MIN:
            # The table's header row, without one of the columns that say which item a row is.
            missing = [k for k in _KEY_COLUMNS if k not in keys][0]
            shown = next(h for h, k in _HEADERS.items() if k == missing)
            raise OutputError(
                f"sheet '{title}' has a work list table without its '{shown}' column, so what "
                "was typed on it cannot be put back on its claims; nothing was written",
                hint=f"name the column '{shown}' again (auditkit matches rows by Claim, Line and "
                "Payer)",
            )
    else:
        return None, seen, as_of
    wanted = list(columns)
    names = list(columns.values())
    typed = [n for n in names if n in ENTRY_KEYS or n.startswith(EXTRA_PREFIX)]
    found = []
    chunk: list[list[Any]] = []
    for row in rows:
        width = len(row)
        chunk.append([row[i] if i < width else None for i in wanted])
        if len(chunk) >= CHUNK_ROWS:
            part, seen = _typed(chunk, names, typed, seen)
            found.append(part)
            chunk = []
    if chunk:
        part, seen = _typed(chunk, names, typed, seen)
        found.append(part)
    frame = (
        pd.concat(found, ignore_index=True)
        if found
        else pd.DataFrame(columns=[*names, "occurrence"])
    )
    for key in PREVIOUS_KEYS:
        if key not in frame.columns:
            frame[key] = None
    frame["section"] = "closed" if "closed_as_of" in names else "open"
    if "last_seen_open" not in names:
        frame["last_seen_open"] = as_of
    for key in _KEY_COLUMNS:
        frame[key] = frame[key].map(_key_text).astype(object)
    return frame, seen, as_of


def _columns(header: Sequence[Any], keys: list[str | None]) -> dict[int, str]:
    """Column index -> key: auditkit's columns by header, any other headed column as added."""
    columns: dict[int, str] = {}
    seen: set[str] = set()
    for i, (value, key) in enumerate(zip(header, keys, strict=True)):
        if key is None:
            text = str(value).strip() if value is not None else ""
            if not text:
                continue
            key = EXTRA_PREFIX + text
        if key in seen:  # the same header twice: keep the first (Excel refuses it in a table)
            continue
        seen.add(key)
        if key in PREVIOUS_KEYS or key.startswith(EXTRA_PREFIX):
            columns[i] = key
    return columns


def _typed(
    chunk: list[list[Any]], names: list[str], typed: list[str], seen: pd.Series
) -> tuple[pd.DataFrame, pd.Series]:
    """The rows of a chunk where something was typed (blank text counts as nothing), each with
    its key's occurrence; and ``seen`` counting this chunk's keys too."""
    frame = pd.DataFrame(chunk, columns=names, dtype=object)
    keys = item_keys(frame["claim_id"], frame["line"], frame["payer"])
    joined = keys["k_claim"] + "\x1f" + keys["k_line"] + "\x1f" + keys["k_payer"]
    before = joined.map(seen).fillna(0).astype("int64")
    frame["occurrence"] = keys["k_n"].to_numpy() + before.to_numpy()
    seen = seen.add(joined.value_counts(), fill_value=0).astype("int64")
    keep = pd.Series(False, index=frame.index)
    for name in typed:
        values = frame[name]
        text = values.astype("string").str.strip()
        keep |= values.notna() & text.ne("").fillna(True)
    kept = frame[keep.to_numpy()]
    return kept.where(kept.ne(""), None), seen  # an empty cell reads as ''; it is nothing


def _header(value: Any) -> str:
    return str(value).strip().casefold() if value is not None else ""


def _as_of(value: Any) -> Any:
    """The As of fact's date: a date cell, or text that starts with an ISO date."""
    if isinstance(value, str):
        found = _LEADING_DATE.match(value)
        return pd.Timestamp(found.group(1)) if found else None
    return value if value not in ("", None) else None


def _key_text(value: Any) -> str | None:
    """A key cell as text: a number read back as ``12.0`` is ``12``."""
    if value is None or value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
