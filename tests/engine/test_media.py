import numpy as np
import pytest

from aitk.engine.errors import DependencyError, MediaError
from aitk.engine.media import decode_audio, is_media_path, probe
from tests.conftest import ffmpeg, make_video


@pytest.fixture
def tone(tmp_path):
    """1.5 s of a 440 Hz sine at 44.1 kHz stereo: decoding must resample and downmix."""
    out = tmp_path / "tone.wav"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=1.5:sample_rate=44100", "-ac", "2", str(out))
    return out


def test_decode_resamples_to_16k_mono_float32(tone):
    audio = decode_audio(tone)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert abs(len(audio) - 24_000) < 200
    spectrum = np.abs(np.fft.rfft(audio))
    assert abs(np.argmax(spectrum) * 16_000 / len(audio) - 440) < 5  # still a 440 Hz tone


def test_probe_audio_and_video(tmp_path, tone):
    info = probe(tone)
    assert info.has_audio and not info.has_video and abs(info.duration - 1.5) < 0.05
    video = make_video(tmp_path / "v.mp4", audio=tone)
    info = probe(video)
    assert info.has_audio and info.has_video
    assert abs(len(decode_audio(video)) / 16_000 - 1.5) < 0.1


def test_video_without_audio(tmp_path):
    video = make_video(tmp_path / "silent.mp4")
    with pytest.raises(MediaError, match="no audio stream"):
        decode_audio(video)


def test_bad_files_give_one_line_errors_naming_the_file(tmp_path):
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    corrupt = tmp_path / "corrupt.mp3"
    corrupt.write_bytes(b"this is not audio at all" * 100)
    cases = {empty: "empty", corrupt: "not readable as media", tmp_path / "missing.wav": "no such file"}
    messages = {}
    for path, reason in cases.items():
        with pytest.raises(MediaError) as err:
            decode_audio(path)
        messages[path] = err.value.message
        assert err.value.message.startswith(f"{path}: ") and reason in err.value.message
        assert "\n" not in err.value.message
    assert "version" not in messages[corrupt] and "0x" not in messages[corrupt]  # no ffmpeg banner or pointers
    assert messages[corrupt].count(str(corrupt)) == 1 and "check that it plays" in messages[corrupt]


def test_ffmpeg_message_keeps_what_went_wrong():
    from aitk.engine.media import ffmpeg_message

    stderr = (
        "ffprobe version 5.1.9 Copyright (c) 2007-2026 the FFmpeg developers\n  built with gcc 12\n"
        "[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55d0c1a2b3c0] moov atom not found\n"
        "/x/talk.mp4: Invalid data found when processing input\n"
    )
    assert ffmpeg_message(stderr, "/x/talk.mp4") == "moov atom not found | Invalid data found when processing input"
    assert ffmpeg_message(b"", None) == "ffmpeg failed"


def test_zero_length_audio(tmp_path):
    out = tmp_path / "zero.wav"
    ffmpeg("-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", "0", str(out))
    with pytest.raises(MediaError) as err:
        decode_audio(out)
    assert "zero" in err.value.message or "not readable" in err.value.message or "no audio" in err.value.message


def test_missing_ffmpeg_says_how_to_install(tone, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(DependencyError) as err:
        decode_audio(tone)
    assert "apt-get install ffmpeg" in err.value.message


def test_media_extensions_case_insensitive():
    assert is_media_path("Talk.MP4") and is_media_path("a.Wav") and not is_media_path("a.srt")
