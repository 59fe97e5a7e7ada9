"""From kept cues to kept spans of the source, and subtitles re-timed onto the cut (pure)."""

from __future__ import annotations

from aitk.autocut.cues import Cue, Span


def spans_for(cues: list[Cue], duration: float, padding: float = 0.0, merge_gap: float = 0.5) -> list[Span]:
    """Sorted, non-overlapping spans covering each cue (plus `padding` each side, inside the media);
    spans closer than `merge_gap` merge, so a cut never leaves a sliver of silence or a jump."""
    raw = sorted((max(0.0, c.start - padding), min(duration, c.end + padding)) for c in cues if c.end > c.start)
    merged: list[list[float]] = []
    for start, end in raw:
        if merged and start - merged[-1][1] < merge_gap:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [Span(a, b) for a, b in merged if b > a]


def snap_to_frames(spans: list[Span], fps: float) -> list[Span]:
    """Round every edge to a frame boundary (nearest frame) so video and audio cut at the same instant
    and each span's length is a whole number of frames: no drift accumulates over many cuts."""
    if fps <= 0:
        return spans
    out = []
    for span in spans:
        a, b = round(span.start * fps), round(span.end * fps)
        if b > a:
            out.append(Span(a / fps, b / fps))
    return out


def retime(cues: list[Cue], spans: list[Span]) -> list[Cue]:
    """Each cue moved onto the cut's timeline, renumbered from 1: from where its first kept part
    lands to where its last one ends (a cue cut in two by a removed word or pause spans the join).
    Cues with nothing kept are left out."""
    out: list[Cue] = []
    offsets, offset = [], 0.0
    for span in spans:
        offsets.append(offset)
        offset += span.duration
    for cue in sorted(cues, key=lambda c: c.start):
        pieces = [
            (base + max(cue.start, span.start) - span.start, base + min(cue.end, span.end) - span.start)
            for span, base in zip(spans, offsets)
            if min(cue.end, span.end) > max(cue.start, span.start)
            or (cue.end == cue.start and span.start <= cue.start < span.end)
        ]
        if pieces:
            out.append(Cue(len(out) + 1, round(pieces[0][0], 3), round(pieces[-1][1], 3), cue.text))
    return out


def total(spans: list[Span]) -> float:
    return sum(s.duration for s in spans)
