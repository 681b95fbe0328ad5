"""Writing output files without ever losing one of the user's files.

* :func:`atomic_write` writes to a temporary file beside the target, then replaces the target in
  one step: a crash, a full disk or a locked file never leaves a half-written output, and the
  previous file stays as it was until the new one is complete.
* A **symlinked** target updates the file the link points to; the link stays a link (a plain
  rename would replace the link itself with a regular file).
* A **read-only** target is refused with an :class:`~auditkit.errors.OutputError` naming it. A
  rename only needs the folder to be writable, so without this check a file the user protected
  would be replaced silently.
* :func:`check_outputs` is the preflight every command runs before it does any work: no output
  may be one of the run's inputs (the export, a remittance, the mapping, ...), the same file may
  not be named by two outputs, and each target must be writable.
* :func:`all_or_nothing`: several outputs of one run are written together or not at all. Inside
  the block each :func:`atomic_write` leaves its temporary file in place; when the block ends
  without error all of them are put in place (if one replace fails, those already replaced are
  put back), and on any error none is and the temporary files are removed.
* :func:`start_atomic_write` is :func:`atomic_write` run in a forked process while the caller
  goes on (where the system forks safely: Linux), so that two outputs of one run are written
  on two cores; :meth:`BackgroundWrite.finish` waits for it and puts the file in place (or
  stages it in the :func:`all_or_nothing` block) exactly as :func:`atomic_write` would.
"""

from __future__ import annotations

import os
import secrets
import stat
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from auditkit.beside import WAIT_SECONDS, Beside, BesideError, BesideTimeoutError, start
from auditkit.errors import OutputError

PathLike = str | os.PathLike[str]


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


def real_path(path: PathLike) -> Path:
    """``path`` with every symlink resolved (the file a write must update)."""
    return Path(os.path.realpath(path))


def is_read_only(path: PathLike) -> bool:
    """True when ``path`` is an existing file this process must not replace.

    No write permission bit at all counts as read-only even for an administrator (who may write
    anything): the user marked the file read-only on purpose.
    """
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    if not stat.S_ISREG(mode):
        return False
    return not mode & 0o222 or not os.access(path, os.W_OK)


def check_writable(target: PathLike) -> Path:
    """Raise OutputError when ``target`` cannot be written; return the file to write.

    That is ``target`` itself, or for a symlink the file it points to.
    """
    shown = Path(target)
    real = real_path(shown)
    if not real.parent.is_dir():
        raise OutputError("the folder does not exist", path=shown, hint="create it first")
    if real.is_dir():
        raise OutputError("is a folder, not a file", path=shown)
    if is_read_only(real):
        raise OutputError(
            "is read-only, so auditkit did not replace it; nothing was written",
            path=shown,
            hint="make it writable or choose another name",
        )
    return real


def same_file(a: PathLike, b: PathLike) -> bool:
    """True when ``a`` and ``b`` name one file (symlinks, ``..`` and hard links seen through)."""
    if real_path(a) == real_path(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check_outputs(
    replaced: Mapping[str, PathLike | None],
    *,
    updated: Mapping[str, PathLike | None] | None = None,
    inputs: Mapping[str, Iterable[PathLike | None]] | None = None,
) -> None:
    """Refuse (OutputError, one line) before anything is written or computed.

    ``replaced``: what each output is called (``"--json"``) -> the file it replaces;
    ``updated``: outputs written into an existing file whose content is kept (``--into``): they
    may be an input, but no other output may name them; ``inputs``: what each input is (``"the
    export"``) -> the files the run reads. An output naming an input, two outputs naming one
    file, a missing folder, a folder or a read-only file is refused.
    """
    outputs = [(what, p) for what, p in replaced.items() if p is not None]
    kept = [(what, p) for what, p in (updated or {}).items() if p is not None]
    for _, path in outputs + kept:
        check_writable(path)
    seen: list[tuple[str, PathLike]] = []
    for what, path in kept + outputs:
        for other, earlier in seen:
            if same_file(path, earlier):
                raise OutputError(
                    f"is named by both {other} and {what}; each output needs a file of its own, "
                    "so nothing was written",
                    path=path,
                    hint="choose another name for one of them",
                )
        seen.append((what, path))
    for what, path in outputs:
        for role, paths in (inputs or {}).items():
            for source in paths:
                if source is None or os.path.isdir(source):
                    continue
                if same_file(path, source):
                    raise OutputError(
                        f"{what} names an input of this run ({role}); auditkit never writes "
                        "over its inputs, so nothing was written",
                        path=path,
                        hint="choose another name for the output",
                    )


@dataclass
class _Staged:
    """A complete output waiting in its temporary file to be put in place."""

    temporary: Path
    real: Path
    shown: Path


#: The writes of the innermost :func:`all_or_nothing` block (None outside one).
_STAGED: ContextVar[list[_Staged] | None] = ContextVar("auditkit_staged_outputs", default=None)


def atomic_write(target: PathLike, write: Callable[[BinaryIO], None]) -> Path:
    """Call ``write(handle)`` on a temporary file beside ``target``, then replace ``target``.

    The temporary file gets the permissions a normal save would give (mkstemp makes it private);
    on any failure it is removed and ``target`` is left as it was. Inside
    :func:`all_or_nothing` the replace waits for the end of the block.
    """
    shown, real, fd, tmp = _temporary_beside(target)
    kept = False
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
        kept = _put_in_place(Path(tmp), real, shown)
    except OSError as exc:
        raise output_error(exc, shown) from exc
    finally:
        if not kept and os.path.exists(tmp):
            os.unlink(tmp)
    return shown


def _temporary_beside(target: PathLike) -> tuple[Path, Path, int, str]:
    """For writing ``target``: its name as given, the real file (checked writable), and an
    open temporary file in the same folder (descriptor and path)."""
    shown = Path(target)
    real = check_writable(shown)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{real.name}.", suffix=".tmp", dir=real.parent)
    except OSError as exc:
        raise output_error(exc, shown) from exc
    return shown, real, fd, tmp


def _put_in_place(tmp: Path, real: Path, shown: Path, at: int | None = None) -> bool:
    """Give the finished temporary file its permissions and replace the target with it, or
    stage it in the current :func:`all_or_nothing` block, at place ``at`` of its outputs (the
    end when None), so outputs are put in place in the order they were begun (True: it was
    staged, keep it)."""
    os.chmod(tmp, _mode_for(real))
    staged = _STAGED.get()
    if staged is None:
        os.replace(tmp, real)
        return False
    staged.insert(len(staged) if at is None else at, _Staged(tmp, real, shown))
    return True


@dataclass
class BackgroundWrite:
    """An :func:`atomic_write` running in a child process (see :func:`start_atomic_write`)."""

    job: Beside  # says "" when the file is written, "os:errno:text" on an OSError
    temporary: Path
    real: Path
    shown: Path
    #: Its place among the outputs staged in the all_or_nothing block when it was begun.
    place: int | None = None

    def finish(self, wait: float | None = None) -> Path:
        """Wait for the child; put its file in place (or stage it), as :func:`atomic_write`
        would. Raises OutputError when the file could not be written (the target unchanged),
        RuntimeError when the child failed otherwise, and BesideError (after stopping it) when
        it has not finished ``wait`` seconds (WAIT_SECONDS) from now: the caller then writes
        the file itself."""
        kept = False
        try:
            try:
                said = self.job.result(WAIT_SECONDS if wait is None else wait)
            except BesideTimeoutError:
                raise BesideError(
                    f"writing {self.shown.name} took too long in its helper process"
                ) from None
            except BesideError:  # a bug: its text may hold export values, so it is not passed on
                raise RuntimeError(
                    f"writing {self.shown.name} failed in its helper process"
                ) from None
            if not said:
                kept = _put_in_place(self.temporary, self.real, self.shown, self.place)
                return self.shown
            number, _, text = said.removeprefix("os:").partition(":")
            raise output_error(OSError(int(number or 0), text or None), self.shown)
        except OSError as exc:
            raise output_error(exc, self.shown) from exc
        finally:
            if not kept:
                self.temporary.unlink(missing_ok=True)

    def abandon(self) -> None:
        """Stop the child (the caller failed) and remove its temporary file."""
        self.job.cancel()
        self.temporary.unlink(missing_ok=True)


def start_atomic_write(
    target: PathLike, write: Callable[[BinaryIO], None]
) -> BackgroundWrite | None:
    """:func:`atomic_write` of ``target`` in a child process (:func:`auditkit.beside.start`);
    returns at once (None where there is no child to be had: the caller then writes it itself).

    The child sees the parent's memory as it is now (copy on write: nothing is copied unless
    written, and the child's objects are never garbage-collected, so their pages stay shared);
    it writes the temporary file and exits. Call :meth:`BackgroundWrite.finish` (or
    :meth:`~BackgroundWrite.abandon` on an error) in the same :func:`all_or_nothing` block.
    """
    shown, real, fd, tmp = _temporary_beside(target)

    def work() -> str:
        # In the child: write, and say how it went (an OSError's text only: no export values).
        try:
            with os.fdopen(fd, "wb") as handle:
                write(handle)
        except OSError as exc:
            return f"os:{exc.errno or 0}:{exc.strerror or ''}"
        return ""

    job = start(work)
    os.close(fd)  # the child has its own
    if job is None:
        os.unlink(tmp)
        return None
    staged = _STAGED.get()
    place = len(staged) if staged is not None else None
    return BackgroundWrite(job, Path(tmp), real, shown, place)


def atomic_write_bytes(target: PathLike, data: bytes) -> Path:
    """Write ``data`` to ``target`` atomically (see :func:`atomic_write`)."""
    return atomic_write(target, lambda handle: handle.write(data))


@contextmanager
def all_or_nothing() -> Iterator[None]:
    """Put every :func:`atomic_write` made inside the block in place together, or none.

    A block inside another one joins the outer block (the outer one puts them in place).
    """
    if _STAGED.get() is not None:
        yield
        return
    staged: list[_Staged] = []
    token = _STAGED.set(staged)
    try:
        yield
    except BaseException:
        _discard(staged)
        raise
    finally:
        _STAGED.reset(token)
    _commit(staged)


def _discard(staged: list[_Staged]) -> None:
    for item in staged:
        item.temporary.unlink(missing_ok=True)


def _backup(real: Path) -> Path | None:
    """A second name (hard link) for the file about to be replaced, to put it back if needed."""
    if not real.exists():
        return None
    backup = real.with_name(f".{real.name}.{secrets.token_hex(4)}.tmp")
    try:
        os.link(real, backup)
    except OSError:  # a file system without hard links: no rollback for this file
        return None
    return backup


def _commit(staged: list[_Staged]) -> None:
    """Replace every target with its temporary file; on a failure put back those replaced."""
    try:
        for item in staged:
            check_writable(item.shown)  # it may have become read-only meanwhile
    except OutputError:
        _discard(staged)
        raise
    done: list[tuple[_Staged, Path | None, bool]] = []
    backups: list[Path] = []
    try:
        for item in staged:
            existed = item.real.exists()
            backup = _backup(item.real)
            if backup is not None:
                backups.append(backup)
            try:
                os.replace(item.temporary, item.real)
            except OSError as exc:
                lost = _roll_back(done)
                error = output_error(exc, item.shown)
                if lost:
                    error.hint = (
                        f"{', '.join(lost)} could not be put back as it was; "
                        "close the file or choose another path"
                    )
                elif done:
                    error.hint = f"{error.hint}, nor were the other outputs"
                raise error from exc
            done.append((item, backup, existed))
    finally:
        _discard(staged)
        for backup in backups:
            backup.unlink(missing_ok=True)


def _roll_back(done: list[tuple[_Staged, Path | None, bool]]) -> list[str]:
    """Put back the files replaced so far; return those that could not be."""
    lost = []
    for item, backup, existed in reversed(done):
        try:
            if backup is not None:
                os.replace(backup, item.real)
            elif not existed:
                item.real.unlink()
            else:
                lost.append(str(item.shown))
        except OSError:
            lost.append(str(item.shown))
    return lost
