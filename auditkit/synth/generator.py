"""Synthetic claim lines for a pain-management practice, built with whole-array numpy.

The generator works claim by claim *as arrays*: every claim-level attribute (template, patient,
payer, physician, date, side, diagnoses, outcome) is one numpy array over all claims, and lines
are made by repeating claim rows by their template's line count. Nothing loops over claims or
lines in Python; the few loops there are run over physicians, payers, families or templates.

The base data is clean with respect to the coding rules the audits check (every procedure billed
with an office visit has 25 on the visit, side-specific codes carry RT/LT/50, epidurals have a
radicular diagnosis, add-ons come with their primary, at most four epidural sessions per region
per patient, one trigger-point code per session, chronic pain management with 30+ minutes and
G3003 units that match them, each payer's bilateral services billed its one way - see
``Payer.bilateral`` - and units within the daily limits).
Known errors are added by :mod:`auditkit.synth.plant` as extra claims with a *tag*.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from auditkit.claims import COLUMNS, conform
from auditkit.synth import catalog as cat

#: Claim outcome categories (claim level); line-level denials are added on top.
OK, ELIGIBILITY, INFO, TIMELY, REJECTED, RESUBMITTED, EDITED, VOIDED, MODIFIER_DENIAL = range(9)

#: Base probabilities of the non-OK outcomes (ELIGIBILITY .. VOIDED); the three denial
#: outcomes and REJECTED are scaled by the payer's ``denial_factor``.
OUTCOMES_BASE = np.array([0.003, 0.002, 0.001, 0.003, 0.004, 0.004, 0.001])
#: Dr. Patel's epidural claims: many front-end rejections, corrections and resubmissions.
OUTCOMES_EPIDURAL_PATEL = np.array([0.01, 0.07, 0.0, 0.21, 0.23, 0.17, 0.0])

#: Days from the last date of service to the date of the export ("as of").
AS_OF_LAG_DAYS = 30
#: Planted claims are dated at least this many business days before the period's end, so that
#: they are adjudicated (not pending) in the export.
EARLY_MARGIN_BUSINESS_DAYS = 55

CLAIM_ID_START = 2_500_001

# Claim-level fields and their "not forced" default.
CLAIM_FIELDS: dict[str, tuple[type, int]] = {
    "template": (np.int16, -1),
    "tag": (np.int16, 0),
    "group": (np.int32, -1),  # special patient group (planted), -1 none
    "payer": (np.int8, -1),
    "phys": (np.int8, -1),
    "patient": (np.int64, -1),  # pool patient (base claims); the final patient after assignment
    "fresh": (np.int64, -1),  # planted groups: their own new patient number (0, 1, ...)
    "day": (np.int32, -1),  # business-day index, -1 = drawn
    "early": (bool, 0),
    "side": (np.int8, -1),
    "tpi_code": (np.int16, -1),
    "dx_mode": (np.int8, 0),  # 1 = axial-only diagnoses
    "muscles_mode": (np.int8, 0),  # 1 = 3-5 muscles on 20552, 2 = no count on 20553
    "minutes": (np.int16, -1),  # forced CPM minutes
    "g3003_units": (np.int8, -1),  # forced G3003 units (else from the minutes)
    "bilat_style": (np.int8, -1),  # forced bilateral style (index into cat.BILATERAL_STYLES)
    "outcome": (np.int8, -1),  # forced outcome category
    "protect": (bool, 0),
}


def claim_table(n: int, **values: object) -> dict[str, np.ndarray]:
    """A claim table of ``n`` rows with defaults, overridden by ``values`` (scalars or arrays)."""
    table = {}
    for name, (dtype, default) in CLAIM_FIELDS.items():
        column = np.full(n, default, dtype=dtype)
        if name in values:
            column[:] = values[name]
        table[name] = column
    unknown = set(values) - set(CLAIM_FIELDS)
    if unknown:
        raise TypeError(f"unknown claim fields: {sorted(unknown)}")
    return table


def concat_tables(*tables: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: np.concatenate([t[k] for t in tables]) for k in CLAIM_FIELDS}


@dataclass(frozen=True)
class Calendar:
    """The 12-month period: business days, their month, and the export date."""

    days: np.ndarray  # datetime64[D] business days
    month: np.ndarray  # month number 0..11 of each business day
    as_of: np.datetime64
    early_last: int  # last business-day index planted claims may use

    @property
    def n(self) -> int:
        return len(self.days)


def make_calendar(start: str) -> Calendar:
    first = np.datetime64(start, "D")
    end = (first.astype("datetime64[M]") + 12).astype("datetime64[D]") - np.timedelta64(1, "D")
    days = np.arange(first, end + np.timedelta64(1, "D"))
    days = days[np.is_busday(days)]
    month = (days.astype("datetime64[M]") - first.astype("datetime64[M]")).astype(np.int64)
    return Calendar(
        days=days,
        month=month,
        as_of=end + np.timedelta64(AS_OF_LAG_DAYS, "D"),
        early_last=len(days) - 1 - EARLY_MARGIN_BUSINESS_DAYS,
    )


@dataclass(frozen=True)
class TemplateTables:
    """The templates flattened into arrays (one entry per template, or per template line)."""

    length: np.ndarray
    offset: np.ndarray
    family: np.ndarray
    weight: np.ndarray
    has_us: np.ndarray  # the template has a 76942 line
    # per template line
    code: np.ndarray  # code index, -1 visit, -2 trigger point
    side: np.ndarray  # 0 none, 1 claim side, 2 documented only, 3 RT, 4 LT
    units: np.ndarray
    extra: np.ndarray  # object: extra modifiers


@functools.cache
def template_tables() -> TemplateTables:
    side_kind = {"": 0, "S": 1, "N": 2, "RT": 3, "LT": 4}
    specs = [s for t in cat.TEMPLATES for s in t.lines]
    length = np.array([len(t.lines) for t in cat.TEMPLATES])
    return TemplateTables(
        length=length,
        offset=np.concatenate([[0], np.cumsum(length)[:-1]]),
        family=np.array([cat.FAMILY_INDEX[t.family] for t in cat.TEMPLATES]),
        weight=np.array([t.weight for t in cat.TEMPLATES], dtype=float),
        has_us=np.array([any(s.code == "76942" for s in t.lines) for t in cat.TEMPLATES]),
        code=np.array(
            [{"EM": -1, "TPI": -2}.get(s.code, cat.CODE_INDEX.get(s.code, -9)) for s in specs]
        ),
        side=np.array([side_kind[s.side] for s in specs]),
        units=np.array([s.units for s in specs], dtype=float),
        extra=np.array([s.extra for s in specs], dtype=object),
    )


@dataclass
class Generated:
    """The frame plus the internal arrays the planting truth needs."""

    frame: pd.DataFrame
    claims: dict[str, np.ndarray]  # claim-level arrays (final patients, days, ...)
    line_claim: np.ndarray  # claim index of each frame row


# --- public entry point (used by auditkit.synth.generate_with_truth) ----------------------------


def build(
    n_lines: int, rng: np.random.Generator, calendar: Calendar, planted: dict[str, np.ndarray]
) -> Generated:
    """Make ``n_lines`` claim lines: the planted claims plus base claims filling the rest."""
    tt = template_tables()
    planted_lines = int(tt.length[planted["template"]].sum()) if len(planted["template"]) else 0
    if planted_lines > n_lines:
        raise ValueError(f"planted claims need {planted_lines} lines, more than n_lines={n_lines}")
    n_fresh = int(planted["fresh"].max()) + 1 if (planted["fresh"] >= 0).any() else 0
    pool = _patient_pool(max(n_lines // 4, 40), rng)
    base = _base_claims(n_lines - planted_lines, pool, rng)
    claims = concat_tables(planted, base)
    _assign_people(claims, pool, n_fresh, rng)
    _assign_days(claims, calendar, rng)
    n_patients = _enforce_patient_rules(claims, calendar, len(pool["payer"]) + n_fresh)
    return _expand(claims, pool, n_patients, calendar, rng)


# --- patients and base claims ------------------------------------------------------------------


def _patient_pool(n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
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


def _base_claims(budget: int, pool: dict[str, np.ndarray], rng: np.random.Generator) -> dict:
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


def _assign_people(claims: dict, pool: dict, n_fresh: int, rng: np.random.Generator) -> None:
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


def _assign_days(claims: dict, cal: Calendar, rng: np.random.Generator) -> None:
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


def _enforce_patient_rules(claims: dict, cal: Calendar, next_patient: int) -> int:
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


# --- claim attributes, lines, money ------------------------------------------------------------


def _choose(options: tuple[str, ...], n: int, rng: np.random.Generator) -> np.ndarray:
    return np.array(options, dtype=object)[rng.integers(0, len(options), size=n)]


def _join(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Join two object arrays of list items with the canonical separator, skipping blanks."""
    return np.where(b == "", a, np.where(a == "", b, a + "," + b))


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
        first = _choose(primary, len(rows), rng)
        second = _choose(cat.DX_SECONDARY[family], len(rows), rng)
        dx[rows] = _join(first, second)
    for family, by_side in cat.DX_SIDED.items():
        for s, options in enumerate(by_side):
            rows = np.flatnonzero((dx_fam == cat.FAMILY_INDEX[family]) & (side == s))
            dx[rows] = _choose(options, len(rows), rng)
    axial = np.flatnonzero(dx_mode == 1)
    dx[axial] = _choose(cat.DX_AXIAL, len(axial), rng)
    return dx


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


def _money_cents(values: np.ndarray) -> np.ndarray:
    return np.rint(values * 100).astype(np.int64)


def _expand(
    claims: dict, pool: dict, n_patients: int, cal: Calendar, rng: np.random.Generator
) -> Generated:
    tt = template_tables()
    n_claims = len(claims["template"])
    template = claims["template"].astype(np.int64)
    fam = tt.family[template]
    payer = claims["payer"].astype(np.int64)
    payer_kind = np.array([p.kind for p in cat.PAYERS], dtype=object)[payer]
    day = claims["day"].astype(np.int64)
    dos = cal.days[day]

    # Keystone Health's 64493 lines are paid or denied by the planted rule only (see plant.py).
    has_64493 = np.array([any(s.code == "64493" for s in t.lines) for t in cat.TEMPLATES])[template]
    claims["protect"] |= (payer == cat.KEYSTONE) & has_64493

    # Side of the claim: RT, LT or 50.
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

    # Office visit code: new-patient code on a new patient's first claim.
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
    em_code = np.where(is_new, new_code, est_code)

    # Place of service.
    pos = np.full(n_claims, "11", dtype=object)
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
    facility = pos != "11"

    # Prior authorization.
    fi = cat.FAMILY_INDEX
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

    # Diagnoses, spinal level run, CPM minutes.
    dx = _diagnoses(fam, side, claims["dx_mode"], rng)
    level_run = rng.integers(0, 1 << 30, size=n_claims)
    minutes = claims["minutes"].astype(np.int64)
    name = np.array([t.name for t in cat.TEMPLATES], dtype=object)[template]
    unset = minutes < 0
    minutes = np.where(unset & (name == "cpm"), rng.integers(30, 45, size=n_claims), minutes)
    minutes = np.where(unset & (name == "cpm_plus"), rng.integers(45, 90, size=n_claims), minutes)
    minutes = np.where(
        unset & (name == "cpm_addon_only"), rng.integers(45, 60, size=n_claims), minutes
    )

    # Outcome and dates.
    outcome = _outcomes(claims, fam, rng)
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

    # --- lines ---
    length = tt.length[template]
    line_claim = np.repeat(np.arange(n_claims), length)
    n = len(line_claim)
    starts = np.cumsum(length) - length
    position = np.arange(n) - np.repeat(starts, length)
    spec = tt.offset[template][line_claim] + position
    code = tt.code[spec].copy()
    code[code == -1] = em_code[line_claim[code == -1]]
    tpi_rows = np.flatnonzero(code == -2)
    code[tpi_rows] = _tpi_codes(claims, line_claim[tpi_rows], rng)
    codes = np.array([c.code for c in cat.CODES], dtype=object)
    cpt = codes[code]
    kind = np.array([c.kind for c in cat.CODES], dtype=object)[code]
    lc = line_claim

    # Modifiers: side, then KX (Medicare facet injections), then the template's extras.
    spec_side = tt.side[spec]
    claim_side = side[lc]
    side_mod = np.full(n, "", dtype=object)
    side_mod[spec_side == 1] = np.array(cat.SIDES, dtype=object)[claim_side[spec_side == 1]]
    side_mod[spec_side == 3] = "RT"
    side_mod[spec_side == 4] = "LT"
    # "units" style: one line says both sides with RT and LT and carries twice the units.
    both_sides = (
        (spec_side == 1) & (claim_side == 2) & (style[lc] == cat.BILATERAL_STYLES.index("units"))
    )
    side_mod[both_sides] = "RT,LT"
    facet_injection = np.isin(code, [cat.CODE_INDEX[str(c)] for c in range(64490, 64496)])
    kx = np.where(facet_injection & (payer[lc] == cat.MEDICARE), "KX", "").astype(object)
    modifiers = _join(_join(side_mod, kx), tt.extra[spec])
    laterality = np.full(n, None, dtype=object)
    documented = np.isin(spec_side, [1, 2])
    laterality[documented] = np.array(cat.SIDE_WORDS, dtype=object)[claim_side[documented]]
    laterality[spec_side == 3] = "right"
    laterality[spec_side == 4] = "left"

    # Units.
    units = tt.units[spec].copy()
    g3003 = cpt == "G3003"
    units[g3003] = np.maximum((minutes[lc][g3003] - 30) // 15, 1)
    forced_units = g3003 & (claims["g3003_units"][lc] >= 0)
    units[forced_units] = claims["g3003_units"][lc][forced_units]
    units[both_sides] *= 2

    # Documentation fields.
    guidance = _guidance(cpt, kind, tt.has_us[template][lc], rng.random(n_claims)[lc] < 0.04)
    muscles = np.full(n, -1, dtype=np.int64)
    is52, is53 = cpt == "20552", cpt == "20553"
    muscles[is52] = rng.integers(1, 3, size=int(is52.sum()))
    muscles[is53] = rng.integers(3, 7, size=int(is53.sum()))
    mode = claims["muscles_mode"][lc]
    under = is52 & (mode == 1)
    muscles[under] = rng.integers(3, 6, size=int(under.sum()))
    muscles[is53 & (mode == 2)] = -1
    levels = _levels(cpt, fam[lc], lc, level_run[lc])
    visit_minutes = np.isin(name, cat.VISIT_MINUTES_TEMPLATES)[lc] & (kind == "em")
    cpm_minutes = np.where((kind == "cpm") | visit_minutes, minutes[lc], -1)

    # --- money and status ---
    money = _adjudicate(
        lines={"cpt": cpt, "code": code, "kind": kind, "units": units, "side_mod": side_mod},
        claim_of_line=lc,
        claim={
            "outcome": outcome,
            "pending": pending,
            "protect": claims["protect"],
            "needs_auth": needs_auth,
            "has_auth": has_auth,
            "payer": payer,
            "facility": facility,
            "dos": dos,
        },
        rng=rng,
    )
    status, oc = money["status"], outcome[lc]

    paid_date = adjudicated[lc].astype("datetime64[ns]")
    paid_date[np.isin(status, ["pending", "rejected"])] = np.datetime64("NaT")
    frequency = np.where(oc == RESUBMITTED, 7, np.where(oc == VOIDED, 8, 1))

    columns = {
        "claim_id": None,  # filled after ordering
        "date_of_service": dos[lc].astype("datetime64[ns]"),
        "rendering_provider": np.array([p.name for p in cat.PHYSICIANS], dtype=object)[
            claims["phys"]
        ][lc],
        "payer": np.array([p.name for p in cat.PAYERS], dtype=object)[payer][lc],
        "cpt": cpt,
        "line_number": position + 1,
        "patient_id": None,
        "patient_name": None,
        "billing_provider": np.full(n, cat.PRACTICE, dtype=object),
        "payer_plan": _plans(payer, claims["plan"])[lc],
        "modifiers": modifiers,
        "units": units,
        "diagnosis_codes": dx[lc],
        **money,
        "submitted_date": submitted[lc].astype("datetime64[ns]"),
        "paid_date": paid_date,
        "claim_frequency": frequency,
        "edited_before_submission": (oc == EDITED),
        "authorization_number": auth[lc],
        "place_of_service": pos[lc],
        "muscles_treated": pd.array(np.where(muscles >= 0, muscles, 0), dtype="Int64"),
        "spinal_levels": levels,
        "laterality": laterality,
        "imaging_guidance": guidance,
        "cpm_minutes": pd.array(np.where(cpm_minutes >= 0, cpm_minutes, 0), dtype="Float64"),
    }
    columns["muscles_treated"][muscles < 0] = pd.NA
    columns["cpm_minutes"][cpm_minutes < 0] = pd.NA

    # Claim ids in date order; patient ids shuffled so they do not follow activity.
    claim_order = np.lexsort((rng.random(n_claims), day))
    claim_number = np.empty(n_claims, dtype=np.int64)
    claim_number[claim_order] = CLAIM_ID_START + np.arange(n_claims)
    claim_ids = pd.Series(claim_number).astype(str).to_numpy(object)
    patient_number = rng.permutation(n_patients) + 1
    width = max(6, len(str(n_patients)))
    pid_all = ("P" + pd.Series(patient_number).astype(str).str.zfill(width)).to_numpy(object)
    names_all = _patient_names(patient_number)
    columns["claim_id"] = claim_ids[lc]
    columns["patient_id"] = pid_all[claims["patient"]][lc]
    columns["patient_name"] = names_all[claims["patient"]][lc]

    # Reorder the arrays (cheap) rather than the frame (Arrow-backed takes are not).
    row_order = np.lexsort((position, claim_number[lc]))
    frame = conform(pd.DataFrame({c.name: columns[c.name][row_order] for c in COLUMNS}))
    return Generated(
        frame=frame,
        claims=claims,
        line_claim=lc[row_order],
    )


def _adjudicate(
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
    denial[elig] = _choose(("CO-27", "CO-27", "CO-22", "CO-109"), n_claims, rng)[lc][elig]
    info = oc == INFO
    denial[info] = "CO-16"
    remark[info] = _choose(("MA130", "N290", "M127", "N290,MA130"), n_claims, rng)[lc][info]
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


def _tpi_codes(claims: dict, rows_claim: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """20552 or 20553 per trigger-point line: forced where planted, else by the physician's habit.

    Each physician codes exactly their share (rounded) of unforced lines as 20552, so the
    per-physician mix is stable even on small samples.
    """
    out = np.empty(len(rows_claim), dtype=np.int64)
    forced = claims["tpi_code"][rows_claim]
    has = forced >= 0
    out[has] = forced[has]
    free = np.flatnonzero(~has)
    phys = claims["phys"][rows_claim[free]].astype(np.int64)
    order = np.lexsort((rng.random(len(free)), phys))
    sizes = np.bincount(phys, minlength=len(cat.PHYSICIANS))
    starts = np.cumsum(sizes) - sizes
    rank = np.arange(len(free)) - starts[phys[order]]
    share = np.array([p.tpi_20552_share for p in cat.PHYSICIANS])[phys[order]]
    low = (rank + 0.5) / sizes[phys[order]] < share
    out[free[order]] = np.where(low, cat.CODE_INDEX["20552"], cat.CODE_INDEX["20553"])
    return out


def _guidance(cpt: np.ndarray, kind: np.ndarray, has_us: np.ndarray, ct: np.ndarray) -> np.ndarray:
    guidance = np.full(len(cpt), None, dtype=object)
    fluoro = np.isin(
        cpt,
        ["62321", "62323", "64520", "63650", "77003"]
        + [str(c) for c in range(64479, 64485)]
        + [str(c) for c in range(64490, 64496)]
        + [str(c) for c in range(64633, 64637)],
    )
    guidance[fluoro] = "fluoroscopy"
    transforaminal = np.isin(cpt, [str(c) for c in range(64479, 64485)])
    guidance[transforaminal & ct] = "ct"
    guidance[np.isin(cpt, ["20552", "20553", "20610", "64405", "64450", "63685"])] = "none"
    guidance[np.isin(cpt, ["20611", "76942"])] = "ultrasound"
    # A claim billing 76942 documents ultrasound on its procedure lines too.
    guidance[has_us & np.isin(kind, ["procedure"])] = "ultrasound"
    return guidance


def _levels(
    cpt: np.ndarray, fam: np.ndarray, line_claim: np.ndarray, run: np.ndarray
) -> np.ndarray:
    levels = np.full(len(cpt), "", dtype=object)
    leveled = np.isin(
        cpt,
        ["62321", "62323", "63650"]
        + [str(c) for c in range(64479, 64485)]
        + [str(c) for c in range(64490, 64496)]
        + [str(c) for c in range(64633, 64637)],
    )
    rows = np.flatnonzero(leveled)
    # n-th leveled line of its claim gets the n-th level of the claim's run.
    claim = line_claim[rows]
    first = np.r_[True, claim[1:] != claim[:-1]]
    group_start = np.maximum.accumulate(np.where(first, np.arange(len(rows)), 0))
    ordinal = np.arange(len(rows)) - group_start
    for family, runs in cat.LEVEL_RUNS.items():
        sel = fam[rows] == cat.FAMILY_INDEX[family]
        width = max(len(r) for r in runs)
        table = np.array([list(r) + [r[-1]] * (width - len(r)) for r in runs], dtype=object)
        pick = run[rows[sel]] % len(runs)
        levels[rows[sel]] = table[pick, np.minimum(ordinal[sel], width - 1)]
    return levels


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


def _plans(payer: np.ndarray, plan: np.ndarray) -> np.ndarray:
    width = max(len(p.plans) for p in cat.PAYERS)
    table = np.array(
        [list(p.plans) + [p.plans[-1]] * (width - len(p.plans)) for p in cat.PAYERS], dtype=object
    )
    return table[payer, plan]


def _patient_names(number: np.ndarray) -> np.ndarray:
    """'Last, First' from the patient number (deterministic, small lists, so names repeat)."""
    mixed = (number.astype(np.uint64) * np.uint64(2654435761)) % np.uint64(1 << 32)
    first = np.array(cat.FIRST_NAMES, dtype=object)[
        (mixed % np.uint64(len(cat.FIRST_NAMES))).astype(np.int64)
    ]
    last = np.array(cat.LAST_NAMES, dtype=object)[
        ((mixed >> np.uint64(8)) % np.uint64(len(cat.LAST_NAMES))).astype(np.int64)
    ]
    return last + ", " + first
