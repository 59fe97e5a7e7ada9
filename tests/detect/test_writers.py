"""Streaming writers: valid files, records that read back unchanged, and an abort that keeps the old file."""

from __future__ import annotations

import csv
import json

from aitk.detect.results import Detection, ImageResult
from aitk.detect.writers import CocoResultsWriter, CsvWriter, JsonLinesWriter, read_json_lines

IMAGE = ImageResult("a.jpg", 640, 480, [Detection(1, "person", 0.91234, (1.0, 2.0, 30.5, 40.25))], seconds=0.1)
FRAME = ImageResult(
    "v.mp4",
    320,
    240,
    [Detection(47, "cup", 0.5, (5.0, 6.0, 7.0, 8.0)), Detection(2, "widget", 0.4, (0.0, 0.0, 1.0, 1.0))],
    frame=12,
    time=1.2,
)
FAILED = ImageResult("bad.jpg", error="bad.jpg: not a readable image")


def test_coco_and_csv_stream_every_detection(tmp_path):
    coco, table = CocoResultsWriter(tmp_path / "c.json"), CsvWriter(tmp_path / "t.csv")
    for image_id, result in enumerate([IMAGE, FAILED, FRAME], start=1):
        coco.add(image_id, result)
        table.add(image_id, result)
    coco.close()
    table.close()
    rows = json.loads((tmp_path / "c.json").read_text())
    assert rows == [
        {"image_id": 1, "category_id": 1, "bbox": [1.0, 2.0, 30.5, 40.25], "score": 0.9123},
        {"image_id": 3, "category_id": 47, "bbox": [5.0, 6.0, 7.0, 8.0], "score": 0.5},
        {"image_id": 3, "category_id": 2, "bbox": [0.0, 0.0, 1.0, 1.0], "score": 0.4},
    ]
    lines = list(csv.DictReader((tmp_path / "t.csv").open()))
    assert [(r["path"], r["frame"], r["time"], r["label"]) for r in lines] == [
        ("a.jpg", "", "", "person"),
        ("v.mp4", "12", "1.200", "cup"),
        ("v.mp4", "12", "1.200", "widget"),
    ]


def test_empty_run_writes_valid_empty_files(tmp_path):
    writer = CocoResultsWriter(tmp_path / "c.json")
    writer.close()
    assert json.loads((tmp_path / "c.json").read_text()) == []


def test_json_lines_read_back_as_the_same_records(tmp_path):
    writer = JsonLinesWriter(tmp_path / "r.jsonl")
    writer.add(1, IMAGE)
    writer.add(2, FRAME)
    writer.close()
    back = list(read_json_lines(tmp_path / "r.jsonl"))
    assert [r.as_dict() for r in back] == [IMAGE.as_dict(), FRAME.as_dict()] and all(r.stored for r in back)


def test_abort_keeps_the_previous_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "c.json"
    target.write_text("[]\n")
    writer = CocoResultsWriter(target)
    writer.add(1, IMAGE)
    writer.abort()
    assert target.read_text() == "[]\n" and [p.name for p in tmp_path.iterdir()] == ["c.json"]
