"""Atomic file writes: a crash or a locked file never leaves a half-written output."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from auditkit.errors import OutputError


def _mode_for(target: Path) -> int:
    """The replaced file's permissions, else the default under the user's umask."""
    try:
        return target.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def output_error(exc: OSError, target: Path) -> OutputError:
    """One-line error for an output that cannot be written."""
    if isinstance(exc, PermissionError):
        return OutputError(
            "cannot write: permission denied, or the file is open in another program",
            path=target,
            hint="close it or choose another path; the existing file was not changed",
        )
    return OutputError(
        f"cannot write: {exc.strerror or exc}",
        path=target,
        hint="the existing file was not changed",
    )


def atomic_write(target: str | os.PathLike[str], write: Callable[[BinaryIO], None]) -> Path:
    """Call ``write(handle)`` on a temporary file beside ``target``, then replace ``target``.

    The temporary file gets the permissions a normal save would give (mkstemp makes it private);
    on any failure it is removed and ``target`` is left as it was.
    """
    target = Path(target)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise OutputError("the folder does not exist", path=target, hint="create it first")
    if target.is_dir():
        raise OutputError("is a folder, not a file", path=target)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise output_error(exc, target) from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
        os.chmod(tmp, _mode_for(target))
        os.replace(tmp, target)
    except OSError as exc:
        raise output_error(exc, target) from exc
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def atomic_write_bytes(target: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``target`` atomically (see :func:`atomic_write`)."""
    return atomic_write(target, lambda handle: handle.write(data))
