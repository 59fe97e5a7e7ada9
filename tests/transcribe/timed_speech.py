"""Generated speech whose word times are known to the sample, for the word-time tests and benchmark.

Each word is synthesised on its own (flite or espeak-ng), trimmed of its own leading and trailing
silence with an energy threshold, and the words of a sentence are joined with known gaps: some
tight (0-50 ms, as in running speech, where no pause shows between words), some open (100-400 ms).
Sentences are separated by 0.6-1.0 s. So each reference word's start and end is exactly where its
trimmed clip lies in the joined audio. Everything follows from the seed.

    clip = make_timed_speech(["The cat sat on the mat."], ("flite", "slt"), seed=1)
    clip.audio  # float32 mono 16 kHz
    clip.words  # [(start s, end s, "the"), ...]
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tests.transcribe.conversations import SAMPLE_RATE, read_wav

# (engine, voice). Half tune the refinement, half report it (see TUNE_VOICES / REPORT_VOICES).
VOICES: list[tuple[str, str]] = [
    ("flite", "slt"),
    ("espeak-ng", "en-us"),
    ("flite", "rms"),
    ("espeak-ng", "en-gb-scotland"),
    ("flite", "awb"),
    ("espeak-ng", "en-us+f3"),
    ("flite", "kal16"),
    ("espeak-ng", "en-gb"),
]
TUNE_VOICES = VOICES[:4]
REPORT_VOICES = VOICES[4:]

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Please send the final report to the finance team by Friday.",
    "We moved the meeting to the second floor this morning.",
    "Seven people signed up for the training session next week.",
    "The server crashed twice during the long weekend.",
    "Open the window and let some fresh air into the room.",
    "Her sister plays the violin in a small orchestra.",
    "Most customers asked for a simpler way to export data.",
    "The children painted a bright yellow sun on the wall.",
    "Turn left at the bakery and walk past the old church.",
    "Our garden needs rain after such a dry summer.",
    "The pilot announced a short delay because of strong winds.",
]
TUNE_SENTENCES = SENTENCES[:6]
REPORT_SENTENCES = SENTENCES[6:]


@dataclass
class TimedSpeech:
    voice: str  # "engine:voice"
    audio: np.ndarray  # (samples,) float32 mono 16 kHz
    words: list[tuple[float, float, str]] = field(default_factory=list)  # reference (start s, end s, word)

    @property
    def duration(self) -> float:
        return len(self.audio) / SAMPLE_RATE


def tokens(sentence: str) -> list[str]:
    """The words of a sentence as they are synthesised: punctuation dropped, apostrophes kept."""
    return re.findall(r"[A-Za-z0-9']+", sentence)


def trim_word(clip: np.ndarray, floor_db: float = -35.0, frame: int = SAMPLE_RATE // 200) -> np.ndarray:
    """The clip without leading/trailing 5 ms frames quieter than `floor_db` below its loudest frame.

    5 ms frames, so that the reference edge is close to where the sound really begins; whatever the
    trim keeps *is* the word, so the reference is exact by construction. -35 dB (not -40): the added
    noise floor (-60 dBFS) lies about 45 dB under a word's loudest frame, and some voices (flite awb)
    lead into words with breath at -55 dBFS that no detector can tell from the noise; at -35 dB every
    reference edge is at least ~10 dB over the floor, as sound is in any recording worth cutting.
    """
    n = len(clip) // frame
    if n == 0:
        return clip
    rms = np.sqrt(np.mean(clip[: n * frame].reshape(n, frame).astype(np.float64) ** 2, axis=1) + 1e-12)
    loud = np.flatnonzero(20 * np.log10(rms / rms.max()) > floor_db)
    return clip[loud[0] * frame : (loud[-1] + 1) * frame]


def synthesise_word(engine: str, voice: str, word: str, cache: Path) -> np.ndarray:
    """One word on its own, trimmed, float32 16 kHz; the raw wav is cached by (engine, voice, word)."""
    key = hashlib.sha1(f"word|{engine}|{voice}|{word}".encode()).hexdigest()[:16]
    out = cache / f"{key}.wav"
    if not out.exists():
        tmp = cache / f"{key}.{os.getpid()}.tmp.wav"  # tests and benchmark may share the cache
        if engine == "flite":
            cmd = ["flite", "-voice", voice, "-t", word, "-o", str(tmp)]
        else:
            cmd = ["espeak-ng", "-v", voice, "-s", "160", "-w", str(tmp), word]
        subprocess.run(cmd, check=True, capture_output=True)
        tmp.replace(out)
    return trim_word(read_wav(out))


def make_timed_speech(
    sentences: list[str],
    voice: tuple[str, str],
    seed: int = 0,
    tight_share: float = 0.5,
    noise: float = 0.001,
    cache: Path | None = None,
) -> TimedSpeech:
    """`sentences` spoken word by word in `voice`, with the reference time of every word.

    `tight_share` of the gaps between words are 0-50 ms, the rest 100-400 ms. Every word is brought
    to the same peak (0.5) so voices and words compare; faint noise (`noise` RMS, about -60 dBFS)
    keeps silence from being digital zero.
    """
    rng = random.Random(f"{seed}|{voice}|{sentences}")
    cache = cache or Path(tempfile.gettempdir()) / "aitk-timed-speech"
    cache.mkdir(parents=True, exist_ok=True)
    pieces: list[np.ndarray] = []
    words: list[tuple[float, float, str]] = []
    samples = 0

    def silence(seconds: float) -> None:
        nonlocal samples
        n = int(round(seconds * SAMPLE_RATE))
        pieces.append(np.zeros(n, dtype=np.float32))
        samples += n

    silence(0.5)
    for s, sentence in enumerate(sentences):
        if s:
            silence(rng.uniform(0.6, 1.0))
        for i, word in enumerate(tokens(sentence)):
            if i:
                silence(rng.uniform(0.0, 0.05) if rng.random() < tight_share else rng.uniform(0.1, 0.4))
            clip = synthesise_word(*voice, word, cache)
            clip = (clip / max(1e-6, float(np.abs(clip).max())) * 0.5).astype(np.float32)
            words.append((samples / SAMPLE_RATE, (samples + len(clip)) / SAMPLE_RATE, word.lower()))
            pieces.append(clip)
            samples += len(clip)
    silence(0.5)
    audio = np.concatenate(pieces)
    audio = (audio + noise * np.random.default_rng(rng.randrange(2**32)).standard_normal(len(audio))).astype(np.float32)
    return TimedSpeech(voice=":".join(voice), audio=audio, words=words)
