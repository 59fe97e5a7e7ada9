"""Output formats as a table: one small function per format, looked up by name."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

from aitk.transcribe.result import Transcript


def srt_timestamp(seconds: float, sep: str = ",", always_hours: bool = True) -> str:
    """`HH:MM:SS,mmm` as SRT writes a time (negative times clamp to 0); sep="." gives WebVTT's."""
    ms = max(0, int(round(seconds * 1000)))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    head = f"{h:02d}:" if (always_hours or h) else ""
    return f"{head}{m:02d}:{s:02d}{sep}{ms:03d}"


def _cues(t: Transcript):
    """(start, end, text, speaker) per non-empty segment, with end never before start."""
    for seg in t.segments:
        text = seg.text.strip()
        if text:
            yield seg.start, max(seg.end, seg.start), text, seg.speaker


def _said(text: str, speaker: str | None) -> str:
    """A line of txt or an srt cue: `[SPEAKER_1] text` when speakers are labelled (--diarize)."""
    return text if speaker is None else f"[{speaker}] {text}"


def write_txt(t: Transcript) -> str:
    return "".join(f"{_said(text, who)}\n" for _, _, text, who in _cues(t))


def write_srt(t: Transcript) -> str:
    import srt

    subs = [
        srt.Subtitle(index=i, start=timedelta(seconds=a), end=timedelta(seconds=b), content=_said(text, who))
        for i, (a, b, text, who) in enumerate(_cues(t), start=1)
    ]
    return srt.compose(subs, reindex=False)


def write_vtt(t: Transcript) -> str:
    def voiced(text: str, who: str | None) -> str:  # WebVTT's voice span: <v SPEAKER_1>text
        text = text.replace("-->", "->")
        return text if who is None else f"<v {who.replace('>', ' ')}>{text}"

    blocks = [
        f"{srt_timestamp(a, '.')} --> {srt_timestamp(b, '.')}\n{voiced(text, who)}\n" for a, b, text, who in _cues(t)
    ]
    return "WEBVTT\n\n" + "\n".join(blocks)


def write_tsv(t: Transcript) -> str:
    # Milliseconds as integers, like openai-whisper's tsv, so spreadsheets do not round them. With speakers
    # (--diarize) a fourth column, last, so readers of openai-whisper's three columns keep working.
    def row(a: float, b: float, text: str, who: str | None) -> str:
        cells = [str(int(round(a * 1000))), str(int(round(b * 1000))), text.replace("\t", " ")]
        return "\t".join(cells + ([who or ""] if t.speakers else [])) + "\n"

    return ("start\tend\ttext\tspeaker\n" if t.speakers else "start\tend\ttext\n") + "".join(
        row(*cue) for cue in _cues(t)
    )


def write_json(t: Transcript) -> str:
    return json.dumps(t.to_dict(), ensure_ascii=False, indent=2) + "\n"


WRITERS: dict[str, Callable[[Transcript], str]] = {
    "txt": write_txt,
    "srt": write_srt,
    "vtt": write_vtt,
    "tsv": write_tsv,
    "json": write_json,
}


def render(t: Transcript, fmt: str) -> str:
    return WRITERS[fmt](t)
