"""The messy flavour: messify scrambles the coding of a share of the lines, and nothing else."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from auditkit.claims import LIST_SEP, conform
from auditkit.synth import generate
from auditkit.synth.messy import MESSY_MODIFIERS, messify

CODING = ["modifiers", "diagnosis_codes", "units"]


@pytest.fixture(scope="module")
def base() -> pd.DataFrame:
    return generate(5000, 7)


@pytest.fixture(scope="module")
def messy(base) -> pd.DataFrame:
    return messify(base, seed=7, share=0.85)


def _changed(a: pd.DataFrame, b: pd.DataFrame) -> pd.Series:
    """Per line: does any coding column differ (missing equal to missing)?"""
    out = pd.Series(False, index=a.index)
    for name in CODING:
        left, right = a[name].astype(object), b[name].astype(object)
        same = (left == right).fillna(False).astype(bool) | (left.isna() & right.isna())
        out |= ~same
    return out


def _diagnoses(values: pd.Series) -> set[str]:
    items = values.dropna().astype(str).str.split(LIST_SEP).explode()
    return {d for d in items if d}


def test_same_seed_same_frame(base, messy):
    pd.testing.assert_frame_equal(messify(base, seed=7, share=0.85), messy)


def test_other_seed_other_frame(base, messy):
    assert not messify(base, seed=8, share=0.85)["modifiers"].equals(messy["modifiers"])


def test_generate_messy_is_messify_of_generate(base):
    pd.testing.assert_frame_equal(generate(5000, 7, messy=True), messify(base, 7))


def test_input_left_alone(base):
    before = base.copy()
    messify(base, seed=3)
    pd.testing.assert_frame_equal(base, before)


def test_share_is_respected_roughly(base, messy):
    # lines drawn whose new values happen to equal the old ones count as unchanged, so the
    # changed share sits a little under the drawn share
    share = _changed(base, messy).mean()
    assert 0.8 <= share <= 0.9, share
    assert 0.25 <= _changed(base, messify(base, seed=7, share=0.3)).mean() <= 0.35


def test_share_zero_returns_an_equal_frame(base):
    out = messify(base, seed=7, share=0.0)
    pd.testing.assert_frame_equal(out, base)
    assert out is not base


def test_share_one_changes_nearly_every_line(base):
    assert _changed(base, messify(base, seed=7, share=1.0)).mean() > 0.95


def test_only_coding_columns_change(base, messy):
    others = [c for c in base.columns if c not in CODING]
    pd.testing.assert_frame_equal(messy[others], base[others])
    assert list(messy.columns) == list(base.columns)
    assert messy.index.equals(base.index)
    assert messy.dtypes.equals(base.dtypes)


def test_values_come_from_the_documented_sets(base, messy):
    hit = _changed(base, messy)
    assert messy.loc[hit, "modifiers"].isin(MESSY_MODIFIERS).all()
    # all the modifier cells get used, blank included
    assert set(messy.loc[hit, "modifiers"]) == set(MESSY_MODIFIERS)
    units = messy.loc[hit, "units"].astype("float64")
    assert units.between(1, 6).all() and (units == np.floor(units)).all()
    assert set(units.unique()) == {1.0, 2.0, 3.0, 4.0, 5.0, 6.0}
    # one to three diagnoses each, all from the table's own pool
    counts = messy.loc[hit, "diagnosis_codes"].astype(str).str.split(LIST_SEP).str.len()
    assert counts.between(1, 3).all() and set(counts.unique()) == {1, 2, 3}
    assert _diagnoses(messy["diagnosis_codes"]) <= _diagnoses(base["diagnosis_codes"])


def test_still_canonical(messy):
    conformed = conform(messy)  # raises if a column no longer casts to its declared dtype
    pd.testing.assert_frame_equal(conformed, messy)
    for name in ("modifiers", "diagnosis_codes"):
        # list cells stay joined by "," with no blanks or spaces between the items
        assert not messy[name].str.contains(r"\s|,,|^,|,$", regex=True).any(), name


def test_empty_frame(base):
    empty = base.iloc[0:0]
    pd.testing.assert_frame_equal(messify(empty), empty)


@pytest.mark.parametrize("share", [-0.1, 1.5, float("nan")])
def test_bad_share_raises(base, share):
    with pytest.raises(ValueError, match="share"):
        messify(base, share=share)


def test_messy_export_finds_more_findings_than_lines():
    from auditkit.engine.runner import run_audits

    frame = generate(3000, seed=7, messy=True)
    result = run_audits(frame)
    assert len(result.findings) > len(frame)
