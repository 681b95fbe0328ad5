"""On the synthetic samples, each audit finds what the generator planted for it and nothing else.

For every sample of sample_truth.SAMPLES (draws of auditkit.synth.generate_with_truth, the
bundled export files read by auditkit.load, a clinicore export written afresh) and every audit
checked on it (all of auditkit.synth.AUDIT_IDS; the coding audits only on the two extra draws):
every planted case is found (naming the planted cause where the truth gives one), no control is
flagged, and no finding is about anything outside the truth. Audit-specific checks of the
evidence follow; the last tests show the one run per sample gives the same findings as the
audit families run separately, with or without the side tables.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sample_truth import (
    AUDIT_IDS,
    CODING_AUDITS,
    HEADLINE,
    REVENUE,
    SAMPLE_DIR,
    SAMPLES,
    explained_by,
    hits,
    names_the_cause,
    sample,
)

from auditkit.reference import procedure_family
from auditkit.synth import revenue, samples

CASES = [(name, audit) for name, audits in SAMPLES.items() for audit in audits]


def _ids(cases: list[tuple[str, str]]) -> list[str]:
    return [f"{name}-{what}" for name, what in cases]


#: Fewest controls each audit's truth must have (default 1).
MIN_CONTROLS = dict.fromkeys(REVENUE, 5)


def _epidurals(mine: pd.DataFrame) -> np.ndarray:
    return (procedure_family(mine["cpt"].astype("string")) == "epidural").to_numpy()


#: audit -> which of its findings are explained beyond its truth. pre-submission-edits may also
#: flag epidural codes: Priya Patel, MD's reworked epidural claims are the clean-claim-rate
#: pattern, neither expected nor controls.
ALSO_EXPLAINED: dict[str, Callable[[pd.DataFrame], np.ndarray]] = {
    "pre-submission-edits": _epidurals,
}


@pytest.mark.parametrize(("name", "audit"), CASES, ids=_ids(CASES))
def test_planted_cases_are_found(name: str, audit: str) -> None:
    s = sample(name)
    expected = s.entry(audit)["expect"]
    assert expected, f"{name}: nothing planted for {audit}"
    found = {i: hits(s.findings, audit, e) for i, e in enumerate(expected)}
    missed = [e for i, e in enumerate(expected) if found[i].empty]
    unnamed = [e for i, e in enumerate(expected) if not names_the_cause(found[i], e)]
    assert not missed, f"{name}: {audit} missed {missed}"
    assert not unnamed, f"{name}: {audit} does not name the planted cause of {unnamed}"


@pytest.mark.parametrize(("name", "audit"), CASES, ids=_ids(CASES))
def test_controls_are_not_flagged(name: str, audit: str) -> None:
    s = sample(name)
    controls = s.entry(audit)["controls"]
    assert len(controls) >= MIN_CONTROLS.get(audit, 1), f"{name}: too few controls for {audit}"
    flagged = [c for c in controls if not hits(s.findings, audit, c).empty]
    assert not flagged, f"{name}: {audit} flagged controls {flagged}"


@pytest.mark.parametrize(("name", "audit"), CASES, ids=_ids(CASES))
def test_nothing_outside_the_truth(name: str, audit: str) -> None:
    """The base data is clean for every audit: each finding is about a planted entity."""
    s = sample(name)
    mine = s.findings[s.findings["audit"] == audit]
    explained = explained_by(s.findings, audit, s.entry(audit)["expect"])
    if audit in ALSO_EXPLAINED:
        explained |= ALSO_EXPLAINED[audit](mine)
    columns = ["severity", "scope", "provider", "payer", "claim_id", "line", "cpt", "message"]
    extra = mine.loc[~explained, columns]
    assert extra.empty, f"{name}: {audit} findings not in the truth:\n{extra.to_string()}"


# --------------------------------------------------------------------------------------------
# what the findings say: audit-specific checks of the evidence, severities and dollars

#: How the truth names an attribute -> the label paid-vs-denied reports for it.
ATTRIBUTE_LABELS = {"laterality modifier": "RT/LT or 50"}

Check = Callable[[pd.DataFrame, list[dict[str, Any]], str], None]
#: audit -> check(the audit's findings, its planted entities, sample name)
EVIDENCE: dict[str, Check] = {}


def _evidence(audit: str) -> Callable[[Check], Check]:
    def register(check: Check) -> Check:
        EVIDENCE[audit] = check
        return check

    return register


@_evidence("paid-vs-denied")
def _paid_vs_denied(mine: pd.DataFrame, expect: list[dict[str, Any]], name: str) -> None:
    """The evidence names the planted attribute, paid almost always and denied almost never."""
    for entity in expect:
        finding = hits(mine, "paid-vs-denied", entity).iloc[0]
        first = finding["evidence"]["attributes"][0]
        assert first["attribute"] == ATTRIBUTE_LABELS[entity["attribute"]], name
        assert first["paid_share"] > 0.9 and first["denied_share"] < 0.1, name


@_evidence("clean-claim-rate")
def _clean_claim_rate(mine: pd.DataFrame, expect: list[dict[str, Any]], name: str) -> None:
    """The first driver is the planted procedure family."""
    for entity in expect:
        finding = hits(mine, "clean-claim-rate", entity).iloc[0]
        assert finding["evidence"]["drivers"][0]["family"] == entity["family"], name


@_evidence("modifier-payer-inconsistent")
def _modifier_payer(mine: pd.DataFrame, expect: list[dict[str, Any]], name: str) -> None:
    for entity in expect:
        (finding,) = hits(mine, "modifier-payer-inconsistent", entity).to_dict("records")
        assert finding["evidence"]["modifier"] == entity["modifier"], name
        assert finding["evidence"]["others_rate"] == 1.0 and finding["dollars_at_risk"] > 0, name


@_evidence("bilateral-style-inconsistent")
def _bilateral_style(mine: pd.DataFrame, expect: list[dict[str, Any]], name: str) -> None:
    for entity in expect:
        (finding,) = hits(mine, "bilateral-style-inconsistent", entity).to_dict("records")
        if "payer" not in entity:  # 50 on a code that does not allow it
            assert finding["severity"] == "high" and "does not allow" in finding["message"], name
        elif entity["payer"] == "Medicare":  # the style comes from the reference file
            assert finding["severity"] == "high" and "(configured)" in finding["message"], name
        else:  # the payer's usual style, from its own data
            assert finding["severity"] == "medium", name
            assert f"{entity['payer']} takes an RT line and an LT line" in finding["message"]


@_evidence("units-exceed-limit")
def _units(mine: pd.DataFrame, expect: list[dict[str, Any]], name: str) -> None:
    assert (mine["evidence"].map(lambda e: e["excess_units"]) >= 1).all(), name


@_evidence("cpm-time")
def _cpm_time(mine: pd.DataFrame, expect: list[dict[str, Any]], name: str) -> None:
    missed = mine[mine["message"].str.contains("no G3002 was billed")]
    assert len(missed) >= 2 and (missed["dollars_at_risk"] > 0).all(), name


@_evidence("underpayment")
def _underpayment(mine: pd.DataFrame, expect: list[dict[str, Any]], name: str) -> None:
    """The recoverable dollars by payer are the planted shortfalls, all at the planted payer."""
    planted = sum(e["shortfall"] for e in expect)
    assert set(mine["payer"]) == {revenue.UNDERPAYING_PAYER}, name
    assert mine["dollars_at_risk"].sum() == pytest.approx(planted, abs=0.05 * len(mine)), name
    assert mine["message"].str.contains(f"{revenue.UNDERPAYING_PAYER} in all:").all(), name


EVIDENCE_CASES = [(name, audit) for name, audit in CASES if audit in EVIDENCE]


@pytest.mark.parametrize(("name", "audit"), EVIDENCE_CASES, ids=_ids(EVIDENCE_CASES))
def test_findings_say_what_was_planted(name: str, audit: str) -> None:
    s = sample(name)
    mine = s.findings[s.findings["audit"] == audit]
    EVIDENCE[audit](mine, s.entry(audit)["expect"], name)


# --------------------------------------------------------------------------------------------
# the samples and the runs themselves


def test_every_planted_audit_and_bundled_export_is_checked() -> None:
    """Each planted audit is checked on every bundled sample, and every planted truth file in
    sample_exports/truth belongs to a bundled sample."""
    bundled = [samples.sample_paths(f, SAMPLE_DIR) for f in sorted(samples.BUNDLED)]
    assert sorted((SAMPLE_DIR / "truth").glob("*.planted.json")) == sorted(
        p["planted"] for p in bundled
    )
    for name in [p["export"].name for p in bundled]:
        assert SAMPLES[name] == AUDIT_IDS
    assert set(EVIDENCE) | set(ALSO_EXPLAINED) <= set(AUDIT_IDS)


#: The audit families run on their own (select, with the side tables), as the former
#: test_on_samples.py, test_coding_on_samples.py and test_revenue_on_samples.py ran them.
SEPARATE_RUNS: dict[str, tuple[tuple[str, ...], bool]] = {
    "headline": (HEADLINE, False),
    "coding": (CODING_AUDITS, False),
    "headline+revenue": (HEADLINE + REVENUE, True),
    "revenue": (REVENUE, True),
}
RUN_CASES = [
    (name, run)
    for name, audits in SAMPLES.items()
    for run, (select, _) in SEPARATE_RUNS.items()
    if set(select) <= set(audits)
]


@pytest.mark.parametrize(("name", "run"), RUN_CASES, ids=_ids(RUN_CASES))
def test_separate_runs_give_the_same_findings(name: str, run: str) -> None:
    """An audit's findings do not depend on which other audits run, nor on side tables it does
    not read: the checks above on the one run hold for each family run on its own. (Only
    ``counted`` may differ: whether a line's money is counted in a finding depends on the other
    findings about that line in the same run.)"""
    s = sample(name)
    select, side_tables = SEPARATE_RUNS[run]
    alone = s.run(select, side_tables=side_tables).drop(columns="counted").reset_index(drop=True)
    together = s.findings[s.findings["audit"].isin(select)].drop(columns="counted")
    together = together.reset_index(drop=True)
    pd.testing.assert_frame_equal(alone, together, check_dtype=False)
