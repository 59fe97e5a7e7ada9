"""`--suggest`: pre-mark cues to leave unticked (fillers, abandoned restarts, long silences). Pure.

Conservative by design: a cue wrongly dropped loses the speaker's words, a missed one costs the
user a click. So every rule needs clear evidence, and anything doubtful stays ticked.
"""

from __future__ import annotations

import re

from aitk.autocut.cues import Cue
from aitk.engine.errors import UsageError

# Sounds, not words. "like", "so", "well", "right" are left out: usually they carry meaning.
FILLERS: frozenset[str] = frozenset(
    {"um", "umm", "uh", "uhh", "uhm", "er", "erm", "ah", "ahh", "hm", "hmm", "mm", "mmm"}
)
# Filler only inside an all-filler cue ("Um, you know..."); alone it may be a real "You know?".
FILLER_PHRASES: tuple[tuple[str, ...], ...] = (("you", "know"),)

# Hyphenated tokens stay whole, so "uh-uh" (no) and "mm-hmm" (yes) are answers, not fillers.
_WORD = re.compile(r"[\w']+(?:-[\w']+)*")
_DANGLING = ("-", "\u2013", "\u2014", "...", "\u2026")  # "So the main thing is—": cut off mid-thought


def words(text: str) -> list[str]:
    """Lowercased words without punctuation: "Well, I—I don't" -> ["well", "i", "i", "don't"]."""
    text = text.lower().replace("\u2019", "'")
    return [w.strip("'") for w in _WORD.findall(text) if w.strip("'_")]


def is_filler(tokens: list[str]) -> bool:
    """All words are fillers, with at least one true filler sound (so "you know" alone is not)."""
    rest, sounds, i = [], 0, 0
    while i < len(tokens):
        phrase = next((p for p in FILLER_PHRASES if tuple(tokens[i : i + len(p)]) == p), None)
        if phrase:
            i += len(phrase)
            continue
        sounds += tokens[i] in FILLERS
        rest.append(tokens[i])
        i += 1
    return sounds > 0 and all(t in FILLERS for t in rest)


def _shared_prefix(a: list[str], b: list[str]) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def is_restart(first: Cue, second: Cue) -> bool:
    """`first` was abandoned and said again in `second` (the next non-filler speech cue)."""
    a, b = words(first.text), words(second.text)
    if not a or not b:
        return False
    shared = _shared_prefix(a, b)
    if first.text.rstrip().endswith(_DANGLING) and shared >= min(2, len(a)):
        return True
    if shared == len(a) and (len(a) >= 3 or (len(a) == 2 and len(b) > 2)):
        return True  # a prefix of the retake, or a 3+ word sentence said twice; "Thank you." x2 stays
    # Same opening, then diverged: most of `first` must be repeated, or two sentences that merely
    # start alike ("I think that we..." / "I think that it...") would be dropped.
    return shared >= 3 and 2 * shared >= len(a) and len(a) < len(b)


def suggest_drops(cues: list[Cue], long_silence: float = 2.0) -> dict[int, str]:
    """Map cue.index -> reason ("filler", "restart", "silence") for cues to leave unticked.

    All other speech cues are to be kept. No-speech cues shorter than `long_silence` seconds are
    not marked: the caller decides about short pauses.
    """
    if long_silence < 0:
        raise UsageError(f"long_silence must be zero or more seconds, got {long_silence}")
    drops: dict[int, str] = {}
    speech = []  # speech cues that are not fillers, in order: restarts compare neighbours here
    for cue in cues:
        if not cue.is_speech:
            if cue.end - cue.start >= long_silence - 1e-6:  # tolerate float error in 2.0 s
                drops[cue.index] = "silence"
        elif is_filler(words(cue.text)):
            drops[cue.index] = "filler"
        else:
            speech.append(cue)
    for first, second in zip(speech, speech[1:]):
        if is_restart(first, second):
            drops[first.index] = "restart"
    return drops


# A single repeated word is a stumble only for these ("I I think", "the the"); "very very" or
# "that that" can be meant, so they stay.
_STUMBLE_WORDS = frozenset({"i", "a", "an", "the", "we", "you", "it", "to", "and", "so", "he", "she", "they", "is"})


def suggest_strikes(line_words: list[str]) -> set[int]:
    """Indices of the words of a kept line to strike: filler sounds ("um", "uh"), "you know" set
    off by a comma ("um, you know, it works"), and the first take of a word or phrase said twice
    in a row ("we should we should go", "I I think"). `line_words` are Whisper's words, with
    their punctuation; a line that is all fillers is left to `suggest_drops`."""
    toks = [words(w) for w in line_words]
    flat = [t[0] if len(t) == 1 else " ".join(t) for t in toks]
    if not flat or is_filler([t for t in flat if t]):
        return set()
    struck = {i for i, t in enumerate(flat) if t in FILLERS}
    for i in range(len(flat) - 1):
        if (flat[i], flat[i + 1]) == ("you", "know"):
            before = i > 0 and (line_words[i - 1].rstrip().endswith(",") or flat[i - 1] in FILLERS)
            after = line_words[i + 1].rstrip().endswith((",", "..."))
            if before or after:
                struck |= {i, i + 1}
    for size in (6, 5, 4, 3, 2, 1):
        for i in range(len(flat) - 2 * size + 1):
            first, again = flat[i : i + size], flat[i + size : i + 2 * size]
            if first != again or not all(first) or set(range(i, i + 2 * size)) & struck:
                continue
            if size > 1 or first[0] in _STUMBLE_WORDS:
                struck |= set(range(i, i + size))
    return struck if len(struck) < len(flat) else set()
