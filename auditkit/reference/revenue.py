"""Reference data for the revenue audits: denial root causes and codes that need authorization.

* Root causes come from ``carcs.csv`` (column ``root_cause``; edit it freely, or point
  ``[reference] carcs`` in the config file at your own copy). :data:`ROOT_CAUSES` lists the
  groups the packaged file uses; a practice's copy may add its own.
* ``auth_required.csv``: first_code, last_code, payer, place_of_service, source, confidence.
  A line needs prior authorization when its code is in a row's range and, where the row names
  them, its payer name contains the row's ``payer`` as a whole word (case ignored: "medicare"
  matches "Medicare" and "Medicare Part B") and its place of service equals the row's.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from auditkit.claims import LIST_SEP
from auditkit.errors import ConfigError
from auditkit.reference import split_carc, table

HERE = Path(__file__).parent

#: The root-cause groups of the packaged carcs.csv (issue #8), in report order.
ROOT_CAUSES: tuple[str, ...] = (
    "modifier",
    "coding or diagnosis",
    "medical necessity",
    "documentation",
    "authorization",
    "eligibility",
    "timely filing",
    "bundling",
    "duplicate",
    "frequency",
    "credentialing",
    "contractual",
    "patient responsibility",
)
#: Groups that explain an adjustment but are not a payer's refusal to pay.
NOT_DENIAL_CAUSES: tuple[str, ...] = ("contractual", "patient responsibility")
#: Cause given to a reason code that carcs.csv does not list.
UNMAPPED = "unmapped (add the code to carcs.csv)"


def auth_rules(path: str | Path | None = None) -> pd.DataFrame:
    """The codes that need prior authorization: the packaged ``auth_required.csv`` or a
    practice's copy at ``path`` (``[reference] auth_required`` in the config file).

    Raises :class:`ConfigError` naming the row when a range is blank or reversed.
    """
    frame = table("auth_required", path)
    last = frame["last_code"].where(frame["last_code"] != "", frame["first_code"])
    bad = (frame["first_code"] == "") | (frame["first_code"] > last)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise ConfigError(
            "first_code is blank or after last_code",
            path=path or HERE / "auth_required.csv",
            row=row + 2,
            column="first_code",
        )
    return frame.assign(last_code=last)


def needs_authorization(
    cpt: pd.Series,
    payer: pd.Series,
    place_of_service: pd.Series | None,
    rules: pd.DataFrame,
    extra_codes: tuple[str, ...] = (),
) -> tuple[pd.Series, pd.Series]:
    """Per line: does it need prior authorization, and which rule says so (a short label).

    ``extra_codes`` need authorization at every payer (the audit's configurable list). Rules with
    a place of service apply only where ``place_of_service`` is known and equal. The work runs
    once per rule (a handful) over whole columns.
    """
    codes = cpt.astype("string").str.strip().str.upper()
    payer_text = payer.astype("string").fillna("")
    pos = (
        place_of_service.astype("string").str.strip()
        if place_of_service is not None
        else pd.Series(pd.NA, index=cpt.index, dtype="string")
    )
    shaped = codes.str.len().eq(5).fillna(False).astype(bool)
    needed = pd.Series(False, index=cpt.index)
    why = pd.Series(pd.NA, index=cpt.index, dtype="string")
    for rule in rules.itertuples(index=False):
        hit = (
            shaped
            & codes.ge(rule.first_code).fillna(False)
            & codes.le(rule.last_code).fillna(False)
        )
        if rule.payer:
            pattern = r"\b" + re.escape(rule.payer) + r"\b"
            hit &= payer_text.str.contains(pattern, case=False, regex=True).fillna(False)
        if rule.place_of_service:
            hit &= pos.eq(rule.place_of_service).fillna(False)
        hit = hit.astype(bool)
        why = why.mask(hit & ~needed, _rule_label(rule))
        needed |= hit
    if extra_codes:
        extra = codes.isin(list(extra_codes)).fillna(False).astype(bool)
        why = why.mask(extra & ~needed, "configured: [auth-mismatch] extra_codes")
        needed |= extra
    return needed, why


def _rule_label(rule: object) -> str:
    """A short description of an auth_required.csv row for messages."""
    codes = (
        rule.first_code
        if rule.first_code == rule.last_code
        else (f"{rule.first_code}-{rule.last_code}")
    )
    where = f"at {rule.payer.title()}" if rule.payer else "at every payer"
    if rule.place_of_service:
        where += f", place of service {rule.place_of_service}"
    return f"auth_required.csv: {codes} {where}; confidence {rule.confidence or 'V'}"


def denial_causes(denial_codes: pd.Series, carcs: pd.DataFrame) -> pd.DataFrame:
    """Per line: the reason code that explains the denial and its root-cause group.

    ``denial_codes`` is the canonical list column ("CO-4,CO-45", or bare "197" when the export
    gave no group). The first code whose group is a refusal to pay wins (a contractual CO-45 or
    a patient's PR-1 next to a CO-4 does not explain the denial); when every code is contractual
    or the patient's, the first one is used. Codes missing from ``carcs`` get :data:`UNMAPPED`.
    Returns columns ``reason`` (like "CO-4") and ``cause`` (``<NA>`` where there is no code).
    """
    text = denial_codes.astype("string").fillna("")
    codes, uniques = pd.factorize(text)
    cause_of = dict(zip(carcs["code"].str.upper(), carcs["root_cause"], strict=True))
    reasons: list[object] = []
    causes: list[object] = []
    # One pass per distinct denial-code combination (dozens), not per line.
    for value in uniques:
        items = [i for i in str(value).split(LIST_SEP) if i.strip()]
        if not items:
            reasons.append(pd.NA)
            causes.append(pd.NA)
            continue
        found = [
            (item.strip().upper(), cause_of.get(split_carc(item)[1], UNMAPPED)) for item in items
        ]
        chosen = next((f for f in found if f[1] not in NOT_DENIAL_CAUSES), found[0])
        reasons.append(chosen[0])
        causes.append(chosen[1])
    reason_arr = np.asarray(reasons, dtype=object)
    cause_arr = np.asarray(causes, dtype=object)
    return pd.DataFrame(
        {
            "reason": pd.array(reason_arr[codes], dtype="string"),
            "cause": pd.array(cause_arr[codes], dtype="string"),
        },
        index=denial_codes.index,
    )
