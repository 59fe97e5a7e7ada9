"""What detection produces: `Detection`s per `ImageResult`, the `Frame`s it runs on, and the
COCO-80 label set (names in the default model's class order, with the official category ids)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aitk.engine.errors import UsageError

if TYPE_CHECKING:
    from aitk.detect.config import DetectConfig

# COCO-80 in the model's class order, with the official COCO category ids (1..90, with gaps).
COCO80 = (
    "person",
    "bicycle",
    "car",
    "motorcycle",
    "airplane",
    "bus",
    "train",
    "truck",
    "boat",
    "traffic light",
    "fire hydrant",
    "stop sign",
    "parking meter",
    "bench",
    "bird",
    "cat",
    "dog",
    "horse",
    "sheep",
    "cow",
    "elephant",
    "bear",
    "zebra",
    "giraffe",
    "backpack",
    "umbrella",
    "handbag",
    "tie",
    "suitcase",
    "frisbee",
    "skis",
    "snowboard",
    "sports ball",
    "kite",
    "baseball bat",
    "baseball glove",
    "skateboard",
    "surfboard",
    "tennis racket",
    "bottle",
    "wine glass",
    "cup",
    "fork",
    "knife",
    "spoon",
    "bowl",
    "banana",
    "apple",
    "sandwich",
    "orange",
    "broccoli",
    "carrot",
    "hot dog",
    "pizza",
    "donut",
    "cake",
    "chair",
    "couch",
    "potted plant",
    "bed",
    "dining table",
    "toilet",
    "tv",
    "laptop",
    "mouse",
    "remote",
    "keyboard",
    "cell phone",
    "microwave",
    "oven",
    "toaster",
    "sink",
    "refrigerator",
    "book",
    "clock",
    "vase",
    "scissors",
    "teddy bear",
    "hair drier",
    "toothbrush",
)
COCO80_IDS = (
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
    9,
    10,
    11,
    13,
    14,
    15,
    16,
    17,
    18,
    19,
    20,
    21,
    22,
    23,
    24,
    25,
    27,
    28,
    31,
    32,
    33,
    34,
    35,
    36,
    37,
    38,
    39,
    40,
    41,
    42,
    43,
    44,
    46,
    47,
    48,
    49,
    50,
    51,
    52,
    53,
    54,
    55,
    56,
    57,
    58,
    59,
    60,
    61,
    62,
    63,
    64,
    65,
    67,
    70,
    72,
    73,
    74,
    75,
    76,
    77,
    78,
    79,
    80,
    81,
    82,
    84,
    85,
    86,
    87,
    88,
    89,
    90,
)


@dataclass
class Detection:
    category_id: int  # COCO category id (1..90) for COCO names, else the model's own label id
    label: str
    score: float
    bbox: tuple[float, float, float, float]  # x, y, w, h in image pixels

    def as_dict(self) -> dict:
        return {
            "category_id": self.category_id,
            "label": self.label,
            "score": round(self.score, 4),
            "bbox": [round(v, 2) for v in self.bbox],
        }

    @classmethod
    def from_dict(cls, data: dict) -> Detection:
        return cls(
            int(data["category_id"]), str(data["label"]), float(data["score"]), tuple(float(v) for v in data["bbox"])
        )


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
        return {
            "path": self.path,
            **where,
            "width": self.width,
            "height": self.height,
            "seconds": round(self.seconds, 3),
            "detections": [d.as_dict() for d in self.detections],
        }

    @classmethod
    def from_dict(cls, data: dict) -> ImageResult:
        """The inverse of as_dict (stored per-input results read back on a skip)."""
        return cls(
            path=data["path"],
            width=int(data["width"]),
            height=int(data["height"]),
            seconds=float(data.get("seconds", 0.0)),
            detections=[Detection.from_dict(d) for d in data["detections"]],
            frame=data.get("frame"),
            time=data.get("time"),
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
        raise UsageError(
            f"unknown class {', '.join(repr(n) for n in unknown)} for --classes",
            hint=f"this model's names, e.g. {examples}",
        )
    return names


def select(detections: list[Detection], config: DetectConfig) -> list[Detection]:
    """Keep the asked-for classes, best first, at most max_detections."""
    kept = [d for d in detections if not config.classes or d.label in config.classes]
    kept.sort(key=lambda d: -d.score)
    return kept[: config.max_detections]
