"""The generated table obeys the canonical contract and looks like a real practice's."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from auditkit.claims import COLUMNS, LIST_COLUMNS, REQUIRED, STATUSES, conform, split_list
from auditkit.synth import MIN_PLANTED_LINES, generate, generate_with_truth

ADJUDICATED = ["paid", "partially_paid", "denied", "voided"]


def test_same_seed_same_table_and_truth():
    a_frame, a_truth = generate_with_truth(3000, 5)
    b_frame, b_truth = generate_with_truth(3000, 5)
    pd.testing.assert_frame_equal(a_frame, b_frame)
    assert a_truth == b_truth


def test_other_seed_other_table():
    a, b = generate(3000, 5), generate(3000, 6)
    assert not a["claim_id"].equals(b["claim_id"]) or not a["cpt"].equals(b["cpt"])
    assert (a["charge"].sum(), a["patient_id"].nunique()) != (
        b["charge"].sum(),
        b["patient_id"].nunique(),
    )


def test_columns_and_dtypes_exactly_per_contract(frame):
    assert list(frame.columns) == [c.name for c in COLUMNS]
    for col in COLUMNS:
        assert str(frame[col.name].dtype) == str(pd.Series(dtype=col.dtype).dtype), col.name
    assert "source_file" not in frame and "source_row" not in frame
    pd.testing.assert_frame_equal(conform(frame), frame)  # already canonical


def test_required_columns_filled(frame):
    for name in REQUIRED:
        assert frame[name].notna().all(), name
    assert frame["status"].isin(STATUSES).all()
    for name in LIST_COLUMNS:  # empty string, never missing; items joined by "," without spaces
        assert frame[name].notna().all(), name
        assert not frame[name].str.contains(r"\s|,,|^,|,$", regex=True).any(), name


@pytest.mark.parametrize("n_lines", [1, 7, 999, 1000, 2001, 2500])
def test_exactly_n_lines(n_lines):
    frame = generate(n_lines, 4)
    assert len(frame) == n_lines
    assert frame.index.equals(pd.RangeIndex(n_lines))


def test_planting_needs_enough_lines():
    assert generate_with_truth(MIN_PLANTED_LINES - 1, 1)[1] == {}
    with pytest.raises(ValueError, match="at least"):
        generate_with_truth(500, 1, plant=True)
    with pytest.raises(ValueError):
        generate(0)


def test_scale_100k_with_right_dtypes():
    # The generator's speed is measured by benchmarks/run.py, which uses it.
    frame = generate(100_000, 3)
    assert len(frame) == 100_000
    assert [str(t) for t in frame.dtypes] == [str(t) for t in generate(50, 3).dtypes]


def test_claims_and_lines(frame):
    per_claim = frame.groupby("claim_id").size()
    assert per_claim.between(1, 4).all() and (per_claim == 4).any() and (per_claim == 1).any()
    numbers = frame.groupby("claim_id")["line_number"].agg(lambda s: list(s))
    assert all(n == list(range(1, len(n) + 1)) for n in numbers)
    claim_level = [
        "date_of_service", "rendering_provider", "payer", "patient_id", "submitted_date",
        "claim_frequency", "edited_before_submission", "place_of_service",
    ]  # fmt: skip
    assert (frame.groupby("claim_id")[claim_level].nunique(dropna=False) == 1).all().all()


def test_practice_shape(frame):
    assert frame["rendering_provider"].nunique() >= 6
    payers = set(frame["payer"])
    assert {"Medicare", "Medicaid", "Keystone Health", "Summit BCBS", "Aetna"} <= payers
    assert any("Workers" in p for p in payers)
    assert frame["patient_id"].str.fullmatch(r"P\d{6}").all()
    assert frame["patient_name"].str.fullmatch(r"[^,]+, [^,]+").all()
    codes = set(frame["cpt"])
    for code in ["99213", "20552", "20553", "20610", "20611", "62321", "62323", "64483", "64493",
                 "64635", "64405", "64450", "63650", "63685", "G3002", "G3003", "77003", "76942"]:  # fmt: skip
        assert code in codes, code
    dos = frame["date_of_service"]
    assert dos.min() >= pd.Timestamp("2025-10-01") and dos.max() <= pd.Timestamp("2026-09-30")
    assert dos.dt.to_period("M").nunique() == 12
    assert (dos.dt.day_of_week < 5).all()
    assert set(frame["claim_frequency"]) >= {1, 7}
    assert (frame["claim_frequency"] == 1).mean() > 0.9
    assert set(frame["place_of_service"]) == {"11", "22", "24"}
    assert (
        frame["diagnosis_codes"]
        .str.fullmatch(r"[A-Z]\d{2}(\.\w{1,4})?(,[A-Z]\d{2}(\.\w{1,4})?)*")
        .all()
    )


def test_accented_names_exist_for_encoding(frame):
    text = pd.concat([frame["rendering_provider"], frame["patient_name"]])
    assert text.str.contains("[ñüéí]", regex=True).any()
    assert all(s.encode("cp1252") for s in set(text))


def test_money_is_consistent(frame):
    f = frame
    settled = f[f["status"].isin(ADJUDICATED)]
    total = settled["paid"] + settled["adjustment"] + settled["patient_responsibility"]
    np.testing.assert_allclose(total, settled["charge"], atol=0.005)
    paid = f[f["status"].isin(["paid", "partially_paid"])]
    np.testing.assert_allclose(
        paid["paid"] + paid["patient_responsibility"], paid["allowed"], atol=0.005
    )
    assert (paid["allowed"] <= paid["charge"] + 0.005).all()
    assert (paid["patient_responsibility"] >= 0).all() and (paid["paid"] >= 0).all()
    denied = f[f["status"] == "denied"]
    assert (denied["paid"] == 0).all() and (denied["allowed"] == 0).all()
    unsettled = f[f["status"].isin(["pending", "rejected"])]
    assert unsettled["allowed"].isna().all() and (unsettled["paid"] == 0).all()
    assert (f["charge"] > 0).all()
    assert (f.loc[f["status"] == "voided", "paid"] < 0).any()  # recouped payments are credits
    cents = f[["charge", "paid", "adjustment", "patient_responsibility"]] * 100
    np.testing.assert_allclose(cents, cents.round(), atol=1e-6)


def test_statuses_dates_and_codes_agree(frame):
    f = frame
    assert set(f["status"]) == set(STATUSES)
    assert (f.loc[f["status"] == "denied", "denial_codes"] != "").all()
    assert (f.loc[f["status"].isin(["pending", "rejected"]), "denial_codes"] == "").all()
    codes = split_list(f["denial_codes"]).explode().dropna()
    assert codes.str.fullmatch(r"(CO|PR|OA|PI)-[A-Z0-9]{1,3}").all()
    assert {"CO-4", "CO-16", "CO-197", "PR-1"} <= set(codes)
    assert (f["remark_codes"] != "").any()
    assert f["paid_date"].isna().eq(f["status"].isin(["pending", "rejected"])).all()
    assert (f["submitted_date"] >= f["date_of_service"]).all()
    assert (f["paid_date"].dropna() > f.loc[f["paid_date"].notna(), "submitted_date"]).all()
    assert f.loc[f["denial_codes"].str.contains("CO-197"), "authorization_number"].isna().all()
    scs = f[f["cpt"].isin(["63650", "63685"]) & f["status"].isin(["paid", "partially_paid"])]
    assert scs["authorization_number"].notna().all()
    assert f["edited_before_submission"].any()


def test_documentation_fields(frame, truth):
    f = frame
    tpi = f["cpt"].isin(["20552", "20553"])
    assert f.loc[~tpi, "muscles_treated"].isna().all()
    assert f.loc[tpi, "muscles_treated"].notna().mean() > 0.9
    cpm = f["cpt"].isin(["G3002", "G3003"])
    assert f.loc[cpm, "cpm_minutes"].notna().all()
    # Besides CPM lines, only the planted office visits that document the month's minutes.
    tracked = {
        (e["claim_id"], e["line"])
        for k in ("expect", "controls")
        for e in truth["cpm-time"][k]
        if e["cpt"].startswith("992") and "cpm_minutes" in e
    }
    others = f[~cpm & f["cpm_minutes"].notna()]
    assert tracked and set(zip(others["claim_id"], others["line_number"], strict=True)) == tracked
    g3003 = f[f["cpt"] == "G3003"]
    over = {(e["claim_id"], e["line"]) for e in truth["cpm-time"]["expect"] if "units" in e}
    keys = pd.Series(list(zip(g3003["claim_id"], g3003["line_number"], strict=True)), g3003.index)
    fits = g3003["units"] <= ((g3003["cpm_minutes"] - 30) // 15).clip(lower=1)
    assert over and (fits == ~keys.isin(over)).all()  # too many units only where planted
    side = f["modifiers"].str.extract(r"(?:^|,)(RT|LT|50)(?:,|$)")[0]
    expected = side.map({"RT": "right", "LT": "left", "50": "bilateral"})
    both = f["modifiers"].str.contains(r"(?:^|,)RT(?:,|$)") & f["modifiers"].str.contains(
        r"(?:^|,)LT(?:,|$)"
    )
    expected = expected.mask(both.astype(bool), "bilateral")  # one line RT,LT with 2 units
    has_side = side.notna()
    assert (f.loc[has_side, "laterality"] == expected[has_side]).all()
    spinal = f["cpt"].isin(["62321", "62323", "64483", "64484", "64493", "64494", "64635"])
    assert (f.loc[spinal, "spinal_levels"] != "").all()
    assert f.loc[spinal, "spinal_levels"].str.fullmatch(r"[CTL]\d+-[CTLS]\d+").all()
    assert f.loc[f["cpt"] == "20611", "imaging_guidance"].eq("ultrasound").all()
    assert f.loc[f["cpt"] == "62323", "imaging_guidance"].eq("fluoroscopy").all()
    assert set(f["imaging_guidance"].dropna()) <= {"fluoroscopy", "ct", "ultrasound", "none"}
