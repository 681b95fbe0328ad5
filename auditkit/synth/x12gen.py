"""Synthetic X12 835 remittances of a pain-management practice, of any size.

:func:`generate_835` invents claims (E/M visits, trigger points, facet blocks, epidurals, RF
ablation, joint injections, chronic pain management) and writes the payers' remittances for
them; :func:`from_claims` writes remittances for the claims of a canonical claim frame (a
generated export), so the two join line for line by claim id and line control number.

Adjudication is invented but shaped like real payers: a contractual write-off (CO-45) down to
an allowed amount, deductible / coinsurance / copay (PR-1, PR-2, PR-3), Medicare sequestration
(CO-253), and denials that pain practices see (CO-4 modifier denials on facet lines, CO-151
on epidurals over the frequency limit, CO-197 without prior authorization, CO-16 with remark
N290, CO-97 for an E/M bundled into a procedure, CO-50 not medically necessary, and CO-151
cutting the extra units of a multi-unit chronic-pain-management line, which is then partially
paid). Denials are drawn at random per line (``denial_rate``), not from the line's content, so
the audits' own checks must not be judged against them. Some payments are reversed (CLP02 22) in a later check and paid again as a
replacement claim (CLP09 7); some checks carry a provider-level adjustment (PLB).

Everything is synthetic: names, numbers and identifiers are made up. The text is built in
blocks of a few hundred claims and written as it goes, so a 100,000-claim file takes seconds
and little memory.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pandas as pd


@dataclass(frozen=True)
class Payer:
    """A synthetic payer: name, id, claim filing indicator (CLP06) and how it pays."""

    name: str
    payer_id: str
    filing_indicator: str
    allowed_share: float  # allowed amount as a share of the charge
    coinsurance: float  # PR-2 share of the allowed amount
    copay: float  # PR-3 per E/M visit
    sequestration: bool = False  # CO-253, 2% of the payment (Medicare)


DEFAULT_PAYERS: tuple[Payer, ...] = (
    Payer("MEDICARE PART B JE", "01182", "MB", 0.42, 0.20, 0.0, sequestration=True),
    Payer("BLUE SHIELD OF EXAMPLE", "94036", "BL", 0.58, 0.10, 30.0),
    Payer("NORTHSTAR HEALTH PLAN", "60054", "CI", 0.55, 0.15, 40.0),
    Payer("SUMMIT MEDICAID", "61044", "MC", 0.35, 0.0, 0.0),
    Payer("KEYSTONE WORKERS COMP", "52133", "WC", 0.65, 0.0, 0.0),
)

#: Code -> (typical charge, family) for the invented claims.
PROCEDURES: dict[str, tuple[float, str]] = {
    "99203": (210.0, "em"),
    "99213": (150.0, "em"),
    "99214": (225.0, "em"),
    "20552": (180.0, "tpi"),
    "20553": (230.0, "tpi"),
    "20610": (200.0, "joint"),
    "20611": (265.0, "joint"),
    "62321": (720.0, "epidural"),
    "62323": (760.0, "epidural"),
    "64483": (880.0, "epidural"),
    "64484": (420.0, "epidural"),
    "64490": (910.0, "facet"),
    "64493": (900.0, "facet"),
    "64494": (450.0, "facet"),
    "64635": (1650.0, "rfa"),
    "64636": (780.0, "rfa"),
    "64405": (260.0, "block"),
    "G3002": (130.0, "cpm"),
    "G3003": (60.0, "cpm"),
}

#: Visit templates: lines as (code, modifiers, units).
VISITS: tuple[tuple[tuple[str, tuple[str, ...], int], ...], ...] = (
    (("99214", (), 1),),
    (("99213", (), 1),),
    (("99203", (), 1),),
    (("99213", ("25",), 1), ("20553", (), 1)),
    (("20552", (), 1),),
    (("64493", ("RT",), 1), ("64494", ("RT",), 1)),
    (("64493", ("50",), 1),),
    (("64490", ("LT",), 1),),
    (("64483", ("LT",), 1), ("64484", ("LT",), 1)),
    (("62323", (), 1),),
    (("62321", (), 1),),
    (("64635", ("RT",), 1), ("64636", ("RT",), 1)),
    (("20611", ("RT",), 1),),
    (("20610", ("LT",), 1),),
    (("64405", (), 1),),
    (("G3002", (), 1), ("G3003", (), 2)),
)

_FIRST = (
    "ALEX",
    "JORDAN",
    "CASEY",
    "MORGAN",
    "TAYLOR",
    "RILEY",
    "JAMIE",
    "AVERY",
    "QUINN",
    "ROWAN",
)
_LAST = ("TESTER", "SAMPLE", "EXAMPLE", "MOCKWELL", "FICTUS", "PLACEHOLD", "DUMMITT", "SYNTH")
_DOCTORS = (("LEE", "ANNA", "1003000126"), ("PATEL", "RAVI", "1003000134"),
            ("NGUYEN", "MINH", "1003000142"), ("OKAFOR", "CHIDI", "1003000159"),
            ("GARCIA", "ELENA", "1003000167"))  # fmt: skip
_PRACTICE = ("DESERT SPINE AND PAIN GROUP", "1003000100")


@dataclass
class SynthLine:
    """One billed line before adjudication."""

    code: str
    modifiers: tuple[str, ...]
    units: float
    charge: float
    service_date: date
    control_number: str


@dataclass
class SynthClaim:
    """One billed claim before adjudication."""

    claim_id: str
    payer: Payer
    patient: tuple[str, str, str]  # last, first, member id
    provider: tuple[str, str, str]  # last, first, NPI
    lines: list[SynthLine]
    frequency: str = "1"


@dataclass
class _Paid:
    """A claim as adjudicated: what a later reversal must negate."""

    claim: SynthClaim
    pcn: str
    paid: float
    decisions: list  # per line: (paid, [(group, reason, amount)], allowed, remarks)


@dataclass
class GeneratedRemit:
    """What a generator call wrote, for tests and benchmarks to check the reader against."""

    path: Path
    transactions: int = 0
    claims: int = 0  # CLP segments, reversals and replacements included
    service_lines: int = 0
    adjustments: int = 0  # CAS triplets, claim and line level
    reversals: int = 0
    provider_adjustments: int = 0
    total_paid: float = 0.0  # sum of CLP04
    segments: int = 0
    claim_ids: list[str] = field(default_factory=list, repr=False)


def _money(value: float) -> str:
    if abs(value) < 0.005:
        return "0"
    text = f"{value:.2f}"
    if text.endswith(".00"):
        return text[:-3]
    return text.rstrip("0")


class _Writer:
    """Writes one interchange (ISA..IEA, one GS..GE) of 835 transactions to a text file."""

    def __init__(
        self,
        handle,
        *,
        rng: random.Random,
        element: str,
        component: str,
        repetition: str,
        terminator: str,
        today: date,
        envelope: bool,
        denial_rate: float,
        plb_rate: float,
        result: GeneratedRemit,
    ) -> None:
        self.handle = handle
        self.rng = rng
        self.e = element
        self.c = component
        self.end = terminator
        self.today = today
        self.envelope = envelope
        self.denial_rate = denial_rate
        self.plb_rate = plb_rate
        self.result = result
        self.repetition = repetition
        self.control = rng.randint(100000000, 999999999)
        self.check = rng.randint(10000000, 89999999)
        self.pcn = rng.randint(10**9, 9 * 10**9)
        self.transactions = 0

    def seg(self, *elements: object) -> str:
        while elements and elements[-1] in ("", None):
            elements = elements[:-1]
        return self.e.join("" if x is None else str(x) for x in elements) + self.end

    def open(self) -> None:
        if not self.envelope:
            return
        e = self.e
        stamp = self.today
        isa = (
            f"ISA{e}00{e}{'':10}{e}00{e}{'':10}{e}ZZ{e}{'SYNTHPAYERS':<15}{e}ZZ{e}"
            f"{_PRACTICE[1]:<15}{e}{stamp:%y%m%d}{e}1200{e}{self.repetition}{e}00501{e}"
            f"{self.control:09d}{e}0{e}T{e}{self.c}"
        )
        self.handle.write(isa + self.end)
        self.handle.write(
            self.seg("GS", "HP", "SYNTHPAYERS", _PRACTICE[1], f"{stamp:%Y%m%d}", "1200",
                     self.control % 100000, "X", "005010X221A1")
        )  # fmt: skip
        self.result.segments += 2

    def close(self) -> None:
        if not self.envelope:
            return
        self.handle.write(self.seg("GE", self.transactions, self.control % 100000))
        self.handle.write(self.seg("IEA", 1, f"{self.control:09d}"))
        self.result.segments += 2

    def adjudicate(self, claim: SynthClaim, line: SynthLine, denied: str | None):
        """(paid, [(group, reason, amount)], allowed, remarks) for one line."""
        payer = claim.payer
        charge = line.charge
        partial = denied == "151" and line.units > 1
        if denied and not partial:
            remarks = ["N290"] if denied == "16" else ["N362"] if denied == "151" else []
            return 0.0, [("CO", denied, charge)], None, remarks
        cas: list[tuple[str, str, float]] = []
        remarks = []
        if partial:
            # units over the frequency limit: one unit paid, the others cut with CO-151
            cut = round(charge * (line.units - 1) / line.units, 2)
            cas.append(("CO", "151", cut))
            remarks.append("N362")
            charge = round(charge - cut, 2)
        allowed = round(charge * payer.allowed_share, 2)
        cas.append(("CO", "45", round(charge - allowed, 2)))
        patient = 0.0
        if PROCEDURES.get(line.code, (0, ""))[1] == "em" and payer.copay:
            copay = min(payer.copay, allowed)
            cas.append(("PR", "3", copay))
            patient += copay
        elif payer.coinsurance:
            if self.rng.random() < 0.1:
                deductible = round(min(allowed, self.rng.choice((50.0, 100.0, 250.0))), 2)
                cas.append(("PR", "1", deductible))
                patient += deductible
            coins = round((allowed - patient) * payer.coinsurance, 2)
            if coins:
                cas.append(("PR", "2", coins))
                patient += coins
        paid = round(allowed - patient, 2)
        if payer.sequestration and paid > 0:
            cut = round(paid * 0.02, 2)
            cas.append(("CO", "253", cut))
            paid = round(paid - cut, 2)
        return paid, [c for c in cas if c[2]], allowed, remarks

    def denial_for(self, line: SynthLine) -> str | None:
        if self.rng.random() >= self.denial_rate:
            return None
        family = PROCEDURES.get(line.code, (0, "other"))[1]
        if family == "facet":
            return "4"
        if family == "epidural":
            return self.rng.choice(("151", "151", "197"))
        if family == "rfa":
            return "197"
        if family == "em":
            return self.rng.choice(("97", "16"))
        if family == "cpm":
            return "151"
        return self.rng.choice(("16", "50", "4"))

    def claim_segments(
        self, claim: SynthClaim, reverse: _Paid | None = None
    ) -> tuple[list[str], _Paid]:
        """Segments of one CLP loop and what it paid.

        With ``reverse``, the loop is the reversal (CLP02 22, every amount negated) of that
        earlier payment of the same claim.
        """
        seg = self.seg
        c = self.c
        sign = -1.0 if reverse else 1.0
        body: list[str] = []
        totals = [0.0, 0.0, 0.0]  # charge, paid, patient
        all_denied = True
        adjustments = 0
        decisions = []
        for index, line in enumerate(claim.lines):
            if reverse:
                paid, cas, allowed, remarks = reverse.decisions[index]
            else:
                denied = self.denial_for(line)
                paid, cas, allowed, remarks = self.adjudicate(claim, line, denied)
                all_denied &= paid == 0 and denied is not None
            decisions.append((paid, cas, allowed, remarks))
            patient = sum(a for g, _, a in cas if g == "PR")
            totals[0] += line.charge
            totals[1] += paid
            totals[2] += patient
            composite = c.join(("HC", line.code, *line.modifiers))
            units = "" if line.units == 1 else _money(line.units)
            billed_units = ""
            if any(reason == "151" for _, reason, _ in cas) and paid:
                units, billed_units = "1", units
            body.append(
                seg(
                    "SVC",
                    composite,
                    _money(sign * line.charge),
                    _money(sign * paid),
                    "",
                    units,
                    "",
                    billed_units,
                )  # fmt: skip
            )
            body.append(seg("DTM", "472", f"{line.service_date:%Y%m%d}"))
            by_group: dict[str, list[str]] = {}
            for group, reason, amount in cas:
                by_group.setdefault(group, []).extend((reason, _money(sign * amount), ""))
            for group, triplets in by_group.items():
                for start in range(0, len(triplets), 18):
                    body.append(seg("CAS", group, *triplets[start : start + 18]))
                adjustments += len(triplets) // 3
            body.append(seg("REF", "6R", line.control_number))
            if allowed is not None:
                body.append(seg("AMT", "B6", _money(sign * allowed)))
            for remark in remarks:
                body.append(seg("LQ", "HE", remark))
        status = "22" if reverse else "4" if all_denied else "1"
        if reverse:
            pcn = reverse.pcn
        else:
            pcn = f"{self.pcn:010d}"
            self.pcn += 7
        last, first, member = claim.patient
        dr_last, dr_first, npi = claim.provider
        start = min(line.service_date for line in claim.lines)
        head = [
            seg("CLP", claim.claim_id, status, _money(sign * totals[0]), _money(sign * totals[1]),
                _money(sign * totals[2]), claim.payer.filing_indicator, pcn, "11", claim.frequency),
            seg("NM1", "QC", "1", last, first, "", "", "", "MI", member),
            seg("NM1", "82", "1", dr_last, dr_first, "", "", "", "XX", npi),
            seg("DTM", "232", f"{start:%Y%m%d}"),
        ]  # fmt: skip
        self.result.claims += 1
        self.result.service_lines += len(claim.lines)
        self.result.adjustments += adjustments
        self.result.claim_ids.append(claim.claim_id)
        return head + body, _Paid(claim, pcn, round(sign * totals[1], 2), decisions)

    def transaction(
        self, payer: Payer, claims: Sequence[SynthClaim], reversals: Sequence[_Paid]
    ) -> list[_Paid]:
        """Write one ST..SE for ``payer``: reversals with their replacements, then ``claims``.

        Returns the claims it paid (candidates for a later reversal).
        """
        seg = self.seg
        self.transactions += 1
        self.result.transactions += 1
        control = f"{self.transactions:04d}"
        body: list[str] = []
        paid_total = 0.0
        paid: list[_Paid] = []
        number = 0
        for earlier in reversals:
            original = earlier.claim
            number += 1
            body.append(seg("LX", number))
            segments, done = self.claim_segments(original, reverse=earlier)
            body.extend(segments)
            paid_total += done.paid
            self.result.reversals += 1
            replacement = SynthClaim(
                original.claim_id, original.payer, original.patient, original.provider,
                [SynthLine(x.code, x.modifiers, x.units, round(x.charge * 1.05, 2),
                           x.service_date, x.control_number) for x in original.lines],
                frequency="7",
            )  # fmt: skip
            segments, done = self.claim_segments(replacement)
            body.extend(segments)
            paid_total += done.paid
        for claim in claims:
            number += 1
            body.append(seg("LX", number))
            segments, done = self.claim_segments(claim)
            body.extend(segments)
            paid_total += done.paid
            if done.paid > 0:
                paid.append(done)
        plb = 0.0
        if claims and self.rng.random() < self.plb_rate:
            plb = round(-self.rng.uniform(0.5, 40.0), 2)  # interest paid to the provider
            body.append(seg("PLB", _PRACTICE[1], f"{self.today.year}1231", "L6", _money(plb)))
            self.result.provider_adjustments += 1
        net = round(paid_total - plb, 2)
        self.check += 1
        pay_date = self.today
        method = ("I", "C", "ACH", "CCP") if net >= 0 else ("H", "D", "NON", "")
        header = [
            seg("ST", "835", control, "005010X221A1"),
            seg("BPR", method[0], _money(abs(net)), method[1], method[2], method[3], "01", "011000015",
                "DA", "123456789", "1" + payer.payer_id, "", "01", "021000021", "DA", "987654321",
                f"{pay_date:%Y%m%d}"),
            seg("TRN", "1", f"{self.check}", "1" + payer.payer_id),
            seg("DTM", "405", f"{pay_date:%Y%m%d}"),
            seg("N1", "PR", payer.name, "PI", payer.payer_id),
            seg("N3", "100 EXAMPLE PLAZA"),
            seg("N4", "SPRINGFIELD", "IL", "62701"),
            seg("N1", "PE", _PRACTICE[0], "XX", _PRACTICE[1]),
        ]  # fmt: skip
        count = len(header) + len(body) + 1
        text = "".join(header) + "".join(body) + seg("SE", count, control)
        self.handle.write(text)
        self.result.segments += count
        self.result.total_paid = round(self.result.total_paid + paid_total, 2)
        return paid


def _invent_claims(
    rng: random.Random, n_claims: int, payers: Sequence[Payer], start: date
) -> Iterator[SynthClaim]:
    patients = [
        (rng.choice(_LAST), rng.choice(_FIRST), f"SYN{rng.randint(10**7, 10**8 - 1)}")
        for _ in range(max(50, n_claims // 4))
    ]
    for number in range(n_claims):
        visit = rng.choice(VISITS)
        day = start + timedelta(days=number * 180 // max(n_claims, 1))
        lines = [
            SynthLine(code, modifiers, float(units), PROCEDURES[code][0] * units, day, str(index))
            for index, (code, modifiers, units) in enumerate(visit, start=1)
        ]
        yield SynthClaim(
            claim_id=f"C{number + 1:07d}",
            payer=rng.choice(payers),
            patient=rng.choice(patients),
            provider=rng.choice(_DOCTORS),
            lines=lines,
        )


def _write(
    path: str | Path,
    claims: Iterable[SynthClaim],
    *,
    seed: int,
    payers: Sequence[Payer],
    claims_per_transaction: int,
    denial_rate: float,
    reversal_rate: float,
    plb_rate: float,
    component: str,
    repetition: str,
    terminator: str,
    envelope: bool,
    today: date,
) -> GeneratedRemit:
    path = Path(path)
    rng = random.Random(seed)
    result = GeneratedRemit(path=path)
    pending: dict[str, list[SynthClaim]] = {p.name: [] for p in payers}
    paid_pool: dict[str, list[_Paid]] = {p.name: [] for p in payers}
    by_name = {p.name: p for p in payers}
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = _Writer(
            handle, rng=rng, element="*", component=component, repetition=repetition,
            terminator=terminator, today=today, envelope=envelope, denial_rate=denial_rate,
            plb_rate=plb_rate, result=result,
        )  # fmt: skip
        writer.open()

        def flush(name: str) -> None:
            batch = pending[name]
            pool = paid_pool[name]
            wanted = sum(rng.random() < reversal_rate for _ in batch)
            reversals = [pool.pop(rng.randrange(len(pool))) for _ in range(min(wanted, len(pool)))]
            pool.extend(writer.transaction(by_name[name], batch, reversals))
            del pool[:-2000]
            pending[name] = []

        for claim in claims:
            name = claim.payer.name
            if name not in pending:
                pending[name] = []
                paid_pool[name] = []
                by_name[name] = claim.payer
            pending[name].append(claim)
            if len(pending[name]) >= claims_per_transaction:
                flush(name)
        for name in list(pending):
            if pending[name]:
                flush(name)
        writer.close()
    return result


def generate_835(
    path: str | Path,
    n_claims: int,
    *,
    seed: int = 0,
    payers: Sequence[Payer] = DEFAULT_PAYERS,
    claims_per_transaction: int = 500,
    denial_rate: float = 0.12,
    reversal_rate: float = 0.004,
    plb_rate: float = 0.2,
    component: str = ":",
    repetition: str = "^",
    terminator: str = "~\n",
    envelope: bool = True,
    start: date = date(2024, 1, 2),
    today: date = date(2024, 8, 1),
) -> GeneratedRemit:
    """Write a synthetic 835 with ``n_claims`` invented pain-practice claims to ``path``.

    One transaction (check) per payer per ``claims_per_transaction`` claims. ``terminator`` is
    the segment terminator plus what follows it (``"~"`` one long line, ``"~\\n"`` one segment a
    line, ``"\\n"`` newline only); ``envelope=False`` leaves out ISA/GS/GE/IEA. Reversals
    (``reversal_rate`` per claim) reverse a claim paid in an earlier check of the same payer and
    come with the replacement claim, so they add two CLP loops each.

    Example::

        generate_835("big.835", 100_000, seed=7)
    """
    rng = random.Random(seed + 1)
    claims = _invent_claims(rng, n_claims, payers, start)
    return _write(
        path, claims, seed=seed, payers=payers, claims_per_transaction=claims_per_transaction,
        denial_rate=denial_rate, reversal_rate=reversal_rate, plb_rate=plb_rate,
        component=component, repetition=repetition, terminator=terminator, envelope=envelope,
        today=today,
    )  # fmt: skip


def from_claims(
    frame: pd.DataFrame,
    path: str | Path,
    *,
    seed: int = 0,
    claims_per_transaction: int = 500,
    denial_rate: float = 0.12,
    reversal_rate: float = 0.0,
    plb_rate: float = 0.0,
    component: str = ":",
    terminator: str = "~\n",
    today: date | None = None,
) -> GeneratedRemit:
    """Write an 835 answering the claims of a canonical claim frame (e.g. a generated export).

    Uses ``claim_id``, ``payer``, ``cpt``, ``date_of_service`` and, when present, ``modifiers``,
    ``units``, ``charge``, ``line_number`` (sent back as REF*6R), ``rendering_provider``,
    ``patient_id`` and ``patient_name``. Lines keep the frame's order within each claim.

    Example::

        from_claims(export_frame, "remits.835", seed=3)
    """
    needed = ["claim_id", "payer", "cpt", "date_of_service"]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ValueError(f"from_claims needs columns {missing}")
    work = pd.DataFrame(
        {
            "claim_id": frame["claim_id"].astype(str),
            "payer": frame["payer"].fillna("UNKNOWN PAYER").astype(str).str.upper(),
            "cpt": frame["cpt"].fillna("").astype(str).str.upper(),
            "dos": pd.to_datetime(frame["date_of_service"]),
        }
    )
    work["modifiers"] = frame["modifiers"].fillna("").astype(str) if "modifiers" in frame else ""
    work["units"] = (
        pd.to_numeric(frame["units"]).astype("Float64").fillna(1.0).astype("float64")
        if "units" in frame
        else 1.0
    )
    default_charge = work["cpt"].map(lambda code: PROCEDURES.get(code, (200.0, ""))[0])
    if "charge" in frame:
        work["charge"] = pd.to_numeric(frame["charge"]).astype("float64").fillna(default_charge)
    else:
        work["charge"] = default_charge * work["units"]
    work["line"] = (
        frame["line_number"].astype("Int64").astype("string")
        if "line_number" in frame
        else work.groupby("claim_id").cumcount().add(1).astype(str)
    )
    work["line"] = work["line"].fillna(work.groupby("claim_id").cumcount().add(1).astype(str))
    work["provider"] = (
        frame["rendering_provider"].fillna("UNKNOWN").astype(str).str.upper()
        if "rendering_provider" in frame
        else "UNKNOWN"
    )
    work["member"] = frame["patient_id"].fillna("").astype(str) if "patient_id" in frame else ""
    work["patient"] = (
        frame["patient_name"].fillna("").astype(str).str.upper() if "patient_name" in frame else ""
    )
    known = {p.name.upper(): p for p in DEFAULT_PAYERS}
    rng = random.Random(seed + 2)
    payers: dict[str, Payer] = {}
    for name in work["payer"].unique():
        base = known.get(name) or rng.choice(DEFAULT_PAYERS)
        payers[name] = Payer(name, base.payer_id, base.filing_indicator, base.allowed_share,
                             base.coinsurance, base.copay, base.sequestration)  # fmt: skip
    last_day = work["dos"].max()
    when = today or (
        (last_day + pd.Timedelta(days=30)).date() if pd.notna(last_day) else date.today()
    )

    def claims() -> Iterator[SynthClaim]:
        # one claim at a time from the grouped frame: the writer needs Python objects per claim
        for claim_id, group in work.groupby("claim_id", sort=False):
            first = group.iloc[0]
            name = first["patient"] or "PATIENT, SYNTHETIC"
            last, _, given = name.partition(",")
            provider_last, _, provider_first = first["provider"].partition(",")
            lines = [
                SynthLine(row.cpt, tuple(m for m in row.modifiers.split(",") if m), float(row.units),
                          float(row.charge), row.dos.date(), str(row.line))
                for row in group.itertuples(index=False)
            ]  # fmt: skip
            yield SynthClaim(
                claim_id=str(claim_id),
                payer=payers[first["payer"]],
                patient=(last.strip(), given.strip(), first["member"] or "SYN0000000"),
                provider=(provider_last.strip(), provider_first.strip(), "1003000126"),
                lines=lines,
            )

    return _write(
        path, claims(), seed=seed, payers=list(payers.values()),
        claims_per_transaction=claims_per_transaction, denial_rate=denial_rate,
        reversal_rate=reversal_rate, plb_rate=plb_rate, component=component, repetition="^",
        terminator=terminator, envelope=True, today=when,
    )  # fmt: skip
