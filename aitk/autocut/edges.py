"""Move each sentence's edges out to where its sound starts and stops.

Whisper's word times are found by attention alignment and often start a word 0.1-0.3 s late (and
end it early): cut exactly there and a sentence loses its first consonant ("Speech" is heard as
"each"). So, before the editing files are written, each speech segment's start moves back over
any sound that runs into it, and its end forward, up to `reach` seconds, never into the
neighbouring segment. Segments only grow; silence at their edges is left as Whisper put it.
"""

from __future__ import annotations

import numpy as np

from aitk.autocut.silence import auto_threshold

HOP = 0.01  # seconds per loudness frame
GAP = 0.06  # a quieter stretch this short is inside a word (a stop consonant), not a pause


def loud_frames(audio: np.ndarray, rate: int) -> np.ndarray:
    """(frames,) bool: which 10 ms frames hold sound, against a level set by the recording itself.

    The threshold is 40 dB under the loud frames (95th percentile) or 10 dB over the noise floor
    (10th percentile), whichever is higher: quiet fricatives count, room noise does not.
    """
    level = level_db(audio, rate)
    if len(level) == 0:
        return np.zeros(0, dtype=bool)
    return level > auto_threshold(level)


def level_db(audio: np.ndarray, rate: int, hop: float = HOP) -> np.ndarray:
    """(frames,) the mean power of each `hop`-second frame of `audio`, in dBFS (the loudness envelope)."""
    step = max(1, int(rate * hop))
    frames = len(audio) // step
    power = (audio[: frames * step].astype(np.float64).reshape(frames, step) ** 2).mean(axis=1)
    return 10 * np.log10(power + 1e-12)


def snap_to_sound(
    segments: list[tuple[float, float, str]],
    audio: np.ndarray,
    rate: int,
    reach: float = 0.5,
    margin: float = 0.05,
) -> list[tuple[float, float, str]]:
    """(start, end, text) segments, each widened to the sound around its edges (plus `margin`).

    Segments are in time order; each stays within the end of the one before and the start of the
    one after, and within the audio.
    """
    loud = loud_frames(audio, rate)
    duration = len(audio) / rate
    out: list[tuple[float, float, str]] = []
    for i, (start, end, text) in enumerate(segments):
        before = max(0.0, out[-1][1] if out else 0.0, start - reach)
        after = min(duration, segments[i + 1][0] if i + 1 < len(segments) else duration, end + reach)
        onset = _edge(loud, start, before, step=-1)
        offset = _edge(loud, end, after, step=+1)
        new_start = max(before, onset - margin) if onset < start else start
        new_end = min(after, offset + margin) if offset > end else end
        out.append((round(min(start, new_start), 3), round(max(end, new_end), 3), text))
    return out


def _edge(loud: np.ndarray, at: float, limit: float, step: int) -> float:
    """From `at` towards `limit` (step -1: back, +1: forward), the time where the sound running
    through `at` ends, bridging quiet stretches up to GAP; `at` itself when there is none."""
    at_frame, limit_frame = int(round(at / HOP)), int(round(limit / HOP))
    frames = (
        range(at_frame - 1, max(limit_frame, 0) - 1, -1) if step < 0 else range(at_frame, min(limit_frame, len(loud)))
    )
    edge, quiet = at_frame, 0
    for j in frames:
        if loud[j]:
            edge, quiet = (j if step < 0 else j + 1), 0
        else:
            quiet += 1
            if quiet * HOP > GAP:
                break
    return edge * HOP
