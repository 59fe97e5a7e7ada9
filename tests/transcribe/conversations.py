"""Synthetic conversations with a known reference of who speaks when, for the diarization tests and benchmark.

2-4 distinct synthetic voices (flite awb, slt, rms, kal; espeak-ng en-gb-x-rp and its female variant en-us+f3)
take turns: long turns of several sentences, single sentences, short replies and quick back-and-forths with
almost no gap. Each clip's own leading and trailing silence is trimmed, so the reference turn (start, end,
speaker) is exactly where that clip's speech lies in the joined audio. Everything follows from the seed.

    conv = make_conversation(seed=3, speakers=2, seconds=60)
    conv.audio  # float32 mono 16 kHz
    conv.turns  # [(start, end, speaker index), ...]
"""

from __future__ import annotations

import hashlib
import random
import shutil
import subprocess
import tempfile
import wave
from dataclasses import dataclass, field
from math import gcd
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

SAMPLE_RATE = 16_000

# (engine, voice): voices that the GE2E encoder tells apart (espeak-ng's male voices all sound alike to it,
# so only one of them is used, plus its female variant).
VOICES: list[tuple[str, str]] = [
    ("flite", "slt"),
    ("flite", "awb"),
    ("espeak-ng", "en-gb-x-rp"),
    ("flite", "rms"),
    ("flite", "kal"),
    ("espeak-ng", "en-us+f3"),
]

SENTENCES = [
    "Good morning, and thanks for joining the call today.",
    "The new office will open on the second floor next month.",
    "Please move your desks before the painters arrive on Monday.",
    "The budget for the spring campaign has been approved by the board.",
    "We will hire two more engineers and one designer this quarter.",
    "Customer support answered most questions within one hour last week.",
    "The mobile app crashed less often after the latest update.",
    "Remember to send your travel receipts to the finance team by Friday.",
    "The training session on security will take place in the main hall.",
    "I think we should test the release on older phones first.",
    "Our biggest customer asked for a faster way to export reports.",
    "The warehouse in the north is running out of space again.",
    "Shipping costs went up by almost ten percent since January.",
    "We could ask the design team to simplify the checkout page.",
    "The survey shows that people like the new search feature.",
    "Let me share the numbers from the last three months.",
    "Sales in the southern region grew faster than we expected.",
    "The server migration should be finished before the holidays.",
    "I would rather wait until we have the final contract.",
    "The workshop next week will cover planning and estimation.",
    "Two of the printers on the third floor are broken again.",
    "We need a clear owner for the documentation project.",
    "The conference in Berlin was useful for meeting new partners.",
    "Our team fixed forty bugs during the last sprint.",
    "The weather delayed the delivery of the new furniture.",
    "I spoke with the lawyers about the privacy policy yesterday.",
]

REPLIES = [
    "Yes, that makes sense to me.",
    "Right, I agree with that.",
    "Okay, sounds good.",
    "No, I don't think so.",
    "Really? I did not know that.",
    "Sure, I can do that.",
    "Good point.",
    "Exactly, that is the problem.",
    "Hmm, maybe next week then.",
    "Thanks, that helps a lot.",
    "Fine by me.",
    "Wait, which version do you mean?",
]


@dataclass
class Conversation:
    seed: int
    voices: list[str]  # "engine:voice" per speaker index
    audio: np.ndarray  # (samples,) float32 mono 16 kHz
    turns: list[tuple[float, float, int]] = field(default_factory=list)  # reference (start s, end s, speaker)
    text: str = ""  # everything said, in order: the reference transcript

    @property
    def duration(self) -> float:
        return len(self.audio) / SAMPLE_RATE

    @property
    def speakers(self) -> int:
        return len({s for _, _, s in self.turns})


def read_wav(path: Path) -> np.ndarray:
    """A 16-bit PCM wav file as float32 mono 16 kHz (resampled with a polyphase filter when needed)."""
    with wave.open(str(path)) as w:
        rate, channels = w.getframerate(), w.getnchannels()
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float32) / 32768.0
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1)
    if rate != SAMPLE_RATE:
        g = gcd(rate, SAMPLE_RATE)
        samples = resample_poly(samples, SAMPLE_RATE // g, rate // g).astype(np.float32)
    return samples


def trim(clip: np.ndarray, floor_db: float = -40.0) -> np.ndarray:
    """The clip without leading/trailing 10 ms frames quieter than `floor_db` below its loudest frame."""
    frame = SAMPLE_RATE // 100
    n = len(clip) // frame
    if n == 0:
        return clip
    rms = np.sqrt(np.mean(clip[: n * frame].reshape(n, frame) ** 2, axis=1) + 1e-12)  # (frames,)
    loud = np.flatnonzero(20 * np.log10(rms / rms.max()) > floor_db)
    return clip[loud[0] * frame : (loud[-1] + 1) * frame]


def synthesise(engine: str, voice: str, text: str, cache: Path) -> np.ndarray:
    """Speech for `text` as float32 16 kHz, trimmed; cached on disk by (engine, voice, text)."""
    key = hashlib.sha1(f"{engine}|{voice}|{text}".encode()).hexdigest()[:16]
    out = cache / f"{key}.wav"
    if not out.exists():
        tmp = cache / f"{key}.tmp.wav"
        if engine == "flite":
            cmd = ["flite", "-voice", voice, "-t", text, "-o", str(tmp)]
        else:
            cmd = ["espeak-ng", "-v", voice, "-s", "160", "-w", str(tmp), text]
        subprocess.run(cmd, check=True, capture_output=True)
        tmp.replace(out)
    return trim(read_wav(out))


def available() -> bool:
    return shutil.which("flite") is not None and shutil.which("espeak-ng") is not None


def make_conversation(
    seed: int,
    speakers: int | None = None,
    seconds: float | None = None,
    voices: list[int] | None = None,
    cache: Path | None = None,
) -> Conversation:
    """A conversation of `speakers` (2-4, else drawn) voices lasting about `seconds` (60-180, else drawn).

    `voices` picks VOICES by index instead of drawing them. Turns: every speaker speaks in the first round, then
    a random other speaker takes over each time; ~35 % short replies, ~15 % of gaps are quick (< 0.15 s).
    """
    rng = random.Random(seed)
    if voices is None:
        speakers = speakers or rng.randint(2, 4)
        voices = rng.sample(range(len(VOICES)), speakers)
    speakers = len(voices)
    seconds = seconds or rng.uniform(60, 180)
    cache = cache or Path(tempfile.gettempdir()) / "aitk-conversations"
    cache.mkdir(parents=True, exist_ok=True)
    noise_rng = np.random.default_rng(seed)
    # A level per voice (0 to -6 dB), as people sit at different distances from the microphone.
    gains = [10 ** (-rng.uniform(0, 6) / 20) for _ in range(speakers)]

    order = rng.sample(range(speakers), speakers)
    pieces: list[np.ndarray] = [np.zeros(int(0.5 * SAMPLE_RATE), dtype=np.float32)]
    turns: list[tuple[float, float, int]] = []
    t = 0.5
    current = -1
    said: list[str] = []
    while t < seconds:
        speaker = order.pop(0) if order else rng.choice([s for s in range(speakers) if s != current])
        kind = rng.random()
        if kind < 0.35:
            texts = [rng.choice(REPLIES)]
        elif kind < 0.75:
            texts = [rng.choice(SENTENCES)]
        else:
            texts = rng.sample(SENTENCES, rng.randint(2, 4))
        engine, voice = VOICES[voices[speaker]]
        clips = []
        for i, text in enumerate(texts):
            if i:
                clips.append(np.zeros(int(rng.uniform(0.2, 0.5) * SAMPLE_RATE), dtype=np.float32))
            clips.append(synthesise(engine, voice, text, cache))
        turn = np.concatenate(clips) * gains[speaker]
        # The peak level of flite and espeak-ng differ: bring each turn to the same peak before the voice gain.
        turn = (turn / max(1e-6, float(np.abs(np.concatenate(clips)).max())) * 0.5).astype(np.float32)
        turns.append((t, t + len(turn) / SAMPLE_RATE, speaker))
        said += texts
        pieces.append(turn)
        t += len(turn) / SAMPLE_RATE
        gap = rng.uniform(0.05, 0.15) if rng.random() < 0.15 else rng.uniform(0.3, 1.2)
        pieces.append(np.zeros(int(gap * SAMPLE_RATE), dtype=np.float32))
        t += int(gap * SAMPLE_RATE) / SAMPLE_RATE
        current = speaker
    audio = np.concatenate(pieces)
    # Faint room noise (about -60 dBFS), so silence is not digital zero.
    audio = (audio + 0.001 * noise_rng.standard_normal(len(audio))).astype(np.float32)
    names = [":".join(VOICES[v]) for v in voices]
    return Conversation(seed=seed, voices=names, audio=audio, turns=turns, text=" ".join(said))
