"""Reading the authorization export and the contract fee schedule (auditkit.ingest.side_tables)
with the claim exports' machinery: formats, header synonyms, title and total rows, mapping files,
bad cells, and the errors a user sees."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from auditkit import synth
from auditkit.engine.runner import run_audits
from auditkit.errors import ConfigError, InputError
from auditkit.ingest.side_tables import (
    SideTable,
    as_side_table,
    read_authorizations,
    read_fee_schedule,
)
from auditkit.synth import revenue

AUTH_COLUMNS = [
    "authorization_number",
    "patient_id",
    "approved_codes",
    "payer",
    "approved_units",
    "start_date",
    "end_date",
]


@pytest.fixture(scope="module")
def planted() -> tuple[pd.DataFrame, dict]:
    return synth.generate_with_truth(2500, 7)


def test_generated_files_read_back_exactly(planted, tmp_path: Path) -> None:
    """What sample_exports/generate.py writes is read back to the tables it was written from."""
    frame, truth = planted
    paths = revenue.write_side_tables("medirev", tmp_path)
    auths = read_authorizations(paths["auths"])
    assert auths.kind == "auths" and auths.report.header_row == 1
    assert set(auths.report.mapping) == set(AUTH_COLUMNS)
    assert auths.report.unmapped_headers == ["Status"]
    expected = revenue.authorization_export(frame, truth)
    pd.testing.assert_frame_equal(
        auths.frame[AUTH_COLUMNS], expected[AUTH_COLUMNS], check_dtype=False
    )
    assert auths.frame["source_row"].tolist() == list(range(2, len(expected) + 2))
    fees = read_fee_schedule(paths["fee_schedule"])
    want = revenue.fee_schedule()
    got = fees.frame[["payer", "cpt", "modifier", "place_of_service", "allowed"]]
    pd.testing.assert_frame_equal(got, want, check_dtype=False)


def test_audits_read_from_files_match_the_frames(planted, tmp_path: Path) -> None:
    frame, truth = planted
    paths = revenue.write_side_tables("medirev", tmp_path)
    select = ["auth-mismatch", "underpayment"]
    from_files = run_audits(
        frame,
        select=select,
        auths=read_authorizations(paths["auths"]),
        fee_schedule=read_fee_schedule(paths["fee_schedule"]),
    ).findings
    from_frames = run_audits(
        frame,
        select=select,
        auths=revenue.authorization_export(frame, truth),
        fee_schedule=revenue.fee_schedule(),
    ).findings
    assert len(from_files) > 10
    keys = ["audit", "claim_id", "line", "message", "dollars_at_risk"]
    a = from_files[keys].sort_values(keys[:3]).reset_index(drop=True)
    b = from_frames[keys].sort_values(keys[:3]).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)


def _workbook(path: Path, rows: list[list[object]]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_workbook_with_title_rows_other_headers_and_a_total(tmp_path: Path) -> None:
    path = _workbook(
        tmp_path / "auths.xlsx",
        [
            ["Prior Authorization Log"],
            ["Printed 01/05/2025"],
            [],
            [
                "Authorization Number",
                "Patient ID",
                "Insurance",
                "Authorized CPT",
                "Auth Units",
                "Effective Date",
                "Expiration Date",
            ],
            ["AE-1", "P1", "Aetna", "64493, 64494", 2, "01/02/2025", "04/30/2025"],
            ["AE-2", "P2", "Aetna", "63650;63685", 1, "2025-02-01", ""],
            ["AE-3", "P3", "Aetna", "64493, 123", 1, "13/45/2025", "05/01/2025"],
            ["", "P4", "Aetna", "99213", 1, "01/01/2025", "02/01/2025"],
            ["Total", "", "", "", 4, "", ""],
        ],
    )
    table = read_authorizations(path)
    frame = table.frame
    assert table.report.header_row == 4
    assert table.report.footer_rows == [9]
    assert frame["authorization_number"].tolist() == ["AE-1", "AE-2", "AE-3"]
    assert frame["approved_codes"].tolist() == ["64493,64494", "63650,63685", "64493"]
    assert frame["start_date"].iloc[0] == pd.Timestamp("2025-01-02")
    assert pd.isna(frame["start_date"].iloc[2])  # 13/45/2025 is not a date: left blank
    assert pd.isna(frame["end_date"].iloc[1])  # open-ended
    assert frame["source_row"].tolist() == [5, 6, 7]
    problems = {(p.row, p.column) for p in table.report.problems}
    assert (7, "Authorized CPT") in problems and (7, "Effective Date") in problems
    assert (8, "Authorization Number") in problems  # blank number: left out
    assert table.report.rows_left_out >= 1


def test_row_with_only_bad_codes_is_left_out(tmp_path: Path) -> None:
    path = tmp_path / "auths.csv"
    path.write_text("Auth #,Patient Acct,Approved CPT\nA1,P1,64493\nA2,P2,6449\n", encoding="utf-8")
    table = read_authorizations(path)
    assert table.frame["authorization_number"].tolist() == ["A1"]
    assert any(
        p.message == "not a list of 5-character codes" and p.value == "6449"
        for p in table.report.problems
    )


def test_utf16_fee_schedule_with_money_text_and_blank_payer(tmp_path: Path) -> None:
    path = tmp_path / "fees.txt"
    text = (
        "Payer Name\tHCPCS\tMod\tPOS\tFee\r\n"
        "Aetna\t64493\t50\t22\t$1,234.50\r\n"
        "\t99213\t\t\t95.00\r\n"
    )
    path.write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
    frame = read_fee_schedule(path).frame
    assert frame["allowed"].tolist() == [1234.5, 95.0]
    assert frame["modifier"].tolist()[0] == "50" and pd.isna(frame["modifier"].iloc[1])
    assert frame["place_of_service"].tolist()[0] == "22"
    assert pd.isna(frame["payer"].iloc[1])  # every payer


def test_missing_required_column_names_file_row_and_closest_header(tmp_path: Path) -> None:
    path = tmp_path / "auths.csv"
    path.write_text("Auth #,Patient Acct,Aproved Codez\nA1,P1,64493\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_authorizations(path)
    text = str(err.value)
    assert text.startswith(f"{path}, row 1: no column found for required approved_codes")
    assert "closest header: 'Aproved Codez'" in text
    assert "[columns] approved_codes" in text


def test_mapping_file_names_an_unknown_header(tmp_path: Path) -> None:
    path = tmp_path / "auths.csv"
    path.write_text("Auth #,Patient Acct,Svc Lines\nA1,P1,64493 64494\n", encoding="utf-8")
    mapping = tmp_path / "map.toml"
    mapping.write_text('[columns]\napproved_codes = "Svc Lines"\n', encoding="utf-8")
    frame = read_authorizations(path, mapping=mapping).frame
    assert frame["approved_codes"].tolist() == ["64493,64494"]
    with pytest.raises(ConfigError, match="not a column of an authorization export"):
        read_authorizations(path, mapping={"columns": {"claim_id": "Svc Lines"}})
    with pytest.raises(ConfigError, match="has no such header"):
        read_authorizations(path, mapping={"columns": {"approved_codes": "Codes Approved"}})


def test_remittance_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "era.835"
    path.write_text("ISA*00*          *00*          *ZZ*SENDER~", encoding="utf-8")
    with pytest.raises(InputError, match="is an X12 835 remittance file, not an authorization"):
        read_authorizations(path)


def test_frames_in_memory_are_normalised_and_checked() -> None:
    table = as_side_table(
        pd.DataFrame(
            {
                "authorization_number": [" A-1 ", "A-2"],
                "patient_id": ["P1", None],
                "approved_codes": [["64493", "64494"], "g3002"],
                "start_date": ["2025-01-01", "2025-02-01"],
            }
        ),
        "auths",
    )
    assert isinstance(table, SideTable)
    assert table.frame["approved_codes"].tolist() == ["64493,64494"]  # the row without a patient
    assert table.report.rows_left_out == 1
    with pytest.raises(InputError, match="needs column\\(s\\) allowed"):
        as_side_table(pd.DataFrame({"cpt": ["99213"]}), "fee_schedule")
    with pytest.raises(InputError, match="expected a contract fee schedule"):
        as_side_table(table, "fee_schedule")


def test_audits_without_their_side_table_are_skipped_with_the_option_named() -> None:
    lines = pd.DataFrame(
        {
            "claim_id": ["C1"],
            "date_of_service": pd.to_datetime(["2024-03-04"]),
            "rendering_provider": ["Dr. Lee"],
            "payer": ["Aetna"],
            "cpt": ["63650"],
            "patient_id": ["P1"],
            "status": ["paid"],
            "allowed": [900.0],
        }
    )
    result = run_audits(lines, select=["auth-mismatch", "underpayment"])
    runs = {r.id: r for r in result.audits}
    assert runs["auth-mismatch"].status == "skipped"
    assert runs["auth-mismatch"].reason == "it needs an authorization export (--auths FILE)"
    assert "--fee-schedule FILE" in runs["underpayment"].reason
    assert result.summary["audits_skipped"] == 2
    assert "--auths FILE" in runs["auth-mismatch"].hint
    assert "--fee-schedule FILE" in runs["underpayment"].hint
    assert result.findings.empty  # a skipped audit is not a finding


def test_redacted_authorizations_still_match_redacted_claims() -> None:
    from auditkit.ingest.side_tables import redact
    from auditkit.redact import Redactor

    lines = pd.DataFrame(
        {
            "claim_id": ["C1", "C2"],
            "date_of_service": pd.to_datetime(["2024-03-04", "2024-03-04"]),
            "rendering_provider": ["Dr. Lee", "Dr. Lee"],
            "payer": ["Aetna", "Aetna"],
            "cpt": ["63650", "63685"],
            "patient_id": ["P1", "P2"],
        }
    )
    auths = as_side_table(
        pd.DataFrame(
            {"authorization_number": ["A1"], "patient_id": ["P1"], "approved_codes": ["63650"]}
        ),
        "auths",
    )
    redactor = Redactor()
    hidden = redact(auths, redactor)
    assert "P1" not in set(hidden.frame["patient_id"])
    findings = run_audits(redactor.frame(lines), select=["auth-mismatch"], auths=hidden).findings
    # C1 still matches its approval; claim ids are pseudonymised too
    assert findings["claim_id"].tolist() == [redactor.claim("C2")]
    assert not findings["message"].str.contains("P1|P2").any()
