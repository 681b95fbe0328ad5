"""The Trends sheet's line charts through the xlwings writer (the fake book of fakebook.py):
the same charts as the openpyxl writer draws, as line charts in the palette of style.py."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from fakebook import fake_book
from openpyxl import load_workbook

from auditkit.claims import conform
from auditkit.engine.runner import run_audits
from auditkit.excel.openpyxl_writer import write_report as write_with_openpyxl
from auditkit.excel.xlwings_writer import write_report
from auditkit.report.build import build_report
from auditkit.report.style import SERIES_COLORS
from auditkit.report.trends_sheet import TRENDS_SHEET


def _lines() -> pd.DataFrame:
    """Two physicians, paid and denied one-line claims over three months."""
    rows = []
    for month, denied in (("2024-01", 2), ("2024-02", 0), ("2024-03", 5)):
        for doctor in ("Dr. A", "Dr. B"):
            for i in range(20):
                rows.append(
                    {
                        "claim_id": f"{doctor[-1]}{month}-{i}",
                        "date_of_service": f"{month}-10",
                        "rendering_provider": doctor,
                        "payer": "Acme" if doctor == "Dr. A" else "Beta",
                        "cpt": "20553" if i % 2 else "20552",
                        "status": "denied" if i < denied else "paid",
                        "charge": 100.0,
                    }
                )
    return conform(pd.DataFrame(rows))


def test_line_charts_in_both_writers(tmp_path: Path) -> None:
    report = build_report(run_audits(_lines()))
    book = fake_book(sheets=("Notes",))
    write_report(report, book.mock)
    fake = book.sheet(TRENDS_SHEET)
    ws = load_workbook(write_with_openpyxl(report, tmp_path / "t.xlsx"))[TRENDS_SHEET]
    assert len(fake.charts) == len(ws._charts) == 3
    for chart, drawn in zip(fake.charts, ws._charts, strict=True):
        assert chart["options"]["chart_type"] == "line_markers"
        assert drawn.tagname == "lineChart"
        assert chart["title"] == drawn.title.tx.rich.p[0].r[0].t
        colors = [s["line_color"] for s in chart["series"]]
        assert colors == ["#" + c for c in SERIES_COLORS[: len(colors)]]
        lines = ["#" + str(s.graphicalProperties.line.solidFill.srgbClr) for s in drawn.series]
        assert lines == colors
        assert "minimum_scale" not in chart["axes"].get("value", {})  # fits the values
