"""Images -> detections with the offline default detector (CenterNet, COCO-80).

`predict(paths, config)` yields one `ImageResult` per input, in order; an input that cannot be
read yields a result with `error` set instead of stopping the batch. Core code never prints.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from aitk.engine.errors import MediaError, UsageError

# COCO-80 in the model's class order, with the official COCO category ids (1..90, with gaps).
COCO80 = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat",
    "traffic light", "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog",
    "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella",
    "handbag", "tie", "suitcase", "frisbee", "skis", "snowboard", "sports ball", "kite",
    "baseball bat", "baseball glove", "skateboard", "surfboard", "tennis racket", "bottle",
    "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple", "sandwich", "orange",
    "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch", "potted plant",
    "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard", "cell phone",
    "microwave", "oven", "toaster", "sink", "refrigerator", "book", "clock", "vase", "scissors",
    "teddy bear", "hair drier", "toothbrush",
)
COCO80_IDS = (
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 27, 28,
    31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55,
    56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 67, 70, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 84,
    85, 86, 87, 88, 89, 90,
)
DEFAULT_THRESHOLD = 0.3  # CenterNet scores are low: true objects on real photos score 0.3-0.7


@dataclass(frozen=True)
class DetectConfig:
    """How `aitk detect` runs."""

    threshold: float | None = None  # keep scores >= this; None: the model's default (0.3)
    classes: tuple[str, ...] = ()  # keep only these class names; () keeps all 80
    max_detections: int = 100  # per image, best first (the model proposes at most 100)
    batch_size: int = 4  # images per forward pass
    device: str = "cpu"  # a torch device string, resolved by the caller


@dataclass
class Detection:
    category_id: int  # COCO category id (1..90)
    label: str
    score: float
    bbox: tuple[float, float, float, float]  # x, y, w, h in image pixels

    def as_dict(self) -> dict:
        return {"category_id": self.category_id, "label": self.label, "score": round(self.score, 4), "bbox": [round(v, 2) for v in self.bbox]}


@dataclass
class ImageResult:
    path: str
    width: int = 0
    height: int = 0
    detections: list[Detection] = field(default_factory=list)
    seconds: float = 0.0  # model time for this image (its share of the batch)
    error: str | None = None

    def as_dict(self) -> dict:
        if self.error:
            return {"path": self.path, "error": self.error}
        return {"path": self.path, "width": self.width, "height": self.height, "seconds": round(self.seconds, 3), "detections": [d.as_dict() for d in self.detections]}


def parse_classes(text: str | None) -> tuple[str, ...]:
    """'person,car' -> ('person', 'car'); unknown names are a usage error naming the known ones."""
    if not text:
        return ()
    names = tuple(n.strip().lower() for n in text.split(",") if n.strip())
    unknown = [n for n in names if n not in COCO80]
    if unknown:
        raise UsageError(f"unknown class {', '.join(repr(n) for n in unknown)} for --classes", hint="COCO-80 names, e.g. person,car,cup,'traffic light'")
    return names


def load_image(path: str):
    """An RGB uint8 array [H, W, 3]; MediaError (one line) when it cannot be read."""
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("RGB"))
    except FileNotFoundError:
        raise MediaError("no such file", path=path) from None
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise MediaError(f"not a readable image ({type(exc).__name__})", path=path) from None


def to_detections(rows, width: int, height: int, config: DetectConfig) -> list[Detection]:
    """Model rows [100, 6] in 512x512 pixels -> kept detections in image pixels, best first."""
    from aitk.detect.centernet import INPUT_SIZE

    threshold = DEFAULT_THRESHOLD if config.threshold is None else config.threshold
    sx, sy = width / INPUT_SIZE, height / INPUT_SIZE
    kept = []
    for x1, y1, x2, y2, score, cls in rows.tolist():
        label = COCO80[int(cls)]
        if score < threshold or (config.classes and label not in config.classes):
            continue
        x1, x2 = max(0.0, x1 * sx), min(float(width), x2 * sx)
        y1, y2 = max(0.0, y1 * sy), min(float(height), y2 * sy)
        kept.append(Detection(COCO80_IDS[int(cls)], label, score, (x1, y1, x2 - x1, y2 - y1)))
    kept.sort(key=lambda d: -d.score)
    return kept[: config.max_detections]


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
        batch = np.stack([np.asarray(Image.fromarray(im).resize((INPUT_SIZE, INPUT_SIZE), Image.BILINEAR)) for im in images])
        with torch.inference_mode():
            return self.model(torch.from_numpy(batch).float().to(self.device)).cpu()


def predict(paths: Iterable[str], config: DetectConfig, detector: Detector | None = None) -> Iterator[ImageResult]:
    """One ImageResult per path, in order; images are read lazily, `batch_size` at a time."""
    import time

    if config.batch_size < 1 or config.max_detections < 1:
        raise UsageError("--batch-size and --max-detections must be at least 1")
    detector = detector or Detector(config.device)
    pending: list[tuple[ImageResult, object]] = []

    def flush() -> Iterator[ImageResult]:
        if not pending:
            return
        start = time.perf_counter()
        out = detector([image for _, image in pending])
        share = (time.perf_counter() - start) / len(pending)
        for (result, _), rows in zip(pending, out):
            result.detections = to_detections(rows, result.width, result.height, config)
            result.seconds = share
            yield result
        pending.clear()

    for path in paths:
        try:
            image = load_image(path)
        except MediaError as exc:
            yield from flush()  # keep the output in input order
            yield ImageResult(path=str(path), error=exc.message)
            continue
        pending.append((ImageResult(path=str(path), width=image.shape[1], height=image.shape[0]), image))
        if len(pending) >= config.batch_size:
            yield from flush()
    yield from flush()


IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp"}


def is_image_path(path) -> bool:
    """True for file names with a known image extension, in any letter case (`engine.inputs.expand_inputs`'s filter)."""
    return Path(path).suffix.lower() in IMAGE_SUFFIXES
