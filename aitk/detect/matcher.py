"""DETR's Hungarian matcher: a one-to-one assignment of predictions to ground-truth boxes.

Each image's cost matrix is class weight * -p(target class) + L1 weight * |box - target|_1 (cxcywh)
+ GIoU weight * -GIoU(box, target), and scipy's linear_sum_assignment picks the cheapest set of
pairs. Predictions left unmatched are trained towards the no-object class.
"""

from __future__ import annotations

import torch
from torch import Tensor

from aitk.detect.boxes import box_cxcywh_to_xyxy, generalized_box_iou
from aitk.detect.config import MatcherConfig


def matching_cost(
    logits: Tensor, boxes: Tensor, target_labels: Tensor, target_boxes: Tensor, config: MatcherConfig
) -> Tensor:
    """Cost of pairing every prediction with every target of one image.

    logits (Q, C+1) with the last column no-object, boxes (Q, 4) cxcywh; target_labels (T,) and
    target_boxes (T, 4) cxcywh. Returns (Q, T).
    """
    prob = logits.softmax(-1)  # (Q, C+1)
    cost_class = -prob[:, target_labels]  # (Q, T); 1 - p in the paper, the constant does not change the match
    cost_bbox = torch.cdist(boxes, target_boxes, p=1)  # (Q, T)
    cost_giou = -generalized_box_iou(box_cxcywh_to_xyxy(boxes), box_cxcywh_to_xyxy(target_boxes))  # (Q, T)
    return config.cost_class * cost_class + config.cost_bbox * cost_bbox + config.cost_giou * cost_giou


@torch.no_grad()
def hungarian_match(
    pred_logits: Tensor, pred_boxes: Tensor, targets: list[dict[str, Tensor]], config: MatcherConfig = MatcherConfig()
) -> list[tuple[Tensor, Tensor]]:
    """Match a batch: pred_logits (B, Q, C+1), pred_boxes (B, Q, 4) cxcywh, and per image a dict of
    `labels` (T_i,) and `boxes` (T_i, 4) cxcywh.

    Returns one (prediction indices, target indices) pair of int64 tensors per image, each of length
    min(Q, T_i), sorted by prediction index. The costs of the whole batch are computed in one pass
    (as DETR does) and split per image before the assignment.
    """
    from scipy.optimize import linear_sum_assignment

    batch, queries = pred_logits.shape[:2]
    if len(targets) != batch:
        raise ValueError(f"{len(targets)} targets for a batch of {batch}")
    sizes = [len(t["boxes"]) for t in targets]
    empty = torch.empty(0, dtype=torch.int64)
    if sum(sizes) == 0:
        return [(empty, empty) for _ in targets]
    labels = torch.cat([t["labels"] for t in targets])
    boxes = torch.cat([t["boxes"] for t in targets])
    cost = matching_cost(pred_logits.flatten(0, 1), pred_boxes.flatten(0, 1), labels, boxes, config)  # (B*Q, sum T)
    cost = cost.view(batch, queries, -1).cpu()
    matches = []
    for i, block in enumerate(cost.split(sizes, dim=-1)):
        rows, cols = linear_sum_assignment(block[i].numpy())  # (Q, T_i) of image i
        matches.append((torch.as_tensor(rows, dtype=torch.int64), torch.as_tensor(cols, dtype=torch.int64)))
    return matches
