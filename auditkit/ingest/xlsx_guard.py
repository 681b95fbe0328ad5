"""Check a workbook's sheets before python-calamine reads them, so a crafted file cannot abort us.

Why: calamine builds a worksheet as one dense block from its first to its last cell (rows x
columns, 32 bytes a cell), and ``to_python`` pads it from A1. When that allocation fails, Rust
aborts the whole process (SIGABRT, exit 134): no exception, no message, and in a batch the worker
dies with every other client it held. One cell at XFD200000 asks for 100 GB; a row number of
99999999999 (calamine keeps positions in 32 bits, so it wraps) asks for 39 GB. A sheet's
``<dimension>`` tag does not help: calamine ignores it, and a crafted file lies in it.

What is checked, for every worksheet part of an ``.xlsx``/``.xlsm`` (a zip of XML parts), before
calamine opens the sheet:

* the position of every cell and every row: the ``r="..."`` attributes, or for a cell or row
  without one, the position calamine gives it (one past the previous). A row past 1,048,576 or
  a column past XFD (Excel's limits) is refused, naming the sheet and the cell;
* the sheet's true extent, rows x columns from A1, against
  :data:`auditkit.ingest.sniff.MAX_SHEET_CELLS` (the budget sniff applies to declared
  dimensions): over it, the sheet is refused naming its farthest cell;
* a ``<dimension>`` that lies is not refused for the lie alone (some export tools always write
  ``A1``): the true extent is what is checked, so the lie cannot hurt.

How it stays fast: each part is streamed (8 MiB at a time, never whole in memory) and checked with
regular expressions that have a literal prefix, so they run at C speed and match nothing in a
normal export. An export within 57 columns (BE) cannot break the budget on any row, so one pass
that looks for a cell past BE, on row 1,000,000 or later, or in an unusual shape is all it takes;
a wider sheet has its farthest row and column tracked chunk by chunk; only XML in an unusual
shape (cells without ``r``, single-quoted or prefixed tags) is walked tag by tag in Python.
Measured on this project's 2-core machine, 100,000 rows x 20 columns (a 53 MB sheet): 0.31 s,
where loading the export takes 1.62 s in all (guard included) and the whole ``auditkit audit``
4.1 s; the guard grows with the sheet's bytes, so about 3 s at 1,000,000 rows.

Decompression bombs are refused earlier, by :func:`auditkit.ingest.sniff.check_zip` (declared
sizes, ratios); of a part longer than its declared size, Python's zip reader reads no more than
declared and calamine's refuses it. ``.ods`` needs no check: calamine refuses over 100 million cells with an
ordinary error. Binary workbooks (legacy ``.xls`` and ``.xlsb``) hold positions in binary records
that Python cannot scan at speed, so :func:`probe_in_child` has calamine open each sheet in a
child process first (one more read of the file, about 0.1 s for a small .xls; an .xls holds at
most 65,536 rows): if that process dies, the file is refused with one line and this process never
meets the crash.
"""

from __future__ import annotations

import json
import posixpath
import re
import signal
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from auditkit.errors import InputError
from auditkit.ingest.sniff import MAX_SHEET_CELLS, OLE_MAGIC, ZIP_MAGIC

#: Excel's last row and last column (XFD).
MAX_ROWS = 1_048_576
MAX_COLUMNS = 16_384
#: Bytes of sheet XML checked at a time.
CHUNK_BYTES = 8 * 1024**2
#: A tag that starts this close to a chunk's end is checked with the next chunk.
_TAIL = 64
#: The longest tag the exact walk accepts (Excel's are well under 1 KB).
MAX_TAG_BYTES = 1024**2

FIX_HINT = "open it in Excel and save a new copy, or export the report again as CSV"
SHRINK_HINT = (
    "in Excel delete the unused rows and columns past the data (or copy the data to a new "
    "workbook) and save, or export the report as CSV"
)

# A cell or row tag whose first attribute is not r="...": a cell or row without a position,
# a position written r='..' or r = "..", or r after other attributes. Rare; walked exactly.
_ODD_CELL = re.compile(rb'<c(?:[/>\t\n\r]| (?!r="))')
_ODD_ROW = re.compile(rb'<row(?:[/>\t\n\r]| (?!r="))')
#: A namespace-prefixed cell or row tag (``<x:c ...>``): calamine reads it like ``<c>``.
_PREFIXED = re.compile(rb":(?:c|row)[\s/>]")
_ROW_R = re.compile(rb'<row r="([^"]*)"')
_CELL_R = re.compile(rb'<c r="([A-Za-z]*)([0-9]*)"')
#: Any tag that places a cell or row, with its attributes (quoted values may hold ``>``).
_TAG = re.compile(rb"""<(?:[\w.-]+:)?(c|row)(?=[\s/>])((?:[^>"']|"[^"]*"|'[^']*')*)>""")
_R_ATTR = re.compile(rb"""(?:^|\s)r\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_REF = re.compile(rb"([A-Za-z]+)([0-9]+)")


@dataclass
class _Extent:
    """The farthest row and column of a sheet seen so far (1-based), and the cells that reach
    them, as Excel names them."""

    rows: int = 0
    cols: int = 0
    row_cell: str = ""
    col_cell: str = ""

    def add(self, row: int, col: int, cell: str) -> None:
        # a cell that reaches the farthest row names it better than the row's own tag
        if row > self.rows or (row == self.rows and self.row_cell.startswith("row ")):
            self.rows, self.row_cell = row, cell
        if col > self.cols:
            self.cols, self.col_cell = col, cell


def column_number(letters: bytes | str) -> int:
    """``A`` -> 1, ``XFD`` -> 16384 (case-insensitive)."""
    text = letters.decode("ascii") if isinstance(letters, bytes) else letters
    number = 0
    for ch in text.upper():
        number = number * 26 + ord(ch) - 64
    return number


def column_letters(number: int) -> str:
    """1 -> ``A``, 16384 -> ``XFD``."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# --------------------------------------------------------------------------------------------
# entry points


def check_workbook(path: Path, display: str) -> None:
    """Refuse a workbook whose sheets would crash or exhaust the reader (see the module doc).

    ``.xlsx``/``.xlsm`` are scanned here; ``.xls`` and ``.xlsb`` are probed in a child process;
    anything else (``.ods``) is left to the reader, which guards itself.
    """
    with path.open("rb") as handle:
        head = handle.read(8)
    if head.startswith(OLE_MAGIC):
        probe_in_child(path, display)
        return
    if not head.startswith(ZIP_MAGIC):
        return
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        return  # sniff has refused it already when it is not a readable zip
    with archive:
        names = set(archive.namelist())
        if "xl/workbook.bin" in names:
            probe_in_child(path, display)
        elif "xl/workbook.xml" in names:
            check_xlsx(archive, display)


def check_xlsx(archive: zipfile.ZipFile, display: str) -> None:
    """Scan every worksheet part of an open ``.xlsx``/``.xlsm`` zip (see the module doc)."""
    for label, info in _worksheet_parts(archive):
        extent = _scan(archive, info, label, display)
        _check_cells(extent, label, display)


# --------------------------------------------------------------------------------------------
# which parts are worksheets, and their names


def _worksheet_parts(archive: zipfile.ZipFile) -> list[tuple[str, zipfile.ZipInfo]]:
    """(``sheet 'Name'`` or the part's path, zip member) for every part calamine may read as a
    worksheet: what the workbook's relationships point at, and everything under xl/worksheets/
    (also duplicate members of one name, since zip readers differ in which one they take)."""
    names = _sheet_names(archive)
    parts: list[tuple[str, zipfile.ZipInfo]] = []
    for info in archive.infolist():
        lowered = info.filename.lower()
        if info.filename in names or (
            lowered.startswith("xl/worksheets/") and lowered.endswith(".xml")
        ):
            label = names.get(info.filename)
            parts.append((f"sheet {label!r}" if label else f"sheet part {info.filename}", info))
    return parts


def _sheet_names(archive: zipfile.ZipFile) -> dict[str, str]:
    """Worksheet part path -> sheet name, from xl/workbook.xml and its relationships."""
    from defusedxml import ElementTree

    try:
        book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except Exception:  # noqa: BLE001 - names are for messages only; the parts are still scanned
        return {}
    targets = {}
    for rel in rels.iter():
        if rel.tag.rsplit("}", 1)[-1] == "Relationship" and rel.get("Target"):
            target = rel.get("Target", "")
            full = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            targets[rel.get("Id")] = posixpath.normpath(full)
    names: dict[str, str] = {}
    for sheet in book.iter():
        if sheet.tag.rsplit("}", 1)[-1] != "sheet":
            continue
        rid = next((v for k, v in sheet.attrib.items() if k.rsplit("}", 1)[-1] == "id"), None)
        if rid in targets and sheet.get("name") is not None:
            names[targets[rid]] = sheet.get("name", "")
    return names


# --------------------------------------------------------------------------------------------
# scanning one sheet part


def _chunks(archive: zipfile.ZipFile, info: zipfile.ZipInfo, whole_tags: bool) -> Iterator[bytes]:
    """The part's XML in pieces. A piece never splits the first ``_TAIL`` bytes of a tag, or
    with ``whole_tags`` any tag (one longer than :data:`MAX_TAG_BYTES` is refused)."""
    carry = b""
    with archive.open(info) as member:
        while True:
            block = member.read(CHUNK_BYTES)
            if not block:
                break
            data = carry + block
            cut = data.rfind(b"<", 0 if whole_tags else max(0, len(data) - _TAIL))
            if cut < 0:
                carry = b""
                yield data
                continue
            carry = data[cut:]
            if len(carry) > MAX_TAG_BYTES:
                raise ValueError("a tag longer than any a workbook holds")
            yield data[:cut]
    if carry:
        yield carry


def _scan(archive: zipfile.ZipFile, info: zipfile.ZipInfo, label: str, display: str) -> _Extent:
    """The sheet's extent, by the cheapest of three ways that is exact enough:

    * narrow: every cell within the first ``MAX_SHEET_CELLS // MAX_ROWS`` columns (57, BE) and
      below row 1,000,000 cannot break the budget, whatever its row: one pass that finds any
      cell outside that (almost never, in an export) is all it takes;
    * exact: the farthest row and column, tracked chunk by chunk (wider sheets);
    * walk: tag by tag, for XML that is not in the usual shape.
    """
    try:
        if MAX_SHEET_CELLS // MAX_ROWS >= 1:
            narrow = _scan_narrow(archive, info, label, display)
            if narrow is not None:
                return narrow
        extent = _Extent()
        for chunk in _chunks(archive, info, whole_tags=False):
            if not _fast_chunk(chunk, extent):
                return _walk(archive, info, label, display)
            _check_limits(extent, label, display)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
        raise InputError(
            f"{label} ({info.filename}) is damaged: its compressed data cannot be read",
            path=display,
            hint=FIX_HINT,
        ) from exc
    return extent


def _scan_narrow(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, label: str, display: str
) -> _Extent | None:
    """The extent when every cell lies within the narrow columns (see :func:`_scan`), else
    ``None``. Rows do not matter here: when all cells carry a position, calamine places them
    by it alone, and a cell without one is unusual XML, walked exactly."""
    wide = MAX_SHEET_CELLS // MAX_ROWS
    unusual = _unusual_narrow(wide)
    extent = _Extent()
    for chunk in _chunks(archive, info, whole_tags=False):
        if _PREFIXED.search(chunk):
            return _walk(archive, info, label, display)
        if not unusual.search(chunk):
            continue
        if _ODD_CELL.search(chunk) or not _exact_cells(chunk, extent):
            return _walk(archive, info, label, display)
        if extent.cols > wide:
            return None  # a wide sheet: the rows of every chunk matter
        _check_limits(extent, label, display)
    # every cell within `wide` columns and MAX_ROWS rows: under the budget whatever the rows
    return _Extent(min(extent.rows, MAX_ROWS), min(extent.cols, wide), "", "")


def _unusual_narrow(wide: int) -> re.Pattern[bytes]:
    """A cell tag that is not ``<c r="...``, or a position past column ``wide`` or on row
    1,000,000 or later, or with lower-case letters or a leading zero."""
    key = (-1, wide)
    if key not in _PATTERNS:
        past = (
            b"(?:[A-Z]{0,3}+(?:[a-z]|0|[0-9]{7})|"
            + _greater_letters(column_letters(wide).encode())
            + b")"
        )
        _PATTERNS[key] = re.compile(b'<c(?: r="' + past + rb'|[/>\t\n\r]| (?!r="))')
    return _PATTERNS[key]


def _fast_chunk(chunk: bytes, extent: _Extent) -> bool:
    """Update ``extent`` from one chunk of canonical XML; False when the chunk is not canonical
    (then the whole part is walked tag by tag)."""
    if _ODD_ROW.search(chunk) or _PREFIXED.search(chunk):
        return False
    rows = _ROW_R.findall(chunk)
    if rows:
        if not all(r.isdigit() for r in rows):
            return False
        top = max(map(int, rows))
        extent.add(top, 0, f"row {top}")
    # One pass over the cells finds both an unusual cell tag and a cell past the farthest row
    # or column so far; a normal chunk has neither.
    if extent.cols and not _unusual_cell(extent.rows, extent.cols).search(chunk):
        return True
    if _ODD_CELL.search(chunk):
        return False
    return _exact_cells(chunk, extent)


def _exact_cells(chunk: bytes, extent: _Extent) -> bool:
    """Add the farthest cell positions of a chunk of ``<c r="...`` cells to ``extent``; False
    when a position is not a cell address (the exact walk then names it). Columns repeat, so
    their set is small; rows are compared as numbers in one pass."""
    letters = set(_CELL_LETTERS.findall(chunk))
    digits = _CELL_DIGITS.findall(chunk)
    if len(digits) != chunk.count(b'<c r="') or b"" in letters or b"" in digits:
        return False  # a position that is not a cell address: the exact walk names it
    if digits:
        row = max(map(int, digits))
        at_row = re.search(rb'<c r="([A-Za-z]+)0*%d"' % row, chunk)
        extent.add(row, 0, _cell_name(at_row.group(1), b"%d" % row) if at_row else f"row {row}")
        col = max(letters, key=lambda text: (len(text), text.upper()))
        at_col = re.search(rb'<c r="' + re.escape(col) + rb'([0-9]+)"', chunk)
        extent.add(0, column_number(col), _cell_name(col, at_col.group(1) if at_col else b"?"))
    return True


_CELL_LETTERS = re.compile(rb'<c r="([A-Za-z]*)')
_CELL_DIGITS = re.compile(rb'<c r="[A-Za-z]*([0-9]*)"')


def _unusual_cell(rows: int, cols: int) -> re.Pattern[bytes]:
    """A pattern for a cell tag that is not ``<c r="...`` (see :data:`_ODD_CELL`) or whose
    position is past ``rows`` and ``cols``: a higher row or column, a row number with a leading
    zero, or lower-case letters (calamine reads all of them)."""
    key = (rows, cols)
    if key not in _PATTERNS:
        if len(_PATTERNS) > 256:
            _PATTERNS.clear()
        past = (
            b"(?:[A-Z]{0,2}[a-z]|"
            + _greater_letters(column_letters(cols).encode())
            + b"|[A-Z]{1,3}(?:0|"
            + _greater_number(rows)
            + b"))"
        )
        _PATTERNS[key] = re.compile(b'<c(?: r="' + past + rb'|[/>\t\n\r]| (?!r="))')
    return _PATTERNS[key]


_PATTERNS: dict[tuple[int, int], re.Pattern[bytes]] = {}


def _greater_number(n: int) -> bytes:
    """A pattern for decimal numbers (no leading zeros) greater than ``n``."""
    digits = str(n).encode()
    alternatives = [b"[1-9][0-9]{%d,}" % len(digits)]
    for i, d in enumerate(digits):
        if d != ord("9"):
            rest = len(digits) - i - 1
            alternatives.append(
                digits[:i] + b"[%c-9]" % (d + 1) + (b"[0-9]{%d}" % rest if rest else b"")
            )
    return b"(?:" + b"|".join(alternatives) + b")"


def _greater_letters(letters: bytes) -> bytes:
    """A pattern for upper-case column letters greater than ``letters`` (followed by a digit or
    more letters, so a longer name is never read as its prefix)."""
    alternatives = [b"[A-Z]{%d}" % (len(letters) + 1)]
    for i, ch in enumerate(letters):
        if ch != ord("Z"):
            rest = len(letters) - i - 1
            alternatives.append(
                letters[:i] + b"[%c-Z]" % (ch + 1) + (b"[A-Z]{%d}" % rest if rest else b"")
            )
    return b"(?:" + b"|".join(alternatives) + b")"


def _walk(archive: zipfile.ZipFile, info: zipfile.ZipInfo, label: str, display: str) -> _Extent:
    """Place every row and cell exactly as calamine does, tag by tag (slow, for unusual XML).

    A row without ``r`` follows the previous row; a cell without ``r`` follows the previous cell
    of its row. Positions are taken as the highest calamine could give, so the extent found is
    never smaller than the one it builds.
    """
    extent = _Extent()
    row = 0  # 1-based row of the current <row>
    next_col = 1
    try:
        for chunk in _chunks(archive, info, whole_tags=True):
            for match in _TAG.finditer(chunk):
                attr = _R_ATTR.search(match.group(2))
                value = None if attr is None else (attr.group(1) or attr.group(2) or b"")
                if match.group(1) == b"row":
                    if value is None:
                        row = max(row, extent.rows) + 1
                    elif value.isdigit():
                        row = int(value)
                    else:
                        _refuse_position(value, label, display)
                    next_col = 1
                    extent.add(row, 0, f"row {row}")
                else:
                    if value is None:
                        cell_row, col = max(row, 1), next_col
                        name = f"{column_letters(col)}{cell_row}"
                    else:
                        ref = _REF.fullmatch(value)
                        if ref is None:
                            _refuse_position(value, label, display)
                        cell_row, col = int(ref.group(2)), column_number(ref.group(1))
                        name = _cell_name(ref.group(1), ref.group(2))
                    next_col = col + 1
                    extent.add(cell_row, col, name)
                _check_limits(extent, label, display)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
        raise InputError(
            f"{label} ({info.filename}) is damaged: its compressed data cannot be read",
            path=display,
            hint=FIX_HINT,
        ) from exc
    return extent


def _cell_name(letters: bytes, digits: bytes) -> str:
    """The cell as Excel names it (``xfd0200`` -> ``XFD200``)."""
    return letters.decode("ascii").upper() + (digits.lstrip(b"0") or digits).decode("ascii")


def _refuse_position(value: bytes, label: str, display: str) -> NoReturn:
    shown = value[:20].decode("ascii", "replace")
    raise InputError(
        f"{label}: a cell or row has the position {shown!r}, which is not a cell address like "
        "A1 (a damaged or crafted workbook); refusing to open it",
        path=display,
        hint=FIX_HINT,
    )


def _check_limits(extent: _Extent, label: str, display: str) -> None:
    """Called per cell: only compares until something is past Excel's grid."""
    if extent.rows > MAX_ROWS:
        _refuse_past(extent.row_cell, f"row ({MAX_ROWS:,})", label, display)
    if extent.cols > MAX_COLUMNS:
        _refuse_past(extent.col_cell, "column (XFD)", label, display)


def _refuse_past(cell: str, last: str, label: str, display: str) -> NoReturn:
    raise InputError(
        f"{label}: {_shown(cell)} is past Excel's last {last}, so this is a damaged or crafted "
        "workbook; refusing to open it",
        path=display,
        hint=FIX_HINT,
    )


def _check_cells(extent: _Extent, label: str, display: str) -> None:
    _check_limits(extent, label, display)
    if extent.rows * extent.cols > MAX_SHEET_CELLS:
        far = {extent.row_cell, extent.col_cell} - {""}
        cells = " and ".join(_shown(c) for c in sorted(far))
        raise InputError(
            f"{label} reaches {cells}, so it spans {extent.rows:,} rows x {extent.cols:,} "
            f"columns from A1, over the {MAX_SHEET_CELLS:,}-cell limit; refusing to open it",
            path=display,
            hint=SHRINK_HINT,
        )


def _shown(cell: str) -> str:
    return cell if cell.startswith("row ") else f"cell {cell}"


# --------------------------------------------------------------------------------------------
# binary workbooks: a child process meets the crash instead of us

#: Run by :func:`probe_in_child` with ``python -c``: opens every worksheet with calamine and
#: prints each one's extent as JSON; a Python error is printed as JSON too. Only python_calamine
#: is imported, so the child starts in a few tens of milliseconds.
_PROBE = r"""
import json, sys
try:
    import resource
    limit = int(sys.argv[2])
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
except Exception:
    pass
try:
    import python_calamine as calamine
    book = calamine.CalamineWorkbook.from_path(sys.argv[1])
    sizes = {}
    for meta in book.sheets_metadata:
        if meta.typ == calamine.SheetTypeEnum.WorkSheet:
            sheet = book.get_sheet_by_name(meta.name)
            end = sheet.end
            sizes[meta.name] = [end[0] + 1, end[1] + 1] if end else [0, 0]
    print(json.dumps({"sheets": sizes}))
except Exception as exc:
    print(json.dumps({"error": type(exc).__name__}))
"""
#: Address space the probe may use (Linux, macOS): a sheet at the cell limit is about 2 GB in
#: calamine; more than this is refused as the crash it would be.
PROBE_MEMORY_BYTES = 6 * 1024**3


def probe_in_child(path: Path, display: str) -> None:
    """Have calamine open every worksheet of ``path`` in a child process; refuse the file with
    one line when the child dies (crash, abort, out of memory) or a sheet is over the cell
    limit. A Python error in the child is left to the reader in this process to report."""
    if getattr(sys, "frozen", False):
        return  # a bundled app has no interpreter to run the probe with
    try:
        done = subprocess.run(
            [sys.executable, "-c", _PROBE, str(path), str(PROBE_MEMORY_BYTES)],
            capture_output=True,
            timeout=600,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return  # no child to be had: the reader in this process still opens the file
    report: dict[str, object] = {}
    if done.returncode == 0:
        try:
            report = json.loads(done.stdout.decode("utf-8", "replace").strip() or "{}")
        except json.JSONDecodeError:
            report = {}
    if not report:
        raise InputError(
            f"makes the workbook reader crash ({_death(done.returncode)}, in a separate "
            "process opened to try it), so it is damaged or crafted; refusing to open it",
            path=display,
            hint=FIX_HINT,
        )
    sheets = report.get("sheets")
    for name, (rows, cols) in (sheets or {}).items() if isinstance(sheets, dict) else []:
        extent = _Extent(
            rows, cols, f"{column_letters(cols)}{rows}", f"{column_letters(cols)}{rows}"
        )
        _check_cells(extent, f"sheet {name!r}", display)


def _death(code: int) -> str:
    """How a child process ended, in words."""
    if code < 0:
        try:
            return signal.Signals(-code).name
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"
