"""A seeded, COCO-format detection dataset of flat shapes on textured backgrounds.

Layout written under OUT (what `aitk detect train --data OUT` reads):

    OUT/train/000001.png ...            OUT/annotations/instances_train.json
    OUT/val/000001.png ...              OUT/annotations/instances_val.json

Each object is drawn first into its own mask, and its box is that mask's exact pixel extent, so
boxes are exact. Objects do not overlap (a covered object would make its box a lie). Shape colour is
drawn independently of the class, so a detector has to learn the shape, not the colour. Image i of a
split depends only on (seed, split, i): a dataset grown from 100 to 200 images keeps the first 100.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from aitk.detect.config import SynthConfig
from aitk.engine.errors import UsageError
from aitk.engine.fileio import atomic_write_bytes, atomic_write_text

SPLITS = ("train", "val")
TEXTURES = ("noise", "stripes", "gradient", "checker")
# Saturated colours for shapes; backgrounds are kept greyish so every shape stands out.
PALETTE = (
    (230, 40, 40),
    (40, 200, 60),
    (50, 90, 235),
    (240, 200, 30),
    (220, 60, 220),
    (30, 210, 220),
    (250, 140, 20),
    (245, 245, 245),
)


def _texture(rng: np.random.Generator, size: int) -> np.ndarray:
    """A greyish (size, size, 3) uint8 background: noise, stripes, a gradient or a checkerboard."""
    kind = TEXTURES[rng.integers(len(TEXTURES))]
    base = rng.uniform(60, 150)
    tint = rng.uniform(-15, 15, size=3)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    if kind == "noise":
        grey = base + rng.normal(0, 18, size=(size, size))
    elif kind == "stripes":
        angle, period = rng.uniform(0, math.pi), rng.uniform(6, 20)
        grey = base + 25 * np.sin(2 * math.pi * (xx * math.cos(angle) + yy * math.sin(angle)) / period)
    elif kind == "gradient":
        angle = rng.uniform(0, 2 * math.pi)
        grey = base + 50 * ((xx * math.cos(angle) + yy * math.sin(angle)) / size - 0.5)
    else:
        cell = int(rng.integers(8, 24))
        grey = base + 20 * (((xx // cell + yy // cell) % 2) * 2 - 1)
    rgb = grey[..., None] + tint + rng.normal(0, 4, size=(size, size, 3))  # a little grain on every texture
    return rgb.clip(0, 255).astype(np.uint8)


def _polygon(shape: str, cx: float, cy: float, r: float, angle: float) -> list[tuple[float, float]]:
    """Vertices of a square, triangle, cross or star of circumradius r, rotated by angle."""
    if shape == "square":
        radii, points = [r] * 4, 4
    elif shape == "triangle":
        radii, points = [r] * 3, 3
    elif shape == "star":
        radii, points = [r, 0.45 * r] * 5, 10
    else:  # cross: 12 corners of a plus sign with arms a third of its width
        a, b = r / 3, r
        corners = [
            (a, b),
            (a, a),
            (b, a),
            (b, -a),
            (a, -a),
            (a, -b),
            (-a, -b),
            (-a, -a),
            (-b, -a),
            (-b, a),
            (-a, a),
            (-a, b),
        ]
        c, s = math.cos(angle), math.sin(angle)
        return [(cx + x * c - y * s, cy + x * s + y * c) for x, y in corners]
    step = 2 * math.pi / points
    return [
        (cx + rad * math.cos(angle + k * step), cy + rad * math.sin(angle + k * step)) for k, rad in enumerate(radii)
    ]


def draw_shape_mask(shape: str, size: int, cx: float, cy: float, r: float, angle: float) -> Image.Image:
    """The shape as a binary 'L' mask of the whole image (255 inside)."""
    mask = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(mask)
    if shape == "circle":
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=255)
    else:
        draw.polygon(_polygon(shape, cx, cy, r, angle), fill=255)
    return mask


def _overlaps(box: tuple[int, int, int, int], others: list[tuple[int, int, int, int]], gap: int = 2) -> bool:
    x0, y0, x1, y1 = box
    return any(x0 < b[2] + gap and b[0] < x1 + gap and y0 < b[3] + gap and b[1] < y1 + gap for b in others)


def render_image(config: SynthConfig, split: str, index: int) -> tuple[Image.Image, list[dict]]:
    """Image `index` of `split` and its objects: [{category_id, bbox [x, y, w, h]}] (ids from 1)."""
    rng = np.random.default_rng([config.seed, SPLITS.index(split), index])
    size = config.size
    image = Image.fromarray(_texture(rng, size))
    wanted = int(rng.integers(1, config.max_objects + 1))
    objects, boxes = [], []
    for _ in range(wanted * 20):  # rejection sampling for non-overlapping places
        if len(objects) == wanted:
            break
        category = int(rng.integers(len(config.classes)))
        r = 0.5 * size * rng.uniform(config.min_scale, config.max_scale)
        cx, cy = rng.uniform(r, size - r), rng.uniform(r, size - r)
        mask = draw_shape_mask(config.classes[category], size, cx, cy, r, rng.uniform(0, 2 * math.pi))
        box = mask.getbbox()  # (x0, y0, x1, y1), x1/y1 exclusive: the exact pixel extent
        if box is None or _overlaps(box, boxes):
            continue
        colour = PALETTE[rng.integers(len(PALETTE))]
        image.paste(Image.new("RGB", (size, size), colour), (0, 0), mask)
        boxes.append(box)
        x0, y0, x1, y1 = box
        objects.append({"category_id": category + 1, "bbox": [x0, y0, x1 - x0, y1 - y0]})
    return image, objects


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def generate(out: Path, config: SynthConfig, force: bool = False) -> Iterator[tuple[str, int, int]]:
    """Write the dataset; yields (split, images done, images in split) after each image.

    A folder that exists and is not empty is refused unless `force` (then files are replaced).
    """
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not force:
        raise UsageError(f"{out} exists and is not empty", hint="pick a new folder or pass --force to overwrite")
    categories = [{"id": i + 1, "name": name, "supercategory": "shape"} for i, name in enumerate(config.classes)]
    for split in SPLITS:
        images, annotations = [], []
        total = config.count(split)
        for i in range(total):
            image, objects = render_image(config, split, i)
            name = f"{i + 1:06d}.png"
            atomic_write_bytes(out / split / name, _png(image))
            images.append({"id": i + 1, "file_name": name, "width": config.size, "height": config.size})
            for obj in objects:
                w, h = obj["bbox"][2:]
                annotations.append({"id": len(annotations) + 1, "image_id": i + 1, "area": w * h, "iscrowd": 0, **obj})
            yield split, i + 1, total
        coco = {
            "info": {"description": f"aitk detect synth, seed {config.seed}"},
            "images": images,
            "annotations": annotations,
            "categories": categories,
        }
        atomic_write_text(out / "annotations" / f"instances_{split}.json", json.dumps(coco))
