"""Detection inputs: images (EXIF-upright RGB arrays) and the kept frames of videos, as `Frame`s."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from aitk.detect.config import DetectConfig
from aitk.detect.results import Frame
from aitk.engine.errors import MediaError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp"}
OUTPUT_MARK = ".detections"  # annotated copies are <stem>.detections.<ext>; folder expansion skips them


def is_image_path(path) -> bool:
    """True for file names with a known image extension, in any letter case (`engine.inputs.expand_inputs`'s filter)."""
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


def is_input_path(path) -> bool:
    """Images and videos, but not aitk's own annotated copies (so a rerun over a folder does not detect on them)."""
    from aitk.detect.video import is_video_path

    return (is_image_path(path) or is_video_path(path)) and not Path(path).stem.endswith(OUTPUT_MARK)


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
        raise MediaError(
            f"not a readable image ({type(exc).__name__})", path=path, hint="re-save it as PNG or JPEG"
        ) from None


def read_input(path: str | Path, config: DetectConfig) -> Iterator[Frame]:
    """An image as one Frame, a video as its kept frames (streamed); MediaError when unreadable."""
    from aitk.detect.video import is_video_path, read_frames

    if is_video_path(path):
        from aitk.engine.media import probe

        fps = probe(path).fps
        for f in read_frames(path, config.sampling):
            yield Frame(str(path), f.image, f.index, f.time, fps)
    else:
        yield Frame(str(path), load_image(str(path)))
