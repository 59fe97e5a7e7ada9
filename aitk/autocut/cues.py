"""The data autocut works on: subtitle cues and kept time spans (pure, no I/O beyond srt text)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

NO_SPEECH = "< No Speech >"


@dataclass(frozen=True)
class Cue:
    index: int  # the subtitle number, as in the srt file (1-based)
    start: float  # seconds in the source media
    end: float
    text: str

    @property
    def is_speech(self) -> bool:
        return self.text.strip() != NO_SPEECH


@dataclass(frozen=True)
class Span:
    """A kept stretch of the source, [start, end) in seconds."""

    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start


def parse_srt(text: str) -> list[Cue]:
    import srt

    return [
        Cue(s.index, s.start.total_seconds(), s.end.total_seconds(), s.content.replace("\n", " ").strip())
        for s in srt.parse(text)
    ]


def compose_srt(cues: list[Cue], reindex: bool = False) -> str:
    import srt

    subs = [
        srt.Subtitle(index=(i if reindex else c.index), start=timedelta(seconds=c.start), end=timedelta(seconds=c.end), content=c.text)
        for i, c in enumerate(cues, start=1)
    ]
    return srt.compose(subs, reindex=False)
