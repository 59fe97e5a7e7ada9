"""Every config object of `aitk detect` in one place: light imports only (no torch, no numpy).

The CLI builds them; bad values fail on construction with a UsageError naming the flag.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from aitk.engine.errors import UsageError

DEFAULT_MODEL = "centernet"  # the offline default detector (catalogue.py)
SHAPES = ("circle", "square", "triangle", "cross", "star")  # what `detect synth` can draw


@dataclass(frozen=True)
class Sampling:
    """Which frames of a video to keep: every Nth, or at most `fps` per second (None: use every)."""

    every: int = 1
    fps: float | None = None

    def __post_init__(self) -> None:
        if self.every < 1:
            raise UsageError(f"--every {self.every}: must be at least 1")
        if self.fps is not None and not (math.isfinite(self.fps) and self.fps > 0):
            raise UsageError(f"--fps {self.fps}: must be a number above 0", hint="e.g. --fps 2")

    def keep(self, index: int, time: float, last_slot: int) -> int | None:
        """The slot this frame fills if kept, else None. Slots only grow, so a VFR burst keeps one frame per slot."""
        if self.fps is None:
            return index if index % self.every == 0 else None
        slot = math.floor(time * self.fps + 1e-6)
        return slot if slot > last_slot else None

    def output_rate(self, source_fps: float) -> float:
        """Frame rate of a video made of the kept frames only."""
        source_fps = source_fps or 25.0
        return min(self.fps, source_fps) if self.fps is not None else source_fps / self.every


@dataclass(frozen=True)
class DetectConfig:
    """How `aitk detect` runs."""

    model: str = DEFAULT_MODEL  # "centernet" (offline default), a transformers model folder, or a Hugging Face id
    threshold: float | None = None  # keep scores >= this; None: the model's own default (0.3 CenterNet, 0.7 DETR)
    classes: tuple[str, ...] = ()  # keep only these class names (lower case); () keeps all
    max_detections: int = 100  # per image or frame, best first
    batch_size: int = 4  # images or frames per forward pass
    device: str = "cpu"  # a torch device string, resolved by the caller
    every: int = 1  # video: keep every Nth frame (1: all)
    fps: float | None = None  # video: keep at most this many frames per second instead (the first of each 1/fps slot)

    def __post_init__(self) -> None:
        if self.batch_size < 1 or self.max_detections < 1:
            raise UsageError("--batch-size and --max-detections must be at least 1")
        if self.threshold is not None and not 0 <= self.threshold <= 1:
            raise UsageError(f"--threshold {self.threshold:g}: scores are between 0 and 1", hint="e.g. --threshold 0.5")
        if self.fps is not None and self.every != 1:
            raise UsageError("--every and --fps both choose video frames", hint="give one of them")
        self.sampling  # noqa: B018 - checks their ranges

    @property
    def sampling(self) -> Sampling:
        """Which video frames to keep."""
        return Sampling(every=self.every, fps=self.fps)


@dataclass(frozen=True)
class MatcherConfig:
    """Weights of the three matching costs (DETR's defaults)."""

    cost_class: float = 1.0  # weight of -p(target class): rewards confident right labels
    cost_bbox: float = 5.0  # weight of the L1 distance between cxcywh boxes (normalised to [0, 1])
    cost_giou: float = 2.0  # weight of -GIoU: scale-invariant overlap, keeps small boxes honest

    def __post_init__(self) -> None:
        if min(self.cost_class, self.cost_bbox, self.cost_giou) < 0:
            raise ValueError("matcher weights must be >= 0")
        if self.cost_class == self.cost_bbox == self.cost_giou == 0:
            raise ValueError("at least one matcher weight must be > 0")


@dataclass(frozen=True)
class CriterionConfig:
    """Loss weights (DETR's defaults)."""

    weight_ce: float | None = (
        None  # classification term; None: 1 (softmax, DETR) or 2 (sigmoid focal, Conditional DETR)
    )
    weight_bbox: float = 5.0  # L1 on normalised cxcywh boxes
    weight_giou: float = 2.0  # 1 - GIoU
    eos_coef: float = 0.1  # relative weight of the no-object class in the cross-entropy
    sigmoid: bool = False  # logits (B, Q, C) scored by sigmoids, no no-object column: focal loss
    focal_alpha: float = 0.25  # focal loss: weight of positives
    focal_gamma: float = 2.0  # focal loss: down-weights easy examples
    matcher: MatcherConfig = field(default_factory=MatcherConfig)

    def __post_init__(self) -> None:
        if min(self.class_weight, self.weight_bbox, self.weight_giou, self.eos_coef) < 0:
            raise ValueError("loss weights must be >= 0")

    @property
    def class_weight(self) -> float:
        return self.weight_ce if self.weight_ce is not None else (2.0 if self.sigmoid else 1.0)


@dataclass(frozen=True)
class TrainConfig:
    """How `aitk detect train` trains."""

    model: str = "tiny"  # a preset (aitk.detect.detr_model.PRESETS), a Hugging Face id or a DETR folder
    steps: int = 3000  # optimiser steps in all (a resumed run counts from its checkpoint)
    time_budget: float | None = None  # stop this session after so many seconds of training, whichever comes first
    batch_size: int = 8
    lr: float = 2e-4  # transformer and heads (AdamW)
    lr_backbone: float | None = None  # None: lr for a preset, lr / 10 when fine-tuning a checkpoint
    weight_decay: float = 1e-4
    grad_clip: float = 0.1  # max gradient norm, DETR's value
    lr_drop: float = 0.8  # the learning rate drops 10x after this fraction of `steps` (a time budget does not move it)
    warmup: int = 50  # linear warm-up steps: DETR from scratch with a high LR diverges without them
    image_size: int | None = None  # square training resolution; None: the preset's, or 384 for a checkpoint
    hflip: bool = True  # mirror half of the training images
    eval_every: int = 500  # validation AP every so many steps (0: only at the end)
    checkpoint_every: int = 500
    device: str = "cpu"  # a torch device string, resolved by the caller
    amp: bool = True  # mixed precision, on CUDA only
    seed: int = 0
    criterion: CriterionConfig = field(default_factory=CriterionConfig)  # loss and matching weights

    def __post_init__(self) -> None:
        for flag, value in (("--lr", self.lr), ("--lr-backbone", self.lr_backbone)):
            if value is not None and not (math.isfinite(value) and value > 0):
                raise UsageError(f"{flag} {value}: must be a number above 0", hint="e.g. 2e-4")
        if self.steps < 1 or self.batch_size < 1:
            raise UsageError("--steps, --batch-size and --lr must be positive")
        if self.time_budget is not None and self.time_budget <= 0:
            raise UsageError("--time-budget must be positive")


@dataclass(frozen=True)
class SynthConfig:
    """What `aitk detect synth` generates."""

    images: int = 200  # training images; validation gets val_images
    val_images: int | None = None  # None: a quarter of `images`, at least 8
    size: int = 128  # square images, pixels per side
    classes: tuple[str, ...] = ("circle", "square", "triangle")  # any of SHAPES, in category-id order
    max_objects: int = 3  # 1..max_objects objects per image
    min_scale: float = 0.18  # object side as a fraction of the image side, drawn uniformly in [min, max]
    max_scale: float = 0.40
    seed: int = 0

    def __post_init__(self) -> None:
        unknown = [c for c in self.classes if c not in SHAPES]
        if unknown or not self.classes or len(set(self.classes)) != len(self.classes):
            raise UsageError(f"--classes {','.join(self.classes)}: need distinct names from {', '.join(SHAPES)}")
        if self.images < 1 or (self.val_images is not None and self.val_images < 1):
            raise UsageError("--images must be at least 1")
        if self.size < 32:
            raise UsageError(f"--size {self.size} is too small", hint="use at least 32 pixels")
        if not 0.05 <= self.min_scale <= self.max_scale <= 0.9:
            raise UsageError("object scales must satisfy 0.05 <= min <= max <= 0.9")
        if self.max_objects < 1:
            raise UsageError("--max-objects must be at least 1")

    def count(self, split: str) -> int:
        if split == "train":
            return self.images
        return self.val_images if self.val_images is not None else max(8, self.images // 4)
