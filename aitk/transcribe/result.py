"""The transcript schema shared by every backend and writer (see docs/cli.md for the JSON form)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class Word:
    start: float
    end: float
    word: str  # with its leading space, as Whisper emits it
    probability: float


@dataclass
class Segment:
    id: int
    start: float  # seconds from the start of the media
    end: float
    text: str
    avg_logprob: float
    no_speech_prob: float
    compression_ratio: float = 0.0
    temperature: float = 0.0
    words: list[Word] | None = None


@dataclass
class Transcript:
    language: str
    duration: float  # seconds of audio decoded
    segments: list[Segment] = field(default_factory=list)
    language_probability: float | None = None
    model: str = ""
    backend: str = ""
    device: str = ""

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.segments if s.text.strip())

    def to_dict(self) -> dict:
        data = asdict(self)
        data["text"] = self.text
        for seg in data["segments"]:
            if seg["words"] is None:
                del seg["words"]
        return data
