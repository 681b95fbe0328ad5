"""Warnings about the inputs (the data was read, but someone should look) reach every output:
stderr, the JSON's top-level ``warnings`` and the About sheet (issue 18)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from openpyxl import load_workbook

from auditkit.cli import cli

# Row 3 has a date of service that is no date: the line is left out, and the file gets a
# warning saying how many values of that column could not be read.
EXPORT = """Claim #,DOS,Rend Prov,Primary Ins,Proc Code,Mod 1,Units,Dx1,Chg Amt,Ins Paid,Status
C1,01/05/2026,Dr. Clean,Aetna,99213,,1,M54.16,150.00,95.00,Paid
C2,13/45/2026,Dr. Clean,Aetna,99214,,1,M54.16,210.00,140.00,Paid
C3,01/07/2026,Dr. Clean,Aetna,99213,,1,M54.16,150.00,95.00,Paid
"""

CLEAN = EXPORT.replace("13/45/2026", "01/06/2026")


def _run(tmp_path: Path, text: str, *extra: str):
    export = tmp_path / "export.csv"
    export.write_text(text, encoding="utf-8")
    out, js = tmp_path / "audit.xlsx", tmp_path / "audit.json"
    result = CliRunner().invoke(
        cli, ["audit", str(export), "--out", str(out), "--json", str(js), *extra]
    )
    assert result.exit_code == 0, result.output
    return result, out, json.loads(js.read_text(encoding="utf-8"))


def _about_warnings(workbook: Path) -> list[list[object]]:
    sheet = load_workbook(workbook, read_only=True)["About"]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    start = next(i for i, r in enumerate(rows) if r and r[0] == "Warnings about the inputs")
    header = next(i for i in range(start + 1, len(rows)) if rows[i])  # past the blank row
    assert rows[header][:2] == ["File", "Warning"]
    table = []
    for row in rows[header + 1 :]:
        if not row:
            break
        table.append(row[:2])
    return table


def test_an_input_warning_is_on_stderr_in_the_json_and_on_the_about_sheet(tmp_path: Path) -> None:
    result, workbook, data = _run(tmp_path, EXPORT)
    warnings = data["warnings"]
    # The bad date: the column's values that could not be read, and the line left out.
    assert [set(w) for w in warnings] == [{"file", "warning"}] * 2
    assert all(w["file"].endswith("export.csv") for w in warnings)
    assert "'DOS'" in warnings[0]["warning"] and "could not be read" in warnings[0]["warning"]
    assert "1 line left out" in warnings[1]["warning"]
    # The JSON lists them right after the inputs, before the summary.
    keys = list(data)
    assert keys.index("warnings") == keys.index("inputs") + 1
    for w in warnings:
        assert f"warning: {w['file']}: {w['warning']}" in result.stderr
    assert _about_warnings(workbook) == [[w["file"], w["warning"]] for w in warnings]


def test_no_warnings_is_an_empty_list_and_no_about_table(tmp_path: Path) -> None:
    result, workbook, data = _run(tmp_path, CLEAN)
    assert data["warnings"] == []
    assert "warning:" not in result.stderr
    sheet = load_workbook(workbook, read_only=True)["About"]
    titles = [r[0] for r in sheet.iter_rows(values_only=True) if r]
    assert "Warnings about the inputs" not in titles


def test_quiet_keeps_warnings_out_of_stderr_but_in_the_json(tmp_path: Path) -> None:
    result, _, data = _run(tmp_path, EXPORT, "--quiet")
    assert "warning:" not in result.stderr
    assert len(data["warnings"]) == 2
