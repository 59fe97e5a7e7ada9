"""Guards against Whisper's two classic failures, applied after decoding (pure functions).

1. Text on silence: punctuation alone, a segment whose window Whisper itself thought was probably silence and that it
   decoded with low confidence, or one of the stock phrases Whisper invents on silence.
2. Repetition loops: the same segment over and over, or a phrase repeated many times inside one.
The decoders' own guards (compression-ratio fallback, no-speech threshold) run first; these catch
what slips through.
"""

from __future__ import annotations

import re
from dataclasses import replace

from aitk.transcribe.result import Segment

# Phrases Whisper is known to produce on silence or music (from its training subtitles).
SILENCE_PHRASES = frozenset(
    {
        "thank you",
        "thank you.",
        "thank you very much",
        "thank you so much",
        "thanks for watching",
        "thanks for watching!",
        "thank you for watching",
        "please subscribe",
        "subscribe to my channel",
        "you",
        "bye",
        "bye.",
        "so",
        "okay",
        "[music]",
        "(music)",
        "[silence]",
        "[blank_audio]",
        "...",
        "♪",
    }
)


def normalise(text: str) -> str:
    return re.sub(r"[^\w\s']", "", text.lower()).strip()


def is_silence_hallucination(seg: Segment, no_speech_threshold: float, logprob_threshold: float) -> bool:
    if seg.no_speech_prob > no_speech_threshold and seg.avg_logprob < logprob_threshold:
        return True
    stock = seg.text.strip().lower() in SILENCE_PHRASES or normalise(seg.text) in SILENCE_PHRASES
    return stock and (seg.no_speech_prob > no_speech_threshold / 2 or seg.avg_logprob < logprob_threshold)


def collapse_phrase_loops(text: str, min_repeats: int = 4, max_ngram: int = 8) -> str:
    """'go on go on go on go on' -> 'go on': a run of >= min_repeats copies of an n-gram keeps one."""
    words = text.split()
    keys = [normalise(w) for w in words]
    out: list[str] = []
    i = 0
    while i < len(words):
        step = 0
        for n in range(1, max_ngram + 1):
            gram = keys[i : i + n]
            if len(gram) < n:
                break
            count = 1
            while keys[i + count * n : i + (count + 1) * n] == gram:
                count += 1
            # Single words need a longer run: "no no no no" is real speech.
            if any(gram) and count >= (min_repeats + 2 if n == 1 else min_repeats):
                out.extend(words[i : i + n])
                step = count * n
                break
        if step == 0:
            out.append(words[i])
            step = 1
        i += step
    return " ".join(out)


def clean_segments(
    segments: list[Segment], no_speech_threshold: float = 0.6, logprob_threshold: float = -1.0, max_repeats: int = 2
) -> list[Segment]:
    """Drop silence hallucinations, cap runs of identical segments at max_repeats, collapse phrase loops."""
    kept: list[Segment] = []
    run = 0
    for seg in segments:
        if not normalise(seg.text) or is_silence_hallucination(seg, no_speech_threshold, logprob_threshold):
            continue
        same = bool(kept) and normalise(kept[-1].text) == normalise(seg.text)
        run = run + 1 if same else 1
        if run > max_repeats:
            kept[-1] = replace(kept[-1], end=max(kept[-1].end, seg.end))  # absorb the loop's time
            continue
        text = collapse_phrase_loops(seg.text)
        kept.append(replace(seg, text=(" " + text) if seg.text.startswith(" ") else text))
    return [replace(seg, id=i) for i, seg in enumerate(kept)]


def clamp_times(segments: list[Segment], duration: float) -> list[Segment]:
    """Whisper rounds the last timestamp up to its 30 s window grid; keep every time inside the media."""

    def clamp(t: float) -> float:
        return round(min(max(t, 0.0), duration), 3)

    out = []
    for seg in segments:
        words = None if seg.words is None else [replace(w, start=clamp(w.start), end=clamp(w.end)) for w in seg.words]
        out.append(replace(seg, start=clamp(seg.start), end=clamp(seg.end), words=words))
    return out
