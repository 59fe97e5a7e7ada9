"""OCR of page images with rapidocr (bundled PP-OCR ONNX models): words with boxes, and the skew.

rapidocr finds text lines as quadrilaterals and, asked for word boxes, splits each line into words
from the recogniser's character positions. Scans are rarely straight: the skew is estimated from
the long lines' top edges, and besides the words' axis-aligned boxes on the image as it is (what
the user sees and what --annotate draws), each word gets an "upright" box in the deskewed frame,
which is what reading order needs (a 2 degree tilt across a page is more than a line's height).
"""

from __future__ import annotations

import math
import statistics
import threading
from dataclasses import dataclass

import numpy as np

from aitk.docqa.document import Box, Word
from aitk.engine.errors import DependencyError

_ENGINE = None
_LOCK = threading.Lock()  # rapidocr keeps per-call settings on the engine: one call at a time
MIN_LINE_ASPECT = 3.0  # only lines at least this many times wider than tall vote on the skew
# Text detection runs on the page scaled to at most this many pixels on its longer side (an A4
# page at ~110 dpi: body text stays well above the detector's minimum); recognition still reads
# the line crops at full resolution. rapidocr's default never scales pages down, which made
# detection 3-5x slower here at 150-200 dpi for the same words.
DET_MAX_SIDE = 1280
BLANK_STD = 2.0  # a grey-level spread below this is a blank page: skip the models

Quad = np.ndarray  # (4, 2) corners: top-left, top-right, bottom-right, bottom-left; pixels


@dataclass
class OcrPage:
    width: int
    height: int
    words: list[Word]  # boxes axis-aligned on the image as given, pixels
    upright: list[Word]  # the same words (same order), boxes in the deskewed frame
    angle: float  # degrees the text is turned counter-clockwise (as PIL's rotate would do it)


def engine():
    """The rapidocr engine, loaded once per process (about a second)."""
    global _ENGINE
    with _LOCK:
        if _ENGINE is None:
            try:
                from rapidocr import RapidOCR
            except ImportError as exc:
                raise DependencyError("OCR needs the rapidocr package", hint="pip install 'aitk[docqa]'") from exc
            params = {"Global.log_level": "error", "Det.limit_type": "max", "Det.limit_side_len": DET_MAX_SIDE}
            _ENGINE = RapidOCR(params=params)
        return _ENGINE


def ocr_image(image) -> OcrPage:
    """Read the words on a PIL image (any mode)."""
    rgb = image.convert("RGB")
    width, height = rgb.size
    if is_blank(rgb):
        return OcrPage(width, height, [], [], 0.0)
    ocr = engine()
    with _LOCK:
        out = ocr(rgb, return_word_box=True)
    if out.txts is None or len(out.txts) == 0:
        return OcrPage(width, height, [], [], 0.0)
    lines = [(np.asarray(q, dtype=np.float64), t, float(s)) for q, t, s in zip(out.boxes, out.txts, out.scores)]
    words = _line_words(lines, out.word_results or ())  # [(text, quad, confidence)]
    angle = skew_angle([q for q, _, _ in lines])
    centre = (width / 2.0, height / 2.0)
    placed = [Word(t, _bounds(q), c) for t, q, c in words]
    upright = [Word(t, _bounds(rotate_points(q, -angle, centre)), c) for t, q, c in words]
    return OcrPage(width, height, placed, upright, angle)


def is_blank(image) -> bool:
    """True for an image of (almost) one grey level, such as a rendered empty page."""
    grey = np.asarray(image.convert("L").reduce(4), dtype=np.float32)
    return grey.size == 0 or float(grey.std()) < BLANK_STD


def _line_words(lines, word_results) -> list[tuple[str, Quad, float]]:
    """Words of every line: rapidocr's word boxes where they match the line, else a split by characters.

    rapidocr drops lines without word boxes from `word_results`, so its entries are matched to
    lines by their text rather than by position.
    """
    groups: dict[str, list] = {}
    for group in word_results:
        if group and all(box is not None for _, _, box in group):
            groups.setdefault("".join(t for t, _, _ in group).replace(" ", ""), []).append(group)
    words = []
    for quad, text, score in lines:
        found = groups.get(text.replace(" ", ""))
        if found:
            words.extend((t, np.asarray(b, dtype=np.float64), float(s)) for t, s, b in found.pop(0) if t.strip())
        else:
            words.extend((t, q, score) for t, q in split_line_quad(text, quad))
    return words


def split_line_quad(text: str, quad: Quad) -> list[tuple[str, Quad]]:
    """Split a line's quad among its space-separated words, in proportion to character counts."""
    tokens, pos = [], 0
    for token in text.split():
        start = text.index(token, pos)
        pos = start + len(token)
        tokens.append((token, start, pos))
    n = max(len(text), 1)
    tl, tr, br, bl = quad
    out = []
    for token, start, end in tokens:
        a, b = start / n, end / n
        out.append((token, np.array([tl + a * (tr - tl), tl + b * (tr - tl), bl + b * (br - bl), bl + a * (br - bl)])))
    return out


def skew_angle(quads: list[Quad]) -> float:
    """Median tilt in degrees (counter-clockwise positive) of the top edges of long text lines."""
    angles = []
    for q in quads:
        dx, dy = q[1] - q[0]
        tall = float(np.linalg.norm(q[3] - q[0]))
        if dx > 0 and math.hypot(dx, dy) >= MIN_LINE_ASPECT * max(tall, 1e-9):
            angles.append(math.degrees(math.atan2(-dy, dx)))  # y grows downwards
    return statistics.median(angles) if angles else 0.0


def rotate_points(points: np.ndarray, angle: float, centre: tuple[float, float]) -> np.ndarray:
    """Turn (N, 2) pixel points `angle` degrees counter-clockwise on screen about `centre`."""
    a = math.radians(angle)
    c, s = math.cos(a), math.sin(a)
    d = np.asarray(points, dtype=np.float64) - centre
    # y points down, so a counter-clockwise turn on screen is x' = c*x + s*y, y' = -s*x + c*y.
    return np.stack([c * d[:, 0] + s * d[:, 1], -s * d[:, 0] + c * d[:, 1]], axis=1) + centre


def _bounds(quad: Quad) -> Box:
    return (float(quad[:, 0].min()), float(quad[:, 1].min()), float(quad[:, 0].max()), float(quad[:, 1].max()))
