"""The work list's deadlines: how long a payer gives to file, correct and appeal a claim.

``deadlines.csv``: payer_class, kind, days, months, measured_from, presumed_receipt_days,
source, confidence. One row per payer class and deadline:

* ``payer_class``: ``medicare``, ``medicaid``, ``commercial`` or ``default`` (the row used for
  a class that does not list a kind, and for a line without a payer).
* ``kind``: ``timely_filing`` (a first claim, or a new one after a rejection), ``corrected_claim``
  (a corrected or replacement claim after a denial) or ``appeal``; ``redetermination`` is
  Medicare's name for its first-level appeal and takes the appeal's place (a class lists one of
  the two).
* ``days`` or ``months`` (exactly one): the length of the window. Months are calendar months
  (Medicare's "1 calendar year after the date of service" is 12 months).
* ``measured_from``: ``date_of_service`` or ``remittance_date`` (the date of the payer's
  decision: ``paid_date`` in the claim lines, from the 835's BPR16 or DTM*405).
* ``presumed_receipt_days`` (optional, 0 when left out): days added to the remittance date
  before the window starts, where a rule counts from the *receipt* of the notice (Medicare
  presumes it received 5 days after its date, 42 CFR 405.942(a)).

The packaged Medicare rows cite the regulation (confidence ``C``, except the reopening window
for corrected claims, ``V``); the Medicaid, commercial and default rows are **defaults**
(confidence ``V``): each state and contract sets its own limits. Replace the file from the config
(``[reference] deadlines = "my_deadlines.csv"``), or override single payers (the ``overrides``
of :func:`auditkit.measures.worklist.work_list`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from auditkit.errors import ConfigError
from auditkit.reference import HERE, _bad_value, table

#: The deadline kinds a work-list item can be governed by; ``redetermination`` fills the
#: ``appeal`` slot for the classes that list it (Medicare).
SLOTS: tuple[str, ...] = ("timely_filing", "corrected_claim", "appeal")
#: kind in deadlines.csv -> the slot it fills.
SLOT_OF_KIND: dict[str, str] = {
    "timely_filing": "timely_filing",
    "corrected_claim": "corrected_claim",
    "appeal": "appeal",
    "redetermination": "appeal",
}
PAYER_CLASSES: tuple[str, ...] = ("medicare", "medicaid", "commercial", "default")
#: Keys a payer's entry in the overrides may hold, besides the deadline kinds.
OVERRIDE_KEYS: tuple[str, ...] = ("payer_class", "follow_up_days")


def deadline_rules(path: str | Path | None = None) -> pd.DataFrame:
    """The deadline table (packaged, or a practice's copy at ``path``), checked.

    Returns the file's columns with ``days``, ``months`` and ``presumed_receipt_days`` as
    integers (``days``/``months`` 0 where blank) and a ``slot`` column (:data:`SLOTS`). Raises
    :class:`ConfigError` naming the row when a window is not one whole number of days or
    months, when a class lists a slot twice, or when the ``default`` class lacks a slot.
    """
    frame = table("deadlines", path)
    source = Path(path) if path is not None else HERE / "deadlines.csv"
    out = frame.copy()
    for col in ("days", "months", "presumed_receipt_days"):
        text = frame[col].where(frame[col] != "", "0")
        number = pd.to_numeric(text, errors="coerce")
        whole = number.notna() & (number >= 0) & (number == number.round())
        _bad_value(frame, ~whole, source, col, "a whole number of at least 0, or a blank")
        out[col] = number.astype("int64")
    one = (out["days"] > 0) ^ (out["months"] > 0)
    _bad_value(frame, ~one, source, "days", "a window in days or in months (exactly one of them)")
    out["slot"] = out["kind"].map(SLOT_OF_KIND)
    twice = out.duplicated(["payer_class", "slot"], keep="first")
    _bad_value(frame, twice, source, "kind", "one row per payer class and kind (appeal and "
             "redetermination are the same deadline)")  # fmt: skip
    listed = set(out.loc[out["payer_class"] == "default", "slot"])
    lacking = [s for s in SLOTS if s not in listed]
    if lacking:
        raise ConfigError(
            f"the deadlines file has no 'default' row for {', '.join(lacking)}",
            path=source,
            hint="add a default row for each of timely_filing, corrected_claim and appeal",
        )
    return out


def check_overrides(overrides: Mapping[str, Mapping[str, Any]] | None) -> dict[str, dict[str, Any]]:
    """``overrides`` checked and keyed by payer name without case or outer spaces.

    Each payer maps deadline kinds (``timely_filing``, ``corrected_claim``, ``appeal``;
    ``redetermination`` is the appeal) to whole days, and may set ``payer_class`` (one of
    ``medicare``, ``medicaid``, ``commercial``, ``default``) and ``follow_up_days`` (its usual
    time to pay). Written in the config file as ``[deadlines."Payer name"]``; a bad entry is a
    :class:`ConfigError` naming it.
    """
    out: dict[str, dict[str, Any]] = {}
    for payer, entry in (overrides or {}).items():
        where = f'[deadlines."{payer}"]'
        if not isinstance(entry, Mapping):
            raise ConfigError(f"{where}: expected a table of deadline days")
        checked: dict[str, Any] = {}
        for key, value in entry.items():
            if key == "payer_class":
                if value not in PAYER_CLASSES:
                    raise ConfigError(
                        f"{where} payer_class: expected one of {', '.join(PAYER_CLASSES)}, "
                        f"got {value!r}"
                    )
                checked[key] = value
                continue
            if key not in SLOT_OF_KIND and key != "follow_up_days":
                valid = ", ".join([*SLOT_OF_KIND, *OVERRIDE_KEYS])
                raise ConfigError(f"{where} {key}: unknown key", hint=f"valid: {valid}")
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{where} {key}: expected a whole number of days of at least 1")
            checked[SLOT_OF_KIND.get(key, key)] = value
        out[str(payer).strip().casefold()] = checked
    return out
