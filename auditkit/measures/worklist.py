"""The work list: every claim line with money still to collect or protect, ranked by what it is
worth and how long is left to collect it.

*Why it matters*: a denial that is never corrected or appealed in time becomes a write-off (it
comes back as CARC 29, "filing time limit expired", pain-billing-facts s.5). Audit findings say
where the process leaks; the billing team also needs the list of claims to work this week.

*What is on it* (one item per line, as of ``as_of``; voided lines never are):

* ``denied`` and ``rejected`` lines not taken over by a later line for the same service (below).
  A rejected line was never accepted: send a new claim (``correct_and_resubmit``) within the
  **timely filing** limit. A denied line whose root cause (``carcs.csv``) the claim itself can
  fix (:data:`CORRECTABLE_CAUSES`: a modifier, a code or diagnosis, claim data, eligibility
  (bill the right payer), a duplicate, credentialing, bundling (a modifier that separates the
  service)) is ``correct_and_resubmit`` within the **corrected_claim** window; any other denial
  (medical necessity, documentation, authorization, coverage, frequency, timely filing, a code
  nobody has grouped, no code) is an ``appeal`` within the **appeal** window (Medicare's
  **redetermination**). A denial returned as unprocessable (remark code MA130,
  :data:`NEW_CLAIM_REMARKS`) was never decided: like a rejection, a new claim within the
  **timely filing** limit.
* ``underpaid`` lines: paid or partly paid, and ``expected`` (the contract's expected payment,
  when given) exceeds the allowed amount (else paid + patient responsibility) by more than
  ``underpaid_tolerance`` dollars: ``appeal`` the payment.
* ``partially_paid`` lines with an open balance (charge - paid - adjustment - patient
  responsibility of at least one cent) that are not underpaid items: ``appeal``.
* ``pending`` lines older than the payer's usual time to pay (days from ``submitted_date``, else
  the date of service): ``follow_up`` before the timely filing limit. The usual time is the
  payer's median days from submission to payment in the same export (over at least 5 paid
  lines, :data:`MIN_PAID_FOR_USUAL`), else ``follow_up_days`` (30 by default: the common
  prompt-pay window); a payer's ``follow_up_days`` override wins over both.
* ``not_submitted`` lines: the export has submission dates (``submitted_date`` on at least one
  line), the line has none, and its status is pending or blank with no ``paid_date``: ``submit``
  within the **timely filing** limit.

*Taken over by a later line* (decided here): a denied or rejected line leaves the list when
another non-voided line bills the same service (same ``cpt`` and ``date_of_service``, and the
same ``claim_id`` or, where the export has it, the same ``patient_id``) and either (a) that line
is paid or partly paid on another claim (a corrected claim sent under a new number), or (b) it
is later: submitted later, decided later (``paid_date``) or a replacement (``claim_frequency``
7) of an original. A later denial or a pending resubmission carries the item from then on. Two
lines of the same claim sent together (same submission date; other line numbers, else other
modifiers: RT and LT, say) never take each other over by a later decision, and a correction that
changed the code is not matched (it stays on the list under its old line). A paid line on
another claim closes every denial of its code, day and patient (or claim): two sides of one
service billed on two claims by the same patient on one day read as one service sent twice.

*Amount* (column ``amount_basis`` says which; each line is one item, so a total of amounts
counts each dollar once): for denied, rejected, pending and unsubmitted lines the expected
payment (the contract's where ``expected`` gives one, else ``worth``: the fee schedule, else the
practice's mean paid amount for the code at the payer), else the charge; for underpaid lines the
shortfall; for partly paid lines the open balance.

*Deadlines* come from ``deadlines.csv`` (:mod:`auditkit.reference.deadlines`, replaced by
``[reference] deadlines``) by payer class (:func:`payer_classes`: the payer or plan names
Medicare, but not Medicare Advantage, -> ``medicare``; names Medicaid or Medi-Cal ->
``medicaid``; blank -> ``default``; otherwise ``commercial``), falling back to the ``default``
row for a kind the class does not list; ``overrides`` replace a payer's windows by days. A window
counted from the remittance date uses ``paid_date``; where it is missing, the submission date
(the earliest the remittance can be, so the deadline is never later than the real one), else the
date of service: ``deadline_source_date_used`` says which. ``days_left`` is negative once the
deadline has passed; such items become ``write_off_review`` (the amount is the money lost), except
a pending line submitted on or before its filing deadline, or without a submission date in the
export (the payer has it: keep, or find, the proof of timely filing and follow up); such a line
ranks as an item without a deadline.

*Ranking*: the items still in time first, by ``priority = amount / sqrt(max(days_left, 1))``
(items without a deadline count 365 days), highest first; then the write-off reviews, by amount.
The square root weighs money and time together without letting either swamp the other: $100 due
tomorrow ranks with $1,000 due in 100 days; a deadline four times nearer is worth twice the money,
so a small denial due this week does not bury a large one due next month, and a large one due
next quarter does not bury everything due this week.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from auditkit.claims import PAID_STATUSES, STATUSES, list_contains
from auditkit.engine.context import usable
from auditkit.errors import ConfigError
from auditkit.measures.revenue import (
    as_of,
    line_balance,
    money_or_zero,
    payer_key,
    remark_reference,
    underpaid_lines,
)
from auditkit.measures.settings import worklist_settings
from auditkit.reference import carc_reason
from auditkit.reference import carcs as packaged_carcs
from auditkit.reference.deadlines import (
    OVERRIDE_KEYS,
    SLOT_OF_KIND,
    SLOTS,
    check_overrides,
    deadline_rules,
)
from auditkit.reference.revenue import denial_causes

if TYPE_CHECKING:
    from auditkit.engine.context import Context

__all__ = [
    "ACTIONS",
    "CORRECTABLE_CAUSES",
    "ITEMS",
    "OVERRIDE_KEYS",
    "WORKLIST_COLUMNS",
    "check_overrides",
    "deadlines_for",
    "payer_classes",
    "run_work_list",
    "work_list",
    "worklist_docs",
]

#: The next action of an item.
ACTIONS: tuple[str, ...] = (
    "correct_and_resubmit",
    "appeal",
    "submit",
    "follow_up",
    "write_off_review",
)
#: Kinds of item.
ITEMS: tuple[str, ...] = (
    "denied",
    "rejected",
    "underpaid",
    "partially_paid",
    "pending",
    "not_submitted",
)
#: Root causes (``carcs.csv``) a corrected claim fixes; other denials are appealed.
CORRECTABLE_CAUSES: tuple[str, ...] = (
    "modifier",
    "coding or diagnosis",
    "claim data",
    "eligibility",
    "duplicate",
    "credentialing",
    "bundling",
)
#: Remark codes that return a claim as unprocessable, to be sent again as a new claim
#: (``rarcs.csv``: MA130 "claim incomplete or invalid, unprocessable: send a new claim"): such a
#: claim was never decided, so there is nothing to reopen or appeal, and the new claim must meet
#: the **timely filing** limit (42 CFR 424.44 for Medicare), as after a rejection.
NEW_CLAIM_REMARKS: tuple[str, ...] = ("MA130",)
#: Paid lines a payer needs in the export before its median days to pay is its usual time.
MIN_PAID_FOR_USUAL = 5
#: The basis of an amount that is the line's usual payment rather than the contract's figure.
WORTH_BASIS = "expected payment (fee schedule, else the practice's mean paid for the code)"
#: Days an item without a deadline counts as having left, for its priority.
NO_DEADLINE_DAYS = 365
#: The columns of the work list, in order.
WORKLIST_COLUMNS: tuple[str, ...] = (
    "rank",
    "claim_id",
    "line",
    "payer",
    "provider",
    "cpt",
    "date_of_service",
    "item",
    "amount",
    "amount_basis",
    "reason",
    "cause",
    "action",
    "deadline_kind",
    "deadline",
    "deadline_source_date_used",
    "deadline_rule",
    "days_left",
    "priority",
    "pos",
)

_SLOT_OF_ACTION = {
    "correct_and_resubmit": "corrected_claim",
    "appeal": "appeal",
    "submit": "timely_filing",
    "follow_up": "timely_filing",
}
_FROM_WORDS = {"date_of_service": "the date of service", "remittance_date": "the remittance date"}


def payer_classes(payer: pd.Series, plan: pd.Series | None = None) -> pd.Series:
    """Per line: ``medicare``, ``medicaid``, ``commercial`` or ``default`` (no payer), read from
    the payer name and plan (case ignored, whole words; Medicare Advantage plans are contracts
    of their own: ``commercial``). Worked out once per distinct name."""
    text = payer.astype("string").fillna("")
    if plan is not None:
        text = text + " " + plan.astype("string").fillna("")
    codes, uniques = pd.factorize(text.to_numpy(dtype=object))
    names = pd.Series(np.asarray(uniques, dtype=object), dtype="string").str.casefold()
    medicaid = names.str.contains(r"\bmedicaid\b|\bmedi-cal\b", regex=True)
    advantage = names.str.contains(r"\badvantage\b|\bpart c\b", regex=True)
    medicare = names.str.contains(r"\bmedicare\b", regex=True) & ~advantage
    blank = names.str.strip().eq("")
    per_name = np.select(
        [medicare.to_numpy(dtype=bool), medicaid.to_numpy(dtype=bool), blank.to_numpy(dtype=bool)],
        ["medicare", "medicaid", "default"],
        "commercial",
    )
    return pd.Series(per_name[codes], index=payer.index, dtype="string")


def run_work_list(ctx: Context, underpayment: SimpleNamespace | None = None) -> pd.DataFrame | None:
    """The run's work list (what :func:`work_list` returns) as of the run's as-of date
    (:func:`auditkit.measures.revenue.as_of`: ``[kpis] as_of`` or ``--as-of``, else the latest
    date in the data), with the practice's deadlines file, ``[deadlines."Payer"]`` overrides
    and ``[worklist]`` settings; the expected payment of each line from the underpayment
    measure (with the underpayment audit's ``underpayment`` settings) when a fee schedule is
    given. None without a status column or without any date.
    """
    if not ctx.has_status:
        return None
    when, _ = as_of(ctx)
    if when is None:
        return None
    settings = worklist_settings(ctx)
    expected = None
    if underpayment is not None:
        under = underpaid_lines(ctx, underpayment)
        if under is not None and len(under):
            expected = pd.Series(np.nan, index=ctx.lines.index)
            expected.iloc[under["pos"].to_numpy(dtype="int64")] = under["expected"].to_numpy(
                dtype="float64"
            )
    return work_list(
        ctx.lines,
        when,
        deadline_rules(ctx.config.reference.get("deadlines")),
        ctx.config.deadlines,
        expected=expected,
        worth=pd.Series(ctx.line_fees(), index=ctx.lines.index),
        factorize=ctx.codes,
        carcs=ctx.reference.carcs,
        rarcs=remark_reference(ctx),
        follow_up_days=int(settings.follow_up_days),
        underpaid_tolerance=float(settings.underpaid_tolerance),
    )


def work_list(
    lines: pd.DataFrame,
    as_of: str | date | pd.Timestamp,
    deadlines: pd.DataFrame | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    expected: pd.Series | None = None,
    carcs: pd.DataFrame | None = None,
    rarcs: pd.DataFrame | None = None,
    follow_up_days: int = 30,
    underpaid_tolerance: float = 1.0,
    worth: pd.Series | None = None,
    factorize: Callable[[str], tuple[np.ndarray, Any]] | None = None,
) -> pd.DataFrame:
    """The ranked work list of canonical claim ``lines`` as of ``as_of`` (see the module
    docstring for what is on it, the deadlines and the ranking).

    ``deadlines`` is :func:`~auditkit.reference.deadlines.deadline_rules`' table (the packaged
    one when None); ``overrides`` per payer (:func:`check_overrides`); ``expected`` the
    contract's expected payment per line (index of ``lines``, NaN where unknown; what an
    underpaid line is measured against); ``worth`` what a line is usually paid where the
    contract gives no figure (the fee schedule, else the practice's mean paid amount for the
    code at the payer: the amount of a denied, pending or unsubmitted line); ``carcs`` and ``rarcs`` the reason
    and remark code tables (packaged carcs when None; remark codes only explain CO-16 when
    ``rarcs`` is given). ``factorize(column)`` gives ``pd.factorize`` of a column of ``lines``
    (codes, -1 where missing; the run passes its shared codes, :meth:`Context.codes`).
    Returns :data:`WORKLIST_COLUMNS`, one row per item, in rank order;
    ``pos`` is the item's position in ``lines``. Without a ``status`` column the list is empty.
    """
    when = pd.Timestamp(as_of).normalize()
    rules = deadline_rules() if deadlines is None else deadlines
    payer_overrides = check_overrides(overrides)
    carc_table = packaged_carcs() if carcs is None else carcs
    if "status" not in lines.columns or lines.empty:
        return _empty()
    # Text columns are worked on per distinct value (a million lines hold a few dozen payers).
    if factorize is None:

        def factorize(column: str) -> tuple[np.ndarray, Any]:
            return pd.factorize(lines[column], use_na_sentinel=True)

    status = _Coded(factorize("status"), lambda u: u.str.strip().str.lower())
    payers = _Coded(factorize("payer"), lambda u: u.str.strip().str.casefold())
    every = {s: status.where(lambda u, s=s: u == s) for s in STATUSES}
    open_denial = (every["denied"] | every["rejected"]) & ~_taken_over(
        lines, status, factorize
    ).to_numpy()
    usual_all = _usual_days_to_pay(lines, status, payers, follow_up_days)
    for key, entry in payer_overrides.items():
        if "follow_up_days" in entry:
            hit = payers.where(lambda u, key=key: u == key)
            usual_all[hit] = float(entry["follow_up_days"])
    expected_all = (
        expected.reindex(lines.index).to_numpy(dtype="float64")
        if expected is not None
        else np.full(len(lines), np.nan)
    )
    # Lines that can be items: a paid line only when a contract figure can show it underpaid;
    # a voided line never. The rest is worked out on them alone.
    cand = np.flatnonzero(~(every["paid"] & np.isnan(expected_all)) & ~every["voided"])
    money = ["charge", "paid", "allowed", "adjustment", "patient_responsibility"]
    dates = ["date_of_service", "submitted_date", "paid_date"]
    part = lines[[c for c in money + dates if c in lines.columns]].iloc[cand]
    is_ = {s: pd.Series(every[s][cand], index=part.index) for s in STATUSES}
    dos = part["date_of_service"]
    submitted = _date_or_nat(part, "submitted_date")
    decided = _date_or_nat(part, "paid_date")
    usual = pd.Series(usual_all[cand], index=part.index)

    # --- which lines are items, and of which kind (first match wins, in this order)
    open_denial = pd.Series(open_denial[cand], index=part.index)
    observed, observed_basis = _observed(part)
    expected_amt = pd.Series(expected_all[cand], index=part.index)
    shortfall = (expected_amt - observed).round(2)
    underpaid = (
        (is_["paid"] | is_["partially_paid"]) & _mask(shortfall > underpaid_tolerance)
    ) & ~open_denial
    balance = line_balance(part)
    part_paid = is_["partially_paid"] & (balance >= 0.01) & ~underpaid
    not_sent = pd.Series(False, index=part.index)
    if usable(lines, "submitted_date"):
        undecided = is_["pending"] | ((status.codes[cand] < 0) & decided.isna())
        not_sent = _mask(undecided & submitted.isna())
    age = (when - submitted.fillna(dos)).dt.days
    late = is_["pending"] & ~not_sent & _mask(age > usual)

    item = pd.Series(pd.NA, index=part.index, dtype="string")
    for name, mask in (
        ("not_submitted", not_sent),
        ("pending", late),
        ("partially_paid", part_paid),
        ("underpaid", underpaid),
        ("rejected", open_denial & is_["rejected"]),
        ("denied", open_denial & is_["denied"]),
    ):  # later kinds win: a line is one item
        item = item.mask(mask.to_numpy(dtype=bool), name)
    here = np.flatnonzero(item.notna().to_numpy())  # items among the candidates
    at = cand[here]  # ... and among the lines
    if not len(at):
        return _empty()

    # --- from here on, the items only
    needed = ["claim_id", "payer", "payer_plan", "rendering_provider", "cpt", "charge"]
    needed += ["denial_codes", "remark_codes"]
    sub = lines[[c for c in needed if c in lines.columns]].iloc[at]
    keys = pd.Series(payers.values_at(at), index=sub.index, dtype="string")
    classes = payer_classes(sub["payer"], sub.get("payer_plan"))
    wanted = {k: v["payer_class"] for k, v in payer_overrides.items() if "payer_class" in v}
    if wanted:
        classes = keys.map(wanted).fillna(classes).astype("string")
    kind = item.iloc[here].to_numpy(dtype=object)
    codes = (
        sub["denial_codes"]
        if "denial_codes" in sub.columns
        else pd.Series(pd.NA, index=sub.index, dtype="string")
    )
    remarks = sub["remark_codes"] if "remark_codes" in sub.columns else None
    causes = denial_causes(codes, carc_table, remarks, rarcs)
    cause = causes["cause"]
    correctable = _mask(cause.isin(CORRECTABLE_CAUSES)).to_numpy()
    action = np.select(
        [
            kind == "not_submitted",
            kind == "pending",
            kind == "rejected",
            (kind == "denied") & correctable,
        ],
        ["submit", "follow_up", "correct_and_resubmit", "correct_and_resubmit"],
        "appeal",
    ).astype(object)
    slot = pd.Series(action).map(_SLOT_OF_ACTION).to_numpy(dtype=object)
    slot[kind == "rejected"] = "timely_filing"  # never accepted: a new claim within the limit
    if remarks is not None:  # returned as unprocessable: likewise a new claim, not a correction
        unprocessable = _mask(list_contains(remarks, NEW_CLAIM_REMARKS)).to_numpy()
        slot[(kind == "denied") & unprocessable] = "timely_filing"
        action[(kind == "denied") & unprocessable] = "correct_and_resubmit"

    worth_amt = (
        worth.reindex(lines.index).iloc[at].astype("float64")
        if worth is not None
        else pd.Series(np.nan, index=sub.index)
    )
    amount, basis = _amounts(
        sub, kind, expected_amt.iloc[here], shortfall.iloc[here], balance.iloc[here], worth_amt
    )
    amount_basis = np.where(kind == "underpaid", "expected payment - " + observed_basis.iloc[here],
                            basis)  # fmt: skip
    reason = _reasons(kind, causes["reason"], carc_table, age.iloc[here], usual.iloc[here],
                      shortfall.iloc[here], expected_amt.iloc[here])  # fmt: skip

    deadline, used, rule_text, rule_kind = _deadlines(
        rules,
        payer_overrides,
        classes.to_numpy(dtype=object),
        slot,
        keys,
        sub["payer"].astype("string"),
        dos.iloc[here],
        submitted.iloc[here],
        decided.iloc[here],
    )
    days_left = (deadline - when).dt.days
    in_time = (kind == "pending") & _mask(
        (submitted.iloc[here].to_numpy() <= deadline.to_numpy())
        | submitted.iloc[here].isna().to_numpy()
    ).to_numpy()
    passed = _mask(days_left < 0).to_numpy() & ~in_time
    action[passed] = "write_off_review"
    late_but_filed = in_time & _mask(days_left < 0).to_numpy()
    if late_but_filed.any():  # the filing deadline passed after the payer had the claim
        sent = submitted.iloc[here].dt.strftime("%Y-%m-%d").to_numpy(dtype=object)
        known = pd.notna(sent)
        reason[late_but_filed & known] = (
            reason[late_but_filed & known]
            + "; submitted "
            + sent[late_but_filed & known]
            + ", within the filing limit: keep the proof of timely filing"
        )
        reason[late_but_filed & ~known] = (
            reason[late_but_filed & ~known]
            + "; past the filing limit, and the export has no submission date: find the proof "
            "of timely filing before writing it off"
        )
    # A deadline that passed once the payer had the claim no longer governs it: such items rank
    # as items without a deadline, not as due today for ever.
    urgency_days = (
        days_left.mask(pd.Series(late_but_filed, index=days_left.index))
        .fillna(NO_DEADLINE_DAYS)
        .clip(lower=1)
        .to_numpy(dtype="float64")
    )
    priority = np.where(passed, np.nan, np.round(amount / np.sqrt(urgency_days), 2))

    line = _line_ids(lines, at)
    out = pd.DataFrame(
        {
            "claim_id": sub["claim_id"].astype("string").to_numpy(),
            "line": line.astype("Int64").array,
            "payer": sub["payer"].astype("string").to_numpy(),
            "provider": sub["rendering_provider"].astype("string").to_numpy(),
            "cpt": sub["cpt"].astype("string").to_numpy(),
            "date_of_service": dos.iloc[here].to_numpy(),
            "item": kind,
            "amount": amount,
            "amount_basis": amount_basis,
            "reason": reason,
            "cause": cause.to_numpy(),
            "action": action,
            "deadline_kind": rule_kind,
            "deadline": deadline.to_numpy(),
            "deadline_source_date_used": used,
            "deadline_rule": rule_text,
            "days_left": days_left.astype("Int64").array,
            "priority": priority,
            "pos": at,
            "passed": passed,
        }
    )
    # Text with few distinct values (a rule's text, 200 characters, on 60,000 items) is held
    # once per value.
    out = out.astype(
        {c: "string" for c in ("claim_id", "cpt", "reason", "deadline_source_date_used")}
        | {c: "category" for c in ("payer", "provider", "item", "amount_basis", "cause",
                                   "action", "deadline_kind", "deadline_rule")}
    )  # fmt: skip
    out = out.sort_values(
        ["passed", "priority", "amount", "deadline", "claim_id", "line"],
        ascending=[True, False, False, True, True, True],
        kind="stable",
        na_position="last",
    )
    out["rank"] = np.arange(1, len(out) + 1)
    return out[list(WORKLIST_COLUMNS)].reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# helpers


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in WORKLIST_COLUMNS})


def _mask(values: pd.Series | np.ndarray) -> pd.Series:
    """A nullable comparison as plain bool (missing -> False)."""
    if isinstance(values, np.ndarray):
        return pd.Series(values).fillna(False).astype(bool)
    return values.fillna(False).astype(bool)


def _date_or_nat(lines: pd.DataFrame, column: str) -> pd.Series:
    if column in lines.columns:
        return pd.to_datetime(lines[column]).astype("datetime64[ns]")
    return pd.Series(pd.NaT, index=lines.index, dtype="datetime64[ns]")


class _Coded:
    """A text column as codes into its distinct values, normalised by ``normalise`` (a
    function of a string Series of the distinct values): per-line tests cost one array lookup,
    and no text is made per line. Code -1 is a missing value."""

    def __init__(self, factorized: tuple[np.ndarray, Any], normalise: Any) -> None:
        codes, uniques = factorized
        distinct = normalise(pd.Series(np.asarray(uniques, dtype=object), dtype="string"))
        # Distinct raw values that normalise alike ("Aetna", "AETNA ") share one code.
        self.codes, self.uniques = _recode(codes, distinct.to_numpy(dtype=object))

    def where(self, test: Any) -> np.ndarray:
        """Per line: ``test`` (of a string Series of the distinct values) holds; False where
        the value is missing."""
        hit = _mask(test(pd.Series(self.uniques, dtype="string"))).to_numpy()
        return np.append(hit, False)[self.codes]

    def values_at(self, at: np.ndarray) -> np.ndarray:
        """The normalised values of the lines at positions ``at`` (None where missing)."""
        table = np.append(self.uniques, None)
        return table[self.codes[at]]


def _recode(codes: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``codes`` into ``values`` re-coded so that equal values (and missing ones) share a code."""
    present = pd.Series(values, dtype="string")
    merged, distinct = pd.factorize(present, use_na_sentinel=True)
    table = np.append(merged, -1)  # code -1 (missing) stays -1
    return table[codes], np.asarray(distinct, dtype=object)


def _line_ids(lines: pd.DataFrame, at: np.ndarray) -> pd.Series:
    """For the lines at ``at``: ``line_number`` where exported, else the line's place in its
    claim (1, 2, ...)."""
    given = (
        lines["line_number"].iloc[at].astype("Int64")
        if "line_number" in lines.columns
        else pd.Series(pd.NA, index=lines.index[at], dtype="Int64")
    )
    if not given.isna().any():
        return given
    claims, _ = pd.factorize(lines["claim_id"], use_na_sentinel=False)
    order = pd.Series(claims).groupby(claims, sort=False).cumcount().to_numpy()[at] + 1
    return given.fillna(pd.Series(order, index=given.index, dtype="Int64"))


def _taken_over(
    lines: pd.DataFrame, status: _Coded, factorize: Callable[[str], tuple[np.ndarray, Any]]
) -> pd.Series:
    """Per line: is it a denied or rejected line taken over by a later line for the same
    service (module docstring)? Only the lines of a claim or patient with a denial are
    compared, one merge per matching key."""
    n = len(lines)
    closed = np.zeros(n, dtype=bool)
    denied_any = status.where(lambda u: u.isin(["denied", "rejected"]))
    if not denied_any.any():
        return pd.Series(closed, index=lines.index)
    groups = [("claim", factorize("claim_id")[0])]
    if usable(lines, "patient_id"):
        groups.append(("patient", factorize("patient_id")[0]))
    near = np.zeros(n, dtype=bool)  # a line of a claim, or a patient, that has a denial
    for _, codes in groups:
        flagged = np.zeros(codes.max() + 2, dtype=bool)
        flagged[codes[denied_any]] = True
        flagged[-1] = False  # code -1: no claim id / patient
        near |= flagged[codes]
    rows = np.flatnonzero(near)
    wanted = ["cpt", "date_of_service", "submitted_date", "paid_date", "claim_frequency"]
    wanted += ["line_number", "modifiers"]
    part = lines[[c for c in wanted if c in lines.columns]].iloc[rows]
    text = _Coded(pd.factorize(part["cpt"]), lambda u: u.str.strip().str.upper())
    frame = pd.DataFrame(
        {
            "pos": rows,
            "cpt": np.where(text.codes >= 0, text.codes, -1 - np.arange(len(rows))),
            "dos": part["date_of_service"].to_numpy(),
            "status": status.values_at(rows),
            "submitted": _date_or_nat(part, "submitted_date").to_numpy(),
            "decided": _date_or_nat(part, "paid_date").to_numpy(),
            "frequency": (
                part["claim_frequency"].astype("Int64").fillna(1).to_numpy(dtype="int64")
                if "claim_frequency" in part.columns
                else np.ones(len(rows), dtype="int64")
            ),
        }
    )
    for name, codes in groups:
        frame[name] = codes[rows]
    frame["claim_code"] = frame["claim"]
    # What tells two lines of one claim apart: the line number where exported, else the
    # modifiers (RT and LT); -1 where unknown.
    number = (
        part["line_number"].astype("Int64").fillna(-1).to_numpy(dtype="int64")
        if "line_number" in part.columns
        else np.full(len(rows), -1)
    )
    frame["number"] = number
    frame["mods"] = (
        pd.factorize(part["modifiers"], use_na_sentinel=True)[0]
        if "modifiers" in part.columns
        else np.full(len(rows), -1)
    )
    live = [s for s in STATUSES if s != "voided"]
    denied = frame[denied_any[rows]]
    others = frame[_mask(frame["status"].isin(live)).to_numpy()]
    for name, _ in groups:
        key = [name, "cpt", "dos"]
        left = denied[(denied[name] >= 0).to_numpy() & denied["dos"].notna().to_numpy()]
        right = others[(others[name] >= 0).to_numpy() & others["dos"].notna().to_numpy()]
        pairs = left.merge(right, on=key, suffixes=("", "_j"))
        if pairs.empty:
            continue
        paid_elsewhere = _mask(pairs["status_j"].isin(PAID_STATUSES)) & (
            pairs["claim_code_j"] != pairs["claim_code"]
        )
        # Two lines of one claim sent together (RT and LT: other line numbers or modifiers)
        # are twins: one decided later does not take the other over.
        sent_together = (pairs["claim_code_j"] == pairs["claim_code"]) & (
            _mask(pairs["submitted_j"] == pairs["submitted"])
            | (pairs["submitted_j"].isna() & pairs["submitted"].isna())
        )
        both_numbered = (pairs["number"] >= 0) & (pairs["number_j"] >= 0)
        other_line = np.where(
            both_numbered, pairs["number_j"] != pairs["number"], pairs["mods_j"] != pairs["mods"]
        )
        twins = sent_together & other_line
        later = (
            _mask(pairs["submitted_j"] > pairs["submitted"])
            | (_mask(pairs["decided_j"] > pairs["decided"]) & ~twins)
            | ((pairs["frequency_j"] == 7) & (pairs["frequency"] != 7))
        )
        takes = (pairs["pos_j"] != pairs["pos"]) & (paid_elsewhere | later)
        closed[pairs.loc[takes, "pos"].to_numpy(dtype="int64")] = True
    return pd.Series(closed, index=lines.index)


def _observed(lines: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """What the payer allowed per line, and its basis: ``allowed``, else paid + patient
    responsibility (as the underpayment audit reads it)."""
    fallback = money_or_zero(lines, "paid") + money_or_zero(lines, "patient_responsibility")
    if "paid" in lines.columns:
        fallback = fallback.where(lines["paid"].notna())
    else:
        fallback = pd.Series(np.nan, index=lines.index)
    allowed = (
        lines["allowed"].astype("float64")
        if "allowed" in lines.columns
        else pd.Series(np.nan, index=lines.index)
    )
    basis = pd.Series("allowed", index=lines.index, dtype="string").where(
        allowed.notna(), "(paid + patient responsibility)"
    )
    return allowed.fillna(fallback), basis


def _amounts(
    sub: pd.DataFrame,
    kind: np.ndarray,
    expected: pd.Series,
    shortfall: pd.Series,
    balance: pd.Series,
    worth: pd.Series,
) -> tuple[np.ndarray, np.ndarray]:
    """The amount of each item and its basis (module docstring)."""
    charge = (
        sub["charge"].astype("float64")
        if "charge" in sub.columns
        else pd.Series(np.nan, index=sub.index)
    )
    has_expected = _mask(expected > 0).to_numpy()
    has_worth = ~has_expected & _mask(worth > 0).to_numpy()
    whole = np.where(
        has_expected,
        expected.to_numpy(dtype="float64"),
        np.where(has_worth, worth.to_numpy(dtype="float64"), charge.to_numpy()),
    )
    whole_basis = np.where(
        has_expected,
        "expected payment",
        np.where(has_worth, WORTH_BASIS, "charge (no expected payment known)"),
    )
    whole_basis = np.where(np.isnan(whole), "no charge in the export", whole_basis)
    amount = np.select(
        [kind == "underpaid", kind == "partially_paid"],
        [shortfall.to_numpy(dtype="float64"), balance.to_numpy(dtype="float64")],
        whole,
    )
    basis = np.select(
        [kind == "partially_paid"],
        ["open balance (charge - paid - adjustment - patient responsibility)"],
        whole_basis,
    )
    return np.round(np.nan_to_num(amount, nan=0.0), 2), basis.astype(object)


def _reasons(
    kind: np.ndarray,
    reason_codes: pd.Series,
    carc_table: pd.DataFrame,
    age: pd.Series,
    usual: pd.Series,
    shortfall: pd.Series,
    expected: pd.Series,
) -> np.ndarray:
    """Per item: the reason code and its meaning ("CO-197 prior authorization absent"), or what
    makes the item open where no code says it."""
    codes = reason_codes.astype("string")
    first = codes.str.split(" ").str[0]
    meaning = carc_reason(first).map(
        dict(zip(carc_table["code"], carc_table["meaning"], strict=True))
    )
    with_code = (codes + " " + meaning.astype("string")).fillna(codes).to_numpy(dtype=object)
    days = age.astype("Int64").astype("string").to_numpy(dtype=object)
    usual_days = usual.round().astype("Int64").astype("string").to_numpy(dtype=object)
    pending = "no payer decision after " + days + " days (usual for this payer: " + usual_days + ")"
    money = np.char.mod("$%.2f", shortfall.to_numpy(dtype="float64")).astype(object)
    exp = np.char.mod("$%.2f", expected.to_numpy(dtype="float64")).astype(object)
    underpaid = "paid " + money + " below the expected " + exp
    has_code = codes.notna().to_numpy()
    return np.select(
        [
            kind == "not_submitted",
            kind == "pending",
            kind == "underpaid",
            has_code,
            kind == "partially_paid",
            kind == "rejected",
        ],
        [
            "not submitted to the payer",
            pending,
            underpaid,
            with_code,
            "paid in part, balance open (no reason code)",
            "rejected (no reason code)",
        ],
        "denied (no reason code)",
    ).astype(object)


def _usual_days_to_pay(
    lines: pd.DataFrame, status: _Coded, payers: _Coded, default_days: int
) -> np.ndarray:
    """Per line: its payer's median days from submission (else service) to payment in this
    export, where the payer has :data:`MIN_PAID_FOR_USUAL` paid lines, else ``default_days``."""
    paid = status.where(lambda u: u.isin(PAID_STATUSES)) & (payers.codes >= 0)
    at = np.flatnonzero(paid)
    start = _date_or_nat(lines, "submitted_date").iloc[at].fillna(lines["date_of_service"].iloc[at])
    days = (_date_or_nat(lines, "paid_date").iloc[at] - start).dt.days.to_numpy(dtype="float64")
    counted = days >= 0
    stats = pd.Series(days[counted]).groupby(payers.codes[at][counted]).agg(["median", "size"])
    usual = np.full(len(payers.uniques) + 1, float(default_days))  # last: no payer
    enough = stats[stats["size"] >= MIN_PAID_FOR_USUAL]
    usual[enough.index.to_numpy(dtype="int64")] = enough["median"].to_numpy(dtype="float64")
    return usual[payers.codes]


def _deadlines(
    rules: pd.DataFrame,
    overrides: dict[str, dict[str, Any]],
    classes: np.ndarray,
    slot: np.ndarray,
    keys: pd.Series,
    payer: pd.Series,
    dos: pd.Series,
    submitted: pd.Series,
    decided: pd.Series,
) -> tuple[pd.Series, np.ndarray, np.ndarray, np.ndarray]:
    """Per item: the deadline, the date it counts from (in words), the rule (in words) and the
    deadline's kind. One pass per rule row and per distinct window in months, not per item."""
    index = pd.RangeIndex(len(slot))
    rules = rules.reset_index(drop=True)
    rule_key = rules["payer_class"] + "|" + rules["slot"]
    row_of = dict(zip(rule_key, range(len(rules)), strict=True))
    slots = pd.Series(slot, index=index, dtype="string")
    wanted = pd.Series(classes, index=index, dtype="string") + "|" + slots
    row = wanted.map(row_of).fillna(("default|" + slots).map(row_of)).astype("int64").to_numpy()

    days = rules["days"].to_numpy(dtype="int64")[row]
    months = rules["months"].to_numpy(dtype="int64")[row]
    measured = rules["measured_from"].to_numpy(dtype=object)[row]
    receipt = rules["presumed_receipt_days"].to_numpy(dtype="int64")[row]
    kind = rules["kind"].to_numpy(dtype=object)[row]
    rule_text = np.asarray(_rule_texts(rules), dtype=object)[row]

    key_arr = keys.to_numpy(dtype=object)
    for payer_name, entry in overrides.items():
        for slot_name, value in entry.items():
            if slot_name not in SLOTS:
                continue
            hit = (key_arr == payer_name) & (slot == slot_name)
            days[hit], months[hit] = value, 0
            rule_text[hit] = (
                f"override for this payer: {value} days from "
                + pd.Series(measured[hit], dtype=object).map(_FROM_WORDS).to_numpy(dtype=object)
                + np.where(receipt[hit] > 0, " + presumed receipt days", "")
                + " (configured)"
            )

    dos = dos.reset_index(drop=True)
    submitted = submitted.reset_index(drop=True)
    decided = decided.reset_index(drop=True)
    from_remit = measured == "remittance_date"
    start = dos.copy()
    start[from_remit] = decided[from_remit].fillna(submitted[from_remit]).fillna(dos[from_remit])
    iso = start.dt.strftime("%Y-%m-%d").fillna("(no date)").to_numpy(dtype=object)
    used = np.select(
        [
            ~from_remit,
            decided.notna().to_numpy(),
            submitted.notna().to_numpy(),
        ],
        ["date of service " + iso, "remittance date " + iso,
         "remittance date missing: submitted date " + iso + " used (the earliest possible)"],
        "remittance date missing: date of service " + iso + " used",
    ).astype(object)  # fmt: skip
    with_receipt = from_remit & (receipt > 0)
    used[with_receipt] = (
        used[with_receipt] + " + " + receipt[with_receipt].astype(str) + " days presumed receipt"
    )
    begin = start + pd.to_timedelta(np.where(from_remit, receipt, 0), unit="D")
    deadline = begin + pd.to_timedelta(days, unit="D")
    for m in np.unique(months[months > 0]):  # a handful of distinct windows
        hit = months == m
        deadline[hit] = begin[hit] + pd.DateOffset(months=int(m))
    return deadline, used, rule_text, kind


def _rule_texts(rules: pd.DataFrame) -> list[str]:
    """Each deadline rule in words, with its source and confidence."""
    texts = []
    for row in rules.itertuples(index=False):  # one per rule row (about ten)
        window = f"{row.days} days" if row.days else f"{row.months} months"
        receipt = (
            f" + {row.presumed_receipt_days} days presumed receipt"
            if row.measured_from == "remittance_date" and row.presumed_receipt_days
            else ""
        )
        texts.append(
            f"{row.payer_class} {row.kind}: {window} from {_FROM_WORDS[row.measured_from]}"
            f"{receipt}; {row.source} (confidence {row.confidence})"
        )
    return texts


def deadlines_for(
    payer: pd.Series,
    kind: pd.Series,
    date_of_service: pd.Series,
    remittance_date: pd.Series | None = None,
    *,
    deadlines: pd.DataFrame | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    plan: pd.Series | None = None,
) -> pd.DataFrame:
    """The deadline of each row as the work list works it out, for people's own sheets (the
    ``AUDIT_DEADLINE`` spreadsheet function).

    ``kind`` per row is ``timely_filing``, ``corrected_claim``, ``appeal`` or
    ``redetermination`` (the appeal); ``remittance_date`` may be missing (the date of service is
    then used, and ``source_date_used`` says so). Returns, on the index of ``payer``:
    ``deadline`` (a date), ``deadline_kind`` (the kind as the rule names it, e.g.
    ``redetermination`` for Medicare), ``source_date_used`` and ``rule`` (in words, with its
    source). Raises :class:`ConfigError` for an unknown kind.
    """
    rules = deadline_rules() if deadlines is None else deadlines
    payer_overrides = check_overrides(overrides)
    words = kind.astype("string").str.strip().str.lower().str.replace(" ", "_", regex=False)
    slot = words.map(SLOT_OF_KIND)
    unknown = words[slot.isna()].dropna().unique()
    if len(unknown) or words.isna().any():
        shown = str(unknown[0]) if len(unknown) else "(blank)"
        raise ConfigError(
            f"unknown deadline kind {shown!r}",
            hint="use timely_filing, corrected_claim, appeal or redetermination",
        )
    keys = payer_key(payer)
    classes = payer_classes(payer, plan)
    wanted = {k: v["payer_class"] for k, v in payer_overrides.items() if "payer_class" in v}
    if wanted:
        classes = keys.map(wanted).fillna(classes).astype("string")
    dos = pd.to_datetime(date_of_service).astype("datetime64[ns]")
    remit = (
        pd.to_datetime(remittance_date).astype("datetime64[ns]")
        if remittance_date is not None
        else pd.Series(pd.NaT, index=payer.index, dtype="datetime64[ns]")
    )
    none = pd.Series(pd.NaT, index=payer.index, dtype="datetime64[ns]")
    deadline, used, rule_text, rule_kind = _deadlines(
        rules,
        payer_overrides,
        classes.to_numpy(dtype=object),
        slot.to_numpy(dtype=object),
        keys,
        payer.astype("string"),
        dos,
        none,
        remit,
    )
    return pd.DataFrame(
        {
            "deadline": deadline.to_numpy(),
            "deadline_kind": rule_kind,
            "source_date_used": used,
            "rule": rule_text,
        },
        index=payer.index,
    )


def worklist_docs(deadlines: pd.DataFrame | None = None) -> str:
    """What ``auditkit explain worklist`` prints: what is on the list, how it is ranked (the
    formula), its settings, and the deadline table in use with each rule's source."""
    from auditkit.engine.registry import plain_text
    from auditkit.measures.settings import WORKLIST_SETTINGS

    rules = deadline_rules() if deadlines is None else deadlines
    doc = __doc__ or ""
    summary, _, body = doc.strip().partition("\n\n")
    out = ["worklist: " + " ".join(summary.split()), "", body.strip(), ""]
    header = "Settings (in [worklist] of the config file)"
    out += [header, "-" * len(header)]
    width = max(len(t.name) for t in WORKLIST_SETTINGS.thresholds)
    for t in WORKLIST_SETTINGS.thresholds:
        out.append(f"{t.name.ljust(width)} = {t.default!r:<8}  {t.help}")
    out += [
        "",
        'Per payer, in [deadlines."Payer name"]: timely_filing, corrected_claim, appeal (or',
        "redetermination) in days, follow_up_days, payer_class.",
        "",
        "Deadlines (deadlines.csv; replace it with [reference] deadlines)",
        "----------------------------------------------------------------",
    ]
    for text in _rule_texts(rules):
        out.append("- " + text)
    return plain_text("\n".join(out))
