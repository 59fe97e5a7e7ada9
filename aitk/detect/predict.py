"""Images and video frames -> detections, with any model behind `aitk.detect.models`.

`predict(paths, config)` yields one `ImageResult` per image and per kept video frame, in order;
an input that cannot be read yields a result with `error` set instead of stopping the batch.
`detect_stream` is the batching core underneath: it runs `Frame`s through the model
`batch_size` at a time and passes anything else through in place. Core code never prints.
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

    model: str = "centernet"  # "centernet" (offline default), a transformers model folder, or a Hugging Face id
    threshold: float | None = None  # keep scores >= this; None: the model's own default (0.3 CenterNet, 0.7 DETR)
    classes: tuple[str, ...] = ()  # keep only these class names (lower case); () keeps all
    max_detections: int = 100  # per image or frame, best first
    batch_size: int = 4  # images or frames per forward pass
    device: str = "cpu"  # a torch device string, resolved by the caller
    every: int = 1  # video: keep every Nth frame (1: all)
    fps: float | None = None  # video: keep at most this many frames per second instead (the first of each 1/fps slot)


@dataclass
class Detection:
    category_id: int  # COCO category id (1..90) for COCO names, else the model's own label id
    label: str
    score: float
    bbox: tuple[float, float, float, float]  # x, y, w, h in image pixels

    def as_dict(self) -> dict:
        return {"category_id": self.category_id, "label": self.label, "score": round(self.score, 4), "bbox": [round(v, 2) for v in self.bbox]}

    @classmethod
    def from_dict(cls, data: dict) -> Detection:
        return cls(int(data["category_id"]), str(data["label"]), float(data["score"]), tuple(float(v) for v in data["bbox"]))


@dataclass
class ImageResult:
    path: str
    width: int = 0
    height: int = 0
    detections: list[Detection] = field(default_factory=list)
    seconds: float = 0.0  # model time for this image (its share of the batch)
    error: str | None = None
    frame: int | None = None  # video frames: index in the stream, from 0 (None for images)
    time: float | None = None  # video frames: presentation time in seconds
    image: object = field(default=None, repr=False, compare=False)  # the RGB array, only while annotating
    stored: bool = field(default=False, repr=False, compare=False)  # read back from a skipped input's results file

    def as_dict(self) -> dict:
        if self.error:
            return {"path": self.path, "error": self.error}
        where = {} if self.frame is None else {"frame": self.frame, "time": round(self.time or 0.0, 3)}
        return {"path": self.path, **where, "width": self.width, "height": self.height, "seconds": round(self.seconds, 3), "detections": [d.as_dict() for d in self.detections]}

    @classmethod
    def from_dict(cls, data: dict) -> ImageResult:
        """The inverse of as_dict (stored per-input results read back on a skip)."""
        return cls(
            path=data["path"], width=int(data["width"]), height=int(data["height"]), seconds=float(data.get("seconds", 0.0)),
            detections=[Detection.from_dict(d) for d in data["detections"]], frame=data.get("frame"), time=data.get("time"),
            stored=True,
        )


@dataclass
class Frame:
    """One image to detect on: a still image (frame None) or a kept video frame."""

    path: str
    image: object  # RGB uint8 [H, W, 3]
    frame: int | None = None
    time: float | None = None
    source_fps: float = 0.0  # video: the stream's frame rate (for an annotated copy)


def parse_classes(text: str | None, labels: tuple[str, ...] = COCO80) -> tuple[str, ...]:
    """'person,car' -> ('person', 'car'); names the model does not know are a usage error naming some it does."""
    if not text:
        return ()
    names = tuple(n.strip().lower() for n in text.split(",") if n.strip())
    unknown = [n for n in names if n not in labels]
    if unknown:
        examples = ",".join(repr(n) if " " in n else n for n in labels[:6])
        raise UsageError(f"unknown class {', '.join(repr(n) for n in unknown)} for --classes", hint=f"this model's names, e.g. {examples}")
    return names


def load_image(path: str):
    """An RGB uint8 array [H, W, 3], upright as viewers show it (EXIF orientation applied, as phone
    photos need); MediaError (one line) when it cannot be read."""
    import numpy as np
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return np.asarray(ImageOps.exif_transpose(image).convert("RGB"))
    except FileNotFoundError:
        raise MediaError("no such file", path=path) from None
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise MediaError(f"not a readable image ({type(exc).__name__})", path=path, hint="re-save it as PNG or JPEG") from None


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


def select(detections: list[Detection], config: DetectConfig) -> list[Detection]:
    """Keep the asked-for classes, best first, at most max_detections."""
    kept = [d for d in detections if not config.classes or d.label in config.classes]
    kept.sort(key=lambda d: -d.score)
    return kept[: config.max_detections]


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
        batch = np.stack([np.asarray(Image.fromarray(im).resize((INPUT_SIZE, INPUT_SIZE), Image.BILINEAR)) for im in images])
        with torch.inference_mode():
            return self.model(torch.from_numpy(batch).float().to(self.device)).cpu()


def check_config(config: DetectConfig) -> None:
    if config.batch_size < 1 or config.max_detections < 1:
        raise UsageError("--batch-size and --max-detections must be at least 1")
    if config.threshold is not None and not 0 <= config.threshold <= 1:
        raise UsageError(f"--threshold {config.threshold:g}: scores are between 0 and 1", hint="e.g. --threshold 0.5")
    if config.fps is not None and config.every != 1:
        raise UsageError("--every and --fps both choose video frames", hint="give one of them")
    sampling(config)  # checks their ranges


def sampling(config: DetectConfig):
    from aitk.detect.video import Sampling

    return Sampling(every=config.every, fps=config.fps)


def read_input(path: str | Path, config: DetectConfig) -> Iterator[Frame]:
    """An image as one Frame, a video as its kept frames (streamed); MediaError when unreadable."""
    from aitk.detect.video import is_video_path, read_frames

    if is_video_path(path):
        from aitk.engine.media import probe

        fps = probe(path).fps
        for f in read_frames(path, sampling(config)):
            yield Frame(str(path), f.image, f.index, f.time, fps)
    else:
        yield Frame(str(path), load_image(str(path)))


def detect_stream(items: Iterable, config: DetectConfig, model, keep_images: bool = False) -> Iterator:
    """Frames -> ImageResults, `batch_size` per forward pass; other items pass through in order.

    With keep_images each result carries its RGB array in `image` (for annotation).
    """
    import time

    threshold = model.default_threshold if config.threshold is None else config.threshold
    pending: list[Frame] = []

    def flush() -> Iterator[ImageResult]:
        if not pending:
            return
        start = time.perf_counter()
        found = model.detect([f.image for f in pending], threshold)
        share = (time.perf_counter() - start) / len(pending)
        for f, detections in zip(pending, found):
            h, w = f.image.shape[:2]
            yield ImageResult(
                path=f.path, width=w, height=h, detections=select(detections, config), seconds=share,
                frame=f.frame, time=f.time, image=f.image if keep_images else None,
            )
        pending.clear()

    for item in items:
        if isinstance(item, Frame):
            pending.append(item)
            if len(pending) >= config.batch_size:
                yield from flush()
        else:
            yield from flush()  # keep the output in input order
            yield item
    yield from flush()


def predict(paths: Iterable[str], config: DetectConfig, model=None) -> Iterator[ImageResult]:
    """One ImageResult per image or kept video frame, in order; `model` defaults to load_model(config.model)."""
    from aitk.detect.models import CenterNetModel, load_model

    check_config(config)
    if isinstance(model, Detector):
        model = CenterNetModel(detector=model)
    model = model or load_model(config.model, config.device)

    def frames() -> Iterator:
        for path in paths:
            try:
                yield from read_input(path, config)
            except MediaError as exc:
                yield ImageResult(path=str(path), error=exc.message)

    yield from detect_stream(frames(), config, model)


IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp"}
OUTPUT_MARK = ".detections"  # annotated copies are <stem>.detections.<ext>; folder expansion skips them


def is_image_path(path) -> bool:
    """True for file names with a known image extension, in any letter case (`engine.inputs.expand_inputs`'s filter)."""
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


def is_input_path(path) -> bool:
    """Images and videos, but not aitk's own annotated copies (so a rerun over a folder does not detect on them)."""
    from aitk.detect.video import is_video_path

    return (is_image_path(path) or is_video_path(path)) and not Path(path).stem.endswith(OUTPUT_MARK)
