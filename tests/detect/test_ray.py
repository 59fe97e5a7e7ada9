"""`aitk detect --executor ray`: the same results, files and failures as the local executor."""

from __future__ import annotations

import json

import pytest

from aitk.detect.config import DetectConfig
from aitk.detect.run import InputDone, run_batch
from aitk.engine.executor import ExecutorConfig
from tests.conftest import run_aitk, run_aitk_subprocess

pytestmark = pytest.mark.slow


def comparable(items):
    out = []
    for item in items:
        if isinstance(item, InputDone):
            out.append(
                (
                    "done",
                    item.path.name,
                    item.status,
                    sorted(p.name for p in item.outputs),
                    item.results,
                    item.error is not None,
                )
            )
        else:
            out.append({k: v for k, v in item.as_dict().items() if k != "seconds"})
    return out


def assert_close(a, b):
    """Equal, but numbers within 0.02: locally images from several inputs share a forward pass, on
    Ray each input is batched alone, and a different batch moves float sums in the last digits."""
    if isinstance(a, float) or isinstance(b, float):
        assert a == pytest.approx(b, abs=0.02)
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            assert_close(a[key], b[key])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_close(x, y)
    else:
        assert a == b


def strip_seconds(path):
    return [{k: v for k, v in json.loads(line).items() if k != "seconds"} for line in path.read_text().splitlines()]


def test_ray_equals_local_with_results_files_annotations_and_a_bad_input(ray_local, centernet, photos, clip, tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 not a jpeg")
    paths = [photos["astronaut"], broken, clip, photos["coffee"]]
    config = DetectConfig(every=5)
    local = list(run_batch(paths, config, centernet, tmp_path / "local", tmp_path / "local-ann"))
    ray = list(
        run_batch(
            paths, config, None, tmp_path / "ray", tmp_path / "ray-ann", executor=ExecutorConfig(kind="ray", workers=2)
        )
    )
    assert_close(comparable(ray), comparable(local))
    statuses = [(i.path.name, i.status) for i in ray if isinstance(i, InputDone)]
    assert statuses == [
        ("astronaut.png", "done"),
        ("broken.jpg", "failed"),
        (clip.name, "done"),
        ("coffee.png", "done"),
    ]
    for name in ("astronaut.detections.jsonl", f"{clip.stem}.detections.jsonl", "coffee.detections.jsonl"):
        assert_close(strip_seconds(tmp_path / "ray" / name), strip_seconds(tmp_path / "local" / name))
    from PIL import Image, ImageChops

    with (
        Image.open(tmp_path / "ray-ann" / "astronaut.detections.png") as a,
        Image.open(tmp_path / "local-ann" / "astronaut.detections.png") as b,
    ):
        differs = ImageChops.difference(a.convert("RGB"), b.convert("RGB")).getbbox()
        assert a.size == b.size and (differs is None or max(differs[2] - differs[0], differs[3] - differs[1]) < 40)
    assert (tmp_path / "ray-ann" / f"{clip.stem}.detections.mp4").stat().st_size > 0
    # Skip-if-done holds: a rerun on Ray only redoes the failed input (and replays the rest).
    again = list(
        run_batch(
            paths, config, None, tmp_path / "ray", tmp_path / "ray-ann", executor=ExecutorConfig(kind="ray", workers=2)
        )
    )
    assert [i.status for i in again if isinstance(i, InputDone)] == ["skipped", "failed", "skipped", "skipped"]
    assert_close(
        comparable([i for i in again if not isinstance(i, InputDone)]),
        comparable([i for i in ray if not isinstance(i, InputDone)]),
    )


def test_cli_on_a_private_ray_matches_local(centernet, photos, tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"nope")
    args = ["detect", str(photos["astronaut"]), str(broken), str(photos["coffee"]), "--json"]
    local = run_aitk(*args, "--coco-out", str(tmp_path / "local.json"))
    ray = run_aitk_subprocess(
        *args, "--coco-out", str(tmp_path / "ray.json"), "--executor", "ray", "--workers", "1"
    )  # its own Ray
    assert local.returncode == ray.returncode == 1, ray.stderr
    lines = lambda text: [{k: v for k, v in json.loads(line).items() if k != "seconds"} for line in text.splitlines()]  # noqa: E731
    assert_close(lines(ray.stdout), lines(local.stdout))
    assert_close(json.loads((tmp_path / "ray.json").read_text()), json.loads((tmp_path / "local.json").read_text()))
    assert "broken.png" in ray.stderr
