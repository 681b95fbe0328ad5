"""The statistics of a chart-pull review (issue 20): interval methods against published values and
closed forms, a stratified projection worked by hand, coverage by simulation, and edge cases."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

from auditkit.measures.review_stats import (
    METHOD_TEXT,
    beta_quantile,
    proportion_interval,
    regularized_beta,
    stratified_projection,
    stratified_rate,
    t_cdf,
    t_quantile,
)

Z90 = 1.6448536269514722  # normal quantile at 0.95 (two-sided 90%)
Z95 = 1.959963984540054  # normal quantile at 0.975 (two-sided 95%)


def binom_cdf(x: int, n: int, p: float) -> float:
    """P(X <= x) for X ~ Binomial(n, p), summed term by term (independent of the beta code)."""
    return sum(math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(x + 1))


# --- distribution functions -----------------------------------------------------------------


def test_t_quantile_matches_closed_forms_and_tables() -> None:
    # df = 1 is the Cauchy distribution: t_p = tan(pi (p - 1/2)).
    for p in (0.9, 0.95, 0.975, 0.995):
        assert t_quantile(p, 1) == pytest.approx(math.tan(math.pi * (p - 0.5)), rel=1e-10)
    # df = 2: t_p = (2p - 1) / sqrt(2 p (1 - p)).
    for p in (0.9, 0.95, 0.975):
        assert t_quantile(p, 2) == pytest.approx((2 * p - 1) / math.sqrt(2 * p * (1 - p)))
    # Printed t tables (e.g. NIST/SEMATECH e-Handbook, table 1.3.6.7.2), to 3 decimals.
    table = {(0.95, 3): 2.353, (0.90, 3): 1.638, (0.95, 10): 1.812, (0.975, 5): 2.571}
    table |= {(0.95, 29): 1.699, (0.95, 100): 1.660, (0.90, 29): 1.311}
    for (p, df), expected in table.items():
        assert t_quantile(p, df) == pytest.approx(expected, abs=5e-4)
    # Symmetry, the normal limit, and fractional df (Satterthwaite df are fractional) round-trip.
    assert t_quantile(0.05, 7) == pytest.approx(-t_quantile(0.95, 7))
    assert t_quantile(0.95, math.inf) == pytest.approx(Z90)
    for df in (1.3, 3.33, 17.8, 250.5):
        assert t_cdf(t_quantile(0.9, df), df) == pytest.approx(0.9, abs=1e-12)


def test_beta_functions_match_closed_forms() -> None:
    # I_x(1, b) = 1 - (1 - x)^b and I_x(a, 1) = x^a.
    assert regularized_beta(0.3, 1, 4) == pytest.approx(1 - 0.7**4)
    assert regularized_beta(0.3, 2.5, 1) == pytest.approx(0.3**2.5)
    assert beta_quantile(0.05, 1, 10) == pytest.approx(1 - 0.95 ** (1 / 10))
    assert beta_quantile(0.5, 3, 3) == pytest.approx(0.5)


# --- one error rate -------------------------------------------------------------------------


def test_wilson_and_exact_match_newcombe_1998_table_i() -> None:
    # Newcombe RG (1998), "Two-sided confidence intervals for the single proportion: comparison
    # of seven methods", Statistics in Medicine 17:857-872, Table I (95% intervals): method 3
    # (Wilson score, no continuity correction) and method 5 (Clopper-Pearson "exact").
    cases = {
        (81, 263): ((0.2553, 0.3662), (0.2527, 0.3676)),
        (15, 148): ((0.0624, 0.1605), (0.0578, 0.1617)),
        (0, 20): ((0.0000, 0.1611), (0.0000, 0.1684)),
        (1, 29): ((0.0061, 0.1718), (0.0009, 0.1776)),
    }
    for (x, n), (wilson, exact) in cases.items():
        assert proportion_interval(x, n, 0.95, "wilson") == pytest.approx(wilson, abs=5e-5)
        assert proportion_interval(x, n, 0.95, "exact") == pytest.approx(exact, abs=5e-5)


def test_wilson_closed_form() -> None:
    # x = 0: the upper limit is z^2 / (n + z^2) (Wilson 1927); at 90%, n = 10: 2.7055 / 12.7055.
    assert proportion_interval(0, 10) == (0.0, pytest.approx(Z90**2 / (10 + Z90**2)))
    # x = n mirrors it.
    assert proportion_interval(10, 10) == (pytest.approx(10 / (10 + Z90**2)), 1.0)
    # 3 of 12 at 90%, from the formula written out.
    p, n, z = 3 / 12, 12, Z90
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert proportion_interval(3, 12) == pytest.approx((centre - half, centre + half))


def test_clopper_pearson_closed_forms_and_binomial_tails() -> None:
    alpha = 0.10
    for n in (1, 5, 10, 30):
        # 0 errors: upper = 1 - (alpha/2)^(1/n); all errors: lower = (alpha/2)^(1/n).
        assert proportion_interval(0, n, 0.90, "exact") == (
            0.0,
            pytest.approx(1 - (alpha / 2) ** (1 / n)),
        )
        assert proportion_interval(n, n, 0.90, "exact") == (
            pytest.approx((alpha / 2) ** (1 / n)),
            1.0,
        )
    # The definition: P(X <= x | upper) = alpha/2 and P(X >= x | lower) = alpha/2.
    for x, n in ((1, 10), (4, 30), (12, 40)):
        low, high = proportion_interval(x, n, 0.90, "exact")
        assert binom_cdf(x, n, high) == pytest.approx(alpha / 2, abs=1e-9)
        assert 1 - binom_cdf(x - 1, n, low) == pytest.approx(alpha / 2, abs=1e-9)
    # R: binom.test(5, 10)$conf.int = 0.1870860 0.8129140.
    assert proportion_interval(5, 10, 0.95, "exact") == pytest.approx(
        (0.1870860, 0.8129140), abs=1e-7
    )


def test_proportion_interval_edges() -> None:
    assert proportion_interval(0, 0) == (0.0, 1.0)  # nothing reviewed: anything is possible
    assert proportion_interval(0, 0, method="exact") == (0.0, 1.0)
    for method in ("wilson", "exact"):
        low, high = proportion_interval(1, 1, 0.90, method)
        assert 0.0 < low < 1.0 and high == 1.0
        low, high = proportion_interval(0, 1, 0.90, method)
        assert low == 0.0 and 0.0 < high < 1.0
    # The exact interval is wider than Wilson's.
    w, e = proportion_interval(2, 20), proportion_interval(2, 20, method="exact")
    assert e[0] < w[0] and e[1] > w[1]
    with pytest.raises(ValueError):
        proportion_interval(3, 2)
    with pytest.raises(ValueError):
        proportion_interval(-1, 2)
    with pytest.raises(ValueError):
        proportion_interval(1, 2, confidence=90)
    with pytest.raises(ValueError):
        proportion_interval(1, 2, method="wald")


# --- stratified projection --------------------------------------------------------------------


def frame(*rows: tuple[int, list[float]], index: list[str] | None = None) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "N": [N for N, _ in rows],
            "n": [len(d) for _, d in rows],
            "differences": [d for _, d in rows],
        },
        index=index,
    )


def test_stratified_projection_by_hand() -> None:
    strata = frame(
        (100, [0, 0, 50, 30]),
        (3, [100, 0, 0]),
        (40, [0, 0, 0, 0, 0]),
        index=["Dr A / injections", "Dr B / injections", "Dr A / E&M"],
    )
    # Stratum A: N=100, n=4, differences 0, 0, 50, 30.
    #   mean = 80 / 4 = 20; deviations -20, -20, 30, 10; squares 400 + 400 + 900 + 100 = 1800;
    #   s^2 = 1800 / 3 = 600; fpc = 1 - 4/100 = 0.96;
    #   var(N ybar) = N^2 fpc s^2 / n = 10000 * 0.96 * 600 / 4 = 1,440,000; projected 100 * 20 = 2000.
    # Stratum B: N = n = 3 (reviewed in full): projected 3 * 100/3 = 100, fpc 0, no variance.
    # Stratum C: N=40, n=5, all supported: mean 0, s^2 0, projected 0, variance 0.
    # Total: 2000 + 100 + 0 = 2100; se = sqrt(1,440,000) = 1200.
    # Satterthwaite df: all the variance comes from stratum A, so df = n_A - 1 = 3.
    # t(0.95, 3) = 2.353363 (two-sided 90%); t(0.90, 3) = 1.637744 (one-sided 90%).
    t_two, t_one = 2.353363435, 1.637744354
    got = stratified_projection(strata)
    assert got["projected_dollars"] == pytest.approx(2100.0)
    assert got["se"] == pytest.approx(1200.0)
    assert got["df"] == pytest.approx(3.0)
    assert got["t_two_sided"] == pytest.approx(t_two, abs=1e-8)
    assert got["t_one_sided"] == pytest.approx(t_one, abs=1e-8)
    assert got["projected_low"] == pytest.approx(2100 - t_two * 1200)  # -724.04
    assert got["projected_high"] == pytest.approx(2100 + t_two * 1200)  # 4924.04
    assert got["lower_bound_one_sided"] == pytest.approx(2100 - t_one * 1200)  # 134.71
    assert got["precision"] == pytest.approx(t_two * 1200)
    assert got["relative_precision"] == pytest.approx(t_two * 1200 / 2100)
    assert got["frame_lines"] == 143 and got["reviewed"] == 12 and got["unprojected_lines"] == 0
    assert got["confidence"] == 0.90 and got["flags"] == []

    a, b, c = got["strata"]
    assert a["stratum"] == "Dr A / injections"
    assert (a["N"], a["n"], a["mean"], a["variance"], a["fpc"]) == (100, 4, 20.0, 600.0, 0.96)
    assert a["projected_dollars"] == pytest.approx(2000.0) and a["se"] == pytest.approx(1200.0)
    assert a["df"] == 3.0 and a["projected_low"] == pytest.approx(2000 - t_two * 1200)
    assert b["fpc"] == 0.0 and b["se"] == 0.0
    assert b["projected_low"] == b["projected_high"] == pytest.approx(100.0)
    assert c["projected_dollars"] == 0.0 and c["se"] == 0.0 and c["variance_borrowed"] is False


def test_stratified_projection_satterthwaite_df_by_hand() -> None:
    strata = frame((100, [0, 0, 50, 30]), (50, [0, 10, 0, -10, 25]))
    # Stratum A as above: g_A = N(N-n)/n = 100 * 96 / 4 = 2400; g_A s_A^2 = 2400 * 600 = 1,440,000.
    # Stratum B: N=50, n=5, differences 0, 10, 0, -10, 25 (one undercoded line).
    #   mean = 25 / 5 = 5; deviations -5, 5, -5, -15, 20; squares 25+25+25+225+400 = 700;
    #   s^2 = 700 / 4 = 175; g_B = 50 * 45 / 5 = 450; g_B s_B^2 = 78,750; projected 250.
    # Total 2250; variance 1,518,750; se = 1232.375...
    # df = (1,440,000 + 78,750)^2 / (1,440,000^2 / 3 + 78,750^2 / 4)
    #    = 2.3066015625e12 / (6.912e11 + 1.550390625e9) = 3.3296...
    df = (1_440_000 + 78_750) ** 2 / (1_440_000**2 / 3 + 78_750**2 / 4)
    se = math.sqrt(1_518_750)
    got = stratified_projection(strata)
    assert got["projected_dollars"] == pytest.approx(2250.0)
    assert got["se"] == pytest.approx(se)
    assert got["df"] == pytest.approx(df)
    assert 3 < got["df"] < 3 + 4  # between min(n_h - 1) and n - L
    assert t_cdf(got["t_two_sided"], df) == pytest.approx(0.95, abs=1e-10)
    assert got["lower_bound_one_sided"] == pytest.approx(2250 - t_quantile(0.90, df) * se)
    # Wider than with z, and wider than t with n - L = 7 degrees of freedom.
    assert got["t_two_sided"] > t_quantile(0.95, 7) > Z90
    # Confidence is a parameter: 95% two-sided widens the interval.
    assert stratified_projection(strata, 0.95)["projected_low"] < got["projected_low"]


def test_stratum_with_one_line_borrows_the_pooled_variance() -> None:
    strata = frame((100, [0, 0, 50, 30]), (20, [40]), index=["A", "D"])
    # D has one line: no variance of its own; it borrows the pooled variance of A,
    # (3 * 600) / 3 = 600. g_D = 20 * 19 / 1 = 380 -> 380 * 600 = 228,000.
    # Variance 1,440,000 + 228,000 = 1,668,000. Projected 2000 + 20 * 40 = 2800.
    # All of it rests on A's 3 degrees of freedom: df = 3.
    got = stratified_projection(strata)
    assert got["projected_dollars"] == pytest.approx(2800.0)
    assert got["se"] == pytest.approx(math.sqrt(1_668_000))
    assert got["df"] == pytest.approx(3.0)
    d = got["strata"][1]
    assert d["variance_borrowed"] is True and math.isnan(d["variance"])
    assert d["variance_used"] == pytest.approx(600.0) and d["df"] == 3.0
    assert any("Stratum D" in f and "one line" in f for f in got["flags"])


def test_no_variance_anywhere_gives_nan_bounds_with_a_flag() -> None:
    got = stratified_projection(frame((10, [5.0]), (8, [0.0])))
    assert got["projected_dollars"] == pytest.approx(50.0)
    assert math.isnan(got["se"]) and math.isnan(got["projected_low"])
    assert math.isnan(got["lower_bound_one_sided"]) and math.isnan(got["df"])
    assert any("cannot be computed" in f for f in got["flags"])


def test_projection_edges() -> None:
    # Every stratum reviewed in full: the total is known, the interval is the point.
    full = stratified_projection(frame((3, [10, 0, 0]), (2, [5, -5]), (1, [7])))
    assert full["projected_dollars"] == pytest.approx(17.0)
    assert full["se"] == 0.0
    assert full["projected_low"] == full["projected_high"] == full["lower_bound_one_sided"]
    # No errors at all: zero with a zero-width interval.
    clean = stratified_projection(frame((500, [0.0] * 30), (200, [0.0] * 30)))
    assert clean["projected_dollars"] == 0.0 and clean["se"] == 0.0
    assert clean["projected_low"] == clean["projected_high"] == 0.0
    assert math.isnan(clean["relative_precision"])
    # Every line wrong by the same amount: the total is N * amount, no spread.
    same = stratified_projection(frame((500, [25.0] * 30)))
    assert same["projected_dollars"] == pytest.approx(12_500.0) and same["se"] == 0.0
    # A stratum nobody answered is left out and flagged.
    part = stratified_projection(frame((100, [0, 0, 50, 30]), (60, [])))
    assert part["projected_dollars"] == pytest.approx(2000.0)
    assert part["unprojected_lines"] == 60 and math.isnan(part["strata"][1]["projected_dollars"])
    assert any("no line reviewed" in f for f in part["flags"])
    # Net undercoding projects a negative total.
    under = stratified_projection(frame((100, [0, -20, -40, 0])))
    assert under["projected_dollars"] == pytest.approx(-1500.0)
    assert under["lower_bound_one_sided"] < under["projected_dollars"] < under["projected_high"]


def test_projection_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="empty"):
        stratified_projection(pd.DataFrame({"N": [], "n": [], "differences": []}))
    with pytest.raises(ValueError, match="empty"):
        stratified_projection(frame((0, [])))
    with pytest.raises(ValueError, match="no line"):
        stratified_projection(frame((10, []), (5, [])))
    with pytest.raises(ValueError, match="only 2"):
        stratified_projection(frame((2, [1, 2, 3])))
    with pytest.raises(ValueError, match="differences were given"):
        stratified_projection(pd.DataFrame({"N": [10], "n": [3], "differences": [[1.0, 2.0]]}))
    with pytest.raises(ValueError, match="missing"):
        stratified_projection(frame((10, [1.0, float("nan")])))
    with pytest.raises(ValueError, match="columns"):
        stratified_projection(pd.DataFrame({"N": [10], "n": [1]}))


# --- stratified rate --------------------------------------------------------------------------


def rate_frame(*rows: tuple[int, int, int]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["N", "n", "errors"])


def test_stratified_rate_by_hand() -> None:
    # Stratum 1: N=300, n=30, 3 errors: p = 0.1; stratum 2: N=100, n=20, 8 errors: p = 0.4.
    # W = 300/400 = 0.75 and 0.25; p_st = 0.75 * 0.1 + 0.25 * 0.4 = 0.175.
    # v = 0.75^2 * (1 - 30/300) * 0.1 * 0.9 / 29 + 0.25^2 * (1 - 20/100) * 0.4 * 0.6 / 19
    #   = 0.5625 * 0.9 * 0.0031034 + 0.0625 * 0.8 * 0.0126316 = 0.0015711 + 0.0006316
    # n_eff = p (1 - p) / v; the interval is Wilson on n_eff lines with z = 1.6449.
    v = 0.75**2 * 0.9 * 0.1 * 0.9 / 29 + 0.25**2 * 0.8 * 0.4 * 0.6 / 19
    p = 0.175
    n_eff = p * (1 - p) / v
    z = Z90
    centre = (p + z * z / (2 * n_eff)) / (1 + z * z / n_eff)
    half = z * math.sqrt(p * (1 - p) / n_eff + z * z / (4 * n_eff**2)) / (1 + z * z / n_eff)
    got = stratified_rate(rate_frame((300, 30, 3), (100, 20, 8)))
    assert got["error_rate"] == pytest.approx(0.175)
    assert got["se"] == pytest.approx(math.sqrt(v))
    assert got["n_effective"] == pytest.approx(n_eff)
    assert (got["ci_low"], got["ci_high"]) == pytest.approx((centre - half, centre + half))
    assert got["projected_error_lines"] == pytest.approx(70.0)
    assert got["projected_error_lines_low"] == pytest.approx(400 * (centre - half))
    assert (got["frame_lines"], got["reviewed"], got["errors"]) == (400, 50, 11)
    s1, s2 = got["strata"]
    assert s1["error_rate"] == pytest.approx(0.1) and s1["weight"] == pytest.approx(0.75)
    assert (s1["ci_low"], s1["ci_high"]) == proportion_interval(3, 30)
    assert (s2["ci_low"], s2["ci_high"]) == proportion_interval(8, 20)
    exact = stratified_rate(rate_frame((300, 30, 3), (100, 20, 8)), method="exact")
    assert exact["ci_low"] < got["ci_low"] and exact["ci_high"] > got["ci_high"]
    assert (exact["strata"][0]["ci_low"], exact["strata"][0]["ci_high"]) == proportion_interval(
        3, 30, method="exact"
    )


def test_stratified_rate_edges() -> None:
    # No errors: the rate is 0 but the interval is not a point (n_eff falls back to the lines
    # reviewed in sampled strata: 60, so the upper limit is Wilson's z^2 / (60 + z^2)).
    zero = stratified_rate(rate_frame((300, 30, 0), (100, 30, 0)))
    assert zero["error_rate"] == 0.0 and zero["ci_low"] == 0.0
    assert zero["ci_high"] == pytest.approx(Z90**2 / (60 + Z90**2))
    # Every line wrong: mirrors it.
    allw = stratified_rate(rate_frame((300, 30, 30), (100, 30, 30)))
    assert allw["error_rate"] == 1.0 and allw["ci_high"] == 1.0
    assert allw["ci_low"] == pytest.approx(60 / (60 + Z90**2))
    # Reviewed in full: the rate is known.
    full = stratified_rate(rate_frame((10, 10, 2), (5, 5, 5)))
    assert full["error_rate"] == pytest.approx(7 / 15) and full["ci_low"] == full["ci_high"]
    # One line in a stratum: counted with the largest variance, flagged.
    one = stratified_rate(rate_frame((300, 30, 3), (50, 1, 0)))
    assert any("one line" in f for f in one["flags"])
    assert one["ci_high"] - one["ci_low"] > 0.1
    # A stratum with nothing reviewed is left out.
    part = stratified_rate(rate_frame((300, 30, 3), (50, 0, 0)))
    assert part["error_rate"] == pytest.approx(0.1) and part["unrated_lines"] == 50
    assert math.isnan(part["strata"][1]["error_rate"]) and part["strata"][1]["weight"] == 0.0
    assert (part["strata"][1]["ci_low"], part["strata"][1]["ci_high"]) == (0.0, 1.0)
    with pytest.raises(ValueError, match="empty"):
        stratified_rate(rate_frame())
    with pytest.raises(ValueError, match="no line"):
        stratified_rate(rate_frame((10, 0, 0)))
    with pytest.raises(ValueError, match="errors in"):
        stratified_rate(rate_frame((10, 3, 4)))


# --- coverage by simulation ---------------------------------------------------------------


GAPS = np.array([45.0, 80.0, 120.0, 210.0, -35.0, -60.0])
"""A wrong line's difference is the price gap between the billed and the correct code: a few
fee-schedule amounts, mostly overcoding, some undercoding."""


def synthetic_frame(
    rng: np.random.Generator, sizes: list[int], rates: list[float]
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per stratum: which lines are wrong, and each line's dollar difference (0 when right)."""
    population = []
    for size, rate in zip(sizes, rates, strict=True):
        wrong = rng.random(size) < rate
        population.append((wrong, np.where(wrong, rng.choice(GAPS, size), 0.0)))
    return population


def draw(
    rng: np.random.Generator, population: list[tuple[np.ndarray, np.ndarray]], per_stratum: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    dollars, counts = [], []
    for wrong, diffs in population:
        size = len(wrong)
        pick = rng.choice(size, per_stratum, replace=False)
        dollars.append({"N": size, "n": per_stratum, "differences": diffs[pick]})
        counts.append({"N": size, "n": per_stratum, "errors": int(wrong[pick].sum())})
    return pd.DataFrame(dollars), pd.DataFrame(counts)


def test_intervals_cover_the_truth_about_90_percent_of_the_time() -> None:
    """Draw 2000 stratified samples (30 lines per stratum) from a fixed synthetic frame whose
    total difference and error rate are known; the 90% intervals must contain them about 90% of
    the time."""
    rng = np.random.default_rng(20)
    sizes = [400, 250, 120, 60]
    population = synthetic_frame(rng, sizes, [0.20, 0.30, 0.40, 0.25])
    true_total = sum(d.sum() for _, d in population)
    true_rate = sum(w.sum() for w, _ in population) / sum(sizes)

    draws = 2000
    covered_dollars = covered_rate = lower_ok = 0
    for _ in range(draws):
        dollars, counts = draw(rng, population, 30)
        proj = stratified_projection(dollars)
        rate = stratified_rate(counts)
        covered_dollars += proj["projected_low"] <= true_total <= proj["projected_high"]
        lower_ok += proj["lower_bound_one_sided"] <= true_total
        covered_rate += rate["ci_low"] <= true_rate <= rate["ci_high"]
    assert 0.85 <= covered_dollars / draws <= 0.95
    assert 0.85 <= covered_rate / draws <= 0.95
    # The one-sided bound is below the true total at least about 90% of the time.
    assert 0.88 <= lower_ok / draws <= 0.97


def test_rare_errors_the_lower_bound_stays_on_the_safe_side() -> None:
    """With rare errors (5-15%) a 30-line sample often finds none in a stratum, which then shows
    no spread at all: the two-sided interval then misses high more often than 5% of the time (a
    known limit of the normal-theory interval RAT-STATS also uses, for skewed differences). The
    misses fall on the upper side, so the one-sided lower bound, the number a demand uses, still
    stays below the true total at least 90% of the time."""
    rng = np.random.default_rng(7)
    sizes = [400, 250, 120, 60]
    population = synthetic_frame(rng, sizes, [0.05, 0.15, 0.10, 0.08])
    true_total = sum(d.sum() for _, d in population)
    draws = 1500
    below_low = above_high = lower_ok = 0
    for _ in range(draws):
        proj = stratified_projection(draw(rng, population, 30)[0])
        below_low += true_total < proj["projected_low"]
        above_high += true_total > proj["projected_high"]
        lower_ok += proj["lower_bound_one_sided"] <= true_total
    assert lower_ok / draws >= 0.90
    assert below_low / draws < 0.05 < above_high / draws


# --- the plain-language text --------------------------------------------------------------------


def test_method_text_says_what_the_numbers_mean() -> None:
    text = METHOD_TEXT
    for phrase in ("one-sided", "lower bound", "Program Integrity Manual", "5 to 10", "30 or more"):
        assert phrase in text
    # The worked number in the text matches the code: 0 errors in 10 lines, 90% Wilson upper.
    quoted = re.search(r"true rate of about (\d+)%", text)
    assert quoted is not None
    assert int(quoted.group(1)) == round(100 * proportion_interval(0, 10)[1])
    assert all(len(line) <= 100 for line in text.splitlines())


def test_a_rate_of_zero_with_a_one_line_stratum_uses_the_lines_reviewed() -> None:
    """One stratum, one line reviewed, no error: the variance is taken at its largest (0.25)
    but the rate 0 has no spread, so the interval is Wilson's on the one line reviewed
    (upper z^2 / (1 + z^2) with z = 1.645 for 90%), not a division by zero."""
    got = stratified_rate(pd.DataFrame({"N": [10], "n": [1], "errors": [0]}))
    z = 1.6448536269514722
    assert got["error_rate"] == 0.0 and got["ci_low"] == 0.0
    assert got["ci_high"] == pytest.approx(z * z / (1 + z * z), rel=1e-6)
