"""The synthetic NCCI files: published layouts, any size, the same bytes for the same seed."""

from __future__ import annotations

import zipfile
from datetime import date
from pathlib import Path

import pandas as pd

from auditkit.reference.ncci import read_mue, read_ptp
from auditkit.synth import ncci_files


def test_ptp_set_is_split_zipped_and_named_as_cms_does(tmp_path: Path, cache: Path) -> None:
    paths = ncci_files.write_ptp_set(tmp_path / "a", 3000, seed=11, include_codes=["64483"])
    assert [p.name for p in paths] == [
        f"medicare-ncci-2026q3-practitioner-ptp-edits-ccipra-v322r0-f{k}.zip" for k in (1, 2, 3, 4)
    ]
    with zipfile.ZipFile(paths[0]) as archive:
        assert archive.namelist() == ["ccipra-v322r0-f1.TXT"]
        text = archive.read("ccipra-v322r0-f1.TXT")
    lines = text.split(b"\r\n")
    assert lines[2].startswith(b"Column 1\tColumn 2\t")
    assert lines[5].startswith(b"\t\t\t\t\t9=not applicable")
    assert all(line.count(b"\t") == 6 for line in lines[:-1])

    table = read_ptp(paths, cache_dir=cache)
    assert len(table) == 3000
    assert [s.quarter for s in table.sources] == ["2026 Q3"] * 4
    frame = table.frame()
    # a column 1 code is in one part only, and the parts are in code order
    parts = [read_ptp(p, cache_dir=cache).frame()["column1"] for p in paths]
    assert all(a.max() < b.min() for a, b in zip(parts, parts[1:], strict=False))
    assert not frame.duplicated(["column1", "column2"]).any()
    assert frame["column1"].str.fullmatch(r"[0-9A-Z]{5}").all()
    retro = frame["modifier_indicator"] == 9
    assert retro.any() and (frame.loc[retro, "deletion"] == frame.loc[retro, "effective"]).all()
    assert frame["deletion"].notna().mean() > 0.2
    assert (frame["effective"] > pd.Timestamp("2026-07-01")).any()  # future-dated edits
    assert (frame["modifier_indicator"] == 0).any()

    again = ncci_files.write_ptp_set(tmp_path / "b", 3000, seed=11, include_codes=["64483"])
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in paths]


def test_exact_sizes_and_included_codes() -> None:
    for n in (1, 7, 500, 4000):
        assert ncci_files.ptp_edits(n, seed=2).num_rows == n
    edits = ncci_files.ptp_edits(2000, seed=2, include_codes=["64483", "77003", "20552"])
    pairs = set(
        zip(edits.column("column1").to_pylist(), edits.column("column2").to_pylist(), strict=True)
    )
    inside = {(a, b) for a, b in pairs if {a, b} <= {"64483", "77003", "20552"}}
    assert inside  # an export billing these codes finds edits


def test_txt_parts_unzipped_and_another_quarter(tmp_path: Path, cache: Path) -> None:
    paths = ncci_files.write_ptp_set(
        tmp_path,
        800,
        version="v323r0",
        quarter="2026q4",
        parts=2,
        zipped=False,
        as_of=date(2026, 10, 1),
    )
    assert [p.name for p in paths] == ["ccipra-v323r0-f1.TXT", "ccipra-v323r0-f2.TXT"]
    table = read_ptp(tmp_path, cache_dir=cache)
    assert len(table) == 800
    assert {s.quarter for s in table.sources} == {"2026 Q4"}


def test_mue_zip_is_read_with_its_quarter(tmp_path: Path, cache: Path) -> None:
    values = ncci_files.mue_values(["64483", "20552", "99213"], seed=1)
    target = ncci_files.write_mue_zip(tmp_path, values, effective=date(2026, 1, 1))
    assert target.name == "medicare-ncci-2026-q1-practitioner-services-mue-table.zip"
    table = read_mue(target, cache_dir=cache)
    assert sorted(table.frame()["code"]) == ["20552", "64483", "99213"]
    assert table.sources[0].quarter == "2026 Q1"


def test_published_size_is_over_a_million() -> None:
    assert ncci_files.PUBLISHED_PTP_ROWS > 1_000_000
