"""Render a canonical claim-line table the way three (invented) practice-management systems do.

* ``medirev``: comma-separated text in Windows-1252, CRLF; "Claim #", "DOS" as MM/DD/YYYY,
  "$1,234.50" money, modifiers in "Mod 1".."Mod 4", diagnoses with the dot in "Dx1".."Dx4",
  several denial codes in one cell separated by ";", status words (Paid, Partial, Denied, ...).
* ``practiflow``: an XLSX report with title rows above the header and a "Grand Total" row at the
  bottom; real Excel dates and numbers, modifiers "25,59" and diagnoses "M54.16; M47.816" in one
  cell each, "CO197" adjustment reasons, two-letter status codes (PD, DN, PP, PN, RJ, VD).
* ``clinicore``: what Excel's "Unicode Text" gives: UTF-16 LE with a BOM, tab-separated, CRLF;
  M/D/YY dates, "(45.00)" for negative money, ICD-10 codes without the dot, the CARC group in
  its own "Grp" column, and no plan or billing-provider columns.

The writers format whole columns at once; only the XLSX writer walks rows (openpyxl writes cell
by cell), in write-only mode.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from auditkit.claims import BY_NAME, COLUMNS, LIST_COLUMNS, LIST_SEP, conform
from auditkit.errors import OutputError
from auditkit.synth import catalog as cat

ALL_COLUMNS: tuple[str, ...] = tuple(c.name for c in COLUMNS)


# --- cell formatting (whole columns) -----------------------------------------------------------


def _text(series: pd.Series) -> pd.Series:
    return series.astype("string").fillna("").astype(object)


def _date_text(series: pd.Series, style: str) -> pd.Series:
    """``mm/dd/yyyy`` (zero-padded, 4-digit year) or ``m/d/yy``; blank for missing."""
    missing = series.isna().to_numpy()
    filled = series.fillna(pd.Timestamp("2000-01-01"))
    month, day, year = (filled.dt.month.astype(str), filled.dt.day.astype(str), filled.dt.year)
    if style == "mm/dd/yyyy":
        text = month.str.zfill(2) + "/" + day.str.zfill(2) + "/" + year.astype(str)
    else:
        text = month + "/" + day + "/" + (year % 100).astype(str).str.zfill(2)
    return pd.Series(np.where(missing, "", text.to_numpy(object)), index=series.index, dtype=object)


def _money_text(series: pd.Series, style: str) -> pd.Series:
    """``$1,234.50`` / ``-$45.00`` (style "dollar") or ``1,234.50`` / ``(45.00)`` ("parens")."""
    values = series.to_numpy(float, na_value=np.nan)
    missing = np.isnan(values)
    body = pd.Series(np.abs(np.where(missing, 0.0, values))).map("{:,.2f}".format).to_numpy(object)
    negative = values < 0
    if style == "dollar":
        out = np.where(negative, "-$" + body, "$" + body)
    else:
        out = np.where(negative, "(" + body + ")", body)
    out[missing] = ""
    return pd.Series(out, index=series.index, dtype=object)


def _number_text(series: pd.Series) -> pd.Series:
    values = series.astype("Float64").to_numpy(float, na_value=np.nan)
    out = pd.Series(values).map("{:g}".format).to_numpy(object)
    out[np.isnan(values)] = ""
    return pd.Series(out, index=series.index, dtype=object)


def _split(series: pd.Series, stem: str, minimum: int, transform=None) -> dict[str, pd.Series]:
    """Spread a list column over numbered columns ``stem1..stemN`` (at least ``minimum``)."""
    parts = series.fillna("").astype(object).str.split(LIST_SEP, expand=True)
    if parts.shape[1] == 0:
        parts = pd.DataFrame({0: [""] * len(series)}, index=series.index)
    parts = parts.fillna("")
    width = max(minimum, parts.shape[1])
    out = {}
    for i in range(width):
        col = parts[i] if i in parts.columns else pd.Series("", index=series.index)
        if transform is not None:
            col = transform(col)
        out[stem.format(i + 1)] = col.astype(object)
    return out


def _list_text(series: pd.Series, sep: str) -> pd.Series:
    return series.fillna("").astype(object).str.replace(LIST_SEP, sep, regex=False)


def _words(series: pd.Series, table: dict[str, str]) -> pd.Series:
    return series.astype(object).map(table).fillna("").astype(object)


def _bool_text(series: pd.Series, yes: str, no: str) -> pd.Series:
    values = series.astype("boolean")
    return pd.Series(
        np.where(values.isna(), "", np.where(values.fillna(False), yes, no)),
        index=series.index,
        dtype=object,
    )


_DESCRIPTIONS = {c.code: c.text for c in cat.CODES}


# --- medirev (CSV, cp1252) ---------------------------------------------------------------------

_MEDIREV_STATUS = {
    "paid": "Paid",
    "partially_paid": "Partial",
    "denied": "Denied",
    "rejected": "Rejected",
    "pending": "Pending",
    "voided": "Void",
}


def _medirev(frame: pd.DataFrame, path: Path) -> None:
    f = frame
    out: dict[str, pd.Series] = {
        "Claim #": _text(f["claim_id"]),
        "Ln": _text(f["line_number"]),
        "Acct #": _text(f["patient_id"]),
        "Patient": _text(f["patient_name"]),
        "DOS": _date_text(f["date_of_service"], "mm/dd/yyyy"),
        "Rend Prov": _text(f["rendering_provider"]),
        "Billing Prov": _text(f["billing_provider"]),
        "Primary Ins": _text(f["payer"]),
        "Plan": _text(f["payer_plan"]),
        "POS": _text(f["place_of_service"]),
        "Proc Code": _text(f["cpt"]),
        "Proc Desc": _words(f["cpt"], _DESCRIPTIONS),
        **_split(f["modifiers"], "Mod {}", 4),
        "Units": _number_text(f["units"]),
        **_split(f["diagnosis_codes"], "Dx{}", 4),
        "Chg Amt": _money_text(f["charge"], "dollar"),
        "Allowed": _money_text(f["allowed"], "dollar"),
        "Ins Paid": _money_text(f["paid"], "dollar"),
        "Adj": _money_text(f["adjustment"], "dollar"),
        "Pt Resp": _money_text(f["patient_responsibility"], "dollar"),
        "Status": _words(f["status"], _MEDIREV_STATUS),
        "Denial Code": _list_text(f["denial_codes"], ";"),
        "Remark Codes": _list_text(f["remark_codes"], ";"),
        "Billed Date": _date_text(f["submitted_date"], "mm/dd/yyyy"),
        "Pmt Date": _date_text(f["paid_date"], "mm/dd/yyyy"),
        "Freq": _text(f["claim_frequency"]),
        "Edited": _bool_text(f["edited_before_submission"], "Y", "N"),
        "Auth #": _text(f["authorization_number"]),
        "Muscles": _text(f["muscles_treated"]),
        "Levels": _list_text(f["spinal_levels"], ";"),
        "Side": _text(f["laterality"]),
        "Guidance": _text(f["imaging_guidance"]),
        "CPM Min": _number_text(f["cpm_minutes"]),
    }
    table = pd.DataFrame(out)
    try:
        table.to_csv(path, index=False, encoding="cp1252", lineterminator="\r\n")
    except UnicodeEncodeError as exc:
        raise OutputError(
            "a value cannot be written in Windows-1252",
            path=path,
            hint=f"{exc.object[exc.start : exc.end]!r}",
        ) from exc


# --- practiflow (XLSX) -------------------------------------------------------------------------

_PRACTIFLOW_STATUS = {
    "paid": "PD",
    "partially_paid": "PP",
    "denied": "DN",
    "rejected": "RJ",
    "pending": "PN",
    "voided": "VD",
}
_TITLE_GUIDANCE = {
    "fluoroscopy": "Fluoroscopy",
    "ultrasound": "Ultrasound",
    "ct": "CT",
    "none": "None",
}
_PRACTIFLOW_MONEY = ("Charges", "Allowed Amt", "Payment", "Adjustment", "Pt Responsibility")
_PRACTIFLOW_DATES = ("Service Date", "Submitted", "Paid Date")


def _cells(series: pd.Series) -> list:
    """Python values for openpyxl: None for missing, datetimes, ints where integral."""
    if pd.api.types.is_datetime64_any_dtype(series):
        values = series.dt.to_pydatetime()
        return [None if pd.isna(v) else v for v in values]
    if isinstance(series.dtype, pd.Int64Dtype) or series.dtype.kind in "iu":
        return [None if pd.isna(v) else int(v) for v in series.astype(object)]
    if series.dtype.kind == "f" or isinstance(series.dtype, pd.Float64Dtype):
        values = series.astype("Float64").to_numpy(float, na_value=np.nan)
        return [
            None if np.isnan(v) else (int(v) if float(v).is_integer() else float(v)) for v in values
        ]
    if isinstance(series.dtype, pd.BooleanDtype) or series.dtype.kind == "b":
        return [None if pd.isna(v) else bool(v) for v in series.astype(object)]
    return [None if (v is None or v is pd.NA or v == "") else v for v in series.astype(object)]


def _practiflow(frame: pd.DataFrame, path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    f = frame
    reasons = f["denial_codes"].fillna("").astype(object).str.replace("-", "", regex=False)
    columns: dict[str, pd.Series] = {
        "Claim ID": f["claim_id"],
        "Line": f["line_number"],
        "Patient ID": f["patient_id"],
        "Patient Name": f["patient_name"],
        "Service Date": f["date_of_service"],
        "Rendering Physician": f["rendering_provider"],
        "Billing Provider": f["billing_provider"],
        "Insurance": f["payer"],
        "Plan Name": f["payer_plan"],
        "Place of Service": f["place_of_service"],
        "CPT/HCPCS": f["cpt"],
        "Modifiers": f["modifiers"],
        "Units": f["units"],
        "Diagnosis Codes": _list_text(f["diagnosis_codes"], "; "),
        "Charges": f["charge"],
        "Allowed Amt": f["allowed"],
        "Payment": f["paid"],
        "Adjustment": f["adjustment"],
        "Pt Responsibility": f["patient_responsibility"],
        "Claim Status": _words(f["status"], _PRACTIFLOW_STATUS),
        "Adj Reason": reasons.str.replace(LIST_SEP, ", ", regex=False),
        "Remarks": _list_text(f["remark_codes"], ", "),
        "Submitted": f["submitted_date"],
        "Paid Date": f["paid_date"],
        "Freq Code": f["claim_frequency"],
        "Scrubber Edit": f["edited_before_submission"],
        "Prior Auth": f["authorization_number"],
        "Muscle Count": f["muscles_treated"],
        "Spinal Levels": _list_text(f["spinal_levels"], ", "),
        "Laterality": f["laterality"].astype("string").str.title(),
        "Guidance Type": _words(f["imaging_guidance"], _TITLE_GUIDANCE),
        "CPM Minutes": f["cpm_minutes"],
    }
    headers = list(columns)
    data = [_cells(s) for s in columns.values()]

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Charge Detail")
    widths = {"Claim ID": 11, "Patient Name": 22, "Rendering Physician": 20, "Billing Provider": 26}
    for i, h in enumerate(headers, 1):
        ws.column_dimensions[get_column_letter(i)].width = widths.get(h, max(10, len(h) + 2))
    bold = Font(bold=True)

    def styled(value, number_format: str | None = None, font: Font | None = None) -> WriteOnlyCell:
        cell = WriteOnlyCell(ws, value=value)
        if number_format:
            cell.number_format = number_format
        if font:
            cell.font = font
        return cell

    dates = frame["date_of_service"]
    first, last = dates.min(), dates.max()
    span = f"{first:%m/%d/%Y} - {last:%m/%d/%Y}" if len(frame) else "(no lines)"
    ws.append([styled("Practiflow Charge Detail Report", font=Font(bold=True, size=14))])
    ws.append([cat.PRACTICE if len(frame) else ""])
    ws.append([f"Date range: {span}"])
    ws.append([])
    ws.append([styled(h, font=bold) for h in headers])
    # openpyxl writes cell by cell; this row loop is the XLSX writer itself. Styled cells are
    # made once per column and reused: each appended row is serialised before the next.
    reused = {headers.index(h): styled(None, "#,##0.00") for h in _PRACTIFLOW_MONEY}
    reused.update({headers.index(h): styled(None, "mm/dd/yyyy") for h in _PRACTIFLOW_DATES})
    for row in zip(*data, strict=True):
        values = list(row)
        for i, cell in reused.items():
            if values[i] is not None:
                cell.value = values[i]
                values[i] = cell
        ws.append(values)
    totals: list = [None] * len(headers)
    totals[0] = styled("Grand Total", font=bold)
    for h in _PRACTIFLOW_MONEY:
        totals[headers.index(h)] = styled(
            round(float(columns[h].sum(skipna=True)), 2), "#,##0.00", bold
        )
    ws.append(totals)
    wb.save(path)


# --- clinicore (UTF-16 tab-separated) ----------------------------------------------------------

_CLINICORE_STATUS = {
    "paid": "Paid",
    "partially_paid": "Partially Paid",
    "denied": "Denied",
    "rejected": "Rejected",
    "pending": "Pending",
    "voided": "Voided",
}
_CLINICORE_SIDE = {"left": "L", "right": "R", "bilateral": "B"}
_CLINICORE_GUIDANCE = {"fluoroscopy": "Fluoro", "ultrasound": "US", "ct": "CT", "none": "None"}


def _carc_parts(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Split "CO-11,CO-167" into group "CO" and reasons "11, 167" (one group per code if mixed)."""
    codes = series.fillna("").astype(object)
    group_of, reasons_of = {}, {}
    for value in codes.unique():  # a few dozen distinct code lists, whatever the size
        pairs = [item.partition("-")[::2] for item in value.split(LIST_SEP)] if value else []
        groups = [g for g, _ in pairs]
        group_of[value] = groups[0] if len(set(groups)) == 1 else ", ".join(groups)
        reasons_of[value] = ", ".join(r for _, r in pairs)
    return codes.map(group_of), codes.map(reasons_of)


def _clinicore(frame: pd.DataFrame, path: Path) -> None:
    f = frame
    group, reason = _carc_parts(f["denial_codes"])
    no_dot = lambda s: s.str.replace(".", "", regex=False)  # noqa: E731
    out: dict[str, pd.Series] = {
        "Claim No": _text(f["claim_id"]),
        "Line No": _text(f["line_number"]),
        "Patient Acct": _text(f["patient_id"]),
        "Patient Name": _text(f["patient_name"]),
        "Svc Date": _date_text(f["date_of_service"], "m/d/yy"),
        "Rendering Provider": _text(f["rendering_provider"]),
        "Carrier": _text(f["payer"]),
        "POS": _text(f["place_of_service"]),
        "Procedure": _text(f["cpt"]),
        **_split(f["modifiers"], "Mod{}", 4),
        "Units": _number_text(f["units"]),
        **_split(f["diagnosis_codes"], "Diag{}", 4, transform=no_dot),
        "Billed": _money_text(f["charge"], "parens"),
        "Allowed": _money_text(f["allowed"], "parens"),
        "Paid": _money_text(f["paid"], "parens"),
        "Adjustment": _money_text(f["adjustment"], "parens"),
        "Pt Resp": _money_text(f["patient_responsibility"], "parens"),
        "Status": _words(f["status"], _CLINICORE_STATUS),
        "Grp": group,
        "CARC": reason,
        "RARC": _list_text(f["remark_codes"], ", "),
        "Submit Date": _date_text(f["submitted_date"], "m/d/yy"),
        "Check Date": _date_text(f["paid_date"], "m/d/yy"),
        "Freq": _text(f["claim_frequency"]),
        "Edited": _bool_text(f["edited_before_submission"], "Yes", "No"),
        "Auth No": _text(f["authorization_number"]),
        "Muscles": _text(f["muscles_treated"]),
        "Levels": _list_text(f["spinal_levels"], "; "),
        "Side": _words(f["laterality"], _CLINICORE_SIDE),
        "Guidance": _words(f["imaging_guidance"], _CLINICORE_GUIDANCE),
        "CPM Min": _number_text(f["cpm_minutes"]),
    }
    table = pd.DataFrame(out)
    with open(path, "w", encoding="utf-16-le", newline="") as handle:
        handle.write("\ufeff")
        table.to_csv(
            handle, sep="\t", index=False, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL
        )


# --- registry ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Flavour:
    """One practice-management export format."""

    name: str
    filename: str  # the bundled sample's file name
    description: str
    columns: tuple[str, ...]  # canonical columns the export carries
    writer: Callable[[pd.DataFrame, Path], None]


FLAVOURS: dict[str, Flavour] = {
    "medirev": Flavour(
        "medirev",
        "medirev_charges.csv",
        "MediRev charge export: CSV, Windows-1252, $ money, MM/DD/YYYY",
        ALL_COLUMNS,
        _medirev,
    ),
    "practiflow": Flavour(
        "practiflow",
        "practiflow_charge_detail.xlsx",
        "Practiflow Charge Detail Report: XLSX with title rows and a Grand Total row",
        ALL_COLUMNS,
        _practiflow,
    ),
    "clinicore": Flavour(
        "clinicore",
        "clinicore_export.txt",
        "ClinicCore export: Excel 'Unicode text' (UTF-16, tab-separated), M/D/YY, (negative) money",
        tuple(c for c in ALL_COLUMNS if c not in ("payer_plan", "billing_provider")),
        _clinicore,
    ),
}


def write_flavour(frame: pd.DataFrame, flavour: str, path: str | Path) -> Path:
    """Write the canonical ``frame`` as the export of ``flavour`` (a key of :data:`FLAVOURS`)."""
    if flavour not in FLAVOURS:
        raise ValueError(f"unknown flavour {flavour!r}; choose one of {', '.join(FLAVOURS)}")
    missing = [c for c in ALL_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"the frame lacks canonical columns: {', '.join(missing)}")
    path = Path(path)
    try:
        FLAVOURS[flavour].writer(frame, path)
    except PermissionError as exc:
        raise OutputError(
            "cannot write the file", path=path, hint="close it or choose another folder"
        ) from exc
    except FileNotFoundError as exc:
        raise OutputError("the folder does not exist", path=path, hint="create it first") from exc
    return path


# --- truth files -------------------------------------------------------------------------------


def write_truth(
    frame: pd.DataFrame, path: str | Path, columns: tuple[str, ...] | None = None
) -> Path:
    """Write canonical columns as plain UTF-8 CSV: ISO dates, list columns as stored, blanks for NA."""
    columns = columns or tuple(c for c in ALL_COLUMNS if c in frame.columns)
    out = {}
    for name in columns:
        s = frame[name]
        kind = BY_NAME[name].kind
        if kind == "date":
            out[name] = s.dt.strftime("%Y-%m-%d").astype(object).where(s.notna(), "")
        elif kind == "money":
            out[name] = pd.Series(s.map("{:.2f}".format).to_numpy(object), index=s.index).where(
                s.notna(), ""
            )
        elif kind == "number":
            out[name] = _number_text(s)
        elif kind == "bool":
            out[name] = _bool_text(s, "true", "false")
        else:
            out[name] = _text(s)
    path = Path(path)
    pd.DataFrame(out).to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
    return path


def read_truth(path: str | Path) -> pd.DataFrame:
    """Read a file written by :func:`write_truth` back into canonical dtypes."""
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    out = {}
    for name in raw.columns:
        s = raw[name]
        kind = BY_NAME[name].kind
        if name in LIST_COLUMNS:
            out[name] = s
            continue
        s = s.replace("", None)
        if kind == "date":
            out[name] = pd.to_datetime(s, format="%Y-%m-%d")
        elif kind in ("money", "number", "int"):
            out[name] = pd.to_numeric(s)
        elif kind == "bool":
            out[name] = s.map({"true": True, "false": False})
        else:
            out[name] = s
    return conform(pd.DataFrame(out))
