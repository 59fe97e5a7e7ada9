"""Box layouts and overlaps on torch tensors; the layout is in every name.

- cxcywh: centre x, centre y, width, height (DETR's prediction layout, usually normalised to [0, 1])
- xyxy:   left, top, right, bottom (what IoU is computed on)
- xywh:   left, top, width, height (COCO's json `bbox`)

All functions take boxes as (..., 4) tensors and keep the leading shape. IoU and GIoU follow DETR's
util/box_ops.py.
"""

from __future__ import annotations

import torch
from torch import Tensor


def box_cxcywh_to_xyxy(boxes: Tensor) -> Tensor:
    cx, cy, w, h = boxes.unbind(-1)
    return torch.stack([cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h], dim=-1)


def box_xyxy_to_cxcywh(boxes: Tensor) -> Tensor:
    x0, y0, x1, y1 = boxes.unbind(-1)
    return torch.stack([(x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0], dim=-1)


def box_xywh_to_xyxy(boxes: Tensor) -> Tensor:
    x, y, w, h = boxes.unbind(-1)
    return torch.stack([x, y, x + w, y + h], dim=-1)


def box_xyxy_to_xywh(boxes: Tensor) -> Tensor:
    x0, y0, x1, y1 = boxes.unbind(-1)
    return torch.stack([x0, y0, x1 - x0, y1 - y0], dim=-1)


def box_xywh_to_cxcywh(boxes: Tensor) -> Tensor:
    x, y, w, h = boxes.unbind(-1)
    return torch.stack([x + 0.5 * w, y + 0.5 * h, w, h], dim=-1)


def box_cxcywh_to_xywh(boxes: Tensor) -> Tensor:
    cx, cy, w, h = boxes.unbind(-1)
    return torch.stack([cx - 0.5 * w, cy - 0.5 * h, w, h], dim=-1)


def normalize_boxes(boxes: Tensor, width: float, height: float) -> Tensor:
    """Absolute pixels -> fractions of the image; works for every layout (x terms even, y terms odd)."""
    scale = boxes.new_tensor([width, height, width, height])
    return boxes / scale


def denormalize_boxes(boxes: Tensor, width: float, height: float) -> Tensor:
    """Fractions of the image -> absolute pixels; the inverse of normalize_boxes."""
    scale = boxes.new_tensor([width, height, width, height])
    return boxes * scale


def box_area(boxes: Tensor) -> Tensor:
    """Area of xyxy boxes: (...,4) -> (...)."""
    return (boxes[..., 2] - boxes[..., 0]) * (boxes[..., 3] - boxes[..., 1])


def box_iou(boxes1: Tensor, boxes2: Tensor) -> tuple[Tensor, Tensor]:
    """Pairwise IoU of xyxy boxes (N,4) x (M,4) -> ((N,M) IoU, (N,M) union)."""
    area1 = box_area(boxes1)
    area2 = box_area(boxes2)
    top_left = torch.max(boxes1[:, None, :2], boxes2[None, :, :2])  # (N, M, 2)
    bottom_right = torch.min(boxes1[:, None, 2:], boxes2[None, :, 2:])  # (N, M, 2)
    wh = (bottom_right - top_left).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]  # (N, M)
    union = area1[:, None] + area2[None, :] - inter
    return inter / union, union


def generalized_box_iou(boxes1: Tensor, boxes2: Tensor) -> Tensor:
    """Pairwise generalised IoU (Rezatofighi et al. 2019) of xyxy boxes: (N,4) x (M,4) -> (N,M) in [-1, 1].

    GIoU = IoU - (enclosing area - union) / enclosing area. Degenerate boxes (x1 < x0) give wrong
    answers silently in DETR, so they are refused here.
    """
    if not (boxes1[:, 2:] >= boxes1[:, :2]).all() or not (boxes2[:, 2:] >= boxes2[:, :2]).all():
        raise ValueError("generalized_box_iou needs xyxy boxes with x1 >= x0 and y1 >= y0")
    iou, union = box_iou(boxes1, boxes2)
    top_left = torch.min(boxes1[:, None, :2], boxes2[None, :, :2])  # smallest enclosing box, (N, M, 2)
    bottom_right = torch.max(boxes1[:, None, 2:], boxes2[None, :, 2:])
    wh = (bottom_right - top_left).clamp(min=0)
    enclosing = wh[..., 0] * wh[..., 1]
    return iou - (enclosing - union) / enclosing
