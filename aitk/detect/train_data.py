"""COCO detection data for training: find the splits, load images resized into memory, make batches.

Accepted layouts under --data DIR (the first that exists wins):
- DIR/annotations/instances_{split}.json with images in DIR/{split}/ (what `aitk detect synth` writes)
- DIR/annotations/instances_{split}2017.json with images in DIR/{split}2017/ (the COCO download)
Any other layout: pass the json and image folder of each split explicitly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from aitk.detect.boxes import box_xywh_to_cxcywh, normalize_boxes
from aitk.detect.coco_io import load_ground_truth
from aitk.engine.errors import UsageError

IMAGENET_MEAN = (0.485, 0.456, 0.406)  # what DETR's image processor normalises with
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class SplitFiles:
    annotations: Path  # a COCO instances json
    images: Path  # the folder its file_names are relative to


def find_split(data: Path, split: str) -> SplitFiles | None:
    for suffix in ("", "2017"):
        candidate = SplitFiles(data / "annotations" / f"instances_{split}{suffix}.json", data / f"{split}{suffix}")
        if candidate.annotations.is_file():
            return candidate
    return None


@dataclass
class CocoSplit:
    """One split held in memory at training resolution."""

    pixels: Tensor  # (N, 3, S, S) uint8
    targets: list[dict[str, Tensor]]  # per image: labels (T,) int64 in 0..C-1, boxes (T, 4) cxcywh in [0, 1]
    image_ids: list[int]
    sizes: list[tuple[int, int]]  # original (width, height), to turn predictions back into pixels
    gt: dict  # coco_eval ground truth {(image_id, category_id): Boxes}, for validation AP
    categories: list[dict]  # [{id, name}] sorted by id
    skipped: list[str] = field(default_factory=list)  # one message per unreadable image

    def __len__(self) -> int:
        return len(self.image_ids)


def read_categories(files: SplitFiles) -> list[dict]:
    """The categories of a split ([{id, name}] by id), after a full check of the json."""
    _, _, categories = load_ground_truth(files.annotations)
    if not categories:
        raise UsageError(f"{files.annotations}: no categories", hint="a detection dataset needs at least one category")
    return sorted(categories, key=lambda c: c["id"])


def load_split(files: SplitFiles, size: int, label_of: dict[int, int]) -> CocoSplit:
    """Read a split, resizing every image to size x size (boxes stay valid: they are kept normalised).

    `label_of` maps COCO category id -> training label (0..C-1); annotations of other categories and
    crowd boxes are not trained on. An image that is missing or unreadable is skipped and reported.
    """
    from PIL import Image, UnidentifiedImageError

    gt, image_ids, categories = load_ground_truth(files.annotations)  # validates the json, one-line errors
    data = json.loads(files.annotations.read_text(encoding="utf-8"))
    by_image: dict[int, list[dict]] = {}
    for ann in data["annotations"]:
        if not ann.get("iscrowd", 0) and ann["category_id"] in label_of and ann["bbox"][2] > 0 and ann["bbox"][3] > 0:
            by_image.setdefault(ann["image_id"], []).append(ann)
    pixels, targets, kept_ids, sizes, skipped = [], [], [], [], []
    for record in data["images"]:
        path = files.images / str(record.get("file_name", ""))
        try:
            with Image.open(path) as image:
                width, height = image.size
                pixels.append(np.asarray(image.convert("RGB").resize((size, size), Image.BILINEAR)))
        except (OSError, UnidentifiedImageError) as exc:
            skipped.append(f"{path}: cannot read image ({type(exc).__name__}); it was left out of training")
            continue
        anns = by_image.get(record["id"], [])
        xywh = torch.tensor([a["bbox"] for a in anns], dtype=torch.float32).reshape(-1, 4)
        boxes = normalize_boxes(box_xywh_to_cxcywh(xywh), width, height).clamp(0, 1)
        targets.append(
            {"labels": torch.tensor([label_of[a["category_id"]] for a in anns], dtype=torch.int64), "boxes": boxes}
        )
        kept_ids.append(record["id"])
        sizes.append((width, height))
    if not kept_ids:
        raise UsageError(
            f"{files.annotations}: none of its {len(data['images'])} images could be read from {files.images}",
            hint="check the image folder",
        )
    kept = set(kept_ids)
    gt = {key: boxes for key, boxes in gt.items() if key[0] in kept}
    stack = torch.from_numpy(np.stack(pixels)).permute(0, 3, 1, 2).contiguous()  # (N, S, S, 3) -> (N, 3, S, S)
    return CocoSplit(stack, targets, kept_ids, sizes, gt, sorted(categories, key=lambda c: c["id"]), skipped)


def make_batch(
    split: CocoSplit, indices: Tensor, flip: Tensor, device: torch.device
) -> tuple[Tensor, Tensor, list[dict[str, Tensor]]]:
    """pixel_values (B, 3, S, S) normalised, pixel_mask (B, S, S) all ones, targets; images where
    `flip` is True are mirrored left-right, with their boxes."""
    images = split.pixels[indices].to(device).float().div_(255)
    flip = flip.to(device)
    images = torch.where(flip[:, None, None, None], images.flip(-1), images)
    mean = images.new_tensor(IMAGENET_MEAN)[:, None, None]
    std = images.new_tensor(IMAGENET_STD)[:, None, None]
    targets = []
    for i, f in zip(indices.tolist(), flip.tolist()):
        boxes = split.targets[i]["boxes"].clone()
        if f:
            boxes[:, 0] = 1 - boxes[:, 0]  # cx mirrors; w, cy, h do not change
        targets.append({"labels": split.targets[i]["labels"].to(device), "boxes": boxes.to(device)})
    mask = torch.ones(images.shape[0], images.shape[2], images.shape[3], dtype=torch.long, device=device)
    return (images - mean) / std, mask, targets
