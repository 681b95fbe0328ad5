"""Reading and saving workbook files safely.

* :func:`check_target` refuses early (one-line :class:`OutputError`) when the folder is missing
  or the workbook is open in Excel or LibreOffice (their lock files sit beside it).
* :func:`save_with_rows` saves atomically: the workbook is written to a temporary file in the
  same folder, then moved over the target in one step, so a crash or a full disk never leaves a
  half-written workbook and the previous file stays as it was until the new one is complete.
  On the way it splices the fast rows of big tables (:mod:`auditkit.excel.sheetdata`) into
  their sheets.
* :func:`unkeepable_content` lists what a workbook holds that openpyxl would drop when it
  rewrites the file (pictures without Pillow, shapes, controls, slicers, ...), so writing into
  such a workbook is refused instead of silently losing the user's content.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path
from xml.etree import ElementTree

from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.workbook import Workbook

from auditkit.errors import OutputError
from auditkit.excel.markers import MARKER_NAME, marked_title
from auditkit.excel.sheetdata import RowBlock
from auditkit.fileio import atomic_write

#: Zip entries bigger than this (estimated) are written with ZIP64 headers.
_ZIP64_ESTIMATE = 1_500_000_000


def lock_files(target: Path) -> list[Path]:
    """Lock files that exist when a program has ``target`` open (Excel, LibreOffice)."""
    candidates = [
        target.with_name("~$" + target.name),
        target.with_name(".~lock." + target.name + "#"),
    ]
    return [p for p in candidates if p.exists()]


def check_target(target: Path) -> None:
    """Raise OutputError when ``target`` cannot be written (before any work is done)."""
    folder = target.parent
    if not folder.is_dir():
        raise OutputError("the folder does not exist", path=target, hint="create it first")
    if target.is_dir():
        raise OutputError("is a folder, not a workbook file", path=target)
    locks = lock_files(target)
    if locks:
        raise OutputError(
            f"the workbook is open in another program (lock file '{locks[0].name}' found)",
            path=target,
            hint="close it and run again; delete the lock file if no program has it open",
        )


def save_with_rows(wb: Workbook, target: Path, rows: Mapping[object, RowBlock]) -> Path:
    """Save ``wb`` to ``target`` atomically, splicing ``rows`` (worksheet -> RowBlock) in."""
    check_target(target)
    buffer = io.BytesIO()
    wb.save(buffer)
    parts = {ws.path.lstrip("/"): block for ws, block in rows.items()}  # type: ignore[attr-defined]
    return atomic_write(target, lambda handle: _splice(buffer, handle, parts))


def _splice(source: io.BytesIO, out, parts: Mapping[str, RowBlock]) -> None:
    """Copy the zip in ``source`` to ``out``, putting each RowBlock's rows in its sheet part."""
    # Level 3 deflate: on the big, repetitive sheet XML it takes half the time of the default
    # level for a file about 15% bigger.
    with (
        zipfile.ZipFile(source) as zin,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=3) as zout,
    ):
        for info in zin.infolist():
            data = zin.read(info.filename)
            block = parts.get(info.filename)
            if block is None:
                zout.writestr(info, data)
                continue
            head, tail = _split_sheet_data(data, info.filename)
            head = _widen_dimension(head, block)
            big = len(block.frame) * max(len(block.formats), 1) * 100 > _ZIP64_ESTIMATE
            with zout.open(info.filename, "w", force_zip64=big) as stream:
                stream.write(head)
                for chunk in block.xml_chunks():
                    stream.write(chunk)
                stream.write(tail)


_SHEET_DATA = re.compile(rb"<sheetData\s*/>|</sheetData>")
_DIMENSION = re.compile(rb'<dimension ref="([A-Z]+)?(\d+)?(?::([A-Z]+)(\d+))?"\s*/>')


def _split_sheet_data(xml: bytes, name: str) -> tuple[bytes, bytes]:
    """The sheet XML before and after the point where rows go (the end of ``<sheetData>``)."""
    match = _SHEET_DATA.search(xml)
    if match is None:
        raise RuntimeError(f"{name}: no <sheetData> element to put rows in")
    if match.group(0).startswith(b"</"):
        return xml[: match.start()], xml[match.start() :]
    return xml[: match.start()] + b"<sheetData>", b"</sheetData>" + xml[match.end() :]


def _widen_dimension(head: bytes, block: RowBlock) -> bytes:
    """Make the sheet's ``<dimension>`` cover the spliced rows."""
    match = _DIMENSION.search(head)
    if match is None:
        return head
    last_col = block.last_column
    if match.group(3):
        last_col = max(last_col, column_index_from_string(match.group(3).decode()))
    ref = f'<dimension ref="A1:{get_column_letter(last_col)}{block.last_row}"/>'.encode()
    return head[: match.start()] + ref + head[match.end() :]


# -- reading a workbook auditkit wrote into before ------------------------------------------------

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_EMPTY_SHEET = (
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b"<sheetData/></worksheet>"
)


def own_sheet_parts(archive: zipfile.ZipFile) -> set[str]:
    """Zip part names of the sheets auditkit marked as its own (see :mod:`markers`)."""
    workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    sheets = [(s.get("name"), s.get(_REL_ID)) for s in workbook.iter(f"{_MAIN}sheet")]
    own_ids = set()
    for name in workbook.iter(f"{_MAIN}definedName"):
        index = name.get("localSheetId")
        if name.get("name") != MARKER_NAME or index is None or int(index) >= len(sheets):
            continue
        title, rel_id = sheets[int(index)]
        if marked_title(name.text) == title:
            own_ids.add(rel_id)
    if not own_ids:
        return set()
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    parts = set()
    for rel in rels:
        if rel.get("Id") in own_ids:
            target = rel.get("Target", "")
            parts.add(
                target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
            )
    return parts


def without_own_rows(path: Path) -> Path | io.BytesIO:
    """The workbook to load for a rewrite: a copy with auditkit's own sheets emptied.

    Those sheets are replaced anyway; emptying them first saves openpyxl from parsing, say,
    a 100,000-line claim-lines sheet (tens of seconds) only to throw it away.
    """
    with zipfile.ZipFile(path) as archive:
        own = own_sheet_parts(archive)
        if not own:
            return path
        slim = io.BytesIO()
        with zipfile.ZipFile(slim, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as out:
            for info in archive.infolist():
                if info.filename in own:
                    out.writestr(info.filename, _EMPTY_SHEET)
                else:
                    out.writestr(info, archive.read(info.filename))
    slim.seek(0)
    return slim


# -- what openpyxl cannot carry over -------------------------------------------------------------

#: Part name prefixes openpyxl drops or disconnects on a rewrite, and what they are to a user.
_UNKEPT_PARTS: tuple[tuple[str, str], ...] = (
    ("xl/ctrlProps/", "form controls"),
    ("xl/activeX/", "ActiveX controls"),
    ("customUI/", "a custom ribbon"),
    ("xl/slicers/", "slicers"),
    ("xl/slicerCaches/", "slicers"),
    ("xl/timelines/", "timelines"),
    ("xl/threadedComments/", "threaded comments"),
    ("xl/richData/", "pictures in cells or linked data types"),
    ("xl/model/", "a data model (Power Pivot)"),
    ("xl/connections.xml", "data connections"),
    ("xl/queryTables/", "query tables"),
    ("customXml/", "custom XML parts (Power Query, document properties)"),
    # openpyxl numbers sheet-level names among worksheets only, so with a chart sheet in front
    # they (auditkit's markers and print titles included) would land on the wrong sheets.
    ("xl/chartsheets/", "chart sheets"),
)
_SHAPE = re.compile(rb"<(?:\w+:)?(?:sp|grpSp|cxnSp)[\s>]")

#: openpyxl warnings that mean content is dropped while reading.
LOSS_WARNING = re.compile(r"will be (lost|removed|ignored)|[Uu]nable to read|cannot be located")


def unkeepable_content(path: Path) -> list[str]:
    """What the workbook at ``path`` holds that rewriting it with openpyxl would lose."""
    found: list[str] = []
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        for prefix, what in _UNKEPT_PARTS:
            if any(n.startswith(prefix) for n in names) and what not in found:
                found.append(what)
        if any(n.startswith("xl/media/") for n in names) and not _pillow_available():
            found.append("pictures")
        drawings = [n for n in names if n.startswith("xl/drawings/") and n.endswith(".xml")]
        if any(_SHAPE.search(archive.read(name)) for name in drawings):
            found.append("shapes or text boxes")
    return found


def _pillow_available() -> bool:
    try:
        import PIL  # noqa: F401
    except ImportError:
        return False
    return True
