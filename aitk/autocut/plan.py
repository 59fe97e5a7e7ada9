"""What a cut keeps beyond the ticked lines: the speakers asked for, less the struck words, less the
pauses; and the kept cues and words on the cut's timeline. Used by run.cut; no output is written here."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from aitk.autocut.config import CutConfig, SilenceOptions
from aitk.autocut.cues import Cue, Span
from aitk.autocut.spans import retime
from aitk.autocut.words import (
    CueWords,
    TimedWord,
    has_strikes,
    kept_text,
    removed_ranges,
    split_speaker,
    struck_words,
    words_path,
)
from aitk.engine.errors import UsageError
from aitk.engine.media import SAMPLE_RATE, decode_audio


def by_speaker(
    kept: list[tuple[Cue, int]],
    srt_cues: dict[int, Cue],
    words: dict[int, CueWords] | None,
    config: CutConfig,
    srt_path: Path,
    media: Path,
) -> list[tuple[Cue, int]]:
    """`kept` less the sentences of speakers --drop-speaker names or --keep-speaker leaves out. A
    cue's speaker is its label in the word file, else the "[NAME]" its srt text starts with."""
    if not (config.keep_speakers or config.drop_speakers):
        return kept

    def speaker(index: int) -> str | None:
        own = (words or {}).get(index)
        return own.speaker if own is not None and own.speaker else split_speaker(srt_cues[index].text)[0]

    known = sorted({who for who in map(speaker, srt_cues) if who})
    if not known:
        raise UsageError(
            f"{srt_path} has no speaker labels, so --keep-speaker/--drop-speaker cannot choose",
            hint=f"transcribe with them: aitk autocut transcribe {media} --diarize --force (re-writes the md too)",
        )
    unknown = [n for n in (*config.keep_speakers, *config.drop_speakers) if n not in known]
    if unknown:
        raise UsageError(f"no speaker {unknown[0]} in {srt_path}", hint=f"its speakers are {', '.join(known)}")
    out = []
    for cue, line in kept:
        who = speaker(cue.index)
        if not cue.is_speech or who in config.drop_speakers:
            continue
        if config.keep_speakers and who not in config.keep_speakers:
            continue
        out.append((cue, line))
    if not out:
        raise UsageError("no sentence is left after --keep-speaker/--drop-speaker", hint="check the names")
    return out


def take_struck_words(
    kept: list[tuple[Cue, int]],
    words: dict[int, CueWords] | None,
    fps: float,
    config: CutConfig,
    media: Path,
    md_path: Path | None,
    srt_path: Path,
) -> tuple[list[tuple[Cue, int]], list[tuple[float, float]], dict[int, set[int]]]:
    """The kept cues with their struck words taken out of their text, the source stretches those
    words occupy (words.removed_ranges), and cue index -> the struck words' indices. UsageError
    naming the md line for a strike that cannot be cut."""
    out, holes = [], []
    removed_by_cue: dict[int, set[int]] = {}
    for cue, line_no in kept:
        if not (cue.is_speech and has_strikes(cue.text)):
            out.append((cue, line_no))
            continue
        where = f"{md_path} line {line_no}"
        if config.encode.fast:
            raise UsageError(
                f"{where}: struck words cannot be cut with --fast (cuts snap to keyframes)", hint="leave out --fast"
            )
        own = (words or {}).get(cue.index)
        if words is None or own is None:
            raise UsageError(
                f"{where}: ~~struck~~ words need the word times of {words_path(srt_path).name}, "
                + ("which is missing" if words is None else f"which has none for cue {cue.index}"),
                hint=(
                    f"re-run 'aitk autocut transcribe {media} --force' to make it (that re-writes {srt_path.name} and "
                    "the md: keep a copy of your edits), or remove the ~~ ~~"
                ),
            )
        if abs(own.start - cue.start) > 0.002 or abs(own.end - cue.end) > 0.002:
            raise UsageError(
                f"{where}: cue {cue.index} was re-timed in {srt_path.name} after its words were transcribed",
                hint="undo that change, or re-run 'aitk autocut transcribe --force'",
            )
        try:
            removed = struck_words(split_speaker(cue.text)[1], own.words)
        except ValueError as exc:
            raise UsageError(f"{where}: {exc}", hint="strike whole words as the line shows them: '~~um,~~'") from None
        holes += removed_ranges(own.words, removed, cue.start, cue.end, fps)
        removed_by_cue[cue.index] = removed
        text = kept_text(cue.text)
        if split_speaker(text + " ")[1].strip():  # not every word struck
            out.append((Cue(cue.index, cue.start, cue.end, text), line_no))
    return out, holes, removed_by_cue


def sound_of(media: Path, opts: SilenceOptions) -> list[Span]:
    """The spans of `media` that hold sound (silence.sound_spans over its 10 ms loudness envelope)."""
    from aitk.autocut.edges import HOP, level_db
    from aitk.autocut.silence import auto_threshold, sound_spans

    audio = decode_audio(media)
    level = level_db(audio, SAMPLE_RATE, HOP)
    threshold = auto_threshold(level) if opts.threshold_db is None else opts.threshold_db
    return sound_spans(level, HOP, threshold, opts.min_silence, opts.margin, len(audio) / SAMPLE_RATE)


def retimed(
    cues: list[Cue], words: dict[int, CueWords] | None, removed: dict[int, set[int]], spans: list[Span]
) -> tuple[list[Cue], dict[int, CueWords]]:
    """The kept cues on the cut's timeline (renumbered), and their kept words re-timed with them."""
    new_cues: list[Cue] = []
    new_words: dict[int, CueWords] = {}
    for cue in sorted(cues, key=lambda c: c.start):
        moved = retime([cue], spans)
        if not moved:
            continue
        new = replace(moved[0], index=len(new_cues) + 1)
        new_cues.append(new)
        own = (words or {}).get(cue.index)
        if own is not None:
            kept_words = []
            for i, w in enumerate(own.words):
                placed = retime([Cue(0, w.start, w.end, w.text)], spans)
                if placed and i not in removed.get(cue.index, ()):
                    kept_words.append(TimedWord(placed[0].start, placed[0].end, w.text))
            new_words[new.index] = CueWords(new.start, new.end, tuple(kept_words), own.speaker)
    return new_cues, new_words
