"""Crafted and unusual workbooks (issue 18): a sheet that would make calamine abort the process
is refused with one line naming the file, the sheet and the cell; unusual but honest XML is still
read. Every workbook here is written by hand (zipfile and minimal XML parts), as an attacker or
an odd export tool would write it."""

from __future__ import annotations

import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from ingest_helpers import HEADER, ROWS

from auditkit.errors import InputError
from auditkit.ingest import load, xlsx_guard
from auditkit.ingest.xlsx_guard import check_workbook

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"


def write_book(
    path: Path,
    sheets: dict[str, str],
    *,
    dimension: str | None = None,
    root: str = f'<worksheet xmlns="{MAIN}">',
    end: str = "</worksheet>",
    data_tag: str = "sheetData",
) -> Path:
    """A minimal .xlsx: one worksheet part per entry of ``sheets`` (name -> rows XML)."""
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for i in range(1, len(sheets) + 1)
    )
    types = (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
        'package/2006/content-types"><Default Extension="rels" ContentType="application/'
        'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
        'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType='
        '"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        f"{overrides}</Types>"
    )
    package_rels = (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG_RELS}">'
        f'<Relationship Id="rId1" Type="{RELS_NS}/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>"
    )
    entries = "".join(
        f'<sheet name="{escape(name)}" sheetId="{i}" r:id="rId{i}"/>'
        for i, name in enumerate(sheets, start=1)
    )
    book = (
        f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{RELS_NS}">'
        f"<sheets>{entries}</sheets></workbook>"
    )
    book_rels = (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG_RELS}">'
        + "".join(
            f'<Relationship Id="rId{i}" Type="{RELS_NS}/worksheet" '
            f'Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, len(sheets) + 1)
        )
        + "</Relationships>"
    )
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", types)
        archive.writestr("_rels/.rels", package_rels)
        archive.writestr("xl/workbook.xml", book)
        archive.writestr("xl/_rels/workbook.xml.rels", book_rels)
        for i, rows in enumerate(sheets.values(), start=1):
            sheet = (
                f'<?xml version="1.0" encoding="UTF-8"?>{root}{dim}<{data_tag}>{rows}'
                f"</{data_tag}>{end}"
            )
            archive.writestr(f"xl/worksheets/sheet{i}.xml", sheet)
    return path


def text_cell(ref: str | None, text: str) -> str:
    at = f' r="{ref}"' if ref else ""
    return f'<c{at} t="inlineStr"><is><t>{text}</t></is></c>'


def header_row() -> str:
    return '<row r="1">' + text_cell("A1", "Claim #") + "</row>"


def far_row(row: int | str, ref: str, value: str = "x") -> str:
    return f'<row r="{row}">' + text_cell(ref, value) + "</row>"


def audit_cli(path: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Run the real command in its own process: a crash would show as exit 134 / SIGABRT."""
    return subprocess.run(
        [sys.executable, "-m", "auditkit", "audit", str(path), "--json", str(tmp_path / "o.json")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    assert "Traceback" not in done.stderr and "panicked" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("auditkit: error:")]
    assert len(errors) == 1, done.stderr
    return errors[0]


#: name -> (sheet rows XML, declared dimension, words the error line must hold)
CRAFTED = {
    "far cell, no dimension": (
        header_row() + far_row(200000, "XFD200000"),
        None,
        ["sheet 'Charges' reaches cell XFD200000", "200,000 rows x 16,384 columns"],
    ),
    "far cell, lying dimension": (
        header_row() + far_row(200000, "XFD200000"),
        "A1:B2",
        ["sheet 'Charges' reaches cell XFD200000", "60,000,000-cell limit"],
    ),
    "row number 99999999999": (
        header_row() + far_row(99999999999, "A99999999999"),
        "A1:A2",
        ["cell A99999999999 is past Excel's last row (1,048,576)"],
    ),
    "row 99999999999, cell without a position": (
        header_row() + '<row r="99999999999"><c><v>1</v></c></row>',
        None,
        ["row 99999999999 is past Excel's last row"],
    ),
    "column past XFD": (
        header_row() + far_row(2, "ZZZZ2"),
        None,
        ["cell ZZZZ2 is past Excel's last column (XFD)"],
    ),
    "lower-case far cell": (
        header_row() + far_row(200000, "xfd200000"),
        None,
        ["reaches cell XFD200000"],
    ),
    "rows without a position after the last row": (
        header_row() + '<row r="1048576"><c><v>1</v></c></row><row><c><v>2</v></c></row>',
        None,
        ["row 1048577 is past Excel's last row"],
    ),
    "single-quoted positions": (
        header_row() + "<row r='200000'><c r='XFD200000'><v>1</v></c></row>",
        None,
        ["reaches cell XFD200000"],
    ),
}


@pytest.mark.parametrize("case", list(CRAFTED))
def test_crafted_sheet_is_one_line_not_a_crash(case: str, tmp_path: Path) -> None:
    rows, dimension, words = CRAFTED[case]
    path = write_book(tmp_path / "crafted.xlsx", {"Charges": rows}, dimension=dimension)
    line = one_error_line(audit_cli(path, tmp_path))
    assert line.startswith(f"auditkit: error: {path}: ")
    for word in words:
        assert word in line
    assert "refusing to open it" in line
    assert not (tmp_path / "o.json").exists()


def test_calamine_alone_aborts_on_those_files(tmp_path: Path) -> None:
    """The guard is needed: read unguarded, the same files abort the process (SIGABRT)."""
    probe = (
        "import sys, resource\n"
        "resource.setrlimit(resource.RLIMIT_AS, (4 * 1024**3, 4 * 1024**3))\n"
        "import python_calamine as c\n"
        "c.CalamineWorkbook.from_path(sys.argv[1]).get_sheet_by_name('Charges')\n"
    )
    for case in ("far cell, lying dimension", "row number 99999999999"):
        rows, dimension, _ = CRAFTED[case]
        path = write_book(tmp_path / "crafted.xlsx", {"Charges": rows}, dimension=dimension)
        done = subprocess.run(
            [sys.executable, "-c", probe, str(path)], capture_output=True, timeout=120
        )
        assert done.returncode == -6, (case, done.returncode)  # SIGABRT
        assert b"memory allocation of" in done.stderr


def test_prefixed_tags_are_read_like_plain_ones(tmp_path: Path) -> None:
    """calamine reads <x:c> as <c>: a far cell behind a namespace prefix is found too."""
    rows = '<x:row r="1"><x:c r="A1"><x:v>1</x:v></x:c></x:row>' + (
        '<x:row r="200000"><x:c r="XFD200000"><x:v>1</x:v></x:c></x:row>'
    )
    path = write_book(
        tmp_path / "prefixed.xlsx",
        {"Charges": rows},
        root=f'<x:worksheet xmlns:x="{MAIN}">',
        end="</x:worksheet>",
        data_tag="x:sheetData",
    )
    with pytest.raises(InputError) as caught:
        check_workbook(path, "prefixed.xlsx")
    assert "reaches cell XFD200000" in str(caught.value)


def test_far_cell_on_a_second_sheet_is_named(tmp_path: Path) -> None:
    path = write_book(
        tmp_path / "two.xlsx",
        {"Charges": header_row(), "Notes & more": header_row() + far_row(150000, "XFD150000")},
    )
    line = one_error_line(audit_cli(path, tmp_path))
    assert "sheet 'Notes & more' reaches cell XFD150000" in line


def _rows(n: int, quote: str = '"', positions: bool = True) -> str:
    out = []
    for r in range(1, n + 1):
        cells = "".join(
            f"<c r={quote}{col}{r}{quote}><v>{r}</v></c>" if positions else f"<c><v>{r}</v></c>"
            for col in "ABC"
        )
        at = f" r={quote}{r}{quote}" if positions else ""
        out.append(f"<row{at} spans={quote}1:3{quote}>{cells}</row>")
    return "".join(out)


@pytest.mark.parametrize(
    "style",
    [{}, {"quote": "'"}, {"positions": False}],
    ids=["canonical", "single quotes", "no positions"],
)
def test_extent_is_exact_across_chunks(
    style: dict[str, object], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read 512 bytes at a time (tags split across chunks), the extent found is exactly
    300 rows x 3 columns: a budget of 900 cells passes, 899 refuses."""
    monkeypatch.setattr(xlsx_guard, "CHUNK_BYTES", 512)
    path = write_book(tmp_path / "plain.xlsx", {"Charges": _rows(300, **style)})  # type: ignore[arg-type]
    monkeypatch.setattr(xlsx_guard, "MAX_SHEET_CELLS", 900)
    check_workbook(path, "plain.xlsx")
    monkeypatch.setattr(xlsx_guard, "MAX_SHEET_CELLS", 899)
    with pytest.raises(InputError) as caught:
        check_workbook(path, "plain.xlsx")
    text = str(caught.value)
    assert "cell C1" in text and "so it spans 300 rows x 3 columns from A1" in text


@pytest.mark.parametrize(
    ("far", "named"),
    [
        ('<c r="XFD150"><v>1</v></c>', "XFD150"),  # a column far past the others
        ('<c r="B99999"><v>1</v></c>', "B99999"),  # a row past its own row's number
        ('<c r="AA0150"><v>1</v></c>', "AA150"),  # a leading zero
    ],
)
def test_a_far_cell_in_a_later_chunk_is_found(
    far: str, named: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(xlsx_guard, "CHUNK_BYTES", 512)
    monkeypatch.setattr(xlsx_guard, "MAX_SHEET_CELLS", 5000)
    rows = _rows(300).replace('<row r="150" spans="1:3">', f'<row r="150" spans="1:3">{far}')
    path = write_book(tmp_path / "later.xlsx", {"Charges": rows})
    with pytest.raises(InputError) as caught:
        check_workbook(path, "later.xlsx")
    assert f"reaches cell {named}" in str(caught.value)


def test_honest_unusual_xml_is_still_read(tmp_path: Path) -> None:
    """An export tool that writes no positions at all (r is optional in the format) and a
    dimension of A1: read, every line."""
    lines = []
    for values in [HEADER, *ROWS]:
        lines.append("<row>" + "".join(text_cell(None, str(v)) for v in values) + "</row>")
    path = write_book(tmp_path / "odd.xlsx", {"Charges": "".join(lines)}, dimension="A1")
    check_workbook(path, "odd.xlsx")
    table = load(path)
    assert len(table) == len(ROWS)
    assert list(table.frame["claim_id"])[:2] == [ROWS[0][0], ROWS[1][0]]


def test_decompression_bomb_sheet_is_refused(tmp_path: Path) -> None:
    padding = " " * (3 * 1024**2)  # compresses about 1000 to 1
    path = write_book(tmp_path / "bomb.xlsx", {"Charges": header_row() + padding})
    line = one_error_line(audit_cli(path, tmp_path))
    assert "decompression bomb" in line and "xl/worksheets/sheet1.xml" in line


def test_sheet_longer_than_its_declared_size_is_refused(tmp_path: Path) -> None:
    """The zip says the sheet ends before the far cell (with a matching checksum): Python's
    zip reader stops there, calamine's refuses to read past it; one line, no crash."""
    path = write_book(
        tmp_path / "liar.xlsx", {"Charges": header_row() + far_row(200000, "XFD200000")}
    )
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
        full = archive.read(info)
    prefix = full[: full.index(b'<row r="200000"')]
    crc, size = zlib.crc32(prefix), len(prefix)
    struct.pack_into("<II", data, info.header_offset + 14, crc, info.compress_size)
    struct.pack_into("<I", data, info.header_offset + 22, size)
    central = data.find(b"PK\x01\x02")
    while central >= 0:
        name_length = struct.unpack_from("<H", data, central + 28)[0]
        if data[central + 46 : central + 46 + name_length] == info.filename.encode():
            struct.pack_into("<I", data, central + 16, crc)
            struct.pack_into("<I", data, central + 24, size)
        central = data.find(b"PK\x01\x02", central + 4)
    path.write_bytes(bytes(data))
    line = one_error_line(audit_cli(path, tmp_path))
    assert line.startswith(f"auditkit: error: {path}: ")


def test_crafted_legacy_xls_is_refused_not_a_crash(legacy_xls: Path, tmp_path: Path) -> None:
    """A real .xls (LibreOffice) with one cell record moved to row 65536, column XFD: calamine
    would abort. Binary sheets are tried in a child process first."""
    data = bytearray(legacy_xls.read_bytes())
    label = data.rfind(b"\xfd\x00\x0a\x00")  # the last LABELSST record: a text cell
    assert label > 0
    struct.pack_into("<HH", data, label + 4, 0xFFFF, 0x3FFF)
    crafted = tmp_path / "crafted.xls"
    crafted.write_bytes(bytes(data))
    line = one_error_line(audit_cli(crafted, tmp_path))
    assert "makes the workbook reader crash (SIGABRT" in line
    assert line.startswith(f"auditkit: error: {crafted}: ")
    check_workbook(legacy_xls, "legacy.xls")  # the untouched file passes the same probe


def test_last_row_of_excel_passes_one_past_it_does_not(tmp_path: Path) -> None:
    ok = write_book(
        tmp_path / "last.xlsx", {"Charges": header_row() + far_row(1048576, "B1048576")}
    )
    check_workbook(ok, "last.xlsx")
    past = write_book(
        tmp_path / "past.xlsx", {"Charges": header_row() + far_row(1048577, "B1048577")}
    )
    with pytest.raises(InputError) as caught:
        check_workbook(past, "past.xlsx")
    assert "cell B1048577 is past Excel's last row" in str(caught.value)


def test_a_wide_honest_sheet_passes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past column BE the rows matter: 400 rows x 80 columns is read exactly (32,000 cells)."""
    monkeypatch.setattr(xlsx_guard, "CHUNK_BYTES", 4096)
    letters = [xlsx_guard.column_letters(n) for n in range(1, 81)]
    rows = "".join(
        f'<row r="{r}">' + "".join(f'<c r="{c}{r}"><v>1</v></c>' for c in letters) + "</row>"
        for r in range(1, 401)
    )
    path = write_book(tmp_path / "wide.xlsx", {"Charges": rows})
    check_workbook(path, "wide.xlsx")
    monkeypatch.setattr(xlsx_guard, "MAX_SHEET_CELLS", 31_999)
    with pytest.raises(InputError) as caught:
        check_workbook(path, "wide.xlsx")
    assert "400 rows x 80 columns" in str(caught.value)
