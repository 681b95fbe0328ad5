"""Reading CMS's PTP and MUE files in the layouts CMS publishes (hand-written fixtures)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from ncci_helpers import (
    CLAIMS,
    MUE_CSV,
    MUE_OUTPATIENT,
    PTP_CSV,
    PTP_F1,
    PTP_F2,
    make_zip,
    ptp_text,
)

from auditkit.errors import InputError
from auditkit.reference import ncci
from auditkit.reference.ncci import read_mue, read_ptp, version_and_quarter


def _pair(frame: pd.DataFrame, column1: str, column2: str) -> pd.Series:
    hit = frame[(frame["column1"] == column1) & (frame["column2"] == column2)]
    assert len(hit) == 1, f"{column1}/{column2}: {len(hit)} rows"
    return hit.iloc[0]


# --------------------------------------------------------------------------------------------
# PTP


def test_ptp_header_is_found_below_the_title_lines(cache: Path) -> None:
    table = read_ptp([PTP_F1], cache_dir=cache)
    assert table.table.schema.equals(ncci.PTP_SCHEMA)
    frame = table.frame()
    assert len(frame) == 8
    first = frame.iloc[0]
    assert (first["column1"], first["column2"]) == ("20552", "96372")
    assert first["effective"] == pd.Timestamp("2009-01-01")
    assert pd.isna(first["deletion"])
    assert first["modifier_indicator"] == 1
    assert first["rationale"] == "Made-up rationale: injection included"
    assert str(frame["modifier_indicator"].dtype) == "int8"
    assert str(frame["effective"].dtype).startswith("datetime64")
    (source,) = table.sources
    assert (source.file, source.member, source.rows, source.skipped) == (
        "ccipra-v322r0-f1.txt",
        None,
        8,
        0,
    )
    assert (source.version, source.quarter) == ("v322r0", "2026 Q3")


def test_deleted_future_dated_and_star_deletion_dates(cache: Path) -> None:
    frame = read_ptp(PTP_F1, cache_dir=cache).frame()
    deleted = _pair(frame, "62323", "72275")
    assert deleted["effective"] == pd.Timestamp("1996-01-01")
    assert deleted["deletion"] == pd.Timestamp("2016-12-31")
    assert deleted["modifier_indicator"] == 0
    future = _pair(frame, "63650", "64483")
    assert future["effective"] == pd.Timestamp("2027-01-01")
    assert pd.isna(future["deletion"])
    # "*" in the deletion column is "not deleted": null, never a date
    assert frame["deletion"].isna().sum() == 6


def test_indicator_9_deleted_from_its_first_day(cache: Path) -> None:
    row = _pair(read_ptp(PTP_F1, cache_dir=cache).frame(), "62323", "62322")
    assert row["modifier_indicator"] == 9
    assert row["effective"] == row["deletion"] == pd.Timestamp("2017-01-01")


def test_several_files_in_one_zip_and_several_zips(tmp_path: Path, cache: Path) -> None:
    both = make_zip(tmp_path / "both.zip", PTP_F1, PTP_F2, folder="ccipra-v322r0/")
    table = read_ptp(both, cache_dir=cache)
    assert len(table) == 14
    assert [s.member for s in table.sources] == [
        "ccipra-v322r0/ccipra-v322r0-f1.txt",
        "ccipra-v322r0/ccipra-v322r0-f2.txt",
    ]
    assert {s.file for s in table.sources} == {"both.zip"}
    assert [s.rows for s in table.sources] == [8, 6]
    zips = [
        make_zip(tmp_path / "medicare-ncci-2026q3-practitioner-ptp-edits-ccipra-v322r0-f1.zip", PTP_F1),
        make_zip(tmp_path / "medicare-ncci-2026q3-practitioner-ptp-edits-ccipra-v322r0-f2.zip", PTP_F2),
    ]  # fmt: skip
    apart = read_ptp(zips, cache_dir=cache)
    assert apart.table.equals(table.table)
    assert [s.quarter for s in apart.sources] == ["2026 Q3", "2026 Q3"]


def test_a_folder_gives_its_files_once(tmp_path: Path, cache: Path) -> None:
    folder = tmp_path / "downloads"
    folder.mkdir()
    make_zip(folder / "f1.zip", PTP_F1)
    (folder / PTP_F1.name).write_bytes(PTP_F1.read_bytes())  # also extracted beside its zip
    (folder / PTP_F2.name).write_bytes(PTP_F2.read_bytes())
    (folder / "notes.pdf").write_bytes(b"%PDF-1.4")
    table = read_ptp(folder, cache_dir=cache)
    assert len(table) == 14
    assert [s.name for s in table.sources] == ["f1.zip/ccipra-v322r0-f1.txt", PTP_F2.name]


def test_codes_keep_pairs_whose_two_codes_are_billed(cache: Path) -> None:
    codes = {" 64483", "77003", "64479", "99213", "20552", None, float("nan")}
    table = read_ptp([PTP_F1, PTP_F2], codes=codes, cache_dir=cache)  # type: ignore[arg-type]
    pairs = set(zip(table.frame()["column1"], table.frame()["column2"], strict=True))
    assert pairs == {("64483", "64479"), ("64483", "77003")}
    assert table.codes == {"64483", "77003", "64479", "99213", "20552"}
    assert [s.kept for s in table.sources] == [0, 2]
    assert "2 kept for the export's codes" in table.describe()
    assert len(read_ptp([PTP_F1], codes=[], cache_dir=cache)) == 0
    assert read_ptp([PTP_F2], codes="64483", cache_dir=cache).codes == {"64483"}  # not 5 digits


def test_ptp_saved_as_csv_from_the_workbook(cache: Path) -> None:
    frame = read_ptp(PTP_CSV, cache_dir=cache).frame()
    assert list(frame["column1"]) == ["20553", "62323", "01996"]  # 1996: a shortened code
    assert frame.iloc[0]["rationale"] == "Made-up rationale, with a comma"
    assert frame.iloc[1]["modifier_indicator"] == 9


def test_lines_that_are_not_edits_are_skipped_and_counted(tmp_path: Path, cache: Path) -> None:
    path = tmp_path / "ccipra-v321r0-f3.txt"
    path.write_bytes(
        ptp_text(
            "64483\t77003\t\t20110101\t*\t0\tMade-up",
            "64483\t77012\t\t2011013\t*\t0\tbad date",
            "64483\t72275\t\t20110101\t*\t5\tbad indicator",
            "\t\t\t\t\t\t",
            "",
            "End of table: a made-up footer",
            "64493\t77003\t\t20100101\t20200101\t1\tMade-up, café",
        )
    )
    table = read_ptp(path, cache_dir=cache)
    assert list(table.frame()["column1"]) == ["64483", "64493"]
    assert table.frame().iloc[1]["rationale"] == "Made-up, café"  # a latin-1 file
    (source,) = table.sources
    assert (source.rows, source.skipped) == (2, 3)
    assert (source.version, source.quarter) == ("v321r0", "2026 Q2")  # from the version
    assert "3 lines below the header were not edits" in table.describe()


def test_a_utf8_file_with_a_byte_order_mark(tmp_path: Path, cache: Path) -> None:
    path = tmp_path / "ptp.txt"
    path.write_bytes(
        b"\xef\xbb\xbf"
        + ptp_text(
            "64483\t77003\t\t20110101\t*\t0\tMade-up, caf\xc3\xa9".encode("latin-1").decode("utf-8")
        )
    )
    assert read_ptp(path, cache_dir=cache).frame().iloc[0]["rationale"] == "Made-up, café"


def test_one_path_as_a_string(cache: Path) -> None:
    assert len(read_ptp(str(PTP_F2), cache_dir=cache)) == 6


# --------------------------------------------------------------------------------------------
# MUE


def test_mue_adjudication_indicator_keeps_its_leading_digit(cache: Path) -> None:
    table = read_mue(MUE_CSV, cache_dir=cache)
    assert table.table.schema.equals(ncci.MUE_SCHEMA)
    frame = table.frame().set_index("code")
    assert len(frame) == 8
    assert frame.loc["20610", "mai"] == 1
    assert frame.loc["20552", "mai"] == 2
    assert frame.loc["64483", "mai"] == 3
    assert frame.loc["64484", "mue"] == 4
    assert frame.loc["77003", "mue"] == 0
    assert frame.loc["64484", "rationale"] == "Made-up: clinical data, two levels a side"
    (source,) = table.sources
    assert (source.version, source.quarter, source.rows) == (None, "2026 Q3", 8)


def test_mue_codes_filter(cache: Path) -> None:
    table = read_mue(MUE_CSV, codes=["g3002", "99213", "12345"], cache_dir=cache)
    assert sorted(table.frame()["code"]) == ["99213", "G3002"]


def test_mue_in_the_zip_cms_serves(tmp_path: Path, cache: Path) -> None:
    target = make_zip(
        tmp_path / "medicare-ncci-2026-q3-practitioner-services-mue-table.zip", MUE_CSV
    )
    table = read_mue(target, cache_dir=cache)
    assert len(table) == 8
    assert table.sources[0].member == MUE_CSV.name


# --------------------------------------------------------------------------------------------
# workbook and other variants, from the synthetic writer


def test_xlsx_and_csv_variants_read_the_same_as_the_text(tmp_path: Path, cache: Path) -> None:
    from auditkit.synth import ncci_files

    edits = ncci_files.ptp_edits(400, seed=3, include_codes=["64483", "77003"])
    text = read_ptp(
        ncci_files.write_ptp_txt(tmp_path / "ccipra-v322r0-f1.txt", edits), cache_dir=cache
    )
    workbook = read_ptp(
        ncci_files.write_ptp_xlsx(tmp_path / "ccipra-v322r0-f1.xlsx", edits), cache_dir=cache
    )
    comma = read_ptp(ncci_files.write_ptp_csv(tmp_path / "ccipra-f1.csv", edits), cache_dir=cache)
    assert len(text) == 400
    assert workbook.table.equals(text.table)
    assert comma.table.equals(text.table)

    values = ncci_files.mue_values(200, seed=3)
    from_csv = read_mue(ncci_files.write_mue_csv(tmp_path / "mue.csv", values), cache_dir=cache)
    from_xlsx = read_mue(ncci_files.write_mue_xlsx(tmp_path / "mue.xlsx", values), cache_dir=cache)
    from_txt = read_mue(ncci_files.write_mue_txt(tmp_path / "mue.txt", values), cache_dir=cache)
    assert len(from_csv) == 200
    assert from_xlsx.table.equals(from_csv.table)
    assert from_txt.table.equals(from_csv.table)


def test_a_zip_with_the_table_twice_reads_the_text_once(tmp_path: Path, cache: Path) -> None:
    from auditkit.synth import ncci_files

    values = ncci_files.mue_values(50, seed=5)
    target = ncci_files.write_mue_zip(tmp_path, values, with_xlsx=True)
    assert len(zipfile.ZipFile(target).namelist()) == 2
    table = read_mue(target, cache_dir=cache)
    assert len(table) == 50
    assert [s.member for s in table.sources] == ["MCR_MUE_PractitionerServices_Eff_07-01-2026.csv"]


# --------------------------------------------------------------------------------------------
# files that are not these tables


def _error(reader, path: Path, cache: Path) -> str:
    with pytest.raises(InputError) as caught:
        reader(path, cache_dir=cache)
    text = str(caught.value)
    assert "\n" not in text
    assert path.name in text
    return text


def test_a_claim_export_is_not_a_ptp_file(cache: Path) -> None:
    text = _error(read_ptp, CLAIMS, cache)
    assert "not a CMS practitioner PTP edits file" in text
    assert "looks like a claim export" in text


def test_the_tables_given_the_wrong_way_round(cache: Path) -> None:
    assert "looks like the CMS practitioner services MUE table" in _error(read_ptp, MUE_CSV, cache)
    assert "looks like the CMS practitioner PTP edits file" in _error(read_mue, PTP_F1, cache)


def test_outpatient_hospital_tables_are_refused(tmp_path: Path, cache: Path) -> None:
    assert "outpatient hospital" in _error(read_mue, MUE_OUTPATIENT, cache)
    hospital = tmp_path / "ccioph-v322r0-f1.txt"
    hospital.write_bytes(PTP_F1.read_bytes())
    assert "outpatient hospital PTP" in _error(read_ptp, hospital, cache)


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("empty.txt", b"", "it is empty"),
        ("remit.txt", b"ISA*00*          *00*          *ZZ*PAYER~", "X12 835"),
        ("edits.txt", b"Column 1\tColumn 2\tEffective Date\n64483\t77003\t20110101\n", "Deletion Date"),
        ("header-only.txt", ptp_text(), "no edits below it"),
        ("broken.zip", b"PK\x03\x04 not really", "not a readable zip"),
        ("broken.xlsx", b"PK\x03\x04 not really", "cannot open the workbook"),
    ],
)  # fmt: skip
def test_files_that_are_not_ptp_tables(
    tmp_path: Path, cache: Path, name: str, content: bytes, expected: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    assert expected in _error(read_ptp, path, cache)


def test_a_zip_without_the_table(tmp_path: Path, cache: Path) -> None:
    readme = tmp_path / "readme.txt"
    readme.write_text("Made-up read-me\n")
    assert "the zip holds no CMS practitioner PTP edits file" in _error(
        read_ptp, make_zip(tmp_path / "a.zip", readme), cache
    )
    (tmp_path / "license.pdf").write_bytes(b"%PDF")
    assert "holds no .txt, .csv or .xlsx" in _error(
        read_ptp, make_zip(tmp_path / "b.zip", tmp_path / "license.pdf"), cache
    )
    # a read-me beside the table is passed over
    table = read_ptp(make_zip(tmp_path / "c.zip", readme, PTP_F2), cache_dir=cache)
    assert [s.member for s in table.sources] == [PTP_F2.name]


def test_a_missing_file(tmp_path: Path, cache: Path) -> None:
    text = _error(read_ptp, tmp_path / "ccipra-v322r0-f9.zip", cache)
    assert "file not found" in text


# --------------------------------------------------------------------------------------------
# versions and quarters


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["medicare-ncci-2026q3-practitioner-ptp-edits-ccipra-v322r0-f1.zip"], ("v322r0", "2026 Q3")),
        (["ccipra-v313r0-f1.TXT"], ("v313r0", "2025 Q4")),
        (["ccipra-v320r0-f2.xlsx"], ("v320r0", "2026 Q1")),
        (["medicare-ncci-2026-q1-practitioner-services-mue-table.zip"], (None, "2026 Q1")),
        (["MCR_MUE_PractitionerServices_Eff_10-01-2025.csv"], (None, "2025 Q4")),
        (["mue.csv", "Practitioner Services MUE Table Effective 04/01/2026"], (None, "2026 Q2")),
        (["ptp.txt", "Column1/Column2 Edits"], (None, None)),
    ],
)  # fmt: skip
def test_version_and_quarter_from_names_and_titles(
    names: list[str], expected: tuple[str | None, str | None]
) -> None:
    assert version_and_quarter(*names) == expected


def test_sources_for_the_json(cache: Path) -> None:
    table = read_ptp([PTP_F1, PTP_F2], cache_dir=cache)
    about = table.about()
    assert about["versions"] == ["v322r0"]
    assert about["quarters"] == ["2026 Q3"]
    assert about["rows"] == about["rows_read"] == 14
    assert about["default"] is False
    assert about["sources"][0]["file"] == "ccipra-v322r0-f1.txt"
    assert len(about["sources"][0]["sha256"]) == 64
    assert isinstance(table.table, pa.Table)
    assert "CMS practitioner PTP edits v322r0, 2026 Q3" in table.describe()
