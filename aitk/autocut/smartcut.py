"""Plan a smart cut: which frames of each kept span are stream-copied and which are re-encoded.

A run of packets can be copied when it starts at an IDR frame (nothing after it refers to anything
before it) and, in decode order, holds exactly the frames it shows: then a decoder that starts at
that IDR rebuilds every one of them bit for bit. Each kept span [a, b) (frame indices in
presentation order) becomes up to three pieces:

    encode [a, k)   the frames before the first IDR k at or after a (decoding starts at the IDR before a)
    copy   [k, c)   the longest run from k that is whole in decode order: every GOP up to the last
                    IDR before b, and the start of that last GOP as far as no frame after it in decode
                    order is shown before it (all of it without B-frames, to the next P with them)
    encode [c, b)   what is left, decoded from the IDR before c

A span with no IDR inside it is re-encoded whole. Everything here works on the packet table alone;
nothing is decoded.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from fractions import Fraction

COPY, ENCODE = "copy", "encode"


@dataclass(frozen=True)
class Packet:
    """One video packet, in decode order, timestamps in the stream's time-base ticks."""

    pts: int
    dts: int
    key: bool  # the container marks it a keyframe (MP4 sync sample)
    idr: bool  # an H.264 IDR access unit


@dataclass(frozen=True)
class Piece:
    kind: str  # COPY or ENCODE
    first: int  # presentation index of the first frame, in the source
    stop: int  # one past the last

    @property
    def frames(self) -> int:
        return self.stop - self.first


@dataclass(frozen=True)
class Timeline:
    """A video's frames, from its packet table: index = presentation order."""

    pts: tuple[int, ...]  # each frame's pts, ascending
    decode: tuple[int, ...]  # each frame's position in decode order
    idr: tuple[int, ...]  # presentation indices of the IDR frames, ascending
    frame_ticks: Fraction  # the frame duration in time-base ticks

    @property
    def count(self) -> int:
        return len(self.pts)


def timeline(packets: list[Packet]) -> Timeline:
    order = sorted(range(len(packets)), key=lambda i: packets[i].pts)
    pts = tuple(packets[i].pts for i in order)
    span = pts[-1] - pts[0] if len(pts) > 1 else 1
    frame_ticks = Fraction(span, max(1, len(pts) - 1))
    return Timeline(pts, tuple(order), tuple(p for p, i in enumerate(order) if packets[i].idr), frame_ticks)


def blockers(packets: list[Packet]) -> list[str]:
    """Why this packet table cannot be smart-cut (empty when it can); each reason a short phrase."""
    if not packets:
        return ["it has no video packets"]
    reasons = []
    if any(p.key and not p.idr for p in packets):
        reasons.append("open GOPs (keyframes that are not IDR frames)")
    if not packets[0].idr:
        reasons.append("its first frame is not an IDR frame")
    pts = sorted(p.pts for p in packets)
    if len(set(pts)) != len(pts):
        reasons.append("frames with the same timestamp")
    elif len(pts) > 2:
        step = Fraction(pts[-1] - pts[0], len(pts) - 1)
        # Allow a tick of rounding (29.97 fps in 1/1000 s ticks alternates 33 and 34).
        if max(abs(t - pts[0] - i * step) for i, t in enumerate(pts)) > 1 + step / 100:
            reasons.append("a variable frame rate")
    return reasons


def plan_span(first: int, stop: int, tl: Timeline) -> list[Piece]:
    """The pieces of the kept frames [first, stop), in order."""
    if stop <= first:
        return []
    at = bisect_left(tl.idr, first)
    k = tl.idr[at] if at < len(tl.idr) else stop
    if k >= stop:
        return [Piece(ENCODE, first, stop)]
    pieces = [Piece(ENCODE, first, k)] if first < k else []
    start, low, high, end = tl.decode[k], tl.decode[k], tl.decode[k], k + 1
    for p in range(k + 1, stop):  # extend while [k, p] stays one unbroken run in decode order
        low, high = min(low, tl.decode[p]), max(high, tl.decode[p])
        if low == start and high - low == p - k:
            end = p + 1
    pieces.append(Piece(COPY, k, end))
    if end < stop:
        pieces.append(Piece(ENCODE, end, stop))
    return pieces


def plan(spans: list[tuple[int, int]], tl: Timeline) -> list[Piece]:
    """Every kept span's pieces, in order (spans as presentation frame ranges)."""
    return [piece for first, stop in spans for piece in plan_span(first, stop, tl)]


def frame_range(start: float, end: float, offset: float, tl: Timeline, seconds_per_tick: Fraction) -> tuple[int, int]:
    """Frames kept for [start, end) seconds of the media, `offset` seconds being the first frame's
    time: from the first frame at or after half a frame before `start`, round(duration * fps) of
    them, as the full re-encode keeps them."""
    fps = 1 / float(tl.frame_ticks * seconds_per_tick)
    first = max(0, math.ceil((start - offset) * fps - 0.5 - 1e-6))
    return first, min(tl.count, first + round((end - start) * fps))


def decode_start(first: int, tl: Timeline) -> int:
    """The IDR frame that decoding must start at to rebuild frame `first` (presentation index)."""
    at = bisect_right(tl.idr, first) - 1
    if at < 0:
        raise ValueError(f"no IDR frame at or before frame {first}")
    return tl.idr[at]


def reorder_lag(pieces: list[Piece], tl: Timeline) -> int:
    """The largest (decode position - presentation position) over the joined stream's packets: the
    frames its dts must run behind its pts. Re-encoded pieces have no B-frames (lag 0)."""
    lag = 0
    for piece in pieces:
        if piece.kind == COPY:
            base = tl.decode[piece.first]
            lag = max(lag, max(tl.decode[p] - base - (p - piece.first) for p in range(piece.first, piece.stop)))
    return lag


def copied_share(pieces: list[Piece]) -> float:
    """Fraction of the kept frames that are stream-copied."""
    total = sum(p.frames for p in pieces)
    return sum(p.frames for p in pieces if p.kind == COPY) / total if total else 0.0
