"""The data autocut works on: subtitle cues and kept time spans (pure, no I/O beyond srt text)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from aitk.engine.errors import AitkError
from aitk.transcribe.writers import srt_timestamp

NO_SPEECH = "< No Speech >"


class EditFileError(AitkError):
    """An srt, md or compact file that cannot be read (not UTF-8, not SRT): a failed input, exit 1."""


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


def parse_srt(text: str, name: str = "srt") -> list[Cue]:
    """The cues of srt `text`; EditFileError naming `name` and the first line that is not SRT."""
    import srt

    try:
        cues = [
            Cue(s.index, s.start.total_seconds(), s.end.total_seconds(), s.content.replace("\n", " ").strip())
            for s in srt.parse(text)
        ]
    except (srt.SRTParseError, ValueError) as exc:  # TimestampParseError is a ValueError
        where = getattr(
            exc, "expected_start", None
        )  # where the parser stopped: the garbage starts after any blank lines
        if where is not None:
            where += len(text[where:]) - len(text[where:].lstrip())
        line = None if where is None else text.count("\n", 0, where) + 1
        at = "" if line is None else f" at line {line}"
        raise EditFileError(
            f"not a valid SRT file{at}",
            path=name,
            hint=(
                "each cue is a number, a 'HH:MM:SS,mmm --> HH:MM:SS,mmm' line and its text; fix it, or use the .srt "
                "aitk wrote"
            ),
        ) from exc
    backwards = next((c for c in cues if c.end < c.start), None)
    if backwards is not None:
        raise EditFileError(
            (
                f"cue {backwards.index} ends before it starts ({srt_timestamp(backwards.start)} --> "
                f"{srt_timestamp(backwards.end)})"
            ),
            path=name,
            hint="swap or fix its two times",
        )
    return cues


def compose_srt(cues: list[Cue], reindex: bool = False) -> str:
    import srt

    subs = [
        srt.Subtitle(
            index=(i if reindex else c.index),
            start=timedelta(seconds=c.start),
            end=timedelta(seconds=c.end),
            content=c.text,
        )
        for i, c in enumerate(cues, start=1)
    ]
    return srt.compose(subs, reindex=False)
