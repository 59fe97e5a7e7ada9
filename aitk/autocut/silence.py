"""`--cut-silence`: the stretches of a recording that hold sound, from its loudness envelope (pure).

The envelope is the level of each 10 ms frame in dBFS (edges.level_db). A frame at or under the
threshold is quiet; a quiet run of at least `min_silence` seconds is a pause and is removed, all
but `margin` seconds next to the sound on each side (so words keep their breath and decay). Shorter
quiet runs are the pauses of running speech and stay.
"""

from __future__ import annotations

import numpy as np

from aitk.autocut.cues import Span


def auto_threshold(level: np.ndarray) -> float:
    """The level (dBFS) under which a frame is silence, set by the recording itself: 40 dB under
    its loud frames (95th percentile) or 10 dB over its noise floor (10th), whichever is higher."""
    if len(level) == 0:
        return -60.0
    return float(max(np.percentile(level, 95) - 40, np.percentile(level, 10) + 10))


def sound_spans(
    level: np.ndarray, hop: float, threshold: float, min_silence: float, margin: float, duration: float | None = None
) -> list[Span]:
    """The kept spans of a recording whose (frames,) dBFS envelope is `level`, `hop` seconds a frame.

    Pauses of `min_silence` s or more (at or under `threshold`) go, less `margin` s at each side
    that touches sound; at the very start and end the pause goes up to the margin. A recording
    that is all silence keeps nothing. `duration`: the recording's length, when it ends inside
    the last frame (default: the frames' length).
    """
    duration = max(len(level) * hop, duration or 0.0)
    quiet = np.concatenate([[False], level <= threshold, [False]])
    edges = np.flatnonzero(np.diff(quiet.astype(np.int8)))  # starts and ends of quiet runs, in frames
    cuts = []
    for a, b in zip(edges[::2], edges[1::2]):
        start, end = a * hop, b * hop
        if end - start < min_silence - 1e-9:
            continue
        lo = start + margin if a > 0 else 0.0
        hi = end - margin if b < len(level) else duration
        if hi > lo:
            cuts.append((lo, hi))
    kept, cursor = [], 0.0
    for lo, hi in cuts:
        if lo > cursor:
            kept.append(Span(round(cursor, 6), round(lo, 6)))
        cursor = hi
    if duration > cursor:
        kept.append(Span(round(cursor, 6), round(duration, 6)))
    return kept


def intersect(spans: list[Span], keep: list[Span]) -> list[Span]:
    """The parts of `spans` that lie inside `keep` (both sorted, non-overlapping)."""
    out = []
    j = 0
    for span in spans:
        while j < len(keep) and keep[j].end <= span.start:
            j += 1
        k = j
        while k < len(keep) and keep[k].start < span.end:
            start, end = max(span.start, keep[k].start), min(span.end, keep[k].end)
            if end > start:
                out.append(Span(start, end))
            k += 1
    return out


def subtract(spans: list[Span], holes: list[tuple[float, float]]) -> list[Span]:
    """`spans` without the (start, end) `holes` (in any order)."""
    out = list(spans)
    for lo, hi in sorted(holes):
        next_out = []
        for span in out:
            if hi <= span.start or lo >= span.end:
                next_out.append(span)
                continue
            if lo > span.start:
                next_out.append(Span(span.start, lo))
            if hi < span.end:
                next_out.append(Span(hi, span.end))
        out = next_out
    return out
