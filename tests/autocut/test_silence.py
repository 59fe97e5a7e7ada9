"""--cut-silence, pure: kept spans from a loudness envelope, span algebra, the flag values."""

import numpy as np
import pytest

from aitk.autocut.config import CutConfig, SilenceOptions, parse_silence_level
from aitk.autocut.cues import Span
from aitk.autocut.edges import level_db
from aitk.autocut.silence import auto_threshold, intersect, sound_spans, subtract
from aitk.engine.errors import UsageError

HOP = 0.01


def envelope(pattern: list[tuple[float, float]]) -> np.ndarray:
    """(frames,) dBFS: each (seconds, level) stretch in turn."""
    return np.concatenate([np.full(int(round(s / HOP)), level) for s, level in pattern])


def spans(*pairs):
    return [Span(pytest.approx(a), pytest.approx(b)) for a, b in pairs]


def test_long_pauses_go_short_ones_stay_margins_kept():
    # 1 s silence, 1 s sound, 0.3 s pause (stays), 1 s sound, 2 s silence, 1 s sound, 0.8 s silence
    level = envelope([(1, -70), (1, -20), (0.3, -70), (1, -20), (2, -70), (1, -20), (0.8, -70)])
    got = sound_spans(level, HOP, threshold=-50, min_silence=0.5, margin=0.15)
    assert got == spans((0.85, 3.45), (5.15, 6.45))


def test_margin_zero_and_a_pause_just_under_the_minimum():
    level = envelope([(1, -20), (0.49, -70), (1, -20), (0.5, -70), (1, -20)])
    assert sound_spans(level, HOP, -50, 0.5, 0.0) == spans((0, 2.49), (2.99, 3.99))
    assert sound_spans(envelope([(2, -70)]), HOP, -50, 0.5, 0.15) == []  # all silence keeps nothing
    assert sound_spans(envelope([(2, -20)]), HOP, -50, 0.5, 0.15) == spans((0, 2))


def test_auto_threshold_follows_the_recording():
    level = envelope([(5, -65), (5, -18)])  # noise floor -65, speech -18
    assert auto_threshold(level) == pytest.approx(-55)  # 10 dB over the floor beats 40 under speech (-58)
    loud_floor = envelope([(5, -30), (5, -10)])
    assert auto_threshold(loud_floor) == pytest.approx(-20)


def test_level_db_of_a_tone_and_silence():
    rate = 16000
    tone = 0.5 * np.sin(2 * np.pi * 440 * np.arange(rate) / rate)
    level = level_db(np.concatenate([tone, np.zeros(rate)]).astype(np.float32), rate)
    assert len(level) == 200
    assert level[:100].mean() == pytest.approx(10 * np.log10(0.125), abs=0.1)  # -9 dBFS (power 0.5**2/2)
    assert level[100:].max() < -100


def test_intersect_and_subtract():
    a = [Span(0, 2), Span(3, 6)]
    assert intersect(a, [Span(1, 4), Span(5, 9)]) == [Span(1, 2), Span(3, 4), Span(5, 6)]
    assert intersect(a, []) == []
    assert subtract(a, [(1, 1.5), (4, 7)]) == [Span(0, 1), Span(1.5, 2), Span(3, 4)]
    assert subtract(a, [(-1, 10)]) == []


@pytest.mark.parametrize("value, level", [("auto", None), ("-40", -40.0), ("-35dB", -35.0), (" AUTO ", None)])
def test_silence_levels(value, level):
    assert parse_silence_level(value) == level


@pytest.mark.parametrize(
    "make, needle",
    [
        (lambda: parse_silence_level("loud"), "--cut-silence loud: not a level"),
        (lambda: SilenceOptions(threshold_db=3), "--cut-silence 3"),
        (lambda: SilenceOptions(min_silence=0), "--min-silence 0"),
        (lambda: SilenceOptions(margin=-1), "--margin -1"),
        (lambda: CutConfig(keep_speakers=("A",), drop_speakers=("A",)), "both name A"),
        (lambda: CutConfig(export=("aaf",)), "unknown --export aaf"),
    ],
)
def test_bad_values_name_the_flag(make, needle):
    with pytest.raises(UsageError, match=needle):
        make()
