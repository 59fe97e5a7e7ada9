"""`aitk.detect.coco_eval` against pycocotools on generated fixtures: every metric within 1e-3."""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest

from aitk.detect.coco_eval import STAT_NAMES, iou_xywh
from aitk.detect.coco_io import evaluate_files

pytest.importorskip("pycocotools")


def make_fixture(seed: int) -> tuple[dict, list[dict]]:
    """A COCO ground truth and results list with every case the protocol treats specially: boxes of
    all three area ranges, crowd boxes (with detections inside them), missed objects, duplicates,
    false positives, images with no objects, a category with no objects, tied scores, >100 detections."""
    rng = np.random.default_rng(seed)
    categories = [{"id": c, "name": f"class{c}"} for c in (1, 2, 3, 7)]  # 7 never appears in the ground truth
    images = [{"id": i, "width": 640, "height": 480} for i in range(1, 11)]
    annotations, results = [], []

    def add_gt(image: int, category: int, box: list[float], crowd: bool = False) -> None:
        annotations.append(
            {
                "id": len(annotations) + 1,
                "image_id": image,
                "category_id": category,
                "bbox": box,
                "area": box[2] * box[3] * rng.uniform(0.6, 1.0),
                "iscrowd": int(crowd),
            }
        )

    def add_dt(image: int, category: int, box: list[float], score: float) -> None:
        results.append(
            {
                "image_id": image,
                "category_id": category,
                "bbox": [float(v) for v in box],
                "score": round(float(score), 2),
            }
        )

    for image in range(1, 10):  # image 10 has no objects, only false positives
        for _ in range(rng.integers(1, 7)):
            side = float(rng.choice([rng.uniform(8, 30), rng.uniform(35, 90), rng.uniform(100, 250)]))
            w, h = side * rng.uniform(0.7, 1.3), side * rng.uniform(0.7, 1.3)
            box = [float(rng.uniform(0, 640 - w)), float(rng.uniform(0, 480 - h)), w, h]
            category = int(rng.choice([1, 2, 3]))
            add_gt(image, category, box)
            roll = rng.uniform()
            if roll < 0.15:
                continue  # missed
            jitter = rng.normal(0, 0.12, 4) * [w, h, w, h]
            add_dt(image, category, np.add(box, jitter).clip(min=[0, 0, 1, 1]), rng.uniform(0.3, 1.0))
            if roll > 0.8:  # a duplicate of the same object
                add_dt(
                    image,
                    category,
                    np.add(box, rng.normal(0, 0.2, 4) * [w, h, w, h]).clip(min=[0, 0, 1, 1]),
                    rng.uniform(0.1, 0.9),
                )
            if roll > 0.9:  # the right box with the wrong class
                add_dt(image, int(rng.choice([c for c in (1, 2, 3, 7) if c != category])), box, rng.uniform(0.1, 0.9))
        if image % 3 == 0:  # a crowd region, with detections inside it
            crowd = [100.0, 100.0, 200.0, 150.0]
            add_gt(image, 1, crowd, crowd=True)
            for _ in range(3):
                add_dt(
                    image,
                    1,
                    [crowd[0] + rng.uniform(0, 120), crowd[1] + rng.uniform(0, 90), 40, 40],
                    rng.uniform(0.2, 0.9),
                )
    for image in range(1, 11):  # false positives everywhere
        for _ in range(rng.integers(0, 5)):
            w, h = rng.uniform(5, 200, 2)
            add_dt(
                image,
                int(rng.choice([1, 2, 3, 7])),
                [rng.uniform(0, 400), rng.uniform(0, 300), w, h],
                rng.uniform(0, 0.6),
            )
    for _ in range(110):  # more than 100 detections in one image and class: maxDets cuts them
        add_dt(
            2,
            2,
            [rng.uniform(0, 600), rng.uniform(0, 440), rng.uniform(5, 40), rng.uniform(5, 40)],
            rng.uniform(0, 0.5),
        )
    return {"images": images, "annotations": annotations, "categories": categories}, results


def pycocotools_metrics(gt: dict, results: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = json.loads(json.dumps(gt))
        coco.createIndex()
        evaluator = COCOeval(coco, coco.loadRes(json.loads(json.dumps(results))), "bbox")
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    precision = evaluator.eval["precision"][:, :, :, 0, -1]  # (T, R, K) all areas, 100 detections
    per_class = np.array([np.mean(p[p > -1]) if (p > -1).any() else -1 for p in precision.transpose(2, 0, 1)])
    return evaluator.stats, per_class


def evaluate_dicts(folder, gt: dict, results: list[dict]):
    (folder / "gt.json").write_text(json.dumps(gt))
    (folder / "pred.json").write_text(json.dumps(results))
    return evaluate_files(folder / "gt.json", folder / "pred.json")


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_agrees_with_pycocotools(tmp_path, seed):
    gt, results = make_fixture(seed)
    ours = evaluate_dicts(tmp_path, gt, results)
    reference, reference_per_class = pycocotools_metrics(gt, results)
    for name, value in zip(STAT_NAMES, reference):
        assert ours.stats[name] == pytest.approx(value, abs=1e-3), name
    assert [c["AP"] for c in ours.per_class] == pytest.approx(list(reference_per_class), abs=1e-3)
    assert ours.per_class[-1]["AP"] == -1  # category 7 has no ground truth
    assert len({round(v, 3) for v in ours.stats.values()}) > 6  # the fixture exercises the metrics, not just 0 and 1


def test_perfect_predictions_score_one(tmp_path):
    gt, _ = make_fixture(5)
    results = [
        {"image_id": a["image_id"], "category_id": a["category_id"], "bbox": a["bbox"], "score": 1.0}
        for a in gt["annotations"]
        if not a["iscrowd"]
    ]
    reference, _ = pycocotools_metrics(gt, results)
    ours = evaluate_dicts(tmp_path, gt, results)
    for name, value in zip(STAT_NAMES, reference):
        assert ours.stats[name] == pytest.approx(value, abs=1e-6), name
    assert ours.stats["AP"] == pytest.approx(1.0)


def test_no_predictions_scores_zero(tmp_path):
    gt, _ = make_fixture(6)
    ours = evaluate_dicts(tmp_path, gt, [])
    assert ours.stats["AP"] == 0 and ours.stats["AR100"] == 0


def test_crowd_iou_uses_detection_area():
    dt = np.array([[0.0, 0.0, 10.0, 10.0]])
    gt = np.array([[0.0, 0.0, 100.0, 100.0]])
    assert iou_xywh(dt, gt, np.array([True]))[0, 0] == pytest.approx(1.0)
    assert iou_xywh(dt, gt, np.array([False]))[0, 0] == pytest.approx(0.01)


def test_missing_area_and_iscrowd_default_like_a_plain_box(tmp_path):
    gt, results = make_fixture(4)
    for a in gt["annotations"]:
        a["area"] = a["bbox"][2] * a["bbox"][3]
    expected = evaluate_dicts(tmp_path, gt, results).stats
    for a in gt["annotations"]:
        del a["area"]
        if not a["iscrowd"]:
            del a["iscrowd"]
    assert evaluate_dicts(tmp_path, gt, results).stats == expected
