"""Turn 835 claims into canonical claim lines, and net reversals against what they reverse.

The rules (status, denial codes, reversals, which element feeds which column) are documented in
:mod:`auditkit.ingest.x12`, the public face of the 835 reader.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from auditkit import claims as canonical
from auditkit.ingest.model import FileReport
from auditkit.ingest.x12_model import Claim, Transaction
from auditkit.ingest.x12_parse import Notes, iter_events

#: CLP02 values meaning "processed": primary, secondary, tertiary, and the same forwarded on.
PROCESSED = frozenset({"1", "2", "3", "19", "20", "21"})
#: CLP02 values with a fixed status for every line of the claim.
FIXED_STATUS = {"4": "denied", "22": "voided", "23": "rejected", "25": "pending"}
#: Reasons that reduce a payment by contract, by law or by another payer's share: adjustments,
#: never denials, whatever the group code (45 fee schedule, 42 above maximum allowable, A2 and
#: 131 contractual or negotiated discount, 253 sequestration, 23 prior payer's adjudication,
#: 94 processed in excess of charges).
NOT_DENIALS = frozenset({"45", "42", "A2", "131", "253", "23", "94"})
#: Patient-responsibility reasons (deductible, coinsurance, copay): money the patient owes.
PATIENT_SHARE = frozenset({"1", "2", "3"})

#: CLP06 claim filing indicator -> plan words for ``payer_plan``.
PLAN_NAMES = {
    "11": "Other non-federal program",
    "12": "PPO",
    "13": "POS",
    "14": "EPO",
    "15": "Indemnity",
    "16": "Medicare Advantage HMO",
    "17": "Dental maintenance",
    "AM": "Auto medical",
    "BL": "Blue Cross Blue Shield",
    "CH": "TRICARE",
    "CI": "Commercial",
    "DS": "Disability",
    "FI": "Federal employees program",
    "HM": "HMO",
    "LM": "Liability medical",
    "MA": "Medicare Part A",
    "MB": "Medicare Part B",
    "MC": "Medicaid",
    "OF": "Other federal program",
    "TV": "Title V",
    "VA": "Veterans Affairs",
    "WC": "Workers' compensation",
    "ZZ": "Mutually defined",
}

#: Where each column comes from, shown in the file report like a header mapping.
MAPPING: dict[str, str | list[str]] = {
    "claim_id": "CLP01",
    "date_of_service": ["DTM*472", "DTM*150", "DTM*232"],
    "rendering_provider": ["NM1*82", "N1*PE"],
    "payer": "N1*PR",
    "cpt": ["SVC06-2", "SVC01-2"],
    "line_number": ["REF*6R", "SVC sequence"],
    "patient_id": "NM1*QC09",
    "patient_name": "NM1*QC",
    "billing_provider": "N1*PE",
    "payer_plan": "CLP06",
    "modifiers": ["SVC06-3..6", "SVC01-3..6"],
    "units": ["SVC07", "SVC05"],
    "charge": ["SVC02", "CLP03"],
    "allowed": "AMT*B6",
    "paid": ["SVC03", "CLP04"],
    "adjustment": "CAS (groups CO, OA, PI, CR)",
    "patient_responsibility": ["CAS (group PR)", "CLP05"],
    "status": ["CLP02", "SVC03", "CAS"],
    "denial_codes": "CAS",
    "remark_codes": ["LQ*HE", "MOA", "MIA"],
    "paid_date": ["BPR16", "DTM*405"],
    "claim_frequency": "CLP09",
}

#: Columns beyond the canonical ones that 835 lines carry (used by the join and the netting).
EXTRA_COLUMNS: tuple[str, ...] = (
    "line_control_number",  # REF*6R as sent (text)
    "paid_cpt",  # SVC01-2 when the payer changed the billed code (SVC06), else empty
    "payer_claim_number",  # CLP07
    "claim_status_code",  # CLP02
    "check_number",  # TRN02: check or EFT trace number
    "clp_segment",  # segment position of the claim's CLP: identifies one adjudication
)

_TEXT = (
    "claim_id",
    "rendering_provider",
    "payer",
    "cpt",
    "patient_id",
    "patient_name",
    "billing_provider",
    "payer_plan",
    "modifiers",
    "claim_status_code",
    "denial_codes",
    "remark_codes",
    "line_control_number",
    "paid_cpt",
    "payer_claim_number",
    "check_number",
)
_MONEY = ("charge", "allowed", "paid", "adjustment", "patient_responsibility", "units")
_INTS = ("line_number", "claim_frequency", "source_row", "clp_segment")
_DATES = ("date_of_service", "paid_date")
_ROWS_PER_BLOCK = 50_000


def _money(value: float | None) -> float:
    return math.nan if value is None else value


def _split_adjustments(adjustments) -> tuple[float, float, list[str]]:
    """(non-patient adjustment total, patient responsibility total, denial codes in order)."""
    other = 0.0
    patient = 0.0
    codes: list[str] = []
    for adj in adjustments:
        if adj.group == "PR":
            patient += adj.amount
            if adj.reason in PATIENT_SHARE:
                continue
        else:
            other += adj.amount
        if adj.reason in NOT_DENIALS:
            continue
        code = f"{adj.group}-{adj.reason}"
        if code not in codes:
            codes.append(code)
    return other, patient, codes


class _Columns:
    """Column lists filled claim by claim and turned into typed blocks every 100,000 lines."""

    def __init__(self) -> None:
        self.blocks: list[pd.DataFrame] = []
        self._fresh()

    def _fresh(self) -> None:
        self.cols: dict[str, list] = {name: [] for name in (*_TEXT, *_MONEY, *_INTS, *_DATES)}
        self.rows = 0

    def flush(self, *, force: bool = False) -> None:
        if not self.rows and not force:
            return
        data = {}
        for name in _TEXT:
            data[name] = pd.array(self.cols[name], dtype="string")
        for name in _MONEY:
            data[name] = np.array(self.cols[name], dtype="float64")
        for name in _INTS:
            data[name] = pd.array(self.cols[name], dtype="Int64")
        for name in _DATES:
            data[name] = np.array(self.cols[name], dtype="datetime64[D]").astype("datetime64[ns]")
        self.blocks.append(pd.DataFrame(data))
        self._fresh()

    def add_claim(self, txn: Transaction, claim: Claim) -> None:
        # One Python pass per claim: the parser already walks segments one by one, and each line
        # needs its own few CAS triplets sorted into denial, contractual and patient money.
        payee = txn.payee.name if txn.payee else None
        payer = claim.payer or txn.payer
        frequency = claim.frequency_code
        shared = {
            "claim_id": claim.patient_control_number,
            "rendering_provider": claim.rendering_provider or payee,
            "payer": payer.name if payer else None,
            "patient_id": claim.patient_id or None,
            "patient_name": claim.patient_name or None,
            "billing_provider": payee,
            "payer_plan": PLAN_NAMES.get(claim.filing_indicator) or claim.filing_indicator or None,
            "claim_status_code": claim.status_code,
            "payer_claim_number": claim.payer_claim_number or None,
            "check_number": txn.payment.trace_number or None,
            "claim_frequency": int(frequency) if frequency.isdigit() else None,
            "clp_segment": claim.segment,
            "paid_date": txn.payment.paid_date,
        }
        claim_other, claim_patient, claim_codes = _split_adjustments(claim.adjustments)
        claim_remarks = claim.remark_codes
        if not claim.lines:
            patient = claim.patient_responsibility
            self._append(
                shared,
                source_row=claim.segment,
                line_number=None,
                line_control_number=None,
                cpt=None,
                paid_cpt=None,
                modifiers="",
                units=1.0,
                charge=_money(claim.charge),
                allowed=_money(claim.amounts.get("AU")),
                paid=_money(claim.paid),
                adjustment=claim_other,
                patient_responsibility=claim_patient if patient is None else patient,
                denial_codes=",".join(claim_codes),
                remark_codes=",".join(claim_remarks),
                date_of_service=claim.statement_start,
            )
            return
        for sequence, line in enumerate(claim.lines, start=1):
            other, patient, codes = _split_adjustments(line.adjustments)
            if not line.adjustments:
                codes = claim_codes
            remarks = line.remark_codes
            if claim_remarks:
                remarks = remarks + [r for r in claim_remarks if r not in remarks]
            control = line.control_number
            if line.original_code:
                cpt, modifiers, paid_cpt = line.original_code, line.original_modifiers, line.code
            else:
                cpt, modifiers, paid_cpt = line.code, line.modifiers, None
            units = line.original_units if line.original_units is not None else line.units
            self._append(
                shared,
                source_row=line.segment,
                line_number=(
                    int(control) if control.isdigit() and 0 < int(control) < 1000 else sequence
                ),
                line_control_number=control or None,
                cpt=cpt or None,
                paid_cpt=paid_cpt,
                modifiers=",".join(modifiers),
                units=1.0 if units is None else units,
                charge=_money(line.charge),
                allowed=_money(line.allowed),
                paid=_money(line.paid),
                adjustment=other,
                patient_responsibility=patient,
                denial_codes=",".join(codes),
                remark_codes=",".join(remarks),
                date_of_service=line.service_date or line.service_start or claim.statement_start,
            )

    def _append(self, shared: dict, **line) -> None:
        cols = self.cols
        for name, value in shared.items():
            cols[name].append(value)
        for name, value in line.items():
            cols[name].append(value)
        self.rows += 1
        if self.rows >= _ROWS_PER_BLOCK:
            self.flush()

    def frame(self) -> pd.DataFrame:
        self.flush(force=not self.blocks)
        frame = (
            pd.concat(self.blocks, ignore_index=True) if len(self.blocks) > 1 else self.blocks[0]
        )
        self.blocks = []
        return frame


def line_status(
    status_code: pd.Series, paid: pd.Series, charge: pd.Series, denial_codes: pd.Series
) -> pd.Series:
    """Canonical status of each line from its claim's CLP02, its paid amount and denial codes."""
    code = status_code.fillna("").astype(str).to_numpy()
    paid_values = paid.fillna(0.0).to_numpy()
    denied_reason = (denial_codes.fillna("") != "").to_numpy()
    charged = charge.fillna(0.0).to_numpy() != 0
    processed = np.isin(code, list(PROCESSED))
    conditions = [code == key for key in FIXED_STATUS] + [
        processed & denied_reason & (paid_values == 0) & charged,
        processed & denied_reason & (paid_values != 0),
        processed,
    ]
    choices = [*FIXED_STATUS.values(), "denied", "partially_paid", "paid"]
    result = np.select(conditions, choices, default="")
    out = pd.Series(result, index=status_code.index, dtype="string")
    return out.mask(out == "")


def net_reversals(lines: pd.DataFrame) -> tuple[pd.DataFrame, int, int]:
    """Drop each reversed payment together with its reversal (CLP02 = 22).

    A reversal cancels the latest earlier adjudication of the same claim id, payer and payer
    claim number (earlier: a smaller paid date, or the same date and an earlier line of the
    frame). Both claims' lines leave the frame, so the money is not counted twice; the corrected
    claim that usually follows the reversal stays. A reversal whose original is not in the frame
    (it came in an earlier remittance) stays as ``voided`` lines with negative amounts, which
    net against the original wherever that is counted.

    Returns the frame and the numbers of netted and unmatched reversals. Frames without the 835
    columns are returned unchanged.
    """
    needed = {"claim_status_code", "clp_segment", "claim_id", "payer", "payer_claim_number"}
    if not needed <= set(lines.columns):
        return lines, 0, 0
    is_reversal = (lines["claim_status_code"] == "22").fillna(False).to_numpy(dtype=bool)
    if not is_reversal.any():
        return lines, 0, 0
    # only claims sharing a claim id with a reversal can be netted: work on those rows alone
    involved = lines["claim_id"].isin(lines.loc[is_reversal, "claim_id"].unique()).to_numpy(bool)
    rows = np.flatnonzero(involved)
    sub = lines.iloc[rows]
    keys = ["claim_id", "payer", "payer_claim_number"]
    table = pd.DataFrame(
        {
            "source": sub["source_file"].fillna("").astype(str).to_numpy()
            if "source_file" in sub
            else "",
            "clp": sub["clp_segment"].to_numpy(),
            **{k: sub[k].fillna("").astype(str).to_numpy() for k in keys},
            "code": sub["claim_status_code"].fillna("").astype(str).to_numpy(),
            "date": sub["paid_date"].to_numpy() if "paid_date" in sub else pd.NaT,
            "position": rows,
        }
    )
    claims = table.groupby(["source", "clp"], sort=False, as_index=False).agg(
        {**{k: "first" for k in keys}, "code": "first", "date": "first", "position": "min"}
    )
    reversals = claims[claims["code"] == "22"]
    originals = claims[claims["code"].isin(PROCESSED | {"4"})]
    pairs = reversals.merge(originals, on=keys, suffixes=("_r", "_o"))
    same_day = (
        pairs["date_o"].isna() | pairs["date_r"].isna() | (pairs["date_o"] == pairs["date_r"])
    )
    earlier = (pairs["date_o"] < pairs["date_r"]) | (
        same_day & (pairs["position_o"] < pairs["position_r"])
    )
    # the latest earlier adjudication first; each reversal and each original used once
    pairs = pairs[earlier].sort_values(["date_o", "position_o"], ascending=False)
    pairs = pairs.drop_duplicates(["source_r", "clp_r"]).drop_duplicates(["source_o", "clp_o"])
    drop = pd.concat(
        [
            pairs[["source_r", "clp_r"]].set_axis(["source", "clp"], axis=1),
            pairs[["source_o", "clp_o"]].set_axis(["source", "clp"], axis=1),
        ]
    )
    gone = pd.MultiIndex.from_frame(table[["source", "clp"]]).isin(pd.MultiIndex.from_frame(drop))
    keep = np.ones(len(lines), dtype=bool)
    keep[rows[gone]] = False
    return lines[keep], len(pairs), len(reversals) - len(pairs)


def read_claim_lines(path: str | Path) -> tuple[pd.DataFrame, FileReport]:
    """Read an 835 file as canonical claim lines (one per SVC, or per CLP without SVC).

    ``source_row`` is the segment position of the SVC (or of the CLP for a claim without
    service lines): for 835 files a "row" is a segment number. Raises
    :class:`~auditkit.errors.InputError` when the file cannot be read as an 835.
    """
    path_text = str(path)
    notes = Notes()
    columns = _Columns()
    element = None
    claim_adjusted = 0
    claim_adjusted_total = 0.0
    plb_count = 0
    plb_total = 0.0
    for kind, txn, claim in iter_events(path, notes):
        if kind == "claim":
            columns.add_claim(txn, claim)
            if claim.lines and claim.adjustments:
                claim_adjusted += 1
                claim_adjusted_total += sum(a.amount for a in claim.adjustments)
        else:
            if element is None and txn.delimiters is not None:
                element = txn.delimiters.element
            plb_count += len(txn.provider_adjustments)
            plb_total += sum(a.amount for a in txn.provider_adjustments)
    frame = columns.frame()
    frame["status"] = line_status(
        frame["claim_status_code"], frame["paid"], frame["charge"], frame["denial_codes"]
    )
    frame["source_file"] = pd.array([path_text] * len(frame), dtype="string")
    frame, netted, unmatched = net_reversals(frame)
    frame = frame.reset_index(drop=True)
    frame = canonical.conform(frame)
    frame = frame[[*(c for c in frame.columns if c not in EXTRA_COLUMNS), *EXTRA_COLUMNS]]

    warnings = notes.messages()
    if netted:
        warnings.append(
            f"{netted} reversal(s) (CLP02 22) netted against the payment they reverse: both left "
            "out of the lines, the corrected claim kept"
        )
    if unmatched:
        warnings.append(
            f"{unmatched} reversal(s) (CLP02 22) reverse a payment not in this file: kept as "
            "voided lines with negative amounts"
        )
    if claim_adjusted:
        warnings.append(
            f"{claim_adjusted} claim(s) carry claim-level adjustments ({claim_adjusted_total:,.2f}) "
            "besides their service lines; the lines show line-level amounts only"
        )
    if plb_count:
        warnings.append(
            f"{plb_count} provider-level adjustment(s) (PLB) totalling {plb_total:,.2f} are not "
            "on any claim line"
        )
    report = FileReport(
        path=path_text,
        rows=len(frame),
        encoding="utf-8",
        delimiter=element,
        mapping=dict(MAPPING),
        warnings=warnings,
    )
    return frame, report
