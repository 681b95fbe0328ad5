"""What each claim carries before it becomes lines: side, visit code, place, authorization,
diagnoses, minutes, outcome and dates.

:func:`claim_details` draws them for a claim table whose people and days are set (see
:mod:`auditkit.synth.population`), honouring what the planting forced. The steps run in a fixed
order on one random generator, so the same seed always gives the same claims.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from auditkit.synth import catalog as cat
from auditkit.synth.claim_arrays import (
    INFO,
    OK,
    REJECTED,
    RESUBMITTED,
    TIMELY,
    Calendar,
    choose,
    join_items,
    template_tables,
)

#: Base probabilities of the non-OK outcomes (ELIGIBILITY .. VOIDED); the three denial
#: outcomes and REJECTED are scaled by the payer's ``denial_factor``.
OUTCOMES_BASE = np.array([0.003, 0.002, 0.001, 0.003, 0.004, 0.004, 0.001])
#: Dr. Patel's epidural claims: many front-end rejections, corrections and resubmissions.
OUTCOMES_EPIDURAL_PATEL = np.array([0.01, 0.07, 0.0, 0.21, 0.23, 0.17, 0.0])


@dataclass(frozen=True)
class ClaimDetails:
    """Claim-level arrays (one entry per claim) the lines are made from."""

    template: np.ndarray  # template index
    fam: np.ndarray  # family index of the template
    payer: np.ndarray  # payer index
    day: np.ndarray  # business-day index
    dos: np.ndarray  # datetime64[D] date of service
    side: np.ndarray  # index into cat.SIDES (RT, LT, 50)
    style: np.ndarray  # bilateral style (index into cat.BILATERAL_STYLES)
    em_code: np.ndarray  # code index of the office visit, if the template has one
    pos: np.ndarray  # place of service
    facility: np.ndarray  # place of service is a facility
    needs_auth: np.ndarray
    has_auth: np.ndarray
    auth: np.ndarray  # authorization number or None
    dx: np.ndarray  # diagnosis codes (joined list items)
    level_run: np.ndarray  # picks the spinal levels of the claim's run
    minutes: np.ndarray  # CPM minutes, -1 none
    outcome: np.ndarray  # outcome category (see claim_arrays)
    submitted: np.ndarray  # datetime64[D]
    adjudicated: np.ndarray  # datetime64[D]
    pending: np.ndarray  # not adjudicated by the export date


def claim_details(
    claims: dict, pool: dict, n_patients: int, cal: Calendar, rng: np.random.Generator
) -> ClaimDetails:
    """Draw the details of every claim (in this order: the random draws depend on it).

    Also marks Keystone Health's 64493 claims as protected in ``claims`` (paid or denied by the
    planted rule only, see :mod:`auditkit.synth.plant`).
    """
    tt = template_tables()
    template = claims["template"].astype(np.int64)
    fam = tt.family[template]
    payer = claims["payer"].astype(np.int64)
    day = claims["day"].astype(np.int64)
    dos = cal.days[day]

    # Keystone Health's 64493 lines are paid or denied by the planted rule only (see plant.py).
    has_64493 = np.array([any(s.code == "64493" for s in t.lines) for t in cat.TEMPLATES])[template]
    claims["protect"] |= (payer == cat.KEYSTONE) & has_64493

    side, style = _sides(claims, fam, payer, rng)
    em_code = _visit_codes(claims, pool, n_patients, day, rng)
    pos = _places_of_service(fam, rng)
    needs_auth, has_auth, auth = _authorizations(claims, fam, payer, pos, rng)
    dx = _diagnoses(fam, side, claims["dx_mode"], rng)
    level_run = rng.integers(0, 1 << 30, size=len(template))
    minutes = _cpm_minutes(claims, template, rng)
    outcome = _outcomes(claims, fam, rng)
    submitted, adjudicated, pending = _dates(outcome, payer, day, dos, cal, rng)
    return ClaimDetails(
        template=template,
        fam=fam,
        payer=payer,
        day=day,
        dos=dos,
        side=side,
        style=style,
        em_code=em_code,
        pos=pos,
        facility=pos != "11",
        needs_auth=needs_auth,
        has_auth=has_auth,
        auth=auth,
        dx=dx,
        level_run=level_run,
        minutes=minutes,
        outcome=outcome,
        submitted=submitted,
        adjudicated=adjudicated,
        pending=pending,
    )


def _sides(
    claims: dict, fam: np.ndarray, payer: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Side of the claim (RT, LT or 50) and its bilateral style."""
    side = claims["side"].astype(np.int64)
    draw = side < 0
    for family in cat.FAMILIES:
        probs = cat.SIDE_PROBS.get(family, cat.SIDE_PROBS["default"])
        rows = np.flatnonzero(draw & (fam == cat.FAMILY_INDEX[family]))
        side[rows] = rng.choice(3, size=len(rows), p=probs)
    # Bilateral style: the payer's, unless planted. A payer wanting RT and LT lines never sees a
    # single bilateral line: such claims become one-sided (the RT/LT templates bill both sides).
    style_index = {s: i for i, s in enumerate(cat.BILATERAL_STYLES)}
    style = np.array([style_index[p.bilateral] for p in cat.PAYERS])[payer]
    forced_style = claims["bilat_style"] >= 0
    style[forced_style] = claims["bilat_style"][forced_style]
    one_sided = (style == style_index["rtlt"]) & (side == 2)
    side[one_sided] = rng.integers(0, 2, size=int(one_sided.sum()))
    return side, style


def _visit_codes(
    claims: dict, pool: dict, n_patients: int, day: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Office visit code: new-patient code on a new patient's first claim."""
    n_claims = len(day)
    first_day = np.full(n_patients, np.iinfo(np.int64).max)
    np.minimum.at(first_day, claims["patient"], day)
    in_pool = claims["patient"] < len(pool["new"])
    is_new = np.zeros(n_claims, dtype=bool)
    is_new[in_pool] = pool["new"][claims["patient"][in_pool]]
    is_new &= day == first_day[claims["patient"]]
    new_codes = np.array([cat.CODE_INDEX[c] for c in cat.NEW_VISITS])
    est_codes = np.array([cat.CODE_INDEX[c] for c in cat.EST_VISITS])
    new_code = new_codes[rng.choice(len(new_codes), size=n_claims, p=cat.NEW_VISIT_WEIGHTS)]
    est_code = est_codes[rng.choice(len(est_codes), size=n_claims, p=cat.EST_VISIT_WEIGHTS)]
    return np.where(is_new, new_code, est_code)


def _places_of_service(fam: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Office (11) unless a spinal procedure or stimulator is done in a facility."""
    pos = np.full(len(fam), "11", dtype=object)
    spinal = np.isin(
        fam,
        [
            cat.FAMILY_INDEX[f]
            for f in ("esi_l", "esi_c", "facet_l", "facet_c", "rfa_l", "rfa_c", "sympathetic")
        ],
    )
    pos[spinal] = rng.choice(
        np.array(["11", "24", "22"], dtype=object), size=int(spinal.sum()), p=[0.3, 0.55, 0.15]
    )
    scs = fam == cat.FAMILY_INDEX["scs"]
    pos[scs] = rng.choice(np.array(["24", "22"], dtype=object), size=int(scs.sum()), p=[0.6, 0.4])
    return pos


def _authorizations(
    claims: dict, fam: np.ndarray, payer: np.ndarray, pos: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Prior authorization: whether the claim needs one, has one, and its number."""
    n_claims = len(fam)
    payer_kind = np.array([p.kind for p in cat.PAYERS], dtype=object)[payer]
    fi = cat.FAMILY_INDEX
    scs = fam == fi["scs"]
    esi_rfa = np.isin(fam, [fi["esi_l"], fi["esi_c"], fi["rfa_l"], fi["rfa_c"]])
    facet_rfa = np.isin(fam, [fi["facet_l"], fi["facet_c"], fi["rfa_l"], fi["rfa_c"]])
    needs_auth = (
        scs
        | (np.isin(payer_kind, ["commercial", "medicaid"]) & esi_rfa)
        | ((payer_kind == "workers_comp") & ~np.isin(fam, [fi["em"], fi["cpm"]]))
        | ((payer_kind == "medicare") & facet_rfa & (pos == "22"))
    )
    has_auth = needs_auth & ((rng.random(n_claims) >= 0.02) | claims["protect"])
    prefix = np.array([p.auth_prefix for p in cat.PAYERS], dtype=object)[payer]
    digits = (
        pd.Series(rng.integers(0, 10**9, size=n_claims)).astype(str).str.zfill(9).to_numpy(object)
    )
    utn = payer_kind == "medicare"
    digits[utn] = (
        pd.Series(rng.integers(0, 10**11, size=int(utn.sum())))
        .astype(str)
        .str.zfill(11)
        .to_numpy(object)
    )
    auth = np.where(has_auth, prefix + digits, None)
    return needs_auth, has_auth, auth


def _diagnoses(fam: np.ndarray, side: np.ndarray, dx_mode: np.ndarray, rng) -> np.ndarray:
    n = len(fam)
    dx = np.full(n, "", dtype=object)
    # Office visits alone carry the diagnoses of one of the practice's common problems.
    visit_like = np.array(
        [cat.FAMILY_INDEX[f] for f in ("tpi", "esi_l", "facet_l", "joint", "cpm")]
    )
    dx_fam = fam.copy()
    em = fam == cat.FAMILY_INDEX["em"]
    dx_fam[em] = visit_like[rng.integers(0, len(visit_like), size=int(em.sum()))]
    for family, primary in cat.DX_PRIMARY.items():
        rows = np.flatnonzero(dx_fam == cat.FAMILY_INDEX[family])
        first = choose(primary, len(rows), rng)
        second = choose(cat.DX_SECONDARY[family], len(rows), rng)
        dx[rows] = join_items(first, second)
    for family, by_side in cat.DX_SIDED.items():
        for s, options in enumerate(by_side):
            rows = np.flatnonzero((dx_fam == cat.FAMILY_INDEX[family]) & (side == s))
            dx[rows] = choose(options, len(rows), rng)
    axial = np.flatnonzero(dx_mode == 1)
    dx[axial] = choose(cat.DX_AXIAL, len(axial), rng)
    return dx


def _cpm_minutes(claims: dict, template: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Chronic pain management minutes of the CPM templates, unless planted (-1: none)."""
    n_claims = len(template)
    minutes = claims["minutes"].astype(np.int64)
    name = np.array([t.name for t in cat.TEMPLATES], dtype=object)[template]
    unset = minutes < 0
    minutes = np.where(unset & (name == "cpm"), rng.integers(30, 45, size=n_claims), minutes)
    minutes = np.where(unset & (name == "cpm_plus"), rng.integers(45, 90, size=n_claims), minutes)
    minutes = np.where(
        unset & (name == "cpm_addon_only"), rng.integers(45, 60, size=n_claims), minutes
    )
    return minutes


def _outcomes(claims: dict, fam: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    n = len(fam)
    factor = np.array([p.denial_factor for p in cat.PAYERS])[claims["payer"]]
    probs = np.tile(OUTCOMES_BASE, (n, 1))
    probs[:, :4] *= factor[:, None]
    epidural = np.isin(fam, [cat.FAMILY_INDEX["esi_l"], cat.FAMILY_INDEX["esi_c"]])
    probs[(claims["phys"] == cat.PATEL) & epidural] = OUTCOMES_EPIDURAL_PATEL
    cum = np.cumsum(probs, axis=1)
    outcome = (rng.random(n)[:, None] >= cum).sum(axis=1)  # 0..7: 7 means OK
    outcome = np.where(outcome == len(OUTCOMES_BASE), OK, outcome + 1).astype(np.int8)
    outcome[claims["protect"]] = OK
    forced = claims["outcome"] >= 0
    outcome[forced] = claims["outcome"][forced]
    return outcome


def _dates(
    outcome: np.ndarray,
    payer: np.ndarray,
    day: np.ndarray,
    dos: np.ndarray,
    cal: Calendar,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Submission and adjudication dates, and whether the claim is still pending at the export.

    Turns timely-filing denials of claims too late in the period to run out of filing time
    into missing-information denials (in ``outcome``).
    """
    n_claims = len(outcome)
    late_dos = day > cal.n - 1 - 170  # too late in the period to run out of filing time
    outcome[(outcome == TIMELY) & late_dos] = INFO
    submit_lag = np.where(
        rng.random(n_claims) < 0.06, rng.integers(7, 21, n_claims), rng.integers(1, 6, n_claims)
    )
    submit_lag = np.where(outcome == TIMELY, rng.integers(100, 200, n_claims), submit_lag)
    submitted = dos + submit_lag.astype("timedelta64[D]")
    lo = np.array([p.adjudication_days[0] for p in cat.PAYERS])[payer]
    hi = np.array([p.adjudication_days[1] for p in cat.PAYERS])[payer]
    adjudicated = submitted + rng.integers(lo, hi + 1).astype("timedelta64[D]")
    resubmitted = outcome == RESUBMITTED
    adjudicated[resubmitted] += rng.integers(25, 60, size=int(resubmitted.sum())).astype(
        "timedelta64[D]"
    )
    pending = (adjudicated > cal.as_of) & (outcome != REJECTED)
    return submitted, adjudicated, pending
