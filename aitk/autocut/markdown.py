"""The editing Markdown: one checkbox line per subtitle cue; tick what to keep (pure).

    - [ ] <-- Mark if you are done editing.

    <video controls="true" allowfullscreen="true"> <source src="talk.mp4" type="video/mp4"> </video>

    Texts generated from [talk.srt](talk.srt). Tick the sentences to keep; edit their text to fix
    the subtitles. Each line is [subtitle index,start time] text.

    - [ ] [1,00:00] Good morning.
    - [ ] [2,00:02] < No Speech >
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from aitk.autocut.cues import Cue
from aitk.engine.errors import UsageError

DONE_TEXT = "<-- Mark if you are done editing."
_DONE = re.compile(r"^\s*[-*] \[([ xX])\] <-- Mark if you are done editing")
_LINE = re.compile(r"^\s*[-*] \[([ xX])\] \[(\d+),([\d:]+)\]\s?(.*?)\s*$")
_COMMENT = re.compile(r"\s*<!--.*?-->")

MIME = {
    ".mp4": "video/mp4", ".m4v": "video/mp4", ".mov": "video/quicktime", ".webm": "video/webm",
    ".mkv": "video/x-matroska", ".ogv": "video/ogg", ".avi": "video/x-msvideo",
    ".mp3": "audio/mpeg", ".m4a": "audio/mp4", ".aac": "audio/aac", ".wav": "audio/wav",
    ".flac": "audio/flac", ".ogg": "audio/ogg", ".oga": "audio/ogg", ".opus": "audio/ogg",
}


@dataclass(frozen=True)
class MdLine:
    index: int  # subtitle index
    ticked: bool
    text: str  # as the user left it (comments removed)
    line_no: int  # 1-based, for error messages


@dataclass(frozen=True)
class MdDoc:
    done: bool
    lines: list[MdLine]

    @property
    def kept(self) -> list[MdLine]:
        return [line for line in self.lines if line.ticked]


def clock(seconds: float) -> str:
    """mm:ss, or h:mm:ss once past an hour."""
    total = int(seconds)
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


def player_tag(media_name: str) -> str:
    suffix = Path(media_name).suffix.lower()
    mime = MIME.get(suffix, "video/mp4")
    tag = "audio" if mime.startswith("audio/") else "video"
    extra = ' allowfullscreen="true"' if tag == "video" else ""
    return f'<{tag} controls="true"{extra}> <source src="{media_name}" type="{mime}"> </{tag}>'


def render_md(
    media_name: str, srt_name: str, cues: list[Cue], ticked: set[int] | frozenset[int] = frozenset(),
    notes: dict[int, str] | None = None, done: bool = False,
) -> str:
    """The editing file for `cues`; `ticked` pre-ticks cue indices, `notes` adds hidden reasons."""
    notes = notes or {}
    head = [
        f"- [{'x' if done else ' '}] {DONE_TEXT}",
        "",
        player_tag(media_name),
        "",
        f"Texts generated from [{srt_name}]({srt_name}). Tick the sentences to keep; edit their text",
        "to fix the subtitles. Each line is [subtitle index,start time] text.",
        "",
    ]
    body = []
    for cue in cues:
        mark = "x" if cue.index in ticked else " "
        note = f" <!-- drop? {notes[cue.index]} -->" if cue.index in notes else ""
        body.append(f"- [{mark}] [{cue.index},{clock(cue.start)}] {cue.text}{note}")
    return "\n".join(head + body) + "\n"


def parse_md(text: str, name: str = "md") -> MdDoc:
    done = False
    lines: list[MdLine] = []
    seen: dict[int, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        if _DONE.match(raw):
            done = raw.split("[", 1)[1][0] in "xX"
            continue
        match = _LINE.match(raw)
        if not match:
            continue
        index = int(match.group(2))
        if index in seen:
            raise UsageError(f"{name} line {number}: cue {index} is listed twice (first on line {seen[index]})", hint="remove one")
        seen[index] = number
        text_part = _COMMENT.sub("", match.group(4)).strip()
        lines.append(MdLine(index, match.group(1) in "xX", text_part, number))
    return MdDoc(done, lines)
