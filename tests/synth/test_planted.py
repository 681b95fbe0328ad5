"""Each planted pattern is really in the table, and nothing else breaks the same rule."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from auditkit.claims import list_contains
from auditkit.synth import AUDIT_IDS, generate_with_truth

from . import synth_rules as rules

LEE, PATEL, KEYSTONE = "Daniel Lee, MD", "Priya Patel, MD", "Keystone Health"


def expected_lines(truth: dict, audit: str) -> set[tuple[str, int]]:
    return {(e["claim_id"], e["line"]) for e in truth[audit]["expect"] if "line" in e}


def control_lines(truth: dict, audit: str) -> set[tuple[str, int]]:
    return {(e["claim_id"], e["line"]) for e in truth[audit]["controls"] if "line" in e}


def test_truth_covers_every_audit_and_is_json(truth):
    assert tuple(truth) == AUDIT_IDS
    for audit, spec in truth.items():
        assert spec["expect"], f"{audit}: nothing planted"
        assert spec["controls"], f"{audit}: no controls"
    assert json.loads(json.dumps(truth)) == truth


# One row per line rule: the rule's violations in the frame are exactly the planted lines.
LINE_RULES = [
    ("modifier-25-missing", rules.modifier_25_missing),
    ("modifier-25-unsupported", rules.modifier_25_unsupported),
    ("laterality-missing", rules.laterality_missing),
    ("modifier-59-misuse", rules.modifier_59_on_em),
    ("dx-linkage", rules.dx_linkage),
    ("facet-third-level", rules.facet_third_level),
    ("imaging-bundled", rules.imaging_bundled),
    ("addon-without-primary", rules.addon_without_primary),
    ("cpm-time", rules.cpm_time),
]


@pytest.mark.parametrize(("audit", "rule"), LINE_RULES, ids=[a for a, _ in LINE_RULES])
def test_line_rule_finds_exactly_the_planted_lines(frame, truth, audit, rule):
    found = rule(frame)
    assert found == expected_lines(truth, audit)
    assert not (found & control_lines(truth, audit))
    assert len(found) >= 3


@pytest.mark.parametrize("n_lines,seed", [(2000, 3), (5000, 8)])
def test_line_rules_hold_at_other_sizes(n_lines, seed):
    frame, truth = generate_with_truth(n_lines, seed)
    for audit, rule in LINE_RULES:
        assert rule(frame) == expected_lines(truth, audit), audit
    assert rules.tpi_twice(frame) == {
        (e["patient_id"], e["date_of_service"]) for e in truth["tpi-once-per-session"]["expect"]
    }
    assert rules.over_frequency(frame) == {
        e["patient_id"] for e in truth["frequency-limit"]["expect"]
    }


def test_unplanted_table_is_clean_for_every_coding_rule():
    frame, truth = generate_with_truth(4000, 21, plant=False)
    assert truth == {}
    for audit, rule in LINE_RULES:
        assert rule(frame) == set(), audit
    assert rules.tpi_twice(frame) == set()
    assert rules.over_frequency(frame) == set()
    assert rules.tpi_undercoded(frame) == set()
    assert rules.tpi_without_count(frame) == set()
    assert rules.tpi_overcoded(frame) == set()


def test_modifier_25_missing_includes_a_visit_on_its_own_claim(frame, truth):
    """One planted visit sits on a separate claim from the procedure of the same day."""
    procedure_claims = set(frame.loc[rules.is_procedure(frame), "claim_id"])
    visit_claims = {c for c, _ in expected_lines(truth, "modifier-25-missing")}
    assert visit_claims - procedure_claims
    assert visit_claims & procedure_claims


def test_tpi_once_per_session(frame, truth):
    expect = {
        (e["patient_id"], e["date_of_service"]) for e in truth["tpi-once-per-session"]["expect"]
    }
    controls = {
        (e["patient_id"], e["date_of_service"]) for e in truth["tpi-once-per-session"]["controls"]
    }
    assert rules.tpi_twice(frame) == expect
    assert not controls & expect
    # both shapes: two codes on one claim, and two claims on one day
    assert {len(e["claim_ids"]) for e in truth["tpi-once-per-session"]["expect"]} == {1, 2}


def test_frequency_limit(frame, truth):
    expect = truth["frequency-limit"]["expect"]
    assert rules.over_frequency(frame) == {e["patient_id"] for e in expect}
    assert all(e["sessions"] >= 5 for e in expect)
    controls = truth["frequency-limit"]["controls"]
    assert {e["sessions"] for e in controls} == {3, 4}  # the boundary and the two-region patient
    lumbar = frame[frame["cpt"].isin(rules.ESI_LUMBAR)]
    for e in expect:
        dates = lumbar.loc[lumbar["patient_id"] == e["patient_id"], "date_of_service"]
        assert dates.nunique() == e["sessions"]
        assert dates.max() - dates.min() < pd.Timedelta(days=365)


def test_cpm_time_boundary_control(frame, truth):
    minutes = {e["cpm_minutes"] for e in truth["cpm-time"]["controls"] if e["cpt"] == "G3002"}
    assert 30 in minutes
    short = [e for e in truth["cpm-time"]["expect"] if e["cpt"] == "G3002"]
    assert short and all(e["cpm_minutes"] < 30 for e in short)
    assert rules.cpm_short(frame) == {(e["claim_id"], e["line"]) for e in short}


def test_addon_controls_include_split_claims(frame, truth):
    """G3003 on its own claim in the same month as G3002, and 64484 on its own claim the same
    day as 64483, are not errors; G3003 the month after is."""
    codes = {c: set(g) for c, g in frame.groupby("claim_id")["cpt"]}
    control_claims = {e["claim_id"] for e in truth["addon-without-primary"]["controls"]}
    alone = {c for c in control_claims if codes[c] <= {"G3003", "64484"}}
    assert set().union(*(codes[c] for c in alone)) == {"G3003", "64484"}
    planted = {e["cpt"] for e in truth["addon-without-primary"]["expect"]}
    assert planted == {"64484", "G3003"}


def test_tpi_ratio_pattern(frame, truth):
    tpi = frame[frame["cpt"].isin(["20552", "20553"])]
    share_20552 = (tpi["cpt"] == "20552").groupby(tpi["rendering_provider"]).mean()
    lines = tpi.groupby("rendering_provider").size()
    assert share_20552[LEE] >= 0.85 and lines[LEE] >= 40
    controls = [e["provider"] for e in truth["tpi-ratio"]["controls"] if "provider" in e]
    assert len(controls) >= 5
    for provider in controls:
        assert 0.40 <= share_20552[provider] <= 0.62, provider
        assert lines[provider] >= 20
    rest = tpi[tpi["rendering_provider"] != LEE]
    assert 0.45 <= (rest["cpt"] == "20552").mean() <= 0.58


def test_tpi_muscle_lines(frame, truth):
    entities = [e for e in truth["tpi-ratio"]["expect"] if "claim_id" in e]
    undercoded = {(e["claim_id"], e["line"]) for e in entities if e["cpt"] == "20552"}
    no_count = {(e["claim_id"], e["line"]) for e in entities if e["cpt"] == "20553"}
    assert rules.tpi_undercoded(frame) == undercoded and len(undercoded) >= 3
    assert rules.tpi_without_count(frame) == no_count and len(no_count) >= 3
    assert rules.tpi_overcoded(frame) == set()
    controls = {
        (e["claim_id"], e["line"]) for e in truth["tpi-ratio"]["controls"] if "claim_id" in e
    }
    assert controls and not controls & (undercoded | no_count)
    boundary = {
        (e["cpt"], e["muscles_treated"]) for e in truth["tpi-ratio"]["controls"] if "cpt" in e
    }
    assert {("20552", 2), ("20553", 3)} <= boundary


@pytest.mark.parametrize("n_lines,seed", [(2000, 3), (2500, 7)])
def test_paid_vs_denied_pattern(n_lines, seed):
    frame, truth = generate_with_truth(n_lines, seed)
    assert truth["paid-vs-denied"]["expect"] == [
        {"cpt": "64493", "payer": KEYSTONE, "attribute": "laterality modifier"}
    ]
    lines = frame[(frame["cpt"] == "64493") & (frame["payer"] == KEYSTONE)]
    sided = list_contains(lines["modifiers"], ("RT", "LT", "50"))
    unsided = lines[~sided]
    assert len(unsided) >= 30
    assert (unsided["status"] == "denied").all()
    assert (unsided["denial_codes"] == "CO-4").all()
    paid = lines[sided & lines["status"].isin(["paid", "partially_paid"])]
    assert len(paid) >= 40
    assert not (lines[sided]["status"] == "denied").any()
    # the same physicians and places of service on both sides: the modifier is the difference
    assert set(unsided["rendering_provider"]) <= set(paid["rendering_provider"])
    for control in truth["paid-vs-denied"]["controls"]:
        other = frame[(frame["cpt"] == control["cpt"]) & (frame["payer"] == control["payer"])]
        assert not (
            ~list_contains(other["modifiers"], ("RT", "LT", "50")) & (other["status"] == "denied")
        ).any()


@pytest.mark.parametrize("n_lines,seed", [(2000, 3), (2500, 7), (4000, 12)])
def test_clean_claim_rate_pattern(n_lines, seed):
    frame, truth = generate_with_truth(n_lines, seed)
    rate = rules.clean_claim_rate(frame)
    assert 0.62 <= rate[PATEL] <= 0.82
    for control in truth["clean-claim-rate"]["controls"]:
        assert rate[control["provider"]] >= 0.90, control
    # driven by epidurals: her other claims are about as clean as everyone's
    esi_claims = set(frame.loc[frame["cpt"].isin(rules.ESI), "claim_id"])
    patel = frame[frame["rendering_provider"] == PATEL]
    other = patel[~patel["claim_id"].isin(esi_claims)]
    assert rules.clean_claim_rate(other)[PATEL] >= 0.90


def test_planted_counts_scale_with_size():
    small = generate_with_truth(2000, 3)[1]
    large = generate_with_truth(20_000, 3)[1]
    for audit in ("laterality-missing", "dx-linkage", "cpm-time", "modifier-25-missing"):
        assert len(large[audit]["expect"]) >= 5 * len(small[audit]["expect"]), audit
