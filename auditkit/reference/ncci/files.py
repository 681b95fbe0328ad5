"""The files to read: folders expanded, zips opened (one table file per name, the text before
the workbook), each file hashed for the cache."""

from __future__ import annotations

import hashlib
import os
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from auditkit.errors import InputError

#: Suffixes read as delimited text, as workbooks, and as archives.
TEXT_SUFFIXES = (".txt", ".csv", ".tsv")
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls")
ARCHIVE_SUFFIX = ".zip"
#: Inside a zip, when one table comes in several formats (same name), the first of these wins.
_FORMAT_PREFERENCE = (".txt", ".csv", ".tsv", ".xlsx", ".xlsm", ".xls")

PathLike = str | os.PathLike[str]
_T = TypeVar("_T")


def expand_paths(paths: Sequence[PathLike] | PathLike) -> list[Path]:
    """The files to read: each path as given; a folder gives its table files, sorted (one per
    table: a file that is also inside one of the folder's zips, or a .xlsx beside its .txt, is
    left out)."""
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    out: list[Path] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found = sorted(
                p
                for p in path.iterdir()
                if p.is_file()
                and p.suffix.lower() in (*TEXT_SUFFIXES, *WORKBOOK_SUFFIXES, ARCHIVE_SUFFIX)
                and not p.name.startswith((".", "~$"))
            )
            if not found:
                raise InputError(
                    "the folder holds no .zip, .txt, .csv or .xlsx file", path=str(given)
                )
            zips = [p for p in found if p.suffix.lower() == ARCHIVE_SUFFIX]
            zipped = {_stem(name) for z in zips for name in _member_names(z)}
            loose = _preferred([p for p in found if p not in zips], lambda p: p.name)
            out += zips + [p for p in loose if _stem(p.name) not in zipped]
        elif path.is_file():
            out.append(path)
        else:
            raise InputError("file not found", path=str(given))
    return out


def _stem(name: str) -> str:
    """A table file's name without folders or suffix, lower-case (to pair a .txt and .xlsx)."""
    return Path(name).stem.lower()


def _member_names(path: Path) -> list[str]:
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return []  # reported when the zip itself is read


def _preferred(items: list[_T], name_of: Callable[[_T], str]) -> list[_T]:
    """Of table files with the same name in several formats, the first of
    :data:`_FORMAT_PREFERENCE` (the text is faster to read than the workbook)."""
    rank = {suffix: i for i, suffix in enumerate(_FORMAT_PREFERENCE)}
    best: dict[str, _T] = {}
    for item in items:
        name = name_of(item)
        key = str(Path(name).with_suffix("")).lower()
        other = best.get(key)
        if other is None or rank.get(Path(name).suffix.lower(), 99) < rank.get(
            Path(name_of(other)).suffix.lower(), 99
        ):
            best[key] = item
    return [i for i in items if best[str(Path(name_of(i)).with_suffix("")).lower()] is i]


def file_sha256(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path=str(path)) from exc


@dataclass
class Part:
    """One table file to parse: a file, or a file inside a zip."""

    name: str  # the file's own name (a zip member's, without folders)
    member: str | None
    where: str  # for messages: the path, or "zip/member"
    load: Callable[[], bytes]


def parts_of(path: Path) -> Iterator[Part]:
    suffix = path.suffix.lower()
    head = b""
    if suffix != ARCHIVE_SUFFIX:
        with path.open("rb") as handle:
            head = handle.read(4)
    if suffix == ARCHIVE_SUFFIX or (suffix not in WORKBOOK_SUFFIXES and head == b"PK\x03\x04"):
        try:
            archive = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise InputError("not a readable zip file", path=str(path)) from exc
        with archive:
            members = [
                m
                for m in archive.infolist()
                if not m.is_dir()
                and Path(m.filename).suffix.lower() in (*TEXT_SUFFIXES, *WORKBOOK_SUFFIXES)
                and not Path(m.filename).name.startswith((".", "~$"))
                and not m.filename.startswith("__MACOSX/")
            ]
            chosen = _preferred(members, lambda m: m.filename)
            if not chosen:
                names = ", ".join(m.filename for m in archive.infolist()) or "nothing"
                raise InputError(
                    f"the zip holds no .txt, .csv or .xlsx file (it holds {names})", path=str(path)
                )
            for info in chosen:
                yield Part(
                    name=Path(info.filename).name,
                    member=info.filename,
                    where=f"{path}/{info.filename}",
                    load=lambda info=info: _read_member(archive, info, path),
                )
    else:
        yield Part(path.name, None, str(path), lambda: path.read_bytes())


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path) -> bytes:
    try:
        return archive.read(info)
    except (zipfile.BadZipFile, OSError, RuntimeError, EOFError) as exc:
        # RuntimeError: an encrypted member; EOFError / BadZipFile: a truncated download
        raise InputError(f"cannot read {info.filename} in the zip: {exc}", path=str(path)) from exc
