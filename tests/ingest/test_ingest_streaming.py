"""The streaming text reader: the fast path stays fast, and block boundaries change nothing.

Big exports are read without loading the file: the encoding is scanned block by block, the body
is parsed by pyarrow's streaming CSV reader into per-column dictionaries, and the cleaners run on
distinct values. These tests pin which reader takes which file (not timings), and check that
splitting the work into many small blocks gives exactly what one pass gives.
"""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path

import pandas as pd
import pytest
from ingest_helpers import HEADER, ROWS, to_csv_text, write_text

from auditkit.ingest import load, text_body, text_encoding
from auditkit.ingest.readers import RawTable
from auditkit.ingest.text_encoding import decode, scan_encoding
from auditkit.ingest.text_reader import TextSource

NAMES = ["Peña, José", "Müller, Zoë", "O’Brien, Seán", "Lee, Ann", "Smith, Bob"]
PAYERS = ["Medicare", " Medicare ", "Aetna", "BCBS", "", "UHC  "]


def read_raw(path: Path) -> tuple[TextSource, RawTable]:
    source = TextSource(path, str(path))
    candidate = next(source.candidates())
    return source, source.read(candidate, 0)


def big_rows(n: int, seed: int = 3) -> list[list[str]]:
    """Rows whose values repeat across the whole file (as exports do), with accents, padding
    and blanks, so that every block's dictionary overlaps the others'."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        row = list(ROWS[i % len(ROWS)])
        row[0] = f"C{i // 2:06d}"  # claim numbers: mostly distinct
        row[2] = rng.choice(NAMES)
        row[3] = rng.choice(PAYERS)
        row[10] = f"${rng.randint(1, 40) * 25:,}.00"
        rows.append(row)
    return rows


# --- which reader takes which file ----------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [("cp1252", ","), ("utf-8", ","), ("utf-8-sig", ";"), ("utf-16", "\t"), ("utf-16-le", "\t")],
)
def test_regular_exports_are_streamed_through_pyarrow(tmp_path, encoding, delimiter):
    rows = [list(r) for r in ROWS]
    rows[0][2] = "Peña, José €"
    path = write_text(
        tmp_path / "export.csv", [HEADER, *rows], delimiter=delimiter, encoding=encoding
    )
    source, raw = read_raw(path)
    # the fast path: no whole-file decode, body parsed by pyarrow (never the csv module)
    assert source.streamed
    assert raw.reader == "pyarrow"
    assert load(path).frame["rendering_provider"].iloc[0] == "Peña, José €"


def test_irregular_rows_fall_back_to_the_csv_module(tmp_path):
    rows = [list(r) for r in ROWS]
    rows[1] = rows[1] + ["stray", "cells"]
    path = write_text(tmp_path / "ragged.csv", [HEADER, *rows])
    source, raw = read_raw(path)
    assert source.streamed
    assert raw.reader == "python-csv"
    assert [p.row for p in raw.problems] == [3]


def test_stray_bytes_in_utf8_are_decoded_in_memory(tmp_path):
    rows = [list(r) for r in ROWS]
    rows[0][2] = "Zoë, Renée"  # more valid UTF-8 characters than stray bytes: UTF-8 it is
    data = to_csv_text([HEADER, *rows]).encode("utf-8").replace(b"Kim", b"K\xefm")
    path = tmp_path / "mixed.csv"
    path.write_bytes(data)
    source, raw = read_raw(path)
    assert not source.streamed  # decode() words the warning for these
    assert source.encoding == "utf-8"
    assert raw.reader == "pyarrow"
    assert any("not valid UTF-8" in w for w in raw.warnings)


# --- block boundaries -------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["cp1252", "utf-8", "utf-16"])
def test_small_blocks_give_the_same_lines_as_one_block(tmp_path, monkeypatch, encoding):
    rows = big_rows(3000)
    path = write_text(tmp_path / "big.csv", [HEADER, *rows], encoding=encoding)
    whole = load(path)
    monkeypatch.setattr(text_body, "ARROW_BLOCK_BYTES", 4096)  # ~50 pyarrow batches
    monkeypatch.setattr(text_encoding, "SCAN_BYTES", 1000)  # scan and transcode in pieces
    source, raw = read_raw(path)
    assert source.streamed and raw.reader == "pyarrow"
    pieces = load(path)
    pd.testing.assert_frame_equal(pieces.frame, whole.frame)
    frame = pieces.frame
    # values as written, trimmed, blanks missing, whatever block they fell in
    assert frame["rendering_provider"].tolist() == [r[2] for r in rows]
    assert frame["payer"].tolist() == [r[3].strip() or pd.NA for r in rows]
    assert frame["claim_id"].tolist() == [r[0] for r in rows]
    assert frame["source_row"].tolist() == list(range(2, len(rows) + 2))


def test_date_format_is_chosen_from_the_first_dates_in_the_file(tmp_path, monkeypatch):
    # The format is chosen from the first 500 distinct values in file order. Here the first 640
    # read both ways (month and day <= 12), so month/day wins and only the later dates (day >
    # 12) fall back to day/month. Sorted as text, the day-first ones would come first ("13/1"
    # < "2/5") and day/month would win: the distinct values must keep file order, whatever
    # block they are in.
    monkeypatch.setattr(text_body, "ARROW_BLOCK_BYTES", 4096)
    years = range(2015, 2025)
    ambiguous = [f"{m}/{d}/{y}" for y in years for m in range(2, 10) for d in range(2, 10)]
    day_first = [
        f"{d}/{m}/{y}" for y in (2022, 2023, 2024) for m in range(1, 13) for d in range(13, 29)
    ]
    repeat = 8  # each date on several lines, as in an export (a categorical column)
    rows = []
    for i, date in enumerate(d for d in ambiguous + day_first for _ in range(repeat)):
        row = list(ROWS[i % len(ROWS)])
        row[1] = date
        rows.append(row)
    path = write_text(tmp_path / "dates.csv", [HEADER, *rows])
    _, raw = read_raw(path)
    assert isinstance(raw.data[1].dtype, pd.CategoricalDtype)
    result = load(path)
    got = result.frame["date_of_service"].tolist()[::repeat]
    assert got[: len(ambiguous)] == [pd.to_datetime(s, format="%m/%d/%Y") for s in ambiguous]
    assert got[len(ambiguous) :] == [pd.to_datetime(s, format="%d/%m/%Y") for s in day_first]
    assert any("day/month/year" in w for w in result.inputs[0].warnings)


# --- the encoding scan agrees with decode() ----------------------------------------------------


def scan_cases() -> list[tuple[str, bytes]]:
    lines = [f"C{i},{NAMES[i % len(NAMES)]},{i}\n" for i in range(400)]
    text = "claim,name,amount\n" + "".join(lines)
    cp1252 = text.encode("cp1252")
    utf8 = text.encode("utf-8")
    wide = ("claim,name\n" + "".join(f"C{i},Emoji \U0001f600 {i}\n" for i in range(300))).encode(
        "utf-16-le"
    )
    return [
        ("ascii", b"claim,name\n" + b"".join(b"C%d,Lee\n" % i for i in range(500))),
        ("cp1252", cp1252),
        ("utf-8", utf8),
        ("utf-8 with a stray byte", utf8.replace(b"C10,", b"C10\xe9,", 1)),
        ("cp1252 only one accent", b"claim,name\n" + b"C1,Pe\xf1a\n" * 3),
        ("undefined in cp1252", b"claim,name\nC1,Pe\x81a\n"),
        ("utf-16 surrogate pairs", b"\xff\xfe" + wide),
        (
            "utf-16 lone surrogate",
            b"\xff\xfe" + wide[:-40] + "\ud800x\n".encode("utf-16-le", "surrogatepass"),
        ),
    ]


@pytest.mark.parametrize(("name", "data"), scan_cases(), ids=[c[0] for c in scan_cases()])
@pytest.mark.parametrize("block", [7, 64, 1 << 20])
def test_scan_encoding_agrees_with_decode(tmp_path, monkeypatch, name, data, block):
    # tiny blocks put multi-byte characters, runs of accents and surrogate pairs on the edges
    monkeypatch.setattr(text_encoding, "SCAN_BYTES", block)
    path = tmp_path / "scan.txt"
    path.write_bytes(data)
    layout = scan_encoding(path)
    warnings: list[str] = []
    try:
        _, encoding = decode(data, "scan.txt", warnings)
    except Exception:  # noqa: BLE001 - decode() refuses it: the scan must leave it to decode()
        encoding = None
    if layout is None:
        # only files decode() words itself (a warning or an error) are left to it
        assert encoding is None or warnings
    else:
        assert layout.encoding == encoding
        assert not warnings


def test_cp1252_values_are_transcoded_exactly(tmp_path):
    defined = bytes(b for b in range(0x80, 0x100) if b not in (0x81, 0x8D, 0x8F, 0x90, 0x9D))
    rows = [list(r) for r in ROWS]
    rows[0][2] = "X" + defined.decode("cp1252")
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([HEADER, *rows])
    path = tmp_path / "all.csv"
    path.write_bytes(buffer.getvalue().encode("cp1252"))
    source, _ = read_raw(path)
    assert source.encoding == "cp1252" and source.streamed
    name = load(path).frame["rendering_provider"].iloc[0]
    assert name == ("X" + defined.decode("cp1252")).strip()


def test_file_report_names_the_reader_used(tmp_path) -> None:
    """Users (and the About sheet) can see whether the fast Arrow path read the file."""
    from auditkit.ingest import load

    good = tmp_path / "good.csv"
    good.write_text(
        "Claim #,DOS,Rend Prov,Primary Ins,Proc Code\nC1,01/05/2026,Dr A,Aetna,99213\n",
        encoding="cp1252",
    )
    ragged = tmp_path / "ragged.csv"
    ragged.write_text(
        "Claim #,DOS,Rend Prov,Primary Ins,Proc Code\nC1,01/05/2026,Dr A,Aetna,99213,extra\n"
        "C2,01/06/2026,Dr A,Aetna,99213\n",
        encoding="utf-8",
    )
    assert load(good).inputs[0].reader == "pyarrow"
    assert load(ragged).inputs[0].reader == "python-csv"
