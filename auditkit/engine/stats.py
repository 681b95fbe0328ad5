"""Small statistics for "is this rate really below the rest of the group?" (no scipy needed)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

_SQRT2 = math.sqrt(2.0)
# math.erfc applied element by element: the arrays here hold one value per provider or per
# attribute (hundreds at most), never one per claim line.
_erfc = np.frompyfunc(math.erfc, 1, 1)


def normal_cdf(z: np.ndarray | pd.Series | float) -> np.ndarray:
    """Standard normal cumulative probability of each ``z`` (NaN stays NaN)."""
    arr = np.asarray(z, dtype="float64")
    out = np.full(arr.shape, np.nan)
    ok = np.isfinite(arr)
    out[ok] = 0.5 * _erfc(-arr[ok] / _SQRT2).astype("float64")
    out[np.isposinf(arr)] = 1.0
    out[np.isneginf(arr)] = 0.0
    return out


def two_proportion_z(x1, n1, x2, n2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pooled two-proportion z-test of rate 1 (x1 of n1) against rate 2 (x2 of n2).

    Returns ``(z, p_lower, p_two_sided)``: ``p_lower`` is the one-sided p-value for "rate 1 is
    below rate 2". Where a test is not possible (an empty side, or both rates 0 or both 1) z is
    NaN and both p-values are 1, so nothing is called significant by accident.
    """
    x1, n1, x2, n2 = (np.asarray(a, dtype="float64") for a in (x1, n1, x2, n2))
    with np.errstate(divide="ignore", invalid="ignore"):
        p1 = x1 / n1
        p2 = x2 / n2
        pooled = (x1 + x2) / (n1 + n2)
        se = np.sqrt(pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2))
        z = (p1 - p2) / se
    z = np.where((n1 > 0) & (n2 > 0) & (se > 0), z, np.nan)
    p_lower = np.where(np.isnan(z), 1.0, normal_cdf(z))
    p_two = np.where(np.isnan(z), 1.0, 2.0 * normal_cdf(-np.abs(z)))
    return z, p_lower, np.minimum(p_two, 1.0)


def wilson_interval(x, n, z: float = 1.96) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for x successes out of n (NaN where n is 0)."""
    x = np.asarray(x, dtype="float64")
    n = np.asarray(n, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / n
        denom = 1.0 + z * z / n
        centre = (p + z * z / (2.0 * n)) / denom
        half = z * np.sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n)) / denom
    low = np.where(n > 0, np.clip(centre - half, 0.0, 1.0), np.nan)
    high = np.where(n > 0, np.clip(centre + half, 0.0, 1.0), np.nan)
    return low, high
