"""--annotate: boxes drawn on images (pure), annotated copies of images and videos, never over an input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aitk.detect.annotate import annotation_path, draw_detections
from aitk.detect.config import DetectConfig, Sampling
from aitk.detect.inputs import is_input_path
from aitk.detect.results import Detection
from aitk.detect.run import InputDone, run_batch
from aitk.detect.video import read_frames
from aitk.engine.inputs import expand_inputs
from aitk.engine.media import probe
from tests.conftest import ffmpeg, require


def test_draw_changes_the_box_edges_only():
    image = np.full((100, 120, 3), 128, np.uint8)
    drawn = draw_detections(image, [Detection(1, "person", 0.87, (20.0, 30.0, 60.0, 50.0))])
    assert drawn.shape == image.shape and (image == 128).all()  # the input is not drawn on
    changed = (drawn != image).any(axis=2)
    assert changed[55, 20] and changed[55, 80] and changed[80, 50]  # left, right and bottom edges
    assert not changed[55, 50] and not changed[5, 110]  # inside the box and far outside stay
    assert changed[30:45, 21:60].sum() > 50  # the 'person 0.87' label at the top of the box


def test_annotation_names_never_the_input(tmp_path):
    assert annotation_path(Path("a/photo.JPG"), tmp_path, video=False) == tmp_path / "photo.detections.jpg"
    assert annotation_path(Path("scan.tiff"), tmp_path, video=False) == tmp_path / "scan.detections.png"
    assert annotation_path(Path("clip.mov"), tmp_path, video=True) == tmp_path / "clip.detections.mp4"


def test_annotated_photo_is_readable_and_outlines_the_person(centernet, photos, tmp_path):
    items = list(run_batch([photos["astronaut"]], DetectConfig(), centernet, annotate_dir=tmp_path / "ann"))
    result, done = items
    assert done == InputDone(photos["astronaut"], "done", 1, [tmp_path / "ann" / "astronaut.detections.png"])
    assert result.image is None  # arrays are dropped once drawn
    original = np.asarray(Image.open(photos["astronaut"]).convert("RGB")).astype(int)
    annotated = np.asarray(Image.open(done.outputs[0]).convert("RGB")).astype(int)
    assert annotated.shape == original.shape
    x, y, w, h = (round(v) for v in result.detections[0].bbox)
    changed = np.abs(annotated - original).sum(axis=2) > 30
    assert changed[y + h // 2, max(0, x - 1) : x + 2].any() and changed[y + h // 2, x + w - 2 : x + w + 1].any()
    assert not changed[y + h // 2, x + w // 2]  # the middle of the box is the photo as it was


@pytest.mark.slow
def test_annotated_video_has_the_kept_frames_at_the_kept_rate(centernet, clip, tmp_path):
    require("ffmpeg")
    items = list(run_batch([clip], DetectConfig(fps=1, batch_size=2), centernet, annotate_dir=tmp_path))
    done = items[-1]
    assert done.status == "done" and done.results == 2 and done.outputs == [tmp_path / f"{clip.stem}.detections.mp4"]
    info = probe(done.outputs[0])
    assert (info.width, info.height, info.fps) == (320, 240, 1.0) and info.duration == pytest.approx(2.0, abs=0.1)
    assert not info.has_audio  # a silent input gives a silent copy
    frames = [f.image.astype(int) for f in read_frames(done.outputs[0])]
    source = [f.image.astype(int) for f in read_frames(clip, Sampling(fps=1))]
    assert len(frames) == 2 and all(
        np.abs(a - b).mean() < 12 for a, b in zip(frames, source)
    )  # the same pictures, boxes added
    # footage with sound: the annotated copy keeps it, as long as the pictures
    talking = tmp_path / "talking.mp4"
    ffmpeg(
        "-i",
        str(clip),
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:duration=5",
        "-map",
        "0:v",
        "-map",
        "1:a",
        "-c:v",
        "copy",
        "-c:a",
        "aac",
        "-shortest",
        str(talking),
    )
    *_, done = run_batch([talking], DetectConfig(every=5, batch_size=2), centernet, annotate_dir=tmp_path / "out")
    info = probe(done.outputs[0])
    assert (
        done.status == "done"
        and info.has_audio
        and info.audio_codec == "aac"
        and info.duration == pytest.approx(2.0, abs=0.15)
    )


def test_annotating_into_the_inputs_folder_keeps_the_input(centernet, photos, tmp_path):
    photo = tmp_path / "coffee.png"
    photo.write_bytes(photos["coffee"].read_bytes())
    before = photo.read_bytes()
    *_, done = run_batch([photo], DetectConfig(), centernet, annotate_dir=tmp_path)
    assert done.status == "done" and done.outputs == [tmp_path / "coffee.detections.png"]
    assert photo.read_bytes() == before
    # a later run over the folder does not detect on the annotated copy
    assert expand_inputs([str(tmp_path)], accept=is_input_path)[0] == [photo]
