"""Boxes, labels and scores drawn on images (PIL); annotated copies of images and videos.

`draw_detections` is pure (array in, new array out). `Annotator` writes one input's annotated
copy: an image written atomically, or a video of the kept frames at the kept rate, with the
source's sound.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from aitk.detect.inputs import OUTPUT_MARK
from aitk.detect.results import Detection, ImageResult
from aitk.engine.errors import OutputError
from aitk.engine.fileio import atomic_write_bytes

# distinct, saturated colours; a class keeps its colour across images and frames
PALETTE = (
    (230, 25, 75),
    (60, 180, 75),
    (255, 225, 25),
    (0, 130, 200),
    (245, 130, 48),
    (145, 30, 180),
    (70, 240, 240),
    (240, 50, 230),
    (210, 245, 60),
    (0, 128, 128),
)
KEEP_FORMAT = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG"}  # other image types are written as PNG


def annotation_path(input_path: str | Path, folder: str | Path, video: bool) -> Path:
    """DIR/<stem>.detections.<ext>: .mp4 for a video, the image's own .jpg/.png, else .png. Never the input's name."""
    input_path = Path(input_path)
    suffix = ".mp4" if video else (input_path.suffix.lower() if input_path.suffix.lower() in KEEP_FORMAT else ".png")
    return Path(folder) / f"{input_path.stem}{OUTPUT_MARK}{suffix}"


def draw_detections(image: np.ndarray, detections: list[Detection]) -> np.ndarray:
    """A copy of `image` (RGB uint8 [H, W, 3]) with each box outlined and labelled 'name 0.87'."""
    from PIL import Image, ImageDraw, ImageFont

    canvas = Image.fromarray(np.ascontiguousarray(image)).convert("RGB")
    draw = ImageDraw.Draw(canvas)
    width = max(2, round(min(canvas.size) / 200))  # lines stay visible on large photos
    font = ImageFont.load_default(size=max(10, round(min(canvas.size) / 40)))
    for d in sorted(detections, key=lambda d: d.score):  # best drawn last, on top
        colour = PALETTE[d.category_id % len(PALETTE)]
        x, y, w, h = d.bbox
        draw.rectangle([x, y, x + w, y + h], outline=colour, width=width)
        text = f"{d.label} {d.score:.2f}"
        left, top, right, bottom = draw.textbbox((x, y), text, font=font)
        lift = bottom - top + 2 * width  # label above the box, or inside it at the top edge
        ty = y - lift if y - lift >= 0 else y
        draw.rectangle([x, ty, x + (right - left) + 2 * width, ty + lift], fill=colour)
        draw.text(
            (x + width, ty + width - (top - y)),
            text,
            fill=(0, 0, 0) if sum(colour) > 450 else (255, 255, 255),
            font=font,
        )
    return np.asarray(canvas)


class Annotator:
    """Writes one input's annotated copy; `add` per result, then `close` (or `abort` on failure)."""

    def __init__(self, target: Path, video_rate: float | None = None, audio_from: Path | None = None):
        self.target = Path(target)
        self.video_rate = video_rate  # None: a still image
        self.audio_from = audio_from  # a video whose sound the annotated copy keeps
        self.writer = None

    def add(self, result: ImageResult) -> None:
        drawn = draw_detections(result.image, result.detections)
        if self.video_rate is None:
            self._write_image(drawn)
            return
        if self.writer is None:
            from aitk.detect.video import VideoWriter

            self.writer = VideoWriter(self.target, result.width, result.height, self.video_rate, self.audio_from)
        self.writer.write(drawn)

    def _write_image(self, drawn: np.ndarray) -> None:
        from PIL import Image

        buffer = io.BytesIO()
        fmt = KEEP_FORMAT.get(self.target.suffix.lower(), "PNG")
        Image.fromarray(drawn).save(buffer, format=fmt, **({"quality": 92} if fmt == "JPEG" else {}))
        try:
            atomic_write_bytes(self.target, buffer.getvalue())
        except OSError as exc:
            raise OutputError(f"cannot write: {exc.strerror or exc}", path=self.target) from None

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()

    def abort(self) -> None:
        if self.writer is not None:
            self.writer.abort()
