"""On the synthetic sample data, each audit finds what was planted for it and nothing on the
controls. Most tests take the data straight from auditkit.synth.generate_with_truth with the
sizes and seeds of the bundled sample exports, restricted to the columns each export carries, so
they do not depend on the ingest layer; the last one reads the bundled export files themselves."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import auditkit
from auditkit import synth
from auditkit.engine.runner import run_audits
from auditkit.synth import samples

MY_AUDITS = ("tpi-ratio", "paid-vs-denied", "clean-claim-rate")
#: How the truth names an attribute -> the label paid-vs-denied reports for it.
ATTRIBUTE_LABELS = {"laterality modifier": "RT/LT or 50"}


@pytest.fixture(scope="module", params=sorted(samples.BUNDLED))
def sample(request: pytest.FixtureRequest) -> tuple[str, pd.DataFrame, dict[str, Any]]:
    flavour = request.param
    n_lines, seed = samples.BUNDLED[flavour]
    frame, truth = synth.generate_with_truth(n_lines, seed)
    columns = [c for c in frame.columns if c in synth.FLAVOURS[flavour].columns]
    result = run_audits(frame[columns], select=list(MY_AUDITS))
    return flavour, result.findings, truth


def _is_line(entity: dict[str, Any]) -> bool:
    return "claim_id" in entity


def _hits(findings: pd.DataFrame, audit: str, entity: dict[str, Any]) -> pd.DataFrame:
    """Findings of ``audit`` about ``entity`` (a line, a provider or a code at a payer)."""
    mine = findings[findings["audit"] == audit]
    if _is_line(entity):
        mask = (mine["scope"] == "line") & (mine["claim_id"] == str(entity["claim_id"]))
        mask &= mine["line"] == entity["line"]
        if "cpt" in entity:
            mask &= mine["cpt"] == entity["cpt"]
    elif "provider" in entity:
        mask = (mine["scope"] == "provider") & (mine["provider"] == entity["provider"])
    else:
        mask = (mine["scope"] == "code") & (mine["cpt"] == entity["cpt"])
        mask &= mine["payer"] == entity["payer"]
    return mine[mask]


@pytest.mark.parametrize("audit", MY_AUDITS)
def test_planted_patterns_are_found(sample, audit: str) -> None:
    flavour, findings, truth = sample
    expected = truth[audit]["expect"]
    assert expected, f"{flavour}: nothing planted for {audit}"
    missed = [e for e in expected if _hits(findings, audit, e).empty]
    assert not missed, f"{flavour}: {audit} missed {missed}"


@pytest.mark.parametrize("audit", MY_AUDITS)
def test_nothing_on_the_controls(sample, audit: str) -> None:
    flavour, findings, truth = sample
    controls = truth[audit]["controls"]
    assert controls, f"{flavour}: no controls for {audit}"
    flagged = [c for c in controls if not _hits(findings, audit, c).empty]
    assert not flagged, f"{flavour}: {audit} flagged controls {flagged}"


@pytest.mark.parametrize("audit", MY_AUDITS)
def test_no_finding_outside_the_truth(sample, audit: str) -> None:
    """Every finding is about a planted entity: the audits do not invent problems either."""
    flavour, findings, truth = sample
    mine = findings[findings["audit"] == audit]
    explained = pd.Series(False, index=mine.index)
    for entity in truth[audit]["expect"]:
        explained |= mine.index.isin(_hits(findings, audit, entity).index)
    extra = mine.loc[~explained, ["severity", "scope", "provider", "payer", "cpt", "message"]]
    assert extra.empty, f"{flavour}: {audit} findings not in the truth:\n{extra.to_string()}"


def test_findings_name_the_planted_cause(sample) -> None:
    """The evidence names what was planted: the attribute and the procedure family."""
    flavour, findings, truth = sample
    for entity in truth["paid-vs-denied"]["expect"]:
        finding = _hits(findings, "paid-vs-denied", entity).iloc[0]
        first = finding["evidence"]["attributes"][0]
        assert first["attribute"] == ATTRIBUTE_LABELS[entity["attribute"]], flavour
        assert first["paid_share"] > 0.9 and first["denied_share"] < 0.1
    for entity in truth["clean-claim-rate"]["expect"]:
        finding = _hits(findings, "clean-claim-rate", entity).iloc[0]
        assert finding["evidence"]["drivers"][0]["family"] == entity["family"], flavour


SAMPLE_DIR = Path(__file__).resolve().parents[2] / "sample_exports"
PLANTED = sorted((SAMPLE_DIR / "truth").glob("*.planted.json"))


@pytest.mark.parametrize("planted", PLANTED, ids=[p.name.split(".")[0] for p in PLANTED])
def test_bundled_exports_end_to_end(planted: Path) -> None:
    """The same checks on the bundled export files, read by auditkit.load (the full path a user
    takes). The generator tests above do not need the ingest layer; this one does."""
    stem = planted.name.split(".")[0]
    (export,) = [p for p in SAMPLE_DIR.glob(f"{stem}.*") if p.suffix in {".csv", ".xlsx", ".txt"}]
    truth = json.loads(planted.read_text(encoding="utf-8"))
    findings = run_audits(auditkit.load([export]), select=list(MY_AUDITS)).findings
    for audit in MY_AUDITS:
        missed = [e for e in truth[audit]["expect"] if _hits(findings, audit, e).empty]
        flagged = [c for c in truth[audit]["controls"] if not _hits(findings, audit, c).empty]
        assert not missed and not flagged, (
            f"{export.name} {audit}: missed {missed}, flagged {flagged}"
        )
