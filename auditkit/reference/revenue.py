"""Reference data for the revenue audits: denial root causes, codes that need authorization, and
the codes the multiple-procedure rule reduces.

* Root causes come from ``carcs.csv`` (column ``root_cause``; edit it freely, or point
  ``[reference] carcs`` in the config file at your own copy). :data:`ROOT_CAUSES` lists the
  groups the packaged files use; a practice's copy may add its own. Contractual reductions
  (CO-45, CO-59 multiple-procedure, CO-253 sequestration) and the patient's share
  (:data:`NOT_DENIAL_CAUSES`) explain an adjustment but are not a refusal to pay, and a code
  neither file lists gets :data:`UNKNOWN_CAUSE`, which never makes a line a denial on its own.
* ``rarcs.csv``: code, meaning, root_cause, source, confidence. Remittance advice remark codes
  and the root cause they name. CARC 16 ("missing information or billing error") says nothing
  by itself: the remark code beside it names what was missing (N290 the rendering provider's
  NPI, M76 the diagnosis, M127 the medical record), so a line's CO-16 takes the cause of its
  first remark code listed with a cause (:data:`REMARK_EXPLAINED`). MA130 ("unprocessable,
  send a new claim") has no cause of its own.
* ``auth_required.csv``: first_code, last_code, payer, place_of_service, source, confidence.
  A line needs prior authorization when its code is in a row's range and, where the row names
  them, its payer name contains the row's ``payer`` as a whole word (case ignored: "medicare"
  matches "Medicare" and "Medicare Part B") and its place of service equals the row's.
* ``multiple_procedures.csv``: first_code, last_code, rule (``subject`` or ``exempt``), source,
  confidence. Code ranges checked top to bottom, the first holding a code decides whether the
  second and later procedures of a session are paid at a reduced rate (the Medicare Physician
  Fee Schedule's multiple procedure indicator 2); codes in no range, and add-on codes whatever
  the file says, are exempt.
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
    "claim data",
    "medical necessity",
    "coverage",
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
#: Cause given to a reason code that carcs.csv does not list. It is not a refusal to pay: a
#: line is a denial by its status, never because it carries a code nobody has grouped.
UNKNOWN_CAUSE = "unknown cause (add the code to carcs.csv)"
#: Groups that do not explain a reduction as a refusal to pay (a reduction for one of these is
#: still checked against the contract).
NOT_REFUSAL_CAUSES: tuple[str, ...] = (*NOT_DENIAL_CAUSES, UNKNOWN_CAUSE)
#: Reason codes whose cause is named by the remark code beside them (CARC 16: "claim lacks
#: information or has submission/billing errors"; the X12 list asks for a remark code with it).
REMARK_EXPLAINED: frozenset[str] = frozenset({"16"})


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


def denial_causes(
    denial_codes: pd.Series,
    carcs: pd.DataFrame,
    remark_codes: pd.Series | None = None,
    rarcs: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per line: the reason code that explains the denial and its root-cause group.

    ``denial_codes`` is the canonical list column ("CO-4,CO-45", or bare "197" when the export
    gave no group); ``remark_codes`` the line's remark codes ("N290,MA130"), read with ``rarcs``
    for the codes in :data:`REMARK_EXPLAINED`: a CO-16 takes the cause of the line's first
    remark code that ``rarcs`` lists with a cause (reason "CO-16 N290"), else its own.

    The first code whose group is a refusal to pay wins: a contractual CO-45 or CO-253, a
    patient's PR-1 or a code ``carcs`` does not list (:data:`UNKNOWN_CAUSE`) next to a CO-4
    does not explain the denial. Without a refusal, the first unknown code is used, else the
    first code. Returns columns ``reason`` (like "CO-4") and ``cause`` (``<NA>`` where there
    is no code).
    """
    text = denial_codes.astype("string").fillna("")
    remarks = (
        remark_codes.astype("string").fillna("")
        if remark_codes is not None and rarcs is not None
        else pd.Series("", index=denial_codes.index, dtype="string")
    )
    pairs = pd.MultiIndex.from_arrays([text.to_numpy(dtype=object), remarks.to_numpy(dtype=object)])
    codes, uniques = pd.factorize(pairs)
    cause_of = dict(zip(carcs["code"].str.upper(), carcs["root_cause"], strict=True))
    remark_cause = remark_causes_of(rarcs) if rarcs is not None else {}
    reasons: list[object] = []
    causes: list[object] = []
    # One pass per distinct (denial codes, remark codes) combination (dozens), not per line.
    for value, remark_value in uniques:
        items = [i.strip().upper() for i in str(value).split(LIST_SEP) if i.strip()]
        if not items:
            reasons.append(pd.NA)
            causes.append(pd.NA)
            continue
        named = [
            r for r in (x.strip().upper() for x in str(remark_value).split(LIST_SEP))
            if remark_cause.get(r)
        ]  # fmt: skip
        found = []
        for item in items:
            reason = split_carc(item)[1]
            cause = cause_of.get(reason) or UNKNOWN_CAUSE
            if reason in REMARK_EXPLAINED and named:
                item, cause = f"{item} {named[0]}", remark_cause[named[0]]
            found.append((item, cause))
        chosen = next(
            (f for f in found if f[1] not in NOT_REFUSAL_CAUSES),
            next((f for f in found if f[1] == UNKNOWN_CAUSE), found[0]),
        )
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


def remark_causes_of(rarcs: pd.DataFrame) -> dict[str, str]:
    """Remark code -> root cause, for the codes ``rarcs`` lists with a cause."""
    table = rarcs[rarcs["root_cause"].fillna("") != ""]
    return dict(zip(table["code"].str.upper(), table["root_cause"], strict=True))


def remark_table(path: str | Path | None = None) -> pd.DataFrame:
    """The remark codes and the causes they name: the packaged ``rarcs.csv`` or a practice's
    copy at ``path`` (``[reference] rarcs`` in the config file)."""
    return table("rarcs", path)


def multiple_procedure_subject(
    codes: pd.Series, rules: pd.DataFrame, procedures: pd.DataFrame
) -> pd.Series:
    """Per code: is it reduced as the second or later procedure of a session?

    ``rules`` is ``multiple_procedures.csv`` (ranges checked top to bottom, the first holding a
    code decides); codes in no range are exempt, and so are add-on codes (``procedures.csv``:
    ``addon_to`` filled in, or the global period ``ZZZ``), whatever the ranges say. Worked out
    once per distinct code.
    """
    positions, uniques = pd.factorize(codes.astype("string"), use_na_sentinel=True)
    uniq = pd.Series(np.asarray(uniques, dtype=object), dtype="string").str.strip().str.upper()
    decided = pd.Series(pd.NA, index=uniq.index, dtype="boolean")
    shaped = uniq.str.len().eq(5).fillna(False).astype(bool)
    for first, last, rule in rules[["first_code", "last_code", "rule"]].itertuples(index=False):
        last = last or first
        inside = shaped & uniq.ge(first).fillna(False) & uniq.le(last).fillna(False)
        inside = inside.astype(bool) & decided.isna().to_numpy()
        decided = decided.mask(inside, rule == "subject")
    addon = procedures["addon_to"].fillna("").ne("")
    if "global_days" in procedures.columns:
        addon |= procedures["global_days"].fillna("").str.upper().eq("ZZZ")
    addons = set(procedures.loc[addon, "code"])
    subject = decided.fillna(False).astype(bool) & ~uniq.isin(sorted(addons)).fillna(False)
    table_ = np.append(subject.to_numpy(dtype=bool), False)  # last slot: missing code
    return pd.Series(table_[positions], index=codes.index)
