"""What a file really is, and whether it is safe to open.

The content decides how a file is read, not its name. A name that promises a workbook
(``.xlsx``/``.xlsm``/``.xlsb``/``.ods``, see :mod:`auditkit.ingest.formats`) on content that is
not one is refused, since that is a renamed or wrong file. A text file named ``.xls`` is read as
text with a warning: several PM systems export tab-separated text under that name. Web pages
(HTML, also when saved as ``.xls``), PDFs, Word files, plain zip archives and password-protected
workbooks are refused, and so is binary data (images, archives, databases): text whose top holds
more than a few control bytes. Stray NUL bytes do not count: they are common in real text
exports, and the text reader removes them with a warning.

Workbooks are untrusted input, so before a reader touches one:

* zip members' declared sizes and compression ratios are checked (decompression bombs);
* every XML member is checked for a DOCTYPE or ENTITY declaration before its root element
  (the "billion laughs" family of XML entity tricks) - Excel itself never writes one;
* worksheet ``<dimension>`` tags are checked against a cell budget.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from auditkit.errors import InputError
from auditkit.ingest.formats import LEGACY_WORKBOOK_SUFFIXES, TEXT_SUFFIXES, WORKBOOK_SUFFIXES

#: A workbook may expand to at most this many bytes in total.
MAX_UNCOMPRESSED_BYTES = 2 * 1024**3
#: A zip member larger than 1 MiB may be at most this many times its compressed size.
MAX_COMPRESSION_RATIO = 200
_RATIO_FLOOR = 1024**2
#: A workbook may hold at most this many zip members.
MAX_MEMBERS = 20_000
#: A worksheet may declare at most this many cells (rows x columns of its used range).
MAX_SHEET_CELLS = 60_000_000
#: How far into an XML member the root element must start (DOCTYPE check).
_XML_PROLOGUE_LIMIT = 1024**2

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
_X12 = re.compile(rb"(?:ISA[^A-Za-z0-9\s]|GS[^A-Za-z0-9\s]HP|ST[^A-Za-z0-9\s]835)")


def _utf16(name: str) -> bytes:
    return name.encode("utf-16-le")


@dataclass(frozen=True)
class Sniffed:
    """What :func:`sniff` found: ``kind`` is ``text``, ``workbook`` or ``x12``."""

    kind: str
    warning: str | None = None


def sniff(path: Path, display: str) -> Sniffed:
    """Classify ``path`` by content; raise :class:`InputError` for files auditkit cannot read."""
    if not path.exists():
        raise InputError("file not found", path=display, hint="check the name and the folder")
    if path.is_dir():
        raise InputError(
            "is a folder, not an export file", path=display, hint="give the files inside it"
        )
    try:
        with path.open("rb") as handle:
            head = handle.read(8192)
    except OSError as exc:
        raise InputError(
            f"cannot be opened ({exc.strerror})", path=display, hint="check its permissions"
        ) from exc
    suffix = path.suffix.lower()
    stripped = head.lstrip(b"\xef\xbb\xbf\xff\xfe \t\r\n\x00")
    if not stripped:
        raise InputError(
            "is empty", path=display, hint="export the report again from the PM system"
        )
    says_workbook = suffix in WORKBOOK_SUFFIXES

    def refuse(what: str, fix: str) -> InputError:
        named = f" although its name ends in {suffix}" if suffix else ""
        return InputError(f"is {what}{named}", path=display, hint=fix)

    if head.startswith(b"%PDF"):
        raise refuse("a PDF, not a data export", "export the report as CSV or Excel instead")
    if head.startswith(ZIP_MAGIC):
        check_zip(path, display)
        if suffix in TEXT_SUFFIXES:
            return Sniffed("workbook", f"is an Excel workbook named {suffix}; read it as one")
        return Sniffed("workbook")
    if head.startswith(OLE_MAGIC):
        check_ole(path, display)
        if suffix in WORKBOOK_SUFFIXES and suffix != ".xlsb":
            return Sniffed("workbook", f"is a legacy .xls workbook named {suffix}; read it as one")
        return Sniffed("workbook")
    text_head = _ascii_head(head)
    lowered = text_head.lower()
    if lowered.startswith(("<!doctype html", "<html", "<table", "<head", "<body", "<meta")) or (
        lowered.startswith("<?xml") and "<html" in lowered
    ):
        raise refuse(
            "a web page (HTML), not a spreadsheet",
            "open it in Excel and save it as .xlsx or CSV, or export CSV from the PM system",
        )
    if lowered.startswith("<?xml") or lowered.startswith("<workbook"):
        if "urn:schemas-microsoft-com:office:spreadsheet" in lowered or "<workbook" in lowered:
            raise refuse(
                "an Excel 2003 XML spreadsheet",
                "open it in Excel and save it as .xlsx",
            )
        raise refuse("an XML file, not a spreadsheet", "export the report as CSV or Excel")
    if _X12.match(stripped.replace(b"\x00", b"")[:16]):
        return Sniffed("x12")
    if _looks_binary(head):
        raise refuse(
            "a binary file, not a text or Excel export",
            "export the report as CSV or Excel from the PM system",
        )
    if says_workbook:
        raise refuse(
            "a text (CSV) file, not an Excel workbook",
            "rename it to .csv, or open it in Excel and save it as .xlsx",
        )
    if suffix in LEGACY_WORKBOOK_SUFFIXES:
        return Sniffed("text", f"is a text export named {suffix}; read it as delimited text")
    return Sniffed("text")


#: Bytes that text exports never hold: the C0 controls other than tab, line ends, form feed
#: (page breaks in printed reports), SUB (the DOS end-of-file mark) and NUL, which is judged
#: apart; and DEL.
_BINARY_BYTES = bytes([*range(0x01, 0x09), 0x0B, *range(0x0E, 0x1A), *range(0x1B, 0x20), 0x7F])
#: Share of the non-NUL bytes at the top of a file that may be :data:`_BINARY_BYTES`.
MAX_BINARY_SHARE = 0.01


def _looks_binary(head: bytes) -> bool:
    """True when the top of a file is not text, NUL bytes aside.

    NUL bytes alone do not make a file binary: PM systems and file transfers leave stray NULs
    in text exports (a padded field, a file padded to a block size), and the text reader
    removes them. What decides is the rest: text holds almost none of the other control bytes,
    random binary data (images, archives, databases) about one in ten.
    """
    if _looks_utf16(head):
        return False
    rest = head.replace(b"\x00", b"")
    if not rest:
        return True
    controls = len(rest) - len(rest.translate(None, _BINARY_BYTES))
    return controls > max(2, MAX_BINARY_SHARE * len(rest))


def _ascii_head(head: bytes) -> str:
    """The start of a file as lower-noise text whatever its encoding (for format checks)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or _looks_utf16(head):
        head = head.replace(b"\x00", b"")
    return head.decode("latin-1").lstrip("\ufeff\xef\xbb\xbf\xff\xfe \t\r\n")


def _looks_utf16(head: bytes) -> bool:
    """UTF-16 without a byte-order mark: every other byte of ASCII-range text is NUL."""
    sample = head[:2048]
    if len(sample) < 8:
        return False
    half = len(sample) // 2
    odd_nuls = sample[1::2].count(0)
    even_nuls = sample[0::2].count(0)
    return (odd_nuls > 0.4 * half and even_nuls < 0.05 * half) or (
        even_nuls > 0.4 * half and odd_nuls < 0.05 * half
    )


def utf16_byte_order(head: bytes) -> str | None:
    """``"utf-16-le"``/``"utf-16-be"`` for BOM-less UTF-16 text, else ``None``."""
    if not _looks_utf16(head):
        return None
    return "utf-16-le" if head[1::2].count(0) > head[0::2].count(0) else "utf-16-be"


# --------------------------------------------------------------------------------------------
# zip workbooks


def check_zip(path: Path, display: str) -> None:
    """Refuse zip files that are not workbooks or that look like decompression/XML bombs."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(
            "is a damaged workbook (its zip structure cannot be read)",
            path=display,
            hint="export it again, or open it in Excel and save a new copy",
        ) from exc
    with archive:
        infos = archive.infolist()
        names = {info.filename for info in infos}
        if not ({"xl/workbook.xml", "xl/workbook.bin", "content.xml"} & names):
            what = "a zip archive"
            if "word/document.xml" in names:
                what = "a Word document"
            elif "ppt/presentation.xml" in names:
                what = "a PowerPoint file"
            raise InputError(
                f"is {what}, not an Excel workbook",
                path=display,
                hint="give the CSV or Excel export itself (unzip archives first)",
            )
        if len(infos) > MAX_MEMBERS:
            raise InputError(
                f"holds {len(infos):,} parts, more than a workbook export has (limit "
                f"{MAX_MEMBERS:,}); refusing to open it",
                path=display,
                hint="export the report again",
            )
        total = sum(info.file_size for info in infos)
        if total > MAX_UNCOMPRESSED_BYTES:
            raise InputError(
                f"would expand to {total / 1024**3:.1f} GB, over the "
                f"{MAX_UNCOMPRESSED_BYTES / 1024**3:.0f} GB limit (possible decompression bomb)",
                path=display,
                hint="export a shorter date range, or as CSV",
            )
        for info in infos:
            if info.file_size > _RATIO_FLOOR:
                ratio = info.file_size / max(info.compress_size, 1)
                if ratio > MAX_COMPRESSION_RATIO:
                    raise InputError(
                        f"part {info.filename} expands {ratio:,.0f} times (limit "
                        f"{MAX_COMPRESSION_RATIO}); this looks like a decompression bomb, "
                        "refusing to open it",
                        path=display,
                        hint="export the report again from the PM system",
                    )
        for info in infos:
            if info.filename.lower().endswith((".xml", ".rels", ".vml")):
                _check_xml_member(archive, info, display)


def _check_xml_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, display: str) -> None:
    with archive.open(info) as member:
        head = b""
        while len(head) < _XML_PROLOGUE_LIMIT:
            chunk = member.read(65536)
            if not chunk:
                break
            head += chunk
            if re.search(rb"<[A-Za-z_]", _strip_prolog(head)):
                break
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = head.decode("utf-16", errors="replace").encode("utf-8", errors="replace")
    prolog = head[: m.start()] if (m := re.search(rb"<[A-Za-z_]", _strip_prolog(head))) else head
    if re.search(rb"<!(?:DOCTYPE|ENTITY)", prolog, re.IGNORECASE) or (
        m is None and len(head) >= _XML_PROLOGUE_LIMIT
    ):
        raise InputError(
            f"part {info.filename} declares XML entities (a DOCTYPE), which Excel never writes "
            "and which can be used to exhaust memory ('billion laughs'); refusing to open it",
            path=display,
            hint="open the file in Excel and save a new copy, or export it again",
        )
    if info.filename.startswith("xl/worksheets/") and m is not None:
        dim = re.search(rb'<dimension[^>]*ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"', head)
        if dim and dim.group(3):
            rows = int(dim.group(4)) - int(dim.group(2)) + 1
            cols = _col_number(dim.group(3)) - _col_number(dim.group(1)) + 1
            if rows * cols > MAX_SHEET_CELLS:
                raise InputError(
                    f"sheet part {info.filename} spans {rows:,} rows x {cols:,} columns, over "
                    f"the {MAX_SHEET_CELLS:,}-cell limit; refusing to open it",
                    path=display,
                    hint="delete unused rows/columns in Excel, or export as CSV",
                )


def _strip_prolog(head: bytes) -> bytes:
    """``head`` with the XML declaration, comments and processing instructions blanked out."""
    head = re.sub(rb"<\?.*?\?>", lambda m: b" " * len(m.group()), head, flags=re.DOTALL)
    return re.sub(rb"<!--.*?-->", lambda m: b" " * len(m.group()), head, flags=re.DOTALL)


def _col_number(letters: bytes) -> int:
    number = 0
    for ch in letters.decode():
        number = number * 26 + ord(ch) - 64
    return number


# --------------------------------------------------------------------------------------------
# OLE (legacy .xls, encrypted workbooks)


def check_ole(path: Path, display: str) -> None:
    """Refuse encrypted workbooks and Office files that are not workbooks."""
    data = path.read_bytes()
    if _utf16("EncryptedPackage") in data or _utf16("EncryptionInfo") in data:
        raise InputError(
            "is password-protected (encrypted), so it cannot be read",
            path=display,
            hint="open it in Excel, remove the password (File > Info > Protect Workbook), "
            "save, and try again",
        )
    if _utf16("Workbook") in data or _utf16("Book") in data:
        return
    what = "a Word document" if _utf16("WordDocument") in data else "an Office file"
    raise InputError(
        f"is {what}, not an Excel workbook",
        path=display,
        hint="give the CSV or Excel export itself",
    )
