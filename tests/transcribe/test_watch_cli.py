"""`aitk transcribe --watch`: a real watcher process, a recording still being written, a broken file."""

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time

import pytest

from aitk.transcribe.metrics import word_error_rate
from tests.conftest import SENTENCES

pytestmark = pytest.mark.slow


class Watcher:
    def __init__(self, folder, *extra):
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "aitk",
                "transcribe",
                "--watch",
                str(folder),
                "--settle",
                "1.5",
                "--format",
                "txt",
                "--json",
                *extra,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            # started the way a shell starts `aitk transcribe --watch DIR &`: SIGINT ignored;
            # kill -INT must still stop it
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
        )
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(
            target=lambda: [self.lines.put(json.loads(ln)) for ln in self.proc.stdout], daemon=True
        ).start()

    def next_result(self, timeout=60.0) -> dict:
        return self.lines.get(timeout=timeout)

    def stop(self, sig=signal.SIGINT) -> tuple[int, str]:
        self.proc.send_signal(sig)
        self.proc.wait(timeout=30)
        return self.proc.returncode, self.proc.stderr.read()


def test_watch_waits_for_growing_files_skips_done_ones_and_survives_broken_ones(speech_dir, tmp_path):
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "old.wav").write_bytes((speech_dir / "clip0.wav").read_bytes())
    (folder / "old.txt").write_text("finished earlier\n")

    watcher = Watcher(folder)
    try:
        first = watcher.next_result()
        assert first["status"] == "skipped" and first["input"].endswith("old.wav")

        # A recorder writing slowly: chunks every 0.5 s (less than --settle) must not be read early.
        data = (speech_dir / "clip1.wav").read_bytes()
        target = folder / "Recording.WAV"
        with open(target, "wb") as sink:
            for i in range(0, len(data), len(data) // 6 + 1):
                sink.write(data[i : i + len(data) // 6 + 1])
                sink.flush()
                time.sleep(0.5)
                assert not (folder / "Recording.txt").exists()
        result = watcher.next_result()
        assert result["status"] == "ok" and result["input"].endswith("Recording.WAV")
        assert word_error_rate(SENTENCES[1], (folder / "Recording.txt").read_text()) < 0.2

        (folder / "broken.mp4").write_bytes(b"\x00not a video" * 300)
        broken = watcher.next_result()
        assert broken["status"] == "failed" and "broken.mp4" in broken["error"]

        (folder / "later.wav").write_bytes((speech_dir / "clip2.wav").read_bytes())
        assert watcher.next_result()["status"] == "ok"
    finally:
        code, stderr = watcher.stop(signal.SIGINT)
    assert code == 1  # one input failed during the watch
    assert "stopped watching" in stderr and "Traceback" not in stderr and "broken.mp4" in stderr
    assert (folder / "old.txt").read_text() == "finished earlier\n"

    # A restart resumes: nothing finished is redone; SIGTERM also stops it cleanly.
    stamp = (folder / "Recording.txt").stat().st_mtime_ns
    watcher = Watcher(folder)
    statuses = {watcher.next_result()["input"].split("/")[-1]: None for _ in range(4)}
    code, stderr = watcher.stop(signal.SIGTERM)
    assert set(statuses) == {"old.wav", "Recording.WAV", "broken.mp4", "later.wav"}
    assert (folder / "Recording.txt").stat().st_mtime_ns == stamp
    assert "Traceback" not in stderr


def test_a_recording_that_grows_after_a_pause_is_transcribed_again_unless_its_outputs_were_edited(speech_dir, tmp_path):
    folder = tmp_path / "inbox"
    folder.mkdir()
    data = (speech_dir / "clip1.wav").read_bytes()
    target = folder / "take.wav"
    target.write_bytes(data[: len(data) // 3])  # the recorder paused longer than --settle
    watcher = Watcher(folder)
    try:
        first = watcher.next_result()
        assert first["status"] == "ok"
        partial = (folder / "take.txt").read_text()
        with open(target, "ab") as sink:  # ...and went on
            sink.write(data[len(data) // 3 :])
        again = watcher.next_result()
        assert again["status"] == "ok", again
        assert (
            word_error_rate(SENTENCES[1], (folder / "take.txt").read_text())
            < 0.2
            < word_error_rate(SENTENCES[1], partial)
        )

        (folder / "take.txt").write_text("my corrected transcript\n")
        with open(target, "ab") as sink:
            sink.write(b"\x00" * 32000)  # a second of silence more
        edited = watcher.next_result()
        assert edited["status"] == "skipped"
    finally:
        code, stderr = watcher.stop(signal.SIGTERM)
    assert (folder / "take.txt").read_text() == "my corrected transcript\n"
    assert "outputs were edited since" in stderr and code == 0
