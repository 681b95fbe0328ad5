"""Who is seen when: the patient pool, the base claims drawn from it, people and dates.

The steps :func:`auditkit.synth.generator.build` runs before claims become lines: a pool of
patients (:func:`patient_pool`), base claims whose lines add up to the requested count
(:func:`base_claims`), a patient, physician and plan for every claim (:func:`assign_people`),
business days (:func:`assign_days`) and the per-patient session caps
(:func:`enforce_patient_rules`). Every step works on whole claim tables (see
:mod:`auditkit.synth.claim_arrays`); the few loops run over payers, physicians or families.
"""

from __future__ import annotations

import numpy as np

from auditkit.synth import catalog as cat
from auditkit.synth.claim_arrays import Calendar, claim_table, concat_tables, template_tables

# --- patients and base claims ------------------------------------------------------------------


def patient_pool(n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """``n`` patients: payer, home physician, plan, activity (visit weight), new this period."""
    payer_share = np.array([p.share for p in cat.PAYERS])
    payer = rng.choice(len(cat.PAYERS), size=n, p=payer_share / payer_share.sum())
    panel = np.array([p.panel for p in cat.PHYSICIANS])
    home = rng.choice(len(cat.PHYSICIANS), size=n, p=panel / panel.sum())
    plan_pick = rng.integers(0, 1 << 30, size=n)
    n_plans = np.array([len(p.plans) for p in cat.PAYERS])
    return {
        "payer": payer.astype(np.int8),
        "home": home.astype(np.int8),
        "plan": (plan_pick % n_plans[payer]).astype(np.int8),
        "activity": rng.gamma(1.5, 1.0, size=n),
        "new": rng.random(n) < 0.35,  # first seen in this period: first visit is a new-patient code
    }


def _template_weights(phys: int, payer: int) -> np.ndarray:
    tt = template_tables()
    p, y = cat.PHYSICIANS[phys], cat.PAYERS[payer]
    fam = np.array(cat.FAMILIES)[tt.family]
    w = tt.weight.copy()
    w *= np.array([p.focus.get(f, 1.0) * y.mix.get(f, 1.0) for f in fam])
    if y.bilateral != "rtlt":  # bilateral as two lines (RT and LT): only where the payer wants it
        w[[cat.TEMPLATE_INDEX[n] for n in cat.RTLT_TEMPLATES]] = 0.0
    return w / w.sum()


def base_claims(budget: int, pool: dict[str, np.ndarray], rng: np.random.Generator) -> dict:
    """Base claims whose lines add up to exactly ``budget``."""
    tt = template_tables()
    mean_len = float((tt.weight * tt.length).sum() / tt.weight.sum())
    tables = []
    have = 0
    while have < budget:
        m = int((budget - have) / mean_len * 1.1) + 16
        t = claim_table(m)
        _draw_patient_and_physician(t, pool, rng)
        _draw_templates(t, rng)
        tables.append(t)
        have += int(tt.length[t["template"]].sum())
    claims = concat_tables(*tables)
    cum = np.cumsum(tt.length[claims["template"]])
    keep = int(np.searchsorted(cum, budget, side="right"))
    claims = {k: v[:keep] for k, v in claims.items()}
    short = budget - (int(cum[keep - 1]) if keep else 0)
    if short:  # fill the last few lines with single-line office visits
        extra = claim_table(short, template=cat.TEMPLATE_INDEX["em_only"])
        _draw_patient_and_physician(extra, pool, rng)
        claims = concat_tables(claims, extra)
    return claims


def _draw_patient_and_physician(t: dict, pool: dict, rng: np.random.Generator) -> None:
    n = len(t["template"])
    weights = pool["activity"] / pool["activity"].sum()
    t["patient"][:] = rng.choice(len(weights), size=n, p=weights)
    home = pool["home"][t["patient"]]
    panel = np.array([p.panel for p in cat.PHYSICIANS])
    other = rng.choice(len(panel), size=n, p=panel / panel.sum())
    t["phys"][:] = np.where(rng.random(n) < 0.85, home, other)
    t["payer"][:] = pool["payer"][t["patient"]]


def _draw_templates(t: dict, rng: np.random.Generator) -> None:
    n_payers = len(cat.PAYERS)
    combo = t["phys"].astype(np.int64) * n_payers + t["payer"]
    order = np.argsort(combo, kind="stable")
    bounds = np.searchsorted(combo[order], np.arange(len(cat.PHYSICIANS) * n_payers + 1))
    for c in range(len(bounds) - 1):  # one draw per (physician, payer): 56 loops at most
        rows = order[bounds[c] : bounds[c + 1]]
        if len(rows):
            w = _template_weights(c // n_payers, c % n_payers)
            t["template"][rows] = rng.choice(len(w), size=len(rows), p=w)


# --- people and dates --------------------------------------------------------------------------


def assign_people(claims: dict, pool: dict, n_fresh: int, rng: np.random.Generator) -> None:
    """Pool patients for planted claims (by their payer), physicians, plans, fresh patients."""
    n = len(claims["template"])
    n_pool = len(pool["payer"])
    patient = claims["patient"].copy()
    fresh = claims["fresh"] >= 0
    patient[fresh] = n_pool + claims["fresh"][fresh]
    # Planted claims from the pool: a payer (forced or by share), then a patient of that payer.
    need = patient < 0
    share = np.array([p.share for p in cat.PAYERS])
    unforced = need & (claims["payer"] < 0)
    claims["payer"][unforced] = rng.choice(
        len(share), size=int(unforced.sum()), p=share / share.sum()
    )
    for y in range(len(cat.PAYERS)):
        rows = np.flatnonzero(need & (claims["payer"] == y))
        members = np.flatnonzero(pool["payer"] == y)
        if len(rows):
            if not len(members):
                members = np.arange(n_pool)
            patient[rows] = members[rng.integers(0, len(members), size=len(rows))]
    # Fresh (group) patients without a forced payer take one by share.
    fresh_unforced = fresh & (claims["payer"] < 0)
    claims["payer"][fresh_unforced] = rng.choice(
        len(share), size=int(fresh_unforced.sum()), p=share / share.sum()
    )
    # Planted claims get a physician the way base claims of their family do (panel x focus),
    # so that, say, denied and paid lines of a planted pair do not differ by physician.
    family = template_tables().family[claims["template"]]
    panel = np.array([p.panel for p in cat.PHYSICIANS])
    for f, name in enumerate(cat.FAMILIES):
        rows = np.flatnonzero((claims["phys"] < 0) & (family == f))
        weights = panel * np.array([p.focus.get(name, 1.0) for p in cat.PHYSICIANS])
        claims["phys"][rows] = rng.choice(len(weights), size=len(rows), p=weights / weights.sum())
    n_plans = np.array([len(p.plans) for p in cat.PAYERS])
    plan = rng.integers(0, 1 << 30, size=n) % n_plans[claims["payer"]]
    in_pool = patient < n_pool
    plan[in_pool] = pool["plan"][patient[in_pool]]
    claims["plan"] = plan.astype(np.int8)
    claims["patient"] = patient


def assign_days(claims: dict, cal: Calendar, rng: np.random.Generator) -> None:
    """A business day for every claim not planted on one; one claim per patient per day."""
    n = len(claims["template"])
    free = claims["day"] < 0
    early = free & claims["early"]
    late = free & ~claims["early"]
    claims["day"][early] = rng.integers(0, cal.early_last + 1, size=int(early.sum()))
    claims["day"][late] = rng.integers(0, cal.n, size=int(late.sum()))
    # One claim per patient per day for everything but the planted groups (whose same-day
    # pairs are the point): move later duplicates to the next business day until none is left.
    movable = claims["group"] < 0
    for _ in range(50):
        key = claims["patient"] * cal.n + claims["day"]
        key = np.where(movable, key, -1 - np.arange(n))  # groups never collide with anyone
        order = np.argsort(key, kind="stable")
        dup = np.flatnonzero(key[order][1:] == key[order][:-1]) + 1
        if not len(dup):
            return
        rows = order[dup]
        claims["day"][rows] = (claims["day"][rows] + 1) % cal.n
    raise RuntimeError("could not spread claims over distinct days")  # pragma: no cover


def enforce_patient_rules(claims: dict, cal: Calendar, next_patient: int) -> int:
    """Keep pool patients within the session caps and one CPM claim a month.

    Excess claims go to a new patient (a new account), which keeps every other attribute.
    Returns the number of patients.
    """
    tt = template_tables()
    fam = tt.family[claims["template"]]
    pooled = claims["group"] < 0
    rules = [(fam == cat.FAMILY_INDEX[f], cap, False) for f, cap in cat.SESSION_CAPS.items()]
    rules.append((fam == cat.FAMILY_INDEX["cpm"], 1, True))  # one CPM claim per calendar month
    for family_mask, cap, by_month in rules:
        rows = np.flatnonzero(pooled & family_mask)
        if not len(rows):
            continue
        month = cal.month[claims["day"][rows]] if by_month else 0
        group_key = claims["patient"][rows] * 16 + month
        order = np.lexsort((claims["day"][rows], group_key))
        sorted_key = group_key[order]
        starts = np.r_[0, np.flatnonzero(sorted_key[1:] != sorted_key[:-1]) + 1]
        position = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
        excess = rows[order[position >= cap]]
        claims["patient"][excess] = next_patient + np.arange(len(excess))
        next_patient += len(excess)
    return next_patient
