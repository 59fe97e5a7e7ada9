"""The transcript schema shared by every backend and writer (see docs/cli.md for the JSON form)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class Word:
    start: float
    end: float
    word: str  # with its leading space, as Whisper emits it
    probability: float
    speaker: str | None = None  # --diarize: who says it (SPEAKER_1, ... or a --speaker-names name)


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
    speaker: str | None = None  # --diarize: the segment's speaker (a segment never spans two)


@dataclass
class Transcript:
    language: str
    duration: float  # seconds of audio decoded
    segments: list[Segment] = field(default_factory=list)
    language_probability: float | None = None
    model: str = ""
    backend: str = ""
    device: str = ""
    speakers: list[str] = field(default_factory=list)  # --diarize: speaker names by first appearance

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.segments if s.text.strip())

    def to_dict(self) -> dict:
        data = asdict(self)
        data["text"] = self.text
        if not data["speakers"]:  # without --diarize the JSON is as before
            del data["speakers"]
        for seg in data["segments"]:
            if seg["speaker"] is None:
                del seg["speaker"]
            if seg["words"] is None:
                del seg["words"]
            for word in seg.get("words") or ():
                if word["speaker"] is None:
                    del word["speaker"]
        return data
