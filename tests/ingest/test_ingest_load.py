"""load()/inspect() end to end: readers, encodings, header position, footers, provenance."""

from __future__ import annotations

import sys
import types

import pandas as pd
import pytest
from ingest_helpers import HEADER, ROWS, to_csv_text, typed_rows, write_text, write_xlsx

from auditkit.claims import BY_NAME
from auditkit.errors import InputError
from auditkit.ingest import ClaimLines, FileReport, inspect, load

EXPECTED_CPT = ["20552", "99213", "64483", "G3002"]


def assert_canonical(result: ClaimLines) -> None:
    """Every column is canonical (or provenance) with its declared dtype."""
    for name in result.frame.columns:
        assert name in BY_NAME, name
        assert str(result.frame[name].dtype) == BY_NAME[name].dtype, name


def assert_standard_rows(frame: pd.DataFrame) -> None:
    assert frame["claim_id"].tolist() == ["C100", "C100", "C101", "C102"]
    assert frame["cpt"].tolist() == EXPECTED_CPT
    assert frame["date_of_service"].tolist() == [
        pd.Timestamp("2024-01-05"),
        pd.Timestamp("2024-01-05"),
        pd.Timestamp("2024-01-12"),
        pd.Timestamp("2024-02-01"),
    ]
    assert frame["modifiers"].tolist() == ["", "25", "50", ""]
    assert frame["diagnosis_codes"].tolist() == ["M79.18", "M54.16", "M54.16,M48.062", "M54.50"]
    assert frame["charge"].tolist() == [150.0, 120.0, -45.0, 1200.0]
    assert frame["status"].tolist() == ["paid", "denied", "pending", "partially_paid"]
    assert frame["denial_codes"].tolist() == ["", "CO-97", "", "PR-2"]
    assert frame["rendering_provider"].tolist()[0] == "Lee, Ann"


# --- text encodings and delimiters ----------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "delimiter", "reported"),
    [
        ("utf-8", ",", "utf-8"),
        ("utf-8-sig", ",", "utf-8-sig"),
        ("cp1252", ",", "cp1252"),
        ("utf-16", "\t", "utf-16-le"),  # Excel "Unicode text": BOM, little-endian, tabs
        ("utf-16-be", "\t", "utf-16-be"),
        ("utf-8", ";", "utf-8"),
        ("utf-8", "|", "utf-8"),
    ],
)
def test_text_encodings_and_delimiters(tmp_path, checksums, encoding, delimiter, reported):
    rows = [list(r) for r in ROWS]
    rows[0][2] = "Lé, Ann’s"  # é and a curly apostrophe: both exist in cp1252
    path = tmp_path / "export.txt"
    data = to_csv_text([HEADER, *rows], delimiter)
    if encoding == "utf-16-be":
        path.write_bytes(b"\xfe\xff" + data.encode("utf-16-be"))
    else:
        path.write_bytes(data.encode(encoding))
    checksums(path)
    result = load(path)
    report = result.inputs[0]
    assert (report.encoding, report.delimiter) == (reported, delimiter)
    assert result.frame["rendering_provider"].iloc[0] == "Lé, Ann’s"
    assert result.frame["cpt"].tolist() == EXPECTED_CPT
    assert result.frame["source_row"].tolist() == [2, 3, 4, 5]
    assert_canonical(result)


def test_utf16_without_bom(tmp_path):
    path = tmp_path / "nobom.txt"
    path.write_bytes(to_csv_text([HEADER, *ROWS], "\t").encode("utf-16-le"))
    result = load(path)
    assert result.inputs[0].encoding == "utf-16-le"
    assert result.frame["cpt"].tolist() == EXPECTED_CPT


def test_quoting_and_newlines_in_values(tmp_path):
    rows = [list(r) for r in ROWS]
    rows[0][2] = 'Lee, "Annie"\nMD'  # quote, comma and newline inside one cell
    path = write_text(tmp_path / "q.csv", [HEADER, *rows])
    frame = load(path).frame
    assert frame["rendering_provider"].iloc[0] == 'Lee, "Annie" MD'
    # the newline is inside one record: rows are still numbered as a spreadsheet shows them
    assert frame["source_row"].tolist() == [2, 3, 4, 5]


def test_standard_values(tmp_path, checksums):
    path = write_text(tmp_path / "std.csv", [HEADER, *ROWS])
    checksums(path)
    result = load(path)
    assert_standard_rows(result.frame)
    assert_canonical(result)
    assert result.inputs[0].rows == 4 and result.inputs[0].header_row == 1


def test_only_columns_found_are_present(tmp_path):
    path = write_text(
        tmp_path / "min.csv",
        [
            ["Claim #", "DOS", "Provider", "Payer", "CPT"],
            ["C1", "01/02/2024", "Lee", "Aetna", "20552"],
        ],
    )
    frame = load(path).frame
    assert list(frame.columns) == [
        "claim_id",
        "date_of_service",
        "rendering_provider",
        "payer",
        "cpt",
        "source_file",
        "source_row",
    ]


# --- header position, footers, irregular rows -----------------------------------------------


def test_header_below_title_rows_and_footers(tmp_path):
    path = write_text(
        tmp_path / "report.csv",
        [HEADER, *ROWS],
        before=["Charge Detail Report", "Date range: 01/01/2024 - 02/29/2024", ""],
        after=[
            "",
            'Total,,,,,,,,,,"$1,425.00",98.50,,',
            'Grand Total,,,,,,,,,,"$1,425.00",,,',
            ",,,,,,,,,,1425.00,,,",
            "Report generated 03/01/2024 10:15 by jdoe",
        ],
    )
    result = load(path)
    report = result.inputs[0]
    assert report.header_row == 4
    assert result.frame["source_row"].tolist() == [5, 6, 7, 8]
    assert report.footer_rows == [10, 11, 12, 13]
    assert_standard_rows(result.frame)
    assert not report.problems


def test_interior_subtotals_repeated_headers_and_headings(tmp_path):
    rows = [
        HEADER,
        ["Provider: Lee, Ann"] + [""] * (len(HEADER) - 1),
        ROWS[0],
        ROWS[1],
        ["Subtotal", "", "", "", "", "", "", "", "", "", "270.00", "98.50", "", ""],
        HEADER,  # page header repeated
        ROWS[2],
        ROWS[3],
    ]
    path = write_text(tmp_path / "pages.csv", rows)
    result = load(path)
    assert result.inputs[0].footer_rows == [2, 5, 6]
    assert result.frame["source_row"].tolist() == [3, 4, 7, 8]
    assert_standard_rows(result.frame)


def test_blank_lines_inside_data_keep_row_numbers(tmp_path):
    path = tmp_path / "gaps.csv"
    lines = to_csv_text([HEADER, *ROWS]).split("\r\n")
    lines.insert(2, "")  # blank line between the first two data rows
    path.write_text("\r\n".join(lines))
    result = load(path)
    assert result.frame["source_row"].tolist() == [2, 4, 5, 6]
    assert result.inputs[0].footer_rows == []


def test_ragged_rows_reported_with_row_numbers(tmp_path):
    path = tmp_path / "ragged.csv"
    lines = to_csv_text([HEADER, *ROWS]).split("\r\n")
    lines[2] = lines[2] + ",extra,values"  # row 3 has too many fields
    lines[3] = ",".join(lines[3].split(",")[:12])  # row 4 is short: padded, kept
    path.write_text("\r\n".join(lines))
    result = load(path)
    report = result.inputs[0]
    assert [(p.row, p.kept) for p in report.problems] == [(3, False)]
    assert "has 16 fields but the header has 14" in report.problems[0].message
    assert report.rows_left_out == 1
    assert result.frame["source_row"].tolist() == [2, 4, 5]
    assert any("fewer fields" in w for w in report.warnings)


# --- bad values -----------------------------------------------------------------------------


def test_unreadable_values_reported_by_row_and_column(tmp_path):
    rows = [list(r) for r in ROWS]
    rows[1][1] = "someday"  # date of service: line left out
    rows[2][10] = "lots"  # charge: kept, left blank
    rows[3][12] = "Limbo"  # status word: summarised
    path = write_text(tmp_path / "bad.csv", [HEADER, *rows])
    result = load(path)
    report = result.inputs[0]
    problems = {(p.row, p.column): p for p in report.problems}
    assert problems[(3, "DOS")].kept is False
    # the message never quotes the cell; the value is kept beside it (see test_redact_holds)
    assert problems[(3, "DOS")].message == "not a date"
    assert problems[(3, "DOS")].text() == "not a date: 'someday'"
    assert problems[(4, "Chg Amt")].kept is True
    assert result.frame["source_row"].tolist() == [2, 4, 5]
    assert pd.isna(result.frame.set_index("source_row").loc[4, "charge"])
    assert report.rows_left_out == 1 and report.cells_unread == 2
    assert any("unknown status words on 1 line" in w and "[status]" in w for w in report.warnings)
    assert not any("Limbo" in w for w in report.warnings)
    assert problems[(5, "Status")].value == "Limbo" and problems[(5, "Status")].kept
    assert pd.isna(result.frame["status"].iloc[-1])


def test_required_column_unreadable_everywhere_is_an_error(tmp_path):
    rows = [list(r) for r in ROWS]
    for row in rows:
        row[1] = "n/a"
    path = write_text(tmp_path / "nodates.csv", [HEADER, *rows], before=["Title"])
    with pytest.raises(InputError) as info:
        load(path)
    message = str(info.value)
    assert message.startswith(f"{path}, row 3, column 'DOS': none of the 4 values")
    assert "\n" not in message


def test_blank_line_keys_left_out_other_required_blanks_kept(tmp_path):
    rows = [list(r) for r in ROWS]
    rows[0][0] = ""  # no claim number: left out
    rows[1][3] = ""  # no payer: kept, warned
    path = write_text(tmp_path / "blanks.csv", [HEADER, *rows])
    result = load(path)
    report = result.inputs[0]
    assert result.frame["source_row"].tolist() == [3, 4, 5]
    assert [(p.row, p.column, p.kept) for p in report.problems] == [(2, "Claim #", False)]
    assert pd.isna(result.frame["payer"].iloc[0])
    assert any("'Primary Ins': blank on 1 of" in w for w in report.warnings)


def test_modifiers_written_into_the_code_column(tmp_path):
    path = write_text(
        tmp_path / "glued.csv",
        [
            ["Claim #", "DOS", "Provider", "Payer", "CPT"],
            ["C1", "01/02/2024", "L", "A", "64483-50"],
        ],
    )
    result = load(path)
    assert result.frame["cpt"].tolist() == ["64483"]
    assert result.frame["modifiers"].tolist() == ["50"]


def test_header_only_file_gives_no_lines_and_a_warning(tmp_path):
    path = write_text(tmp_path / "empty.csv", [HEADER])
    result = load(path)
    assert len(result) == 0
    assert "no claim lines below the header row" in result.inputs[0].warnings
    assert_canonical(result)


# --- workbooks ------------------------------------------------------------------------------


def test_xlsx_with_title_rows_typed_cells_and_footers(tmp_path, checksums):
    rows = [
        ["Acme Pain Clinic - Charges"],
        ["01/01/2024 to 02/29/2024"],
        [],
        HEADER,
        *typed_rows(),
        [],
        ["Total", None, None, None, None, None, None, None, None, None, 1425.0],
    ]
    path = write_xlsx(tmp_path / "report.xlsx", {"Charges": rows})
    checksums(path)
    result = load(path)
    report = result.inputs[0]
    assert (report.sheet, report.header_row) == ("Charges", 4)
    assert result.frame["source_row"].tolist() == [5, 6, 7, 8]
    assert report.footer_rows == [10]
    assert_standard_rows(result.frame)
    assert_canonical(result)


def test_first_sheet_with_a_header_is_used(tmp_path):
    path = write_xlsx(
        tmp_path / "multi.xlsx",
        {
            "Summary": [["Total charges", 1425.0], ["Lines", 4]],
            "Detail": [HEADER, *typed_rows()],
            "Detail copy": [HEADER, *typed_rows()[:1]],
        },
    )
    result = load(path)
    assert result.inputs[0].sheet == "Detail"
    assert len(result) == 4


def test_xlsm_is_read(tmp_path):
    path = write_xlsx(tmp_path / "macro.xlsm", {"Data": [HEADER, *typed_rows()]})
    assert load(path).frame["cpt"].tolist() == EXPECTED_CPT


def test_legacy_xls(legacy_xls, checksums):
    checksums(legacy_xls)
    result = load(legacy_xls)
    assert result.inputs[0].sheet == "Charges"
    assert_standard_rows(result.frame)
    assert_canonical(result)


def test_text_export_named_xls_is_read_as_text(tmp_path):
    path = write_text(tmp_path / "export.xls", [HEADER, *ROWS], delimiter="\t")
    result = load(path)
    assert result.frame["cpt"].tolist() == EXPECTED_CPT
    assert any("text export named .xls" in w for w in result.inputs[0].warnings)


# --- several files --------------------------------------------------------------------------


def test_several_files_combine_with_provenance(tmp_path, checksums):
    csv_path = write_text(tmp_path / "a.csv", [HEADER, *ROWS])
    xlsx_path = write_xlsx(
        tmp_path / "b.xlsx",
        {
            "S": [
                ["Report"],
                ["Claim #", "DOS", "Provider", "Payer", "CPT", "Side"],
                ["D1", 45300, "Lee", "UHC", 20610, "Left"],
            ]
        },
    )
    checksums(csv_path, xlsx_path)
    result = load([csv_path, str(xlsx_path)])
    frame = result.frame
    assert len(frame) == 5 and [r.path for r in result.inputs] == [str(csv_path), str(xlsx_path)]
    assert frame["source_file"].tolist() == [str(csv_path)] * 4 + [str(xlsx_path)]
    assert frame["source_row"].tolist() == [2, 3, 4, 5, 3]
    assert frame["laterality"].tolist()[:4] == [pd.NA] * 4  # not in the CSV: missing, not blank
    assert frame["laterality"].iloc[4] == "left"
    assert frame["date_of_service"].iloc[4] == pd.Timestamp("2024-01-09")  # Excel serial 45300
    assert frame["cpt"].iloc[4] == "20610"
    assert_canonical(result)


def test_inspect_reports_mapping_without_reading_rows(tmp_path):
    path = write_text(
        tmp_path / "x.csv", [["Claim #", "Mod 1", "Mod 2", "Colour"], ["C1", "25", "", "red"]]
    )
    report = inspect(path)[0]
    assert isinstance(report, FileReport)
    assert report.mapping == {"claim_id": "Claim #", "modifiers": ["Mod 1", "Mod 2"]}
    assert report.missing_required == ["date_of_service", "rendering_provider", "payer", "cpt"]
    assert report.unmapped_headers == ["Colour"]
    assert report.rows == 0


# --- X12 835 dispatch -----------------------------------------------------------------------

ISA = (
    "ISA*00*          *00*          *ZZ*PAYER          *ZZ*CLINIC         *240105*1200*^*00501*"
    "000000001*0*P*:~GS*HP*PAYER*CLINIC*20240105*1200*1*X*005010X221A1~ST*835*0001~"
)


@pytest.mark.parametrize(
    "content",
    [ISA, "\r\n  " + ISA.replace("*", "|"), "ST*835*0001~BPR*I*100*C*ACH~", "\ufeffGS*HP*A*B~"],
    ids=["isa", "isa-pipes-after-blank-lines", "st-only", "gs-with-bom"],
)
def test_x12_files_go_to_the_835_reader(tmp_path, monkeypatch, content):
    path = tmp_path / "remit.txt"
    path.write_text(content, encoding="utf-8")
    seen = []

    def fake_reader(p, **_options):
        seen.append(p)
        frame = pd.DataFrame(
            {
                "claim_id": ["C1"],
                "date_of_service": [pd.Timestamp("2024-01-05")],
                "rendering_provider": ["Lee"],
                "payer": ["Aetna"],
                "cpt": ["20552"],
                "source_row": [7],
            }
        )
        return frame, FileReport(path=str(p), rows=1)

    module = types.ModuleType("auditkit.ingest.x12")
    module.read_claim_lines = fake_reader
    monkeypatch.setitem(sys.modules, "auditkit.ingest.x12", module)
    result = load(path)
    assert seen == [path]
    assert result.frame["source_file"].tolist() == [str(path)]
    assert result.frame["source_row"].tolist() == [7]
    assert_canonical(result)


def test_x12_without_835_support(tmp_path, monkeypatch):
    path = tmp_path / "remit.835"
    path.write_text(ISA)
    monkeypatch.setitem(sys.modules, "auditkit.ingest.x12", None)  # import fails
    with pytest.raises(InputError) as info:
        load(path)
    assert str(info.value).startswith(f"{path}: is an X12 835 remittance file, but 835 support")


def test_merged_cells_fill_the_lines_they_span(tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Claim #", "DOS", "Provider", "Payer", "CPT"])
    sheet.append(["C1", "01/05/2024", "Lee", "Aetna", "20552"])
    sheet.append([None, None, "Lee", "Aetna", "99213"])
    sheet.append(["C2", "01/06/2024", "Kim", "UHC", "64483"])
    sheet.merge_cells("A2:A3")  # one claim number shown across two lines
    sheet.merge_cells("B2:B3")
    path = tmp_path / "merged.xlsx"
    book.save(path)
    frame = load(path).frame
    assert frame["claim_id"].tolist() == ["C1", "C1", "C2"]
    assert frame["date_of_service"].tolist()[1] == pd.Timestamp("2024-01-05")


def test_utf8_file_with_a_stray_byte_stays_utf8(tmp_path):
    rows = [list(r) for r in ROWS]
    rows[0][2] = "Peña, José"
    data = to_csv_text([HEADER, *rows]).encode("utf-8")
    data = data.replace(b"Kim, Sue", b"Kim, Sue\x92s")  # a lone Windows-1252 apostrophe
    path = tmp_path / "mixed.csv"
    path.write_bytes(data)
    result = load(path)
    assert result.inputs[0].encoding == "utf-8"
    assert result.frame["rendering_provider"].iloc[0] == "Peña, José"
    assert any("not valid UTF-8 (first on row 5)" in w for w in result.inputs[0].warnings)


def test_excel_sep_hint_line(tmp_path):
    path = write_text(tmp_path / "sep.csv", [HEADER, *ROWS], delimiter=";", before=["sep=;"])
    result = load(path)
    assert result.inputs[0].delimiter == ";" and result.inputs[0].header_row == 2
    assert result.frame["cpt"].tolist() == EXPECTED_CPT
