"""Video frames in and out through ffmpeg pipes, one frame in memory at a time.

`read_frames` decodes a video's first video stream to raw RGB on ffmpeg's stdout and keeps every
Nth frame (`every`) or the first frame of each 1/fps slot (`fps`); each kept frame comes with its
index in the stream and its presentation time in seconds, read from ffmpeg's `showinfo` filter on
stderr (real timestamps, so variable frame rate video gets true times). `VideoWriter` encodes RGB
frames to H.264 through ffmpeg's stdin and renames the result into place when closed.
"""

from __future__ import annotations

import contextlib
import math
import os
import queue
import re
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aitk.engine.errors import MediaError, OutputError, UsageError
from aitk.engine.fileio import TEMP_PREFIX
from aitk.engine.media import VIDEO_EXTENSIONS, ffmpeg_message, probe, require_ffmpeg

_PTS_TIME = re.compile(r"\bn:\s*(\d+).*?\bpts_time:\s*(-?[\d.]+)")


def is_video_path(path) -> bool:
    return Path(path).suffix.lower() in VIDEO_EXTENSIONS


@dataclass(frozen=True)
class Sampling:
    """Which frames of a video to keep: every Nth, or at most `fps` per second (None: use every)."""

    every: int = 1
    fps: float | None = None

    def __post_init__(self):
        if self.every < 1:
            raise UsageError(f"--every {self.every}: must be at least 1")
        if self.fps is not None and not (math.isfinite(self.fps) and self.fps > 0):
            raise UsageError(f"--fps {self.fps}: must be a number above 0", hint="e.g. --fps 2")

    def keep(self, index: int, time: float, last_slot: int) -> int | None:
        """The slot this frame fills if kept, else None. Slots only grow, so a VFR burst keeps one frame per slot."""
        if self.fps is None:
            return index if index % self.every == 0 else None
        slot = int(np.floor(time * self.fps + 1e-6))
        return slot if slot > last_slot else None

    def output_rate(self, source_fps: float) -> float:
        """Frame rate of a video made of the kept frames only."""
        source_fps = source_fps or 25.0
        return min(self.fps, source_fps) if self.fps is not None else source_fps / self.every


@dataclass
class VideoFrame:
    index: int  # position in the decoded stream, from 0
    time: float  # presentation time, seconds from the start
    image: np.ndarray  # [H, W, 3] uint8 RGB


def read_frames(path: str | os.PathLike, sampling: Sampling = Sampling()) -> Iterator[VideoFrame]:
    """Yield the kept frames in order; MediaError (one line, naming the file) when ffmpeg cannot decode it."""
    path = Path(path)
    info = probe(path)
    if not info.has_video or not info.width or not info.height:
        raise MediaError("has no video stream", path=path)
    width, height = info.display_size  # ffmpeg turns phone video upright (autorotate), as players show it
    frame_bytes = width * height * 3
    cmd = [
        "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "info", "-i", str(path), "-map", "0:v:0",
        "-vf", "showinfo", "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=frame_bytes)
    times: queue.Queue[float] = queue.Queue()
    tail: list[str] = []
    reader = threading.Thread(target=_read_showinfo, args=(proc.stderr, times, tail), daemon=True)
    reader.start()
    index, last_slot = 0, -1
    try:
        while True:
            data = proc.stdout.read(frame_bytes)
            if len(data) < frame_bytes:
                break
            try:
                time = times.get(timeout=10)
            except queue.Empty:  # showinfo said nothing: fall back on the nominal rate
                time = index / (info.fps or 25.0)
            slot = sampling.keep(index, time, last_slot)
            if slot is not None:
                last_slot = slot
                yield VideoFrame(index, time, np.frombuffer(data, np.uint8).reshape(height, width, 3))
            index += 1
        proc.wait()
        reader.join(timeout=5)
        if proc.returncode != 0 or index == 0:
            raise MediaError(f"ffmpeg could not decode the video: {ffmpeg_message(chr(10).join(tail), path)}", path=path)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()


def _read_showinfo(stream, times: queue.Queue, tail: list[str]) -> None:
    """Drain ffmpeg's stderr: frame times to `times`, other lines (its errors) kept in `tail`."""
    for raw in stream:
        line = raw.decode("utf-8", "replace")
        match = _PTS_TIME.search(line) if "Parsed_showinfo" in line else None
        if match:
            times.put(float(match.group(2)))
        elif "Parsed_showinfo" not in line:
            tail.append(line)
            del tail[:-20]
    stream.close()


class VideoWriter:
    """RGB frames -> H.264 mp4 at `rate` fps; written to a temp file beside `path`, renamed on close.

    With `audio_from`, that file's first audio stream is muxed in (AAC), cut where the frames end.
    """

    def __init__(self, path: str | os.PathLike, width: int, height: int, rate: float, audio_from: str | os.PathLike | None = None):
        require_ffmpeg()
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".mp4", dir=self.path.parent)
            os.close(fd)
        except OSError as exc:
            raise OutputError(f"cannot write: {exc.strerror}", path=self.path) from None
        self.tmp = Path(tmp)
        audio = [] if audio_from is None else ["-i", str(audio_from), "-map", "0:v:0", "-map", "1:a:0", "-c:a", "aac", "-b:a", "128k", "-shortest"]
        cmd = [
            "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-r", f"{rate:.6g}", "-i", "pipe:0", *audio,
            # yuv420p (what players expect) needs even sides
            "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2", "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
            "-f", "mp4", str(self.tmp),
        ]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)

    def write(self, image: np.ndarray) -> None:
        try:
            self.proc.stdin.write(np.ascontiguousarray(image, dtype=np.uint8).tobytes())
        except BrokenPipeError:
            self.abort()
            raise OutputError(f"ffmpeg stopped encoding: {ffmpeg_message(self.proc.stderr.read())}", path=self.path) from None

    def close(self) -> None:
        self.proc.stdin.close()
        stderr = self.proc.stderr.read()
        if self.proc.wait() != 0:
            self.abort()
            raise OutputError(f"ffmpeg could not encode the annotated video: {ffmpeg_message(stderr)}", path=self.path)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(self.tmp, 0o666 & ~umask)  # mkstemp makes 0600; outputs get the user's usual mode
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        with contextlib.suppress(OSError):
            self.proc.stdin.close()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        with contextlib.suppress(OSError):
            self.tmp.unlink()
