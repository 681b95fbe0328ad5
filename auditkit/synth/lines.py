"""Claims into lines: codes, modifiers, units, documentation, money, and the final frame.

:func:`expand` repeats each claim's row by its template's line count and fills the canonical
columns (see :mod:`auditkit.claims`) as whole arrays: the claim-level details come from
:mod:`auditkit.synth.claim_details`, the money and status from
:mod:`auditkit.synth.adjudication`. Claim ids follow the date of service; patient ids are
shuffled so that they do not follow activity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from auditkit.claims import COLUMNS, conform
from auditkit.synth import catalog as cat
from auditkit.synth.adjudication import adjudicate
from auditkit.synth.claim_arrays import (
    EDITED,
    RESUBMITTED,
    VOIDED,
    Calendar,
    Generated,
    join_items,
    template_tables,
)
from auditkit.synth.claim_details import ClaimDetails, claim_details

CLAIM_ID_START = 2_500_001


@dataclass(frozen=True)
class LineLayout:
    """Which claim and template line each line comes from, and its code."""

    claim: np.ndarray  # claim index of each line
    position: np.ndarray  # 0-based position of the line in its claim
    spec: np.ndarray  # index of the template line (see claim_arrays.TemplateTables)
    code: np.ndarray  # code index (cat.CODES)
    cpt: np.ndarray  # the code itself
    kind: np.ndarray  # the code's kind ("em", "procedure", "addon", ...)


def expand(
    claims: dict, pool: dict, n_patients: int, cal: Calendar, rng: np.random.Generator
) -> Generated:
    """The canonical frame of ``claims`` (people and days assigned), with the arrays the
    planting truth needs. The steps run in a fixed order on ``rng``."""
    d = claim_details(claims, pool, n_patients, cal, rng)
    lines = _layout(claims, d, rng)
    lc = lines.claim
    side_mod, both_sides, modifiers, laterality = _modifiers(lines, d)
    units = _units(claims, lines, d, both_sides)
    documentation = _documentation(claims, lines, d, rng)
    money = adjudicate(
        lines={
            "cpt": lines.cpt,
            "code": lines.code,
            "kind": lines.kind,
            "units": units,
            "side_mod": side_mod,
        },
        claim_of_line=lc,
        claim={
            "outcome": d.outcome,
            "pending": d.pending,
            "protect": claims["protect"],
            "needs_auth": d.needs_auth,
            "has_auth": d.has_auth,
            "payer": d.payer,
            "facility": d.facility,
            "dos": d.dos,
        },
        rng=rng,
    )
    status, oc = money["status"], d.outcome[lc]

    paid_date = d.adjudicated[lc].astype("datetime64[ns]")
    paid_date[np.isin(status, ["pending", "rejected"])] = np.datetime64("NaT")
    frequency = np.where(oc == RESUBMITTED, 7, np.where(oc == VOIDED, 8, 1))
    n = len(lc)
    columns = {
        "claim_id": None,  # filled after ordering
        "date_of_service": d.dos[lc].astype("datetime64[ns]"),
        "rendering_provider": np.array([p.name for p in cat.PHYSICIANS], dtype=object)[
            claims["phys"]
        ][lc],
        "payer": np.array([p.name for p in cat.PAYERS], dtype=object)[d.payer][lc],
        "cpt": lines.cpt,
        "line_number": lines.position + 1,
        "patient_id": None,
        "patient_name": None,
        "billing_provider": np.full(n, cat.PRACTICE, dtype=object),
        "payer_plan": _plans(d.payer, claims["plan"])[lc],
        "modifiers": modifiers,
        "units": units,
        "diagnosis_codes": d.dx[lc],
        **money,
        "submitted_date": d.submitted[lc].astype("datetime64[ns]"),
        "paid_date": paid_date,
        "claim_frequency": frequency,
        "edited_before_submission": (oc == EDITED),
        "authorization_number": d.auth[lc],
        "place_of_service": d.pos[lc],
        "laterality": laterality,
        **documentation,
    }
    return _frame(columns, claims, lines, d, n_patients, rng)


def _layout(claims: dict, d: ClaimDetails, rng: np.random.Generator) -> LineLayout:
    """One line per template line of each claim, with its code (visit and trigger-point
    codes resolved)."""
    tt = template_tables()
    n_claims = len(d.template)
    length = tt.length[d.template]
    line_claim = np.repeat(np.arange(n_claims), length)
    n = len(line_claim)
    starts = np.cumsum(length) - length
    position = np.arange(n) - np.repeat(starts, length)
    spec = tt.offset[d.template][line_claim] + position
    code = tt.code[spec].copy()
    code[code == -1] = d.em_code[line_claim[code == -1]]
    tpi_rows = np.flatnonzero(code == -2)
    code[tpi_rows] = _tpi_codes(claims, line_claim[tpi_rows], rng)
    codes = np.array([c.code for c in cat.CODES], dtype=object)
    return LineLayout(
        claim=line_claim,
        position=position,
        spec=spec,
        code=code,
        cpt=codes[code],
        kind=np.array([c.kind for c in cat.CODES], dtype=object)[code],
    )


def _modifiers(
    lines: LineLayout, d: ClaimDetails
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Side modifier, "one line for both sides", all modifiers and the documented laterality.

    Modifiers: side, then KX (Medicare facet injections), then the template's extras.
    """
    tt = template_tables()
    lc, code = lines.claim, lines.code
    n = len(lc)
    spec_side = tt.side[lines.spec]
    claim_side = d.side[lc]
    side_mod = np.full(n, "", dtype=object)
    side_mod[spec_side == 1] = np.array(cat.SIDES, dtype=object)[claim_side[spec_side == 1]]
    side_mod[spec_side == 3] = "RT"
    side_mod[spec_side == 4] = "LT"
    # "units" style: one line says both sides with RT and LT and carries twice the units.
    both_sides = (
        (spec_side == 1) & (claim_side == 2) & (d.style[lc] == cat.BILATERAL_STYLES.index("units"))
    )
    side_mod[both_sides] = "RT,LT"
    facet_injection = np.isin(code, [cat.CODE_INDEX[str(c)] for c in range(64490, 64496)])
    kx = np.where(facet_injection & (d.payer[lc] == cat.MEDICARE), "KX", "").astype(object)
    modifiers = join_items(join_items(side_mod, kx), tt.extra[lines.spec])
    laterality = np.full(n, None, dtype=object)
    documented = np.isin(spec_side, [1, 2])
    laterality[documented] = np.array(cat.SIDE_WORDS, dtype=object)[claim_side[documented]]
    laterality[spec_side == 3] = "right"
    laterality[spec_side == 4] = "left"
    return side_mod, both_sides, modifiers, laterality


def _units(claims: dict, lines: LineLayout, d: ClaimDetails, both_sides: np.ndarray) -> np.ndarray:
    """The template's units; G3003 from the CPM minutes (unless planted); doubled when one
    line bills both sides."""
    lc = lines.claim
    units = template_tables().units[lines.spec].copy()
    g3003 = lines.cpt == "G3003"
    units[g3003] = np.maximum((d.minutes[lc][g3003] - 30) // 15, 1)
    forced_units = g3003 & (claims["g3003_units"][lc] >= 0)
    units[forced_units] = claims["g3003_units"][lc][forced_units]
    units[both_sides] *= 2
    return units


def _documentation(
    claims: dict, lines: LineLayout, d: ClaimDetails, rng: np.random.Generator
) -> dict[str, object]:
    """The documentation columns: imaging guidance, muscles treated, spinal levels, minutes."""
    tt = template_tables()
    lc, cpt, kind = lines.claim, lines.cpt, lines.kind
    n = len(lc)
    n_claims = len(d.template)
    guidance = _guidance(cpt, kind, tt.has_us[d.template][lc], rng.random(n_claims)[lc] < 0.04)
    muscles = np.full(n, -1, dtype=np.int64)
    is52, is53 = cpt == "20552", cpt == "20553"
    muscles[is52] = rng.integers(1, 3, size=int(is52.sum()))
    muscles[is53] = rng.integers(3, 7, size=int(is53.sum()))
    mode = claims["muscles_mode"][lc]
    under = is52 & (mode == 1)
    muscles[under] = rng.integers(3, 6, size=int(under.sum()))
    muscles[is53 & (mode == 2)] = -1
    levels = _levels(cpt, d.fam[lc], lc, d.level_run[lc])
    name = np.array([t.name for t in cat.TEMPLATES], dtype=object)[d.template]
    visit_minutes = np.isin(name, cat.VISIT_MINUTES_TEMPLATES)[lc] & (kind == "em")
    cpm_minutes = np.where((kind == "cpm") | visit_minutes, d.minutes[lc], -1)
    muscles_treated = pd.array(np.where(muscles >= 0, muscles, 0), dtype="Int64")
    muscles_treated[muscles < 0] = pd.NA
    minutes = pd.array(np.where(cpm_minutes >= 0, cpm_minutes, 0), dtype="Float64")
    minutes[cpm_minutes < 0] = pd.NA
    return {
        "muscles_treated": muscles_treated,
        "spinal_levels": levels,
        "imaging_guidance": guidance,
        "cpm_minutes": minutes,
    }


def _frame(
    columns: dict,
    claims: dict,
    lines: LineLayout,
    d: ClaimDetails,
    n_patients: int,
    rng: np.random.Generator,
) -> Generated:
    """Claim and patient ids filled in, rows ordered by claim and line, the frame conformed."""
    lc = lines.claim
    n_claims = len(d.template)
    # Claim ids in date order; patient ids shuffled so they do not follow activity.
    claim_order = np.lexsort((rng.random(n_claims), d.day))
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
    row_order = np.lexsort((lines.position, claim_number[lc]))
    frame = conform(pd.DataFrame({c.name: columns[c.name][row_order] for c in COLUMNS}))
    return Generated(
        frame=frame,
        claims=claims,
        line_claim=lc[row_order],
    )


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
