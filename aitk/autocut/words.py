"""Word-level editing: the word times beside the srt (X.words.json) and `~~struck~~` words in the md.

`aitk autocut transcribe` keeps every cue's words and their times in X.words.json (written
atomically beside X.srt; the srt format has no room for them). In the md a user strikes words or
phrases inside a kept line, `~~um, you know~~`, and the cut drops exactly those words: each struck
run goes from the middle of the pause before it to the middle of the pause after it (from the
sentence's edge when it opens or closes the sentence), so one natural pause stays and no kept word
is touched. Pure apart from reading and writing the json.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

from aitk.autocut.cues import EditFileError
from aitk.autocut.suggest import words as tokens

WORDS_SUFFIX = ".words.json"
FORMAT = "aitk-autocut-words"
VERSION = 1
_STRIKE = re.compile(r"~~(.*?)~~", re.S)
_SPEAKER = re.compile(r"^\[([^\[\]]+)\]\s+")  # "[SPEAKER_1] text", as aitk transcribe writes labelled cues


@dataclass(frozen=True)
class TimedWord:
    start: float  # seconds in the source media
    end: float
    text: str  # as Whisper wrote it, punctuation included, no leading space


@dataclass(frozen=True)
class CueWords:
    """One cue's words as transcribed. `start`/`end` are the cue's times then: an srt whose cue was
    re-timed since no longer matches its words."""

    start: float
    end: float
    words: tuple[TimedWord, ...]
    speaker: str | None = None


def words_path(srt_path: Path) -> Path:
    """X.words.json beside X.srt."""
    return srt_path.with_name(srt_path.stem + WORDS_SUFFIX)


def split_speaker(text: str) -> tuple[str | None, str]:
    """("SPEAKER_1", "Hello.") for "[SPEAKER_1] Hello."; (None, text) when the line has no label."""
    match = _SPEAKER.match(text)
    return (match.group(1), text[match.end() :]) if match else (None, text)


def dump_words(media_name: str, by_cue: dict[int, CueWords]) -> str:
    cues = {
        str(index): {
            "start": cw.start,
            "end": cw.end,
            "speaker": cw.speaker,
            "words": [[round(w.start, 3), round(w.end, 3), w.text] for w in cw.words],
        }
        for index, cw in sorted(by_cue.items())
    }
    return json.dumps({"format": FORMAT, "version": VERSION, "media": media_name, "cues": cues}, indent=1) + "\n"


def load_words(path: Path) -> dict[int, CueWords] | None:
    """The cues' words from X.words.json; None when there is none (files from before word editing)."""
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            raise ValueError("not an aitk word file")
        return {
            int(index): CueWords(
                float(cue["start"]),
                float(cue["end"]),
                tuple(TimedWord(float(a), float(b), str(t)) for a, b, t in cue["words"]),
                cue.get("speaker"),
            )
            for index, cue in data["cues"].items()
        }
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise EditFileError(
            "not a valid word-times file",
            path=path,
            hint="re-run 'aitk autocut transcribe --force' (that re-writes the md too), or cut whole lines only",
        ) from exc


def has_strikes(text: str) -> bool:
    return bool(_STRIKE.search(text))


def kept_text(text: str) -> str:
    """The line without its struck parts: "~~Um,~~ so we ~~we~~ ship." -> "so we ship."."""
    rest = _STRIKE.sub(" ", text)
    rest = re.sub(r"\s+([,.;:!?])", r"\1", rest)  # "we , ship" -> "we, ship"
    rest = re.sub(r"^[\s,;:]+", "", rest)  # a strike at the start leaves no leading comma
    return " ".join(rest.split())


def struck_words(text: str, words: tuple[TimedWord, ...]) -> set[int]:
    """Indices of the `words` struck through in the md line `text` (its words may be corrected).

    The line's words are aligned with the transcribed ones (difflib, on lower-case tokens), so
    corrections elsewhere in the line do not matter. ValueError (the message says why) when a
    struck token matches no transcribed word, or only part of a word is struck.
    """
    line: list[tuple[str, bool]] = []  # (token, struck)
    cursor = 0
    for match in _STRIKE.finditer(text):
        line += [(t, False) for t in tokens(text[cursor : match.start()])]
        line += [(t, True) for t in tokens(match.group(1))]
        cursor = match.end()
    line += [(t, False) for t in tokens(text[cursor:])]
    heard = [(t, i) for i, w in enumerate(words) for t in tokens(w.text)]
    matcher = difflib.SequenceMatcher(None, [t for t, _ in line], [t for t, _ in heard], autojunk=False)
    owner: dict[int, int] = {}  # line token -> word index
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op == "equal" or (op == "replace" and a1 - a0 == b1 - b0):  # a corrected spelling maps one to one
            owner.update({a0 + k: heard[b0 + k][1] for k in range(a1 - a0)})
    lost = [t for j, (t, struck) in enumerate(line) if struck and j not in owner]
    if lost:
        raise ValueError(f"struck '{' '.join(lost)}' is not among the words transcribed for this line")
    struck: dict[int, list[bool]] = {}
    for j, word in owner.items():
        struck.setdefault(word, []).append(line[j][1])
    partial = [words[i].text for i, flags in struck.items() if any(flags) and not all(flags)]
    if partial:
        raise ValueError(f"only part of '{partial[0]}' is struck: strike whole words")
    return {i for i, flags in struck.items() if all(flags)}


def removed_ranges(
    words: tuple[TimedWord, ...], removed: set[int], cue_start: float, cue_end: float, fps: float = 0.0
) -> list[tuple[float, float]]:
    """(start, end) stretches of the source to drop for the `removed` words of one cue.

    A run of struck words goes from the middle of the pause before it to the middle of the pause
    after it (from the cue's own edge when the run opens or closes the cue). With `fps`, each edge
    that meets a kept word moves to a frame boundary inside that pause when there is one, else to
    the first boundary past the kept word: the cut may keep a sliver of a struck word, never lose
    one of a kept word.
    """
    out: list[tuple[float, float]] = []
    i = 0
    while i < len(words):
        if i not in removed:
            i += 1
            continue
        j = i
        while j + 1 < len(words) and j + 1 in removed:
            j += 1
        if i == 0:
            start = cue_start
        else:
            start = _edge((words[i - 1].end + words[i].start) / 2, words[i - 1].end, words[i].start, fps, +1)
        if j == len(words) - 1:
            end = cue_end
        else:
            end = _edge((words[j].end + words[j + 1].start) / 2, words[j].end, words[j + 1].start, fps, -1)
        if end > start:
            out.append((start, end))
        i = j + 1
    return out


def _edge(at: float, low: float, high: float, fps: float, keep_side: int) -> float:
    """`at`, the middle of the pause [low, high], on a frame boundary when `fps` is set. keep_side
    +1: the kept word ends at `low` (the edge may not go below it); -1: it starts at `high`."""
    if fps <= 0:
        return at
    inside = [k / fps for k in range(math.ceil(low * fps - 1e-9), math.floor(high * fps + 1e-9) + 1)]
    if inside:
        return min(inside, key=lambda t: abs(t - at))
    return math.ceil(low * fps - 1e-9) / fps if keep_side > 0 else math.floor(high * fps + 1e-9) / fps


def marked_line(words: tuple[TimedWord, ...], struck: set[int]) -> str:
    """The cue's words as a line, with the `struck` runs inside ~~ ~~ (what `--suggest` writes)."""
    parts: list[str] = []
    run: list[str] = []
    for i, word in enumerate(words):
        if i in struck:
            run.append(word.text)
            continue
        if run:
            parts.append("~~" + " ".join(run) + "~~")
            run = []
        parts.append(word.text)
    if run:
        parts.append("~~" + " ".join(run) + "~~")
    return " ".join(parts)
