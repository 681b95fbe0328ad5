"""Read the loops of an 835 into the data classes of :mod:`auditkit.ingest.x12_model`, streaming.

:func:`iter_events` is the one parser: it walks the segments once and yields each claim as soon
as it is complete (``("claim", transaction, claim)``) and each transaction when its SE has been
checked (``("transaction", transaction, None)``). :func:`iter_835` collects the claims into their
transaction; the canonical-line reader flattens each claim as it arrives, so a 100,000-claim file
never has all its claims in memory at once.

The parser is a table of handlers, one per segment id (``SVC`` -> the service-line handler,
``CLP`` -> the claim handler, ``SE`` -> the transaction-end check, ...), sharing the state of
the loops open at that point of the file (see ``_Parser``).

Structural problems raise :class:`~auditkit.errors.InputError` naming the file and the segment
position (``row`` is the segment number): not an 835, a bad ISA, a segment id unknown to the 835,
a transaction cut off (a new ST, an envelope segment or the end of the file before its SE), a
file that ends before GE/IEA. A count or control number in a trailer that does not match (SE01
segments, SE02 = ST02, GE01 transactions, GE02 = GS06, IEA01 groups, IEA02 = ISA13) is a warning
and the data is read; with ``strict_x12`` it is an error too. Problems inside one value (an
impossible date, an amount that is not a number, not finite or beyond a trillion) do not stop
the file: the value is left empty and a warning says where (:mod:`auditkit.ingest.x12_elements`).

Each complete claim is checked against the 835 balancing rule (CLP04 = the lines' SVC03 less the
claim-level CAS amounts): a claim that does not balance is a warning naming its CLP segment and
payer (never the patient or the claim id). Each transaction gets a :attr:`Transaction.fingerprint`
(payer, TRN, BPR and a digest of its claims' amounts); one that repeats an earlier transaction of
the file (the same interchange sent twice) has :attr:`Transaction.repeats` set and a warning.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from auditkit.errors import InputError
from auditkit.ingest.x12_elements import (
    Notes,
    Values,
    code_parts,
    composite_parts,
    person,
    split_composite,
)
from auditkit.ingest.x12_model import (
    Adjustment,
    Claim,
    Delimiters,
    Party,
    ProviderAdjustment,
    Remittance,
    ServiceLine,
    Transaction,
)
from auditkit.ingest.x12_tokens import iter_segments

#: Every segment id an 835 (005010X221A1) may hold, envelope included.
VALID_SEGMENTS: frozenset[str] = frozenset(
    [
        "ISA",
        "IEA",
        "GS",
        "GE",
        "TA1",
        "ST",
        "SE",
        "BPR",
        "TRN",
        "CUR",
        "REF",
        "DTM",
        "N1",
        "N3",
        "N4",
        "PER",
        "RDM",
        "LX",
        "TS3",
        "TS2",
        "CLP",
        "CAS",
        "NM1",
        "MIA",
        "MOA",
        "AMT",
        "QTY",
        "SVC",
        "LQ",
        "PLB",
    ]
)
_ENVELOPE = frozenset({"ISA", "IEA", "GS", "GE", "TA1"})

#: What other transaction sets are, for the "not an 835" message.
_OTHER_SETS = {
    "837": "an 837 claim file",
    "270": "a 270 eligibility inquiry",
    "271": "a 271 eligibility response",
    "276": "a 276 claim status inquiry",
    "277": "a 277 claim status response",
    "278": "a 278 authorization request",
    "820": "an 820 premium payment",
    "834": "an 834 enrollment file",
    "997": "a 997 acknowledgment",
    "999": "a 999 acknowledgment",
}


def _error(
    path: Path, position: int, segment: str, message: str, hint: str | None = None
) -> InputError:
    label = f"segment {position} ({segment})" if segment else f"segment {position}"
    return InputError(f"{label}: {message}", path=path, row=position, hint=hint)


#: What :func:`iter_events` yields: ``("claim", txn, claim)`` or ``("transaction", txn, None)``.
Event = tuple[str, Transaction, Claim | None]
#: A segment handler: ``(position, elements, delimiters)`` in, the events it completes out.
Handler = Callable[[int, list[str], Delimiters], Iterable[Event] | None]


def iter_events(
    path: str | Path, notes: Notes | None = None, *, strict_x12: bool = False
) -> Iterator[Event]:
    """Yield ``("claim", txn, claim)`` per complete claim and ``("transaction", txn, None)`` per SE.

    ``txn.claims`` is left empty here (see :func:`iter_835`); each claim knows its payer and
    payee. A trailer count or control number that does not match is a warning in ``notes``, or
    an :class:`InputError` with ``strict_x12``.
    """
    path = Path(path)
    parser = _Parser(path, notes if notes is not None else Notes(), strict=strict_x12)
    handlers = parser.handlers
    unknown = parser.unknown_segment
    claim_done = parser.claim_done
    position = 0
    sid = ""
    for position, els, delims in iter_segments(path):
        sid = els[0]
        try:
            handler = handlers[sid]
        except KeyError:
            handler = unknown
        events = handler(position, els, delims)
        if events:
            for event in events:
                claim = event[2]
                if claim is not None:
                    claim_done(claim)
                yield event
    parser.finish(position, sid)


class _Parser:
    """The state of one walk through an 835 and a handler per segment id (:attr:`handlers`).

    Each handler reads one segment into the open loop (interchange, group, transaction, claim,
    service line) and returns the events the segment completes, if any. A segment that completes
    a claim and then changes what the consumer sees (CLP, N1, PLB, SE) is read by a generator
    (:func:`_then`), so the consumer has the claim before the segment is read, as the order of
    the file has it. The segment count of a transaction is its SE's position minus its ST's,
    plus one: :func:`iter_segments` numbers every segment of the file in order.
    """

    __slots__ = (
        "claim",
        "digest",
        "group_at",
        "group_control",
        "groups",
        "handlers",
        "header_number",
        "interchange_at",
        "interchange_control",
        "line",
        "money",
        "notes",
        "path",
        "payee",
        "payer",
        "seen",
        "strict",
        "to_date",
        "transactions",
        "transactions_in_group",
        "txn",
        "values",
    )

    def __init__(self, path: Path, notes: Notes, *, strict: bool = False) -> None:
        self.path = path
        self.notes = notes
        self.strict = strict
        self.values = Values(notes)
        self.money = self.values.money
        self.to_date = self.values.date
        self.txn: Transaction | None = None
        self.claim: Claim | None = None
        self.line: ServiceLine | None = None
        self.payer: Party | None = None
        self.payee: Party | None = None
        self.header_number = ""
        self.digest = hashlib.blake2b(digest_size=16)  # the open transaction's claims
        self.seen: dict[str, int] = {}  # fingerprint -> segment of the first such transaction
        self.interchange_at = 0  # position of the open ISA, 0 when none
        self.interchange_control = ""
        self.group_at = 0
        self.group_control = ""
        self.groups = 0
        self.transactions_in_group = 0
        self.transactions = 0
        other = self.unread_segment
        self.handlers: dict[str, Handler] = dict.fromkeys(VALID_SEGMENTS, other)
        self.handlers.update(
            {
                # service line loop (2110)
                "SVC": self.service_line,
                "CAS": self.adjustment,
                "DTM": self.dates,
                "REF": self.line_control_number,
                "AMT": self.amount,
                "LQ": self.line_remark,
                # claim loop (2100)
                "CLP": self.claim_start,
                "NM1": self.claim_name,
                "MOA": self.claim_remarks,
                "MIA": self.claim_remarks,
                # header number loop (2000) and the segments that close a claim loop
                "LX": self.header_number_start,
                "TS3": self.claim_loop_end,
                "TS2": self.claim_loop_end,
                "PLB": self.provider_adjustment,
                "N1": self.party,
                # transaction header
                "BPR": self.payment,
                "TRN": self.trace,
                # envelope
                "ST": self.transaction_start,
                "SE": self.transaction_end,
                "GS": self.group_start,
                "GE": self.group_end,
                "ISA": self.interchange_start,
                "IEA": self.interchange_end,
            }
        )

    def error(self, position: int, sid: str, message: str, hint: str | None = None) -> InputError:
        return _error(self.path, position, sid, message, hint)

    def mismatch(self, position: int, sid: str, kind: str, message: str) -> None:
        """A trailer's count or control number that does not match: read anyway, with a
        warning, unless ``strict`` (``--strict-x12``) makes it an error."""
        if self.strict:
            raise self.error(
                position,
                sid,
                message,
                hint="the file was cut or edited: download the remittance again, or read it "
                "without --strict-x12",
            )
        self.notes.add(
            kind,
            f"segment {position} ({sid}): {message}; the data was read anyway "
            "(--strict-x12 refuses such a file)",
            keep=5,
        )

    # --- checks on each complete claim ---------------------------------------------------------

    def claim_done(self, claim: Claim) -> None:
        """Add the claim to its transaction's fingerprint and check the 835 balancing rule."""
        digest = self.digest
        text = (
            f"{claim.patient_control_number}|{claim.status_code}|{claim.charge}|{claim.paid}|"
            f"{claim.patient_responsibility}|{claim.payer_claim_number}|{len(claim.lines)}\n"
        )
        digest.update(text.encode("utf-8", "replace"))
        lines = claim.lines
        lines_paid = 0.0
        for line in lines:
            digest.update(f"{line.code}|{line.charge}|{line.paid}\n".encode("utf-8", "replace"))
            if line.paid is not None:
                lines_paid += line.paid
        if not lines or claim.paid is None:
            return
        claim_adjusted = sum(a.amount for a in claim.adjustments)
        expected = lines_paid - claim_adjusted
        if abs(round(expected - claim.paid, 2)) < 0.01:
            return
        payer = claim.payer.name if claim.payer is not None and claim.payer.name else "not named"
        less = (
            f" less claim-level adjustments {claim_adjusted:,.2f} ({expected:,.2f})"
            if claim_adjusted
            else ""
        )
        self.notes.add(
            "balance",
            f"claim at segment {claim.segment} (payer {payer}): lines pay {lines_paid:,.2f}"
            f"{less}, CLP04 says {claim.paid:,.2f}; the lines' amounts are used",
            keep=10,
        )

    # --- service line loop (2110) ------------------------------------------------------------

    def service_line(self, position: int, els: list[str], delims: Delimiters) -> None:
        """SVC: a service line of the open claim."""
        claim = self.claim
        if claim is None:
            raise self.error(position, "SVC", "a service line (SVC) before any claim (CLP)")
        if len(els) < 4:
            els.extend([""] * (4 - len(els)))
        parts, els = split_composite(els, delims, position, self.notes)
        if len(els) < 8:
            els.extend([""] * (8 - len(els)))
        qualifier, code, modifiers = code_parts(parts)
        money = self.money
        line = ServiceLine(
            segment=position,
            qualifier=qualifier,
            code=code,
            modifiers=modifiers,
            charge=money(els[2], position, "SVC02"),
            paid=money(els[3], position, "SVC03"),
            revenue_code=els[4],
            units=money(els[5], position, "SVC05"),
            original_units=money(els[7], position, "SVC07"),
        )
        if els[6]:
            oq, ocode, omods = code_parts(composite_parts(els[6], delims))
            line.original_qualifier, line.original_code = oq, ocode
            line.original_modifiers = omods
        claim.lines.append(line)
        self.line = line

    def adjustment(self, position: int, els: list[str], delims: Delimiters) -> None:
        """CAS: adjustments of the open service line, else of the open claim."""
        line = self.line
        target = line if line is not None else self.claim
        if target is None:
            raise self.error(position, "CAS", "an adjustment (CAS) before any claim (CLP)")
        money = self.money
        group = els[1] if len(els) > 1 else ""
        for at in range(2, min(len(els), 20), 3):
            reason = els[at]
            if not reason:
                continue
            amount = money(els[at + 1] if at + 1 < len(els) else "", position, "CAS amount")
            quantity = els[at + 2] if at + 2 < len(els) else ""
            target.adjustments.append(
                Adjustment(
                    group,
                    reason,
                    0.0 if amount is None else amount,
                    money(quantity, position, "CAS quantity") if quantity else None,
                )
            )

    def dates(self, position: int, els: list[str], delims: Delimiters) -> None:
        """DTM: a service line's, a claim's or the transaction's (production) date."""
        qualifier = els[1] if len(els) > 1 else ""
        text = els[2] if len(els) > 2 else ""
        line = self.line
        if line is not None:
            if qualifier == "472":
                line.service_date = self.to_date(text, position, "DTM*472")
            elif qualifier == "150":
                line.service_start = self.to_date(text, position, "DTM*150")
            elif qualifier == "151":
                line.service_end = self.to_date(text, position, "DTM*151")
            return
        claim = self.claim
        if claim is not None:
            if qualifier == "232":
                claim.statement_start = self.to_date(text, position, "DTM*232")
            elif qualifier == "233":
                claim.statement_end = self.to_date(text, position, "DTM*233")
            elif qualifier == "050":
                claim.received_date = self.to_date(text, position, "DTM*050")
        elif self.txn is not None and qualifier == "405":
            self.txn.payment.production_date = self.to_date(text, position, "DTM*405")

    def line_control_number(self, position: int, els: list[str], delims: Delimiters) -> None:
        """REF*6R: the service line's control number (other references are not read)."""
        line = self.line
        if line is not None and len(els) > 2 and els[1] == "6R":
            line.control_number = els[2].strip()

    def amount(self, position: int, els: list[str], delims: Delimiters) -> None:
        """AMT: a service line's allowed amount (B6), or a claim's supplemental amount."""
        if len(els) > 2:
            amount = self.money(els[2], position, f"AMT*{els[1]}")
            line = self.line
            if line is not None:
                if els[1] == "B6":
                    line.allowed = amount
            elif self.claim is not None and amount is not None:
                self.claim.amounts[els[1]] = amount

    def line_remark(self, position: int, els: list[str], delims: Delimiters) -> None:
        """LQ*HE: a remark code of the service line."""
        line = self.line
        if line is not None and len(els) > 2 and els[1] == "HE" and els[2]:
            line.remark_codes.append(els[2].strip().upper())

    # --- claim loop (2100) ---------------------------------------------------------------------

    def claim_start(
        self, position: int, els: list[str], delims: Delimiters
    ) -> Iterator[Event] | None:
        """CLP: a new claim; the one before it is complete."""
        txn = self.txn
        if txn is None:
            raise self.error(position, "CLP", "a claim (CLP) outside a transaction (no ST)")
        previous = self.claim
        if previous is not None:
            return _then(("claim", txn, previous), self.open_claim, position, els)
        self.open_claim(position, els)
        return None

    def open_claim(self, position: int, els: list[str]) -> None:
        """Read CLP into a new open claim (its service lines follow)."""
        if len(els) < 10:
            els.extend([""] * (10 - len(els)))
        money = self.money
        self.claim = Claim(
            segment=position,
            patient_control_number=els[1].strip(),
            status_code=els[2].strip(),
            charge=money(els[3], position, "CLP03"),
            paid=money(els[4], position, "CLP04"),
            patient_responsibility=money(els[5], position, "CLP05"),
            filing_indicator=els[6],
            payer_claim_number=els[7].strip(),
            facility_type=els[8],
            frequency_code=els[9],
            header_number=self.header_number,
            payer=self.payer,
            payee=self.payee,
        )
        self.line = None

    def claim_name(self, position: int, els: list[str], delims: Delimiters) -> None:
        """NM1*QC / NM1*82: the claim's patient or rendering provider."""
        claim = self.claim
        if claim is not None and self.line is None and len(els) > 2:
            if els[1] == "QC":
                claim.patient_name = person(els)
                claim.patient_id = els[9] if len(els) > 9 else ""
            elif els[1] == "82":
                claim.rendering_provider = person(els)
                claim.rendering_provider_id = els[9] if len(els) > 9 else ""

    def claim_remarks(self, position: int, els: list[str], delims: Delimiters) -> None:
        """MOA / MIA: the claim's outpatient or inpatient remark codes."""
        if self.claim is not None:
            spots = (3, 4, 5, 6, 7) if els[0] == "MOA" else (5, 20, 21, 22, 23)
            self.claim.remark_codes.extend(els[i] for i in spots if i < len(els) and els[i])

    # --- segments that close the claim loop ----------------------------------------------------

    def close_claim_loop(self, position: int, sid: str) -> tuple[Transaction, Claim | None]:
        """The open transaction (there must be one) and the open claim, now complete."""
        txn = self.txn
        if txn is None:
            raise self.error(position, sid, "a segment outside a transaction (no ST)")
        claim = self.claim
        if claim is not None:
            self.claim = None
            self.line = None
        return txn, claim

    def claim_loop_end(
        self, position: int, els: list[str], delims: Delimiters
    ) -> tuple[Event] | None:
        """TS3 / TS2: provider summary segments; they close the open claim."""
        txn, claim = self.close_claim_loop(position, els[0])
        return None if claim is None else (("claim", txn, claim),)

    def header_number_start(
        self, position: int, els: list[str], delims: Delimiters
    ) -> tuple[Event] | None:
        """LX: a header number loop (2000), numbering the claims after it."""
        txn = self.txn
        if txn is None:
            raise self.error(position, "LX", "a segment outside a transaction (no ST)")
        self.header_number = els[1] if len(els) > 1 else ""  # the parser's own state only
        claim = self.claim
        if claim is None:
            return None
        self.claim = self.line = None
        return (("claim", txn, claim),)

    def provider_adjustment(
        self, position: int, els: list[str], delims: Delimiters
    ) -> Iterator[Event] | None:
        """PLB: provider-level adjustments of the transaction."""
        txn, claim = self.close_claim_loop(position, "PLB")
        if claim is not None:
            return _then(("claim", txn, claim), _plb, els, delims, position, txn, self.values)
        _plb(els, delims, position, txn, self.values)
        return None

    def party(self, position: int, els: list[str], delims: Delimiters) -> Iterator[Event] | None:
        """N1*PR / N1*PE: the payer or the payee, each credited with the claims after it."""
        txn, claim = self.close_claim_loop(position, "N1")
        if claim is not None:
            return _then(("claim", txn, claim), self.read_party, position, els, txn)
        self.read_party(position, els, txn)
        return None

    def read_party(self, position: int, els: list[str], txn: Transaction) -> None:
        """Read N1 into the transaction's payer or payee."""
        if len(els) > 2:
            party = Party(
                els[1],
                els[2].strip(),
                els[3] if len(els) > 3 else None,
                els[4] if len(els) > 4 else None,
            )
            if els[1] == "PR":
                if txn.payer is None:
                    txn.payer = party
                elif party.name != txn.payer.name:
                    self.notes.add(
                        "payer",
                        f"segment {position} (N1): a second payer ({party.name}) inside one "
                        "transaction; the claims after it are credited to it",
                    )
                self.payer = party
            elif els[1] == "PE":
                first = txn.payee
                if first is None:
                    txn.payee = party
                elif (party.name, party.id) != (first.name, first.id):
                    self.notes.add(
                        "payee",
                        f"segment {position} (N1): a second payee ({party.name}) inside one "
                        f"transaction (the first is {first.name}); the claims after it are "
                        "credited to it",
                        keep=5,
                    )
                self.payee = party

    # --- transaction header --------------------------------------------------------------------

    def payment(self, position: int, els: list[str], delims: Delimiters) -> None:
        """BPR: the payment (amount, method, date)."""
        if self.txn is not None:
            if len(els) < 17:
                els.extend([""] * (17 - len(els)))
            payment = self.txn.payment
            payment.handling_code = els[1]
            payment.amount = self.money(els[2], position, "BPR02") or 0.0
            payment.credit_debit = els[3]
            payment.method = els[4]
            payment.date = self.to_date(els[16], position, "BPR16")

    def trace(self, position: int, els: list[str], delims: Delimiters) -> None:
        """TRN: the payment's trace (check or EFT) number; the first one counts."""
        txn = self.txn
        if txn is not None and not txn.payment.trace_number:
            txn.payment.trace_type = els[1] if len(els) > 1 else ""
            txn.payment.trace_number = els[2] if len(els) > 2 else ""
            txn.payment.originator = els[3] if len(els) > 3 else ""

    # --- transaction (ST..SE) ------------------------------------------------------------------

    def transaction_start(self, position: int, els: list[str], delims: Delimiters) -> None:
        """ST: a new 835 transaction."""
        txn = self.txn
        if txn is not None:
            raise self.error(
                position,
                "ST",
                f"a new transaction starts before SE closed transaction {txn.control_number} "
                f"(ST at segment {txn.segment}); the file looks truncated or spliced",
            )
        kind = els[1] if len(els) > 1 else ""
        if kind != "835":
            what = _OTHER_SETS.get(kind, f"an X12 {kind or '(blank)'} transaction")
            raise self.error(
                position,
                "ST",
                f"this is {what}, not an 835 remittance (ST01 is {kind!r})",
                hint="pass the payer's 835 (ERA) file",
            )
        self.txn = Transaction(
            segment=position,
            control_number=els[2] if len(els) > 2 else "",
            interchange_control=self.interchange_control,
            group_control=self.group_control,
            delimiters=delims,
        )
        self.claim = self.line = self.payer = self.payee = None
        self.header_number = ""
        self.digest = hashlib.blake2b(digest_size=16)

    def transaction_end(self, position: int, els: list[str], delims: Delimiters) -> Iterator[Event]:
        """SE: the transaction ends; its segment count and control number are checked.

        A generator, so that the open claim is yielded before a bad count or control number
        raises, as the claims before it were.
        """
        txn = self.txn
        if txn is None:
            raise self.error(position, "SE", "SE without a transaction (no ST before it)")
        if self.claim is not None:
            yield "claim", txn, self.claim
            self.claim = self.line = None
        count = position - txn.segment + 1  # ST and SE included
        said = els[1] if len(els) > 1 else ""
        if not said.strip().isdigit() or int(said) != count:
            self.mismatch(
                position,
                "SE",
                "se-count",
                f"segment count says {said or '(blank)'} but the transaction has {count} "
                f"(ST at segment {txn.segment} to SE)",
            )
        control = els[2].strip() if len(els) > 2 else ""
        if control != txn.control_number.strip():
            self.mismatch(
                position,
                "SE",
                "se-control",
                f"control number {control!r} does not match ST02 {txn.control_number!r} "
                f"(segment {txn.segment})",
            )
        txn.segment_count = count
        self.transactions += 1
        self.transactions_in_group += 1
        self.fingerprint(position, txn)
        yield "transaction", txn, None
        self.txn = None

    def fingerprint(self, position: int, txn: Transaction) -> None:
        """Set the transaction's fingerprint; one seen before in this file is a repeat."""
        payment = txn.payment
        if not payment.trace_number.strip():
            return
        payer = txn.payer
        head = "|".join(
            (
                payer.name if payer else "",
                (payer.id or "") if payer else "",
                payment.trace_type,
                payment.trace_number.strip(),
                payment.originator,
                f"{payment.amount:.2f}",
                payment.credit_debit,
                str(payment.paid_date),
            )
        )
        self.digest.update(head.encode("utf-8", "replace"))
        txn.fingerprint = self.digest.hexdigest()
        first = self.seen.setdefault(txn.fingerprint, txn.segment)
        if first != txn.segment:
            txn.repeats = first
            self.notes.add(
                "repeat",
                f"segment {txn.segment} (ST): transaction {txn.control_number} repeats the one "
                f"at segment {first} (payer {payer.name if payer else 'not named'}, check/EFT "
                f"{payment.trace_number.strip()}, payment {payment.amount:,.2f}); counted once",
                keep=10,
            )

    # --- functional group (GS..GE) and interchange (ISA..IEA) ----------------------------------

    def outside_transaction(self, position: int, sid: str) -> None:
        """Envelope segments may not stand inside a transaction."""
        txn = self.txn
        if txn is not None:
            raise self.error(
                position,
                sid,
                f"envelope segment inside transaction {txn.control_number} (ST at segment "
                f"{txn.segment}) before its SE; the file looks truncated or spliced",
            )

    def group_start(self, position: int, els: list[str], delims: Delimiters) -> None:
        """GS: a functional group; a version other than 5010 is read with a warning."""
        self.outside_transaction(position, "GS")
        if self.group_at:
            raise self.error(
                position,
                "GS",
                f"a new group starts before GE closed the one at segment {self.group_at}",
            )
        self.group_at = position
        self.group_control = els[6].strip() if len(els) > 6 else ""
        self.transactions_in_group = 0
        version = els[8] if len(els) > 8 else ""
        if version and not version.startswith("00501"):
            self.notes.add(
                "version",
                f"segment {position} (GS): version {version!r} is not 5010 (005010X221A1); "
                "read with the 5010 layout",
            )

    def group_end(self, position: int, els: list[str], delims: Delimiters) -> None:
        """GE: the group ends; its transaction count (GE01) and control number (GE02 = GS06)
        are checked."""
        self.outside_transaction(position, "GE")
        if not self.group_at:
            raise self.error(position, "GE", "GE without a functional group (no GS before it)")
        said = els[1] if len(els) > 1 else ""
        if not said.strip().isdigit() or int(said) != self.transactions_in_group:
            self.mismatch(
                position,
                "GE",
                "ge-count",
                f"transaction count says {said or '(blank)'} but the group (GS at segment "
                f"{self.group_at}) has {self.transactions_in_group}",
            )
        control = els[2].strip() if len(els) > 2 else ""
        if not _same_control(control, self.group_control):
            self.mismatch(
                position,
                "GE",
                "ge-control",
                f"control number {control!r} does not match GS06 {self.group_control!r} "
                f"(segment {self.group_at})",
            )
        self.group_at = 0
        self.groups += 1

    def interchange_start(self, position: int, els: list[str], delims: Delimiters) -> None:
        """ISA: an interchange."""
        self.outside_transaction(position, "ISA")
        if self.interchange_at:
            raise self.error(
                position,
                "ISA",
                f"a new interchange starts before IEA closed the one at segment "
                f"{self.interchange_at}; the file looks truncated or spliced",
            )
        self.interchange_at = position
        self.interchange_control = els[13].strip() if len(els) > 13 else ""
        self.groups = 0

    def interchange_end(self, position: int, els: list[str], delims: Delimiters) -> None:
        """IEA: the interchange ends; its group count (IEA01) and control number (IEA02 =
        ISA13) are checked."""
        self.outside_transaction(position, "IEA")
        if self.group_at:
            raise self.error(
                position, "IEA", f"IEA before GE closed the group at segment {self.group_at}"
            )
        if not self.interchange_at:
            raise self.error(position, "IEA", "IEA without an interchange (no ISA before it)")
        said = els[1] if len(els) > 1 else ""
        if not said.strip().isdigit() or int(said) != self.groups:
            self.mismatch(
                position,
                "IEA",
                "iea-count",
                f"group count says {said or '(blank)'} but the interchange (ISA at segment "
                f"{self.interchange_at}) has {self.groups}",
            )
        control = els[2].strip() if len(els) > 2 else ""
        if not _same_control(control, self.interchange_control):
            self.mismatch(
                position,
                "IEA",
                "iea-control",
                f"control number {control!r} does not match ISA13 {self.interchange_control!r} "
                f"(segment {self.interchange_at})",
            )
        self.interchange_at = 0

    # --- everything else -----------------------------------------------------------------------

    def unread_segment(self, position: int, els: list[str], delims: Delimiters) -> None:
        """A valid 835 segment auditkit does not read (N3, N4, PER, ...): only its place counts."""
        sid = els[0]
        if self.txn is None and sid not in _ENVELOPE:
            raise self.error(position, sid, "a segment outside a transaction (no ST before it)")

    def unknown_segment(self, position: int, els: list[str], delims: Delimiters) -> None:
        """A segment id that is not part of an 835."""
        sid = els[0]
        shown = sid if len(sid) <= 6 else sid[:6] + "..."
        raise self.error(
            position,
            shown,
            f"{shown!r} is not a segment of an 835 (5010); valid segments are "
            + ", ".join(sorted(VALID_SEGMENTS)),
            hint="the file may be damaged or not an 835",
        )

    def finish(self, position: int, sid: str) -> None:
        """At the end of the file: every loop closed, and at least one transaction read."""
        if self.txn is not None:
            raise self.error(
                position,
                sid,
                f"the file ends inside transaction {self.txn.control_number} (ST at segment "
                f"{self.txn.segment}) with no SE; the file looks truncated",
                hint="download the remittance again",
            )
        if self.group_at:
            raise self.error(
                position,
                sid,
                f"the file ends inside the functional group at segment {self.group_at} with "
                "no GE; the file looks truncated",
                hint="download the remittance again",
            )
        if self.interchange_at:
            raise self.error(
                position,
                sid,
                f"the file ends inside the interchange at segment {self.interchange_at} with "
                "no IEA; the file looks truncated",
                hint="download the remittance again",
            )
        if self.transactions == 0:
            raise self.error(position, sid, "the file holds no 835 transaction (ST*835)")


def _same_control(trailer: str, header: str) -> bool:
    """A trailer's control number equals its header's (as numbers when both are digits: ISA13
    is zero-padded to nine digits, and some senders drop the zeros in IEA02)."""
    if trailer.isdigit() and header.isdigit():
        return int(trailer) == int(header)
    return trailer == header


def _then(event: Event, action: Callable[..., None], *args: Any) -> Iterator[Event]:
    """Yield ``event``, then run ``action(*args)``: a segment that completes a claim is read
    only once the consumer has had the claim, as the claims' order in the file has it."""
    yield event
    action(*args)


def _plb(
    els: list[str], delims: Delimiters, position: int, txn: Transaction, values: Values
) -> None:
    provider = els[1] if len(els) > 1 else ""
    period = values.date(els[2] if len(els) > 2 else "", position, "PLB02")
    for at in range(3, min(len(els), 15), 2):
        identifier = els[at]
        if not identifier:
            continue
        parts = composite_parts(identifier, delims)
        amount = values.money(els[at + 1] if at + 1 < len(els) else "", position, "PLB amount")
        txn.provider_adjustments.append(
            ProviderAdjustment(
                segment=position,
                provider_id=provider,
                fiscal_period_end=period,
                reason=parts[0],
                reference=parts[1] if len(parts) > 1 else "",
                amount=0.0 if amount is None else amount,
            )
        )


def iter_835(
    path: str | Path, notes: Notes | None = None, *, strict_x12: bool = False
) -> Iterator[Transaction]:
    """Yield each transaction (ST..SE) of an 835 file with its claims, as soon as its SE is read.

    Memory holds one transaction at a time. Raises :class:`InputError` on a structural problem
    (and, with ``strict_x12``, on a trailer count or control number that does not match).
    Every transaction is yielded, repeats included (see :attr:`Transaction.repeats`).
    """
    for kind, txn, claim in iter_events(path, notes, strict_x12=strict_x12):
        if kind == "claim":
            txn.claims.append(claim)
        else:
            yield txn


def read_835(path: str | Path, *, strict_x12: bool = False) -> Remittance:
    """Read a whole 835 file into a :class:`Remittance` (all transactions, claims and warnings).

    A transaction that repeats an earlier one of the file is left out (counted once, with a
    warning).
    """
    notes = Notes()
    transactions = [txn for txn in iter_835(path, notes, strict_x12=strict_x12) if not txn.repeats]
    return Remittance(path=str(path), transactions=transactions, warnings=notes.messages())
