"""`aitk autocut watch`: a real watcher process over a folder a recorder writes to."""

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time

import pytest

from aitk.autocut.cues import parse_srt
from aitk.engine.media import probe
from tests.autocut.test_media import make_recording, tick

pytestmark = pytest.mark.slow


class Watcher:
    def __init__(self, folder):
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "aitk",
                "autocut",
                "watch",
                str(folder),
                "--settle",
                "1",
                "--interval",
                "0.3",
                "--json",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.events: queue.Queue = queue.Queue()
        threading.Thread(
            target=lambda: [self.events.put(json.loads(ln)) for ln in self.proc.stdout], daemon=True
        ).start()

    def next(self, timeout=60.0) -> dict:
        return self.events.get(timeout=timeout)

    def quiet_for(self, seconds: float) -> list[dict]:
        time.sleep(seconds)
        seen = []
        while not self.events.empty():
            seen.append(self.events.get())
        return seen

    def stop(self) -> tuple[int, str]:
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(timeout=30)
        return self.proc.returncode, self.proc.stderr.read()


def test_watch_transcribes_cuts_when_done_and_merges_once(tmp_path):
    studio = tmp_path / "studio"
    inbox = tmp_path / "inbox"
    studio.mkdir()
    inbox.mkdir()
    make_recording(studio, "take1")
    make_recording(studio, "take2")

    watcher = Watcher(inbox)
    try:
        # OBS writing take1 slowly: it is transcribed only after it stops growing.
        data = (studio / "take1.mp4").read_bytes()
        with open(inbox / "Take1.MP4", "wb") as sink:
            step = len(data) // 5 + 1
            for i in range(0, len(data), step):
                sink.write(data[i : i + step])
                sink.flush()
                time.sleep(0.4)
                assert not (inbox / "Take1.md").exists()
        event = watcher.next()
        assert event["result"]["step"] == "transcribed" and event["input"].endswith("Take1.MP4")
        listing = inbox / "autocut.md"
        deadline = time.time() + 10
        while "Take1.MP4" not in (listing.read_text() if listing.exists() else "") and time.time() < deadline:
            time.sleep(0.2)
        assert "[Take1.MP4](Take1.md) The quick brown fox" in listing.read_text()

        # Editing take1: tick two sentences and the done box -> one cut, with its own srt/md.
        md = inbox / "Take1.md"
        speech = [c.index for c in parse_srt((inbox / "Take1.srt").read_text()) if c.is_speech]
        md.write_text(tick(md.read_text(), {speech[0], speech[2]}))
        event = watcher.next()
        assert event["result"]["step"] == "cut" and any(p.endswith("Take1_cut.mp4") for p in event["outputs"])
        assert (inbox / "Take1_cut.srt").exists() and (inbox / "Take1_cut.md").exists()
        assert watcher.quiet_for(1.5) == []  # no loop: the cut is not redone, its output is not a recording

        # A second recording, then autocut.md ticks both and done -> merged, once.
        (inbox / "take2.mp4").write_bytes((studio / "take2.mp4").read_bytes())
        assert watcher.next()["result"]["step"] == "transcribed"
        deadline = time.time() + 10
        while "take2.mp4" not in listing.read_text() and time.time() < deadline:
            time.sleep(0.2)
        text = listing.read_text().replace("- [ ] [", "- [x] [").replace("- [ ] <--", "- [x] <--")
        listing.write_text(text)
        event = watcher.next()
        assert event["result"]["step"] == "merged", event
        merged = inbox / "autocut_merged.mp4"
        cut_seconds = probe(inbox / "Take1_cut.mp4").duration
        assert abs(probe(merged).duration - (cut_seconds + probe(inbox / "take2.mp4").duration)) < 0.2
        assert len(parse_srt((inbox / "autocut_merged.srt").read_text())) == 2 + 3
        assert watcher.quiet_for(1.5) == []

        # A third recording is listed unticked: the ticked ones did not change, so no second merge.
        stamp = merged.stat().st_mtime_ns
        (inbox / "take3.mp4").write_bytes((studio / "take2.mp4").read_bytes())
        assert watcher.next()["result"]["step"] == "transcribed"
        deadline = time.time() + 10
        while "take3.mp4" not in listing.read_text() and time.time() < deadline:
            time.sleep(0.2)
        assert "- [ ] [take3.mp4]" in listing.read_text()
        assert watcher.quiet_for(1.5) == [] and merged.stat().st_mtime_ns == stamp

        # Broken file: reported, and the watch goes on.
        (inbox / "broken.mkv").write_bytes(b"\x00" * 5000)
        event = watcher.next()
        assert event["status"] == "failed" and "broken.mkv" in event["error"]
    finally:
        code, stderr = watcher.stop()
    assert code == 1 and "Traceback" not in stderr

    # Restart: nothing finished is redone (no events but the broken file's report).
    stamp = merged.stat().st_mtime_ns
    watcher = Watcher(inbox)
    events = watcher.quiet_for(4)
    watcher.stop()
    assert [e["status"] for e in events] == ["failed"]
    assert merged.stat().st_mtime_ns == stamp
