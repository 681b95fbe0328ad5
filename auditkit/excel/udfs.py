"""auditkit's spreadsheet functions: xlwings UDFs, each a thin shell over :mod:`auditkit.excel.ranges`.

Excel (Windows) lists them under the category ``auditkit`` once *Import Functions* has read the
workbook's ``UDF Modules`` setting (``auditkit.excel.udfs``, set by ``auditkit excel-template``).
Every function:

* takes ranges as xlwings passes them (``ndim=2``: always a list of rows, so one cell, a column
  and a block arrive the same way); the library cleans the cells - blanks, dates, ``20552.0``,
  numbers stored as text - with the export reader's own cleaners;
* returns a value, or a list of rows that Excel spills (dynamic arrays), shaped like its input
  where the answer is one value per cell;
* never raises: a user mistake comes back as one readable line of text in the cell
  (``auditkit: ...``), and so does an unexpected error (without a traceback).

The decorators must stay in this order: ``@xw.func`` outermost (an ``@xw.arg`` above it would
reset the category), then one ``@xw.arg`` per documented argument, then :func:`_cell_errors`.
``tests/excel`` checks the metadata xlwings builds from them on Windows.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import xlwings as xw

from auditkit.errors import AuditkitError
from auditkit.excel import ranges

#: The function-wizard category of every auditkit function.
CATEGORY = "auditkit"
#: Prefix of every message a function returns instead of a value.
MESSAGE_PREFIX = "auditkit: "

_RANGE = "A range of cells (one column or a block); blank cells are ignored."


def _cell_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Return errors as one line of text in the cell instead of raising."""

    @functools.wraps(func)
    def shell(*args: Any) -> Any:
        try:
            return func(*args)
        except AuditkitError as exc:
            return MESSAGE_PREFIX + str(exc)
        except Exception as exc:  # noqa: BLE001 - a cell must show a message, never a traceback
            detail = " ".join(str(exc).split())[:200]
            return f"{MESSAGE_PREFIX}internal error ({type(exc).__name__}: {detail})"

    return shell


def _rate(rate: ranges.Rate) -> Any:
    return rate.value if rate.value is not None else f"n/a: {rate.reason}"


def _plain(values: pd.Series) -> np.ndarray:
    """A column as plain Python values (object array), missing values as None (empty cells).

    Results repeat a few distinct values: each becomes a Python object once and is shared.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    distinct = np.empty(len(uniques) + 1, dtype=object)
    distinct[:-1] = pd.Series(uniques).to_numpy(dtype=object, na_value=None)
    return distinct[codes]  # code -1 (missing) takes the last slot: None


def _like(values: Any, result: pd.Series) -> Any:
    """One result per input cell, in the input's shape (a single cell gives a single value)."""
    rows, cols = ranges.shape_of(values)
    flat = _plain(result)
    if rows * cols <= 1:
        return flat[0] if len(flat) else None
    # numpy builds the list of rows in C (a Python loop over 100,000 rows costs ~30 ms)
    return flat.reshape(rows, cols).tolist()


@xw.func(category=CATEGORY)
@xw.arg("codes", ndim=2, doc="CPT codes (e.g. the procedure column). " + _RANGE)
@xw.arg("providers", ndim=2, doc="Optional: the providers column, same rows as codes.")
@xw.arg("provider", doc="Optional: one provider's name; only that provider's rows count.")
@_cell_errors
def AUDIT_TPI_MIX(codes: Any, providers: Any = None, provider: Any = None) -> Any:  # noqa: N802
    """Share of 20553 among the trigger-point codes (20552, 20553) in a range, from 0 to 1."""
    return _rate(ranges.tpi_mix(codes, providers, provider))


@xw.func(category=CATEGORY)
@xw.arg("statuses", ndim=2, doc="Claim statuses (Paid, Denied, Pending, ...). " + _RANGE)
@xw.arg("frequency", ndim=2, doc="Optional: claim frequency codes (7, 8 = corrected, voided).")
@xw.arg("providers", ndim=2, doc="Optional: the providers column, same rows as statuses.")
@xw.arg("provider", doc="Optional: one provider's name; only that provider's rows count.")
@_cell_errors
def AUDIT_CLEAN_RATE(  # noqa: N802
    statuses: Any, frequency: Any = None, providers: Any = None, provider: Any = None
) -> Any:
    """Clean-claim rate (0 to 1): settled claims paid without denial, rejection or correction."""
    return _rate(ranges.clean_rate(statuses, frequency, providers, provider))


@xw.func(category=CATEGORY)
@xw.arg("statuses", ndim=2, doc="Line statuses (Paid, Denied, Pending, ...). " + _RANGE)
@xw.arg("charges", ndim=2, doc="Optional: charges, same rows; gives the rate in dollars.")
@xw.arg("providers", ndim=2, doc="Optional: the providers column, same rows as statuses.")
@xw.arg("provider", doc="Optional: one provider's name; only that provider's rows count.")
@_cell_errors
def AUDIT_DENIAL_RATE(  # noqa: N802
    statuses: Any, charges: Any = None, providers: Any = None, provider: Any = None
) -> Any:
    """Denial rate (0 to 1): denied lines over paid, partially paid and denied lines."""
    return _rate(ranges.denial_rate(statuses, charges, providers, provider))


@xw.func(category=CATEGORY)
@xw.arg("minutes", ndim=2, doc="Chronic pain management minutes in a month (one per cell).")
@xw.arg("code", doc='Optional: "G3002" or "G3003" to get that code\'s units as a number.')
@_cell_errors
def AUDIT_CPM_CODES(minutes: Any, code: Any = None) -> Any:  # noqa: N802
    """G3002/G3003 codes and units a month's CPM minutes support (30 min, then each 15)."""
    return _like(minutes, ranges.cpm_answer(minutes, code))


@xw.func(category=CATEGORY)
@xw.arg("code", ndim=2, doc="Denial reason codes (CO-197, PR-1 or 197). " + _RANGE)
@xw.arg("part", doc='Optional: "meaning" or "cause" for one column; default both.')
@_cell_errors
def AUDIT_CARC(code: Any, part: Any = None) -> Any:  # noqa: N802
    """Meaning and root-cause group of denial reason codes (two columns unless part is given)."""
    answer = ranges.carc_answer(code, part)
    if answer.shape[1] == 1:
        return _like(code, answer.iloc[:, 0])
    return np.column_stack([_plain(answer["meaning"]), _plain(answer["root_cause"])]).tolist()


@xw.func(category=CATEGORY)
@xw.arg("cpt", ndim=2, doc="CPT or HCPCS codes. " + _RANGE)
@_cell_errors
def AUDIT_FAMILY(cpt: Any) -> Any:  # noqa: N802
    """Procedure family of each code: trigger point, joint, epidural, facet, nerve block, ..."""
    return _like(cpt, ranges.families(cpt))


@xw.func(category=CATEGORY)
@xw.arg("cpt", ndim=2, doc="The line's CPT or HCPCS code, or a column of codes (one per line).")
@xw.arg("modifiers", ndim=2, doc="Optional: modifiers, one cell (25,59) or the Mod 1-4 cells.")
@xw.arg("diagnoses", ndim=2, doc="Optional: ICD-10 codes, one cell (M54.16,M47.816) or Dx cells.")
@xw.arg("units", ndim=2, doc="Optional: units billed.")
@xw.arg("payer", ndim=2, doc="Optional: the payer.")
@xw.arg("headers", ndim=2, doc="Optional: headers of more columns (e.g. Muscles, Side, POS).")
@xw.arg("values", ndim=2, doc="Optional: the values for those headers, one row per line.")
@_cell_errors
def AUDIT_CHECK_LINE(  # noqa: N802
    cpt: Any,
    modifiers: Any = None,
    diagnoses: Any = None,
    units: Any = None,
    payer: Any = None,
    headers: Any = None,
    values: Any = None,
) -> Any:
    """Problems auditkit's audits find with a claim line ("OK" if none); a column gives one each."""
    problems = ranges.check_lines(cpt, modifiers, diagnoses, units, payer, headers, values)
    return _like(cpt, pd.Series([ranges.problems_text(p) for p in problems], dtype=object))


@xw.func(category=CATEGORY)
@xw.arg("table", ndim=2, doc="The pasted export, including its header row.")
@xw.arg("mapping", doc="Optional: full path of a mapping file (TOML) for unusual headers.")
@xw.arg("config", doc="Optional: full path of an auditkit.toml with your thresholds.")
@_cell_errors
def AUDIT_FINDINGS(table: Any, mapping: Any = None, config: Any = None) -> Any:  # noqa: N802
    """All findings for a pasted export, as a table with a header row (spills down)."""
    mapping_path = ranges.cells(mapping).dropna()
    config_path = ranges.cells(config).dropna()
    found = ranges.findings_table(
        table,
        str(mapping_path.iloc[0]) if len(mapping_path) else None,
        str(config_path.iloc[0]) if len(config_path) else None,
    )
    header = [list(found.columns)]
    if not len(found):
        return header + [["No findings."] + [None] * (len(found.columns) - 1)]
    return header + found.to_numpy(dtype=object).tolist()


@xw.func(category=CATEGORY)
@xw.arg("payer", ndim=2, doc="Payers (one cell for all rows, or one per row); blank: default.")
@xw.arg("dos", ndim=2, doc="Dates of service: date cells, Excel serial numbers or date text.")
@xw.arg(
    "remit_date",
    ndim=2,
    doc="Remittance dates, same rows, or leave empty: appeal and corrected-claim windows then "
    "count from the date of service (an earlier, safe deadline).",
)
@xw.arg(
    "kind",
    ndim=2,
    doc="timely_filing, corrected_claim, appeal or redetermination (one cell, or one per row).",
)
@xw.arg("config", doc="Optional: full path of an auditkit.toml with your payers' deadlines.")
@_cell_errors
def AUDIT_DEADLINE(  # noqa: N802
    payer: Any, dos: Any, remit_date: Any, kind: Any, config: Any = None
) -> Any:
    """Filing, corrected-claim or appeal deadline of each row as a date (format cells as dates)."""
    answer = ranges.deadline_answer(payer, dos, remit_date, kind, config, prefix=MESSAGE_PREFIX)
    return _like(ranges.deadline_rows(payer, dos, remit_date, kind), answer)


#: Every function this module gives Excel, in the order the README lists them.
FUNCTIONS: tuple[Callable[..., Any], ...] = (
    AUDIT_TPI_MIX,
    AUDIT_CLEAN_RATE,
    AUDIT_DENIAL_RATE,
    AUDIT_CPM_CODES,
    AUDIT_CARC,
    AUDIT_FAMILY,
    AUDIT_CHECK_LINE,
    AUDIT_FINDINGS,
    AUDIT_DEADLINE,
)
