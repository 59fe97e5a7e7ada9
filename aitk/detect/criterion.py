"""DETR's set-prediction loss (Carion et al. 2020), as a pure function of predictions and targets.

Per decoder output: match predictions to targets with the Hungarian matcher, then
- cross-entropy over C+1 classes for every query; unmatched queries are trained towards no-object
  (the last class), whose weight is `eos_coef` because most queries are empty;
- L1 on matched cxcywh boxes and 1 - GIoU on the same pairs, both summed and divided by the number
  of target boxes in the batch (at least 1), so images with many objects do not dominate.
Auxiliary decoder outputs get the same three terms, each matched on its own.

Models that score classes with independent sigmoids (Conditional DETR) have no no-object column;
with `sigmoid=True` the classification term is the sigmoid focal loss (Lin et al. 2017) summed and
divided by the number of boxes, as Conditional and Deformable DETR train it, and the matcher sees the
logits with a zero no-object logit appended (its softmax then ranks classes as the sigmoids do).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from aitk.detect.boxes import box_cxcywh_to_xyxy, generalized_box_iou
from aitk.detect.config import CriterionConfig
from aitk.detect.matcher import hungarian_match


def focal_loss(logits: Tensor, target_classes: Tensor, alpha: float, gamma: float) -> Tensor:
    """Summed sigmoid focal loss: logits (B, Q, C), target_classes (B, Q) with C meaning no object."""
    onehot = F.one_hot(target_classes, logits.shape[-1] + 1)[..., :-1].to(
        logits.dtype
    )  # (B, Q, C); no-object is all zeros
    prob = logits.sigmoid()
    ce = F.binary_cross_entropy_with_logits(logits, onehot, reduction="none")
    p_t = prob * onehot + (1 - prob) * (1 - onehot)
    weight = alpha * onehot + (1 - alpha) * (1 - onehot)
    return (weight * ce * (1 - p_t) ** gamma).sum()


def _one_output(
    logits: Tensor, boxes: Tensor, targets: list[dict[str, Tensor]], num_boxes: float, config: CriterionConfig
) -> dict[str, Tensor]:
    """The three unweighted terms of one decoder output: logits (B, Q, C+1), or (B, Q, C) when
    `config.sigmoid`, and boxes (B, Q, 4)."""
    if config.sigmoid:
        logits = torch.cat(
            [logits, logits.new_zeros(logits.shape[:-1] + (1,))], dim=-1
        )  # (B, Q, C+1): a zero no-object logit
    batch, queries, classes = logits.shape
    matches = hungarian_match(logits.detach(), boxes.detach(), targets, config.matcher)
    batch_idx = torch.cat([torch.full_like(pred, i) for i, (pred, _) in enumerate(matches)]).to(logits.device)
    pred_idx = torch.cat([pred for pred, _ in matches]).to(logits.device)
    target_classes = torch.full((batch, queries), classes - 1, dtype=torch.int64, device=logits.device)  # no-object
    target_classes[batch_idx, pred_idx] = torch.cat([t["labels"][tgt] for t, (_, tgt) in zip(targets, matches)]).to(
        logits.device
    )
    if config.sigmoid:
        loss_ce = focal_loss(logits[..., :-1], target_classes, config.focal_alpha, config.focal_gamma) / num_boxes
    else:
        class_weight = torch.ones(classes, device=logits.device, dtype=logits.dtype)
        class_weight[-1] = config.eos_coef
        # DETR's weighted mean: divided by the summed weights of the targets, not by B*Q
        loss_ce = F.cross_entropy(logits.transpose(1, 2), target_classes, weight=class_weight)

    matched = boxes[batch_idx, pred_idx]  # (N, 4)
    target_boxes = torch.cat([t["boxes"][tgt] for t, (_, tgt) in zip(targets, matches)]).to(boxes)
    loss_bbox = F.l1_loss(matched, target_boxes, reduction="none").sum() / num_boxes
    giou = torch.diag(generalized_box_iou(box_cxcywh_to_xyxy(matched), box_cxcywh_to_xyxy(target_boxes)))  # (N,)
    loss_giou = (1 - giou).sum() / num_boxes
    return {"loss_ce": loss_ce, "loss_bbox": loss_bbox, "loss_giou": loss_giou}


def set_criterion(
    logits: Tensor,
    boxes: Tensor,
    targets: list[dict[str, Tensor]],
    aux: list[tuple[Tensor, Tensor]] = (),
    config: CriterionConfig = CriterionConfig(),
) -> tuple[Tensor, dict[str, float]]:
    """Total weighted loss and its parts.

    logits (B, Q, C+1) with no-object last (or (B, Q, C) with `config.sigmoid`); boxes (B, Q, 4) cxcywh in [0, 1];
    per image a dict of `labels` (T_i,) in 0..C-1 and `boxes` (T_i, 4) cxcywh; `aux` the (logits, boxes) of earlier
    decoder layers. Parts (floats, for logging): loss_ce, loss_bbox, loss_giou of the last layer,
    the same with suffix _0, _1, ... per auxiliary output, and `loss` (the total).
    """
    num_boxes = max(float(sum(len(t["boxes"]) for t in targets)), 1.0)
    weights = {"loss_ce": config.class_weight, "loss_bbox": config.weight_bbox, "loss_giou": config.weight_giou}
    total = logits.new_zeros(())
    parts: dict[str, float] = {}
    outputs = [("", logits, boxes)] + [
        (f"_{i}", aux_logits, aux_boxes) for i, (aux_logits, aux_boxes) in enumerate(aux)
    ]
    for suffix, out_logits, out_boxes in outputs:
        terms = _one_output(out_logits.float(), out_boxes.float(), targets, num_boxes, config)
        for name, value in terms.items():
            total = total + weights[name] * value
            parts[name + suffix] = float(value.detach())
    parts["loss"] = float(total.detach())
    return total, parts
