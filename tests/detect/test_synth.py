"""`aitk detect synth`: a seeded COCO dataset whose boxes are the exact extent of the drawn shapes."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from aitk.detect.coco_io import load_ground_truth
from aitk.detect.config import SHAPES, SynthConfig
from aitk.detect.synth import _texture, generate, render_image
from aitk.engine.errors import UsageError


def _write(out, **kwargs):
    for _ in generate(out, SynthConfig(**kwargs)):
        pass
    return out


def test_layout_is_valid_coco(tmp_path):
    out = _write(tmp_path / "ds", images=6, val_images=3, size=64, classes=("circle", "star"))
    for split, count in (("train", 6), ("val", 3)):
        path = out / "annotations" / f"instances_{split}.json"
        gt, images, categories = load_ground_truth(path)  # the evaluator's own strict reader accepts it
        assert len(images) == count and [c["name"] for c in categories] == ["circle", "star"]
        data = json.loads(path.read_text())
        for record in data["images"]:
            assert Image.open(out / split / record["file_name"]).size == (64, 64)
        assert all(a["category_id"] in (1, 2) for a in data["annotations"])
    assert not list(out.rglob(".aitk-tmp-*"))


def test_same_seed_same_bytes_other_seed_differs(tmp_path):
    a = _write(tmp_path / "a", images=3, val_images=1, size=48, seed=3)
    b = _write(tmp_path / "b", images=3, val_images=1, size=48, seed=3)
    c = _write(tmp_path / "c", images=3, val_images=1, size=48, seed=4)
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert all((a / f).read_bytes() == (b / f).read_bytes() for f in files)
    assert (a / "train" / "000001.png").read_bytes() != (c / "train" / "000001.png").read_bytes()


@pytest.mark.parametrize("shape", SHAPES)
def test_boxes_are_the_exact_extent_of_the_shape(shape):
    """Pixels that differ from the bare background lie inside the boxes and touch all four edges of each."""
    config = SynthConfig(images=1, size=96, classes=(shape,), max_objects=3, seed=11)
    for index in range(4):
        image, objects = render_image(config, "train", index)
        background = _texture(np.random.default_rng([config.seed, 0, index]), config.size)  # drawn first, same stream
        changed = (np.asarray(image) != background).any(-1)  # (H, W) where a shape was painted
        covered = np.zeros_like(changed)
        assert objects
        for obj in objects:
            x, y, w, h = obj["bbox"]
            assert w > 0 and h > 0 and x >= 0 and y >= 0 and x + w <= 96 and y + h <= 96
            inside = changed[y : y + h, x : x + w]
            assert inside[0].any() and inside[-1].any() and inside[:, 0].any() and inside[:, -1].any()
            covered[y : y + h, x : x + w] = True
        assert not (changed & ~covered).any()


def test_mask_box_matches_annotation():
    """The annotation equals the bounding box of the shape's own mask (x1/y1 exclusive), recomputed here."""
    from aitk.detect.synth import draw_shape_mask

    mask = draw_shape_mask("triangle", 64, 30.0, 34.0, 12.0, 0.3)
    rows, cols = np.nonzero(np.asarray(mask))
    assert mask.getbbox() == (cols.min(), rows.min(), cols.max() + 1, rows.max() + 1)


def test_refuses_non_empty_folder_unless_forced(tmp_path):
    out = tmp_path / "ds"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    with pytest.raises(UsageError, match="--force"):
        _write(out, images=2, size=32)
    for _ in generate(out, SynthConfig(images=2, val_images=1, size=32), force=True):
        pass
    assert (out / "mine.txt").read_text() == "keep me" and (out / "train" / "000002.png").is_file()


def test_rejects_unknown_class():
    with pytest.raises(UsageError, match="hexagon"):
        SynthConfig(classes=("circle", "hexagon"))
