"""Read the loops of an 835 into the data classes of :mod:`auditkit.ingest.x12_model`, streaming.

:func:`iter_events` is the one parser: it walks the segments once and yields each claim as soon
as it is complete (``("claim", transaction, claim)``) and each transaction when its SE has been
checked (``("transaction", transaction, None)``). :func:`iter_835` collects the claims into their
transaction; the canonical-line reader flattens each claim as it arrives, so a 100,000-claim file
never has all its claims in memory at once.

Structural problems raise :class:`~auditkit.errors.InputError` naming the file and the segment
position (``row`` is the segment number): not an 835, a bad ISA, a segment id unknown to the 835,
an SE/GE/IEA count or control number that does not match, a file that ends before SE/GE/IEA.
Problems inside one value (an impossible date, an amount that is not a number) do not stop the
file: the value is left empty and a warning says where.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from auditkit.errors import InputError
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

#: SVC01 written with another separator than ISA16 declares (``HC>99213`` when ISA16 is ':').
_OTHER_COMPOSITE = re.compile(r"^([A-Z0-9]{2})([^A-Za-z0-9 ])\S")
#: A procedure code that a sender wrote as its own element (``SVC*HC*24599.00*...``).
_LONE_CODE = re.compile(r"^([A-Z0-9]{5})(?:\.0+)?$")


class Notes:
    """Warnings about one file, grouped by kind so a bad value repeated 10,000 times is one line."""

    def __init__(self) -> None:
        self._kinds: dict[str, list] = {}

    def add(self, kind: str, text: str) -> None:
        entry = self._kinds.get(kind)
        if entry is None:
            self._kinds[kind] = [1, text]
        else:
            entry[0] += 1

    def messages(self) -> list[str]:
        out = []
        for count, first in self._kinds.values():
            out.append(first if count == 1 else f"{first} (and {count - 1} more like it)")
        return out


def _error(
    path: Path, position: int, segment: str, message: str, hint: str | None = None
) -> InputError:
    label = f"segment {position} ({segment})" if segment else f"segment {position}"
    return InputError(f"{label}: {message}", path=path, row=position, hint=hint)


class _Values:
    """Number and date conversion that records bad values instead of failing the file."""

    def __init__(self, notes: Notes) -> None:
        self.notes = notes
        self.dates: dict[str, date] = {}

    def money(self, text: str, position: int, name: str) -> float | None:
        if not text:
            return None
        try:
            return float(text)
        except ValueError:
            self.notes.add(
                "number", f"segment {position}: {name} {text!r} is not a number; left empty"
            )
            return None

    def date(self, text: str, position: int, name: str) -> date | None:
        if not text:
            return None
        found = self.dates.get(text)
        if found is not None:
            return found
        value = None
        if len(text) == 8 and text.isdigit():
            try:
                value = date(int(text[:4]), int(text[4:6]), int(text[6:]))
            except ValueError:
                value = None
        if value is None:
            self.notes.add(
                "date",
                f"segment {position}: {name} {text!r} is not a date (CCYYMMDD); left empty",
            )
            return None
        self.dates[text] = value
        return value


def _person(els: list[str]) -> str:
    """NM103.. as 'LAST, FIRST M' for a person (NM102 = 1), the name alone for an organisation."""
    last = els[3] if len(els) > 3 else ""
    first = els[4] if len(els) > 4 else ""
    middle = els[5] if len(els) > 5 else ""
    if first:
        return f"{last}, {first} {middle}".rstrip()
    return last


def _split_composite(
    els: list[str], delims: Delimiters, position: int, notes: Notes
) -> tuple[list[str], list[str]]:
    """Split SVC01 into its parts, mending the two ways senders get it wrong.

    Returns the composite's parts and the segment's elements (shifted when mended).
    """
    raw = els[1]
    parts = raw.split(delims.component)
    if len(parts) > 1:
        return parts, els
    other = _OTHER_COMPOSITE.match(raw)
    if other:
        sep = other.group(2)
        if delims.from_isa:
            notes.add(
                "composite",
                f"segment {position} (SVC): SVC01 {raw!r} separates its parts with {sep!r} but "
                f"ISA16 declares {delims.component!r}; read with {sep!r}",
            )
        return raw.split(sep), els
    lone = _LONE_CODE.match(els[2]) if len(els) > 3 and len(raw) == 2 else None
    if lone and _is_number(els[3]):
        notes.add(
            "shifted",
            f"segment {position} (SVC): SVC01 holds only the qualifier {raw!r}; the code "
            f"{lone.group(1)} was read from the next element and the amounts after it",
        )
        return [raw, lone.group(1)], [els[0], raw, *els[3:]]
    return parts, els


def _parts(value: str, delims: Delimiters) -> list[str]:
    """Split a composite by ISA16, or by the separator it visibly uses when that differs."""
    parts = value.split(delims.component)
    if len(parts) == 1 and _OTHER_COMPOSITE.match(value):
        return value.split(value[2])
    return parts


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _codes(parts: list[str]) -> tuple[str, str, tuple[str, ...]]:
    qualifier = parts[0].strip()
    code = parts[1].strip().upper() if len(parts) > 1 else ""
    modifiers = tuple(m.strip().upper() for m in parts[2:6] if m.strip())
    return qualifier, code, modifiers


def iter_events(
    path: str | Path, notes: Notes | None = None
) -> Iterator[tuple[str, Transaction, Claim | None]]:
    """Yield ``("claim", txn, claim)`` per complete claim and ``("transaction", txn, None)`` per SE.

    ``txn.claims`` is left empty here (see :func:`iter_835`); each claim knows its payer.
    """
    path = Path(path)
    notes = notes if notes is not None else Notes()
    values = _Values(notes)
    money = values.money
    to_date = values.date

    txn: Transaction | None = None
    claim: Claim | None = None
    line: ServiceLine | None = None
    payer: Party | None = None
    count = 0  # segments in the open transaction, ST included
    interchange_at = 0  # position of the open ISA, 0 when none
    interchange_control = ""
    group_at = 0
    group_control = ""
    groups = 0
    transactions_in_group = 0
    transactions = 0
    header_number = ""
    position = 0
    sid = ""

    for position, els, delims in iter_segments(path):
        sid = els[0]
        if txn is not None:
            count += 1
        if sid == "SVC":
            if claim is None:
                raise _error(path, position, sid, "a service line (SVC) before any claim (CLP)")
            if len(els) < 4:
                els.extend([""] * (4 - len(els)))
            parts, els = _split_composite(els, delims, position, notes)
            if len(els) < 8:
                els.extend([""] * (8 - len(els)))
            qualifier, code, modifiers = _codes(parts)
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
                oq, ocode, omods = _codes(_parts(els[6], delims))
                line.original_qualifier, line.original_code = oq, ocode
                line.original_modifiers = omods
            claim.lines.append(line)
        elif sid == "CAS":
            target = line if line is not None else claim
            if target is None:
                raise _error(path, position, sid, "an adjustment (CAS) before any claim (CLP)")
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
        elif sid == "DTM":
            qualifier = els[1] if len(els) > 1 else ""
            text = els[2] if len(els) > 2 else ""
            if line is not None:
                if qualifier == "472":
                    line.service_date = to_date(text, position, "DTM*472")
                elif qualifier == "150":
                    line.service_start = to_date(text, position, "DTM*150")
                elif qualifier == "151":
                    line.service_end = to_date(text, position, "DTM*151")
            elif claim is not None:
                if qualifier == "232":
                    claim.statement_start = to_date(text, position, "DTM*232")
                elif qualifier == "233":
                    claim.statement_end = to_date(text, position, "DTM*233")
                elif qualifier == "050":
                    claim.received_date = to_date(text, position, "DTM*050")
            elif txn is not None and qualifier == "405":
                txn.payment.production_date = to_date(text, position, "DTM*405")
        elif sid == "REF":
            if line is not None and len(els) > 2 and els[1] == "6R":
                line.control_number = els[2].strip()
        elif sid == "AMT":
            if len(els) > 2:
                amount = money(els[2], position, f"AMT*{els[1]}")
                if line is not None:
                    if els[1] == "B6":
                        line.allowed = amount
                elif claim is not None and amount is not None:
                    claim.amounts[els[1]] = amount
        elif sid == "LQ":
            if line is not None and len(els) > 2 and els[1] == "HE" and els[2]:
                line.remark_codes.append(els[2].strip().upper())
        elif sid == "CLP":
            if txn is None:
                raise _error(path, position, sid, "a claim (CLP) outside a transaction (no ST)")
            if claim is not None:
                yield "claim", txn, claim
            if len(els) < 10:
                els.extend([""] * (10 - len(els)))
            claim = Claim(
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
                header_number=header_number,
                payer=payer,
            )
            line = None
        elif sid == "NM1":
            if claim is not None and line is None and len(els) > 2:
                if els[1] == "QC":
                    claim.patient_name = _person(els)
                    claim.patient_id = els[9] if len(els) > 9 else ""
                elif els[1] == "82":
                    claim.rendering_provider = _person(els)
                    claim.rendering_provider_id = els[9] if len(els) > 9 else ""
        elif sid == "MOA" or sid == "MIA":
            if claim is not None:
                spots = (3, 4, 5, 6, 7) if sid == "MOA" else (5, 20, 21, 22, 23)
                claim.remark_codes.extend(els[i] for i in spots if i < len(els) and els[i])
        elif sid in ("LX", "TS3", "TS2", "PLB", "N1"):
            if txn is None:
                raise _error(path, position, sid, "a segment outside a transaction (no ST)")
            if claim is not None:
                yield "claim", txn, claim
                claim = None
                line = None
            if sid == "LX":
                header_number = els[1] if len(els) > 1 else ""
            elif sid == "PLB":
                _plb(els, delims, position, txn, values)
            elif sid == "N1" and len(els) > 2:
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
                        notes.add(
                            "payer",
                            f"segment {position} (N1): a second payer ({party.name}) inside one "
                            "transaction; the claims after it are credited to it",
                        )
                    payer = party
                elif els[1] == "PE" and txn.payee is None:
                    txn.payee = party
        elif sid == "BPR":
            if txn is not None:
                if len(els) < 17:
                    els.extend([""] * (17 - len(els)))
                payment = txn.payment
                payment.handling_code = els[1]
                payment.amount = money(els[2], position, "BPR02") or 0.0
                payment.credit_debit = els[3]
                payment.method = els[4]
                payment.date = to_date(els[16], position, "BPR16")
        elif sid == "TRN":
            if txn is not None and not txn.payment.trace_number:
                txn.payment.trace_type = els[1] if len(els) > 1 else ""
                txn.payment.trace_number = els[2] if len(els) > 2 else ""
                txn.payment.originator = els[3] if len(els) > 3 else ""
        elif sid == "ST":
            if txn is not None:
                raise _error(
                    path,
                    position,
                    sid,
                    f"a new transaction starts before SE closed transaction {txn.control_number} "
                    f"(ST at segment {txn.segment}); the file looks truncated or spliced",
                )
            kind = els[1] if len(els) > 1 else ""
            if kind != "835":
                what = _OTHER_SETS.get(kind, f"an X12 {kind or '(blank)'} transaction")
                raise _error(
                    path,
                    position,
                    sid,
                    f"this is {what}, not an 835 remittance (ST01 is {kind!r})",
                    hint="pass the payer's 835 (ERA) file",
                )
            txn = Transaction(
                segment=position,
                control_number=els[2] if len(els) > 2 else "",
                interchange_control=interchange_control,
                group_control=group_control,
                delimiters=delims,
            )
            count = 1
            claim = line = payer = None
            header_number = ""
        elif sid == "SE":
            if txn is None:
                raise _error(path, position, sid, "SE without a transaction (no ST before it)")
            if claim is not None:
                yield "claim", txn, claim
                claim = line = None
            said = els[1] if len(els) > 1 else ""
            if not said.strip().isdigit() or int(said) != count:
                raise _error(
                    path,
                    position,
                    sid,
                    f"segment count says {said or '(blank)'} but the transaction has {count} "
                    f"(ST at segment {txn.segment} to SE); the file was cut or edited",
                )
            control = els[2] if len(els) > 2 else ""
            if control != txn.control_number:
                raise _error(
                    path,
                    position,
                    sid,
                    f"control number {control!r} does not match ST02 {txn.control_number!r} "
                    f"(segment {txn.segment})",
                )
            txn.segment_count = count
            transactions += 1
            transactions_in_group += 1
            yield "transaction", txn, None
            txn = None
        elif sid == "GS":
            _outside(path, position, sid, txn)
            if group_at:
                raise _error(
                    path,
                    position,
                    sid,
                    f"a new group starts before GE closed the one at segment {group_at}",
                )
            group_at = position
            group_control = els[6] if len(els) > 6 else ""
            transactions_in_group = 0
            version = els[8] if len(els) > 8 else ""
            if version and not version.startswith("00501"):
                notes.add(
                    "version",
                    f"segment {position} (GS): version {version!r} is not 5010 (005010X221A1); "
                    "read with the 5010 layout",
                )
        elif sid == "GE":
            _outside(path, position, sid, txn)
            if not group_at:
                raise _error(path, position, sid, "GE without a functional group (no GS before it)")
            said = els[1] if len(els) > 1 else ""
            if not said.strip().isdigit() or int(said) != transactions_in_group:
                raise _error(
                    path,
                    position,
                    sid,
                    f"transaction count says {said or '(blank)'} but the group (GS at segment "
                    f"{group_at}) has {transactions_in_group}",
                )
            group_at = 0
            groups += 1
        elif sid == "ISA":
            _outside(path, position, sid, txn)
            if interchange_at:
                raise _error(
                    path,
                    position,
                    sid,
                    f"a new interchange starts before IEA closed the one at segment "
                    f"{interchange_at}; the file looks truncated or spliced",
                )
            interchange_at = position
            interchange_control = els[13] if len(els) > 13 else ""
            groups = 0
        elif sid == "IEA":
            _outside(path, position, sid, txn)
            if group_at:
                raise _error(
                    path, position, sid, f"IEA before GE closed the group at segment {group_at}"
                )
            if not interchange_at:
                raise _error(path, position, sid, "IEA without an interchange (no ISA before it)")
            said = els[1] if len(els) > 1 else ""
            if not said.strip().isdigit() or int(said) != groups:
                raise _error(
                    path,
                    position,
                    sid,
                    f"group count says {said or '(blank)'} but the interchange (ISA at segment "
                    f"{interchange_at}) has {groups}",
                )
            interchange_at = 0
        elif sid not in VALID_SEGMENTS:
            shown = sid if len(sid) <= 6 else sid[:6] + "..."
            raise _error(
                path,
                position,
                shown,
                f"{shown!r} is not a segment of an 835 (5010); valid segments are "
                + ", ".join(sorted(VALID_SEGMENTS)),
                hint="the file may be damaged or not an 835",
            )
        elif txn is None and sid not in _ENVELOPE:
            raise _error(path, position, sid, "a segment outside a transaction (no ST before it)")

    if txn is not None:
        raise _error(
            path,
            position,
            sid,
            f"the file ends inside transaction {txn.control_number} (ST at segment "
            f"{txn.segment}) with no SE; the file looks truncated",
            hint="download the remittance again",
        )
    if group_at:
        raise _error(
            path,
            position,
            sid,
            f"the file ends inside the functional group at segment {group_at} with no GE; "
            "the file looks truncated",
            hint="download the remittance again",
        )
    if interchange_at:
        raise _error(
            path,
            position,
            sid,
            f"the file ends inside the interchange at segment {interchange_at} with no IEA; "
            "the file looks truncated",
            hint="download the remittance again",
        )
    if transactions == 0:
        raise _error(path, position, sid, "the file holds no 835 transaction (ST*835)")


def _outside(path: Path, position: int, sid: str, txn: Transaction | None) -> None:
    if txn is not None:
        raise _error(
            path,
            position,
            sid,
            f"envelope segment inside transaction {txn.control_number} (ST at segment "
            f"{txn.segment}) before its SE; the file looks truncated or spliced",
        )


def _plb(
    els: list[str], delims: Delimiters, position: int, txn: Transaction, values: _Values
) -> None:
    provider = els[1] if len(els) > 1 else ""
    period = values.date(els[2] if len(els) > 2 else "", position, "PLB02")
    for at in range(3, min(len(els), 15), 2):
        identifier = els[at]
        if not identifier:
            continue
        parts = _parts(identifier, delims)
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


def iter_835(path: str | Path, notes: Notes | None = None) -> Iterator[Transaction]:
    """Yield each transaction (ST..SE) of an 835 file with its claims, as soon as its SE is read.

    Memory holds one transaction at a time. Raises :class:`InputError` on a structural problem.
    """
    for kind, txn, claim in iter_events(path, notes):
        if kind == "claim":
            txn.claims.append(claim)
        else:
            yield txn


def read_835(path: str | Path) -> Remittance:
    """Read a whole 835 file into a :class:`Remittance` (all transactions, claims and warnings)."""
    notes = Notes()
    transactions = list(iter_835(path, notes))
    return Remittance(path=str(path), transactions=transactions, warnings=notes.messages())
