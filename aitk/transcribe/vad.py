"""Voice activity detection for backends that lack it (openai-whisper), with faster-whisper's Silero model.

`speech_only` cuts the silence out and returns a function that maps times in the cut audio back
to times in the original, so timestamps stay true to the media.
"""

from __future__ import annotations

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
