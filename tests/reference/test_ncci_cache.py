"""The parsed-file cache: a second read does not parse; a bad cache is ignored and rebuilt."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from ncci_helpers import MUE_CSV, PTP_F1, PTP_F2, make_zip

from auditkit.errors import InputError
from auditkit.reference import ncci
from auditkit.reference.ncci import read_mue, read_ptp, readers


def _no_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("the file was parsed again")

    monkeypatch.setattr(readers, "parse_part", fail)


def test_second_read_comes_from_the_cache(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    both = make_zip(tmp_path / "ptp.zip", PTP_F1, PTP_F2)
    first = read_ptp(both, cache_dir=cache)
    assert [s.from_cache for s in first.sources] == [False, False]
    assert len(list(cache.glob("ptp-*.parquet"))) == 1

    _no_parsing(monkeypatch)
    again = read_ptp(both, cache_dir=cache)
    assert again.table.equals(first.table)
    assert [s.from_cache for s in again.sources] == [True, True]
    assert [(s.member, s.rows, s.version) for s in again.sources] == [
        (s.member, s.rows, s.version) for s in first.sources
    ]
    # the filter is applied to the cached table, part by part
    kept = read_ptp(both, codes=["64483", "77003", "62323", "62322"], cache_dir=cache)
    assert [s.kept for s in kept.sources] == [2, 1]
    assert len(kept) == 3


def test_a_filtered_first_read_caches_every_edit(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    filtered = read_ptp(PTP_F2, codes=["64483", "77003"], cache_dir=cache)
    assert len(filtered) == 1
    _no_parsing(monkeypatch)
    assert len(read_ptp(PTP_F2, cache_dir=cache)) == 6


def test_mue_cache(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = read_mue(MUE_CSV, cache_dir=cache)
    _no_parsing(monkeypatch)
    again = read_mue(MUE_CSV, cache_dir=cache)
    assert again.table.equals(first.table)
    assert again.sources[0].quarter == "2026 Q3"


@pytest.mark.parametrize(
    "damage",
    [
        lambda path: path.write_bytes(b"not parquet at all"),
        lambda path: path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2]),
        lambda path: pq.write_table(pq.read_table(path).drop_columns(["rationale"]), path),
        lambda path: path.write_bytes(b""),
    ],
    ids=["garbage", "truncated", "other-columns", "empty"],
)
def test_a_damaged_cache_is_ignored_and_rebuilt(cache: Path, damage) -> None:
    first = read_ptp(PTP_F1, cache_dir=cache)
    (cached,) = cache.glob("ptp-*.parquet")
    damage(cached)
    again = read_ptp(PTP_F1, cache_dir=cache)
    assert again.table.equals(first.table)
    assert [s.from_cache for s in again.sources] == [False]
    pq.ParquetFile(cached)  # rewritten, readable
    assert read_ptp(PTP_F1, cache_dir=cache).sources[0].from_cache


def test_a_changed_file_is_parsed_again(tmp_path: Path, cache: Path) -> None:
    path = tmp_path / "ccipra-v322r0-f2.txt"
    path.write_bytes(PTP_F2.read_bytes())
    assert len(read_ptp(path, cache_dir=cache)) == 6
    path.write_bytes(PTP_F2.read_bytes().rsplit(b"\r\n", 2)[0] + b"\r\n")  # last edit removed
    table = read_ptp(path, cache_dir=cache)
    assert len(table) == 5
    assert not table.sources[0].from_cache


def test_cache_writes_leave_no_temporary_files(tmp_path: Path, cache: Path) -> None:
    read_ptp([PTP_F1, PTP_F2], cache_dir=cache)
    bad = tmp_path / "bad.txt"
    bad.write_bytes(PTP_F1.read_bytes().replace(b"Deletion", b"Removal"))
    with pytest.raises(InputError):
        read_ptp(bad, cache_dir=cache)
    names = sorted(p.name for p in cache.iterdir())
    assert len(names) == 2
    assert all(name.endswith(".parquet") and not name.startswith(".") for name in names)


def test_a_cache_that_cannot_be_written_only_costs_time(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    table = read_ptp(PTP_F1, cache_dir=blocked / "ncci")
    assert len(table) == 8
    if hasattr(os, "geteuid") and os.geteuid() != 0:  # root may write anywhere
        folder = tmp_path / "read-only"
        folder.mkdir()
        folder.chmod(0o500)
        try:
            assert len(read_ptp(PTP_F1, cache_dir=folder)) == 8
        finally:
            folder.chmod(0o700)


def test_the_default_cache_folder(cache_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert ncci.default_cache_dir() == cache_env / "ncci"
    read_ptp(PTP_F1)
    assert len(list((cache_env / "ncci").glob("ptp-*.parquet"))) == 1
    monkeypatch.delenv("AUDITKIT_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", "/somewhere")
    monkeypatch.setattr(sys, "platform", "linux")
    assert ncci.default_cache_dir() == Path("/somewhere/auditkit/ncci")


def test_the_same_file_given_twice_is_read_once(cache: Path) -> None:
    table = read_ptp([PTP_F1, PTP_F1], cache_dir=cache)
    assert len(table) == 8
    assert len(table.sources) == 1
