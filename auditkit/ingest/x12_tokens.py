"""Split an X12 file into segments, streaming, with the separators its ISA header declares.

The ISA segment is fixed width (106 characters): the element separator is its 4th character,
the repetition separator is ISA11, the component separator is ISA16 and the segment terminator
is the character right after ISA16. Every interchange (ISA..IEA) of a file may declare its own
separators; they are re-read at each ISA.

Segments may be ended by the terminator alone (one long line), by the terminator plus ``\\n`` or
``\\r\\n`` (one segment a line), or by a newline alone (when the terminator *is* a newline).
Blank lines are skipped. A newline inside what the terminator delimits also ends a segment, so a
file that mixes ``~`` and bare newlines reads as well (X12 data never holds a newline).

A file without an envelope (it starts at ST, or at GS) is read too: the element separator is the
character after ``ST``, the terminator is the first character after the ST segment's content
(``~`` or a newline) and the component separator is sniffed from the first SVC composite
(``:`` when there is none).

The file is read in 1 MiB chunks, so memory does not grow with the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from auditkit.errors import InputError
from auditkit.ingest.x12_model import Delimiters

#: Read size; a segment may straddle two chunks (the tail is carried over).
CHUNK_CHARS = 1 << 20
#: Whitespace stripped around segments (line breaks between segments, stray spaces).
_WS = " \t\r\n"
#: Enough text to hold an ISA header even with padding or a BOM in front.
_ISA_WINDOW = 512

#: Numeric ISA elements checked to tell a damaged header: (number, what, digits).
_ISA_NUMBERS = ((9, "date", 6), (10, "time", 4), (12, "version", 5), (13, "control number", 9))
_QUALIFIER_COMPOSITE = re.compile(
    r"(?:^|[\n~])SVC.(?:HC|AD|ER|IV|N4|NU|WK|HP|ZZ|RB)([^A-Za-z0-9 ])"
)


def _bad_isa(path: str | Path, position: int, what: str) -> InputError:
    return InputError(
        f"segment {position} (ISA): the interchange header is not valid: {what}",
        path=path,
        row=position,
        hint="an ISA header is 106 characters with 16 elements; re-export the 835 from the payer portal",
    )


def parse_isa(
    text: str, *, path: str | Path = "", position: int = 1
) -> tuple[Delimiters, str, int]:
    """Read the separators from the ISA header at the start of ``text``.

    Returns the delimiters, the ISA segment's text (without its terminator) and how many
    characters of ``text`` the header and its terminator (plus a following newline) take.
    """
    if len(text) < 4:
        raise _bad_isa(path, position, "the file ends inside the ISA header")
    element = text[3]
    if element.isalnum() or element in _WS:
        raise _bad_isa(path, position, f"the element separator (4th character) is {element!r}")
    index = 2
    for number in range(1, 17):
        index = text.find(element, index + 1, _ISA_WINDOW)
        if index < 0:
            raise _bad_isa(path, position, f"it has {number - 1} elements instead of 16")
    component_at = index + 1
    if component_at + 1 >= len(text):
        raise _bad_isa(path, position, "the file ends inside the ISA header")
    header = text[: component_at + 1]
    elements = header.split(element)
    broken = next((n for n, value in enumerate(elements) if "\n" in value or "\r" in value), None)
    if broken is not None:
        raise _bad_isa(
            path, position, f"a line break inside ISA{broken:02d} (fewer than 16 elements)"
        )
    for number, what, width in _ISA_NUMBERS:
        value = elements[number].strip()
        if not (value.isdigit() and len(value) == width):
            raise _bad_isa(path, position, f"ISA{number:02d} ({what}) is {value!r}")
    component = text[component_at]
    terminator = text[component_at + 1]
    if component.isalnum() or component in _WS or component == element:
        raise _bad_isa(path, position, f"ISA16, the component separator, is {component!r}")
    if terminator.isalnum() or terminator in (element, component, " "):
        raise _bad_isa(path, position, f"the segment terminator after ISA16 is {terminator!r}")
    consumed = component_at + 2
    if terminator == "\r" and text[consumed : consumed + 1] == "\n":
        terminator = "\n"
        consumed += 1
    repetition = elements[11]
    if (
        len(repetition) != 1
        or repetition.isalnum()
        or repetition in (element, component, terminator)
    ):
        repetition = None  # 4010 files put "U" (a standards id) here, not a separator
    return Delimiters(element, component, repetition, terminator, True), header, consumed


def sniff_headerless(text: str, *, path: str | Path = "") -> Delimiters:
    """Infer the separators of a file that starts at ST (or GS) without an ISA header."""
    element = text[2:3]
    if not element or element.isalnum() or element in _WS:
        raise InputError(
            "segment 1: this is not an X12 835 file (it does not start with ISA or ST)",
            path=path,
            row=1,
        )
    terminator = ""
    for char in text[3:400]:
        if char.isalnum() or char in (element, " "):
            continue
        terminator = "\n" if char in "\r\n" else char
        break
    if not terminator:
        raise InputError(
            "segment 1 (ST): cannot find the segment terminator after the ST segment",
            path=path,
            row=1,
        )
    # the character after a product qualifier in the first SVC01 (HC:99213 or HC>99213)
    found = _QUALIFIER_COMPOSITE.search(text)
    component = found.group(1) if found else ":"
    if component in (element, terminator):
        component = ":"
    return Delimiters(element, component, None, terminator, False)


def iter_segments(path: str | Path) -> Iterator[tuple[int, list[str], Delimiters]]:
    """Yield ``(position, elements, delimiters)`` for every segment of the file, in order.

    ``position`` is 1-based (the first segment, usually ISA, is 1); ``elements[0]`` is the
    segment id. Raises :class:`InputError` for a file that is not X12 or has a bad ISA header.
    """
    return _segments(Path(path))


def _segments(path: Path) -> Iterator[tuple[int, list[str], Delimiters]]:
    # one generator from the file to the segments (a second one delegating to it would cost a
    # few percent of a big file's parse)
    try:
        handle = path.open("r", encoding="utf-8-sig", errors="replace", newline="")
    except OSError as exc:
        raise InputError(f"cannot open the file: {exc.strerror}", path=path) from exc
    with handle:
        buf = handle.read(CHUNK_CHARS)
        eof = not buf
        if not buf.strip(_WS):
            raise InputError("the file is empty", path=path, hint="expected an X12 835 remittance")
        position = 0
        delims: Delimiters | None = None
        need_header = True
        while True:
            if need_header:
                while not eof and len(buf) < _ISA_WINDOW:
                    more = handle.read(CHUNK_CHARS)
                    eof = not more
                    buf += more
                buf = buf.lstrip(_WS)
                if not buf:
                    return
                if buf.startswith("ISA"):
                    delims, header, consumed = parse_isa(buf, path=path, position=position + 1)
                    position += 1
                    yield position, header.split(delims.element), delims
                    buf = buf[consumed:]
                elif delims is None and buf[:2] in ("ST", "GS"):
                    delims = sniff_headerless(buf, path=path)
                elif delims is None:
                    raise InputError(
                        "segment 1: this is not an X12 835 file (it does not start with ISA or ST)",
                        path=path,
                        row=1,
                        hint="pass the payer's 835 remittance (ERA) file",
                    )
                need_header = False
                continue
            if not eof:
                more = handle.read(CHUNK_CHARS)
                eof = not more
                buf += more
            terminator = delims.terminator
            element = delims.element
            pieces = buf.split(terminator)
            carry = "" if eof else pieces.pop()
            restart = False
            for index, piece in enumerate(pieces):
                text = piece.strip(_WS)
                if not text:
                    continue
                if text.startswith("ISA"):
                    # a new interchange: its header may declare other separators
                    rest = pieces[index:] if eof else [*pieces[index:], carry]
                    buf = terminator.join(rest)
                    need_header = True
                    restart = True
                    break
                if "\n" in text and terminator != "\n":
                    # segments ended by a bare newline inside a file that uses another terminator
                    for part in text.split("\n"):
                        part = part.strip(_WS)
                        if part:
                            position += 1
                            yield position, part.split(element), delims
                    continue
                position += 1
                yield position, text.split(element), delims
            if restart:
                continue
            buf = carry
            if eof:
                return
