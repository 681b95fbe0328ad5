"""The canonical claim-line table: one row per billed service line.

This module is the single place where the columns are declared. The README's column table, the
ingest layer, the audits (which declare the columns they need), the sample generator and the
workbook's "Claim lines" sheet all read from :data:`COLUMNS`.

Representation choices (made for speed on millions of lines, see benchmarks/):

* Text columns use pandas' string dtype; missing values are ``<NA>``.
* List columns (``modifiers``, ``diagnosis_codes``, ``denial_codes``, ``remark_codes``,
  ``spinal_levels``) are stored as one string per line with the items **in order, joined by a
  comma and no spaces** (``"25,RT"``; empty string when the line has none). Use
  :func:`split_list` to get Python lists and :func:`list_contains` for vectorised membership tests.
* Dates are ``datetime64[ns]`` normalised to midnight; money is ``float64`` (negative for credits).
* Columns that an export does not have are *absent* from the frame, not filled with blanks, so an
  audit can tell "not exported" from "exported but empty".
* Two provenance columns, ``source_file`` and ``source_row`` (1-based row number in that file as
  a spreadsheet program shows it), are always present after :func:`auditkit.load`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

#: Separator used inside list columns.
LIST_SEP = ","

#: List columns where a column present but blank on every line is information, not a gap:
#: an export whose modifier column is empty billed no modifiers (the audits of missing
#: modifiers must run on it, not be skipped).
BLANK_MEANS_NONE: tuple[str, ...] = ("modifiers",)

#: The claim statuses a line can have.
STATUSES: tuple[str, ...] = ("paid", "partially_paid", "denied", "rejected", "pending", "voided")
# The groups of statuses every audit, measure and spreadsheet function uses (defined once here).
#: The payer paid the line, in whole or in part.
PAID_STATUSES: tuple[str, ...] = ("paid", "partially_paid")
#: The payer decided on the line: paid, partly paid or denied (the denial rate's denominator).
ADJUDICATED_STATUSES: tuple[str, ...] = (*PAID_STATUSES, "denied")
#: The line is settled one way or another (not pending): it has a place in the clean-claim rate.
SETTLED_STATUSES: tuple[str, ...] = (*ADJUDICATED_STATUSES, "rejected", "voided")
#: A line with one of these makes its claim unclean (not paid on first submission).
UNCLEAN_STATUSES: tuple[str, ...] = ("denied", "rejected")
#: Lines that never reached the payer's decision as billed: left out where a claim sent twice
#: would otherwise count twice.
NOT_SENT_STATUSES: tuple[str, ...] = ("rejected", "voided")
#: Lines with money still open: pending, denied (to rework) or partly paid.
OPEN_STATUSES: tuple[str, ...] = ("pending", "denied", "partially_paid")


@dataclass(frozen=True)
class Column:
    """One column of the canonical table."""

    name: str
    kind: str  # "text", "code", "list", "date", "money", "int", "number", "bool", "status"
    required: bool
    meaning: str

    @property
    def dtype(self) -> str:
        return KIND_DTYPES[self.kind]


#: pandas dtype for each kind of column.
KIND_DTYPES: dict[str, str] = {
    "text": "string",
    "code": "string",
    "list": "string",
    "date": "datetime64[ns]",
    "money": "float64",
    "int": "Int64",
    "number": "Float64",
    "bool": "boolean",
    "status": "string",
}

COLUMNS: tuple[Column, ...] = (
    # required
    Column("claim_id", "text", True, "The practice's claim number (patient control number)."),
    Column("date_of_service", "date", True, "Date the service was performed."),
    Column("rendering_provider", "text", True, "Physician or clinician who performed the service."),
    Column("payer", "text", True, "Insurance carrier billed for this line (primary payer)."),
    Column("cpt", "code", True, "CPT or HCPCS code billed, upper-case, no decimals or spaces."),
    # optional
    Column("line_number", "int", False, "Line number within the claim (1, 2, ...)."),
    Column(
        "patient_id", "text", False, "Patient account or MRN (identifying: redacted on request)."
    ),
    Column("patient_name", "text", False, "Patient name (identifying: redacted on request)."),
    Column("billing_provider", "text", False, "Billing provider or group."),
    Column("payer_plan", "text", False, "Plan or product within the payer (e.g. Medicare Part B)."),
    Column(
        "modifiers", "list", False, "Modifiers in order, up to 4 (e.g. '25' or '50' or 'RT,59')."
    ),
    Column("units", "number", False, "Units of service billed."),
    Column(
        "diagnosis_codes", "list", False, "ICD-10-CM codes in pointer order, with the dot (M54.16)."
    ),
    Column("charge", "money", False, "Billed charge for the line."),
    Column("allowed", "money", False, "Amount the payer allowed."),
    Column("paid", "money", False, "Amount the payer paid."),
    Column("adjustment", "money", False, "Contractual and other adjustments."),
    Column(
        "patient_responsibility",
        "money",
        False,
        "Deductible, coinsurance and copay owed by the patient.",
    ),
    Column(
        "status", "status", False, "One of paid, partially_paid, denied, rejected, pending, voided."
    ),
    Column(
        "denial_codes", "list", False, "Claim adjustment reason codes as GROUP-CODE (CO-197, PR-1)."
    ),
    Column("remark_codes", "list", False, "Remittance advice remark codes (N290, M127)."),
    Column("submitted_date", "date", False, "Date the claim was first submitted to the payer."),
    Column("paid_date", "date", False, "Date the payer paid or adjudicated the line."),
    Column(
        "claim_frequency", "int", False, "Claim frequency code: 1 original, 7 replacement, 8 void."
    ),
    Column(
        "edited_before_submission",
        "bool",
        False,
        "True when the claim was edited (scrubber or manual) before it went out.",
    ),
    Column("authorization_number", "text", False, "Prior authorization number on the claim."),
    Column(
        "place_of_service",
        "code",
        False,
        "Two-digit place-of-service code (11 office, 22 outpatient hospital, 24 ASC).",
    ),
    Column(
        "muscles_treated",
        "int",
        False,
        "Documented number of muscles injected (trigger-point lines).",
    ),
    Column(
        "spinal_levels", "list", False, "Documented spinal levels treated (e.g. 'L4-L5,L5-S1')."
    ),
    Column("laterality", "text", False, "Documented side: left, right or bilateral."),
    Column(
        "imaging_guidance",
        "text",
        False,
        "Documented guidance: fluoroscopy, ct, ultrasound or none.",
    ),
    Column(
        "cpm_minutes",
        "number",
        False,
        "Chronic pain management minutes documented for the line's month.",
    ),
)

#: Provenance columns added by the loader.
PROVENANCE: tuple[Column, ...] = (
    Column("source_file", "text", True, "Export file the line was read from."),
    Column(
        "source_row", "int", True, "Row number in that file, as a spreadsheet program numbers it."
    ),
)

BY_NAME: dict[str, Column] = {c.name: c for c in COLUMNS + PROVENANCE}
REQUIRED: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.required)
LIST_COLUMNS: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.kind == "list")
#: Columns that identify a patient; replaced by pseudonyms under ``--redact``.
IDENTIFYING: tuple[str, ...] = ("patient_id", "patient_name")


def split_list(values: pd.Series) -> pd.Series:
    """Return a Series of Python lists from a list column (empty list for blank or missing)."""
    return values.fillna("").astype(str).map(lambda s: s.split(LIST_SEP) if s else [])


def join_list(items: list[str] | tuple[str, ...]) -> str:
    """Join list items the way the canonical table stores them."""
    return LIST_SEP.join(i for i in items if i)


def list_contains(values: pd.Series, item: str | tuple[str, ...] | list[str]) -> pd.Series:
    """Vectorised test: does each line's list column contain ``item`` (or any of several items)?"""
    items = (item,) if isinstance(item, str) else tuple(item)
    padded = LIST_SEP + values.fillna("").astype("string") + LIST_SEP
    result = pd.Series(False, index=values.index)
    for one in items:
        result |= (
            padded.str.contains(LIST_SEP + one + LIST_SEP, regex=False).fillna(False).astype(bool)
        )
    return result


def conform(frame: pd.DataFrame) -> pd.DataFrame:
    """Cast the canonical columns present in ``frame`` to their declared dtypes, in declared order.

    Columns that are not canonical are kept after the canonical ones.
    """
    out = {}
    for col in COLUMNS + PROVENANCE:
        if col.name in frame.columns:
            series = frame[col.name]
            if col.kind == "date":
                series = pd.to_datetime(series).astype("datetime64[ns]").dt.normalize()
            else:
                series = series.astype(col.dtype)
            out[col.name] = series
    for name in frame.columns:
        if name not in out:
            out[name] = frame[name]
    return pd.DataFrame(out, index=frame.index, copy=False)


def columns_markdown() -> str:
    """The column table as Markdown, for the README (a test keeps the README in sync)."""
    rows = ["| column | type | required | meaning |", "|---|---|---|---|"]
    for col in COLUMNS:
        rows.append(
            f"| `{col.name}` | {col.kind} | {'yes' if col.required else 'no'} | {col.meaning} |"
        )
    return "\n".join(rows)
