"""The three export flavours: same data, different headers, encodings and formats."""

from __future__ import annotations

import csv
import io

import openpyxl
import pandas as pd
import pytest

from auditkit.synth import FLAVOURS, generate, read_truth, write_flavour, write_truth


@pytest.fixture(scope="module")
def small() -> pd.DataFrame:
    return generate(1500, 2)


@pytest.fixture(scope="module")
def written(small, tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("flavours")
    return {name: write_flavour(small, name, out / f.filename) for name, f in FLAVOURS.items()}


def _text_rows(path, encoding: str, delimiter: str) -> list[list[str]]:
    raw = path.read_bytes()
    text = raw.decode(encoding)
    assert "\n" not in text.replace("\r\n", "")  # CRLF everywhere
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def _xlsx_rows(path) -> list[list]:
    ws = openpyxl.load_workbook(path, read_only=True).active
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    width = max(len(r) for r in rows)
    return [r + [None] * (width - len(r)) for r in rows]  # write-only sheets trim empty tails


def test_medirev_csv(small, written):
    path = written["medirev"]
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")  # accented names in Windows-1252, not UTF-8
    rows = _text_rows(path, "cp1252", ",")
    header, body = rows[0], rows[1:]
    assert len(body) == len(small)
    for name in ["Claim #", "Acct #", "Patient", "DOS", "Rend Prov", "Primary Ins", "Proc Code",
                 "Mod 1", "Mod 4", "Units", "Dx1", "Dx4", "Chg Amt", "Allowed", "Ins Paid", "Adj",
                 "Pt Resp", "Status", "Denial Code"]:  # fmt: skip
        assert name in header, name
    col = {h: [r[i] for r in body] for i, h in enumerate(header)}
    assert all(pd.Series(col["DOS"]).str.fullmatch(r"\d\d/\d\d/\d{4}"))
    assert all(pd.Series(col["Chg Amt"]).str.fullmatch(r"\$\d{1,3}(,\d{3})*\.\d\d"))
    assert any(v.startswith("$1,") for v in col["Chg Amt"])
    assert any(v.startswith("-$") for v in col["Ins Paid"])
    assert set(col["Status"]) >= {"Paid", "Denied", "Partial", "Pending"}
    assert any(";" in v for v in col["Denial Code"] + col["Remark Codes"])
    assert all("." in v for v in col["Dx1"])
    assert any("ñ" in v for v in col["Rend Prov"] + col["Patient"])


def test_practiflow_xlsx(small, written):
    rows = _xlsx_rows(written["practiflow"])
    assert rows[0][0] == "Practiflow Charge Detail Report"
    assert rows[2][0].startswith("Date range: ")
    assert not any(rows[3])
    header = rows[4]
    for name in ["Claim ID", "Service Date", "Rendering Physician", "Insurance", "CPT/HCPCS",
                 "Modifiers", "Diagnosis Codes", "Charges", "Payment", "Adj Reason", "Claim Status"]:  # fmt: skip
        assert name in header, name
    body, total = rows[5:-1], rows[-1]
    assert len(body) == len(small)
    col = {h: [r[i] for r in body] for i, h in enumerate(header)}
    assert total[0] == "Grand Total"
    assert total[header.index("Charges")] == pytest.approx(small["charge"].sum())
    assert all(
        isinstance(v, pd.Timestamp | type(rows[5][header.index("Service Date")]))
        for v in col["Service Date"]
    )
    assert rows[5][header.index("Service Date")].year in (2025, 2026)
    assert all(isinstance(v, int | float) for v in col["Charges"])
    assert any(v and "," in v for v in col["Modifiers"])
    assert any(v and "; " in v for v in col["Diagnosis Codes"])
    reasons = {v for v in col["Adj Reason"] if v}
    assert "CO197" in reasons or "CO4" in reasons
    assert not any("-" in v for v in reasons)
    assert set(col["Claim Status"]) <= {"PD", "DN", "PP", "PN", "RJ", "VD"}


def test_practiflow_cells_are_formatted(written):
    ws = openpyxl.load_workbook(written["practiflow"]).active
    header = [c.value for c in ws[5]]
    first = ws[6]
    assert first[header.index("Service Date")].number_format == "mm/dd/yyyy"
    assert first[header.index("Charges")].number_format == "#,##0.00"
    assert first[header.index("Claim ID")].data_type == "s"  # kept as text


def test_clinicore_unicode_text(small, written):
    raw = written["clinicore"].read_bytes()
    assert raw[:2] == b"\xff\xfe"  # UTF-16 LE byte order mark
    rows = _text_rows(written["clinicore"], "utf-16", "\t")
    header, body = rows[0], rows[1:]
    assert len(body) == len(small)
    for name in ["Carrier", "Procedure", "Rendering Provider", "Mod1", "Diag1", "Grp", "CARC"]:
        assert name in header, name
    assert "Plan" not in header and "Billing Provider" not in header
    col = {h: [r[i] for r in body] for i, h in enumerate(header)}
    assert all(pd.Series(col["Svc Date"]).str.fullmatch(r"\d{1,2}/\d{1,2}/\d\d"))
    assert any(v.startswith("(") and v.endswith(")") for v in col["Paid"])
    assert not any("." in v for v in col["Diag1"])
    assert set(col["Grp"]) <= {"", "CO", "PR", "OA", "PI"}
    assert all(v == "" or v[0].isdigit() for v in col["CARC"])
    assert set(col["Status"]) >= {"Paid", "Denied", "Partially Paid"}


def test_flavours_differ(written):
    headers = {
        "medirev": _text_rows(written["medirev"], "cp1252", ",")[0],
        "practiflow": _xlsx_rows(written["practiflow"])[4],
        "clinicore": _text_rows(written["clinicore"], "utf-16", "\t")[0],
    }
    for a in headers:
        for b in headers:
            if a < b:
                assert headers[a] != headers[b]
    assert headers["medirev"][0] != headers["practiflow"][0] != headers["clinicore"][0]


def test_declared_columns(small):
    assert FLAVOURS["medirev"].columns == tuple(small.columns)
    assert set(FLAVOURS["clinicore"].columns) == set(small.columns) - {
        "payer_plan",
        "billing_provider",
    }


def test_unknown_flavour_and_incomplete_frame(small, tmp_path):
    with pytest.raises(ValueError, match="unknown flavour"):
        write_flavour(small, "epic", tmp_path / "x.csv")
    with pytest.raises(ValueError, match="lacks"):
        write_flavour(small.drop(columns="cpt"), "medirev", tmp_path / "x.csv")


def test_truth_file_round_trip(small, tmp_path):
    path = write_truth(small, tmp_path / "truth.csv")
    pd.testing.assert_frame_equal(read_truth(path), small)
    subset = FLAVOURS["clinicore"].columns
    part = read_truth(write_truth(small, tmp_path / "part.csv", subset))
    assert tuple(part.columns) == subset
    pd.testing.assert_frame_equal(part, small[list(subset)])


def test_unwritable_place_is_an_output_error(small, tmp_path):
    from auditkit.errors import OutputError

    with pytest.raises(OutputError, match="folder does not exist"):
        write_flavour(small, "clinicore", tmp_path / "missing" / "x.txt")
