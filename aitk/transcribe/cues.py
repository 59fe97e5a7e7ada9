"""Split long segments into subtitle-sized ones using word times (pure).

Batched decoding returns one segment per window of up to 30 s; subtitles want a sentence or
two at most. Cuts go after sentence ends, at pauses, or (when a piece grows too long) after the
last comma or simply the last word that still fits.
"""

from __future__ import annotations

from dataclasses import replace

from aitk.transcribe.result import Segment, Word

SENTENCE_END = (".", "?", "!", "。", "？", "！")


def split_segment(seg: Segment, max_seconds: float = 7.0, max_chars: int = 84, pause: float = 0.6) -> list[Segment]:
    """Segments made of consecutive runs of `seg.words`; the segment itself when it has no words."""
    words = seg.words or []
    if not words:
        return [seg]
    pieces: list[list[Word]] = [[]]
    for i, word in enumerate(words):
        current = pieces[-1]
        if current and _too_long(current + [word], max_seconds, max_chars):
            cut = _last_comma(current)
            pieces[-1], carry = current[: cut + 1], current[cut + 1 :]
            pieces.append(carry)
            current = pieces[-1]
        current.append(word)
        nxt = words[i + 1] if i + 1 < len(words) else None
        if nxt is not None and (word.word.strip().endswith(SENTENCE_END) or nxt.start - word.end >= pause):
            pieces.append([])
    return [_piece(seg, p) for p in pieces if p]


def split_segments(segments: list[Segment], **limits) -> list[Segment]:
    out = [piece for seg in segments for piece in split_segment(seg, **limits)]
    return [replace(s, id=i) for i, s in enumerate(out)]


def _too_long(words: list[Word], max_seconds: float, max_chars: int) -> bool:
    return words[-1].end - words[0].start > max_seconds or len("".join(w.word for w in words).strip()) > max_chars


def _last_comma(words: list[Word]) -> int:
    """Index of the last word ending in a comma or similar (in the back half), else the last word."""
    for i in range(len(words) - 1, len(words) // 2 - 1, -1):
        if words[i].word.strip().endswith((",", ";", ":", "，")):
            return i
    return len(words) - 1


def _piece(seg: Segment, words: list[Word]) -> Segment:
    return replace(seg, start=words[0].start, end=words[-1].end, text="".join(w.word for w in words), words=list(words))
