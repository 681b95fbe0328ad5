"""Telling data rows from the rest: totals, report footers, repeated headers, section headings.

PM reports put things below and between the claim lines: ``Total``/``Grand Total`` rows, a
``Report generated ...`` line, a row holding only an amount, page headers repeated every page,
and one-cell headings such as ``Provider: Lee``. These are left out of the claim table and their
row numbers are listed in ``FileReport.footer_rows``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

#: A first cell that starts like this marks a totals/footer row. Written for RE2 as well as
#: Python (no \s, no lookarounds) so that pandas runs it inside pyarrow on big columns.
FOOTER_LABEL_PATTERN = (
    r"(?i)^[ \t]*(?:"
    r"(?:grand[ \t]*|sub[ \t-]*|report[ \t]*|page[ \t]*|column[ \t]*)?totals?(?:[^a-z0-9]|$)"
    r"|(?:report[ \t]+)?(?:generated|printed|run|created|prepared)[ \t]+(?:on|by|at|:|[0-9])"
    r"|report[ \t]+(?:date|run|time)(?:[^a-z0-9]|$)"
    r"|page[ \t]+[0-9]"
    r"|end[ \t]+of[ \t]+(?:report|file|data)"
    r"|(?:record|row|line|claim|charge|visit)s?[ \t]*(?:count|total)?[ \t]*:"
    r"|(?:count|sum)[ \t]*:"
    r"|[*]{3}|-{3}|={3}"
    r")"
)
FOOTER_LABEL = re.compile(FOOTER_LABEL_PATTERN)
_AMOUNT = re.compile(r"^\(?-?\$?\s*-?[\d,]*\.?\d+\)?-?$|^\$?\s*-$")


def _missing(value: object) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def row_kind(cells: Sequence[object], width: int) -> str | None:
    """``"blank"``, ``"footer"`` or ``None`` (looks like data) for one row's cells.

    ``width`` is the number of header columns; a lone cell in a wide table is a heading or note.
    """
    texts = [str(c).strip() for c in cells if not _missing(c)]
    texts = [t for t in texts if t]
    if not texts:
        return "blank"
    if FOOTER_LABEL.match(texts[0]):
        return "footer"
    if len(texts) <= max(1, width // 3) and all(_AMOUNT.match(t) for t in texts):
        return "footer"
    if len(texts) == 1 and width >= 3:
        return "footer"
    return None


def trailing_footer(rows: Sequence[Sequence[object]], width: int) -> tuple[int, list[int]]:
    """Split trailing non-data rows off a list of rows.

    Returns ``(n_data, footer_offsets)``: the rows before ``n_data`` are data (or interior
    non-data, handled later); ``footer_offsets`` are positions (into ``rows``) of footer rows in
    the trailing block. Trailing blank rows are cut without being listed.
    """
    end = len(rows)
    footers: list[int] = []
    while end > 0:
        kind = row_kind(rows[end - 1], width)
        if kind is None:
            break
        if kind == "footer":
            footers.append(end - 1)
        end -= 1
    return end, sorted(footers)


def _is_text(values: pd.Series) -> bool:
    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return isinstance(dtype.categories.dtype, pd.StringDtype)
    return isinstance(dtype, pd.StringDtype)


def _text_test(values: pd.Series, test: Callable[[pd.Series], pd.Series]) -> np.ndarray:
    """``test`` (a vectorised check on text, missing -> False) over a text column, as a numpy
    mask; on a categorical column it runs on the distinct values only."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        hits = test(pd.Series(values.cat.categories)).fillna(False).to_numpy(dtype=bool)
        codes = values.cat.codes.to_numpy()
        return np.append(hits, False)[codes]  # code -1 (missing) takes the appended False
    return test(values).fillna(False).to_numpy(dtype=bool)


def interior_non_data(
    data: pd.DataFrame, headers: Sequence[str], key_columns: Sequence[int]
) -> tuple[pd.Series, pd.Series]:
    """Masks ``(blank, footer)`` over ``data`` (columns are header positions).

    Vectorised pre-selection picks the few candidate rows - nearly empty rows, rows whose first
    text cells start with a footer word, and rows repeating the header in the ``key_columns`` -
    and only those are classified one by one with :func:`row_kind`.
    """
    width = len(headers)
    filled = np.zeros(len(data), dtype=np.int32)
    for col in data.columns:
        filled += data[col].notna().to_numpy()
    blank = filled == 0
    candidate = ~blank & (filled <= max(2, width // 3))
    text_cols = [c for c in data.columns if _is_text(data[c])]
    for col in text_cols[:3]:
        candidate |= _text_test(
            data[col], lambda s: s.str.match(FOOTER_LABEL.pattern, flags=FOOTER_LABEL.flags)
        )
    repeats = np.zeros(len(data), dtype=np.int32)
    for pos in key_columns:
        if pos in text_cols and headers[pos].strip():
            wanted = headers[pos].strip().lower()
            repeats += _text_test(data[pos], lambda s, w=wanted: s.str.lower() == w)
    footer = np.zeros(len(data), dtype=bool)
    if len(key_columns) > 0:
        footer |= repeats >= min(2, max(1, len(key_columns)))
    todo = np.flatnonzero(candidate & ~footer)
    if len(todo):
        # only candidate rows (totals, notes: a handful per file) are looked at cell by cell
        subset = data.iloc[todo].astype(object)
        kinds = [row_kind(list(row), width) for row in subset.itertuples(index=False)]
        footer[todo[[kind == "footer" for kind in kinds]]] = True
    return pd.Series(blank, index=data.index), pd.Series(footer, index=data.index)
