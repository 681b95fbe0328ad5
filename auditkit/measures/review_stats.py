"""Statistics of a chart-pull review: error rates with confidence intervals and the projection of
a stratified sample's dollar differences to the whole frame (issue 20).

``auditkit sample`` draws a stratified simple random sample of claim lines, a reviewer marks each
line supported or not, and ``auditkit score`` turns the answers into the numbers below. This
module is pure arithmetic: no files, no workbook, no command line. Everything here is computed
with the standard library and numpy (scipy is not a dependency of auditkit; the three
distribution functions needed, the normal, Student's t and the beta quantile, are small and
tested: see :func:`t_quantile` and :func:`beta_quantile`).

The three public calculations:

* :func:`proportion_interval`: a two-sided interval for one error rate (``x`` errors in ``n``
  lines): the Wilson score interval (the default; its coverage stays near the nominal level even
  for small ``n`` and rates near 0, Brown, Cai & DasGupta 2001) or the "exact" Clopper-Pearson
  interval (never below the nominal coverage, so wider).
* :func:`stratified_projection`: RAT-STATS' stratified variable appraisal: the projected dollars
  of the frame ``sum(N_h * mean_h)``, its standard error, a two-sided interval and the one-sided
  lower bound an overpayment demand uses.
* :func:`stratified_rate`: the overall error rate of the frame, ``sum(N_h / N * p_h)``, with an
  interval.

:data:`METHOD_TEXT` explains the results in plain words for the review workbook's About sheet and
``auditkit explain sample``.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "METHOD_TEXT",
    "beta_quantile",
    "normal_quantile",
    "proportion_interval",
    "regularized_beta",
    "stratified_projection",
    "stratified_rate",
    "t_cdf",
    "t_quantile",
]

_NORMAL = NormalDist()

# ---------------------------------------------------------------------------------------------
# Distribution functions (no scipy): the normal quantile comes from the standard library; the t
# distribution and the beta quantile go through the regularized incomplete beta function.
# ---------------------------------------------------------------------------------------------


def normal_quantile(p: float) -> float:
    """The standard normal quantile (``z`` with ``P(Z <= z) = p``)."""
    return _NORMAL.inv_cdf(p)


def _beta_continued_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function, evaluated by the modified Lentz
    method (the classic one, e.g. Press et al., *Numerical Recipes*, 3rd ed., section 6.4). It
    converges quickly for ``x < (a + 1) / (a + b + 2)``; :func:`regularized_beta` swaps the
    arguments otherwise."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    d = tiny if abs(d) < tiny else d
    d = 1.0 / d
    h = d
    for m in range(1, 1000):
        m2 = 2 * m
        # the even step
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = tiny if abs(d) < tiny else d
        c = 1.0 + aa / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        h *= d * c
        # the odd step
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = tiny if abs(d) < tiny else d
        c = 1.0 + aa / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return h


def regularized_beta(x: float, a: float, b: float) -> float:
    """``I_x(a, b)``, the regularized incomplete beta function: the cumulative probability of a
    Beta(a, b) variable at ``x`` (``a, b > 0``)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    front = math.exp(log_front)
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_continued_fraction(a, b, x) / a
    return 1.0 - front * _beta_continued_fraction(b, a, 1.0 - x) / b


def beta_quantile(p: float, a: float, b: float) -> float:
    """The ``p`` quantile of a Beta(a, b) distribution, by bisection on :func:`regularized_beta`
    (the cumulative probability is increasing in ``x``, so bisection cannot fail; 200 halvings
    reach the limit of double precision)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"probability must be in [0, 1], got {p}")
    if p == 0.0:
        return 0.0
    if p == 1.0:
        return 1.0
    lo, hi = 0.0, 1.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        if regularized_beta(mid, a, b) < p:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def t_cdf(t: float, df: float) -> float:
    """Cumulative probability of Student's t with ``df`` degrees of freedom (``df`` may be
    fractional, as a Satterthwaite ``df`` is; ``math.inf`` gives the normal)."""
    if math.isinf(df):
        return _NORMAL.cdf(t)
    if t == 0.0:
        return 0.5
    tail = 0.5 * regularized_beta(df / (df + t * t), df / 2.0, 0.5)
    return 1.0 - tail if t > 0 else tail


def _t_pdf(t: float, df: float) -> float:
    log_pdf = (
        math.lgamma((df + 1.0) / 2.0)
        - math.lgamma(df / 2.0)
        - 0.5 * math.log(df * math.pi)
        - (df + 1.0) / 2.0 * math.log1p(t * t / df)
    )
    return math.exp(log_pdf)


def t_quantile(p: float, df: float) -> float:
    """The ``p`` quantile of Student's t with ``df`` (> 0, possibly fractional) degrees of freedom.

    Newton's method from the Cornish-Fisher start, kept inside a bracket that bisection narrows
    whenever a Newton step would leave it, so it always converges."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"probability must be in (0, 1), got {p}")
    if not df > 0:
        raise ValueError(f"degrees of freedom must be positive, got {df}")
    if math.isinf(df) or df > 1e7:
        return _NORMAL.inv_cdf(p)
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    if p == 0.5:
        return 0.0
    z = _NORMAL.inv_cdf(p)
    # Cornish-Fisher expansion of the t quantile in 1/df (Abramowitz & Stegun 26.7.5, 3 terms).
    guess = (
        z
        + (z**3 + z) / (4 * df)
        + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)
        + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * df**3)
    )
    lo, hi = 0.0, max(guess, z, 1.0)
    while t_cdf(hi, df) < p:
        lo, hi = hi, hi * 2.0
    t = min(max(guess, lo), hi)
    for _ in range(200):
        f = t_cdf(t, df) - p
        if f < 0:
            lo = t
        else:
            hi = t
        step = f / _t_pdf(t, df)
        nxt = t - step
        if not lo < nxt < hi:
            nxt = 0.5 * (lo + hi)
        if abs(nxt - t) <= 1e-13 * max(1.0, abs(t)):
            return nxt
        t = nxt
    return t


# ---------------------------------------------------------------------------------------------
# One error rate
# ---------------------------------------------------------------------------------------------


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1 (e.g. 0.90), got {confidence}")


def _wilson(x: float, n: float, z: float) -> tuple[float, float]:
    p = x / n
    z2 = z * z
    denom = 1.0 + z2 / n
    centre = (p + z2 / (2.0 * n)) / denom
    half = z * math.sqrt(max(p * (1.0 - p), 0.0) / n + z2 / (4.0 * n * n)) / denom
    low = 0.0 if x <= 0 else max(0.0, centre - half)
    high = 1.0 if x >= n else min(1.0, centre + half)
    return low, high


def proportion_interval(
    errors: int, n: int, confidence: float = 0.90, method: str = "wilson"
) -> tuple[float, float]:
    """Two-sided interval for an error rate: method "wilson" (score interval) or "exact"
    (Clopper-Pearson, from the beta distribution).

    ``errors`` of ``n`` reviewed lines were wrong; the interval holds the true rate of the
    population the lines were drawn from with probability ``confidence`` (before the draw).

    * ``"wilson"``: Wilson (1927) score interval, ``(p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) /
      (1 + z²/n)`` with ``z`` the normal quantile at ``(1 + confidence) / 2``. Recommended by
      Brown, Cai & DasGupta (2001, Statistical Science 16:101-133) and Agresti & Coull (1998):
      its coverage stays close to the nominal level for small samples and rates near 0 or 1,
      where the textbook ``p ± z·se`` fails (it gives a zero-width interval at 0 errors).
    * ``"exact"``: Clopper & Pearson (1934): the lower limit is the ``alpha/2`` quantile of
      Beta(x, n - x + 1) and the upper the ``1 - alpha/2`` quantile of Beta(x + 1, n - x); with 0
      errors the upper limit is ``1 - (alpha/2)^(1/n)``. Its coverage is never below the nominal
      level, so it is wider than Wilson; choose it when a reader insists on "exact".

    ``n = 0`` (nothing reviewed) returns ``(0.0, 1.0)``: without a reviewed line the rate can be
    anything. Errors outside ``0..n`` are a ``ValueError``.
    """
    _check_confidence(confidence)
    if n < 0 or errors < 0 or errors > n:
        raise ValueError(f"need 0 <= errors <= n, got errors={errors}, n={n}")
    if n == 0:
        return 0.0, 1.0
    alpha = 1.0 - confidence
    method = method.lower()
    if method == "wilson":
        return _wilson(float(errors), float(n), normal_quantile(1.0 - alpha / 2.0))
    if method in ("exact", "clopper-pearson"):
        low = 0.0 if errors == 0 else beta_quantile(alpha / 2.0, errors, n - errors + 1)
        high = 1.0 if errors == n else beta_quantile(1.0 - alpha / 2.0, errors + 1, n - errors)
        return low, high
    raise ValueError(f'method must be "wilson" or "exact", got {method!r}')


# ---------------------------------------------------------------------------------------------
# Stratified projection of dollars (RAT-STATS' stratified variable appraisal)
# ---------------------------------------------------------------------------------------------


def _labels(strata: pd.DataFrame) -> list[Any]:
    return [idx if not isinstance(idx, np.generic) else idx.item() for idx in strata.index]


def _check_sizes(N: int, n: int, label: Any) -> None:  # noqa: N803 (N and n are the textbook names)
    if N < 0 or n < 0:
        raise ValueError(f"stratum {label!r}: negative size (N={N}, n={n})")
    if n > N:
        raise ValueError(f"stratum {label!r}: {n} lines reviewed but the frame has only {N}")


def _sizes(rows: list[dict[str, Any]], nothing: str) -> tuple[int, int]:
    """The frame's lines and the lines reviewed over the strata ``rows`` (``N``, ``n``);
    ValueError ("...: ``nothing``") when the frame is empty or no line was reviewed."""
    frame_lines = sum(r["N"] for r in rows)
    reviewed = sum(r["n"] for r in rows)
    if not rows or frame_lines == 0:
        raise ValueError(f"the frame is empty: {nothing}")
    if reviewed == 0:
        raise ValueError(f"no line of the sample was reviewed: {nothing}")
    return frame_lines, reviewed


def stratified_projection(strata: pd.DataFrame, confidence: float = 0.90) -> dict:
    """strata: one row per stratum with columns N (frame lines), n (lines reviewed, excluding
    unanswered), and `differences` (a list/array of the n per-line dollar differences: 0 for a
    supported line; positive = overpaid/overcoded, negative = undercoded). Returns the projection
    of the frame's total difference with its intervals.

    **Estimator** (Cochran, *Sampling Techniques*, 3rd ed. 1977, ch. 5): per stratum the mean
    difference ``ybar_h`` and sample variance ``s_h²`` (``ddof=1``); the projected total is
    ``Y = sum(N_h · ybar_h)`` and its variance
    ``v(Y) = sum(N_h² · (1 - n_h/N_h) · s_h² / n_h)`` (finite population correction
    ``1 - n_h/N_h``: a stratum reviewed in full, ``n = N``, is known exactly and adds nothing).

    **Critical value: Student's t with Satterthwaite's effective degrees of freedom**
    ``df = (sum g_h s_h²)² / sum((g_h s_h²)² / (n_h - 1))``, ``g_h = N_h (N_h - n_h) / n_h``
    (Cochran 1977, section 5.4, eq. 5.16). Why: RAT-STATS (HHS-OIG's sampling software, the
    program CMS contractors and OIG use) reports t-based limits for an unrestricted variable
    appraisal, but accounts of its stratified appraisal differ between versions (the normal ``z``
    in some, ``t`` with ``n - L`` degrees of freedom, ``L`` strata, in others); we could not read
    the RAT-STATS manual's formula in the sources available to us. The Satterthwaite ``df`` lies
    between ``min(n_h - 1)`` and ``n - L``, so its ``t`` is never smaller than the ``n - L`` one,
    which is never smaller than ``z``: of the three the widest interval and the lowest lower
    bound, the conservative choice when sources disagree, and the one that stays honest when one
    stratum with few lines carries most of the variance.

    **Bounds**: the two-sided interval is ``Y ± t_{(1+c)/2, df} · se``. The one-sided lower bound
    is ``Y - t_{c, df} · se``: CMS' Medicare Program Integrity Manual (chapter 8, section 8.4.5.1)
    says that in most situations the lower limit of a one-sided 90 percent confidence interval is
    the overpayment to demand, so the provider is charged less than the true overpayment with
    about 90% probability. OIG's Corporate Integrity Agreements instead repay the lower limit of
    the *two-sided* 90% interval (``projected_low``, stricter: a one-sided 95% bound); both are
    returned.

    **Limit** (of every normal-theory interval, RAT-STATS' included): dollar differences are
    skewed (most lines 0, a few large), so a stratum whose sample finds no error shows no spread
    at all. With rare errors and 30 lines a stratum the two-sided interval then misses *high*
    more often than its nominal share (the tests measure about 12% instead of 5% at 5-15% error
    rates) while it rarely misses low, so the one-sided lower bound stays on the provider's safe
    side. Larger samples, or strata that separate the high-dollar lines, narrow the gap.

    **A stratum with one reviewed line** (and more in its frame) has no variance estimate. It
    borrows the pooled within-stratum variance of the strata that have one
    (``sum((n_h - 1) s_h²) / sum(n_h - 1)``), its degrees of freedom count in Satterthwaite's
    formula through those strata, and the result says so in ``flags``. If no stratum has two
    reviewed lines the standard error is unknown: ``se`` and the bounds are NaN (flagged).
    **A stratum with nothing reviewed** (``n = 0``, every row unanswered) cannot be projected: it
    is left out of the projection (``unprojected_lines`` counts its frame lines) and flagged.

    Returns a dict:

    * ``projected_dollars``, ``se``, ``projected_low``, ``projected_high``,
      ``lower_bound_one_sided`` (floats; dollars of the frame);
    * ``precision`` (the two-sided half-width ``t · se``) and ``relative_precision``
      (``precision / |projected_dollars|``, NaN when the point is 0), as RAT-STATS prints them;
    * ``df`` (the Satterthwaite degrees of freedom; ``n - L`` when ``se`` is 0, NaN when unknown),
      ``t_two_sided``, ``t_one_sided`` (the critical values used), ``confidence``;
    * ``frame_lines`` (sum of N), ``reviewed`` (sum of n), ``unprojected_lines``;
    * ``method`` (one line naming the estimator and the critical value);
    * ``strata``: one dict per row, in order: ``stratum`` (the row's index label), ``N``, ``n``,
      ``mean``, ``variance`` (NaN when ``n < 2``), ``variance_used``, ``variance_borrowed``,
      ``fpc``, ``projected_dollars`` (``N · mean``), ``se``, ``df``, ``projected_low``,
      ``projected_high``, ``lower_bound_one_sided`` (the stratum's own t interval with
      ``n - 1`` degrees of freedom, or the pooled ones when borrowed);
    * ``flags``: plain-language notes (empty when nothing is unusual).

    An empty frame (no rows, or every N = 0) or a frame where no line was reviewed is a
    ``ValueError``: there is nothing to project.
    """
    _check_confidence(confidence)
    for col in ("N", "n", "differences"):
        if col not in strata.columns:
            raise ValueError(f"strata needs the columns N, n and differences; {col!r} is missing")
    labels = _labels(strata)
    rows: list[dict[str, Any]] = []
    flags: list[str] = []
    for label, N_raw, n_raw, diffs in zip(  # noqa: N806
        labels, strata["N"], strata["n"], strata["differences"], strict=True
    ):
        N, n = int(N_raw), int(n_raw)  # noqa: N806
        _check_sizes(N, n, label)
        values = np.asarray([] if diffs is None else diffs, dtype="float64").ravel()
        if len(values) != n:
            raise ValueError(
                f"stratum {label!r}: n is {n} but {len(values)} differences were given"
            )
        if not np.isfinite(values).all():
            raise ValueError(f"stratum {label!r}: a dollar difference is missing or not a number")
        mean = float(values.mean()) if n else math.nan
        variance = float(values.var(ddof=1)) if n >= 2 else math.nan
        fpc = 1.0 - n / N if N else 0.0
        rows.append(
            {"stratum": label, "N": N, "n": n, "mean": mean, "variance": variance, "fpc": fpc}
        )

    frame_lines, reviewed = _sizes(rows, "there is nothing to project")

    used = [r for r in rows if r["n"] > 0]
    unprojected = sum(r["N"] for r in rows if r["n"] == 0 and r["N"] > 0)
    for r in rows:
        if r["n"] == 0 and r["N"] > 0:
            flags.append(
                f"Stratum {r['stratum']}: no line reviewed; its {r['N']} frame lines are left out "
                "of the projection."
            )

    # Pooled within-stratum variance, lent to strata with a single reviewed line.
    with_var = [r for r in used if r["n"] >= 2]
    pooled_df = sum(r["n"] - 1 for r in with_var)
    pooled_var = (
        sum((r["n"] - 1) * r["variance"] for r in with_var) / pooled_df if pooled_df else math.nan
    )

    # The variance of the total is sum(coef_h * s_h²) over strata with their own variance, where
    # coef_h = g_h plus the share of the borrowed pooled variance that falls on s_h².
    borrowers_g = 0.0
    unknown = False
    for r in used:
        g = r["N"] * (r["N"] - r["n"]) / r["n"]
        r["g"] = g
        r["variance_borrowed"] = False
        if r["n"] >= 2:
            r["variance_used"] = r["variance"]
        elif g == 0.0:
            r["variance_used"] = 0.0  # n = N = 1: the stratum is known exactly
        elif pooled_df:
            r["variance_used"] = pooled_var
            r["variance_borrowed"] = True
            borrowers_g += g
            flags.append(
                f"Stratum {r['stratum']}: one line reviewed, so its variance cannot be measured; "
                "it borrows the pooled variance of the other strata. Review more lines for a "
                "sound interval."
            )
        else:
            r["variance_used"] = math.nan
            unknown = True
    if unknown:
        flags.append(
            "No stratum has two or more reviewed lines: the variance, and so the interval and "
            "the lower bound, cannot be computed."
        )

    point = float(sum(r["N"] * r["mean"] for r in used))
    var_total = math.nan if unknown else float(sum(r["g"] * r["variance_used"] for r in used))
    se = math.sqrt(var_total) if not math.isnan(var_total) else math.nan

    # Satterthwaite degrees of freedom over the independent variance estimates s_h².
    terms = []
    for r in with_var:
        coef = r["g"] + (borrowers_g * (r["n"] - 1) / pooled_df if pooled_df else 0.0)
        terms.append((coef * r["variance"], r["n"] - 1))
    num = sum(a for a, _ in terms) ** 2
    den = sum(a * a / d for a, d in terms)
    fallback_df = float(sum(r["n"] - 1 for r in used))
    if unknown:
        df = math.nan
    elif den > 0:
        df = num / den
    else:
        df = fallback_df  # se is 0: the critical value multiplies zero and does not matter

    alpha = 1.0 - confidence
    t_two, t_one = _critical_values(alpha, df)
    precision = t_two * se
    result: dict[str, Any] = {
        "projected_dollars": point,
        "se": se,
        "projected_low": point - precision,
        "projected_high": point + precision,
        "lower_bound_one_sided": point - t_one * se,
        "precision": precision,
        "relative_precision": precision / abs(point) if point else math.nan,
        "df": df,
        "t_two_sided": t_two,
        "t_one_sided": t_one,
        "confidence": confidence,
        "frame_lines": frame_lines,
        "reviewed": reviewed,
        "unprojected_lines": unprojected,
        "method": (
            "stratified expansion estimator sum(N_h * mean_h) with finite population correction; "
            "Student's t with Satterthwaite degrees of freedom (Cochran 1977, 5.4)"
        ),
        "strata": [_stratum_projection(r, alpha, pooled_df) for r in rows],
        "flags": flags,
    }
    return result


def _critical_values(alpha: float, df: float) -> tuple[float, float]:
    if math.isnan(df):
        return math.nan, math.nan
    if df <= 0:
        # Every stratum reviewed in full with one line: nothing is uncertain (se is 0).
        return 0.0, 0.0
    return t_quantile(1.0 - alpha / 2.0, df), t_quantile(1.0 - alpha, df)


def _stratum_projection(r: dict[str, Any], alpha: float, pooled_df: int) -> dict[str, Any]:
    N, n = r["N"], r["n"]  # noqa: N806
    out: dict[str, Any] = {
        "stratum": r["stratum"],
        "N": N,
        "n": n,
        "mean": r["mean"],
        "variance": r["variance"],
        "variance_used": r.get("variance_used", math.nan),
        "variance_borrowed": r.get("variance_borrowed", False),
        "fpc": r["fpc"],
    }
    if n == 0:
        nan = math.nan
        out.update(
            projected_dollars=nan,
            se=nan,
            df=nan,
            projected_low=nan,
            projected_high=nan,
            lower_bound_one_sided=nan,
        )
        return out
    point = N * r["mean"]
    var_used = out["variance_used"]
    se = math.sqrt(r["g"] * var_used) if not math.isnan(var_used) else math.nan
    if r["variance_borrowed"]:
        df = float(pooled_df)
    elif n >= 2:
        df = float(n - 1)
    else:
        df = 0.0 if r["g"] == 0.0 else math.nan
    if se == 0.0:
        t_two = t_one = 0.0
    else:
        t_two, t_one = _critical_values(alpha, df)
    out.update(
        projected_dollars=point,
        se=se,
        df=df,
        projected_low=point - t_two * se,
        projected_high=point + t_two * se,
        lower_bound_one_sided=point - t_one * se,
    )
    return out


# ---------------------------------------------------------------------------------------------
# Stratified error rate
# ---------------------------------------------------------------------------------------------


def stratified_rate(strata: pd.DataFrame, confidence: float = 0.90, method: str = "wilson") -> dict:
    """Overall error rate of the frame from per-stratum (N, n, errors): the stratified estimate
    ``p = sum(N_h/N · p_h)`` with its interval; per stratum :func:`proportion_interval` (with
    ``method``, Wilson by default).

    **Overall interval: Wilson on the effective sample size** (Kish's design effect, the approach
    Korn & Graubard 1998 apply to the Clopper-Pearson interval for survey data). The stratified
    variance is ``v = sum(W_h² · (1 - n_h/N_h) · p_h(1 - p_h) / (n_h - 1))`` (Cochran 1977,
    eq. 5.46), ``W_h = N_h/N``; the effective sample size is ``n_eff = p(1 - p) / v``, the number
    of simple-random-sample lines that would give the same precision, and the Wilson interval is
    computed for ``p`` on ``n_eff`` lines. Unlike ``p ± z·sqrt(v)`` it stays inside [0, 1] and
    does not collapse to a point when every reviewed line is right. When ``v`` is 0 (every
    stratum's rate is 0 or 1) ``n_eff`` is the number of lines reviewed in the strata not
    reviewed in full (Korn & Graubard's choice); when every stratum was reviewed in full the rate
    is known exactly and the interval is the point. With ``method="exact"`` the overall interval
    is Clopper-Pearson on the effective sample size (Korn & Graubard's own interval, without
    their degrees-of-freedom adjustment).

    A stratum with one reviewed line (and more in its frame) has no variance estimate: it counts
    with the largest possible one, ``p_h(1 - p_h) = 1/4`` (conservative, flagged). A stratum with
    nothing reviewed is left out (its lines in ``unrated_lines``, flagged): the rate is that of the
    strata that were reviewed.

    ``strata`` needs the columns ``N``, ``n`` and ``errors``. Returns a dict:

    * ``error_rate``, ``ci_low``, ``ci_high``, ``se`` (``sqrt(v)``), ``n_effective``,
      ``confidence``, ``method``;
    * ``projected_error_lines`` (``error_rate · rated lines``) with ``projected_error_lines_low``
      and ``_high`` (the interval times the rated lines);
    * ``frame_lines``, ``reviewed``, ``errors``, ``unrated_lines``;
    * ``strata``: per row ``stratum``, ``N``, ``n``, ``errors``, ``weight`` (``N_h / rated
      lines``), ``error_rate`` (NaN when ``n = 0``), ``ci_low``, ``ci_high``;
    * ``flags``.

    An empty frame, or one where no line was reviewed, is a ``ValueError``.
    """
    _check_confidence(confidence)
    for col in ("N", "n", "errors"):
        if col not in strata.columns:
            raise ValueError(f"strata needs the columns N, n and errors; {col!r} is missing")
    labels = _labels(strata)
    rows = []
    flags: list[str] = []
    for label, N_raw, n_raw, x_raw in zip(  # noqa: N806
        labels, strata["N"], strata["n"], strata["errors"], strict=True
    ):
        N, n, x = int(N_raw), int(n_raw), int(x_raw)  # noqa: N806
        _check_sizes(N, n, label)
        if not 0 <= x <= n:
            raise ValueError(f"stratum {label!r}: {x} errors in {n} reviewed lines")
        low, high = proportion_interval(x, n, confidence, method)
        rows.append(
            {
                "stratum": label,
                "N": N,
                "n": n,
                "errors": x,
                "error_rate": x / n if n else math.nan,
                "ci_low": low,
                "ci_high": high,
            }
        )
    frame_lines, reviewed = _sizes(rows, "there is no error rate to estimate")

    rated = [r for r in rows if r["n"] > 0]
    rated_lines = sum(r["N"] for r in rated)
    for r in rows:
        r["weight"] = r["N"] / rated_lines if r["n"] > 0 else 0.0
        if r["n"] == 0 and r["N"] > 0:
            flags.append(
                f"Stratum {r['stratum']}: no line reviewed; its {r['N']} frame lines are left out "
                "of the overall rate."
            )

    p = sum(r["weight"] * r["error_rate"] for r in rated)
    v = 0.0
    for r in rated:
        n, N = r["n"], r["N"]  # noqa: N806
        fpc = 1.0 - n / N
        if fpc == 0.0:
            continue
        if n >= 2:
            ph = r["error_rate"]
            v += r["weight"] ** 2 * fpc * ph * (1.0 - ph) / (n - 1)
        else:
            v += r["weight"] ** 2 * fpc * 0.25
            flags.append(
                f"Stratum {r['stratum']}: one line reviewed; its variance is taken at the "
                "largest possible value (conservative)."
            )

    sampled_lines = sum(r["n"] for r in rated if r["n"] < r["N"])
    alpha = 1.0 - confidence
    if sampled_lines == 0:
        n_eff = math.inf
        low = high = p  # every stratum was reviewed in full: the rate is known
    else:
        # A rate of 0 or 1 carries no spread of its own (p(1 - p) = 0): the lines reviewed.
        spread = p * (1.0 - p)
        n_eff = spread / v if v > 0 and spread > 0 else float(sampled_lines)
        if method.lower() == "wilson":
            low, high = _wilson(p * n_eff, n_eff, normal_quantile(1.0 - alpha / 2.0))
        else:
            x_eff = p * n_eff
            low = 0.0 if p <= 0 else beta_quantile(alpha / 2.0, x_eff, n_eff - x_eff + 1)
            high = 1.0 if p >= 1 else beta_quantile(1.0 - alpha / 2.0, x_eff + 1, n_eff - x_eff)
        low, high = min(low, p), max(high, p)
    method_name = "Wilson" if method.lower() == "wilson" else "Clopper-Pearson"
    return {
        "error_rate": p,
        "ci_low": low,
        "ci_high": high,
        "se": math.sqrt(v),
        "n_effective": n_eff,
        "confidence": confidence,
        "method": (
            f"stratified estimate sum(N_h/N * p_h); {method_name} interval on the effective "
            f"sample size p(1-p)/v (Kish design effect); per stratum {method_name}"
        ),
        "projected_error_lines": p * rated_lines,
        "projected_error_lines_low": low * rated_lines,
        "projected_error_lines_high": high * rated_lines,
        "frame_lines": frame_lines,
        "reviewed": reviewed,
        "errors": sum(r["errors"] for r in rows),
        "unrated_lines": frame_lines - rated_lines,
        "strata": rows,
        "flags": flags,
    }


# ---------------------------------------------------------------------------------------------
# Plain-language explanation
# ---------------------------------------------------------------------------------------------

METHOD_TEXT = """\
How the review sample is read

The sample. auditkit draws lines at random within each stratum (a physician and a family of
procedures), so every line of a stratum had the same chance to be picked. That is what lets the
sample speak for the lines nobody reviewed. The seed makes the draw reproducible: the same seed
and the same export give the same lines.

The error rate and its interval. Each stratum's error rate is errors / lines reviewed. The 90%
interval beside it (a Wilson score interval) is the range of rates that fit what the reviewer
found: if the review were repeated many times on fresh random samples, about 9 times in 10 the
interval would contain the true rate of the whole stratum. A small sample gives a wide interval:
10 lines with no error still leave room for a true rate of about 21%. The overall rate weights
each stratum by its number of lines, not by how many of them were sampled.

The projected dollars. The average dollar difference per reviewed line of a stratum (0 for a
supported line; positive when the line was overpaid or overcoded, negative when it was
undercoded) times the stratum's number of lines, added over the strata, is the projected
difference for everything the sample stands for. This is the stratified estimate that OIG's
RAT-STATS calls a variable appraisal. Its 90% interval uses Student's t, the more cautious choice
where versions of RAT-STATS differ.

The one-sided lower bound. An auditor demanding repayment does not ask for the projected amount
but for a lower bound: an amount the true overpayment exceeds with 90% confidence. Medicare's
Program Integrity Manual (chapter 8) has contractors demand the lower limit of a one-sided 90%
interval, so the sampling error falls in the provider's favour; OIG's Corporate Integrity
Agreements use the lower limit of the two-sided 90% interval, which is lower still. If a payer
extrapolated from this sample, the lower bound is about what it could claim; when it is at or
below zero, the sample does not show an overpayment.

Probe or full sample. A probe of 5 to 10 lines per physician is a quick check: it tells whether
a problem is likely, not how large it is, and its intervals are too wide to project dollars
from. Use it for routine monitoring. When a probe finds errors (more than an occasional one, or
the same error repeating), draw a statistically valid random sample of 30 or more lines per
stratum, over the period in question, and project from that: only then are the interval and the
lower bound narrow enough to act on, and the sample is what a payer or an outside reviewer would
expect to see. Lines left unanswered are left out of every number, never counted as supported.
"""
