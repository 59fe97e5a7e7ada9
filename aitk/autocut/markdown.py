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
from urllib.parse import quote

from aitk.autocut.cues import Cue
from aitk.engine.errors import UsageError

DONE_TEXT = "<-- Mark if you are done editing."
_DONE = re.compile(r"^\s*(?:[-*+]\s*)?\[\s*([xX]?)\s*\]\s*<-- Mark if you are done editing")
# A sentence line, read leniently where the intent is plain: spaces inside the brackets or
# after the comma, no space between "]" and "[", another bullet or none, START left out.
_LINE = re.compile(r"^\s*(?:[-*+]\s*)?\[\s*([xX]?)\s*\]\s*\[\s*(\d+)\s*(?:,\s*[\d:.]*\s*)?\]\s?(.*?)\s*$")
# What still looks like one (a checkbox, then a number or "[number"; or "[number" first) but is
# not: reported, never skipped, since a skipped ticked line would silently lose a sentence.
_LOOKS_LIKE_LINE = re.compile(r"^\s*(?:[-*+]\s*)?(?:\[[^\[\]]{0,3}\]\s*\[?|\[)\s*\d+(?=[\s,:\]]|$)")
_COMMENT = re.compile(r"\s*<!--.*?-->")

MIME = {
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".mov": "video/quicktime",
    ".webm": "video/webm",
    ".mkv": "video/x-matroska",
    ".ogv": "video/ogg",
    ".avi": "video/x-msvideo",
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".aac": "audio/aac",
    ".wav": "audio/wav",
    ".flac": "audio/flac",
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
    ".opus": "audio/ogg",
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


def link_target(name: str) -> str:
    """A Markdown link target for a file name: in <...> when it holds spaces or brackets, which
    would otherwise end the link (CommonMark)."""
    return f"<{name}>" if any(ch in name for ch in " ()<>") else name


def player_tag(media_name: str) -> str:
    suffix = Path(media_name).suffix.lower()
    mime = MIME.get(suffix, "video/mp4")
    tag = "audio" if mime.startswith("audio/") else "video"
    extra = ' allowfullscreen="true"' if tag == "video" else ""
    return f'<{tag} controls="true"{extra}> <source src="{quote(media_name)}" type="{mime}"> </{tag}>'


def render_md(
    media_name: str,
    srt_name: str,
    cues: list[Cue],
    ticked: set[int] | frozenset[int] = frozenset(),
    notes: dict[int, str] | None = None,
    done: bool = False,
) -> str:
    """The editing file for `cues`; `ticked` pre-ticks cue indices, `notes` adds hidden reasons."""
    notes = notes or {}
    head = [
        f"- [{'x' if done else ' '}] {DONE_TEXT}",
        "",
        player_tag(media_name),
        "",
        f"Texts generated from [{srt_name}]({link_target(srt_name)}). Tick the sentences to keep; edit their text",
        "to fix the subtitles. Each line is [subtitle index,start time] text.",
        "",
    ]
    body = []
    for cue in cues:
        mark = "x" if cue.index in ticked else " "
        note = f" <!-- drop? {notes[cue.index]} -->" if cue.index in notes else ""
        body.append(f"- [{mark}] [{cue.index},{clock(cue.start)}] {cue.text}{note}")
    return "\n".join(head + body) + "\n"


def is_done(text: str) -> bool:
    """Whether the "done editing" box is ticked (the first such line counts)."""
    for raw in text.splitlines():
        match = _DONE.match(raw)
        if match:
            return bool(match.group(1))
    return False


def parse_md(text: str, name: str = "md") -> MdDoc:
    """The sentence lines of an editing md; UsageError naming the line for one that cannot be read."""
    lines: list[MdLine] = []
    seen: dict[int, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        if _DONE.match(raw):
            continue
        match = _LINE.match(raw)
        if not match:
            if _LOOKS_LIKE_LINE.match(raw):
                shown = raw.strip() if len(raw.strip()) <= 32 else raw.strip()[:30] + "..."
                raise UsageError(
                    f"{name} line {number}: cannot read '{shown}' as a sentence line",
                    hint="write it as '- [x] [INDEX,START] TEXT', e.g. '- [x] [5,00:08] ...', or delete it",
                )
            continue
        index = int(match.group(2))
        if index in seen:
            raise UsageError(
                f"{name} line {number}: cue {index} is listed twice (first on line {seen[index]})", hint="remove one"
            )
        seen[index] = number
        text_part = _COMMENT.sub("", match.group(3)).strip()
        lines.append(MdLine(index, bool(match.group(1)), text_part, number))
    return MdDoc(is_done(text), lines)
