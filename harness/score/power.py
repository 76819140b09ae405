"""The power of a paired comparison: the minimum detectable difference (MDE).

The MDE is the smallest true difference between two systems that a two-sided paired test at
level α detects with probability ``power`` on these items:

    MDE = (t[1 − α/2, n − 1] + t[power, n − 1]) · SE

where SE is the standard error of the paired delta. It comes from the same paired bootstrap that
gives the delta's CI (`harness.score.compare`): the standard deviation of the resampled deltas,
so it is the SE of a corpus-level BLEU/chrF delta as much as of a mean of per-item ROUGE F. The
bootstrap SE of a mean is the plug-in sd/√n, low by √((n − 1)/n); it is scaled back, so for a
mean metric SE is the paired t-test's sd(d)/√n. Student t quantiles, not z: with n = 5 the z
formula would promise differences 25 % smaller than a test on five items can find.

No scipy: the t CDF has a closed form for integer degrees of freedom (Abramowitz & Stegun
26.7.3–4), inverted here by bisection.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

ALPHA = 0.05
POWER = 0.8
_EXACT_DF = 20000  # above this the Cornish–Fisher expansion is exact to ~1e-12


def t_cdf(t: float, df: int) -> float:
    """P(T ≤ t) for Student's t with ``df`` ≥ 1 (integer) degrees of freedom."""
    if df < 1:
        raise ValueError(f"degrees of freedom must be at least 1, got {df}")
    theta = math.atan(abs(t) / math.sqrt(df))
    c2 = math.cos(theta) ** 2
    if df % 2:  # odd: (2/π)(θ + sinθ cosθ (1 + 2/3 c² + 2·4/(3·5) c⁴ + …)), ending at c^(df−3)
        k = np.arange(1, (df - 1) // 2)
        series = 1 + np.cumprod(2 * k / (2 * k + 1) * c2).sum() if df > 1 else 0.0
        inside = 2 / math.pi * (theta + math.sin(theta) * math.cos(theta) * series)
    else:  # even: sinθ (1 + 1/2 c² + 1·3/(2·4) c⁴ + …), ending at c^(df−2)
        k = np.arange(1, df // 2)
        inside = math.sin(theta) * (1 + np.cumprod((2 * k - 1) / (2 * k) * c2).sum())
    inside = min(float(inside), 1.0)
    return 0.5 + (inside if t >= 0 else -inside) / 2


def t_quantile(p: float, df: int) -> float:
    """The t such that P(T ≤ t) = p, for Student's t with ``df`` ≥ 1 degrees of freedom."""
    if not 0 < p < 1:
        raise ValueError(f"p must be between 0 and 1, got {p}")
    if p < 0.5:
        return -t_quantile(1 - p, df)
    if p == 0.5:
        return 0.0
    z = NormalDist().inv_cdf(p)
    if df > _EXACT_DF:  # Cornish–Fisher (A&S 26.7.5), terms to 1/df²
        return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)
    low, high = 0.0, max(2 * z, 1.0)
    while t_cdf(high, df) < p:
        high *= 2
    for _ in range(200):
        mid = (low + high) / 2
        if t_cdf(mid, df) < p:
            low = mid
        else:
            high = mid
        if high - low < 1e-12 * high:
            break
    return (low + high) / 2


def se_from_deltas(deltas: np.ndarray, n: int) -> float:
    """The SE of a paired delta from its bootstrap replicates over ``n`` items (see the module
    note for the √(n/(n − 1)) factor)."""
    if n < 2 or len(deltas) < 2:
        return float("nan")
    return float(np.std(deltas, ddof=1)) * math.sqrt(n / (n - 1))


def mde(se: float, n: int, alpha: float = ALPHA, power: float = POWER) -> float | None:
    """The minimum detectable difference, in the metric's points; None when it cannot be sized:
    fewer than two items, or no spread at all (every paired difference is the same, e.g. two
    identical outputs), where the data say nothing about how large a real difference would vary."""
    if n < 2 or not math.isfinite(se) or se <= 1e-9:  # 1e-9: float noise of equal sums
        return None
    return (t_quantile(1 - alpha / 2, n - 1) + t_quantile(power, n - 1)) * se
