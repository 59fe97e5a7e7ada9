"""DETR's set-prediction loss: lowest for perfect predictions, blind to query order, safe on empty images."""

from __future__ import annotations

import pytest
import torch

from aitk.detect.config import CriterionConfig
from aitk.detect.criterion import set_criterion

C = 3  # real classes; logits carry C + 1 columns, no-object last


def _targets():
    return [
        {"labels": torch.tensor([0, 2]), "boxes": torch.tensor([[0.3, 0.3, 0.2, 0.2], [0.7, 0.6, 0.3, 0.4]])},
        {"labels": torch.tensor([1]), "boxes": torch.tensor([[0.5, 0.5, 0.4, 0.3]])},
    ]


def _perfect(targets, queries=5, confidence=20.0):
    """Logits/boxes that put each target on one query and call every other query no-object."""
    logits = torch.full((len(targets), queries, C + 1), 0.0)
    logits[..., C] = confidence
    boxes = torch.full((len(targets), queries, 4), 0.5)
    boxes[..., 2:] = 0.1
    for b, t in enumerate(targets):
        for q, (label, box) in enumerate(zip(t["labels"], t["boxes"])):
            logits[b, q] = 0.0
            logits[b, q, label] = confidence
            boxes[b, q] = box
    return logits, boxes


def test_perfect_predictions_cost_almost_nothing():
    logits, boxes = _perfect(_targets())
    total, parts = set_criterion(logits, boxes, _targets())
    assert total.item() < 1e-6
    assert parts["loss_bbox"] < 1e-6 and parts["loss_giou"] < 1e-6 and parts["loss_ce"] < 1e-6


def test_any_perturbation_costs_more():
    logits, boxes = _perfect(_targets(), confidence=5.0)
    base, _ = set_criterion(logits, boxes, _targets())
    noisy_boxes = (boxes + 0.05 * torch.randn(boxes.shape, generator=torch.Generator().manual_seed(0))).clamp(
        0.01, 0.99
    )
    wrong_class = logits.clone()
    wrong_class[0, 0] = wrong_class[0, 0].roll(1)
    for lg, b in ((logits, noisy_boxes), (wrong_class, boxes)):
        assert set_criterion(lg, b, _targets())[0] > base


def test_invariant_to_query_order():
    gen = torch.Generator().manual_seed(1)
    logits = torch.randn(2, 6, C + 1, generator=gen)
    boxes = torch.rand(2, 6, 4, generator=gen) * 0.5 + 0.25
    perm = torch.randperm(6, generator=gen)
    a, parts_a = set_criterion(logits, boxes, _targets())
    b, parts_b = set_criterion(logits[:, perm], boxes[:, perm], _targets())
    assert torch.allclose(a, b, atol=1e-5)
    assert parts_a.keys() == parts_b.keys()


def test_no_object_weight_down_weights_empty_queries():
    """With only no-object targets, eos_coef scales nothing (a weighted mean), but mixing changes the balance."""
    logits = torch.zeros(1, 4, C + 1)
    logits[0, :, 0] = 3.0  # every query says class 0
    boxes = torch.full((1, 4, 4), 0.5)
    target = [{"labels": torch.tensor([0]), "boxes": torch.tensor([[0.5, 0.5, 0.5, 0.5]])}]
    low = set_criterion(logits, boxes, target, config=CriterionConfig(eos_coef=0.1))[1]["loss_ce"]
    high = set_criterion(logits, boxes, target, config=CriterionConfig(eos_coef=1.0))[1]["loss_ce"]
    assert low < high  # the three false class-0 claims weigh less when no-object is down-weighted


def test_empty_targets_train_everything_towards_no_object():
    logits = torch.randn(2, 5, C + 1, requires_grad=True)
    boxes = torch.rand(2, 5, 4).clamp(0.1, 0.9).requires_grad_()
    empty = [{"labels": torch.zeros(0, dtype=torch.int64), "boxes": torch.zeros(0, 4)} for _ in range(2)]
    total, parts = set_criterion(logits, boxes, empty)
    assert parts["loss_bbox"] == 0 and parts["loss_giou"] == 0 and parts["loss_ce"] > 0
    total.backward()
    assert logits.grad[..., C].lt(0).all()  # raising the no-object logit lowers the loss everywhere


def test_gradients_reach_logits_boxes_and_aux_outputs():
    gen = torch.Generator().manual_seed(2)
    outs = [
        (
            torch.randn(2, 5, C + 1, generator=gen).requires_grad_(),
            (torch.rand(2, 5, 4, generator=gen) * 0.5 + 0.25).requires_grad_(),
        )
        for _ in range(3)
    ]
    (logits, boxes), aux = outs[-1], outs[:-1]
    total, parts = set_criterion(logits, boxes, _targets(), aux=aux)
    total.backward()
    for lg, b in outs:
        assert lg.grad.abs().sum() > 0 and b.grad.abs().sum() > 0
    assert {"loss_ce_0", "loss_bbox_1", "loss_giou_1"} <= parts.keys()
    weights = CriterionConfig()
    expected = sum(
        parts[f"{k}{s}"] * w
        for s in ("", "_0", "_1")
        for k, w in (
            ("loss_ce", weights.class_weight),
            ("loss_bbox", weights.weight_bbox),
            ("loss_giou", weights.weight_giou),
        )
    )
    assert parts["loss"] == pytest.approx(expected, rel=1e-5)


def test_box_terms_are_normalised_by_the_number_of_boxes():
    """Doubling the batch (same images twice) keeps the box terms: they are per box, not per batch."""
    logits, boxes = _perfect(_targets(), confidence=5.0)
    boxes = boxes + 0.02
    one = set_criterion(logits, boxes, _targets())[1]
    two = set_criterion(torch.cat([logits, logits]), torch.cat([boxes, boxes]), _targets() + _targets())[1]
    assert two["loss_bbox"] == pytest.approx(one["loss_bbox"], rel=1e-5)
    assert two["loss_giou"] == pytest.approx(one["loss_giou"], rel=1e-5)


def test_sigmoid_focal_mode_prefers_right_answers():
    """Conditional DETR's layout: (B, Q, C) sigmoid logits, no no-object column."""
    config = CriterionConfig(sigmoid=True)
    logits, boxes = _perfect(_targets(), confidence=8.0)
    sig = logits[..., :C] - 4.0  # right class +4, everything else -4 (no-object queries: all classes -4)
    good, parts = set_criterion(sig, boxes, _targets(), config=config)
    assert parts["loss_ce"] < 0.05 and parts["loss_bbox"] < 1e-6
    flipped = -sig  # confident in every wrong class
    assert set_criterion(flipped, boxes, _targets(), config=config)[0] > 10 * good
    empty = [{"labels": torch.zeros(0, dtype=torch.int64), "boxes": torch.zeros(0, 4)}]
    raw = torch.zeros(1, 4, C, requires_grad=True)
    total, _ = set_criterion(raw, torch.full((1, 4, 4), 0.5), empty, config=config)
    total.backward()
    assert raw.grad.gt(0).all()  # with nothing to find, every class score is pushed down
