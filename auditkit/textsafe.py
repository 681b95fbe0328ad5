"""Make text from an export safe to put in a spreadsheet cell.

Text that a spreadsheet would read as a formula (leading ``=``, ``+``, ``-``, ``@``, tab or
carriage return) must be stored as a string cell; characters XML forbids are dropped; text longer
than Excel's cell limit is cut with a visible marker.
"""

from __future__ import annotations

import re

#: Excel's limit on characters in one cell.
MAX_CELL_CHARS = 32_767
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
TRUNCATION_MARK = " …[truncated]"
#: Control characters XML 1.0 forbids, as a pattern any regex engine (also Arrow's) accepts.
CONTROL_CHARS = "[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f]"
#: Everything XML 1.0 forbids: those controls, U+FFFE/U+FFFF and lone surrogates (text decoded
#: with ``surrogateescape``); openpyxl cannot save any of them.
ILLEGAL_XML = re.compile(CONTROL_CHARS[:-1] + "\ud800-\udfff\ufffe\uffff]")


def looks_like_formula(text: str) -> bool:
    """True when a spreadsheet could treat ``text`` as a formula."""
    return text.startswith(FORMULA_STARTS)


def safe_text(text: str) -> str:
    """Drop XML-illegal characters and cut to the cell limit (with a visible marker).

    The caller still has to store the result as a *string* cell (openpyxl: ``data_type = "s"``),
    which is what keeps a leading ``=`` from becoming a formula.
    """
    cleaned = ILLEGAL_XML.sub("", text)
    if len(cleaned) > MAX_CELL_CHARS:
        cleaned = cleaned[: MAX_CELL_CHARS - len(TRUNCATION_MARK)] + TRUNCATION_MARK
    return cleaned
