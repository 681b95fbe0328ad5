"""Audits on worksheet ranges: the library behind auditkit's spreadsheet functions (UDFs).

Each function takes *ranges* as Excel hands them over - a single value, a list, a list of rows
(``[[v], [v], ...]``), a pandas Series or DataFrame - and cleans the cells the way the export
reader does. The definitions are the audits' own (the KPI rules, the reference tables, the audit
registry), so a rate computed in a cell agrees with the audit workbook.

* :mod:`~auditkit.excel.ranges.cells` - cells of a range as clean codes, statuses, numbers;
* :mod:`~auditkit.excel.ranges.rates` - :func:`tpi_mix`, :func:`clean_rate`,
  :func:`denial_rate`, the Summary's indicators over a range;
* :mod:`~auditkit.excel.ranges.cpm` - :func:`cpm_units`, :func:`cpm_text`, :func:`cpm_codes`:
  the G3002/G3003 units a month's chronic-pain-management minutes support;
* :mod:`~auditkit.excel.ranges.lookups` - :func:`carc_lookup`, :func:`families`;
* :mod:`~auditkit.excel.ranges.lines` - :func:`lines_from_grid`, :func:`findings_table` (a
  pasted export, read and audited) and :func:`check_line`, :func:`check_lines` (the problems
  the registered audits find with claim lines typed into cells);
* :mod:`~auditkit.excel.ranges.deadlines` - :func:`deadline_table`: the work list's filing,
  corrected-claim and appeal deadlines for a payer, date of service, remittance date and kind
  per row;
* ``*_answer`` - what a spreadsheet function shows, for the UDF shells.
"""

from auditkit.excel.ranges.cells import cells, codes, numbers, shape_of, statuses
from auditkit.excel.ranges.cpm import cpm_answer, cpm_codes, cpm_text, cpm_units
from auditkit.excel.ranges.deadlines import (
    DEADLINE_KINDS,
    deadline_answer,
    deadline_rows,
    deadline_table,
)
from auditkit.excel.ranges.lines import (
    FINDINGS_VIEW,
    LineProblem,
    check_line,
    check_lines,
    findings_table,
    lines_from_grid,
    problems_text,
)
from auditkit.excel.ranges.lookups import carc_answer, carc_lookup, families
from auditkit.excel.ranges.rates import Rate, clean_rate, denial_rate, tpi_mix

__all__ = [
    "DEADLINE_KINDS",
    "FINDINGS_VIEW",
    "LineProblem",
    "Rate",
    "carc_answer",
    "carc_lookup",
    "cells",
    "check_line",
    "check_lines",
    "clean_rate",
    "codes",
    "cpm_answer",
    "cpm_codes",
    "cpm_text",
    "cpm_units",
    "deadline_answer",
    "deadline_rows",
    "deadline_table",
    "denial_rate",
    "families",
    "findings_table",
    "lines_from_grid",
    "numbers",
    "problems_text",
    "shape_of",
    "statuses",
    "tpi_mix",
]
