"""COCO-protocol box evaluation, written out from the protocol (pycocotools' COCOeval, iouType="bbox").

Per image and class, detections (highest score first, at most 100) are matched greedily to the
ground truth at each IoU threshold 0.50:0.05:0.95. Crowd boxes and boxes outside the area range
are "ignored": a detection matched to one counts neither as a hit nor as a false positive, and an
unmatched detection outside the area range is ignored too. Precision is made monotone and read at
101 recall points. Where a class has no (non-ignored) ground truth the metric is -1, as in COCO.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

IOU_THRESHOLDS = np.linspace(0.5, 0.95, 10)
RECALL_POINTS = np.linspace(0.0, 1.0, 101)
MAX_DETECTIONS = (1, 10, 100)
# name -> [min, max] box area in pixels (COCO's "area" of the ground truth, w*h of a detection)
AREA_RANGES = {"all": (0.0, 1e10), "small": (0.0, 32.0**2), "medium": (32.0**2, 96.0**2), "large": (96.0**2, 1e10)}


@dataclass
class Boxes:
    """The boxes of one image and one class. xywh (N, 4); for ground truth `crowd` and `area`, for
    detections `score` (the area of a detection is its w*h)."""

    xywh: np.ndarray
    area: np.ndarray
    crowd: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    score: np.ndarray = field(default_factory=lambda: np.zeros(0))


@dataclass
class CocoMetrics:
    """The twelve COCO summary numbers (-1 where undefined) and per-class AP/AR."""

    stats: dict[str, float]
    per_class: list[dict]
    images: int
    categories: int
    detections: int

    def as_dict(self, per_class: bool = False) -> dict:
        """For JSON: undefined metrics (COCO's -1) become null."""
        clean = lambda v: None if v == -1 else round(v, 6)  # noqa: E731
        out = {"images": self.images, "categories": self.categories, "detections": self.detections}
        out["metrics"] = {name: clean(value) for name, value in self.stats.items()}
        if per_class:
            out["per_class"] = [
                {k: clean(v) if k in ("AP", "AP50", "AP75", "AR100") else v for k, v in c.items()}
                for c in self.per_class
            ]
        return out


STAT_NAMES = (
    "AP",
    "AP50",
    "AP75",
    "AP_small",
    "AP_medium",
    "AP_large",
    "AR1",
    "AR10",
    "AR100",
    "AR_small",
    "AR_medium",
    "AR_large",
)


def iou_xywh(dt: np.ndarray, gt: np.ndarray, crowd: np.ndarray) -> np.ndarray:
    """(D,4) x (G,4) xywh -> (D,G) IoU; against a crowd box the denominator is the detection's area."""
    dt_xyxy = np.concatenate([dt[:, :2], dt[:, :2] + dt[:, 2:]], axis=1)
    gt_xyxy = np.concatenate([gt[:, :2], gt[:, :2] + gt[:, 2:]], axis=1)
    wh = np.minimum(dt_xyxy[:, None, 2:], gt_xyxy[None, :, 2:]) - np.maximum(dt_xyxy[:, None, :2], gt_xyxy[None, :, :2])
    wh = wh.clip(min=0)  # (D, G, 2)
    inter = wh[..., 0] * wh[..., 1]
    dt_area = (dt[:, 2] * dt[:, 3])[:, None]
    union = np.where(crowd[None, :], dt_area, dt_area + (gt[:, 2] * gt[:, 3])[None, :] - inter)
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def match_image(gt: Boxes, dt: Boxes, area_range: tuple[float, float]) -> dict | None:
    """Greedy matching in one image for one class and area range, over all IoU thresholds.

    `dt` is already sorted by score and cut to 100. Returns per threshold which detections hit
    (T, D), which are ignored (T, D), and how many ground-truth boxes count; None when the image
    has neither ground truth nor detections of the class.
    """
    n_gt, n_dt = len(gt.area), len(dt.area)
    if n_gt == 0 and n_dt == 0:
        return None
    gt_ignore = gt.crowd | (gt.area < area_range[0]) | (gt.area > area_range[1])
    order = np.argsort(gt_ignore, kind="mergesort")  # ignored ground truth last
    gt_ignore, crowd = gt_ignore[order], gt.crowd[order]
    ious = iou_xywh(dt.xywh, gt.xywh[order], crowd) if n_gt and n_dt else np.zeros((n_dt, n_gt))
    T = len(IOU_THRESHOLDS)
    dt_hit = np.zeros((T, n_dt), dtype=bool)
    dt_ignore = np.zeros((T, n_dt), dtype=bool)
    for t, threshold in enumerate(IOU_THRESHOLDS):
        gt_taken = np.zeros(n_gt, dtype=bool)
        for d in range(n_dt):
            best, m = min(threshold, 1 - 1e-10), -1
            for g in range(n_gt):
                if gt_taken[g] and not crowd[g]:
                    continue  # a crowd box can absorb any number of detections
                if m > -1 and not gt_ignore[m] and gt_ignore[g]:
                    break  # already matched to a counted box; the rest are ignored ones
                if ious[d, g] < best:
                    continue
                best, m = ious[d, g], g
            if m == -1:
                continue
            dt_ignore[t, d] = gt_ignore[m]
            dt_hit[t, d] = True
            gt_taken[m] = True
    outside = (dt.area < area_range[0]) | (dt.area > area_range[1])
    dt_ignore |= ~dt_hit & outside[None, :]
    return {"score": dt.score, "hit": dt_hit, "ignore": dt_ignore, "n_gt": int((~gt_ignore).sum())}


def accumulate(results: list[dict], max_det: int) -> tuple[np.ndarray, np.ndarray]:
    """Precision at the 101 recall points (T, R) and final recall (T,) over the images of one class."""
    T, R = len(IOU_THRESHOLDS), len(RECALL_POINTS)
    precision, recall = -np.ones((T, R)), -np.ones(T)
    results = [r for r in results if r is not None]
    n_gt = sum(r["n_gt"] for r in results)
    if not results or n_gt == 0:
        return precision, recall
    scores = np.concatenate([r["score"][:max_det] for r in results])
    order = np.argsort(-scores, kind="mergesort")  # ties keep image order, as COCOeval does
    hit = np.concatenate([r["hit"][:, :max_det] for r in results], axis=1)[:, order]
    ignore = np.concatenate([r["ignore"][:, :max_det] for r in results], axis=1)[:, order]
    tp = np.cumsum(hit & ~ignore, axis=1, dtype=float)  # (T, D)
    fp = np.cumsum(~hit & ~ignore, axis=1, dtype=float)
    for t in range(T):
        rc = tp[t] / n_gt
        pr = tp[t] / (fp[t] + tp[t] + np.spacing(1))
        recall[t] = rc[-1] if len(rc) else 0.0
        pr = np.maximum.accumulate(pr[::-1])[::-1]  # precision envelope: best precision at this recall or beyond
        idx = np.searchsorted(rc, RECALL_POINTS, side="left")
        q = np.zeros(R)
        valid = idx < len(pr)
        q[valid] = pr[idx[valid]]
        precision[t] = q
    return precision, recall


def _mean(values: np.ndarray) -> float:
    kept = values[values > -1]
    return float(kept.mean()) if kept.size else -1.0


def evaluate(gt: dict, dt: dict, images: list[int], categories: list[dict]) -> CocoMetrics:
    """COCO box metrics. `gt` and `dt` map (image_id, category_id) to Boxes (detections in file order);
    `images` are the ground truth's image ids, `categories` its category dicts (id, name)."""
    images = sorted(images)
    categories = sorted(categories, key=lambda c: c["id"])
    empty = Boxes(np.zeros((0, 4)), np.zeros(0), np.zeros(0, dtype=bool), np.zeros(0))
    T, R, K, A, M = len(IOU_THRESHOLDS), len(RECALL_POINTS), len(categories), len(AREA_RANGES), len(MAX_DETECTIONS)
    precision = -np.ones((T, R, K, A, M))
    recall = -np.ones((T, K, A, M))
    for k, category in enumerate(categories):
        per_image = []
        for image in images:
            g = gt.get((image, category["id"]), empty)
            d = dt.get((image, category["id"]), empty)
            order = np.argsort(-d.score, kind="mergesort")[: MAX_DETECTIONS[-1]]
            per_image.append((g, Boxes(d.xywh[order], d.area[order], score=d.score[order])))
        for a, area_range in enumerate(AREA_RANGES.values()):
            matched = [match_image(g, d, area_range) for g, d in per_image]
            for m, max_det in enumerate(MAX_DETECTIONS):
                precision[:, :, k, a, m], recall[:, k, a, m] = accumulate(matched, max_det)
    stats = _summarize(precision, recall)
    gt_boxes = Counter()  # category id -> non-crowd ground-truth boxes
    for (_, category_id), boxes in gt.items():
        gt_boxes[category_id] += int((~boxes.crowd).sum())
    per_class = [
        {
            "id": category["id"],
            "name": category.get("name", str(category["id"])),
            "AP": _mean(precision[:, :, k, 0, -1]),
            "AP50": _mean(precision[0, :, k, 0, -1]),
            "AP75": _mean(precision[5, :, k, 0, -1]),
            "AR100": _mean(recall[:, k, 0, -1]),
            "gt": gt_boxes[category["id"]],
        }
        for k, category in enumerate(categories)
    ]
    detections = sum(len(d.area) for d in dt.values())
    return CocoMetrics(stats, per_class, len(images), len(categories), detections)


def _summarize(precision: np.ndarray, recall: np.ndarray) -> dict[str, float]:
    """COCOeval.summarize's twelve numbers. precision (T,R,K,A,M), recall (T,K,A,M); A: all, small,
    medium, large; M: 1, 10, 100 detections; threshold index 0 is IoU .50 and 5 is .75."""
    ap = lambda a, t=slice(None): _mean(precision[t, :, :, a, -1])  # noqa: E731
    ar = lambda a, m=-1: _mean(recall[:, :, a, m])  # noqa: E731
    values = (ap(0), ap(0, 0), ap(0, 5), ap(1), ap(2), ap(3), ar(0, 0), ar(0, 1), ar(0), ar(1), ar(2), ar(3))
    return dict(zip(STAT_NAMES, values))
