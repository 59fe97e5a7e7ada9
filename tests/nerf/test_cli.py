"""render-nerf end to end through the CLI: synth -> train -> render -> eval, resume, bad input."""

import json
import subprocess

import pytest

from tests.conftest import require, run_aitk, run_aitk_subprocess


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("nerf")
    scene, run = root / "scene", root / "run"
    result = run_aitk("render-nerf", "synth", str(scene), "--size", "32", "--train-views", "16", "--test-views", "3")
    assert result.returncode == 0, result.stderr
    assert (scene / "transforms_train.json").exists() and (scene / "transforms_test.json").exists()
    result = run_aitk(
        "render-nerf", "train", str(scene), "--output", str(run), "--steps", "150", "--device", "cpu", "--json"
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["method"] == "fast" and summary["steps"] > 0 and (run / "checkpoint.pt").exists()
    return scene, run, summary


def probe_frames(path) -> int:
    out = subprocess.run(
        [
            require("ffprobe"),
            "-v",
            "error",
            "-count_frames",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=nb_read_frames",
            "-of",
            "csv=p=0",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout.strip())


@pytest.mark.slow  # the trained fixture: 150 steps
def test_render_writes_playable_video_gif_pngs_and_depth(trained, tmp_path):
    _, run, _ = trained
    video = tmp_path / "orbit.mp4"
    result = run_aitk(
        "render-nerf", "render", str(run), "--path", "orbit", "--frames", "12", "--output", str(video), "--depth", "-q"
    )
    assert result.returncode == 0, result.stderr
    assert probe_frames(video) == 12 and probe_frames(tmp_path / "orbit_depth.mp4") == 12
    gif = tmp_path / "test.gif"
    assert run_aitk("render-nerf", "render", str(run), "--path", "test", "--output", str(gif), "-q").returncode == 0
    assert probe_frames(gif) == 3
    folder = tmp_path / "frames"
    assert (
        run_aitk(
            "render-nerf", "render", str(run), "--path", "spiral", "--frames", "4", "--output", str(folder), "-q"
        ).returncode
        == 0
    )
    assert len(list(folder.glob("frame_*.png"))) == 4
    wrong = run_aitk("render-nerf", "render", str(run), "--output", str(tmp_path / "orbit.txt"))
    assert wrong.returncode == 2 and "unknown kind" in wrong.stderr
    assert len(wrong.stderr.strip().splitlines()) == 1  # refused before rendering anything


@pytest.mark.slow  # the trained fixture: 150 steps
def test_eval_writes_psnr_and_ssim(trained):
    _, run, _ = trained
    result = run_aitk("render-nerf", "eval", str(run), "--json", "-q")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["views"] == 3 and len(report["per_view"]) == 3
    assert 18 < report["psnr"] < 60 and 0.5 < report["ssim"] <= 1
    assert json.loads((run / "eval.json").read_text())["psnr"] == report["psnr"]


@pytest.mark.slow  # the trained fixture: 150 steps
def test_resume_continues_and_existing_run_is_protected(trained):
    scene, run, summary = trained
    refused = run_aitk("render-nerf", "train", str(scene), "--output", str(run), "--steps", "10")
    assert refused.returncode == 1 and "--resume" in refused.stderr
    result = run_aitk(
        "render-nerf", "train", str(scene), "--output", str(run), "--resume", "--steps", "170", "--json", "-q"
    )
    assert result.returncode == 0, result.stderr
    again = json.loads(result.stdout)
    assert summary["steps"] == 150 and again["steps"] == 170


def test_bad_input(tmp_path):  # not slow: every run is refused before training
    result = run_aitk_subprocess(
        "render-nerf", "train", str(tmp_path / "nope"), "--output", str(tmp_path / "run")
    )  # one real process
    assert result.returncode == 2 and "no such dataset" in result.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_aitk("render-nerf", "train", str(empty), "--output", str(tmp_path / "run"))
    assert result.returncode in (1, 2) and "empty" in result.stderr and "Traceback" not in result.stderr
    result = run_aitk("render-nerf", "render", str(tmp_path), "--output", str(tmp_path / "x.mp4"))
    assert result.returncode == 2 and "train first" in result.stderr
    result = run_aitk("render-nerf", "train", str(empty), "--output", str(tmp_path / "run"), "--method", "magic")
    assert result.returncode == 2 and "--method" in result.stderr
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    (damaged / "checkpoint.pt").write_bytes(b"PK\x03\x04 cut short")
    for args in (["eval", str(damaged)], ["render", str(damaged), "--output", str(tmp_path / "x.mp4")]):
        result = run_aitk("render-nerf", *args)
        assert result.returncode == 2 and "checkpoint.pt: truncated or not a render-nerf checkpoint" in result.stderr, (
            result.stderr
        )
        assert "internal error" not in result.stderr
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    result = run_aitk("render-nerf", "train", str(empty), "--output", str(a_file))
    assert result.returncode == 2 and "a file is there" in result.stderr
    result = run_aitk("render-nerf", "train", str(empty), "--output", str(tmp_path / "run"), "--lr", "nan")
    assert result.returncode == 2 and "--lr nan" in result.stderr


@pytest.mark.slow  # the trained fixture: 150 steps
def test_ctrl_c_keeps_what_was_trained(trained, tmp_path):
    import signal
    import sys

    scene, _, _ = trained
    run = tmp_path / "interrupted"
    process = subprocess.Popen(
        # the deprecated spellings --out and --iters still work (hidden aliases of --output and --steps)
        [
            sys.executable,
            "-m",
            "aitk",
            "render-nerf",
            "train",
            str(scene),
            "--out",
            str(run),
            "--iters",
            "100000",
            "--device",
            "cpu",
        ],
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    seen = []
    for line in process.stderr:  # the first progress log: steps have been taken
        seen.append(line)
        if line.startswith("step "):
            break
    process.send_signal(signal.SIGINT)
    stderr = "".join(seen) + process.communicate(timeout=120)[1]
    assert process.returncode == 130 and "interrupted" in stderr and "Traceback" not in stderr
    resumed = run_aitk(
        "render-nerf", "train", str(scene), "--output", str(run), "--resume", "--steps", "1", "--json", "-q"
    )
    assert (
        resumed.returncode == 0 and json.loads(resumed.stdout)["steps"] > 1
    )  # went on from the checkpoint, not from 0
