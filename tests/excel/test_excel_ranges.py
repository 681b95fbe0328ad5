"""The library behind the UDFs agrees with the audits' own definitions (no second copy to drift).

Each rate over a range is compared with what the audit engine computes for the same data as
claim lines, on random data with a fixed seed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import auditkit
from auditkit.config import Config
from auditkit.engine.context import Context
from auditkit.errors import InputError
from auditkit.excel import ranges
from auditkit.measures.kpis import clean_claims
from auditkit.reference import carc_info, carcs, procedure_family

ROOT = Path(__file__).parents[2]
RNG = np.random.default_rng(20251027)
N = 3_000
WORDS = {
    "paid": ["Paid", "PD", "paid "],
    "partially_paid": ["Partial"],
    "denied": ["Denied", "DN"],
    "rejected": ["Rejected"],
    "pending": ["Pending", "Open"],
    "voided": ["Void"],
}


def _random_lines() -> tuple[pd.DataFrame, list[str]]:
    status = RNG.choice(list(WORDS), N, p=[0.55, 0.05, 0.15, 0.05, 0.15, 0.05])
    spelled = [WORDS[s][i % len(WORDS[s])] for i, s in enumerate(status)]
    frame = pd.DataFrame(
        {
            "claim_id": [f"C{i}" for i in range(N)],  # one line per claim
            "date_of_service": pd.Timestamp("2025-10-01"),
            "rendering_provider": RNG.choice(["Dr A", "Dr B", "Dr C"], N),
            "payer": "Medicare",
            "cpt": RNG.choice(["20552", "20553", "64483", "99213"], N),
            "status": status,
            "claim_frequency": RNG.choice([1, 1, 1, 7, 8], N),
            "charge": RNG.integers(50, 900, N).astype(float),
        }
    )
    frame.loc[RNG.random(N) < 0.05, "status"] = None
    spelled = [None if pd.isna(s) else w for s, w in zip(frame["status"], spelled, strict=True)]
    return frame, spelled


LINES, SPELLED = _random_lines()
RESULT = auditkit.run_audits(LINES, select=["clean-claim-rate"])


def test_clean_rate_is_the_audits_definition():
    rate = ranges.clean_rate([[s] for s in SPELLED], [[f] for f in LINES["claim_frequency"]])
    assert rate.value == pytest.approx(RESULT.summary["clean_claim_rate"])
    assert rate.total == RESULT.summary["claims_rated"]


def test_clean_rate_per_provider_is_the_audits_table():
    context = Context(auditkit.claims.conform(LINES), Config())
    claims = clean_claims(context).claims
    for provider, group in claims[claims["counted"]].groupby("provider"):
        rate = ranges.clean_rate(
            SPELLED, LINES["claim_frequency"], LINES["rendering_provider"], provider
        )
        assert rate.value == pytest.approx(group["clean"].mean()), provider


def test_denial_rate_is_the_summarys():
    lines = ranges.denial_rate(SPELLED)
    dollars = ranges.denial_rate(SPELLED, LINES["charge"])
    assert lines.value == pytest.approx(RESULT.summary["denial_rate"])
    assert dollars.value == pytest.approx(RESULT.summary["denial_rate_dollars"])


def test_tpi_mix_is_the_summarys():
    # tpi lines leave out rejected and voided lines; the range function counts what it is given
    kept = ~LINES["status"].isin(["rejected", "voided"])
    rate = ranges.tpi_mix(LINES.loc[kept, "cpt"])
    assert rate.value == pytest.approx(RESULT.summary["tpi_20553_share"])


def test_cpm_unit_boundaries():
    minutes = [0, 29, 29.9, 30, 44.9, 45, 59, 60, 90]
    units = ranges.cpm_units(minutes)
    assert units["G3002"].tolist() == [0, 0, 0, 1, 1, 1, 1, 1, 1]
    assert units["G3003"].tolist() == [0, 0, 0, 0, 0, 1, 1, 2, 4]
    assert ranges.cpm_codes(60) == [("G3002", 1), ("G3003", 2)]
    assert ranges.cpm_codes(10) == []


def test_carc_lookup_is_carc_info():
    reasons = carcs()["code"]
    groups = (["CO", "PR", "OA"] * len(reasons))[: len(reasons)]
    codes = [f"{group}-{code}" for group, code in zip(groups, reasons, strict=True)]
    table = ranges.carc_lookup([[c] for c in codes] + [["197"], [197.0]])
    for code, row in zip([*codes, "197", "197"], table.itertuples(index=False), strict=True):
        info = carc_info(code)
        assert (row.code, row.meaning, row.root_cause) == (
            info["code"],
            info["meaning"],
            info["root_cause"],
        )
        assert (row.group if row.group is not pd.NA else None) == info["group"]


def test_families_are_procedure_family():
    codes = ["20552", "64483", "64493", "G3002", "99213", "0228T", "12345", "99999"]
    assert (
        ranges.families([[c] for c in codes]).tolist()
        == procedure_family(pd.Series(codes)).tolist()
    )


def test_cells_accept_what_xlwings_passes():
    assert ranges.cells(None).tolist() == []
    assert ranges.cells(5).tolist() == [5]
    assert ranges.cells([1, 2]).tolist() == [1, 2]
    assert ranges.cells([[1, 2], [3, 4]]).tolist() == [1, 2, 3, 4]  # row by row
    assert ranges.shape_of([[1, 2], [3, 4], [5, 6]]) == (3, 2)
    assert ranges.shape_of([1, 2]) == (2, 1)


def test_lines_from_grid_reads_like_load():
    import csv

    sample = ROOT / "sample_exports" / "medirev_charges.csv"
    rows = list(csv.reader(sample.open(encoding="cp1252")))
    from_grid = ranges.lines_from_grid(rows).frame
    from_file = auditkit.load(sample).frame
    columns = [c for c in from_file.columns if c != "source_file"]
    pd.testing.assert_frame_equal(from_grid[columns], from_file[columns])


def test_lines_from_grid_wants_a_table():
    with pytest.raises(InputError, match="header row"):
        ranges.lines_from_grid(["20552", "20553"])
