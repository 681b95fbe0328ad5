"""Reading the elements of one 835 segment: values that may be bad, names and composites.

Problems inside one value (an impossible date, an amount that is not a number, a composite
written with another separator than ISA16 declares) do not stop the file: :class:`Values` leaves
the value empty and :class:`Notes` records a warning, grouped by kind.

Amounts are held to the exports' limit (:data:`auditkit.ingest.normalise.MAX_AMOUNT`): an
element that Python reads as a number but that is not finite or beyond a trillion either way
(``NaN``, ``inf``, ``1E400``, ``1e308``) is a bad value like ``4O.35``, so no total overflows and
no JSON holds ``NaN`` or ``Infinity``. Its warning names the segment and the element and says
the value's shape only ("a 15-digit number"): a number that long in an amount is more likely an
account number shifted into the wrong element than money.
"""

from __future__ import annotations

import math
import re
from datetime import date

from auditkit.ingest.model import value_shape
from auditkit.ingest.normalise import MAX_AMOUNT
from auditkit.ingest.x12_model import Delimiters

#: SVC01 written with another separator than ISA16 declares (``HC>99213`` when ISA16 is ':').
_OTHER_COMPOSITE = re.compile(r"^([A-Z0-9]{2})([^A-Za-z0-9 ])\S")
#: A procedure code that a sender wrote as its own element (``SVC*HC*24599.00*...``).
_LONE_CODE = re.compile(r"^([A-Z0-9]{5})(?:\.0+)?$")


class Notes:
    """Warnings about one file, grouped by kind so a bad value repeated 10,000 times is one line.

    ``keep`` (per call of :meth:`add`) is how many messages of the kind are shown one by one
    (an unbalanced claim, a repeated transaction: each names its own segment); the rest of the
    kind is counted on the last one shown.
    """

    def __init__(self) -> None:
        self._kinds: dict[str, list] = {}

    def add(self, kind: str, text: str, keep: int = 1) -> None:
        entry = self._kinds.get(kind)
        if entry is None:
            self._kinds[kind] = [0, [text]]
        elif len(entry[1]) < keep:
            entry[1].append(text)
        else:
            entry[0] += 1

    def messages(self) -> list[str]:
        out = []
        for more, texts in self._kinds.values():
            out.extend(texts[:-1])
            last = texts[-1]
            out.append(last if not more else f"{last} (and {more} more like it)")
        return out


class Values:
    """Number and date conversion that records bad values instead of failing the file."""

    def __init__(self, notes: Notes) -> None:
        self.notes = notes
        self.dates: dict[str, date] = {}

    def money(self, text: str, position: int, name: str) -> float | None:
        if not text:
            return None
        try:
            value = float(text)
        except ValueError:
            self.notes.add(
                "number",
                f"segment {position}: {name} ({value_shape(text)}) is not a number; left empty",
            )
            return None
        if not math.isfinite(value) or abs(value) > MAX_AMOUNT:
            self.notes.add(
                "amount-limit",
                f"segment {position}: {name} ({value_shape(text)}) is not a finite amount of at "
                f"most {MAX_AMOUNT:,.0f} either way; left empty",
            )
            return None
        return value

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
                f"segment {position}: {name} ({value_shape(text)}) is not a date (CCYYMMDD); "
                "left empty",
            )
            return None
        self.dates[text] = value
        return value


def person(els: list[str]) -> str:
    """NM103.. as 'LAST, FIRST M' for a person (NM102 = 1), the name alone for an organisation."""
    last = els[3] if len(els) > 3 else ""
    first = els[4] if len(els) > 4 else ""
    middle = els[5] if len(els) > 5 else ""
    if first:
        return f"{last}, {first} {middle}".rstrip()
    return last


def split_composite(
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
    if lone and is_number(els[3]):
        notes.add(
            "shifted",
            f"segment {position} (SVC): SVC01 holds only the qualifier {raw!r}; the code "
            f"{lone.group(1)} was read from the next element and the amounts after it",
        )
        return [raw, lone.group(1)], [els[0], raw, *els[3:]]
    return parts, els


def composite_parts(value: str, delims: Delimiters) -> list[str]:
    """Split a composite by ISA16, or by the separator it visibly uses when that differs."""
    parts = value.split(delims.component)
    if len(parts) == 1 and _OTHER_COMPOSITE.match(value):
        return value.split(value[2])
    return parts


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def code_parts(parts: list[str]) -> tuple[str, str, tuple[str, ...]]:
    qualifier = parts[0].strip()
    code = parts[1].strip().upper() if len(parts) > 1 else ""
    modifiers = tuple(m.strip().upper() for m in parts[2:6] if m.strip())
    return qualifier, code, modifiers
