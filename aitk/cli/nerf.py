"""`aitk render-nerf`: train a neural radiance field from posed images and render novel views, headless."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from aitk.cli import options
from aitk.cli.ui import ProgressRenderer, handle_errors, print_json
from aitk.engine.errors import UsageError

app = typer.Typer(help="Neural radiance fields in plain PyTorch: synth, train, render, eval.", no_args_is_help=True)

Device = options.Device
Json = options.Json
Quiet = options.Quiet


@app.command("synth")
@handle_errors
def synth(
    out: Annotated[Path, typer.Argument(help="Folder for the dataset (Blender / NeRF-synthetic format).")],
    size: Annotated[int, typer.Option(min=8, help="Image width and height in pixels.")] = 100,
    train_views: Annotated[int, typer.Option("--train-views", min=1)] = 60,
    test_views: Annotated[int, typer.Option("--test-views", min=1)] = 12,
    supersample: Annotated[
        int, typer.Option(min=1, help="Sub-pixel rays per side (anti-aliasing, like a real sensor).")
    ] = 4,
    background: Annotated[str, typer.Option(help="white|black.")] = "white",
    seed: int = 0,
    force: options.Force = False,
) -> None:
    """Render a posed multi-view dataset of an analytic scene, with exact ground truth for held-out views."""
    from aitk.nerf.synth import render_synthetic

    if out.exists() and any(out.iterdir()) and not force:
        raise UsageError(f"{out} is not empty", hint="pick a new folder or use --force")
    path = render_synthetic(
        out,
        size=size,
        n_train=train_views,
        n_test=test_views,
        supersample=supersample,
        seed=seed,
        background=background,
    )
    print(path)


@app.command("train")
@handle_errors
def train(
    data: Annotated[
        Path, typer.Argument(help="Dataset folder: Blender format (transforms_*.json) or LLFF (poses_bounds.npy).")
    ],
    output: Annotated[
        Path | None, options.output("Run folder (checkpoint, config). Required.", show_default=False)
    ] = None,
    method: Annotated[str, typer.Option(help="fast (hash grid + occupancy grid) | nerf (the paper's model).")] = "fast",
    steps: options.Steps = None,
    time_budget: Annotated[float | None, typer.Option(min=1.0, help="Seconds of training.")] = None,
    background: Annotated[str, typer.Option(help="white|black: what empty space shows.")] = "white",
    batch_rays: Annotated[int | None, typer.Option(min=1, help="Rays per step (default tuned per method).")] = None,
    lr: Annotated[float | None, typer.Option(help="Peak learning rate (default per method).")] = None,
    seed: int = 0,
    device: Device = "auto",
    resume: Annotated[bool, typer.Option("--resume", help="Continue the run in --output.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Start over, replacing the run in --output.")] = False,
    json_out: Json = False,
    quiet: Quiet = False,
    out: options.OldOut = None,
    iters: options.OldIters = None,
) -> None:
    """Train a radiance field; checkpoints go to --output as it trains. --steps: default per method."""
    from aitk.nerf.config import NerfConfig
    from aitk.nerf.run import train_run

    out = options.required("--output", options.resolve_alias("--output", output, "--out", out))
    iters = options.resolve_alias("--steps", steps, "--iters", iters)
    if background not in ("white", "black"):
        raise UsageError(f"unknown --background {background}", hint="use white or black")
    if not data.exists():
        raise UsageError(f"{data}: no such dataset folder")
    config = NerfConfig(
        method=method, iters=iters, time_budget=time_budget, batch_rays=batch_rays, lr=lr, device=device, seed=seed
    )
    with ProgressRenderer(quiet=quiet) as reporter:
        summary = train_run(data, out, config, background, resume, force, reporter)
    if json_out:
        print_json(summary, pretty=False)
    else:
        print(
            f"done    {summary['run']}: {summary['method']}, {summary['steps']} steps, "
            f"{summary['train_seconds']} s on {summary['device']}"
        )


@app.command("render")
@handle_errors
def render(
    run: Annotated[Path, typer.Argument(help="Run folder from 'train'.")],
    output: Annotated[
        Path | None,
        options.output("OUT.mp4, OUT.webm, OUT.gif, or a folder for PNGs. Required.", show_default=False),
    ] = None,
    path: Annotated[
        str, typer.Option(help="orbit | spiral | test | CAMERAS.json (a list of 4x4 camera-to-world matrices).")
    ] = "orbit",
    frames: Annotated[int, typer.Option(min=1, help="Frames for orbit/spiral.")] = 60,
    fps: Annotated[int, typer.Option(min=1)] = 30,
    depth: Annotated[
        bool, typer.Option("--depth", help="Also write depth maps (OUT_depth.mp4 or FOLDER/depth).")
    ] = False,
    scale: Annotated[
        float, typer.Option(min=0.1, max=8.0, help="Render at this multiple of the training resolution.")
    ] = 1.0,
    device: Device = "auto",
    quiet: Quiet = False,
    out: options.OldOut = None,
) -> None:
    """Render a camera path (generated from the dataset's poses; no GUI) to a video, GIF or PNGs."""
    from aitk.nerf.run import render_run

    out = options.required("--output", options.resolve_alias("--output", output, "--out", out))
    with ProgressRenderer(quiet=quiet) as reporter:
        written = render_run(run, path, frames, out, depth, fps, device, scale, reporter)
    print("done    " + ", ".join(str(p) for p in written))


@app.command("eval")
@handle_errors
def evaluate(
    run: Annotated[Path, typer.Argument(help="Run folder from 'train'.")],
    device: Device = "auto",
    json_out: Json = False,
    quiet: Quiet = False,
) -> None:
    """PSNR and SSIM on the dataset's test views; written to RUN/eval.json."""
    from aitk.nerf.run import evaluate_run

    with ProgressRenderer(quiet=quiet) as reporter:
        result = evaluate_run(run, device, reporter)
    if json_out:
        print_json(result)
    else:
        print(
            f"{result['views']} test views: PSNR {result['psnr']:.2f} dB, SSIM {result['ssim']:.4f} "
            f"({run / 'eval.json'})"
        )
