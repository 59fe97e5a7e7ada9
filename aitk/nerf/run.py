"""render-nerf operations on files: train a run folder, render camera paths, evaluate test views.

A run folder holds `checkpoint.pt` (config, dataset path and geometry, training state),
`config.json` (the same config, for people) and, after `eval`, `eval.json`.
"""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from aitk.engine.device import resolve_device
from aitk.engine.errors import MediaError, OutputError, UsageError
from aitk.engine.fileio import Staged, atomic_path, atomic_write_text, check_writable
from aitk.engine.media import ffmpeg_message, require_ffmpeg
from aitk.engine.progress import Reporter, TaskAdvanced, TaskFinished, TaskStarted, null_reporter
from aitk.nerf.config import NerfConfig
from aitk.nerf.metrics import psnr, ssim
from aitk.nerf.scene import PosedImages

CHECKPOINT = "checkpoint.pt"


def save_checkpoint(run: Path, payload: dict) -> None:
    run.mkdir(parents=True, exist_ok=True)
    with atomic_path(run / CHECKPOINT) as tmp:
        torch.save(payload, tmp)


def load_checkpoint(run: Path) -> dict:
    path = run / CHECKPOINT
    if not path.exists():
        raise UsageError(f"{run}: no {CHECKPOINT} here", hint="train first: aitk render-nerf train DATA --output RUN")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # noqa: BLE001 - torch raises OSError, RuntimeError, pickle errors... for a damaged file
        raise UsageError(
            f"{path}: truncated or not a render-nerf checkpoint ({type(exc).__name__})", hint="train again with --force"
        ) from None
    if not isinstance(ckpt, dict) or "state" not in ckpt or "config" not in ckpt:
        raise UsageError(f"{path}: not a render-nerf checkpoint", hint="train again with --force")
    return ckpt


def train_run(
    data_path: Path,
    run: Path,
    config: NerfConfig,
    background: str = "white",
    resume: bool = False,
    force: bool = False,
    reporter: Reporter = null_reporter,
) -> dict:
    """Train (or resume) into `run`; returns a summary."""
    from aitk.nerf.data import load_dataset
    from aitk.nerf.train import train

    previous = None
    if run.exists() and not run.is_dir():
        raise UsageError(f"--output {run}: a file is there, not a run folder", hint="pick a folder name")
    if (run / CHECKPOINT).exists():
        if resume:
            previous = load_checkpoint(run)
            config = NerfConfig(**{**previous["config"], **_overrides(config)})
            background = previous["background"]
        elif not force:
            raise OutputError(f"{run} already holds a run", hint="use --resume to continue it or --force to start over")
    data = load_dataset(data_path, background)
    device = torch.device(resolve_device(config.device).torch)
    meta = {
        "data": str(Path(data_path).resolve()),
        "background": background,
        "config": config.to_dict(),
        "height": data.height,
        "width": data.width,
        "focal": data.focal,
        "near": data.near,
        "far": data.far,
        "aabb": data.aabb.tolist(),
        "background_rgb": data.background.tolist(),
        "cx": data.cx,
        "cy": data.cy,
    }
    run.mkdir(parents=True, exist_ok=True)
    atomic_write_text(run / "config.json", json.dumps(meta, indent=2))

    def checkpoint(state: dict) -> None:
        save_checkpoint(run, {**meta, "state": state})

    started = time.perf_counter()
    state = train(data.subset("train"), config, device, reporter, previous["state"] if previous else None, checkpoint)
    checkpoint(state)
    return {
        "run": str(run),
        "method": config.method,
        "steps": state.get("step"),
        "train_seconds": round(state.get("elapsed", 0.0), 1),
        "wall_seconds": round(time.perf_counter() - started, 1),
        "device": str(device),
    }


def _overrides(config: NerfConfig) -> dict:
    """Fields a resume may change: how long to train, and where."""
    return {
        k: v
        for k, v in asdict(config).items()
        if k in ("iters", "time_budget", "device", "checkpoint_every") and v is not None
    }


def _field(run: Path, device_spec: str):
    from aitk.nerf.train import load_field

    ckpt = load_checkpoint(run)
    device = torch.device(resolve_device(device_spec).torch)
    return ckpt, load_field(ckpt["state"], device), device


def render_views(
    run: Path,
    poses: torch.Tensor,
    device_spec: str = "auto",
    reporter: Reporter = null_reporter,
    task: str = "render",
    scale: float = 1.0,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """RGB (H,W,3) float32 in [0, 1] and depth (H,W) float32 images for each pose."""
    from aitk.nerf.train import render_image

    ckpt, field, device = _field(run, device_spec)
    height, width = int(round(ckpt["height"] * scale)), int(round(ckpt["width"] * scale))
    focal = ckpt["focal"] * scale
    background = torch.tensor(ckpt["background_rgb"], dtype=torch.float32, device=device)
    colours, depths = [], []
    reporter(TaskStarted(task, "render", total=len(poses), unit="views"))
    for k, pose in enumerate(poses):
        out = render_image(field, height, width, focal, pose.to(device), background)
        colours.append(out["rgb"].clamp(0, 1).cpu().numpy().astype(np.float32))
        depths.append(out["depth"].cpu().numpy().astype(np.float32))
        reporter(TaskAdvanced(task, k + 1))
    reporter(TaskFinished(task))
    return colours, depths


def camera_path(run: Path, path: str, frames: int) -> torch.Tensor:
    from aitk.nerf import paths
    from aitk.nerf.data import load_dataset

    ckpt = load_checkpoint(run)
    if path in ("orbit", "spiral", "test"):
        data = load_dataset(Path(ckpt["data"]), ckpt["background"])
        if path == "test":
            if len(data.subset("test").poses) == 0:
                raise UsageError(
                    f"{ckpt['data']}: no test views", hint="use --path orbit or spiral, or add transforms_test.json"
                )
            return data.subset("test").poses
        train_poses = data.subset("train").poses
        return paths.orbit(train_poses, frames) if path == "orbit" else paths.spiral(train_poses, frames)
    cameras = Path(path)
    if not cameras.exists():
        raise UsageError(f"--path {path}: not orbit, spiral, test or an existing cameras JSON file")
    return paths.load_cameras(cameras)


def depth_to_gray(depths: list[np.ndarray], near: float, far: float) -> list[np.ndarray]:
    """Near = white, far = black, the same scale for every frame (so a video does not flicker)."""
    out = []
    for d in depths:
        v = 1.0 - np.clip((d - near) / max(far - near, 1e-6), 0, 1)
        out.append(np.repeat(v[..., None], 3, axis=-1).astype(np.float32))
    return out


def to_uint8(images: list[np.ndarray]) -> list[np.ndarray]:
    return [(np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8) for img in images]


VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".webm", ".gif")


def check_output_kind(out: Path) -> None:
    """Before any rendering: the output is a video, a GIF, or a folder (no extension)."""
    if out.suffix and out.suffix.lower() not in VIDEO_SUFFIXES:
        raise UsageError(
            f"--output {out}: unknown kind",
            hint="use .mp4, .webm, .mov, .mkv, .gif, or a folder name without extension",
        )


def write_frames(frames: list[np.ndarray], out: Path, fps: int = 30) -> Path:
    """A video (.mp4/.webm/.mov/.mkv), an animated .gif, or a folder of PNGs, from (H,W,3) uint8 frames."""
    require_ffmpeg()
    height, width = frames[0].shape[:2]
    suffix = out.suffix.lower()
    base = [
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
        str(fps),
        "-i",
        "-",
    ]
    if suffix == "":
        out.mkdir(parents=True, exist_ok=True)
        cmd, final, staged = base + [str(out / "frame_%04d.png")], out, None
    else:
        staged = Staged(out)
        tmp = staged.path
        if suffix == ".gif":
            graph = "split[a][b];[a]palettegen=stats_mode=diff[p];[b][p]paletteuse=dither=bayer"
            cmd = base + ["-vf", graph, "-loop", "0", str(tmp)]
        elif suffix in (".mp4", ".mov", ".mkv", ".webm"):
            codec = (
                ["-c:v", "libvpx-vp9", "-b:v", "0", "-crf", "30"]
                if suffix == ".webm"
                else ["-c:v", "libx264", "-crf", "16"]
            )
            # Even width and height: yuv420p needs them.
            cmd = base + ["-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2", *codec, "-pix_fmt", "yuv420p", str(tmp)]
        else:
            check_output_kind(out)
        final = out
    try:
        proc = subprocess.run(cmd, input=b"".join(f.tobytes() for f in frames), capture_output=True, check=False)
        if proc.returncode != 0:
            raise MediaError(f"ffmpeg could not write it: {ffmpeg_message(proc.stderr)}", path=out)
        if staged is not None:
            staged.commit()
    finally:
        if staged is not None:
            staged.discard()  # nothing left once committed
    return final


def render_run(
    run: Path,
    path: str,
    frames: int,
    out: Path,
    depth: bool = False,
    fps: int = 30,
    device: str = "auto",
    scale: float = 1.0,
    reporter: Reporter = null_reporter,
) -> list[Path]:
    check_output_kind(out)
    check_writable(out.parent if out.suffix else out)  # before rendering
    poses = camera_path(run, path, frames)
    colours, depths = render_views(run, poses, device, reporter, scale=scale)
    written = [write_frames(to_uint8(colours), out, fps)]
    if depth:
        ckpt = load_checkpoint(run)
        depth_out = out.with_name(out.stem + "_depth" + out.suffix) if out.suffix else out / "depth"
        written.append(write_frames(to_uint8(depth_to_gray(depths, ckpt["near"], ckpt["far"])), depth_out, fps))
    return written


def evaluate_run(run: Path, device: str = "auto", reporter: Reporter = null_reporter) -> dict:
    """PSNR and SSIM of every test view; written to RUN/eval.json."""
    from aitk.nerf.data import load_dataset

    ckpt = load_checkpoint(run)
    test: PosedImages = load_dataset(Path(ckpt["data"]), ckpt["background"]).subset("test")
    if len(test.poses) == 0:
        raise UsageError(
            f"{ckpt['data']}: no test views to evaluate", hint="add transforms_test.json with held-out views"
        )
    colours, _ = render_views(run, test.poses, device, reporter, task="eval")
    views = []
    for k, rgb in enumerate(colours):
        pred = torch.from_numpy(rgb)
        views.append(
            {"view": k, "psnr": round(psnr(pred, test.images[k]), 3), "ssim": round(ssim(pred, test.images[k]), 4)}
        )
    result = {
        "run": str(run),
        "method": ckpt["config"]["method"],
        "steps": ckpt["state"].get("step"),
        "train_seconds": round(ckpt["state"].get("elapsed", 0.0), 1),
        "views": len(views),
        "psnr": round(float(np.mean([v["psnr"] for v in views])), 3),
        "ssim": round(float(np.mean([v["ssim"] for v in views])), 4),
        "per_view": views,
    }
    atomic_write_text(run / "eval.json", json.dumps(result, indent=2))
    return result
