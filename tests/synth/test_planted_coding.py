"""The planted bilateral-style, payer-modifier and unit-limit patterns, checked with rules
written directly in pandas (independent of the audits and of the generator's bookkeeping)."""

from __future__ import annotations

import pandas as pd
import pytest

from auditkit.claims import list_contains
from auditkit.synth import generate_with_truth

from . import synth_rules as rules

#: Units per patient per day the base data never exceeds (a subset of the audit's table).
DAY_LIMITS = {"20552": 1, "20553": 1, "62321": 1, "62323": 1, "64483": 2, "64484": 2}
DAY_LIMITS |= {"64479": 2, "64480": 2, "64493": 2, "64494": 2, "20610": 2, "20611": 2}
BILATERAL_NOT_ALLOWED = ["62321", "62323", "20552", "20553"]


def has(f: pd.DataFrame, modifier: str) -> pd.Series:
    return list_contains(f["modifiers"], modifier)


def bilateral_services(f: pd.DataFrame) -> pd.DataFrame:
    """One row per (patient, date, code) of a side-specific code billed for both sides, with its
    style and first line."""
    sided = f[f["cpt"].isin(rules.SIDE_SPECIFIC) & ~f["status"].isin(["voided", "rejected"])]
    rt, lt, fifty = has(sided, "RT"), has(sided, "LT"), has(sided, "50")
    line_style = pd.Series(None, index=sided.index, dtype="object")
    line_style[(fifty & (sided["units"] >= 2)) | (rt & lt)] = "units"
    line_style[fifty & (sided["units"] < 2)] = "50"
    key = [sided["patient_id"], sided["date_of_service"], sided["cpt"]]
    rt_only = (rt & ~lt).groupby(key).transform("any")
    lt_only = (lt & ~rt).groupby(key).transform("any")
    line_style[line_style.isna() & rt_only & lt_only & (rt | lt)] = "rtlt"
    out = sided.assign(style=line_style).dropna(subset=["style"])
    out = out.sort_values(["claim_id", "line_number"])
    return out.drop_duplicates(["patient_id", "date_of_service", "cpt"])


@pytest.mark.parametrize("n_lines,seed", [(2500, 7), (2200, 23), (5000, 8)])
def test_bilateral_services_follow_the_payer_but_where_planted(n_lines, seed):
    frame, truth = generate_with_truth(n_lines, seed)
    services = bilateral_services(frame)
    usual = {"Medicare": "50", "Medicaid": "50", "Summit BCBS": "50"}
    usual |= {"Commonwealth Workers Comp": "50", "Keystone Health": "rtlt", "Aetna": "rtlt"}
    usual |= {"Cigna": "units"}
    off = services[services["style"] != services["payer"].map(usual)]
    planted = {
        (e["claim_id"], e["line"])
        for e in truth["bilateral-style-inconsistent"]["expect"]
        if "payer" in e
    }
    assert rules.line_keys(off) == planted and len(planted) >= 6
    assert set(off["payer"]) == {"Medicare", "Keystone Health"}
    # Keystone's usual style stays clear: at least 80% of its services as RT and LT lines.
    keystone = services[services["payer"] == "Keystone Health"]
    assert (keystone["style"] == "rtlt").mean() >= 0.8
    not_allowed = frame[frame["cpt"].isin(BILATERAL_NOT_ALLOWED) & has(frame, "50")]
    expected = {
        (e["claim_id"], e["line"])
        for e in truth["bilateral-style-inconsistent"]["expect"]
        if "payer" not in e
    }
    assert rules.line_keys(not_allowed) == expected and len(expected) >= 2


@pytest.mark.parametrize("n_lines,seed", [(2500, 7), (2400, 11)])
def test_59_on_the_trigger_point_code_missing_at_one_payer(n_lines, seed):
    frame, truth = generate_with_truth(n_lines, seed)
    gon_claims = set(frame.loc[frame["cpt"] == "64405", "claim_id"])
    visit_claims = set(frame.loc[rules.is_em(frame), "claim_id"])
    pair = frame[
        frame["claim_id"].isin(gon_claims - visit_claims)
        & ~frame["status"].isin(["voided", "rejected"])
    ]
    # The packaged code-pair edit puts 59 on its column 2 code: the trigger-point code.
    assert not has(pair[pair["cpt"] == "64405"], "59").any()
    tpi = pair[pair["cpt"] == "20552"]
    rate = has(tpi, "59").groupby(tpi["payer"]).agg(["mean", "size"])
    assert truth["modifier-payer-inconsistent"]["expect"] == [
        {"cpt": "20552", "payer": "Aetna", "modifier": "59"}
    ]
    assert rate.loc["Aetna", "mean"] <= 0.3 and rate.loc["Aetna", "size"] >= 10
    others = rate.drop(index="Aetna")
    assert (others["mean"] == 1.0).all() and others["size"].sum() >= 10
    controls = {e["payer"] for e in truth["modifier-payer-inconsistent"]["controls"]}
    assert controls == set(others.index)


def units_over(f: pd.DataFrame) -> set:
    counted = f[f["cpt"].isin(list(DAY_LIMITS)) & ~f["status"].isin(["voided", "rejected"])]
    total = counted.groupby(["patient_id", "date_of_service", "cpt"])["units"].transform("sum")
    return rules.line_keys(counted[total > counted["cpt"].map(DAY_LIMITS)])


@pytest.mark.parametrize("n_lines,seed", [(2500, 7), (5000, 8)])
def test_units_over_the_daily_limit_only_where_planted(n_lines, seed):
    frame, truth = generate_with_truth(n_lines, seed)
    planted = {(e["claim_id"], e["line"]) for e in truth["units-exceed-limit"]["expect"]}
    assert units_over(frame) == planted and len(planted) >= 3
    controls = truth["units-exceed-limit"]["controls"]
    assert any(e["units"] == 2 for e in controls)  # a bilateral service at the limit


def test_unplanted_table_is_clean_for_the_new_patterns():
    frame, _ = generate_with_truth(4000, 21, plant=False)
    services = bilateral_services(frame)
    usual = services.groupby("payer")["style"].agg(lambda s: s.value_counts(normalize=True).max())
    assert (usual == 1.0).all()  # each payer bills bilateral services one way only
    assert frame[frame["cpt"].isin(BILATERAL_NOT_ALLOWED) & has(frame, "50")].empty
    assert units_over(frame) == set()
    assert rules.cpm_time(frame) == set()
