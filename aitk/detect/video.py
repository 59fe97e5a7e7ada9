"""Video frames in and out through ffmpeg pipes, one frame in memory at a time.

`read_frames` decodes a video's first video stream to raw RGB on ffmpeg's stdout and keeps every
Nth frame (`every`) or the first frame of each 1/fps slot (`fps`); each kept frame comes with its
index in the stream and its presentation time in seconds, read from ffmpeg's `showinfo` filter on
stderr (real timestamps, so variable frame rate video gets true times). `VideoWriter` encodes RGB
frames to H.264 through ffmpeg's stdin and renames the result into place when closed.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aitk.detect.config import Sampling
from aitk.engine.errors import MediaError, OutputError
from aitk.engine.fileio import Staged
from aitk.engine.media import VIDEO_EXTENSIONS, ffmpeg_message, probe, require_ffmpeg

_PTS_TIME = re.compile(r"\bn:\s*(\d+).*?\bpts_time:\s*(-?[\d.]+)")


def is_video_path(path) -> bool:
    return Path(path).suffix.lower() in VIDEO_EXTENSIONS


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
        "ffmpeg",
        "-hide_banner",
        "-nostdin",
        "-loglevel",
        "info",
        "-i",
        str(path),
        "-map",
        "0:v:0",
        "-vf",
        "showinfo",
        "-fps_mode",
        "passthrough",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgb24",
        "pipe:1",
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
            raise MediaError(
                f"ffmpeg could not decode the video: {ffmpeg_message(chr(10).join(tail), path)}", path=path
            )
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

    def __init__(
        self, path: str | os.PathLike, width: int, height: int, rate: float, audio_from: str | os.PathLike | None = None
    ):
        require_ffmpeg()
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot write: {exc.strerror}", path=self.path) from None
        self.staged = Staged(self.path)
        self.tmp = self.staged.path
        audio = (
            []
            if audio_from is None
            else ["-i", str(audio_from), "-map", "0:v:0", "-map", "1:a:0", "-c:a", "aac", "-b:a", "128k", "-shortest"]
        )
        cmd = [
            "ffmpeg",
            "-hide_banner",
            "-nostdin",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-s",
            f"{width}x{height}",
            "-r",
            f"{rate:.6g}",
            "-i",
            "pipe:0",
            *audio,
            # yuv420p (what players expect) needs even sides
            "-vf",
            "pad=ceil(iw/2)*2:ceil(ih/2)*2",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-pix_fmt",
            "yuv420p",
            "-f",
            "mp4",
            str(self.tmp),
        ]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)

    def write(self, image: np.ndarray) -> None:
        try:
            self.proc.stdin.write(np.ascontiguousarray(image, dtype=np.uint8).tobytes())
        except BrokenPipeError:
            self.abort()
            raise OutputError(
                f"ffmpeg stopped encoding: {ffmpeg_message(self.proc.stderr.read())}", path=self.path
            ) from None

    def close(self) -> None:
        self.proc.stdin.close()
        stderr = self.proc.stderr.read()
        if self.proc.wait() != 0:
            self.abort()
            raise OutputError(f"ffmpeg could not encode the annotated video: {ffmpeg_message(stderr)}", path=self.path)
        self.staged.commit()

    def abort(self) -> None:
        with contextlib.suppress(OSError):
            self.proc.stdin.close()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.staged.discard()
