"""Read the modules of a VBA project (``vbaProject.bin``) without Excel, for the template tests.

A VBA project is an OLE compound file; each module's source is stored compressed (MS-OVBA
section 2.4.1) in the ``VBA/<module>`` stream after an offset that the compressed ``VBA/dir``
stream gives (record 0x0031, MODULEOFFSET). olefile reads the compound file; the decompression
is written here from that specification.
"""

from __future__ import annotations

import io
import re
import struct

import olefile


def decompress(data: bytes) -> bytes:
    """MS-OVBA 2.4.1: decompress a CompressedContainer."""
    if not data or data[0] != 1:
        raise ValueError("not an MS-OVBA compressed container")
    out = bytearray()
    pos = 1
    while pos < len(data):
        header = struct.unpack_from("<H", data, pos)[0]
        chunk_end = min(pos + (header & 0x0FFF) + 3, len(data))
        pos += 2
        start = len(out)
        if not header & 0x8000:  # an uncompressed chunk: 4096 raw bytes
            out += data[pos : pos + 4096]
            pos += 4096
            continue
        while pos < chunk_end:
            flags = data[pos]
            pos += 1
            for bit in range(8):
                if pos >= chunk_end:
                    break
                if not flags & (1 << bit):  # a literal byte
                    out.append(data[pos])
                    pos += 1
                    continue
                token = struct.unpack_from("<H", data, pos)[0]  # a copy token
                pos += 2
                offset_bits = max((len(out) - start - 1).bit_length(), 4)
                length = (token & (0xFFFF >> offset_bits)) + 3
                offset = (token >> (16 - offset_bits)) + 1
                for _ in range(length):
                    out.append(out[-offset])
    return bytes(out)


def modules(vba_project: bytes) -> dict[str, str]:
    """Module name -> VBA source text, for every module of the project."""
    ole = olefile.OleFileIO(io.BytesIO(vba_project))
    directory = decompress(ole.openstream("VBA/dir").read())
    pos, name, found = 0, None, []
    while pos < len(directory):
        record, size = struct.unpack_from("<HI", directory, pos)
        pos += 6
        if record == 0x0009:  # PROJECTVERSION: its size field does not count its 2 last bytes
            size = 6
        body = directory[pos : pos + size]
        pos += size
        if record == 0x0019:  # MODULENAME
            name = body.decode("latin-1")
        elif record == 0x0031:  # MODULEOFFSET
            found.append((name, struct.unpack("<I", body)[0]))
    return {
        module: decompress(ole.openstream(f"VBA/{module}").read()[offset:]).decode("latin-1")
        for module, offset in found
    }


def public_procedures(source: str) -> set[str]:
    """Names of the Subs and Functions a button or Alt+F8 can run (not Private)."""
    pattern = re.compile(r"^(?:Public\s+)?(?:Sub|Function)\s+(\w+)\s*\(", re.MULTILINE)
    return set(pattern.findall(source))
