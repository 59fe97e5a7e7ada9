"""Voice activity detection for backends that lack it (openai-whisper), with faster-whisper's Silero model.

`speech_only` cuts the silence out and returns a function that maps times in the cut audio back
to times in the original, so timestamps stay true to the media.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

import numpy as np

from aitk.engine.media import SAMPLE_RATE


def speech_only(audio: np.ndarray) -> tuple[np.ndarray, Callable[[float, bool], float]]:
    """(speech samples concatenated, to_original(time, is_end)); identity when no speech is found."""
    from faster_whisper.vad import SpeechTimestampsMap, VadOptions, get_speech_timestamps

    # Same options as faster-whisper's vad_filter, so both backends cut the same silence.
    chunks = get_speech_timestamps(audio, VadOptions(), sampling_rate=SAMPLE_RATE)
    if not chunks:
        return audio[:0], lambda t, is_end=False: t
    speech = np.concatenate([audio[c["start"] : c["end"]] for c in chunks])
    mapping = SpeechTimestampsMap(chunks, SAMPLE_RATE)
    return speech, lambda t, is_end=False: float(mapping.get_original_time(t, is_end=is_end))


# Fine-grained speech regions: pauses of 160 ms or more split them, and they are not padded, so the
# pauses between them are real (batched windows are cut in the longest ones; guards test against them).
# (weak reference to an audio array, its regions): the decoder and the guards ask about the same audio, and
# the weak reference keeps no finished recording in memory.
_LAST: tuple = (lambda: None, [])


def speech_regions(audio: np.ndarray, max_seconds: float = 28.0) -> list[tuple[float, float]]:
    """Where Silero VAD hears speech, in seconds; no region is longer than `max_seconds`."""
    global _LAST
    last_audio, last_regions = _LAST
    if last_audio() is audio:
        return last_regions
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(min_silence_duration_ms=160, speech_pad_ms=0, max_speech_duration_s=max_seconds)
    chunks = get_speech_timestamps(audio, options, sampling_rate=SAMPLE_RATE)
    regions = [(c["start"] / SAMPLE_RATE, c["end"] / SAMPLE_RATE) for c in chunks]
    _LAST = (weakref.ref(audio), regions)
    return regions


def speech_windows(
    regions: list[tuple[float, float]], duration: float, limit: float = 28.0, pad: float = 0.3
) -> list[dict]:
    """Group speech regions into decoding windows of at most `limit` s that begin and end in a pause
    (pure). When a window must be cut, the cut goes in the longest pause that leaves it at least half
    the limit long; pauses inside a window stay in its audio. Windows reach `pad` s into the silence
    around them, never into a neighbour."""
    windows: list[dict] = []
    i = 0
    while i < len(regions):
        start = regions[i][0]
        j = i
        while j + 1 < len(regions) and regions[j + 1][1] - start <= limit:
            j += 1
        if j + 1 < len(regions):
            fits = [k for k in range(i, j + 1) if regions[k][1] - start >= limit / 2] or [j]
            j = max(fits, key=lambda k: (regions[k + 1][0] - regions[k][1], k))
        before = windows[-1]["end"] if windows else 0.0
        after = regions[j + 1][0] if j + 1 < len(regions) else duration
        end = regions[j][1]
        # not rounded: a window rounded past the end of the audio upsets faster-whisper's own sums
        windows.append({"start": max(start - pad, before), "end": min(end + pad, (end + after) / 2, duration)})
        i = j + 1
    return windows


def uncovered(
    regions: list[tuple[float, float]], covered: list[tuple[float, float]], min_seconds: float = 0.8, slack: float = 0.3
) -> list[tuple[float, float]]:
    """Runs of speech that no decoded segment covers (pure): where a batched window stopped early
    and left a sentence out. A speech region counts as covered within `slack` s of a segment;
    neighbouring uncovered pieces closer than `slack` join, and runs shorter than `min_seconds`
    (a breath, a click) are left alone."""
    spans = sorted((max(0.0, s - slack), e + slack) for s, e in covered)
    runs: list[tuple[float, float]] = []
    for start, end in regions:
        pieces = [(start, end)]
        for s, e in spans:
            if e <= start or s >= end:
                continue
            nxt = []
            for a, b in pieces:
                if b <= s or a >= e:
                    nxt.append((a, b))
                    continue
                if a < s:
                    nxt.append((a, s))
                if b > e:
                    nxt.append((e, b))
            pieces = nxt
        for a, b in pieces:
            if runs and a - runs[-1][1] < slack:
                runs[-1] = (runs[-1][0], b)
            else:
                runs.append((a, b))
    return [(a, b) for a, b in runs if b - a >= min_seconds]
