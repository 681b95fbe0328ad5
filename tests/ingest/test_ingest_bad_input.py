"""The bad-input corpus: each file gives one clear InputError line naming the file and the fix.

Binary files (workbooks, zips) are generated here in tmp_path, never stored.
"""

from __future__ import annotations

import io
import re
import zipfile

import msoffcrypto
import pytest
from ingest_helpers import HEADER, ROWS, typed_rows, write_text, write_xlsx

from auditkit.errors import InputError
from auditkit.ingest import inspect, load
from auditkit.ingest import loader as loader_module
from auditkit.ingest import sniff as sniff_module


def error_of(path, **kwargs) -> str:
    """The one-line message load() raises for ``path`` (the file is checked to stay unchanged)."""
    before = path.read_bytes() if path.is_file() else None
    with pytest.raises(InputError) as info:
        load(path, **kwargs)
    if before is not None:
        assert path.read_bytes() == before
    message = str(info.value)
    assert "\n" not in message and "Traceback" not in message
    assert message.startswith(str(path))
    return message


def rewrite_member(path, member: str, transform) -> None:
    """Rewrite one member of a zip (a workbook part) with ``transform(bytes) -> bytes``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            data = source.read(info)
            out.writestr(info.filename, transform(data) if info.filename == member else data)
    path.write_bytes(buffer.getvalue())


@pytest.fixture
def workbook(tmp_path):
    return write_xlsx(tmp_path / "good.xlsx", {"Charges": [HEADER, *typed_rows()]})


# --- paths ----------------------------------------------------------------------------------


def test_missing_path(tmp_path):
    message = error_of(tmp_path / "nope.csv")
    assert "file not found" in message and "check the name" in message


def test_directory(tmp_path):
    message = error_of(tmp_path)
    assert "is a folder" in message


def test_no_paths():
    with pytest.raises(InputError, match="no export files given"):
        load([])


# --- empty and wrong content ----------------------------------------------------------------


@pytest.mark.parametrize("content", [b"", b"   \r\n\r\n", b"\xef\xbb\xbf"])
def test_empty_file(tmp_path, content):
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    assert "is empty" in error_of(path)


def test_html_saved_as_xls(tmp_path):
    path = tmp_path / "report.xls"
    path.write_text("<html><body><table><tr><td>Claim #</td></tr></table></body></html>")
    message = error_of(path)
    assert "web page (HTML)" in message and "ends in .xls" in message
    assert "save it as .xlsx or CSV" in message


def test_csv_named_xlsx(tmp_path):
    path = write_text(tmp_path / "export.xlsx", [HEADER, *ROWS])
    message = error_of(path)
    assert "a text (CSV) file, not an Excel workbook" in message and "rename it to .csv" in message


def test_pdf(tmp_path):
    path = tmp_path / "report.csv"
    path.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")
    assert "is a PDF" in error_of(path)


def test_spreadsheet_2003_xml(tmp_path):
    path = tmp_path / "old.xls"
    path.write_text(
        '<?xml version="1.0"?>\n<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet">'
    )
    assert "Excel 2003 XML spreadsheet" in error_of(path)


def test_binary_junk(tmp_path):
    path = tmp_path / "data.csv"
    path.write_bytes(bytes(range(256)) * 8)
    assert "binary file" in error_of(path)


def test_undecodable_text_names_the_line(tmp_path):
    path = tmp_path / "bad.csv"
    good = ",".join(HEADER).encode() + b"\r\n" + ",".join(ROWS[0]).encode() + b"\r\n"
    # 0x81 is undefined in Windows-1252 and invalid as UTF-8
    path.write_bytes(good + b"C9,01/02/2024,Lee \x81\x8d,Aetna,20552\r\n")
    message = error_of(path)
    assert message.startswith(f"{path}, row 3: cannot be decoded as text")
    assert "CSV UTF-8" in message


def test_zip_that_is_not_a_workbook(tmp_path):
    path = tmp_path / "export.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("export.csv", "a,b\n1,2\n")
    assert "is a zip archive, not an Excel workbook" in error_of(path)


def test_word_document_named_xlsx(tmp_path):
    path = tmp_path / "notes.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    assert "is a Word document" in error_of(path)


def test_damaged_workbook(tmp_path, workbook):
    data = workbook.read_bytes()
    workbook.write_bytes(data[: len(data) // 2])
    assert "damaged workbook" in error_of(workbook)


# --- hostile workbooks ----------------------------------------------------------------------


def test_password_protected_workbook(tmp_path, workbook):
    encrypted = tmp_path / "locked.xlsx"
    with workbook.open("rb") as plain, encrypted.open("wb") as out:
        office = msoffcrypto.OfficeFile(plain)
        office.encrypt("secret", out)
    message = error_of(encrypted)
    assert "password-protected" in message and "remove the password" in message


BILLION_LAUGHS = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode()
        for i in range(1, 10)
    )
    + b"]>\n"
)


def test_billion_laughs_is_refused_before_any_reader_parses_it(workbook, monkeypatch):
    # the entities only expand inside an XML parser, and every XML parser is behind a reader:
    # the part must be refused from its prolog by the safety check, no reader ever opened
    member = "xl/worksheets/sheet1.xml"
    rewrite_member(
        workbook,
        member,
        lambda xml: (
            BILLION_LAUGHS
            + xml.split(b"?>", 1)[-1].replace(b"<sheetData>", b"<sheetData><!-- &lol9; -->", 1)
        ),
    )

    def no_reader(*args, **kwargs):
        raise AssertionError("a workbook reader was opened on a file declaring XML entities")

    monkeypatch.setattr(loader_module, "WorkbookSource", no_reader)
    message = error_of(workbook)
    assert member in message and "billion laughs" in message


def test_external_entity_in_workbook_part_is_refused(workbook):
    rewrite_member(
        workbook,
        "xl/workbook.xml",
        lambda xml: b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + xml,
    )
    message = error_of(workbook)
    assert "xl/workbook.xml declares XML entities" in message


def test_decompression_bomb(tmp_path, workbook):
    # a workbook part of 20 MB of spaces compresses about 1000:1
    rewrite_member(
        workbook,
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace(b"<sheetData>", b"<sheetData>" + b" " * 20_000_000, 1),
    )
    message = error_of(workbook)
    assert "decompression bomb" in message and "xl/worksheets/sheet1.xml" in message


def test_oversized_declared_sheet(workbook):
    rewrite_member(
        workbook,
        "xl/worksheets/sheet1.xml",
        lambda xml: re.sub(rb'<dimension ref="[^"]+"', b'<dimension ref="A1:XFD1048576"', xml),
    )
    message = error_of(workbook)
    assert "1,048,576 rows x 16,384 columns" in message and "cell limit" in message


def test_total_expanded_size_limit(workbook, monkeypatch):
    monkeypatch.setattr(sniff_module, "MAX_UNCOMPRESSED_BYTES", 1000)
    assert "would expand to" in error_of(workbook)


# --- missing columns ------------------------------------------------------------------------


def test_missing_required_columns_names_them_with_closest_headers(tmp_path):
    path = write_text(
        tmp_path / "odd.csv",
        [
            ["Report"],
            [],
            ["Claim #", "Servce Date", "Provider", "Insurer Nm", "CPT Codes x"],
            ["C1", "01/02/2024", "Lee", "Aetna", "20552"],
        ],
    )
    message = error_of(path)
    assert message.startswith(f"{path}, row 3: no column found for required date_of_service")
    assert "closest header: 'Servce Date'" in message
    assert "payer" in message and "cpt" in message
    assert "mapping file" in message and "--mapping" in message
    # inspect() reports the same without raising
    report = inspect(path)[0]
    assert report.missing_required == ["date_of_service", "payer", "cpt"]


def test_workbook_without_any_header(tmp_path):
    path = write_xlsx(tmp_path / "blank.xlsx", {"Sheet1": [[None]], "Sheet2": [[]]})
    assert "has no data" in error_of(path)


def test_unrecognised_text_file(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("Dear team,\nplease find the report attached.\n")
    assert "no column found for required claim_id" in error_of(path)
