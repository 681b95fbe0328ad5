"""The small statistics used for "below the rest of the group"."""

from __future__ import annotations

import math

import numpy as np
import pytest

from auditkit.engine.stats import normal_cdf, two_proportion_z, wilson_interval


def test_normal_cdf_known_values() -> None:
    got = normal_cdf([0.0, 1.959964, -1.644854, np.inf, -np.inf, np.nan])
    assert got[0] == pytest.approx(0.5)
    assert got[1] == pytest.approx(0.975, abs=1e-6)
    assert got[2] == pytest.approx(0.05, abs=1e-6)
    assert got[3] == 1.0 and got[4] == 0.0 and np.isnan(got[5])


def test_two_proportion_z_matches_the_textbook_formula() -> None:
    # 6 of 30 against 31 of 60: pooled p = 37/90.
    z, p_lower, p_two = two_proportion_z([6], [30], [31], [60])
    pooled = 37 / 90
    expected = (6 / 30 - 31 / 60) / math.sqrt(pooled * (1 - pooled) * (1 / 30 + 1 / 60))
    assert z[0] == pytest.approx(expected)
    assert p_lower[0] == pytest.approx(0.5 * math.erfc(-expected / math.sqrt(2)))
    assert p_two[0] == pytest.approx(2 * p_lower[0])
    # The other direction: a higher rate is not "below".
    _, p_lower, _ = two_proportion_z([31], [60], [6], [30])
    assert p_lower[0] > 0.99


def test_two_proportion_z_untestable_cases_are_not_significant() -> None:
    z, p_lower, p_two = two_proportion_z([0, 5, 3], [0, 5, 10], [4, 10, 0], [10, 10, 0])
    assert np.isnan(z).all()
    assert (p_lower == 1.0).all() and (p_two == 1.0).all()


def test_wilson_interval() -> None:
    low, high = wilson_interval([0, 50, 5], [10, 100, 0])
    assert low[0] == 0.0 and high[0] == pytest.approx(0.2775, abs=1e-4)
    assert low[1] == pytest.approx(0.4038, abs=1e-4) and high[1] == pytest.approx(0.5962, abs=1e-4)
    assert np.isnan(low[2]) and np.isnan(high[2])
