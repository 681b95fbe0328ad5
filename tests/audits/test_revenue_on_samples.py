"""On the synthetic samples, each revenue audit finds what auditkit.synth.revenue planted and
nothing on the controls; the headline audits still pass after the revenue planting.

The data comes straight from auditkit.synth.generate_with_truth at the bundled sizes and seeds,
restricted to the columns each export carries, with the authorization export and the fee
schedule made by auditkit.synth.revenue (the same tables sample_exports/generate.py writes)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from auditkit import synth
from auditkit.engine.runner import run_audits
from auditkit.reference import procedure_family
from auditkit.synth import revenue, samples

REVENUE = revenue.REVENUE_AUDIT_IDS
HEADLINE = ("tpi-ratio", "paid-vs-denied", "clean-claim-rate")


@pytest.fixture(scope="module", params=sorted(samples.BUNDLED))
def sample(request: pytest.FixtureRequest) -> tuple[str, pd.DataFrame, pd.DataFrame, dict]:
    flavour = request.param
    n_lines, seed = samples.BUNDLED[flavour]
    frame, truth = synth.generate_with_truth(n_lines, seed)
    columns = [c for c in frame.columns if c in synth.FLAVOURS[flavour].columns]
    result = run_audits(
        frame[columns],
        select=[*HEADLINE, *REVENUE],
        auths=revenue.authorization_export(frame, truth),
        fee_schedule=revenue.fee_schedule(),
    )
    return flavour, frame, result.findings, truth


def hits(findings: pd.DataFrame, audit: str, entity: dict[str, Any]) -> pd.DataFrame:
    """Findings of ``audit`` about ``entity`` (see sample_exports/README.md for the shapes)."""
    mine = findings[findings["audit"] == audit]
    evidence = mine["evidence"]
    if "scope" in entity:
        mask = mine["scope"] == entity["scope"]
    elif "line" in entity:
        mask = (mine["scope"] == "line") & (mine["claim_id"] == entity["claim_id"])
        mask &= (mine["line"] == entity["line"]) & (mine["cpt"] == entity["cpt"])
    elif "claim_id" in entity:
        mask = (mine["scope"] == "claim") & (mine["claim_id"] == entity["claim_id"])
    elif "provider" in entity:
        mask = (mine["scope"] == "provider") & (mine["provider"] == entity["provider"])
        mask &= (mine["cpt"] == entity["cpt"]) & (mine["payer"] == entity["payer"])
    elif "family" in entity:
        mask = (mine["scope"] == "payer") & (mine["payer"] == entity["payer"])
        mask &= evidence.map(lambda e: e.get("family")) == entity["family"]
    elif "cpt" in entity and "payer" in entity:
        mask = (mine["scope"] == "code") & (mine["cpt"] == entity["cpt"])
        mask &= mine["payer"] == entity["payer"]
    elif "cpt" in entity:
        mask = (mine["scope"] == "code") & (mine["cpt"] == entity["cpt"])
    else:
        mask = (mine["scope"] == "payer") & (mine["payer"] == entity["payer"])
    return mine[mask.astype(bool)]


def _names_the_cause(found: pd.DataFrame, entity: dict[str, Any]) -> bool:
    """The finding says what was planted: the denial cause or the authorization problem."""
    for key in ("cause", "problem"):
        named = [e.get(key) for e in found["evidence"]]
        if key in entity and entity[key] not in named:
            return False
    return True


@pytest.mark.parametrize("audit", REVENUE)
def test_planted_patterns_are_found(sample, audit: str) -> None:
    flavour, _, findings, truth = sample
    expected = truth[audit]["expect"]
    assert expected, f"{flavour}: nothing planted for {audit}"
    missed = [e for e in expected if not _names_the_cause(hits(findings, audit, e), e)]
    missed += [e for e in expected if hits(findings, audit, e).empty]
    assert not missed, f"{flavour}: {audit} missed {missed}"


@pytest.mark.parametrize("audit", REVENUE)
def test_nothing_on_the_controls(sample, audit: str) -> None:
    flavour, _, findings, truth = sample
    controls = truth[audit]["controls"]
    assert len(controls) >= 5, f"{flavour}: too few controls for {audit}"
    flagged = [c for c in controls if not hits(findings, audit, c).empty]
    assert not flagged, f"{flavour}: {audit} flagged controls {flagged}"


@pytest.mark.parametrize("audit", REVENUE)
def test_no_finding_outside_the_truth(sample, audit: str) -> None:
    """Every finding is about a planted entity. pre-submission-edits may also flag epidural
    codes: Priya Patel, MD's reworked epidural claims are the clean-claim-rate pattern."""
    flavour, frame, findings, truth = sample
    mine = findings[findings["audit"] == audit]
    explained = pd.Series(False, index=mine.index)
    for entity in truth[audit]["expect"]:
        explained |= mine.index.isin(hits(findings, audit, entity).index)
    if audit == "pre-submission-edits":
        family = procedure_family(mine["cpt"].astype("string"))
        explained |= (family == "epidural").to_numpy()
    extra = mine.loc[~explained, ["severity", "scope", "provider", "payer", "cpt", "message"]]
    assert extra.empty, f"{flavour}: {audit} findings not in the truth:\n{extra.to_string()}"


@pytest.mark.parametrize("audit", HEADLINE)
def test_headline_audits_still_find_exactly_their_truth(sample, audit: str) -> None:
    """The revenue planting leaves the headline audits' patterns and controls intact."""
    from test_on_samples import _hits  # the headline audits' own matching

    flavour, _, findings, truth = sample
    missed = [e for e in truth[audit]["expect"] if _hits(findings, audit, e).empty]
    flagged = [c for c in truth[audit]["controls"] if not _hits(findings, audit, c).empty]
    mine = findings[findings["audit"] == audit]
    explained = pd.Series(False, index=mine.index)
    for entity in truth[audit]["expect"]:
        explained |= mine.index.isin(_hits(findings, audit, entity).index)
    assert not missed and not flagged and explained.all(), (
        f"{flavour} {audit}: missed {missed}, flagged {flagged}, "
        f"extra {mine.loc[~explained, 'message'].tolist()}"
    )


def test_underpayment_dollars_by_payer(sample) -> None:
    """The recoverable dollars by payer are the planted shortfalls, all at the planted payer."""
    flavour, _, findings, truth = sample
    under = findings[findings["audit"] == "underpayment"]
    planted = sum(e["shortfall"] for e in truth["underpayment"]["expect"])
    assert set(under["payer"]) == {revenue.UNDERPAYING_PAYER}, flavour
    assert under["dollars_at_risk"].sum() == pytest.approx(planted, abs=0.05 * len(under))
    assert under["message"].str.contains(f"{revenue.UNDERPAYING_PAYER} in all:").all()


def test_written_files_end_to_end(tmp_path) -> None:
    """The full path a user takes: the export, the authorization export and the fee schedule as
    sample_exports/generate.py writes them, read by auditkit.load and the side-table readers.
    (The bundled files are regenerated by the lead; this writes fresh ones to tmp_path.)"""
    import json

    import auditkit
    from auditkit.ingest.side_tables import read_authorizations, read_fee_schedule

    flavour = "clinicore"  # UTF-16 text: the hardest of the three to read back
    paths = samples.write_sample(flavour, tmp_path)
    side = revenue.write_side_tables(flavour, tmp_path)
    truth = json.loads(paths["planted"].read_text(encoding="utf-8"))
    findings = run_audits(
        auditkit.load([paths["export"]]),
        select=list(REVENUE),
        auths=read_authorizations(side["auths"]),
        fee_schedule=read_fee_schedule(side["fee_schedule"]),
    ).findings
    for audit in REVENUE:
        missed = [e for e in truth[audit]["expect"] if hits(findings, audit, e).empty]
        flagged = [c for c in truth[audit]["controls"] if not hits(findings, audit, c).empty]
        assert not missed and not flagged, f"{audit}: missed {missed}, flagged {flagged}"
