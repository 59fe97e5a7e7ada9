"""The unbiased pass@k estimator (Chen et al. 2021, "Evaluating Large Language Models Trained on Code").

For one problem with n samples of which c pass, pass@k = 1 - C(n-c, k) / C(n, k): the chance that
k samples drawn without replacement contain at least one pass. The binomials overflow floats for
large n, so we use the equivalent product 1 - prod_{i=n-c+1}^{n} (1 - k/i).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k for one problem: n samples, c of them correct, k <= n."""
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"need 0 <= c <= n and 1 <= k <= n (got n={n}, c={c}, k={k})")
    if n - c < k:  # every draw of k samples contains a correct one
        return 1.0
    product = 1.0
    for i in range(n - c + 1, n + 1):
        product *= 1.0 - k / i
    return 1.0 - product


@dataclass(frozen=True)
class PassAtK:
    k: int
    value: float  # mean over the problems that have at least k samples
    ci_low: float  # 95% confidence interval over problems (normal approximation, clipped to [0, 1])
    ci_high: float
    problems: int  # problems counted (those with n >= k)

    def to_dict(self) -> dict:
        return {"k": self.k, "pass_at_k": self.value, "ci95": [self.ci_low, self.ci_high], "problems": self.problems}


def summarise(counts: Iterable[tuple[int, int]], k: int) -> PassAtK | None:
    """pass@k over problems given (n, c) per problem; problems with n < k are left out (None if none remain).

    The interval treats the problems as a sample of a larger population: mean +- 1.96 standard errors
    of the per-problem estimates (zero width for a single problem).
    """
    values = [pass_at_k(n, c, k) for n, c in counts if n >= k]
    if not values:
        return None
    mean = math.fsum(values) / len(values)
    if len(values) > 1:
        variance = math.fsum((v - mean) ** 2 for v in values) / (len(values) - 1)
        half = 1.96 * math.sqrt(variance / len(values))
    else:
        half = 0.0
    return PassAtK(k, mean, max(0.0, mean - half), min(1.0, mean + half), len(values))
