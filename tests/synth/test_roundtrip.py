"""Each bundled export, read by auditkit.ingest.load, gives back the table it was written from.

This is the contract between the sample generator and the loader: headers, encodings, date and
money formats, status words, list cells and the practiflow title and total rows must all be
understood. Only the columns an export carries are compared (see Flavour.columns).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from auditkit.claims import conform
from auditkit.synth import FLAVOURS, read_truth
from auditkit.synth.samples import sample_paths

SAMPLES = Path(__file__).resolve().parents[2] / "sample_exports"


@pytest.mark.parametrize("flavour", list(FLAVOURS))
def test_load_gives_back_the_truth(flavour):
    from auditkit.ingest import load  # fails (not skips) until the loader exists

    paths = sample_paths(flavour, SAMPLES)
    result = load(paths["export"])
    frame = getattr(result, "frame", result)
    truth = read_truth(paths["truth"])
    columns = list(truth.columns)
    missing = [c for c in columns if c not in frame.columns]
    assert not missing, f"{flavour}: loader did not map {missing}"
    loaded = conform(frame.drop(columns=["source_file", "source_row"], errors="ignore")[columns])
    pd.testing.assert_frame_equal(
        loaded.reset_index(drop=True), truth, check_exact=False, atol=0.005, rtol=0
    )
