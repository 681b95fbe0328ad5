"""Turn 835 claims into canonical claim lines, count each remittance once, and net reversals.

The rules (status, denial codes, repeats, reversals, which element feeds which column) are
documented in :mod:`auditkit.ingest.x12`, the public face of the 835 reader.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from auditkit import claims as canonical
from auditkit.ingest.model import FileReport
from auditkit.ingest.x12_model import Claim, Transaction
from auditkit.ingest.x12_parse import Notes, iter_events
from auditkit.reference import carcs, split_carc
from auditkit.reference.revenue import NOT_DENIAL_CAUSES

#: CLP02 values meaning "processed": primary, secondary, tertiary, and the same forwarded on.
PROCESSED = frozenset({"1", "2", "3", "19", "20", "21"})
#: CLP02 values with a fixed status for every line of the claim.
FIXED_STATUS = {"4": "denied", "22": "voided", "23": "rejected", "25": "pending"}
#: Reasons left out of ``denial_codes`` (their money still goes to ``adjustment``): the price
#: the contract or another payer set, which says nothing about the line (45 fee schedule, 42
#: above maximum allowable, A2 and 131 contractual or negotiated discount, 23 prior payer's
#: adjudication, 94 processed in excess of charges). Other reductions that are not denials,
#: like 253 (sequestration) and 59 (multiple procedure rule), stay listed so the audits can
#: see them; :func:`line_status` does not count them as refusals (see :func:`reductions`).
NOT_DENIALS = frozenset({"45", "42", "A2", "131", "23", "94"})
#: Patient-responsibility reasons (deductible, coinsurance, copay): money the patient owes.
PATIENT_SHARE = frozenset({"1", "2", "3"})
#: How many warnings of one kind name their claim or remittance one by one (the rest counted).
_NAMED = 10


@functools.cache
def reductions() -> frozenset[str]:
    """Reason codes that reduce a payment without refusing it: :data:`NOT_DENIALS`, plus the
    codes the packaged ``carcs.csv`` groups as a non-denial cause (contractual, patient
    responsibility; e.g. 253 sequestration, 59 multiple procedure rule, each with its source
    there). A line whose listed codes are all reductions is not ``denied``/``partially_paid``.
    """
    table = carcs()
    listed = table.loc[table["root_cause"].isin(NOT_DENIAL_CAUSES), "code"]
    return NOT_DENIALS | frozenset(str(code).strip().upper() for code in listed)


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
    """Column lists filled claim by claim and turned into typed blocks every 50,000 lines."""

    def __init__(self) -> None:
        self.blocks: list[pd.DataFrame] = []
        self.flushed = 0  # lines already in blocks
        self._fresh()

    @property
    def total(self) -> int:
        """Lines added so far (the position the next line will have in :meth:`frame`)."""
        return self.flushed + self.rows

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
        self.flushed += self.rows
        self._fresh()

    def add_claim(self, txn: Transaction, claim: Claim) -> None:
        # One Python pass per claim: the parser already walks segments one by one, and each line
        # needs its own few CAS triplets sorted into denial, contractual and patient money.
        payee_party = claim.payee or txn.payee
        payee = payee_party.name if payee_party else None
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


def _refuses(codes: str, reduced: frozenset[str]) -> bool:
    """Does a ``denial_codes`` value hold a code that refuses payment (not a reduction)?"""
    for item in codes.split(canonical.LIST_SEP):
        if item.strip() and split_carc(item)[1] not in reduced:
            return True
    return False


def line_status(
    status_code: pd.Series, paid: pd.Series, charge: pd.Series, denial_codes: pd.Series
) -> pd.Series:
    """Canonical status of each line from its claim's CLP02, its paid amount and denial codes.

    Codes that only reduce the payment (:func:`reductions`: CO-253, CO-59, ...) do not make a
    line denied or partially paid.
    """
    code = status_code.fillna("").astype(str).to_numpy()
    paid_values = paid.fillna(0.0).to_numpy()
    listed = denial_codes.fillna("").astype(str)
    reduced = reductions()
    refusal = {value: _refuses(value, reduced) for value in listed.unique()}
    denied_reason = listed.map(refusal).to_numpy(dtype=bool)
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


@dataclass
class Netting:
    """What :func:`net_reversals_in_detail` did: the lines kept, each pair, each lone reversal."""

    lines: pd.DataFrame
    #: One row per netted pair: ``source_r``, ``clp_r`` (the reversal: its file and CLP segment),
    #: ``source_o``, ``clp_o`` (the adjudication it reversed).
    netted: pd.DataFrame
    #: One row per reversal kept as its own negative line: ``source``, ``clp``, ``payer``,
    #: ``charge``, ``paid`` (the reversal's line totals, negative).
    unmatched: pd.DataFrame


_REVERSAL_COLUMNS = {"claim_status_code", "clp_segment", "claim_id", "payer", "payer_claim_number"}
_PAIR_COLUMNS = ["source_r", "clp_r", "source_o", "clp_o"]
_LONE_COLUMNS = ["source", "clp", "payer", "charge", "paid"]


def _cents(values: pd.Series) -> np.ndarray:
    return np.rint(values.astype("float64").fillna(0.0).to_numpy() * 100).astype(np.int64)


def net_reversals_in_detail(lines: pd.DataFrame) -> Netting:
    """Drop each reversal (CLP02 = 22) together with the adjudication it mirrors.

    A reversal is paired only with an earlier adjudication (CLP02 1, 2, 3, 4, 19, 20, 21) of the
    same claim id, payer and payer claim number (CLP07) whose lines' charge and paid totals it
    mirrors to the cent (negated); "earlier" is an earlier paid date, or the same date and an
    earlier line of the frame; among several, the latest. Both claims' lines leave the frame,
    and since their amounts cancel, the paid total is what it was before netting. A reversal
    without such a claim stays as ``voided`` lines with negative amounts (the original may be in
    a remittance not read, or the payer reversed another amount than it paid).

    A claim is one CLP of one file (``source_file`` + ``clp_segment``). Frames without the 835
    columns are returned unchanged.
    """
    no_pairs = pd.DataFrame(columns=_PAIR_COLUMNS)
    no_lone = pd.DataFrame(columns=_LONE_COLUMNS)
    if not set(lines.columns) >= _REVERSAL_COLUMNS:
        return Netting(lines, no_pairs, no_lone)
    is_reversal = (lines["claim_status_code"] == "22").fillna(False).to_numpy(dtype=bool)
    if not is_reversal.any():
        return Netting(lines, no_pairs, no_lone)
    # only claims sharing a claim id with a reversal can be netted: work on those rows alone
    involved = lines["claim_id"].isin(lines.loc[is_reversal, "claim_id"].unique()).to_numpy(bool)
    rows = np.flatnonzero(involved)
    sub = lines.iloc[rows]
    keys = ["claim_id", "payer", "payer_claim_number"]
    zero = pd.Series(0.0, index=sub.index)
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
            "charge": sub.get("charge", zero).fillna(0.0).to_numpy(),
            "paid": sub.get("paid", zero).fillna(0.0).to_numpy(),
        }
    )
    claims = table.groupby(["source", "clp"], sort=False, as_index=False).agg(
        {
            **{k: "first" for k in keys},
            "code": "first",
            "date": "first",
            "position": "min",
            "charge": "sum",
            "paid": "sum",
        }
    )
    claims["charge_c"] = _cents(claims["charge"])
    claims["paid_c"] = _cents(claims["paid"])
    reversals = claims[claims["code"] == "22"]
    originals = claims[claims["code"].isin(PROCESSED | {"4"})].copy()
    originals["charge_c"] = -originals["charge_c"]  # what a reversal of it holds
    originals["paid_c"] = -originals["paid_c"]
    pairs = reversals.merge(originals, on=[*keys, "charge_c", "paid_c"], suffixes=("_r", "_o"))
    same_day = (
        pairs["date_o"].isna() | pairs["date_r"].isna() | (pairs["date_o"] == pairs["date_r"])
    )
    earlier = (pairs["date_o"] < pairs["date_r"]) | (
        same_day & (pairs["position_o"] < pairs["position_r"])
    )
    # the latest earlier adjudication first; each reversal and each original used once
    pairs = pairs[earlier].sort_values(["date_o", "position_o"], ascending=False)
    pairs = pairs.drop_duplicates(["source_r", "clp_r"]).drop_duplicates(["source_o", "clp_o"])
    pairs = pairs.sort_values("position_r")
    drop = pd.concat(
        [
            pairs[["source_r", "clp_r"]].set_axis(["source", "clp"], axis=1),
            pairs[["source_o", "clp_o"]].set_axis(["source", "clp"], axis=1),
        ]
    )
    gone = pd.MultiIndex.from_frame(table[["source", "clp"]]).isin(pd.MultiIndex.from_frame(drop))
    keep = np.ones(len(lines), dtype=bool)
    keep[rows[gone]] = False
    paired = pd.MultiIndex.from_frame(reversals[["source", "clp"]]).isin(
        pd.MultiIndex.from_frame(pairs[["source_r", "clp_r"]])
    )
    lone = reversals.loc[~paired, _LONE_COLUMNS].reset_index(drop=True)
    return Netting(lines[keep], pairs[_PAIR_COLUMNS].reset_index(drop=True), lone)


def net_reversals(lines: pd.DataFrame) -> tuple[pd.DataFrame, int, int]:
    """:func:`net_reversals_in_detail` as ``(lines, pairs netted, reversals left unmatched)``."""
    netting = net_reversals_in_detail(lines)
    return netting.lines, len(netting.netted), len(netting.unmatched)


def _netting_warnings(netting: Netting) -> dict[str, list[str]]:
    """The warnings of a netting, by the file holding the reversal (no patient data: a claim is
    named by its CLP segment and payer)."""
    out: dict[str, list[str]] = {}
    for source, group in netting.netted.groupby("source_r", sort=False):
        elsewhere = sorted(set(group["source_o"]) - {source})
        text = (
            f"{len(group)} reversal(s) (CLP02 22) netted against the claim whose charge and "
            "payment they mirror: both left out of the lines, the corrected claim kept"
        )
        if elsewhere:
            text += f" (reversed claims read from {', '.join(elsewhere)})"
        out.setdefault(str(source), []).append(text)
    for source, group in netting.unmatched.groupby("source", sort=False):
        texts = [
            f"reversal at segment {row.clp} (payer {row.payer or 'not named'}): no earlier "
            f"claim of the same claim and payer claim numbers has the charge "
            f"{-row.charge:,.2f} and payment {-row.paid:,.2f} it reverses; kept as its own "
            f"negative line (paid {row.paid:,.2f})"
            for row in group.head(_NAMED).itertuples(index=False)
        ]
        if len(group) > _NAMED:
            texts[-1] += f" (and {len(group) - _NAMED} more like it)"
        out.setdefault(str(source), []).extend(texts)
    return out


def read_claim_lines(
    path: str | Path, *, strict_x12: bool = False, net: bool = True
) -> tuple[pd.DataFrame, FileReport]:
    """Read an 835 file as canonical claim lines (one per SVC, or per CLP without SVC).

    ``source_row`` is the segment position of the SVC (or of the CLP for a claim without
    service lines): for 835 files a "row" is a segment number. A transaction repeating an
    earlier one of the file is left out (counted once). With ``net`` (the default) reversals
    are netted within the file; :func:`auditkit.ingest.load` reads with ``net=False`` and nets
    once across all the files read together (:func:`count_remittances_once`).

    Raises :class:`~auditkit.errors.InputError` when the file cannot be read as an 835 (and,
    with ``strict_x12``, when a trailer's count or control number does not match).
    """
    path_text = str(path)
    notes = Notes()
    columns = _Columns()
    element = None
    repeated: list[tuple[int, int]] = []  # line ranges of transactions that repeat another
    start = 0
    claim_adjusted = 0
    claim_adjusted_total = 0.0
    txn_adjusted = 0
    txn_adjusted_total = 0.0
    plb_count = 0
    plb_total = 0.0
    for kind, txn, claim in iter_events(path, notes, strict_x12=strict_x12):
        if kind == "claim":
            columns.add_claim(txn, claim)
            if claim.lines and claim.adjustments:
                txn_adjusted += 1
                txn_adjusted_total += sum(a.amount for a in claim.adjustments)
            continue
        if txn.repeats:
            repeated.append((start, columns.total))
        else:
            if element is None and txn.delimiters is not None:
                element = txn.delimiters.element
            claim_adjusted += txn_adjusted
            claim_adjusted_total += txn_adjusted_total
            plb_count += len(txn.provider_adjustments)
            plb_total += sum(a.amount for a in txn.provider_adjustments)
        txn_adjusted = 0
        txn_adjusted_total = 0.0
        start = columns.total
    frame = columns.frame()
    if repeated:
        keep = np.ones(len(frame), dtype=bool)
        for first, stop in repeated:
            keep[first:stop] = False
        frame = frame[keep].reset_index(drop=True)
    frame["status"] = line_status(
        frame["claim_status_code"], frame["paid"], frame["charge"], frame["denial_codes"]
    )
    frame["source_file"] = pd.array([path_text] * len(frame), dtype="string")
    netted: list[str] = []
    if net:
        netting = net_reversals_in_detail(frame)
        frame = netting.lines.reset_index(drop=True)
        netted = _netting_warnings(netting).get(path_text, [])
    frame = canonical.conform(frame)
    frame = frame[[*(c for c in frame.columns if c not in EXTRA_COLUMNS), *EXTRA_COLUMNS]]

    warnings = notes.messages() + netted
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
        reader="x12",
    )
    return frame, report


def _report_for(reports: Sequence[FileReport], source: str, *, last: bool) -> FileReport | None:
    """The report of the file a line came from (the later one when a file was given twice)."""
    found = [r for r in reports if r.path == source]
    if not found:
        return None
    return found[-1] if last else found[0]


def _warn(reports: Sequence[FileReport], source: str, text: str, *, last: bool = False) -> None:
    report = _report_for(reports, source, last=last) or (reports[-1] if reports else None)
    if report is not None:
        report.warnings.append(text)


def _take_rows(reports: Sequence[FileReport], source: str, count: int, *, last: bool) -> None:
    report = _report_for(reports, source, last=last)
    if report is not None:
        report.rows = max(report.rows - count, 0)


def _repeated_files(lines: pd.DataFrame, remit: np.ndarray) -> np.ndarray:
    """Per line: a remittance line whose file was given before (same file, same segment)."""
    again = np.zeros(len(lines), dtype=bool)
    place = lines.loc[remit, ["source_file", "source_row"]]
    again[np.flatnonzero(remit)] = place.duplicated(keep="first").to_numpy()
    return again


def _repeated_remittances(
    lines: pd.DataFrame, remit: np.ndarray
) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """Per line: part of a remittance (payer, check/EFT number, line count and amounts) that an
    earlier file already holds; and the warnings, as (file, text)."""
    repeat = np.zeros(len(lines), dtype=bool)
    if not {"check_number", "payer", "charge", "paid"} <= set(lines.columns):
        return repeat, []
    rows = np.flatnonzero(remit & lines["check_number"].notna().to_numpy(dtype=bool))
    if not len(rows):
        return repeat, []
    sub = lines.iloc[rows]
    row_print = pd.util.hash_pandas_object(
        sub[[c for c in ("claim_id", "cpt", "date_of_service", "charge", "paid") if c in sub]],
        index=False,
    ).to_numpy()
    table = pd.DataFrame(
        {
            "source": sub["source_file"].fillna("").astype(str).to_numpy(),
            "payer": sub["payer"].fillna("").astype(str).to_numpy(),
            "check": sub["check_number"].astype(str).to_numpy(),
            "charge": _cents(sub["charge"]),
            "paid": _cents(sub["paid"]),
            "print": (row_print % np.uint64(1 << 31)).astype(np.int64),
            "position": np.arange(len(rows)),
        }
    )
    groups = table.groupby(["source", "payer", "check"], sort=False, as_index=False).agg(
        lines=("position", "size"),
        charge=("charge", "sum"),
        paid=("paid", "sum"),
        print=("print", "sum"),
        first=("position", "min"),
    )
    groups = groups.sort_values("first")
    same = ["payer", "check", "lines", "charge", "paid", "print"]
    groups["kept_in"] = groups.groupby(same, sort=False)["source"].transform("first")
    later = groups[groups["source"] != groups["kept_in"]]
    if later.empty:
        return repeat, []
    gone = pd.MultiIndex.from_frame(table[["source", "payer", "check"]]).isin(
        pd.MultiIndex.from_frame(later[["source", "payer", "check"]])
    )
    repeat[rows[gone]] = True
    warnings = [
        (
            row.source,
            f"the remittance from {row.payer or 'a payer not named'} with check/EFT number "
            f"{row.check} ({row.lines} lines, paid {row.paid / 100:,.2f}) repeats the one in "
            f"{row.kept_in}: counted once",
        )
        for row in later.itertuples(index=False)
    ]
    return repeat, warnings


def count_remittances_once(lines: pd.DataFrame, reports: Sequence[FileReport]) -> pd.DataFrame:
    """Remittance lines of several files read together, each remittance counted once, netted.

    1. A file given twice (the same ``source_file`` and segment again): the second copy's
       lines are left out.
    2. A remittance (same payer and TRN02 check/EFT number, same number of lines, same charge
       and paid totals and the same claims, codes and dates) that an earlier file already
       holds: the later file's copy is left out.
    3. Reversals are netted across all the files (:func:`net_reversals_in_detail`).

    Each step warns on the report of the file concerned (the later file for a repeat, the
    reversal's file for netting) and takes the lines it leaves out off that report's ``rows``.
    Lines of other files (exports) are untouched. Returns the lines, re-indexed.
    """
    if not {"clp_segment", "source_file", "source_row"} <= set(lines.columns):
        return lines
    remit = lines["clp_segment"].notna().to_numpy(dtype=bool)
    if not remit.any():
        return lines
    again = _repeated_files(lines, remit)
    for source, count in lines.loc[again, "source_file"].value_counts(sort=False).items():
        _warn(
            reports,
            str(source),
            f"the same file is given twice: its {count} remittance lines are counted once",
            last=True,
        )
        _take_rows(reports, str(source), int(count), last=True)
    kept = lines[~again]
    repeat, texts = _repeated_remittances(kept, remit[~again])
    for source, text in texts:
        _warn(reports, source, text, last=True)
    for source, count in kept.loc[repeat, "source_file"].value_counts(sort=False).items():
        _take_rows(reports, str(source), int(count), last=True)
    kept = kept[~repeat]
    netting = net_reversals_in_detail(kept)
    for source, texts in _netting_warnings(netting).items():
        for text in texts:
            _warn(reports, source, text)
    gone = kept.index.difference(netting.lines.index)
    for source, count in kept.loc[gone, "source_file"].value_counts(sort=False).items():
        _take_rows(reports, str(source), int(count), last=False)
    return netting.lines.reset_index(drop=True)
