"""The Hungarian matcher: optimal against brute force, batched equals one at a time, empty targets."""

from __future__ import annotations

import itertools

import pytest
import torch

from aitk.detect.config import MatcherConfig
from aitk.detect.matcher import hungarian_match, matching_cost

CLASSES = 5  # plus the no-object column


def random_predictions(batch: int, queries: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(batch, queries, CLASSES + 1, generator=g)
    centre = torch.rand(batch, queries, 2, generator=g) * 0.6 + 0.2
    size = torch.rand(batch, queries, 2, generator=g) * 0.3 + 0.05
    return logits, torch.cat([centre, size], dim=-1)  # cxcywh, normalised


def random_targets(n: int, seed: int) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed + 1000)
    boxes = torch.cat([torch.rand(n, 2, generator=g) * 0.6 + 0.2, torch.rand(n, 2, generator=g) * 0.3 + 0.05], dim=-1)
    return {"labels": torch.randint(0, CLASSES, (n,), generator=g), "boxes": boxes}


def brute_force_cost(cost: torch.Tensor) -> float:
    """Cheapest one-to-one assignment of every target (columns) to a distinct prediction (rows)."""
    queries, targets = cost.shape
    return min(
        sum(cost[rows[j], j].item() for j in range(targets)) for rows in itertools.permutations(range(queries), targets)
    )


@pytest.mark.parametrize("seed", range(12))
def test_optimal_against_brute_force(seed):
    queries, n = 6, seed % 5 + 1
    config = MatcherConfig(cost_class=1.0 + seed % 3, cost_bbox=5.0, cost_giou=2.0)
    logits, boxes = random_predictions(1, queries, seed)
    target = random_targets(n, seed)
    [(rows, cols)] = hungarian_match(logits, boxes, [target], config)
    cost = matching_cost(logits[0], boxes[0], target["labels"], target["boxes"], config)
    assert len(rows) == len(cols) == n
    assert sorted(cols.tolist()) == list(range(n)) and len(set(rows.tolist())) == n  # one to one
    assert cost[rows, cols].sum().item() == pytest.approx(brute_force_cost(cost), abs=1e-5)


def test_more_targets_than_queries_matches_every_query():
    logits, boxes = random_predictions(1, 3, seed=7)
    target = random_targets(5, seed=7)
    [(rows, cols)] = hungarian_match(logits, boxes, [target])
    assert sorted(rows.tolist()) == [0, 1, 2] and len(set(cols.tolist())) == 3
    cost = matching_cost(logits[0], boxes[0], target["labels"], target["boxes"], MatcherConfig())
    best = brute_force_cost(cost.T)  # every query to a distinct target
    assert cost[rows, cols].sum().item() == pytest.approx(best, abs=1e-5)


def test_batched_equals_one_at_a_time_with_empty_targets():
    sizes = [3, 0, 5, 1, 0]
    logits, boxes = random_predictions(len(sizes), 8, seed=3)
    targets = [random_targets(n, seed=10 + i) for i, n in enumerate(sizes)]
    batched = hungarian_match(logits, boxes, targets)
    for i, target in enumerate(targets):
        [(rows, cols)] = hungarian_match(logits[i : i + 1], boxes[i : i + 1], [target])
        assert torch.equal(batched[i][0], rows) and torch.equal(batched[i][1], cols)
        assert len(rows) == sizes[i] and rows.dtype == cols.dtype == torch.int64
        assert torch.equal(rows, rows.sort().values)


def test_all_targets_empty():
    logits, boxes = random_predictions(2, 4, seed=0)
    empty = {"labels": torch.zeros(0, dtype=torch.int64), "boxes": torch.zeros(0, 4)}
    matches = hungarian_match(logits, boxes, [empty, empty])
    assert [(len(r), len(c)) for r, c in matches] == [(0, 0), (0, 0)]


def test_exact_predictions_are_matched_to_their_targets():
    target = random_targets(4, seed=5)
    permutation = torch.tensor([2, 0, 3, 1])  # query q predicts target permutation[q]
    boxes = target["boxes"][permutation][None]
    logits = torch.full((1, 4, CLASSES + 1), -10.0)
    logits[0, torch.arange(4), target["labels"][permutation]] = 10.0
    [(rows, cols)] = hungarian_match(logits, boxes, [target])
    assert rows.tolist() == [0, 1, 2, 3] and cols.tolist() == permutation.tolist()


def test_config_rejects_bad_weights():
    with pytest.raises(ValueError):
        MatcherConfig(cost_class=-1)
    with pytest.raises(ValueError):
        MatcherConfig(cost_class=0, cost_bbox=0, cost_giou=0)
    with pytest.raises(ValueError):
        hungarian_match(*random_predictions(2, 3, seed=0), [random_targets(1, seed=0)])
