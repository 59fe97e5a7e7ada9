"""Reading COCO ground-truth and results files, with one-line errors that name the file and the fix."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from pathlib import Path

import numpy as np

from aitk.detect.coco_eval import Boxes, CocoMetrics, evaluate
from aitk.engine.errors import UsageError

GT_HINT = "expected a COCO object with 'images', 'annotations' and 'categories'; see docs/detect.md"
PRED_HINT = "expected a COCO results list of {image_id, category_id, bbox: [x, y, w, h], score}; see docs/detect.md"


def _read_json(path: Path, what: str) -> object:
    if not path.is_file():
        raise UsageError(f"{path}: no such {what} file", hint="check the path")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: not valid JSON ({exc})", hint=f"{what} must be a JSON file") from None


def _bbox(value: object, path: Path, where: str, hint: str) -> list[float]:
    ok = (
        isinstance(value, list)
        and len(value) == 4
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
    )
    if not ok or not all(math.isfinite(v) for v in value) or value[2] < 0 or value[3] < 0:
        raise UsageError(f"{path}: {where} has bbox {value!r}, not [x, y, w, h] with w, h >= 0", hint=hint)
    return [float(v) for v in value]


def _field(record: dict, key: str, kind: type | tuple, path: Path, where: str, hint: str):
    value = record.get(key)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise UsageError(f"{path}: {where} has no valid '{key}'", hint=hint)
    return value


def load_ground_truth(path: Path) -> tuple[dict, list[int], list[dict]]:
    """A COCO instances file -> ({(image_id, category_id): Boxes}, image ids, categories).

    `area` defaults to the box's w*h and `iscrowd` to 0 where absent (pycocotools needs both).
    """
    data = _read_json(path, "ground-truth")
    if not isinstance(data, dict) or not all(
        isinstance(data.get(k), list) for k in ("images", "annotations", "categories")
    ):
        raise UsageError(f"{path}: not a COCO ground-truth file", hint=GT_HINT)
    images = []
    for i, image in enumerate(data["images"]):
        if not isinstance(image, dict):
            raise UsageError(f"{path}: images[{i}] is not an object", hint=GT_HINT)
        images.append(_field(image, "id", int, path, f"images[{i}]", GT_HINT))
    categories = []
    for i, cat in enumerate(data["categories"]):
        if not isinstance(cat, dict):
            raise UsageError(f"{path}: categories[{i}] is not an object", hint=GT_HINT)
        categories.append(
            {"id": _field(cat, "id", int, path, f"categories[{i}]", GT_HINT), "name": str(cat.get("name", cat["id"]))}
        )
    image_set, category_set = set(images), {c["id"] for c in categories}
    grouped: dict[tuple[int, int], list[tuple[list[float], float, bool]]] = defaultdict(list)
    for i, ann in enumerate(data["annotations"]):
        where = f"annotations[{i}]"
        if not isinstance(ann, dict):
            raise UsageError(f"{path}: {where} is not an object", hint=GT_HINT)
        image_id = _field(ann, "image_id", int, path, where, GT_HINT)
        category_id = _field(ann, "category_id", int, path, where, GT_HINT)
        if image_id not in image_set:
            raise UsageError(
                f"{path}: {where} names image_id {image_id}, which is not in 'images'",
                hint="add the image or drop the annotation",
            )
        if category_id not in category_set:
            raise UsageError(
                f"{path}: {where} names category_id {category_id}, which is not in 'categories'",
                hint="add the category or drop the annotation",
            )
        box = _bbox(ann.get("bbox"), path, where, GT_HINT)
        area = ann.get("area", box[2] * box[3])
        if not isinstance(area, (int, float)) or isinstance(area, bool):
            raise UsageError(f"{path}: {where} has a non-numeric 'area'", hint=GT_HINT)
        grouped[image_id, category_id].append((box, float(area), bool(ann.get("iscrowd", 0))))
    gt = {
        key: Boxes(
            np.array([b for b, _, _ in rows]).reshape(-1, 4),
            np.array([a for _, a, _ in rows]),
            np.array([c for _, _, c in rows], dtype=bool),
        )
        for key, rows in grouped.items()
    }
    return gt, images, categories


def load_predictions(path: Path, images: list[int], categories: list[dict]) -> dict:
    """A COCO results list -> {(image_id, category_id): Boxes}, in file order. Every image and
    category must exist in the ground truth (a typo there would silently score zero)."""
    data = _read_json(path, "predictions")
    if not isinstance(data, list):
        raise UsageError(f"{path}: not a COCO results list", hint=PRED_HINT)
    image_set, category_set = set(images), {c["id"] for c in categories}
    grouped: dict[tuple[int, int], list[tuple[list[float], float]]] = defaultdict(list)
    for i, det in enumerate(data):
        where = f"entry {i}"
        if not isinstance(det, dict):
            raise UsageError(f"{path}: {where} is not an object", hint=PRED_HINT)
        image_id = _field(det, "image_id", int, path, where, PRED_HINT)
        category_id = _field(det, "category_id", int, path, where, PRED_HINT)
        score = float(_field(det, "score", (int, float), path, where, PRED_HINT))
        if image_id not in image_set:
            raise UsageError(
                f"{path}: {where} names image_id {image_id}, which the ground truth does not have",
                hint="predict on the ground truth's images only",
            )
        if category_id not in category_set:
            known = ", ".join(str(c) for c in sorted(category_set)[:10]) + (", ..." if len(category_set) > 10 else "")
            raise UsageError(
                f"{path}: {where} names category_id {category_id}, which the ground truth does not have",
                hint=f"use the ground truth's ids: {known}",
            )
        grouped[image_id, category_id].append((_bbox(det.get("bbox"), path, where, PRED_HINT), score))
    dt = {}
    for key, rows in grouped.items():
        xywh = np.array([b for b, _ in rows]).reshape(-1, 4)
        dt[key] = Boxes(xywh, xywh[:, 2] * xywh[:, 3], score=np.array([s for _, s in rows]))
    return dt


def evaluate_files(gt_path: Path, pred_path: Path) -> CocoMetrics:
    """`aitk detect eval`: read both files, check them against each other, score with the COCO protocol."""
    gt, images, categories = load_ground_truth(gt_path)
    dt = load_predictions(pred_path, images, categories)
    return evaluate(gt, dt, images, categories)
