"""`aitk detect eval` through the real CLI: table, JSON, per-class, and one-line errors with exit 2."""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_aitk
from tests.detect.test_coco_eval import make_fixture


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("detect")
    gt, results = make_fixture(0)
    (folder / "gt.json").write_text(json.dumps(gt))
    (folder / "pred.json").write_text(json.dumps(results))
    return folder, gt, results


def test_eval_json_matches_the_library(files):
    from aitk.detect.coco_io import evaluate_files

    folder, gt, results = files
    result = run_aitk(
        "detect", "eval", "--gt", str(folder / "gt.json"), "--pred", str(folder / "pred.json"), "--json", "--per-class"
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    expected = evaluate_files(folder / "gt.json", folder / "pred.json")
    assert report["metrics"] == pytest.approx(expected.stats, abs=1e-6)
    assert (report["images"], report["categories"], report["detections"]) == (10, 4, len(results))
    assert [c["id"] for c in report["per_class"]] == [1, 2, 3, 7]
    assert report["per_class"][-1]["AP"] is None  # category 7 has no ground truth: null, not -1


def test_eval_table(files):
    folder, _, _ = files
    result = run_aitk(
        "detect", "eval", "--gt", str(folder / "gt.json"), "--pred", str(folder / "pred.json"), "--per-class"
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("10 images, 4 categories")
    assert any(line.startswith("AP50 ") for line in lines) and any(line.startswith("AR_large ") for line in lines)
    assert any(line.split()[:2] == ["7", "class7"] and line.split()[2] == "-" for line in lines)


def write(folder, name, data) -> str:
    path = folder / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


@pytest.mark.parametrize(
    "case, expected",
    [
        ("missing", "no such predictions file"),
        ("invalid", "not valid JSON"),
        ("not_a_list", "not a COCO results list"),
        ("unknown_image", "image_id 999, which the ground truth does not have"),
        ("unknown_category", "category_id 42, which the ground truth does not have"),
        ("bad_bbox", "not [x, y, w, h]"),
    ],
)
def test_bad_predictions_exit_2_with_one_line(files, tmp_path, case, expected):
    folder, _, results = files
    detection = dict(results[0])
    pred = {
        "missing": lambda: str(tmp_path / "nope.json"),
        "invalid": lambda: write(tmp_path, "p.json", "[{"),
        "not_a_list": lambda: write(tmp_path, "p.json", {"image_id": 1}),
        "unknown_image": lambda: write(tmp_path, "p.json", [{**detection, "image_id": 999}]),
        "unknown_category": lambda: write(tmp_path, "p.json", [detection, {**detection, "category_id": 42}]),
        "bad_bbox": lambda: write(tmp_path, "p.json", [{**detection, "bbox": [1, 2, -3, 4]}]),
    }[case]()
    result = run_aitk("detect", "eval", "--gt", str(folder / "gt.json"), "--pred", pred)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and expected in result.stderr and pred in result.stderr, result.stderr
    assert result.stdout == ""


def test_bad_ground_truth_exit_2(tmp_path, files):
    folder, _, _ = files
    gt = write(tmp_path, "gt.json", {"images": [{"id": 1}], "annotations": []})
    result = run_aitk("detect", "eval", "--gt", gt, "--pred", str(folder / "pred.json"))
    assert result.returncode == 2 and "not a COCO ground-truth file" in result.stderr and gt in result.stderr


def test_a_missing_input_is_a_failed_record_with_json(tmp_path):
    result = run_aitk("detect", "predict", str(tmp_path / "nope.jpg"), "--json", "-q")
    assert result.returncode == 1
    [record] = [json.loads(line) for line in result.stdout.splitlines()]
    assert record["status"] == "failed" and record["input"].endswith("nope.jpg") and "no such file" in record["error"]
    assert "1 of 1 inputs failed" in result.stderr
