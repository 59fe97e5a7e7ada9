"""Skip-if-done with --output-dir: stored results replayed into aggregates; bad inputs reported at the end."""

from __future__ import annotations

import csv
import json
import os

import pytest

from aitk.detect.config import DetectConfig
from aitk.detect.results import ImageResult
from aitk.detect.run import InputDone, result_path, run_batch, settings_path
from tests.conftest import require, run_aitk


def _statuses(items):
    return [(i.path.name, i.status) for i in items if isinstance(i, InputDone)]


@pytest.mark.slow
def test_second_run_skips_and_replays_stored_results(centernet, photos, tmp_path):
    inputs = [photos["astronaut"], photos["coffee"]]
    first = list(run_batch(inputs, DetectConfig(), centernet, output_dir=tmp_path))
    assert _statuses(first) == [("astronaut.png", "done"), ("coffee.png", "done")]
    stored = result_path(photos["coffee"], tmp_path)
    assert (
        stored.name == "coffee.detections.jsonl" and json.loads(stored.read_text())["detections"][0]["label"] == "cup"
    )
    second = list(run_batch(inputs, DetectConfig(), centernet, output_dir=tmp_path))
    assert _statuses(second) == [("astronaut.png", "skipped"), ("coffee.png", "skipped")]
    replay = [r.as_dict() for r in second if isinstance(r, ImageResult)]
    assert replay == [r.as_dict() for r in first if isinstance(r, ImageResult)]

    # an input edited after its results were written is redone; --force redoes everything
    later = stored.stat().st_mtime + 10
    os.utime(photos["coffee"], (later, later))
    try:
        assert _statuses(run_batch(inputs, DetectConfig(), centernet, output_dir=tmp_path)) == [
            ("astronaut.png", "skipped"),
            ("coffee.png", "done"),
        ]
    finally:
        os.utime(photos["coffee"], None)
    assert _statuses(run_batch(inputs[:1], DetectConfig(), centernet, output_dir=tmp_path, force=True)) == [
        ("astronaut.png", "done")
    ]


def test_changed_settings_redo_instead_of_skipping(centernet, photos, clip, tmp_path):
    """Results made with another model filter or frame sampling are not the ones asked for."""
    inputs = [photos["coffee"], clip]
    first = list(run_batch(inputs, DetectConfig(every=10), centernet, output_dir=tmp_path))
    assert _statuses(first) == [("coffee.png", "done"), (clip.name, "done")]
    assert json.loads(settings_path(clip, tmp_path).read_text())["every"] == 10
    # the video's sampling changed: only the video is redone, with the frames now asked for
    again = list(run_batch(inputs, DetectConfig(every=5), centernet, output_dir=tmp_path))
    assert _statuses(again) == [("coffee.png", "skipped"), (clip.name, "done")]
    assert [r.frame for r in again if isinstance(r, ImageResult) and r.frame is not None] == [0, 5, 10, 15]
    # a class filter changes every input's results; the same settings again skip both
    persons = list(run_batch(inputs, DetectConfig(every=5, classes=("person",)), centernet, output_dir=tmp_path))
    assert _statuses(persons) == [("coffee.png", "done"), (clip.name, "done")]
    assert all(d.label == "person" for r in persons if isinstance(r, ImageResult) for d in r.detections)
    assert _statuses(run_batch(inputs, DetectConfig(every=5, classes=("person",)), centernet, output_dir=tmp_path)) == [
        ("coffee.png", "skipped"),
        (clip.name, "skipped"),
    ]
    # results from before settings were kept still count as done; an unreadable settings file does not
    settings_path(photos["coffee"], tmp_path).unlink()
    settings_path(clip, tmp_path).write_text("{")
    assert _statuses(run_batch(inputs, DetectConfig(every=5), centernet, output_dir=tmp_path)) == [
        ("coffee.png", "skipped"),
        (clip.name, "done"),
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".astronaut-then-coffee.detections.settings.json",
        "astronaut-then-coffee.detections.jsonl",
        "coffee.detections.jsonl",
    ]


def test_unreadable_stored_results_are_redone_not_replayed(centernet, photos, tmp_path):
    stored = result_path(photos["coffee"], tmp_path)
    stored.write_text('{"path": "coffee.png", "width": 1}\n')  # newer than the input, but not a full record
    items = list(run_batch([photos["coffee"]], DetectConfig(), centernet, output_dir=tmp_path))
    assert _statuses(items) == [("coffee.png", "done")]
    assert json.loads(stored.read_text())["detections"][0]["label"] == "cup"


def test_same_stem_twice_is_a_failure_not_an_overwrite(centernet, photos, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    twin = other / "coffee.png"
    twin.write_bytes(photos["astronaut"].read_bytes())
    items = list(run_batch([photos["coffee"], twin], DetectConfig(), centernet, output_dir=tmp_path / "out"))
    assert _statuses(items) == [("coffee.png", "done"), ("coffee.png", "failed")]
    assert "would overwrite" in items[-1].error


@pytest.mark.slow
def test_cli_batch_with_bad_inputs_then_skip(photos, clip, tmp_path):
    require("ffmpeg")
    bad_video, bad_image = tmp_path / "broken.mp4", tmp_path / "bad.jpg"
    bad_video.write_bytes(b"\x00" * 500)
    bad_image.write_text("not an image")
    out, coco, table = tmp_path / "out", tmp_path / "coco.json", tmp_path / "rows.csv"
    args = [
        "detect",
        str(bad_video),
        str(photos["coffee"]),
        str(bad_image),
        str(clip),
        "--every",
        "10",
        "--output-dir",
        str(out),
        "--coco-out",
        str(coco),
        "--csv",
        str(table),
    ]
    first = run_aitk(*args)
    assert first.returncode == 1, first.stderr
    lines = first.stdout.splitlines()
    assert lines[0].startswith(f"{photos['coffee']}: cup") and lines[1].startswith(f"{clip} @ 0.00 s (frame 0): person")
    assert lines[2].startswith(f"{clip} @ 1.00 s (frame 10): cup") and len(lines) == 3
    errors = first.stderr.strip().splitlines()
    assert errors[0] == "error: 2 of 4 inputs failed:" and str(bad_video) in errors[1]
    assert errors[2:] == [f"  {bad_image}: not a readable image (UnidentifiedImageError) (re-save it as PNG or JPEG)"]
    rows = json.loads(coco.read_text())
    assert {r["image_id"] for r in rows} == {1, 2, 3}  # the photo, then the two frames
    table_rows = list(csv.DictReader(table.open()))
    assert {(r["frame"], r["time"]) for r in table_rows if r["path"] == str(clip)} == {("0", "0.000"), ("10", "1.000")}

    aggregates = coco.read_text(), table.read_text()
    second = run_aitk(*args)
    assert second.returncode == 1 and len(second.stderr.strip().splitlines()) == 3  # still failing, still reported
    assert second.stdout.splitlines() == [
        f"skipped {photos['coffee']} (results exist in {out}; --force redoes it)",
        f"skipped {clip} (results exist in {out}; --force redoes it)",
    ]
    assert (coco.read_text(), table.read_text()) == aggregates
    replayed = [json.loads(line) for line in run_aitk(*args, "--json", "-q").stdout.splitlines()]
    assert [(r["status"], r["result"] and r["result"].get("frame")) for r in replayed] == [
        ("failed", None),
        ("cached", None),
        ("failed", None),
        ("cached", 0),
        ("cached", 10),
    ]  # stored results: cached
