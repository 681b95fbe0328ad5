"""The cache of parsed files: one Parquet file per file read, named by its SHA-256, written in
one step and ignored when unreadable or written by another format."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from auditkit.reference.ncci.layouts import Layout
from auditkit.reference.ncci.values import keep_expression

#: Environment variable naming the folder for auditkit's caches (the NCCI cache is ``ncci/``).
CACHE_ENV = "AUDITKIT_CACHE_DIR"
#: Bumped whenever the parsed table changes shape or meaning, so older caches are ignored.
CACHE_FORMAT = 1
_META_KEY = b"auditkit.ncci"


def default_cache_dir() -> Path:
    """The folder for parsed NCCI files: ``$AUDITKIT_CACHE_DIR/ncci`` when that is set, else the
    user's cache folder (``%LOCALAPPDATA%`` on Windows, ``~/Library/Caches`` on macOS,
    ``$XDG_CACHE_HOME`` or ``~/.cache`` elsewhere) ``/auditkit/ncci``."""
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return Path(explicit).expanduser() / "ncci"
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
        return base / "auditkit" / "Cache" / "ncci"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "auditkit" / "ncci"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "auditkit" / "ncci"


class CacheWriter:
    """Writes the parsed table beside its final name, then replaces it in one step; a failure
    to cache (read-only folder, full disk) only means that the next run parses again.

    Each batch is one row group, and each part (a file of a zip) records the row groups it
    spans, so a cached read can count what it keeps per part."""

    def __init__(self, target: Path, schema: pa.Schema) -> None:
        self.target = target
        self.schema = schema
        self.tmp: str | None = None
        self.writer: pq.ParquetWriter | None = None
        self.failed = False
        self.row_groups = 0

    def write(self, batch: pa.RecordBatch) -> None:
        if self.failed or batch.num_rows == 0:
            return
        try:
            if self.writer is None:
                self.target.parent.mkdir(parents=True, exist_ok=True)
                fd, self.tmp = tempfile.mkstemp(
                    prefix=f".{self.target.name}.", suffix=".tmp", dir=self.target.parent
                )
                os.close(fd)
                self.writer = pq.ParquetWriter(self.tmp, self.schema, compression="zstd")
            self.writer.write_batch(batch, row_group_size=batch.num_rows)
            self.row_groups += 1
        except (OSError, pa.ArrowException):
            self.abandon()
            self.failed = True

    def commit(self, meta: dict[str, Any]) -> None:
        if self.failed or self.writer is None:
            return
        try:
            self.writer.add_key_value_metadata({_META_KEY: json.dumps(meta).encode()})
            self.writer.close()
            self.writer = None
            assert self.tmp is not None
            os.replace(self.tmp, self.target)
            self.tmp = None
        except (OSError, pa.ArrowException):
            self.abandon()

    def abandon(self) -> None:
        if self.writer is not None:
            with contextlib.suppress(OSError, pa.ArrowException):
                self.writer.close()
            self.writer = None
        if self.tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.tmp)
            self.tmp = None


def read_cache(
    cache: Path, layout: Layout, wanted: frozenset[str] | None
) -> tuple[pa.Table, list[dict[str, Any]]] | None:
    """The cached parse of a file, filtered to ``wanted``; None when there is no usable cache
    (missing, unreadable, written by another version): the file is then parsed again and the
    cache rewritten."""
    if not cache.is_file():
        return None
    try:
        parquet = pq.ParquetFile(cache)
        with parquet:
            meta = json.loads((parquet.metadata.metadata or {})[_META_KEY])
            schema = parquet.schema_arrow.remove_metadata()
            groups = parquet.num_row_groups
        if meta.get("format") != CACHE_FORMAT or meta.get("kind") != layout.kind:
            return None
        if not schema.equals(layout.schema):
            return None
        parts = [dict(part) for part in meta["parts"]]
        if sum(part["row_groups"][1] - part["row_groups"][0] for part in parts) != groups:
            return None
        fragment = next(iter(ds.dataset(cache, format="parquet").get_fragments()))
        expression = None if wanted is None else keep_expression(layout, wanted)
        tables = []
        for part in parts:
            first, last = part["row_groups"]
            table = fragment.subset(row_group_ids=list(range(first, last))).to_table(
                filter=expression, schema=layout.schema
            )
            part["kept"] = table.num_rows
            part["from_cache"] = True
            tables.append(table)
        return pa.concat_tables(tables), parts
    except (OSError, ValueError, KeyError, TypeError, IndexError, StopIteration, pa.ArrowException):
        return None
