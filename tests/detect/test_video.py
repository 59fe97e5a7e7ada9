"""Video inputs: frames read through an ffmpeg pipe with their real times, sampling, and detection per frame."""

from __future__ import annotations

import numpy as np
import pytest

from aitk.detect.config import DetectConfig, Sampling
from aitk.detect.predict import predict
from aitk.detect.video import VideoWriter, read_frames
from aitk.engine.errors import MediaError, UsageError
from aitk.engine.media import probe
from tests.conftest import require
from tests.detect.conftest import CLIP_FPS


@pytest.fixture(autouse=True)
def _ffmpeg():
    require("ffmpeg")


def test_every_nth_frame_with_times(clip):
    frames = list(read_frames(clip, Sampling(every=3)))
    assert [f.index for f in frames] == list(range(0, 2 * CLIP_FPS, 3))
    assert [f.time for f in frames] == pytest.approx([i / CLIP_FPS for i in range(0, 2 * CLIP_FPS, 3)], abs=1e-3)
    assert all(f.image.shape == (240, 320, 3) and f.image.dtype == np.uint8 for f in frames)
    # the astronaut's first frame and the coffee's are different pictures, not one frame repeated
    assert np.abs(frames[0].image.astype(int) - frames[-1].image.astype(int)).mean() > 20


def test_fps_keeps_the_first_frame_of_each_slot(clip):
    frames = list(read_frames(clip, Sampling(fps=4)))
    # slots of 0.25 s over frames at 0.0, 0.1, ...: the first frame at or after each slot start
    assert [f.index for f in frames] == [0, 3, 5, 8, 10, 13, 15, 18]
    assert [f.time for f in frames] == pytest.approx([0.0, 0.3, 0.5, 0.8, 1.0, 1.3, 1.5, 1.8], abs=1e-3)


def _turned(clip, tmp_path, degrees: int):
    """The clip with a display rotation in its metadata (pixels untouched), as phones record."""
    import subprocess

    out = tmp_path / f"phone-{degrees}.mp4"
    for args in (
        ["-display_rotation:v:0", str(degrees), "-i", str(clip), "-c", "copy"],  # ffmpeg 6+
        ["-i", str(clip), "-c", "copy", "-metadata:s:v:0", f"rotate={degrees}"],
    ):  # older ffmpeg
        done = subprocess.run(["ffmpeg", "-v", "error", "-y", *args, str(out)], capture_output=True)
        if done.returncode == 0 and probe(out).rotation == degrees:
            return out
    pytest.fail(f"this ffmpeg cannot set a display rotation: {done.stderr.decode()[-300:]}")


@pytest.mark.parametrize("degrees", [90, 180, 270])
def test_phone_video_frames_come_upright(clip, tmp_path, degrees):
    phone = _turned(clip, tmp_path, degrees)
    info = probe(phone)
    assert (info.width, info.height) == (320, 240)  # as stored
    assert info.display_size == ((240, 320) if degrees != 180 else (320, 240))
    plain = next(read_frames(clip)).image.astype(int)
    shown = next(read_frames(phone)).image.astype(int)
    # the rotation counts counterclockwise, as np.rot90 turns
    expected = np.rot90(plain, k=degrees // 90)
    assert shown.shape == expected.shape and np.abs(shown - expected).mean() < 3
    assert np.abs(shown - np.rot90(expected, k=2)).mean() > 20  # not turned the wrong way


def test_sampling_rules():
    assert Sampling(fps=1).keep(index=7, time=0.7, last_slot=0) is None  # slot 0 already filled
    assert Sampling(fps=1).keep(index=9, time=1.0, last_slot=0) == 1
    assert Sampling(every=2).keep(3, 0.3, -1) is None and Sampling(every=2).keep(4, 0.4, -1) == 4
    assert Sampling(every=5).output_rate(30) == 6 and Sampling(fps=50).output_rate(25) == 25
    with pytest.raises(UsageError):
        Sampling(every=0)
    with pytest.raises(UsageError):
        Sampling(fps=-1)


@pytest.mark.slow
def test_person_then_cup_at_the_right_time(clip, centernet):
    results = list(predict([str(clip)], DetectConfig(every=5, batch_size=4), centernet))
    assert [(r.frame, r.time) for r in results] == [(0, 0.0), (5, 0.5), (10, 1.0), (15, 1.5)]
    best = [r.detections[0].label for r in results]
    assert best == ["person", "person", "cup", "cup"], [r.as_dict() for r in results]
    record = results[2].as_dict()
    assert list(record)[:3] == ["path", "frame", "time"] and (record["width"], record["height"]) == (320, 240)


def test_unreadable_video_is_one_line_media_error(tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00" * 1000)
    with pytest.raises(MediaError) as info:
        list(read_frames(bad))
    assert str(bad) in info.value.message and "\n" not in info.value.message


def test_video_writer_encodes_odd_sizes_at_the_given_rate(tmp_path):
    out = tmp_path / "out.mp4"
    writer = VideoWriter(out, 161, 121, rate=5)
    for i in range(5):
        writer.write(np.full((121, 161, 3), 40 * i, np.uint8))
    assert not out.exists()  # nothing at the target until close
    writer.close()
    info = probe(out)
    assert (info.fps, info.duration) == (5.0, pytest.approx(1.0, abs=0.05))
    frames = list(read_frames(out))
    assert len(frames) == 5 and abs(int(frames[4].image.mean()) - 160) < 8  # limited-range YUV rounding
    assert [p.name for p in tmp_path.iterdir()] == ["out.mp4"]  # no temp file left
