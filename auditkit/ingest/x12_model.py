"""Data classes for a parsed X12 835 (005010X221A1) remittance.

The shapes follow the 835's loops: a :class:`Remittance` (one file) holds :class:`Transaction`
objects (one per ST..SE: one payment from one payer to one payee); a transaction holds
:class:`Claim` objects (CLP loops) and provider-level adjustments (:class:`ProviderAdjustment`,
PLB); a claim holds claim-level :class:`Adjustment` objects (CAS) and :class:`ServiceLine` objects
(SVC loops), which hold their own adjustments.

Money is ``float`` (negative for reversals and credits); dates are :class:`datetime.date` or
``None`` when the file does not give them (or gives an impossible date, which is also reported as
a warning). ``segment`` fields are 1-based segment positions in the file (ISA is segment 1), the
"row" an error message points to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(slots=True)
class Delimiters:
    """The separators of one interchange (from its ISA header, or sniffed without one)."""

    element: str = "*"
    component: str = ":"
    repetition: str | None = None
    terminator: str = "~"
    #: False when there was no ISA header and the separators were inferred from the text.
    from_isa: bool = True


@dataclass(slots=True)
class Adjustment:
    """One CAS triplet: group code, reason code (CARC), amount and optional quantity."""

    group: str
    reason: str
    amount: float
    quantity: float | None = None

    @property
    def code(self) -> str:
        """``GROUP-REASON`` as the canonical table writes it (``CO-45``)."""
        return f"{self.group}-{self.reason}"


@dataclass(slots=True)
class Party:
    """An N1 loop: the payer (N1*PR) or the payee (N1*PE)."""

    entity: str
    name: str
    id_qualifier: str | None = None
    id: str | None = None


@dataclass(slots=True)
class Payment:
    """BPR (financial information), TRN (check or EFT trace) and DTM*405 of a transaction."""

    handling_code: str = ""  # BPR01: I remittance+payment, H notification only, ...
    amount: float = 0.0  # BPR02: total actual provider payment
    credit_debit: str = ""  # BPR03: C credit, D debit
    method: str = ""  # BPR04: ACH, CHK, BOP, FWT, NON
    date: date | None = None  # BPR16: check issue or EFT effective date
    trace_type: str = ""  # TRN01
    trace_number: str = ""  # TRN02: check or EFT trace number
    originator: str = ""  # TRN03: payer's identifier
    production_date: date | None = None  # DTM*405

    @property
    def paid_date(self) -> date | None:
        """BPR16, or the production date when BPR16 is blank."""
        return self.date or self.production_date


@dataclass(slots=True)
class ServiceLine:
    """An SVC loop: one adjudicated service line."""

    segment: int
    qualifier: str  # SVC01-1: HC (CPT/HCPCS), AD (dental), ER, IV, N4, ...
    code: str  # SVC01-2
    modifiers: tuple[str, ...]  # SVC01-3..6
    charge: float | None  # SVC02
    paid: float | None  # SVC03
    revenue_code: str = ""  # SVC04 (institutional)
    units: float | None = None  # SVC05: units paid (None: the file leaves it blank, meaning 1)
    original_qualifier: str = ""  # SVC06-1
    original_code: str = ""  # SVC06-2: the code as billed, when the payer changed it
    original_modifiers: tuple[str, ...] = ()
    original_units: float | None = None  # SVC07: units billed, when different
    control_number: str = ""  # REF*6R: the practice's line item control number
    service_date: date | None = None  # DTM*472
    service_start: date | None = None  # DTM*150
    service_end: date | None = None  # DTM*151
    allowed: float | None = None  # AMT*B6
    adjustments: list[Adjustment] = field(default_factory=list)
    remark_codes: list[str] = field(default_factory=list)  # LQ*HE

    @property
    def adjustment_total(self) -> float:
        return sum(a.amount for a in self.adjustments)


@dataclass(slots=True)
class Claim:
    """A CLP loop: one claim as the payer adjudicated it."""

    segment: int
    patient_control_number: str  # CLP01: the practice's claim id
    status_code: str  # CLP02
    charge: float | None  # CLP03
    paid: float | None  # CLP04
    patient_responsibility: float | None  # CLP05
    filing_indicator: str = ""  # CLP06: 12 PPO, MB Medicare Part B, MC Medicaid, ...
    payer_claim_number: str = ""  # CLP07
    facility_type: str = ""  # CLP08
    frequency_code: str = ""  # CLP09: 1 original, 7 replacement, 8 void
    header_number: str = ""  # LX01 of the header the claim sits under
    payer: Party | None = None  # the N1*PR in force when the claim was read
    payee: Party | None = None  # the N1*PE in force when the claim was read
    patient_name: str = ""  # NM1*QC (identifying)
    patient_id: str = ""  # NM1*QC09 (identifying)
    rendering_provider: str = ""  # NM1*82 name
    rendering_provider_id: str = ""  # NM1*82 id (NPI when qualifier XX)
    statement_start: date | None = None  # DTM*232
    statement_end: date | None = None  # DTM*233
    received_date: date | None = None  # DTM*050
    adjustments: list[Adjustment] = field(default_factory=list)
    remark_codes: list[str] = field(default_factory=list)  # MIA/MOA remark codes
    amounts: dict[str, float] = field(default_factory=dict)  # AMT qualifier -> amount
    lines: list[ServiceLine] = field(default_factory=list)

    @property
    def adjustment_total(self) -> float:
        """Claim-level plus line-level adjustments."""
        return sum(a.amount for a in self.adjustments) + sum(
            line.adjustment_total for line in self.lines
        )


@dataclass(slots=True)
class ProviderAdjustment:
    """One adjustment of a PLB segment (a PLB carries up to six)."""

    segment: int
    provider_id: str  # PLB01
    fiscal_period_end: date | None  # PLB02
    reason: str  # first component of the adjustment identifier: WO, L6, CV, 72, FB, ...
    reference: str  # second component (e.g. the claim or invoice it is about)
    amount: float  # positive reduces the payment, negative increases it


@dataclass(slots=True)
class Transaction:
    """One ST..SE transaction: one payment (or notice) from one payer to one payee."""

    segment: int  # position of ST
    control_number: str  # ST02
    payment: Payment = field(default_factory=Payment)
    payer: Party | None = None  # the first N1*PR
    payee: Party | None = None  # the first N1*PE (a claim's ``payee`` is the one in force)
    claims: list[Claim] = field(default_factory=list)
    provider_adjustments: list[ProviderAdjustment] = field(default_factory=list)
    interchange_control: str = ""  # ISA13
    group_control: str = ""  # GS06
    delimiters: Delimiters | None = None
    segment_count: int = 0  # ST..SE inclusive, as checked against SE01
    #: What makes two transactions the same remittance (payer, TRN, BPR and every claim's
    #: amounts, as a digest); empty without a TRN02 check/EFT number (nothing to tell it by).
    fingerprint: str = ""
    #: Segment of an earlier transaction of the same file this one repeats (0: none).
    repeats: int = 0

    @property
    def service_lines(self) -> list[ServiceLine]:
        return [line for claim in self.claims for line in claim.lines]


@dataclass
class Remittance:
    """A whole 835 file."""

    path: str
    transactions: list[Transaction] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def claims(self) -> list[Claim]:
        return [claim for txn in self.transactions for claim in txn.claims]
