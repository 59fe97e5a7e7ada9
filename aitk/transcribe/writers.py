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
    """(start, end, text) per non-empty segment, with end never before start."""
    for seg in t.segments:
        text = seg.text.strip()
        if text:
            yield seg.start, max(seg.end, seg.start), text


def write_txt(t: Transcript) -> str:
    return "".join(f"{text}\n" for _, _, text in _cues(t))


def write_srt(t: Transcript) -> str:
    import srt

    subs = [
        srt.Subtitle(index=i, start=timedelta(seconds=a), end=timedelta(seconds=b), content=text)
        for i, (a, b, text) in enumerate(_cues(t), start=1)
    ]
    return srt.compose(subs, reindex=False)


def write_vtt(t: Transcript) -> str:
    blocks = [
        f"{srt_timestamp(a, '.')} --> {srt_timestamp(b, '.')}\n{text.replace('-->', '->')}\n" for a, b, text in _cues(t)
    ]
    return "WEBVTT\n\n" + "\n".join(blocks)


def write_tsv(t: Transcript) -> str:
    # Milliseconds as integers, like openai-whisper's tsv, so spreadsheets do not round them.
    rows = [f"{int(round(a * 1000))}\t{int(round(b * 1000))}\t{text.replace(chr(9), ' ')}" for a, b, text in _cues(t)]
    return "start\tend\ttext\n" + "".join(r + "\n" for r in rows)


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
