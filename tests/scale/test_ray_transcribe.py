"""`aitk transcribe --executor ray`: the same files, failures and skips as the local executor."""

from __future__ import annotations

import shutil

import pytest

from aitk.engine.executor import ExecutorConfig
from aitk.transcribe.config import TranscribeConfig
from aitk.transcribe.run import Transcriber, run_batch
from tests.conftest import run_aitk, run_aitk_subprocess

pytestmark = pytest.mark.slow


def batch(tmp_path, speech_dir):
    files = [speech_dir / "clip0.wav", tmp_path / "broken.wav", speech_dir / "clip2.wav"]
    files[1].write_bytes(b"RIFF not really a wave file")
    return files


def summary(results):
    return [(r.input.name, r.status, sorted(p.name for p in r.outputs), r.error is not None) for r in results]


def test_ray_writes_what_local_writes(ray_local, speech_dir, tmp_path):
    files = batch(tmp_path, speech_dir)
    transcriber = Transcriber(TranscribeConfig(model="tiny.en", device="cpu", formats=("txt", "srt", "json")))
    local = list(run_batch(files, transcriber, tmp_path / "local"))
    ray = list(run_batch(files, transcriber, tmp_path / "ray", executor=ExecutorConfig(kind="ray", workers=2)))
    assert summary(ray) == summary(local)
    assert [r.status for r in ray] == ["done", "failed", "done"]
    assert "broken.wav" in ray[1].error
    for name in ("clip0.txt", "clip0.srt", "clip2.txt", "clip2.srt"):
        assert (tmp_path / "ray" / name).read_text() == (tmp_path / "local" / name).read_text(), name
    assert "fox" in (tmp_path / "ray" / "clip0.txt").read_text()
    # Skip-if-done holds on Ray too: a rerun only redoes what is missing.
    (tmp_path / "ray" / "clip2.srt").unlink()
    again = list(run_batch(files, transcriber, tmp_path / "ray", executor=ExecutorConfig(kind="ray", workers=2)))
    assert [r.status for r in again] == ["skipped", "failed", "done"]
    assert [p.name for p in again[2].outputs] == ["clip2.srt"]


def test_cli_starts_a_private_ray_and_reports_failures_like_local(speech_dir, tmp_path):
    shutil.copy(speech_dir / "clip1.wav", tmp_path / "clip1.wav")
    (tmp_path / "bad.mp3").write_bytes(b"\x00" * 100)
    args = ["transcribe", str(tmp_path / "clip1.wav"), str(tmp_path / "bad.mp3"), "-f", "txt", "--device", "cpu"]
    ray = run_aitk_subprocess(
        *args, "-d", str(tmp_path / "ray"), "--executor", "ray", "--workers", "1", "-q"
    )  # its own Ray
    local = run_aitk(*args, "-d", str(tmp_path / "local"), "-q")
    assert ray.returncode == local.returncode == 1, ray.stderr
    assert ray.stdout.replace("/ray/", "/X/").split("[")[0] == local.stdout.replace("/local/", "/X/").split("[")[0]
    assert "bad.mp3" in ray.stderr and "1 of 2 inputs failed:" in ray.stderr
    assert (tmp_path / "ray" / "clip1.txt").read_text() == (tmp_path / "local" / "clip1.txt").read_text()


def test_watch_and_ray_do_not_mix(tmp_path):
    result = run_aitk("transcribe", "--watch", str(tmp_path), "--executor", "ray")
    assert result.returncode == 2 and "--watch runs locally" in result.stderr


def test_ray_labels_speakers_as_local_does(ray_local, tmp_path):
    """--diarize on Ray: each worker loads the speaker encoder itself and labels the same speakers."""
    import wave

    import numpy as np

    from tests.transcribe.conversations import SAMPLE_RATE, make_conversation
    from tests.transcribe.test_speakers import _need_speech_tools

    _need_speech_tools()
    conv = make_conversation(2025, voices=[1, 0], seconds=25, cache=tmp_path)
    path = tmp_path / "talk.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes((np.clip(conv.audio, -1, 1) * 32767).astype("<i2").tobytes())
    config = TranscribeConfig(model="tiny.en", device="cpu", formats=("txt", "json"), diarize=True)
    transcriber = Transcriber(config)
    [local] = run_batch([path], transcriber, tmp_path / "local")
    [ray] = run_batch([path], transcriber, tmp_path / "ray", executor=ExecutorConfig(kind="ray", workers=1))
    assert local.status == ray.status == "done"
    text = (tmp_path / "ray" / "talk.txt").read_text()
    assert text == (tmp_path / "local" / "talk.txt").read_text()
    assert "[SPEAKER_1]" in text and "[SPEAKER_2]" in text
