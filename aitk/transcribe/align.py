"""Forced alignment of Whisper's English words with PocketSphinx's acoustic model (PyPI `pocketsphinx`).

Whisper's word times come from cross-attention, not from the sound: junctions between words run
together land 0.1-0.3 s off, and `word_times.refine_word_times` can only move them onto a pause
that lies close by. A forced aligner knows what each phone sounds like: given the words, an HMM
over their phones (CMUdict pronunciations, the US English model that ships inside the pocketsphinx
wheel, 10 ms frames) finds where each one starts. Its boundaries go to the refinement instead of
Whisper's, and the refinement snaps them onto the pauses.

The alignment is per segment and all or nothing: a segment keeps Whisper's times when the language
is not English, a word is not in the dictionary (digits, most names: CMUdict spells words, and there
is no letter-to-sound model here), or the aligner returns anything but one plausible time per word.
"""

from __future__ import annotations

import re
import threading
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from aitk.engine.errors import ModelError
from aitk.engine.media import SAMPLE_RATE
from aitk.transcribe.result import Segment, Word

FRAME = 0.01  # seconds per PocketSphinx frame
PAD = 0.3  # seconds of audio around a segment given to the aligner (Whisper's edges are that far off)
MAX_SHIFT = 1.0  # an aligned word this far (seconds) from Whisper's is a failed alignment, not a better time
_TOKEN = re.compile(r"[^a-z']")
_NOT_WORDS = ("<s>", "</s>", "<sil>", "(NULL)")  # the segmentation's silences and markers
_HINT = "give a folder with a PocketSphinx acoustic model (mdef, means, ...) and one .dict file"
_LOCK = threading.Lock()  # the decoders are shared by the process's threads; each holds one utterance at a time


def available() -> bool:
    try:
        import pocketsphinx  # noqa: F401
    except ImportError:
        return False
    return True


@lru_cache(maxsize=2)
def _decoder(model: str | None = None):
    """A PocketSphinx decoder: the wheel's US English model, or `model`, a folder holding an
    acoustic model (its `mdef` and the other files) and one `*.dict` pronunciation dictionary."""
    import os

    from pocketsphinx import Decoder, get_model_path

    if model is None:
        root = os.path.join(get_model_path(), "en-us")
        hmm, words = os.path.join(root, "en-us"), os.path.join(root, "cmudict-en-us.dict")
    else:
        hmm, words = _user_model(Path(model))
    try:
        return Decoder(hmm=hmm, dict=words, samprate=SAMPLE_RATE, loglevel="FATAL")
    except (RuntimeError, ValueError) as exc:
        raise ModelError(f"cannot load the alignment model {model}: {exc}", hint=_HINT) from None


def _user_model(folder: Path) -> tuple[str, str]:
    """(acoustic model folder, dictionary file) of a user's alignment model folder."""
    if not (folder / "mdef").is_file():
        raise ModelError(f"{folder}: no PocketSphinx acoustic model here (no mdef file)", hint=_HINT)
    dictionaries = sorted(folder.glob("*.dict"))
    if len(dictionaries) != 1:
        raise ModelError(f"{folder}: {len(dictionaries)} .dict files, one is needed", hint=_HINT)
    return str(folder), str(dictionaries[0])


def dictionary_form(word: str) -> str:
    """The CMUdict spelling of one of Whisper's words: lower case, no punctuation but apostrophes (pure)."""
    return _TOKEN.sub("", word.lower()).strip("'")


def align_words(
    segments: list[Segment],
    audio: np.ndarray,
    sample_rate: int,
    language: str | None,
    model: str | None = None,
    model_language: str = "en",
) -> list[Segment]:
    """Segments whose words carry PocketSphinx's times where the alignment succeeded (see the module doc).

    `audio` is mono float32 at `sample_rate` (engine.media.SAMPLE_RATE, PocketSphinx's model rate). `model`: a user's
    alignment model folder (see _decoder) for `model_language`; None: the wheel's US English one."""
    if language not in (None, model_language) or sample_rate != SAMPLE_RATE or not available():
        return segments
    decoder = _decoder(model)
    out: list[Segment] = []
    for i, seg in enumerate(segments):
        if not seg.words:
            out.append(seg)
            continue
        # The slice reaches PAD s past the segment, never into the neighbours' words.
        lo = max(seg.start - PAD, segments[i - 1].end if i else 0.0, 0.0)
        hi = min(seg.end + PAD, segments[i + 1].start if i + 1 < len(segments) else len(audio) / sample_rate)
        times = align_slice(audio[int(lo * sample_rate) : int(hi * sample_rate)], seg.words, decoder)
        if times is None:
            out.append(seg)
            continue
        words = [replace(w, start=round(lo + s, 3), end=round(lo + e, 3)) for w, (s, e) in zip(seg.words, times)]
        if any(abs(a.start - b.start) > MAX_SHIFT or abs(a.end - b.end) > MAX_SHIFT for a, b in zip(words, seg.words)):
            out.append(seg)
            continue
        out.append(replace(seg, start=words[0].start, end=words[-1].end, words=words))
    return out


def align_slice(audio: np.ndarray, words: list[Word], decoder=None) -> list[tuple[float, float]] | None:
    """(start, end) in seconds from the slice's start for each word, or None where it cannot be aligned."""
    decoder = decoder or _decoder()
    tokens = [dictionary_form(w.word) for w in words]
    if not tokens or any(not t or decoder.lookup_word(t) is None for t in tokens):
        return None
    pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype(np.int16).tobytes()
    try:
        with _LOCK:
            decoder.set_align_text(" ".join(tokens))
            decoder.start_utt()
            decoder.process_raw(pcm, full_utt=True)
            decoder.end_utt()
            # no path through the words at all (audio that does not say them): no segmentation
            found = [(s.start_frame, s.end_frame) for s in decoder.seg() or () if s.word not in _NOT_WORDS]
    except RuntimeError:  # the slice is too short for the words
        return None
    if len(found) != len(tokens):
        return None
    return [(start * FRAME, (end + 1) * FRAME) for start, end in found]
