"""The public readers: :func:`read_ptp` and :func:`read_mue` (each file from the cache or
parsed, its sources recorded)."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

from auditkit.errors import InputError
from auditkit.reference.ncci.cache import CACHE_FORMAT, CacheWriter, default_cache_dir, read_cache
from auditkit.reference.ncci.files import PathLike, expand_paths, file_sha256, parts_of
from auditkit.reference.ncci.layouts import (
    MUE_LAYOUT,
    PTP_LAYOUT,
    Layout,
    WrongTableError,
    check_name,
)
from auditkit.reference.ncci.parse import parse_part
from auditkit.reference.ncci.tables import MueTable, NcciSource, PtpTable, version_and_quarter
from auditkit.reference.ncci.values import as_codes, keep_mask, normalise_codes


def read_ptp(
    paths: Sequence[PathLike] | PathLike,
    codes: Collection[str] | None = None,
    cache_dir: Path | None = None,
) -> PtpTable:
    """Read CMS's practitioner PTP edit files as downloaded.

    ``paths``: the zips CMS serves (each may hold several files), the ``.txt`` / ``.xlsx`` /
    ``.csv`` files inside them, or folders holding them; give all of f1 to f4. ``codes``: keep
    only pairs whose two codes are both among them (an export's billed codes); None keeps
    every edit. ``cache_dir``: where parsed files are cached (default :func:`default_cache_dir`).

    Raises :class:`~auditkit.errors.InputError`, one line naming the file, for a file that is
    missing, unreadable or not a practitioner PTP file. Example::

        table = read_ptp(["ccipra-v322r0-f1.zip", "ccipra-v322r0-f2.zip"], codes={"64483", "77003"})
        table.frame()  # column1, column2, effective, deletion, modifier_indicator, rationale
    """
    table, sources, wanted = _read(paths, PTP_LAYOUT, codes, cache_dir)
    return PtpTable(table, sources, wanted)


def read_mue(
    paths: Sequence[PathLike] | PathLike,
    codes: Collection[str] | None = None,
    cache_dir: Path | None = None,
) -> MueTable:
    """Read CMS's practitioner services MUE table as downloaded (zip, ``.csv``, ``.txt`` or
    ``.xlsx``); see :func:`read_ptp` for ``codes``, ``cache_dir`` and errors. Example::

        table = read_mue("medicare-ncci-2026-q3-practitioner-services-mue-table.zip")
        table.frame()  # code, mue, mai, rationale
    """
    table, sources, wanted = _read(paths, MUE_LAYOUT, codes, cache_dir)
    return MueTable(table, sources, wanted)


def _read(
    paths: Sequence[PathLike] | PathLike,
    layout: Layout,
    codes: Collection[str] | None,
    cache_dir: Path | None,
) -> tuple[pa.Table, tuple[NcciSource, ...], frozenset[str] | None]:
    wanted = None if codes is None else normalise_codes(as_codes(codes))
    files = expand_paths(paths)
    if not files:
        raise InputError(f"no {layout.title} given", hint="give the files downloaded from CMS")
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    tables: list[pa.Table] = []
    sources: list[NcciSource] = []
    seen: set[str] = set()
    for path in files:
        sha = file_sha256(path)
        if sha in seen:  # the same file given twice
            continue
        seen.add(sha)
        cache = folder / f"{layout.kind}-{sha}-f{CACHE_FORMAT}.parquet"
        hit = read_cache(cache, layout, wanted)
        if hit is None:
            hit = _parse_file(path, layout, wanted, cache)
        table, parts = hit
        tables.append(table)
        sources += [_source(layout, path, sha, part) for part in parts]
    table = pa.concat_tables(tables) if tables else layout.schema.empty_table()
    return table, tuple(sources), wanted


def _source(layout: Layout, path: Path, sha: str, part: dict[str, Any]) -> NcciSource:
    """What one table file of ``path`` gave (``part``: as recorded in the cache)."""
    return NcciSource(
        kind=layout.kind,
        file=path.name,
        member=part["member"],
        sha256=sha,
        rows=part["rows"],
        skipped=part["skipped"],
        kept=part["kept"],
        version=part["version"],
        quarter=part["quarter"],
        from_cache=part["from_cache"],
    )


def _parse_file(
    path: Path, layout: Layout, wanted: frozenset[str] | None, cache: Path
) -> tuple[pa.Table, list[dict[str, Any]]]:
    """Parse every table file in ``path``, writing the full parse to ``cache`` as it goes."""
    writer = CacheWriter(cache, layout.schema)
    kept: list[pa.RecordBatch] = []
    parts: list[dict[str, Any]] = []
    refused: list[WrongTableError] = []
    try:
        for part in parts_of(path):
            try:
                check_name(part.name, layout, part.where)
                counts, batches = parse_part(part, layout)
            except WrongTableError as exc:
                if part.member is not None:
                    refused.append(exc)  # a zip may hold a read-me beside the table
                    continue
                raise
            first_group = writer.row_groups
            rows_kept = _write_batches(batches, layout, wanted, writer, kept)
            if counts["rows"] == 0:
                raise InputError(
                    f"found the {layout.title}'s header but no edits below it",
                    path=part.where,
                    hint="the download may be incomplete: download it again",
                )
            version, quarter = version_and_quarter(part.name, path.name, counts["title"])
            parts.append(
                {
                    "member": part.member,
                    "rows": counts["rows"],
                    "skipped": counts["skipped"],
                    "kept": rows_kept,
                    "version": version,
                    "quarter": quarter,
                    "from_cache": False,
                    "row_groups": [first_group, writer.row_groups],
                }
            )
        if not parts:
            raise _no_table_in_zip(path, layout, refused)
    except BaseException:
        writer.abandon()
        raise
    writer.commit({"format": CACHE_FORMAT, "kind": layout.kind, "parts": parts})
    table = pa.Table.from_batches(kept, schema=layout.schema)
    return table, parts


def _write_batches(
    batches: Iterator[pa.RecordBatch],
    layout: Layout,
    wanted: frozenset[str] | None,
    writer: CacheWriter,
    kept: list[pa.RecordBatch],
) -> int:
    """Write each batch of one table file to the cache whole, and add what ``wanted`` keeps of
    it to ``kept``; the rows kept."""
    rows_kept = 0
    for batch in batches:
        writer.write(batch)
        if wanted is not None:
            batch = batch.filter(keep_mask(batch, layout, wanted))
        rows_kept += batch.num_rows
        if batch.num_rows:
            kept.append(batch)
    return rows_kept


def _no_table_in_zip(path: Path, layout: Layout, refused: list[WrongTableError]) -> InputError:
    """The error for a zip none of whose files is the table: why its first file is not."""
    first = refused[0]
    member = (first.path or "").rpartition("/")[2]
    detail = first.message.removeprefix(f"not a {layout.title}: ")
    return InputError(
        f"the zip holds no {layout.title} ({member}: {detail})",
        path=str(path),
        hint=first.hint,
    )
