"""aitk's default decoding is never less accurate than faster-whisper's own, and invents nothing on silence.

The clips come from tests/transcribe/evalset.py (flite and espeak-ng, made once per test session).
The baseline is faster-whisper's library default, `WhisperModel.transcribe(audio, language=...)`:
sequential, beam 5, no VAD, on the same weights and the same files, in the same run.
"""

from __future__ import annotations

import pytest

from aitk.engine.media import SAMPLE_RATE, decode_audio
from aitk.transcribe.backends.faster import window_is_suspect
from aitk.transcribe.config import AUTO_BATCH, TranscribeConfig
from aitk.transcribe.guards import clean_segments, is_stock, sentences
from aitk.transcribe.metrics import normalise_words, word_error_rate
from aitk.transcribe.result import Segment, Word
from aitk.transcribe.run import Transcriber
from aitk.transcribe.vad import speech_regions, speech_windows, uncovered
from tests.conftest import require
from tests.transcribe import evalset

PAD = 3.0  # seconds of near silence before and after speech in the padded clips


@pytest.fixture(scope="session")
def eval_clips(tmp_path_factory):
    """The small set: (plain clips, the same clips padded with PAD s of silence); synthesised once."""
    for tool in ("flite", "espeak-ng", "ffmpeg"):
        require(tool)
    folder = tmp_path_factory.mktemp("evalset")
    return evalset.build(folder, indices=evalset.SMALL), evalset.build(folder, indices=evalset.SMALL, pad=PAD)


@pytest.fixture(scope="module")
def tiny():
    return Transcriber(TranscribeConfig(device="cpu"))


def baseline_text(transcriber: Transcriber, audio, language: str | None = "en") -> str:
    """faster-whisper's own default decoding on the transcriber's loaded weights."""
    segments, _ = transcriber.backend.model.transcribe(audio, language=language)
    return "".join(s.text for s in segments)


def mean(values):
    values = list(values)
    return sum(values) / len(values)


# ---- the rule and the guards, without a model ----


def test_auto_decodes_short_inputs_sequentially_and_long_ones_batched():
    auto = TranscribeConfig()
    assert auto.batch_size is None
    assert auto.batch_for(3.0) == 1 and auto.batch_for(30.0) == 1 and auto.batch_for(61.0) == AUTO_BATCH
    assert TranscribeConfig(batch_size=1).batch_for(600.0) == 1  # an explicit --batch-size always wins
    assert TranscribeConfig(batch_size=4).batch_for(3.0) == 4
    with pytest.raises(Exception, match="--batch-size"):
        TranscribeConfig(batch_size=0)


def test_windows_cut_in_the_longest_pause_and_stay_under_the_limit():
    # 20 regions of 2.5 s, 0.2 s apart, except a 1.5 s pause after the 7th: the first cut goes there.
    regions, t = [], 0.0
    for i in range(20):
        regions.append((t, t + 2.5))
        t += 2.5 + (1.5 if i == 6 else 0.2)
    windows = speech_windows(regions, duration=t, limit=28.0, pad=0.3)
    assert windows[0]["end"] == pytest.approx(regions[6][1] + 0.3)
    assert all(w["end"] - w["start"] <= 28.6 for w in windows)
    assert all(a["end"] <= b["start"] for a, b in zip(windows, windows[1:]))  # no overlap: no word decoded twice
    assert windows[0]["start"] == 0.0 and windows[-1]["end"] <= t
    # every region inside exactly one window
    assert all(sum(w["start"] <= a and b <= w["end"] for w in windows) == 1 for a, b in regions)
    assert speech_windows([], 10.0) == []
    # never past the audio, not even by rounding (faster-whisper asserts on the sum of window lengths)
    duration = 3.3004375
    (window,) = speech_windows([(0.0, 3.3001)], duration)
    assert window["start"] == 0.0 and 3.3001 < window["end"] <= duration


def seg(text, start, end, logprob=-0.3, no_speech=0.05, words=None):
    return Segment(0, start, end, text, logprob, no_speech, words=words)


def test_speech_no_segment_covers_is_found_and_breaths_are_not():
    speech = [(0.0, 3.0), (3.4, 6.0), (6.3, 9.0), (12.0, 12.5)]
    # A window that stopped after its first sentence: the rest of its speech is one uncovered run.
    assert uncovered(speech, [(0.0, 3.1)]) == [(3.4, 9.0)]
    assert uncovered(speech, [(0.0, 3.1), (3.4, 9.0)]) == []  # the 0.5 s at 12 s is too short to matter
    assert uncovered(speech, [(0.0, 3.1), (3.4, 9.0)], min_seconds=0.4) == [(12.0, 12.5)]
    # a segment that ends a little before VAD's region does still cover it (slack)
    assert uncovered([(1.0, 4.0)], [(1.2, 3.8)]) == []
    # a sentence skipped in the middle of a window
    assert uncovered(speech, [(0.0, 3.0), (6.3, 9.0)]) == [(3.4, 6.0)]
    assert uncovered([], [(0.0, 1.0)]) == [] and uncovered([(0.0, 2.0)], []) == [(0.0, 2.0)]


def test_a_window_whose_text_does_not_fit_its_audio_is_suspect():
    words = [Word(0.0, 0.4, " The", 0.9), Word(0.5, 1.0, " server", 0.9)]
    fine = [seg(" The server", 0.0, 1.0, words=words)]
    assert not window_is_suspect(fine, [(0.0, 1.0)])
    assert window_is_suspect(fine, [(0.0, 1.0), (1.5, 6.0)])  # stopped early: 4.5 s of speech left out
    # a word stretched over 6 s: text aligned to speech that does not say it
    stretched = [seg(" Remember to", 0.0, 7.0, words=[Word(0.0, 0.5, " Remember", 0.9), Word(0.5, 7.0, " to", 0.4)])]
    assert window_is_suspect(stretched, [(0.0, 7.0)])


def test_invented_opening_before_speech_is_dropped_but_a_spoken_welcome_stays():
    speech = [(3.0, 6.0)]
    invented = seg(" Welcome to the show. The server restarted at 3.", 0.0, 6.0)
    (out,) = clean_segments([invented], speech=speech)
    assert out.text == " The server restarted at 3."
    spoken = seg(" Welcome to the show. The server restarted at 3.", 3.0, 6.0)
    assert clean_segments([spoken], speech=speech)[0].text == spoken.text
    unsure = seg(" Welcome to the show. The server restarted.", 3.0, 6.0, logprob=-1.2)
    assert clean_segments([unsure], speech=speech)[0].text == " The server restarted."


def test_stock_sign_offs_and_text_outside_speech_are_dropped():
    speech = [(3.0, 6.0)]
    segments = [
        seg(" The server restarted.", 3.0, 5.0),
        seg(" Thank you for watching!", 5.0, 8.5),  # runs past the end of speech
        seg(" Please subscribe to my channel.", 9.0, 10.0),  # wholly outside speech
    ]
    assert [s.text for s in clean_segments(segments, speech=speech)] == [" The server restarted."]
    tail = seg(" Then check the logs. Thanks for watching.", 3.0, 7.5)
    assert clean_segments([tail], speech=speech)[0].text == " Then check the logs."
    words = [Word(0.2, 0.6, " Hello", 0.5), Word(3.1, 3.5, " Open", 0.9), Word(3.6, 4.0, " it.", 0.9)]
    (out,) = clean_segments([seg(" Hello Open it.", 0.2, 4.0, words=words)], speech=speech)
    assert out.text == " Open it." and out.start == 3.1
    assert is_stock("Subscribe!") and is_stock("Welcome back, everyone.", opening=True)
    assert not is_stock("Welcome back, everyone.") and not is_stock("The station is on your right.")
    assert sentences(" Hi there. How are you?") == [" Hi there.", " How are you?"]


# ---- real models on the evaluation set ----


@pytest.mark.slow
def test_default_is_no_less_accurate_than_faster_whisper_on_short_clips(tiny, eval_clips):
    clips, _ = eval_clips
    ours, theirs = [], []
    for clip in clips:
        audio = decode_audio(clip.path)
        ours.append(word_error_rate(clip.text, tiny.transcribe_audio(audio).text))
        theirs.append(word_error_rate(clip.text, baseline_text(tiny, audio)))
    assert mean(ours) <= mean(theirs) + 1e-9, (ours, theirs)
    assert mean(ours) < 0.2, ours


@pytest.mark.slow
def test_nothing_is_invented_on_silence_padded_clips(tiny, eval_clips):
    _, padded = eval_clips
    for clip in padded:
        t = tiny.transcribe_file(clip.path)
        start, end = clip.speech
        assert t.segments, clip.path
        for s in t.segments:
            assert start - 0.6 <= s.start and s.end <= end + 0.6, (clip.path, s)
            assert not any(is_stock(p, opening=True) for p in sentences(s.text)), (clip.path, s.text)
        # no sentence absent from the audio: misheard words may differ, but none are added
        assert len(normalise_words(t.text)) <= len(normalise_words(clip.text)) + 1, (clip.path, t.text)
        assert word_error_rate(clip.text, t.text) < 0.5, (clip.path, t.text)


@pytest.mark.slow
def test_default_is_no_less_accurate_than_faster_whisper_on_long_form(tiny, tmp_path_factory):
    require("flite")
    clip = evalset.long_form(tmp_path_factory.mktemp("long"), indices=range(1, len(evalset.ENGLISH), 2))
    audio = decode_audio(clip.path)
    assert len(audio) / SAMPLE_RATE >= 60 and tiny.config.batch_for(len(audio) / SAMPLE_RATE) > 1
    result = tiny.transcribe_audio(audio)
    ours = word_error_rate(clip.text, result.text)
    theirs = word_error_rate(clip.text, baseline_text(tiny, audio))
    assert ours <= theirs + 1e-9, (ours, theirs)
    # no sentence left out: every stretch of speech VAD hears is under some segment
    assert uncovered(speech_regions(audio), [(s.start, s.end) for s in result.segments]) == []


@pytest.mark.slow
def test_multilingual_base_is_no_less_accurate_than_faster_whisper(tmp_path_factory):
    # The German clips: base hears espeak-ng's German well, while its French and Spanish voices come out as
    # Thai or Japanese to base (both decoders then spend ~20 s per clip in temperature fallback on noise).
    german = tuple(i for i, u in enumerate(evalset.MULTILINGUAL) if u.language == "de")
    clips = evalset.build(tmp_path_factory.mktemp("ml"), evalset.MULTILINGUAL, indices=german, prefix="ml")
    base = Transcriber(TranscribeConfig(model="base", device="cpu"))
    ours, theirs = [], []
    for clip in clips:
        audio = decode_audio(clip.path)
        # the language is detected, as the baseline does (tiny models can mistake espeak-ng's French for another)
        ours.append(word_error_rate(clip.text, base.transcribe_audio(audio).text))
        theirs.append(word_error_rate(clip.text, baseline_text(base, audio, language=None)))
    assert mean(ours) <= mean(theirs) + 1e-9, (ours, theirs)
