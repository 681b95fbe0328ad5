"""Money and status per line: charges, the payer's outcome, allowed, paid, adjustments.

:func:`adjudicate` settles the lines of the generated claims the way a payer would: claim-level
outcomes (see :mod:`auditkit.synth.claim_arrays`) plus line-level denials (authorization,
medical necessity, diagnosis, bundled imaging), partial payments, deductibles and voids.
"""

from __future__ import annotations

import numpy as np

from auditkit.synth import catalog as cat
from auditkit.synth.claim_arrays import (
    EDITED,
    ELIGIBILITY,
    INFO,
    MODIFIER_DENIAL,
    OK,
    REJECTED,
    RESUBMITTED,
    TIMELY,
    VOIDED,
    choose,
)


def adjudicate(
    lines: dict[str, np.ndarray],
    claim_of_line: np.ndarray,
    claim: dict[str, np.ndarray],
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """Charges, payer outcome and money per line (money in dollars, allowed NaN when unsettled)."""
    lc = claim_of_line
    cpt, code, kind, units, side_mod = (
        lines[k] for k in ("cpt", "code", "kind", "units", "side_mod")
    )
    outcome, payer = claim["outcome"], claim["payer"]
    needs_auth, has_auth = claim["needs_auth"], claim["has_auth"]
    n = len(lc)
    n_claims = len(outcome)
    cent = _line_money(
        cpt, code, kind, units, side_mod, payer[lc], claim["facility"][lc], claim["dos"][lc], rng
    )
    charge, allowed, patient_part = cent["charge"], cent["allowed"], cent["patient"]
    deductible = cent["deductible"]
    status = np.full(n, "paid", dtype=object)
    denial = np.full(n, "", dtype=object)
    remark = np.full(n, "", dtype=object)
    oc = outcome[lc]
    protected = claim["protect"][lc]
    adjudicable = np.isin(oc, [OK, RESUBMITTED, EDITED]) & ~protected

    r = rng.random(n)
    procedure_like = np.isin(kind, ["procedure", "addon", "imaging"])
    auth_denied = adjudicable & needs_auth[lc] & ~has_auth[lc] & procedure_like
    medicare_like = np.isin(payer[lc], [cat.MEDICARE, cat.MEDICAID])
    necessity = (
        adjudicable
        & ~auth_denied
        & medicare_like
        & np.isin(kind, ["procedure", "addon"])
        & (r < 0.015)
    )
    dx_denied = (
        adjudicable & ~auth_denied & ~necessity & (kind == "procedure") & (r >= 0.015) & (r < 0.02)
    )
    bundled = adjudicable & (kind == "imaging") & (r >= 0.5) & (r < 0.7)
    partial = adjudicable & (units >= 2) & (r >= 0.8) & ~auth_denied
    denied = auth_denied | necessity | dx_denied | bundled
    denial[auth_denied] = "CO-197"
    denial[necessity] = "CO-50"
    remark[necessity & (payer[lc] == cat.MEDICARE)] = "N115"
    both = dx_denied & (rng.random(n) < 0.3)
    denial[dx_denied] = np.where(both[dx_denied], "CO-11,CO-167", "CO-11")
    remark[dx_denied & (rng.random(n) < 0.5)] = "M76"
    denial[bundled] = "CO-97"

    elig = oc == ELIGIBILITY
    denial[elig] = choose(("CO-27", "CO-27", "CO-22", "CO-109"), n_claims, rng)[lc][elig]
    info = oc == INFO
    denial[info] = "CO-16"
    remark[info] = choose(("MA130", "N290", "M127", "N290,MA130"), n_claims, rng)[lc][info]
    denial[oc == TIMELY] = "CO-29"
    denial[oc == MODIFIER_DENIAL] = "CO-4"
    denied |= np.isin(oc, [ELIGIBILITY, INFO, TIMELY, MODIFIER_DENIAL])
    status[denied] = "denied"
    status[partial & ~denied] = "partially_paid"
    status[oc == REJECTED] = "rejected"
    status[oc == VOIDED] = "voided"
    status[claim["pending"][lc] & (status != "rejected")] = "pending"
    open_ = np.isin(status, ["pending", "rejected"])
    denial[open_] = ""
    remark[open_] = ""

    # Partial payments: one unit fewer allowed.
    is_partial = status == "partially_paid"
    allowed = np.where(is_partial, np.rint(allowed * (units - 1) / units).astype(np.int64), allowed)
    patient_part = np.minimum(patient_part, allowed)
    denial[is_partial] = "CO-151"
    # Deductible: the whole allowed amount is the patient's, nothing paid (status stays paid).
    take_deductible = deductible & (status == "paid")
    patient_part = np.where(take_deductible, allowed, patient_part)
    denial[take_deductible] = "PR-1"
    paid = allowed - patient_part
    adjustment = charge - allowed
    is_denied = status == "denied"
    allowed = np.where(is_denied, 0, allowed)
    paid = np.where(is_denied, 0, paid)
    patient_part = np.where(is_denied, 0, patient_part)
    adjustment = np.where(is_denied, charge, adjustment)
    # Voided after payment: the payment is taken back (negative paid), the rest written off.
    is_void = status == "voided"
    recouped = paid
    paid = np.where(is_void, -recouped, paid)
    allowed = np.where(is_void, 0, allowed)
    patient_part = np.where(is_void, 0, patient_part)
    adjustment = np.where(is_void, charge + recouped, adjustment)
    unsettled = open_
    allowed_f = np.where(unsettled, np.nan, allowed / 100.0)
    paid = np.where(unsettled, 0, paid)
    patient_part = np.where(unsettled, 0, patient_part)
    adjustment = np.where(unsettled, 0, adjustment)

    return {
        "charge": charge / 100.0,
        "allowed": allowed_f,
        "paid": paid / 100.0,
        "adjustment": adjustment / 100.0,
        "patient_responsibility": patient_part / 100.0,
        "status": status,
        "denial_codes": denial,
        "remark_codes": remark,
    }


def _line_money(
    cpt, code, kind, units, side_mod, payer, facility, dos, rng
) -> dict[str, np.ndarray]:
    charge_unit = np.array([c.charge for c in cat.CODES])[code]
    base_unit = np.array([c.base_rate for c in cat.CODES])[code]
    bilateral = side_mod == "50"
    charge = _money_cents(charge_unit * units * np.where(bilateral, 2.0, 1.0))
    rate = np.array([p.rate for p in cat.PAYERS])[payer]
    setting = np.where(facility & np.isin(kind, ["procedure", "addon"]), 0.72, 1.0)
    allowed = _money_cents(base_unit * units * rate * setting * np.where(bilateral, 1.5, 1.0))
    allowed = np.minimum(allowed, charge)
    coins = np.array([p.coinsurance for p in cat.PAYERS])[payer]
    copay = np.array([p.copay for p in cat.PAYERS])[payer] * 100
    patient = _money_cents(allowed / 100.0 * coins)
    visit = kind == "em"
    patient = np.where(visit & (copay > 0), np.minimum(copay, allowed), patient)
    january = (dos.astype("datetime64[M]").astype(np.int64) % 12) == 0
    kinds = np.array([p.kind for p in cat.PAYERS], dtype=object)[payer]
    deductible = january & np.isin(kinds, ["medicare", "commercial"]) & (rng.random(len(cpt)) < 0.3)
    return {"charge": charge, "allowed": allowed, "patient": patient, "deductible": deductible}


def _money_cents(values: np.ndarray) -> np.ndarray:
    return np.rint(values * 100).astype(np.int64)
