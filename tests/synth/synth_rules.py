"""The coding rules the planted patterns break, written directly in pandas.

Independent of the generator's own bookkeeping: the tests compare what these rules find in a
generated table with what the generator says it planted.
"""

from __future__ import annotations

import pandas as pd

from auditkit.claims import list_contains, split_list

SIDE_SPECIFIC = (
    ["20610", "20611", "64405"]
    + [str(c) for c in range(64479, 64485)]
    + [str(c) for c in range(64490, 64496)]
    + [str(c) for c in range(64633, 64637)]
)
ESI = ["62321", "62323"] + [str(c) for c in range(64479, 64485)]
ESI_LUMBAR = ["62323", "64483", "64484"]
ESI_CERVICAL = ["62321", "64479", "64480"]
AXIAL = {"M54.50", "M54.59", "M54.9", "M54.5"}
ADDON_PRIMARY = {
    "64480": "64479",
    "64484": "64483",
    "64491": "64490",
    "64492": "64490",
    "64494": "64493",
    "64495": "64493",
    "64634": "64633",
    "64636": "64635",
}
IMAGING_BUNDLED_WITH = (
    ["62321", "62323"]
    + [str(c) for c in range(64479, 64496)]
    + [str(c) for c in range(64633, 64637)]
)


def is_em(f: pd.DataFrame) -> pd.Series:
    return f["cpt"].str.fullmatch(r"992\d\d").fillna(False).astype(bool)


def is_procedure(f: pd.DataFrame) -> pd.Series:
    """A surgical-range CPT (10000-69999) that is not an add-on."""
    code = pd.to_numeric(f["cpt"], errors="coerce")
    return (
        (code.between(10000, 69999) & ~f["cpt"].isin(list(ADDON_PRIMARY)))
        .fillna(False)
        .astype(bool)
    )


def line_keys(rows: pd.DataFrame) -> set[tuple[str, int]]:
    return set(zip(rows["claim_id"].astype(str), rows["line_number"].astype(int), strict=True))


def _same_day_has(f: pd.DataFrame, mask: pd.Series, keys: list[str]) -> pd.Series:
    """Per line: does any line of the same ``keys`` group satisfy ``mask``?"""
    return mask.groupby([f[k] for k in keys]).transform("any").astype(bool)


def modifier_25_missing(f: pd.DataFrame) -> set:
    proc_that_day = _same_day_has(
        f, is_procedure(f), ["patient_id", "date_of_service", "rendering_provider"]
    )
    return line_keys(f[is_em(f) & proc_that_day & ~list_contains(f["modifiers"], "25")])


def modifier_25_unsupported(f: pd.DataFrame) -> set:
    proc_that_day = _same_day_has(f, is_procedure(f), ["patient_id", "date_of_service"])
    return line_keys(f[is_em(f) & ~proc_that_day & list_contains(f["modifiers"], "25")])


def laterality_missing(f: pd.DataFrame) -> set:
    sided = list_contains(f["modifiers"], ("RT", "LT", "50"))
    return line_keys(f[f["cpt"].isin(SIDE_SPECIFIC) & ~sided])


def modifier_59_on_em(f: pd.DataFrame) -> set:
    return line_keys(f[is_em(f) & list_contains(f["modifiers"], "59")])


def dx_linkage(f: pd.DataFrame) -> set:
    esi = f[f["cpt"].isin(ESI)]
    axial_only = split_list(esi["diagnosis_codes"]).map(lambda dx: bool(dx) and set(dx) <= AXIAL)
    return line_keys(esi[axial_only.astype(bool)])


def facet_third_level(f: pd.DataFrame) -> set:
    return line_keys(f[f["cpt"].isin(["64492", "64495"])])


def imaging_bundled(f: pd.DataFrame) -> set:
    spinal_on_claim = _same_day_has(f, f["cpt"].isin(IMAGING_BUNDLED_WITH), ["claim_id"])
    joint_on_claim = _same_day_has(f, f["cpt"].isin(["20610", "20611"]), ["claim_id"])
    fluoro = (f["cpt"] == "77003") & spinal_on_claim
    ultrasound = (f["cpt"] == "76942") & (joint_on_claim | spinal_on_claim)
    return line_keys(f[(fluoro | ultrasound).astype(bool)])


def addon_without_primary(f: pd.DataFrame) -> set:
    bad = pd.Series(False, index=f.index)
    for addon, primary in ADDON_PRIMARY.items():
        has_primary = _same_day_has(f, f["cpt"] == primary, ["patient_id", "date_of_service"])
        bad |= (f["cpt"] == addon) & ~has_primary
    month = f["date_of_service"].dt.to_period("M")
    has_g3002 = (
        (f["cpt"] == "G3002").groupby([f["patient_id"], month]).transform("any").astype(bool)
    )
    bad |= (f["cpt"] == "G3003") & ~has_g3002
    return line_keys(f[bad.astype(bool)])


def tpi_twice(f: pd.DataFrame) -> set[tuple[str, str]]:
    tpi = f[f["cpt"].isin(["20552", "20553"])]
    codes = tpi.groupby(["patient_id", tpi["date_of_service"].dt.strftime("%Y-%m-%d")])[
        "cpt"
    ].nunique()
    return {(str(p), d) for (p, d) in codes[codes > 1].index}


def over_frequency(f: pd.DataFrame, limit: int = 4) -> set[str]:
    out = set()
    for codes in (ESI_LUMBAR, ESI_CERVICAL):
        sessions = f[f["cpt"].isin(codes)].groupby("patient_id")["date_of_service"].nunique()
        out |= {str(p) for p in sessions[sessions > limit].index}
    return out


def cpm_short(f: pd.DataFrame) -> set:
    return line_keys(f[(f["cpt"] == "G3002") & (f["cpm_minutes"] < 30).fillna(False).astype(bool)])


def cpm_time(f: pd.DataFrame) -> set:
    """G3002 under 30 minutes; G3003 units above the full 15s beyond 30; a month with 30+
    minutes and no G3002 (its first line with the most minutes); a visit on the day of the
    patient's first G3002. Minutes are the patient's largest value in the month."""
    key = [f["patient_id"], f["date_of_service"].dt.to_period("M")]
    minutes = f["cpm_minutes"].groupby(key).transform("max")
    g3002, g3003 = f["cpt"] == "G3002", f["cpt"] == "G3003"
    short = g3002 & (minutes < 30).fillna(False).astype(bool)
    supported = ((minutes - 30) // 15).clip(lower=0)
    billed = f["units"].where(g3003, 0).groupby(key).transform("sum")
    over = g3003 & (billed > supported).fillna(False).astype(bool)
    no_g3002 = ~g3002.groupby(key).transform("any").astype(bool)
    month_rows = f[no_g3002 & (f["cpm_minutes"] >= 30).fillna(False).astype(bool)]
    month_rows = month_rows[month_rows["cpm_minutes"] == minutes[month_rows.index]]
    missed = month_rows.groupby([month_rows["patient_id"], key[1][month_rows.index]]).head(1)
    first_g3002 = f[g3002].groupby("patient_id")["date_of_service"].min()
    initial = is_em(f) & (f["date_of_service"] == f["patient_id"].map(first_g3002))
    return (
        line_keys(f[short | over])
        | line_keys(missed)
        | line_keys(f[initial.fillna(False).astype(bool)])
    )


def tpi_undercoded(f: pd.DataFrame) -> set:
    return line_keys(
        f[(f["cpt"] == "20552") & (f["muscles_treated"] >= 3).fillna(False).astype(bool)]
    )


def tpi_without_count(f: pd.DataFrame) -> set:
    return line_keys(f[(f["cpt"] == "20553") & f["muscles_treated"].isna()])


def tpi_overcoded(f: pd.DataFrame) -> set:
    return line_keys(
        f[(f["cpt"] == "20553") & (f["muscles_treated"] < 3).fillna(False).astype(bool)]
    )


def clean_claim_rate(f: pd.DataFrame) -> pd.Series:
    """Per rendering provider: claims without denial, rejection, void, resubmission or edit."""
    unclean_line = (
        f["status"].isin(["denied", "rejected", "voided"]).astype(bool)
        | f["claim_frequency"].isin([7, 8]).astype(bool)
        | f["edited_before_submission"].fillna(False).astype(bool)
    )
    claims = pd.DataFrame(
        {
            "provider": f.groupby("claim_id")["rendering_provider"].first(),
            "unclean": unclean_line.groupby(f["claim_id"]).any(),
            "pending": (f["status"] == "pending").groupby(f["claim_id"]).all(),
        }
    )
    counted = claims[claims["unclean"] | ~claims["pending"]]
    return 1 - counted.groupby("provider")["unclean"].mean()
