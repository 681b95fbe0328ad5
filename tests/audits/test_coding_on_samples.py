"""On the synthetic sample data, each coding-rule audit finds exactly what was planted for it.

The data comes from auditkit.synth.generate_with_truth at the sizes and seeds of the bundled
sample exports (restricted to the columns each export carries) and at two other sizes and seeds,
so the tests do not depend on the ingest layer or on the bundled files being regenerated; the
last test reads the bundled export files themselves.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import auditkit
from auditkit import synth
from auditkit.engine.runner import run_audits
from auditkit.synth import plant, samples

#: The coding-rule audits: every planted audit after the three headline ones.
HEADLINE = ("tpi-ratio", "paid-vs-denied", "clean-claim-rate")
CODING_AUDITS = tuple(a for a in plant.AUDIT_IDS if a not in HEADLINE)
#: (flavour whose columns are kept, lines, seed): the bundled samples, then two other draws.
DRAWS = [(f, *samples.BUNDLED[f]) for f in sorted(samples.BUNDLED)] + [
    ("medirev", 2000, 3),
    ("clinicore", 5000, 8),
]


@pytest.fixture(scope="module", params=DRAWS, ids=[f"{f}-{n}-{s}" for f, n, s in DRAWS])
def sample(request: pytest.FixtureRequest) -> tuple[str, pd.DataFrame, dict[str, Any]]:
    flavour, n_lines, seed = request.param
    frame, truth = synth.generate_with_truth(n_lines, seed)
    columns = [c for c in frame.columns if c in synth.FLAVOURS[flavour].columns]
    result = run_audits(frame[columns], select=list(CODING_AUDITS))
    return f"{flavour}-{n_lines}-{seed}", result.findings, truth


def hits(findings: pd.DataFrame, audit: str, entity: dict[str, Any]) -> pd.DataFrame:
    """Findings of ``audit`` about ``entity``: a line (claim_id, line, cpt), a session or a
    patient (claim_ids: any of its claims), or a code at a payer (cpt, payer)."""
    mine = findings[findings["audit"] == audit]
    if "claim_ids" in entity:
        mask = mine["claim_id"].isin([str(c) for c in entity["claim_ids"]])
    elif "claim_id" in entity:
        mask = (mine["claim_id"] == str(entity["claim_id"])) & (mine["line"] == entity["line"])
        mask &= mine["cpt"] == entity["cpt"]
    else:
        mask = (mine["scope"] == "code") & (mine["cpt"] == entity["cpt"])
        mask &= mine["payer"] == entity["payer"]
    return mine[mask]


@pytest.mark.parametrize("audit", CODING_AUDITS)
def test_planted_cases_are_found(sample, audit: str) -> None:
    name, findings, truth = sample
    expected = truth[audit]["expect"]
    assert expected, f"{name}: nothing planted for {audit}"
    missed = [e for e in expected if hits(findings, audit, e).empty]
    assert not missed, f"{name}: {audit} missed {missed}"


@pytest.mark.parametrize("audit", CODING_AUDITS)
def test_controls_are_not_flagged(sample, audit: str) -> None:
    name, findings, truth = sample
    controls = truth[audit]["controls"]
    assert controls, f"{name}: no controls for {audit}"
    flagged = [c for c in controls if not hits(findings, audit, c).empty]
    assert not flagged, f"{name}: {audit} flagged controls {flagged}"


@pytest.mark.parametrize("audit", CODING_AUDITS)
def test_nothing_outside_the_truth(sample, audit: str) -> None:
    """The base data is clean for every rule: each finding is about a planted entity."""
    name, findings, truth = sample
    mine = findings[findings["audit"] == audit]
    explained = pd.Series(False, index=mine.index)
    for entity in truth[audit]["expect"]:
        explained |= mine.index.isin(hits(findings, audit, entity).index)
    extra = mine.loc[~explained, ["severity", "claim_id", "line", "cpt", "payer", "message"]]
    assert extra.empty, f"{name}: {audit} findings not in the truth:\n{extra.to_string()}"


def test_findings_say_what_was_planted(sample) -> None:
    """Severities, evidence and dollars follow the planted cause."""
    name, findings, truth = sample
    for entity in truth["modifier-payer-inconsistent"]["expect"]:
        (finding,) = hits(findings, "modifier-payer-inconsistent", entity).to_dict("records")
        assert finding["evidence"]["modifier"] == entity["modifier"], name
        assert finding["evidence"]["others_rate"] == 1.0 and finding["dollars_at_risk"] > 0
    for entity in truth["bilateral-style-inconsistent"]["expect"]:
        (finding,) = hits(findings, "bilateral-style-inconsistent", entity).to_dict("records")
        if "payer" not in entity:  # 50 on a code that does not allow it
            assert finding["severity"] == "high" and "does not allow" in finding["message"]
        elif entity["payer"] == "Medicare":  # the style comes from the reference file
            assert finding["severity"] == "high" and "(configured)" in finding["message"], name
        else:  # the payer's usual style, from its own data
            assert finding["severity"] == "medium", name
            assert f"{entity['payer']} takes an RT line and an LT line" in finding["message"]
    units = findings[findings["audit"] == "units-exceed-limit"]
    assert (units["evidence"].map(lambda e: e["excess_units"]) >= 1).all(), name
    cpm = findings[findings["audit"] == "cpm-time"]
    missed = cpm[cpm["message"].str.contains("no G3002 was billed")]
    assert len(missed) >= 2 and (missed["dollars_at_risk"] > 0).all(), name


SAMPLE_DIR = Path(__file__).resolve().parents[2] / "sample_exports"
PLANTED = sorted((SAMPLE_DIR / "truth").glob("*.planted.json"))


@pytest.mark.parametrize("planted", PLANTED, ids=[p.name.split(".")[0] for p in PLANTED])
def test_bundled_exports_end_to_end(planted: Path) -> None:
    """The same checks on the bundled export files, read by auditkit.load. The files are
    regenerated with sample_exports/generate.py whenever the generator changes."""
    stem = planted.name.split(".")[0]
    (export,) = [p for p in SAMPLE_DIR.glob(f"{stem}.*") if p.suffix in {".csv", ".xlsx", ".txt"}]
    truth = json.loads(planted.read_text(encoding="utf-8"))
    findings = run_audits(auditkit.load([export]), select=list(CODING_AUDITS)).findings
    for audit in CODING_AUDITS:
        assert audit in truth, f"{planted.name} predates {audit}: regenerate the samples"
        missed = [e for e in truth[audit]["expect"] if hits(findings, audit, e).empty]
        flagged = [c for c in truth[audit]["controls"] if not hits(findings, audit, c).empty]
        assert not missed and not flagged, (
            f"{export.name} {audit}: missed {missed}, flagged {flagged}"
        )
