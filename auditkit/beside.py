"""Work done in a forked child process while this one goes on: the second core of a laptop.

A run does a few large pieces of work that do not depend on each other (the work list with a
few claim-level audits, and the other audits; the JSON and the workbook: see
:func:`auditkit.engine.runner.run_audits` and :func:`auditkit.pipeline.write_outputs`). Where
the system forks safely (Linux), one of them runs in a child process that sees this process's
memory as it is at the fork (copy on write: nothing is copied unless written) and hands its
result back through a pipe, while this process does the other. macOS and Windows do not fork safely with the libraries auditkit loads (and Excel
runs there), so there everything runs in this process, one piece after the other, with the
same results; so it does with ``AUDITKIT_ONE_PROCESS`` set.

The child's objects are never garbage-collected (so the pages it shares stay shared), it exits
without running this process's clean-up, and a child that fails, or takes too long once its
result is needed, is stopped and its work done here instead (:meth:`Beside.result` raises
:class:`BesideError` and the caller computes it itself): working on one core is slower, never
wrong.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os
import pickle
import signal
import sys
import threading
import traceback
from collections.abc import Callable
from contextlib import suppress
from typing import Any

#: Set (to anything) to do everything in the one process, one piece after the other.
ONE_PROCESS_ENV = "AUDITKIT_ONE_PROCESS"
#: How long :meth:`Beside.result` waits for a child that has not finished when its result is
#: needed, before it stops it (the work then runs here).
WAIT_SECONDS = 120.0


def can_fork() -> bool:
    """Whether work can run in a forked child process here: on Linux, unless
    ``AUDITKIT_ONE_PROCESS`` is set."""
    return (
        sys.platform.startswith("linux")
        and hasattr(os, "fork")
        and not os.environ.get(ONE_PROCESS_ENV)
    )


def glibc() -> Any:
    """The C library when it is glibc (mallopt and malloc_trim exist), else None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


class BesideError(RuntimeError):
    """The child did not deliver its result (it failed, or was stopped): do the work here."""


class BesideTimeoutError(BesideError):
    """The child had not finished in time, and was stopped."""


def fork_child(work: Callable[[], int]) -> int:
    """Fork; in the child call ``work()`` and exit with the code it returns (2 when it
    raises), never returning; in this process return the child's pid. Standard streams are
    flushed first so that nothing buffered is written twice."""
    sys.stdout.flush()
    sys.stderr.flush()
    libc = glibc()
    if libc is not None:
        # Free memory the allocator kept goes back to the system first: left in place, it is
        # shared with the child, and each page of it this process reuses while the child lives
        # would be copied (the child keeping the old one), for nothing.
        libc.malloc_trim(0)
    gc.freeze()  # this process's objects: out of the collector's reach in the child
    try:
        pid = os.fork()
    except OSError:  # no process to be had (a limit, no memory to commit): the caller's turn
        gc.unfreeze()
        raise
    if pid == 0:
        gc.disable()
        code = 2
        try:
            code = work()
        except BaseException:  # noqa: BLE001 - a bug: its text may hold export values
            if os.environ.get("AUDITKIT_DEBUG"):
                traceback.print_exc()
        finally:
            os._exit(code)
    gc.unfreeze()
    return pid


class Beside:
    """A function running in a child process (see :func:`start`)."""

    def __init__(self, pid: int, read_end: int) -> None:
        self.pid = pid
        self._read_end = read_end
        self._chunks: list[bytes] = []
        self._reader = threading.Thread(target=self._read, name="auditkit-beside", daemon=True)
        self._reader.start()
        self._settled = False

    def _read(self) -> None:
        # The pipe is drained as the child writes, so the child never waits for this process.
        with suppress(OSError):
            while chunk := os.read(self._read_end, 1 << 20):
                self._chunks.append(chunk)

    def result(self, wait: float | None = None) -> Any:
        """The function's return value. Raises BesideError when the child failed, and
        BesideTimeoutError when it did not finish within ``wait`` seconds (:data:`WAIT_SECONDS`)
        from now (it is then stopped)."""
        self._reader.join(WAIT_SECONDS if wait is None else wait)
        if self._reader.is_alive():
            self.cancel()
            raise BesideTimeoutError("the child process took too long; stopped")
        code = self._reap()
        data = b"".join(self._chunks)
        self._chunks.clear()
        if code != 0 or not data:
            raise BesideError(f"the child process failed ({code})")
        return pickle.loads(data)

    def _reap(self) -> int:
        if self._settled:
            return -1
        self._settled = True
        _, status = os.waitpid(self.pid, 0)
        with suppress(OSError):
            os.close(self._read_end)
        return os.waitstatus_to_exitcode(status)

    def cancel(self) -> None:
        """Stop the child (its result is not wanted) and let its resources go."""
        if self._settled:
            return
        with suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        self._reader.join(5)
        self._reap()
        self._chunks.clear()


def start(func: Callable[[], Any]) -> Beside | None:
    """Run ``func()`` in a child process; None where :func:`can_fork` says no or the system
    gives no process (the caller then calls it itself). The result travels back pickled, so
    it should be data (frames, arrays), not open files or locks."""
    if not can_fork():
        return None
    read_end, write_end = os.pipe()

    def work() -> int:
        os.close(read_end)
        data = pickle.dumps(func(), protocol=pickle.HIGHEST_PROTOCOL)
        with os.fdopen(write_end, "wb") as out:
            out.write(data)
        return 0

    try:
        pid = fork_child(work)
    except OSError:
        os.close(read_end)
        os.close(write_end)
        return None
    os.close(write_end)
    return Beside(pid, read_end)


__all__ = [
    "WAIT_SECONDS",
    "Beside",
    "BesideError",
    "BesideTimeoutError",
    "can_fork",
    "fork_child",
    "start",
]
