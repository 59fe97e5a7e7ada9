"""Box layouts round-trip; IoU and GIoU against hand-worked values and their bounds."""

from __future__ import annotations

import pytest
import torch

from aitk.detect.boxes import (
    box_area,
    box_cxcywh_to_xywh,
    box_cxcywh_to_xyxy,
    box_iou,
    box_xywh_to_cxcywh,
    box_xywh_to_xyxy,
    box_xyxy_to_cxcywh,
    box_xyxy_to_xywh,
    denormalize_boxes,
    generalized_box_iou,
    normalize_boxes,
)


def close(actual: torch.Tensor, expected: list) -> bool:
    return torch.allclose(actual, torch.tensor(expected, dtype=actual.dtype), atol=1e-6)


def random_xyxy(n: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    top_left = torch.rand(n, 2, generator=g, dtype=torch.float64)
    return torch.cat([top_left, top_left + torch.rand(n, 2, generator=g, dtype=torch.float64) * 0.5], dim=1)


def test_layouts_round_trip():
    xyxy = random_xyxy(50)
    assert torch.allclose(box_cxcywh_to_xyxy(box_xyxy_to_cxcywh(xyxy)), xyxy)
    assert torch.allclose(box_xywh_to_xyxy(box_xyxy_to_xywh(xyxy)), xyxy)
    xywh = box_xyxy_to_xywh(xyxy)
    assert torch.allclose(box_cxcywh_to_xywh(box_xywh_to_cxcywh(xywh)), xywh)
    assert torch.allclose(box_xywh_to_cxcywh(xywh), box_xyxy_to_cxcywh(xyxy))
    assert torch.allclose(denormalize_boxes(normalize_boxes(xyxy, 640, 480), 640, 480), xyxy)


def test_layouts_known_values_and_leading_shape():
    cxcywh = torch.tensor([[[0.5, 0.5, 0.2, 0.4]]])  # (1, 1, 4): any leading shape
    assert close(box_cxcywh_to_xyxy(cxcywh), [[[0.4, 0.3, 0.6, 0.7]]])
    assert close(box_cxcywh_to_xywh(cxcywh), [[[0.4, 0.3, 0.2, 0.4]]])
    assert close(denormalize_boxes(cxcywh, 100, 50), [[[50, 25, 20, 20]]])
    assert box_xywh_to_xyxy(torch.tensor([10.0, 20.0, 30.0, 40.0])).tolist() == [10, 20, 40, 60]


def test_iou_known_values():
    a = torch.tensor([[0.0, 0.0, 2.0, 2.0]])
    b = torch.tensor([[1.0, 1.0, 3.0, 3.0], [0.0, 0.0, 2.0, 2.0], [5.0, 5.0, 6.0, 6.0], [0.0, 0.0, 1.0, 2.0]])
    iou, union = box_iou(a, b)
    assert close(iou, [[1 / 7, 1.0, 0.0, 0.5]])
    assert close(union, [[7.0, 4.0, 5.0, 4.0]])
    # enclosing boxes: 3x3, 2x2, 6x6, 2x2
    assert close(generalized_box_iou(a, b), [[1 / 7 - 2 / 9, 1.0, -31 / 36, 0.5]])


def test_giou_bounds_and_symmetry():
    a, b = random_xyxy(40, seed=1), random_xyxy(30, seed=2)
    giou = generalized_box_iou(a, b)
    iou, _ = box_iou(a, b)
    assert giou.shape == (40, 30)
    assert (giou >= -1).all() and (giou <= iou + 1e-12).all() and (iou <= 1).all()
    assert torch.allclose(giou, generalized_box_iou(b, a).T)
    assert torch.allclose(torch.diag(generalized_box_iou(a, a)), torch.ones(40, dtype=torch.float64))
    far = torch.tensor([[0.0, 0.0, 1e-3, 1e-3]]), torch.tensor([[1e3, 1e3, 1e3 + 1e-3, 1e3 + 1e-3]])
    assert generalized_box_iou(*far).item() == pytest.approx(-1.0, abs=1e-6)  # GIoU -> -1 for tiny, distant boxes


def test_giou_refuses_degenerate_boxes():
    with pytest.raises(ValueError):
        generalized_box_iou(torch.tensor([[2.0, 0.0, 1.0, 1.0]]), torch.tensor([[0.0, 0.0, 1.0, 1.0]]))


def test_area():
    assert box_area(torch.tensor([[0.0, 0.0, 2.0, 3.0], [1.0, 1.0, 1.0, 5.0]])).tolist() == [6.0, 0.0]
