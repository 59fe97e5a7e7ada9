"""pass@k against the exact combinatorial definition in integer arithmetic."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from aitk.passk.estimator import pass_at_k, summarise


def exact(n: int, c: int, k: int) -> Fraction:
    return 1 - Fraction(math.comb(n - c, k), math.comb(n, k))  # comb is 0 when n - c < k


@pytest.mark.parametrize("n", [1, 2, 3, 5, 10, 37, 200])
def test_matches_exact_definition_for_every_c_and_k(n):
    for c in range(n + 1):
        for k in range(1, n + 1):
            assert pass_at_k(n, c, k) == pytest.approx(float(exact(n, c, k)), abs=1e-12), (n, c, k)


def test_large_n_stays_finite_where_binomials_overflow_floats():
    n, c, k = 5000, 3, 200
    with pytest.raises(OverflowError):  # the naive ratio of binomials cannot even be formed in floats
        float(math.comb(n, k))
    assert pass_at_k(n, c, k) == pytest.approx(float(exact(n, c, k)), rel=1e-12)


def test_edge_cases():
    assert pass_at_k(10, 0, 5) == 0.0
    assert pass_at_k(10, 10, 1) == 1.0
    assert pass_at_k(10, 6, 5) == 1.0  # n - c = 4 < k
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)
    with pytest.raises(ValueError):
        pass_at_k(3, 1, 4)
    with pytest.raises(ValueError):
        pass_at_k(3, 4, 1)


def test_summary_skips_problems_with_fewer_than_k_samples_and_gives_an_interval():
    counts = [(10, 10), (10, 0), (3, 3)]
    one = summarise(counts, 1)
    assert one.problems == 3 and one.value == pytest.approx(2 / 3)
    assert one.ci_low < one.value < one.ci_high <= 1.0
    five = summarise(counts, 5)
    assert five.problems == 2 and five.value == pytest.approx(0.5)
    assert summarise(counts, 11) is None
    single = summarise([(4, 2)], 2)
    assert single.ci_low == single.ci_high == single.value
