"""The report model of an audit workbook, independent of the library that writes it.

``build_report(result, lines)`` turns an :class:`~auditkit.engine.result.AuditResult` into a
:class:`~auditkit.report.model.Report`; the openpyxl writer (``auditkit.excel.openpyxl_writer``)
and the xlwings writer render the same report. Styles live in :mod:`auditkit.report.style`,
key indicators in :mod:`auditkit.report.kpis`, positions in :mod:`auditkit.report.layout`.

``build_report`` (:mod:`auditkit.report.build`) assembles one module's sheet each:
:mod:`~auditkit.report.summary_sheet` (with :mod:`~auditkit.report.figures`),
:mod:`~auditkit.report.audit_sheets`, :mod:`~auditkit.report.line_sheets` and
:mod:`~auditkit.report.about_sheet`; they share :mod:`~auditkit.report.findings` (the ordered
findings), :mod:`~auditkit.report.cells` (typed tables, short text) and
:mod:`~auditkit.report.spill` (continuation sheets for long tables).
"""

from __future__ import annotations

from auditkit.report.build import build_report
from auditkit.report.model import (
    Block,
    Chart,
    Column,
    Fact,
    Facts,
    Figure,
    Link,
    Report,
    Series,
    Sheet,
    Table,
    Text,
    Title,
)

__all__ = [
    "Block",
    "Chart",
    "Column",
    "Fact",
    "Facts",
    "Figure",
    "Link",
    "Report",
    "Series",
    "Sheet",
    "Table",
    "Text",
    "Title",
    "build_report",
]
