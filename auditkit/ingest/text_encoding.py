"""Text encodings of delimited exports: detected, and served to pyarrow as UTF-8.

The encoding is detected as UTF-8 with or without BOM, UTF-16 LE/BE - with BOM or without, as
Excel's "Unicode text" writes -, else Windows-1252. :func:`scan_encoding` finds it by reading the
file once in blocks, without holding it whole; :func:`decode` is the in-memory reading that has
the last word on odd files (UTF-8 with a few stray bytes, bytes that are neither UTF-8 nor
Windows-1252, broken UTF-16). :class:`Utf16AsUtf8` transcodes a byte range of a UTF-16 file on
the fly, for pyarrow, which parses UTF-8 only.
"""

from __future__ import annotations

import codecs
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from auditkit.errors import InputError
from auditkit.ingest.sniff import utf16_byte_order

#: Bytes read at a time when scanning a file's encoding or transcoding UTF-16.
SCAN_BYTES = 8 * 1024 * 1024
#: Bytes Windows-1252 leaves undefined (Python refuses to decode them).
_CP1252_UNDEFINED = np.array([0x81, 0x8D, 0x8F, 0x90, 0x9D], dtype=np.uint8)


_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


def decode(raw: bytes, display: str, warnings: list[str] | None = None) -> tuple[bytes, str]:
    """``raw`` as UTF-8 bytes (BOM removed) and the encoding it was in.

    A UTF-8 file with a few stray bytes (an edit made in another program) is read as UTF-8 with
    those bytes replaced by U+FFFD, and a warning names the first row; reading the whole file as
    Windows-1252 would garble every accented name instead.
    """
    if raw.startswith(b"\xef\xbb\xbf"):
        encoding, body = "utf-8-sig", raw[3:]
    elif raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16-le" if raw.startswith(b"\xff\xfe") else "utf-16-be"
        body = _transcode(raw[2:], encoding, display)
    elif (order := utf16_byte_order(raw[:4096])) is not None:
        encoding, body = order, _transcode(raw, order, display)
    elif raw.isascii():
        encoding, body = "utf-8", raw
    else:
        try:
            raw.decode("utf-8")
            encoding, body = "utf-8", raw
        except UnicodeDecodeError as utf8_error:
            mixed = raw.decode("utf-8", errors="replace")
            stray = mixed.count("\ufffd")
            if len(_UTF8_MULTIBYTE.findall(raw)) > stray:
                line = raw.count(b"\n", 0, utf8_error.start) + 1
                if warnings is not None:
                    warnings.append(
                        f"{stray:,} bytes are not valid UTF-8 (first on row {line}); they were "
                        "read as \ufffd"
                    )
                return _mac_line_ends(mixed.encode("utf-8")), "utf-8"
            try:
                body = raw.decode("cp1252").encode("utf-8")
                encoding = "cp1252"
            except UnicodeDecodeError:
                line = raw.count(b"\n", 0, utf8_error.start) + 1
                raise InputError(
                    f"cannot be decoded as text: byte 0x{raw[utf8_error.start]:02X} at position "
                    f"{utf8_error.start:,} is neither UTF-8 nor Windows-1252",
                    path=display,
                    row=line,
                    hint="export it again as CSV (UTF-8), or open it in Excel and save as "
                    "'CSV UTF-8'",
                ) from None
    return _mac_line_ends(body), encoding


def _mac_line_ends(body: bytes) -> bytes:
    if b"\n" not in body and b"\r" in body:  # classic Mac line ends
        return body.replace(b"\r", b"\n")
    return body


def _transcode(raw: bytes, encoding: str, display: str) -> bytes:
    try:
        return raw.decode(encoding).encode("utf-8")
    except UnicodeDecodeError as exc:
        text_before = raw[: exc.start].decode(encoding, errors="replace")
        raise InputError(
            f"cannot be decoded as {encoding.upper()} text (bad bytes at position {exc.start:,})",
            path=display,
            row=text_before.count("\n") + 1,
            hint="export it again, or open it in Excel and save as 'CSV UTF-8'",
        ) from None


@dataclass(frozen=True)
class TextLayout:
    """How a text file's bytes are laid out: the encoding reported, the codec of the bytes on
    disk and the offset of the first character (after a byte-order mark)."""

    encoding: str
    codec: str
    start: int

    @property
    def wide(self) -> bool:
        """True for UTF-16, where the bytes must be transcoded before pyarrow parses them."""
        return self.codec.startswith("utf-16")


def scan_encoding(path: Path) -> TextLayout | None:
    """The encoding :func:`decode` would choose for ``path``, found without loading the file.

    Reads the file once in blocks; only the non-ASCII bytes are looked at closely, so this costs
    about as much as reading the file. Returns ``None`` for the rare files whose reading
    :func:`decode` words itself: UTF-8 with a few stray bytes (a warning), bytes that are neither
    UTF-8 nor Windows-1252 and broken UTF-16 (errors).
    """
    with path.open("rb") as handle:
        head = handle.read(4096)
        if head.startswith(b"\xef\xbb\xbf"):
            return TextLayout("utf-8-sig", "utf-8", 3)  # decode() does not check a BOM file
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            codec = "utf-16-le" if head.startswith(b"\xff\xfe") else "utf-16-be"
            handle.seek(2)
            return TextLayout(codec, codec, 2) if _utf16_valid(handle, codec) else None
        order = utf16_byte_order(head)
        handle.seek(0)
        if order is not None:
            return TextLayout(order, order, 0) if _utf16_valid(handle, order) else None
        return _scan_8bit(handle)


def _utf16_valid(handle: BinaryIO, codec: str) -> bool:
    """True when the rest of ``handle`` decodes as ``codec``: whole code units, and every
    surrogate in a high-low pair (the only ways UTF-16 can fail to decode)."""
    dtype = np.dtype("<u2" if codec.endswith("le") else ">u2")
    carry = b""
    while True:
        block = handle.read(SCAN_BYTES)
        data = carry + block if carry else block
        units = np.frombuffer(data, dtype, count=len(data) // 2)
        used = len(units)
        if block and used and 0xD800 <= int(units[-1]) <= 0xDBFF:
            used -= 1  # a high surrogate whose partner is in the next block
        if not _surrogates_paired(units[:used]):
            return False
        carry = data[2 * used :]
        if not block:
            return not carry


def _surrogates_paired(units: np.ndarray) -> bool:
    surrogate = (units & 0xF800) == 0xD800
    if not surrogate.any():
        return True
    high = np.flatnonzero((units & 0xFC00) == 0xD800)
    low = np.flatnonzero((units & 0xFC00) == 0xDC00)
    return len(high) == len(low) and bool(np.array_equal(high + 1, low))


def _scan_8bit(handle: BinaryIO) -> TextLayout | None:
    """:func:`decode`'s choice between UTF-8 and Windows-1252, made block by block.

    ASCII bytes never take part in a multi-byte sequence, so each block's runs of non-ASCII
    bytes, joined by a newline, give the same counts (valid, stray, multi-byte) as the whole
    file does; blocks are cut so that no run is split.
    """
    non_ascii, valid, cp1252 = False, True, True
    stray = multibyte = 0
    carry = b""
    while True:
        block = handle.read(SCAN_BYTES)
        data = carry + block if carry else block
        carry = b""
        if not data.isascii():
            array = np.frombuffer(data, np.uint8)
            high = np.flatnonzero(array >= 0x80)
            breaks = np.flatnonzero(np.diff(high) != 1) + 1
            if block and high[-1] == len(data) - 1:
                # the last run may go on in the next block: carry it over whole
                run_start = int(high[breaks[-1]]) if len(breaks) else int(high[0])
                carry = data[run_start:]
                high = high[high < run_start]
                breaks = breaks[breaks < len(high)]
            if len(high):
                non_ascii = True
                values = array[high]
                runs = np.insert(values, breaks, ord("\n")).tobytes()
                try:
                    runs.decode("utf-8")
                except UnicodeDecodeError:
                    valid = False
                stray += runs.decode("utf-8", errors="replace").count("\ufffd")
                multibyte += len(_UTF8_MULTIBYTE.findall(runs))
                cp1252 = cp1252 and not bool(np.isin(values, _CP1252_UNDEFINED).any())
        if not block:
            break
    if not non_ascii or valid:
        return TextLayout("utf-8", "utf-8", 0)
    if multibyte > stray or not cp1252:
        return None  # UTF-8 with stray bytes, or undecodable: decode() reads or refuses it
    return TextLayout("cp1252", "cp1252", 0)


class Utf16AsUtf8(io.RawIOBase):
    """A byte range of a UTF-16 file, served as UTF-8 (pyarrow parses UTF-8 only)."""

    def __init__(self, path: Path, start: int, end: int, codec: str) -> None:
        super().__init__()
        self._file = path.open("rb")
        self._file.seek(start)
        self._left = end - start
        self._decoder = codecs.getincrementaldecoder(codec)()
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not len(self._pending) and self._left:
            raw = self._file.read(min(SCAN_BYTES, self._left))
            self._left = self._left - len(raw) if raw else 0
            text = self._decoder.decode(raw, final=not self._left)
            self._pending = memoryview(text.encode("utf-8"))
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size

    def close(self) -> None:
        self._file.close()
        super().close()
