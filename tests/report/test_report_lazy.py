"""Long audit sheets render their text when written (issue 16).

An audit with tens of thousands of findings does not hold a message and an evidence text per
finding in the report: its table is filled a slice at a time by the writer. What a reader sees
must not change: the same cells as the table built in one piece.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from auditkit.engine.runner import run_audits
from auditkit.excel import sheetdata
from auditkit.excel.openpyxl_writer import write_workbook
from auditkit.ingest.model import ClaimLines
from auditkit.report import audit_sheets, build_report
from auditkit.synth import generate


@pytest.fixture(scope="module")
def messy() -> tuple:
    frame = generate(1200, seed=5, messy=True)
    lines = ClaimLines(frame=frame, inputs=[])
    return run_audits(lines), lines


def _cells(path: Path) -> dict[str, list[tuple]]:
    book = openpyxl.load_workbook(path, read_only=True)
    out = {
        ws.title: [tuple(c for c in row) for row in ws.iter_rows(values_only=True)]
        for ws in book.worksheets
        if ws.title not in ("About",)
    }
    book.close()
    return out


def test_lazy_tables_write_the_same_cells(
    messy: tuple, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result, lines = messy
    eager = write_workbook(result, tmp_path / "eager.xlsx", lines=lines)
    monkeypatch.setattr(audit_sheets, "LAZY_FROM", 1)
    monkeypatch.setattr(sheetdata, "CHUNK_ROWS", 37)  # several slices per table
    report = build_report(result, lines)
    lazy_tables = [t for s in report.sheets for t in s.tables() if t.fill is not None]
    assert lazy_tables, "no table was lazy"
    for table in lazy_tables:
        assert "message" not in table.frame.columns  # the text is not held
    lazy = write_workbook(result, tmp_path / "lazy.xlsx", lines=lines)
    before, after = _cells(eager), _cells(lazy)
    assert before.keys() == after.keys()
    for name in before:
        assert before[name] == after[name], name


def test_a_lazy_table_spills_onto_continuation_sheets(
    messy: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    result, lines = messy
    monkeypatch.setattr(audit_sheets, "LAZY_FROM", 1)
    report = build_report(result, lines, max_rows=400)
    parts = [t for s in report.sheets for t in s.tables() if t.key.startswith("findings:")]
    assert any("#" in t.key for t in parts)
    for table in parts:
        if table.fill is not None and len(table):
            rows = table.rows(0, 3)
            assert list(rows.columns) == [c.key for c in table.columns]
            assert rows["message"].notna().all()
