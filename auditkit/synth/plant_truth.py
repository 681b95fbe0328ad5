"""The truth about the coding patterns planted by :mod:`auditkit.synth.plant`.

:func:`truth` turns the planted claims' tags back into the entities each coding audit must flag
(``expect``) and a deterministic sample of similar entities it must not flag (``controls``),
one function per audit. The controls are drawn from one random generator in a fixed order (the
order of :data:`_AUDITS`), so the same seed always gives the same truth.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from auditkit.claims import list_contains
from auditkit.synth import catalog as cat
from auditkit.synth.claim_arrays import Generated
from auditkit.synth.plant import (
    ADDON_64484,
    ADDON_G3003_NEXT_MONTH,
    ADDON_SPLIT_CONTROL,
    AUDIT_IDS,
    BILAT_50_AT_RTLT,
    BILAT_50_NOT_ALLOWED,
    BILAT_RTLT_AT_50,
    BILAT_RTLT_USUAL,
    BILAT_UNITS_AT_50,
    CPM_BOUNDARY,
    CPM_EM_INITIAL,
    CPM_EM_OTHER_DAY,
    CPM_G3003_EXCESS,
    CPM_MISSED,
    CPM_SHORT,
    CPM_SPLIT_CONTROL,
    CPM_TRACKED_SHORT,
    DX_AXIAL,
    FREQ_CONTROL_4,
    FREQ_CONTROL_REGIONS,
    FREQ_LIMIT,
    IMAGING_76942,
    IMAGING_77003,
    LATERALITY,
    M25_MISSING,
    M25_MISSING_SPLIT,
    M25_UNSUPPORTED,
    M59,
    PVD_DENIED,
    TPI_DOUBLE,
    TPI_NOCOUNT,
    TPI_SPLIT,
    TPI_UNDERCODE,
    UNITS_OVER,
)

SIDE_MODIFIERS = ("RT", "LT", "50")
#: Controls listed per kind of entity (a deterministic sample).
N_CONTROLS = 12


class _Sampler:
    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng

    def __call__(self, rows: pd.DataFrame, k: int) -> pd.DataFrame:
        if len(rows) <= k:
            return rows
        return rows.iloc[np.sort(self.rng.choice(len(rows), size=k, replace=False))]


@dataclass(frozen=True)
class _TruthLines:
    """The generated lines as the truth functions read them, and the control sampler."""

    lines: pd.DataFrame  # every line, with its claim's tag and template name
    base: pd.DataFrame  # the lines of the base data (tag 0)
    pick: _Sampler  # draws controls (in the order the truth functions run)
    em: pd.Series  # office-visit lines (a mask over ``lines``)
    em_with_procedure: pd.DataFrame  # base office visits billed with a minor procedure


def truth(gen: Generated, rng: np.random.Generator) -> dict[str, dict[str, Any]]:
    """``{audit_id: {"expect": [...], "controls": [...], "note": str}}`` for the planted data."""
    t = _truth_lines(gen, rng)
    out = {audit_id: make(t) for audit_id, make in _AUDITS}
    return {a: out[a] for a in AUDIT_IDS}


def _truth_lines(gen: Generated, rng: np.random.Generator) -> _TruthLines:
    """The generated lines with their claim's tag and template, and the shared selections."""
    f = gen.frame
    claims = gen.claims
    names = np.array([t.name for t in cat.TEMPLATES], dtype=object)
    # Columns stay in their Arrow-backed dtypes: filters are vectorised and only the few rows
    # that become entities are turned into Python values.
    lines = pd.DataFrame(
        {
            "claim_id": f["claim_id"],
            "line": f["line_number"],
            "cpt": f["cpt"],
            "patient_id": f["patient_id"],
            "dos": f["date_of_service"],
            "provider": f["rendering_provider"],
            "payer": f["payer"],
            "modifiers": f["modifiers"],
            "dx": f["diagnosis_codes"],
            "muscles": f["muscles_treated"],
            "minutes": f["cpm_minutes"],
            "units": f["units"],
            "tag": claims["tag"][gen.line_claim],
            "template": pd.Categorical(names[claims["template"][gen.line_claim]]),
        }
    )
    base = lines[lines["tag"] == 0]
    em = lines["cpt"].str.startswith("992").astype(bool)
    em_with_procedure = base[
        base["cpt"].str.startswith("992").astype(bool)
        & base["template"].isin(["em_tpi", "em_tpi_gon", "em_joint", "em_joint_us", "em_gon"])
    ]
    return _TruthLines(
        lines=lines, base=base, pick=_Sampler(rng), em=em, em_with_procedure=em_with_procedure
    )


def _tpi_ratio(t: _TruthLines) -> dict[str, Any]:
    lines, base, pick = t.lines, t.base, t.pick
    tpi = lines[lines["cpt"].isin(["20552", "20553"])]
    per_provider = tpi.groupby("provider").size()
    lee = cat.PHYSICIANS[cat.LEE].name
    others = [p for p, n in per_provider.items() if p != lee and n >= 20]
    normal = base[base["cpt"].isin(["20552", "20553"])]
    boundary_52 = normal[(normal["cpt"] == "20552") & (normal["muscles"] == 2)]
    boundary_53 = normal[(normal["cpt"] == "20553") & (normal["muscles"] == 3)]
    return {
        "expect": [{"provider": lee}]
        + _entities(
            lines[(lines["tag"] == TPI_UNDERCODE) & (lines["cpt"] == "20552")],
            muscles_treated="muscles",
        )
        + _entities(
            lines[(lines["tag"] == TPI_NOCOUNT) & (lines["cpt"] == "20553")],
            muscles_treated="muscles",
        ),
        "controls": [{"provider": p} for p in others]
        + _entities(pick(boundary_52, N_CONTROLS // 4), muscles_treated="muscles")
        + _entities(pick(boundary_53, N_CONTROLS // 4), muscles_treated="muscles")
        + _entities(pick(normal, N_CONTROLS // 2), muscles_treated="muscles"),
        "note": f"{lee} codes 20552 on about 90% of trigger-point lines, the others 45-55%. Line "
        "entities: 20552 with 3+ muscles documented (undercoded) and 20553 with no muscle count.",
    }


def _paid_vs_denied(t: _TruthLines) -> dict[str, Any]:
    lines = t.lines
    keystone = cat.PAYERS[cat.KEYSTONE].name
    present = set(lines[["cpt", "payer"]].drop_duplicates().itertuples(index=False, name=None))
    control_pairs = [("64493", p.name) for p in cat.PAYERS if p.name != keystone] + [
        ("64483", keystone),
        ("64494", keystone),
    ]
    return {
        "expect": [{"cpt": "64493", "payer": keystone, "attribute": "laterality modifier"}],
        "controls": [{"cpt": c, "payer": p} for c, p in control_pairs if (c, p) in present],
        "note": f"{keystone} denies 64493 lines without RT/LT/50 (CO-4) and pays those with one.",
    }


def _clean_claim_rate(t: _TruthLines) -> dict[str, Any]:
    lines = t.lines
    patel = cat.PHYSICIANS[cat.PATEL].name
    claims_per_provider = lines.drop_duplicates("claim_id").groupby("provider").size()
    return {
        "expect": [{"provider": patel, "family": "epidural"}],
        "controls": [
            {"provider": p} for p, n in claims_per_provider.items() if p != patel and n >= 30
        ],
        "note": f"{patel}'s epidural claims are often rejected, reworked before submission or "
        "resubmitted (frequency 7): her clean-claim rate is about 75%, the others' about 95%.",
    }


def _modifier_25_missing(t: _TruthLines) -> dict[str, Any]:
    lines, pick, em, em_with_procedure = t.lines, t.pick, t.em, t.em_with_procedure
    return {
        "expect": _entities(lines[em & lines["tag"].isin([M25_MISSING, M25_MISSING_SPLIT])]),
        "controls": _entities(pick(em_with_procedure, N_CONTROLS)),
        "note": "Office visit billed the same day (same patient and physician) as a minor procedure "
        "without modifier 25; some on a separate claim from the procedure.",
    }


def _modifier_25_unsupported(t: _TruthLines) -> dict[str, Any]:
    lines, base, pick, em, em_with_procedure = t.lines, t.base, t.pick, t.em, t.em_with_procedure
    em_alone = base[base["template"] == "em_only"]
    return {
        "expect": _entities(lines[em & (lines["tag"] == M25_UNSUPPORTED)]),
        "controls": _entities(pick(em_alone, N_CONTROLS // 2))
        + _entities(pick(em_with_procedure, N_CONTROLS // 2)),
        "note": "Modifier 25 on an office visit with no procedure that day.",
    }


def _laterality_missing(t: _TruthLines) -> dict[str, Any]:
    lines, base, pick = t.lines, t.base, t.pick
    side_specific = lines["cpt"].isin(sorted(cat.SIDE_SPECIFIC))
    no_side = ~list_contains(lines["modifiers"], SIDE_MODIFIERS)
    sided_base = base[base["cpt"].isin(sorted(cat.SIDE_SPECIFIC))]
    two_lines = sided_base["template"].isin(cat.RTLT_TEMPLATES)
    return {
        "expect": _entities(
            lines[side_specific & no_side & lines["tag"].isin([LATERALITY, PVD_DENIED])]
        ),
        "controls": _entities(pick(sided_base[~two_lines], N_CONTROLS // 2))
        + _entities(pick(sided_base[two_lines], N_CONTROLS // 2)),
        "note": "Side-specific code without RT, LT or 50 (the side is documented in laterality). "
        "Includes the Keystone 64493 lines of the paid-vs-denied pattern.",
    }


def _bilateral_style(t: _TruthLines) -> dict[str, Any]:
    lines, base, pick = t.lines, t.base, t.pick
    keystone = cat.PAYERS[cat.KEYSTONE].name
    sided_mod = list_contains(lines["modifiers"], SIDE_MODIFIERS)
    bilateral = lines[
        lines["tag"].isin([BILAT_50_AT_RTLT, BILAT_RTLT_AT_50, BILAT_UNITS_AT_50]) & sided_mod
    ].drop_duplicates(["claim_id", "cpt"])  # one service per code: its first line
    fifty = lines[(lines["tag"] == BILAT_50_NOT_ALLOWED) & list_contains(lines["modifiers"], "50")]
    allowed = base[base["cpt"].isin(sorted(cat.SIDE_SPECIFIC))]
    styles_base = [
        allowed[list_contains(allowed["modifiers"], "50")],
        lines[lines["tag"] == BILAT_RTLT_USUAL].drop_duplicates(["claim_id", "cpt"]),
        allowed[
            list_contains(allowed["modifiers"], "RT") & list_contains(allowed["modifiers"], "LT")
        ],
    ]
    return {
        "expect": _entities(bilateral, modifiers="modifiers", units="units", payer="payer")
        + _entities(fifty, modifiers="modifiers"),
        "controls": [
            e
            for rows in styles_base
            for e in _entities(pick(rows, N_CONTROLS // 3), modifiers="modifiers", payer="payer")
        ],
        "note": f"{keystone} (and Aetna) bill bilateral services as RT and LT lines, Cigna as one "
        "line RT,LT with 2 units, the others (Medicare by the reference file) as one line with "
        f"50. Planted: 50 on one line at {keystone}, RT and LT lines and 2-unit lines at "
        "Medicare (entity: the service's first line), and 50 on 62323 or a trigger-point code. "
        "Controls: ordinary bilateral services in each style.",
    }


def _modifier_59_misuse(t: _TruthLines) -> dict[str, Any]:
    lines, base, pick, em, em_with_procedure = t.lines, t.base, t.pick, t.em, t.em_with_procedure
    pair = base[base["template"].isin(["tpi_gon", "em_tpi_gon"])]
    proc59 = pair[list_contains(pair["modifiers"], "59")]
    return {
        "expect": _entities(lines[em & (lines["tag"] == M59)]),
        "controls": _entities(pick(proc59, N_CONTROLS // 2))
        + _entities(pick(em_with_procedure, N_CONTROLS // 2)),
        "note": "Modifier 59 on an office visit. Controls include 59 on a procedure (the "
        "column 2 code of a trigger-point injection with an occipital nerve block), which is "
        "allowed.",
    }


def _modifier_payer(t: _TruthLines) -> dict[str, Any]:
    lines = t.lines
    aetna = cat.PAYERS[cat.AETNA].name
    # The planted lines bill 20552 (see plant.py); 59 goes on the pair's column 2 code.
    code = "20552" if cat.FIFTY_NINE_ON_TPI else "64405"
    pair = lines[lines["template"].isin(["tpi_gon", "tpi_gon_no59"]) & (lines["cpt"] == code)]
    payers = sorted(set(pair["payer"]) - {aetna})
    return {
        "expect": [{"cpt": code, "payer": aetna, "modifier": "59"}],
        "controls": [{"cpt": code, "payer": p} for p in payers],
        "note": f"59 on {code} of a trigger-point injection billed with a greater occipital "
        f"nerve block (the column 2 code of their edit): always at the other payers (some "
        f"planted, so that they have enough lines), missing on most such lines at {aetna}.",
    }


def _units_exceed_limit(t: _TruthLines) -> dict[str, Any]:
    lines, base, pick = t.lines, t.base, t.pick
    limited = base["cpt"].isin(["20552", "20553", "20610", "62323", "64483", "64493", "64494"])
    at_limit = base[
        base["template"].isin(cat.RTLT_TEMPLATES)
        | (list_contains(base["modifiers"], "RT") & list_contains(base["modifiers"], "LT"))
    ]
    return {
        "expect": _entities(lines[lines["tag"] == UNITS_OVER], units="units"),
        "controls": _entities(pick(at_limit, N_CONTROLS // 2), units="units")
        + _entities(pick(base[limited], N_CONTROLS // 2), units="units"),
        "note": "64483 or 20610 with 3 units, 62323 with 2, for one patient on one day (limits 2, "
        "2 and 1 a day). Controls: bilateral services at 2 units a day (RT and LT lines, or one "
        "line with 2 units) and ordinary lines.",
    }


def _dx_linkage(t: _TruthLines) -> dict[str, Any]:
    lines, base, pick = t.lines, t.base, t.pick
    esi_codes = sorted(cat.ESI_LUMBAR | cat.ESI_CERVICAL)
    esi_base = base[base["cpt"].isin(esi_codes)]
    with_axial = esi_base[list_contains(esi_base["dx"], "M54.50")]
    return {
        "expect": _entities(
            lines[lines["cpt"].isin(esi_codes) & (lines["tag"] == DX_AXIAL)], diagnosis_codes="dx"
        ),
        "controls": _entities(pick(with_axial, N_CONTROLS // 2), diagnosis_codes="dx")
        + _entities(pick(esi_base, N_CONTROLS // 2), diagnosis_codes="dx"),
        "note": "Epidural whose only diagnoses are axial (M54.50, M54.59, M54.9 or the retired "
        "M54.5). Controls include epidurals with a radicular code plus M54.50.",
    }


def _facet_third_level(t: _TruthLines) -> dict[str, Any]:
    lines, base, pick = t.lines, t.base, t.pick
    facet2 = base[base["template"].isin(["facet_l2", "facet_c2"])]
    return {
        "expect": _entities(lines[lines["cpt"].isin(["64492", "64495"])]),
        "controls": _entities(pick(facet2, N_CONTROLS)),
        "note": "Third-level facet code 64492 or 64495 billed.",
    }


def _imaging_bundled(t: _TruthLines) -> dict[str, Any]:
    lines, base, pick = t.lines, t.base, t.pick
    legit_imaging = base[base["cpt"].isin(["76942", "77003"])]
    us_joint = base[base["cpt"] == "20611"]
    return {
        "expect": _entities(lines[(lines["tag"] == IMAGING_77003) & (lines["cpt"] == "77003")])
        + _entities(lines[(lines["tag"] == IMAGING_76942) & (lines["cpt"] == "76942")]),
        "controls": _entities(pick(legit_imaging, N_CONTROLS // 2))
        + _entities(pick(us_joint, N_CONTROLS // 2)),
        "note": "77003 on the same claim as 62323, and 76942 with 20610 (should be 20611). Match on "
        "claim_id; cpt names the line that should not have been billed. Controls: 76942 with "
        "64405/64450 and 77003 with 64520, which the reference data does not bundle, and 20611.",
    }


def _addon_without_primary(t: _TruthLines) -> dict[str, Any]:
    lines, base, pick = t.lines, t.base, t.pick
    addon_ok = base[base["cpt"].isin(["64484", "G3003"])]
    return {
        "expect": _entities(lines[(lines["tag"] == ADDON_64484) & (lines["cpt"] == "64484")])
        + _entities(
            lines[
                (lines["tag"] == ADDON_G3003_NEXT_MONTH) & (lines["template"] == "cpm_addon_only")
            ]
        ),
        "controls": _entities(pick(addon_ok, N_CONTROLS))
        + _entities(
            lines[
                lines["tag"].isin([ADDON_SPLIT_CONTROL, CPM_SPLIT_CONTROL])
                & lines["cpt"].isin(["64484", "G3003"])
            ]
        ),
        "note": "64484 without 64483 for the same patient and date; G3003 without G3002 for the same "
        "patient in the calendar month (billed the month after). Controls include an add-on on "
        "a separate claim from its primary (same day, or same month for G3003).",
    }


def _tpi_once_per_session(t: _TruthLines) -> dict[str, Any]:
    lines, base, pick = t.lines, t.base, t.pick
    as_text = {"dos": lambda d: d["dos"].dt.strftime("%Y-%m-%d")}
    tpi_planted = lines[
        lines["tag"].isin([TPI_DOUBLE, TPI_SPLIT]) & lines["cpt"].isin(["20552", "20553"])
    ]
    tpi_base = base[base["cpt"].isin(["20552", "20553"])]
    return {
        "expect": _sessions(tpi_planted.assign(**as_text)),
        "controls": _sessions(pick(tpi_base, N_CONTROLS).assign(**as_text)),
        "note": "20552 and 20553 for the same patient and date (same claim, or two claims).",
    }


def _frequency_limit(t: _TruthLines) -> dict[str, Any]:
    lines = t.lines
    esi_codes = sorted(cat.ESI_LUMBAR | cat.ESI_CERVICAL)
    freq = lines[lines["tag"].isin([FREQ_LIMIT, FREQ_CONTROL_4, FREQ_CONTROL_REGIONS])]
    freq = freq[freq["cpt"].isin(esi_codes)]
    freq = freq.assign(
        region=np.where(freq["cpt"].isin(sorted(cat.ESI_LUMBAR)), "lumbar", "cervical")
    )
    freq = freq.assign(dos=freq["dos"].dt.strftime("%Y-%m-%d"))
    return {
        "expect": _patients(freq[freq["tag"] == FREQ_LIMIT]),
        "controls": _patients(freq[freq["tag"] != FREQ_LIMIT]),
        "note": "A patient with 5 or 6 lumbar epidural sessions in 12 months (the limit is 4 per "
        "region). Controls: exactly 4 lumbar sessions; 3 lumbar plus 3 cervical.",
    }


def _cpm_time(t: _TruthLines) -> dict[str, Any]:
    lines, pick, em = t.lines, t.pick, t.em
    g3002 = lines[lines["cpt"] == "G3002"]
    g3003 = lines[lines["cpt"] == "G3003"]
    visits = lines[em]
    return {
        "expect": _entities(g3002[g3002["tag"] == CPM_SHORT], cpm_minutes="minutes")
        + _entities(g3003[g3003["tag"] == CPM_G3003_EXCESS], cpm_minutes="minutes", units="units")
        + _entities(
            g3003[
                (g3003["tag"] == ADDON_G3003_NEXT_MONTH) & (g3003["template"] == "cpm_addon_only")
            ],
            cpm_minutes="minutes",
        )
        + _entities(visits[visits["tag"] == CPM_MISSED], cpm_minutes="minutes")
        + _entities(visits[visits["tag"] == CPM_EM_INITIAL]),
        "controls": _entities(g3002[g3002["tag"] == CPM_BOUNDARY], cpm_minutes="minutes")
        + _entities(pick(g3002[g3002["tag"] == 0], N_CONTROLS // 2), cpm_minutes="minutes")
        + _entities(pick(g3003[g3003["tag"] == 0], N_CONTROLS // 2), cpm_minutes="minutes")
        + _entities(g3003[g3003["tag"] == CPM_SPLIT_CONTROL], cpm_minutes="minutes")
        + _entities(visits[visits["tag"] == CPM_TRACKED_SHORT], cpm_minutes="minutes")
        + _entities(visits[visits["tag"] == CPM_EM_OTHER_DAY]),
        "note": "G3002 with fewer than 30 minutes documented in the month; G3003 units above the "
        "full 15 minutes beyond 30; a month with 30+ minutes documented and no G3002 (an office "
        "visit documenting the minutes, and the G3003 billed alone the month after its G3002); "
        "an office visit on the day of the patient's first G3002 (the initial visit). Controls "
        "include exactly 30 minutes, G3003 units matching the minutes, a visit documenting under "
        "30 minutes and a visit three days after the first G3002.",
    }


#: The truth functions, in the order they draw their controls (not the order of AUDIT_IDS).
_AUDITS: tuple[tuple[str, Callable[[_TruthLines], dict[str, Any]]], ...] = (
    ("tpi-ratio", _tpi_ratio),
    ("paid-vs-denied", _paid_vs_denied),
    ("clean-claim-rate", _clean_claim_rate),
    ("modifier-25-missing", _modifier_25_missing),
    ("modifier-25-unsupported", _modifier_25_unsupported),
    ("laterality-missing", _laterality_missing),
    ("bilateral-style-inconsistent", _bilateral_style),
    ("modifier-59-misuse", _modifier_59_misuse),
    ("modifier-payer-inconsistent", _modifier_payer),
    ("units-exceed-limit", _units_exceed_limit),
    ("dx-linkage", _dx_linkage),
    ("facet-third-level", _facet_third_level),
    ("imaging-bundled", _imaging_bundled),
    ("addon-without-primary", _addon_without_primary),
    ("tpi-once-per-session", _tpi_once_per_session),
    ("frequency-limit", _frequency_limit),
    ("cpm-time", _cpm_time),
)


def _value(v: Any) -> Any:
    if v is pd.NA or v is None:
        return None
    if isinstance(v, float):
        return None if np.isnan(v) else (int(v) if v.is_integer() else v)
    if isinstance(v, np.integer):
        return int(v)
    return v


def _entities(rows: pd.DataFrame, **extra: str) -> list[dict[str, Any]]:
    """One entity per line: claim_id, line, cpt, plus ``extra`` (name -> column)."""
    cols = ["claim_id", "line", "cpt", *extra.values()]
    names = ["claim_id", "line", "cpt", *extra.keys()]
    # One dict per planted line (a few hundred at most in the bundled samples).
    return [
        {n: _value(v) for n, v in zip(names, values, strict=True)}
        for values in rows[cols].itertuples(index=False, name=None)
    ]


def _sessions(rows: pd.DataFrame) -> list[dict[str, Any]]:
    grouped = rows.groupby(["patient_id", "dos"], sort=True)["claim_id"]
    return [
        {"patient_id": p, "date_of_service": d, "claim_ids": sorted(set(ids))}
        for (p, d), ids in grouped
    ]


def _patients(rows: pd.DataFrame) -> list[dict[str, Any]]:
    """One entity per patient: lumbar epidural sessions (distinct dates) and their claims."""
    lumbar = rows[rows["region"] == "lumbar"]
    sessions = lumbar.groupby("patient_id", sort=True)["dos"].nunique()
    claim_ids = lumbar.groupby("patient_id", sort=True)["claim_id"].agg(
        lambda ids: sorted(set(ids))
    )
    patients = sorted(set(rows["patient_id"]))
    return [
        {
            "patient_id": p,
            "region": "lumbar",
            "sessions": int(sessions.get(p, 0)),
            "claim_ids": list(claim_ids.get(p, [])),
        }
        for p in patients
    ]
