"""The statistics the reports state, computed with scipy.

Every result states its n. Below ``MIN_N`` observations (per group) a result says
so in words instead of giving a number. Intervals are 95%:
- Spearman's rho: scipy.stats.spearmanr; interval by Fisher's z with the
  Fieller-Hartley-Pearson standard error sqrt(1.06 / (n - 3));
- difference of means: Welch's t (unequal variances), from n, Σx and Σx²;
- proportions: Wilson score intervals; a difference by Newcombe's hybrid score
  method (his method 10), with a two-proportion z test for the p-value.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

MIN_N = 10
Z95 = float(stats.norm.ppf(0.975))


def too_few(n: int, needed: int = MIN_N) -> dict:
    return {"n": n, "insufficient": f"too little data: n = {n}, at least {needed} needed"}


def spearman(x, y) -> dict:
    n = len(x)
    if n < MIN_N:
        return too_few(n)
    x, y = np.asarray(x, float), np.asarray(y, float)
    if (x == x[0]).all() or (y == y[0]).all():
        return {"n": n, "insufficient": "no variation in one of the variables"}
    result = stats.spearmanr(x, y)
    rho, p = float(result.statistic), float(result.pvalue)
    z, se = math.atanh(max(min(rho, 0.999999), -0.999999)), math.sqrt(1.06 / (n - 3))
    return {
        "n": n,
        "rho": round(rho, 4),
        "p_value": _p(p),
        "ci95": [round(math.tanh(z - Z95 * se), 4), round(math.tanh(z + Z95 * se), 4)],
    }


def moments(n: int, total: float, squares: float) -> tuple[float, float]:
    """Mean and sample variance from n, Σx and Σx² (n ≥ 2)."""
    mean = total / n
    return mean, max((squares - n * mean * mean) / (n - 1), 0.0)


def welch(a: tuple, b: tuple) -> dict:
    """Mean of ``a`` minus mean of ``b``; each group given as (n, Σx, Σx²)."""
    (na, sa, qa), (nb, sb, qb) = a, b
    if min(na, nb) < MIN_N:
        return too_few(min(na, nb))
    (ma, va), (mb, vb) = moments(na, sa, qa), moments(nb, sb, qb)
    diff, se2 = ma - mb, va / na + vb / nb
    if se2 == 0:
        return {
            "n": [na, nb],
            "difference": round(diff, 4),
            "ci95": [round(diff, 4)] * 2,
            "p_value": 1.0 if diff == 0 else 0.0,
        }
    df = se2**2 / ((va / na) ** 2 / (na - 1) + (vb / nb) ** 2 / (nb - 1))
    half = float(stats.t.ppf(0.975, df)) * math.sqrt(se2)
    test = stats.ttest_ind_from_stats(ma, math.sqrt(va), na, mb, math.sqrt(vb), nb, equal_var=False)
    return {
        "n": [na, nb],
        "difference": round(diff, 4),
        "df": round(df, 1),
        "ci95": [round(diff - half, 4), round(diff + half, 4)],
        "p_value": _p(float(test.pvalue)),
    }


def wilson(k: int, n: int) -> tuple[float, float]:
    if n == 0:
        return 0.0, 1.0
    p, z2 = k / n, Z95 * Z95
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(centre - half, 0.0), min(centre + half, 1.0)


def proportion(k: int, n: int) -> dict:
    if n == 0:
        return {"n": 0, "k": 0, "rate": None}
    low, high = wilson(k, n)
    return {"n": n, "k": k, "rate": round(k / n, 4), "ci95": [round(low, 4), round(high, 4)]}


def newcombe(k1: int, n1: int, k2: int, n2: int) -> dict:
    """p1 − p2 with Newcombe's hybrid score interval."""
    if min(n1, n2) < MIN_N:
        return too_few(min(n1, n2))
    p1, p2 = k1 / n1, k2 / n2
    (l1, u1), (l2, u2) = wilson(k1, n1), wilson(k2, n2)
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    pooled = (k1 + k2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    p = 1.0 if se == 0 else float(2 * stats.norm.sf(abs(d) / se))
    return {
        "n": [n1, n2],
        "difference": round(d, 4),
        "ci95": [round(low, 4), round(high, 4)],
        "p_value": _p(p),
    }


def mean_of(n: int, total: float, squares: float) -> dict:
    if n == 0:
        return {"n": 0, "mean": None}
    if n == 1:
        return {"n": 1, "mean": round(total, 4)}
    mean, var = moments(n, total, squares)
    return {"n": n, "mean": round(mean, 4), "sd": round(math.sqrt(var), 4)}


def _p(p: float) -> float:
    return float(f"{p:.4g}")
