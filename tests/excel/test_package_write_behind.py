"""Writing a sheet's rows from a second thread (package._write_behind): in order, bounded, and
an error on either side is raised, never a hang."""

from __future__ import annotations

import io
import threading
import zipfile

import pytest

from auditkit.excel import package


def test_chunks_arrive_in_order_and_compressed():
    chunks = [f"<row r='{i}'/>".encode() * (i + 1) for i in range(50)]
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("sheet.xml", "w") as stream,
    ):
        stream.write(b"<head>")
        package._write_behind(stream, iter(chunks))
        stream.write(b"</head>")
    with zipfile.ZipFile(buffer) as archive:
        assert archive.read("sheet.xml") == b"<head>" + b"".join(chunks) + b"</head>"


def test_no_more_than_the_queue_waits():
    release = threading.Event()
    made: list[int] = []
    made_when_released: list[int] = []

    class StuckStream:
        def __init__(self):
            self.written = []

        def write(self, chunk):
            release.wait(5)
            self.written.append(chunk)

    def chunks():
        for i in range(10):
            made.append(i)
            yield bytes([i])

    def let_go():
        made_when_released.append(len(made))
        release.set()

    timer = threading.Timer(0.3, let_go)
    timer.start()
    stream = StuckStream()
    package._write_behind(stream, chunks())
    timer.join()
    # While the writer was stuck on the first chunk, the rows made ahead were at most the
    # queued ones and the one waiting to be queued.
    assert made_when_released == [1 + package._QUEUED_CHUNKS + 1]
    assert stream.written == [bytes([i]) for i in range(10)]


def test_an_error_while_writing_is_raised():
    class Broken:
        def write(self, chunk):
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        package._write_behind(Broken(), iter([b"a"] * 20))


def test_an_error_while_making_rows_is_raised():
    written = []

    class Stream:
        def write(self, chunk):
            written.append(chunk)

    def chunks():
        yield b"a"
        raise ValueError("bad row")

    with pytest.raises(ValueError, match="bad row"):
        package._write_behind(Stream(), chunks())
    assert written == [b"a"]
