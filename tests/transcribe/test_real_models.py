"""Real Whisper weights from packages on real synthetic speech. Marked slow: each loads a model."""

import dataclasses

import pytest

from aitk.engine.errors import UsageError
from aitk.engine.media import decode_audio
from aitk.transcribe.config import TranscribeConfig
from aitk.transcribe.metrics import normalise_words, word_error_rate
from aitk.transcribe.run import Transcriber
from tests.conftest import SENTENCES, ffmpeg, speak

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def faster():
    return Transcriber(TranscribeConfig(device="cpu"))


@pytest.fixture(scope="module")
def torch_backend():
    return Transcriber(TranscribeConfig(device="cpu", backend="openai-whisper"))


def test_default_model_word_error_rate(faster, speech_dir):
    errors = [word_error_rate(SENTENCES[i], faster.transcribe_file(speech_dir / f"clip{i}.wav").text) for i in range(3)]
    assert sum(errors) / len(errors) < 0.1, errors


def test_both_backends_give_the_same_text(faster, torch_backend, speech_dir):
    for i in range(3):
        audio = decode_audio(speech_dir / f"clip{i}.wav")
        a = faster.transcribe_audio(audio)
        b = torch_backend.transcribe_audio(audio)
        assert normalise_words(a.text) == normalise_words(b.text)
        assert a.language == b.language == "en"
        assert b.backend == "openai-whisper" and a.backend == "faster-whisper"


def test_times_are_monotonic_and_inside_the_media(faster, speech_dir, tmp_path):
    # Three sentences with pauses between them: several segments.
    parts = [speech_dir / f"clip{i}.wav" for i in range(3)]
    joined = tmp_path / "joined.wav"
    inputs = []
    for p in parts:
        inputs += ["-i", str(p)]
    ffmpeg(
        *inputs,
        "-f",
        "lavfi",
        "-t",
        "1.5",
        "-i",
        "anullsrc=r=16000:cl=mono",
        "-filter_complex",
        "[0:a][3:a][1:a][3:a][2:a]concat=n=5:v=0:a=1",
        "-ar",
        "16000",
        str(joined),
    )
    config = dataclasses.replace(faster.config, word_timestamps=True)
    t = Transcriber(config).transcribe_file(joined)
    duration = len(decode_audio(joined)) / 16_000
    starts = [s.start for s in t.segments]
    assert starts == sorted(starts) and all(s.start <= s.end <= duration + 0.05 for s in t.segments)
    words = [w for s in t.segments for w in s.words]
    assert words and all(a.start <= b.start for a, b in zip(words, words[1:]))
    assert word_error_rate(" ".join(SENTENCES), t.text) < 0.15


def test_silence_gives_no_text(faster, tmp_path):
    silence = tmp_path / "silence.wav"
    ffmpeg("-f", "lavfi", "-i", "anoisesrc=color=pink:amplitude=0.001:r=16000", "-t", "8", str(silence))
    assert faster.transcribe_file(silence).segments == []
    no_vad = Transcriber(dataclasses.replace(faster.config, vad=False))
    assert no_vad.transcribe_file(silence).text == ""


def test_multilingual_base_detects_german(tmp_path):
    clip = speak(
        "Guten Morgen. Heute ist ein schöner Tag, und wir gehen in den Park.",
        tmp_path / "de.wav",
        voice="de",
        engine="espeak-ng",
    )
    t = Transcriber(TranscribeConfig(model="base", device="cpu")).transcribe_file(clip)
    assert t.language == "de" and t.language_probability > 0.5
    assert "morgen" in t.text.lower()
    english = Transcriber(
        TranscribeConfig(model="base", device="cpu", task="translate", language="German")
    ).transcribe_file(clip)
    assert english.language == "de" and "morning" in english.text.lower(), english.text


def test_english_only_model_refuses_translate_and_other_languages():
    with pytest.raises(UsageError, match="--model base"):
        Transcriber(TranscribeConfig(task="translate"))
    with pytest.raises(UsageError, match="English-only"):
        Transcriber(TranscribeConfig(language="German"))
    with pytest.raises(UsageError, match="unknown language"):
        Transcriber(TranscribeConfig(model="base", language="klingon"))


def test_openai_checkpoint_is_converted_once_into_the_cache(torch_backend, aitk_home):
    _ = torch_backend.backend  # loads (and converts) on first use
    checkpoint = aitk_home / "models" / "tiny.en" / "openai-whisper.pt"
    assert checkpoint.exists()
    before = checkpoint.stat().st_mtime_ns
    _ = Transcriber(torch_backend.config).backend
    assert checkpoint.stat().st_mtime_ns == before
