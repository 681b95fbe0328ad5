"""Reading and saving workbook files safely.

* :func:`check_target` refuses early (one-line :class:`OutputError`) when the folder is missing
  or the workbook is open in Excel or LibreOffice (their lock files sit beside it).
* :func:`save_with_rows` saves atomically: the workbook is written to a temporary file in the
  same folder, then moved over the target in one step, so a crash or a full disk never leaves a
  half-written workbook and the previous file stays as it was until the new one is complete.
  On the way it splices the fast rows of big tables (:mod:`auditkit.excel.sheetdata`) into
  their sheets.
* :func:`unkeepable_content` lists what a workbook holds that openpyxl would drop when it
  rewrites the file (pictures without Pillow, shapes, controls, slicers, phonetic guides, ...),
  naming the sheets it is on, so writing into such a workbook is refused instead of silently
  losing the user's content.
* :func:`kept_parts` / :class:`KeptParts`: openpyxl re-creates the charts on the user's
  sheets from what it understands of them and loses their style, and re-creates notes as plain
  text; :func:`save_with_rows` puts each user drawing and notes part back byte for byte
  (charts, their style and colour parts, pictures) in place of openpyxl's re-creation.
"""

from __future__ import annotations

import io
import posixpath
import queue
import re
import threading
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree
from xml.sax.saxutils import quoteattr

from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.workbook import Workbook

from auditkit.errors import OutputError
from auditkit.excel.markers import MARKER_NAME, marked_title
from auditkit.excel.sheetdata import RowBlock
from auditkit.fileio import atomic_write, check_writable

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
    """Raise OutputError when ``target`` cannot be written (before any work is done): see
    :func:`auditkit.fileio.check_writable`, and the workbook must not be open in a program."""
    real = check_writable(target)
    locks = lock_files(target) or lock_files(real)
    if locks:
        raise OutputError(
            f"the workbook is open in another program (lock file '{locks[0].name}' found)",
            path=target,
            hint="close it and run again; delete the lock file if no program has it open",
        )


def save_with_rows(
    wb: Workbook,
    target: Path,
    rows: Mapping[object, RowBlock],
    keep: KeptParts | None = None,
) -> Path:
    """Save ``wb`` to ``target`` atomically, splicing ``rows`` (worksheet -> RowBlock) in and
    putting back the user's drawings and notes in ``keep`` as they were."""
    check_target(target)
    buffer = io.BytesIO()
    wb.save(buffer)
    parts = {ws.path.lstrip("/"): block for ws, block in rows.items()}  # type: ignore[attr-defined]
    return atomic_write(target, lambda handle: _splice(buffer, handle, parts, keep))


def _splice(
    source: io.BytesIO, out, parts: Mapping[str, RowBlock], keep: KeptParts | None = None
) -> None:
    """Copy the zip in ``source`` to ``out``, putting each RowBlock's rows in its sheet part
    (and the kept drawings and notes in place of openpyxl's). The rows are compressed in a
    second thread while the next chunk of them is made (:func:`_write_behind`)."""
    # Level 3 deflate: on the big, repetitive sheet XML it takes half the time of the default
    # level for a file about 15% bigger.
    with (
        zipfile.ZipFile(source) as zin,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=3) as zout,
    ):
        changes = _put_back(zin, keep) if keep is not None else {}
        for info in zin.infolist():
            if info.filename in changes:
                changed = changes.pop(info.filename)
                if changed is not None:
                    zout.writestr(info, changed)
                continue
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
                _write_behind(stream, block.xml_chunks())
                stream.write(tail)
        for name, data in changes.items():
            if data is not None:
                zout.writestr(name, data)


#: Chunks of rows waiting for the compressing thread (bounds memory: see _write_behind).
_QUEUED_CHUNKS = 1


def _write_behind(stream, chunks: Iterable) -> None:
    """Write ``chunks`` to ``stream`` (a zip entry) in a second thread, in order.

    Compressing a chunk (zlib) and building the next one (Arrow) then run at the same time:
    both release the GIL for most of their work. At most :data:`_QUEUED_CHUNKS` chunks wait
    besides the one being compressed and the one being built, so memory stays bounded. An
    error on either side stops both and is raised here.
    """
    pending: queue.Queue = queue.Queue(maxsize=_QUEUED_CHUNKS)
    failed: list[BaseException] = []

    def compress() -> None:
        while True:
            chunk = pending.get()
            if chunk is None:
                return
            if not failed:  # after an error, only drain the queue so the producer never blocks
                try:
                    stream.write(chunk)
                except BaseException as error:  # noqa: BLE001 - raised again below
                    failed.append(error)
            del chunk  # not kept while waiting for the next one

    worker = threading.Thread(target=compress, name="auditkit-compress", daemon=True)
    worker.start()
    try:
        for chunk in chunks:
            if failed:
                break
            pending.put(chunk)
            del chunk  # the queue (then the worker) holds the only reference
    finally:
        pending.put(None)
        worker.join()
    if failed:
        raise failed[0]


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


def _replaced_parts(
    archive: zipfile.ZipFile, replacing: Callable[[str], bool] | None = None
) -> set[str]:
    """The parts of auditkit's sheets a rewrite replaces: all of them, or those whose title
    ``replacing`` picks."""
    own = own_sheet_parts(archive)
    if replacing is not None:
        own &= {part for title, part in sheet_parts(archive).items() if replacing(title)}
    return own


def without_own_rows(
    path: Path, replacing: Callable[[str], bool] | None = None
) -> Path | io.BytesIO:
    """The workbook to load for a rewrite: a copy with auditkit's own sheets emptied.

    Those sheets are replaced anyway; emptying them first saves openpyxl from parsing, say,
    a 100,000-line claim-lines sheet (tens of seconds) only to throw it away. With
    ``replacing`` (a test of a sheet's title), only the own sheets it picks are emptied: the
    others are kept as they are.
    """
    with zipfile.ZipFile(path) as archive:
        own = _replaced_parts(archive, replacing)
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
    """What the workbook at ``path`` holds that rewriting it with openpyxl would lose, each with
    the sheets it is on where that is known (``"shapes or text boxes on sheet 'Plan'"``)."""
    found: list[str] = []
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        for prefix, what in _UNKEPT_PARTS:
            if any(n.startswith(prefix) for n in names) and what not in found:
                found.append(what)
        drawings = _user_drawings(archive)
        # Shapes inside a chart (its own drawing) travel with the chart: see KeptParts.
        shaped = [title for title, part in drawings.items() if _SHAPE.search(archive.read(part))]
        if shaped:
            found.append(f"shapes or text boxes {_on_sheets(shaped)}")
        if any(n.startswith("xl/media/") for n in names) and not _pillow_available():
            pictured = [
                title
                for title, part in drawings.items()
                if any(r.get("Type", "").endswith("/image") for r in _relationships(archive, part))
            ]
            found.append(f"pictures {_on_sheets(pictured)}" if pictured else "pictures")
        phonetic = _phonetic_sheets(archive)
        if phonetic is not None:
            found.append(f"text with phonetic guides {_on_sheets(phonetic)}".rstrip())
    return found


def _on_sheets(titles: list[str]) -> str:
    if not titles:
        return ""
    shown = ", ".join(f"'{t}'" for t in titles)
    return f"on sheet {shown}" if len(titles) == 1 else f"on sheets {shown}"


_SHARED_INDEX = re.compile(rb'<c\b[^>]*\bt="s"[^>]*>\s*<v>(\d+)</v>')


def _phonetic_sheets(archive: zipfile.ZipFile) -> list[str] | None:
    """The sheets whose text has phonetic guides (``<rPh>`` runs, which openpyxl drops even
    when it keeps rich text), or None when there are none."""
    strings = _shared_strings_part(archive)
    indices: set[int] = set()
    if strings is not None:
        data = archive.read(strings)
        if b"<rPh" in data or b":rPh" in data:
            root = ElementTree.fromstring(data)
            indices = {i for i, si in enumerate(root) if si.find(f"{_MAIN}rPh") is not None}
    own = own_sheet_parts(archive)
    titles = []
    for title, part in sheet_parts(archive).items():
        if part in own or part not in archive.namelist():
            continue
        xml = archive.read(part)
        used = {int(i) for i in _SHARED_INDEX.findall(xml)} if indices else set()
        if b"<rPh" in xml or used & indices:
            titles.append(title)
    return titles if titles or indices else None


def _shared_strings_part(archive: zipfile.ZipFile) -> str | None:
    workbook = _workbook_part(archive)
    for rel in _relationships(archive, workbook):
        if rel.get("Type", "").endswith("/sharedStrings"):
            return _rel_target(workbook, rel)
    return None


def _pillow_available() -> bool:
    try:
        import PIL  # noqa: F401
    except ImportError:
        return False
    return True


# -- the parts of a package and how they relate --------------------------------------------------

_RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_TYPES_NS = "{http://schemas.openxmlformats.org/package/2006/content-types}"
_CONTENT_TYPES = "[Content_Types].xml"


def rels_part(part: str) -> str:
    """The relationships part of ``part`` (``xl/_rels/workbook.xml.rels``)."""
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", f"{name}.rels")


def _relationships(archive: zipfile.ZipFile, part: str) -> list[dict[str, str]]:
    """The relationships of ``part`` (each an attribute dict: Id, Type, Target, TargetMode)."""
    name = rels_part(part)
    try:
        data = archive.read(name)
    except KeyError:
        return []
    return [
        dict(rel.attrib)
        for rel in ElementTree.fromstring(data)
        if rel.tag.endswith("}Relationship")
    ]


def _rel_target(part: str, rel: dict[str, str]) -> str | None:
    """The part a relationship of ``part`` points to, or None for an external target."""
    if rel.get("TargetMode") == "External":
        return None
    target = rel.get("Target", "")
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(part), target))


def _workbook_part(archive: zipfile.ZipFile) -> str:
    for rel in _relationships(archive, ""):
        if rel.get("Type", "").endswith("/officeDocument"):
            return _rel_target("", rel) or "xl/workbook.xml"
    return "xl/workbook.xml"


def sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet title -> its part name, for the worksheets of the workbook in ``archive``."""
    workbook = _workbook_part(archive)
    targets = {
        rel.get("Id"): _rel_target(workbook, rel) for rel in _relationships(archive, workbook)
    }
    root = ElementTree.fromstring(archive.read(workbook))
    found = {}
    for sheet in root.iter(f"{_MAIN}sheet"):
        part = targets.get(sheet.get(_REL_ID))
        if part is not None and sheet.get("name") is not None:
            found[sheet.get("name")] = part
    return found


#: The parts of a sheet put back as they were (see :class:`KeptParts`), by the last word of
#: their relationship type, and what they are to a user.
_KEPT_KINDS = {"drawing": "charts or pictures", "comments": "notes", "vmlDrawing": "notes"}
_LEGACY_DRAWING = re.compile(rb'<(?:\w+:)?legacyDrawing\b[^>]*?\bid="([^"]+)"')


def _sheet_kept_parts(archive: zipfile.ZipFile, sheet_part: str) -> dict[str, str]:
    """Kind -> part for what :class:`KeptParts` keeps of one sheet: its drawing (charts,
    pictures, shapes), its notes and the VML drawing that shows them (the one the sheet's
    ``<legacyDrawing>`` names; a sheet may have another, for header and footer pictures)."""
    found: dict[str, str] = {}
    vml = []
    for rel in _relationships(archive, sheet_part):
        kind = rel.get("Type", "").rsplit("/", 1)[-1]
        target = _rel_target(sheet_part, rel)
        if target is None or target not in archive.NameToInfo:
            continue
        if kind in ("drawing", "comments"):
            found.setdefault(kind, target)
        elif kind == "vmlDrawing":
            vml.append((rel.get("Id"), target))
    if "comments" in found and vml:
        if len(vml) == 1:
            found["vmlDrawing"] = vml[0][1]
        else:
            legacy = _LEGACY_DRAWING.search(archive.read(sheet_part))
            named = legacy.group(1).decode() if legacy else None
            for rid, target in vml:
                if rid == named:
                    found["vmlDrawing"] = target
    return found


def _user_sheets(
    archive: zipfile.ZipFile, replacing: Callable[[str], bool] | None = None
) -> dict[str, str]:
    """Sheet title -> part, for the user's sheets (not auditkit's), and auditkit's that are
    kept (not picked by ``replacing``, when given)."""
    own = _replaced_parts(archive, replacing)
    return {
        title: part
        for title, part in sheet_parts(archive).items()
        if part not in own and part in archive.NameToInfo
    }


def _user_drawings(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet title -> drawing part, for the user's sheets that have one."""
    found = {}
    for title, part in _user_sheets(archive).items():
        drawing = _sheet_kept_parts(archive, part).get("drawing")
        if drawing is not None:
            found[title] = drawing
    return found


# -- keeping the user's drawings as they were ----------------------------------------------------


@dataclass(frozen=True)
class KeptParts:
    """The drawings and notes on the user's sheets of a workbook auditkit writes into.

    openpyxl re-creates charts from what it understands of them (a chart's style, colours,
    rounded corners, text formatting, the Office 2013+ style parts and a frame's name and alt
    text are lost) and notes as plain text in a default box (their fonts, size and visibility
    are lost). So each of these parts is put back into the saved workbook byte for byte, with
    every part it uses (charts, their style and colour parts, pictures, embedded data), in
    place of openpyxl's re-creation (see :func:`save_with_rows`).
    """

    source: Path
    #: Sheet title -> kind ("drawing", "comments", "vmlDrawing") -> the part in ``source``.
    sheets: dict[str, dict[str, str]]


def kept_parts(path: Path, replacing: Callable[[str], bool] | None = None) -> KeptParts | None:
    """The drawings and notes on the user's sheets of the workbook at ``path`` (None: none),
    and on auditkit's sheets that ``replacing`` does not pick (when given)."""
    with zipfile.ZipFile(path) as archive:
        found = {}
        for title, part in _user_sheets(archive, replacing).items():
            kept = _sheet_kept_parts(archive, part)
            if kept:
                found[title] = kept
    return KeptParts(Path(path), found) if found else None


class _Copier:
    """Copies parts (and what they refer to) from the original workbook into the saved one."""

    def __init__(self, source: zipfile.ZipFile, taken: set[str], changes: dict) -> None:
        self.source = source
        self.taken = taken
        self.changes = changes
        self.copied: dict[str, str] = {}
        self.types: dict[str, str] = {}
        overrides, defaults = {}, {}
        root = ElementTree.fromstring(source.read(_CONTENT_TYPES))
        for entry in root:
            if entry.tag == f"{_TYPES_NS}Override":
                overrides[entry.get("PartName", "").lstrip("/").lower()] = entry.get("ContentType")
            elif entry.tag == f"{_TYPES_NS}Default":
                defaults[entry.get("Extension", "").lower()] = entry.get("ContentType")
        self._overrides, self._defaults = overrides, defaults

    def content_type(self, part: str) -> str | None:
        found = self._overrides.get(part.lower())
        return found or self._defaults.get(posixpath.splitext(part)[1].lstrip(".").lower())

    def _free(self, name: str) -> str:
        """``name``, or a numbered variant when the saved file has that part (names of parts
        compare case-insensitively)."""
        stem, ext = posixpath.splitext(name)
        base, k = stem.rstrip("0123456789"), 0
        while name.lower() in self.taken:
            k += 1
            name = f"{base}{k}{ext}"
        self.taken.add(name.lower())
        return name

    def part(self, name: str) -> str:
        """Copy part ``name`` and everything it refers to; return its name in the new file."""
        if name in self.copied:
            return self.copied[name]
        new = self._free(name)
        self.copied[name] = new
        self.changes[new] = self.source.read(name)
        content_type = self.content_type(name)
        if content_type:
            self.types[new] = content_type
        self.relationships(name, new)
        return new

    def relationships(self, name: str, new: str) -> None:
        """Give ``new`` the relationships of ``name``, pointing at copies of their targets."""
        entries = []
        for rel in _relationships(self.source, name):
            target = _rel_target(name, rel)
            if target is not None and target in self.source.NameToInfo:
                rel = {**rel, "Target": "/" + self.part(target)}
            entries.append(rel)
        self.taken.add(rels_part(new).lower())
        self.changes[rels_part(new)] = _rels_xml(entries) if entries else None


def _rels_xml(entries: list[dict[str, str]]) -> bytes:
    body = "".join(
        "<Relationship " + " ".join(f"{k}={quoteattr(v)}" for k, v in rel.items()) + "/>"
        for rel in entries
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<Relationships xmlns="{_RELS_NS}">{body}</Relationships>'
    ).encode()


def _put_back(new: zipfile.ZipFile, keep: KeptParts) -> dict[str, bytes | None]:
    """The changes (part -> bytes, or None to leave it out) that replace openpyxl's re-created
    drawings and notes in ``new`` with the originals in ``keep.source``."""
    names = set(new.namelist())
    new_sheets = sheet_parts(new)
    changes: dict[str, bytes | None] = {}
    pairs = []
    for title, originals in keep.sheets.items():
        part = new_sheets.get(title)
        recreated = _sheet_kept_parts(new, part) if part is not None else {}
        for kind, original in originals.items():
            if kind not in recreated:
                raise OutputError(
                    f"the {_KEPT_KINDS[kind]} on sheet '{title}' cannot be kept when auditkit "
                    "rewrites the workbook; nothing was written",
                    path=keep.source,
                    hint="write a new workbook with --out",
                )
            pairs.append((recreated[kind], original))
            # What openpyxl re-created for it (charts, pictures) goes.
            for rel in _relationships(new, recreated[kind]):
                target = _rel_target(recreated[kind], rel)
                if target in names:
                    changes[target] = None
                    if rels_part(target) in names:
                        changes[rels_part(target)] = None
            if rels_part(recreated[kind]) in names:
                changes[rels_part(recreated[kind])] = None
    taken = {n.lower() for n in names if not (n in changes and changes[n] is None)}
    with zipfile.ZipFile(keep.source) as source:
        copier = _Copier(source, taken, changes)
        for recreated, original in pairs:
            changes[recreated] = source.read(original)
            copier.relationships(original, recreated)
    types = new.read(_CONTENT_TYPES)
    for name, data in changes.items():
        if data is None or name in copier.types:
            pattern = rb'<Override\b[^>]*PartName="/' + re.escape(name.encode()) + rb'"[^>]*/>'
            types = re.sub(pattern, b"", types)
    added = "".join(
        f"<Override PartName={quoteattr('/' + name)} ContentType={quoteattr(kind)}/>"
        for name, kind in copier.types.items()
    )
    changes[_CONTENT_TYPES] = types.replace(b"</Types>", added.encode("utf-8") + b"</Types>")
    return changes
