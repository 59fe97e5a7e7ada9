"""`aitk detect train` and `aitk detect synth`: train a DETR on COCO-format data; make such data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from aitk.cli import options
from aitk.cli.ui import error_line, handle_errors, print_json, stderr
from aitk.engine.errors import UsageError

PRINT_EVERY = 2.0  # seconds between progress lines off a terminal


@handle_errors
def synth(
    out: Annotated[
        Path,
        typer.Argument(
            help="Folder for the dataset: OUT/{train,val}/*.png and OUT/annotations/instances_{train,val}.json."
        ),
    ],
    images: Annotated[int, typer.Option(min=1, help="Training images.")] = 200,
    val_images: Annotated[
        int | None, typer.Option(min=1, help="Validation images (default: a quarter of --images, at least 8).")
    ] = None,
    size: Annotated[int, typer.Option(min=32, help="Image width and height in pixels.")] = 128,
    classes: Annotated[
        str, typer.Option(help="Comma-separated shapes, from circle, square, triangle, cross, star.")
    ] = "circle,square,triangle",
    max_objects: Annotated[int, typer.Option(min=1, help="Objects per image: 1 to this many.")] = 3,
    seed: int = 0,
    force: Annotated[
        bool, typer.Option("--force", help="Write into a non-empty folder, replacing files of the same name.")
    ] = False,
) -> None:
    """Generate a COCO-format detection dataset of shapes on textured backgrounds, with exact boxes."""
    from aitk.detect.config import SynthConfig
    from aitk.detect.synth import generate

    config = SynthConfig(
        images=images,
        val_images=val_images,
        size=size,
        classes=tuple(c.strip() for c in classes.split(",") if c.strip()),
        max_objects=max_objects,
        seed=seed,
    )
    counts = {}
    for split, _done, total in generate(out, config, force=force):
        counts[split] = total
    print(f"{out}: {counts['train']} train + {counts['val']} val images, classes {', '.join(config.classes)}")


def _splits(
    data: Path | None,
    train_json: Path | None,
    train_images: Path | None,
    val_json: Path | None,
    val_images: Path | None,
):
    from aitk.detect.train_data import SplitFiles, find_split

    if (train_json is None) != (train_images is None) or (val_json is None) != (val_images is None):
        raise UsageError("--train-json needs --train-images (and --val-json needs --val-images)")
    if train_json is not None:
        train = SplitFiles(train_json, train_images)
    elif data is None:
        raise UsageError("no training data", hint="pass --data DIR or --train-json FILE --train-images DIR")
    elif not data.is_dir():
        raise UsageError(f"{data}: no such dataset folder", hint="pass a folder with annotations/instances_train.json")
    else:
        train = find_split(data, "train")
        if train is None:
            raise UsageError(
                f"{data}: no annotations/instances_train.json (or instances_train2017.json)",
                hint="see docs/detect.md, Training for the layout, or pass --train-json/--train-images",
            )
    val = (
        SplitFiles(val_json, val_images)
        if val_json is not None
        else (find_split(data, "val") if data is not None else None)
    )
    for files in (train, val):
        if files is not None and not files.images.is_dir():
            raise UsageError(
                f"{files.images}: no such image folder (for {files.annotations})",
                hint="pass the folder its file_names are relative to",
            )
    return train, val


def _losses(parts: dict[str, float]) -> str:
    return " ".join(f"{k.removeprefix('loss_')} {parts[k]:.3f}" for k in ("loss", "loss_ce", "loss_bbox", "loss_giou"))


@handle_errors
def train(
    data: Annotated[
        Path | None,
        typer.Option(
            "--data",
            help=(
                "COCO folder: annotations/instances_{train,val}.json with images in train/ and val/ (or train2017/, "
                "val2017/)."
            ),
        ),
    ] = None,
    output: Annotated[Path, options.output("Run folder: checkpoint.pt, model/, metrics.json.")] = Path("detr-run"),
    model: Annotated[
        str,
        typer.Option(
            help=(
                "A preset to train from scratch (tiny, small; tiny-detr: plain DETR), or a DETR to fine-tune: "
                "Hugging Face id or folder."
            )
        ),
    ] = "tiny",
    steps: options.Steps = 3000,
    time_budget: Annotated[
        float | None, typer.Option(min=1.0, help="Stop after so many seconds of training (this session).")
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1)] = 8,
    lr: Annotated[float, typer.Option(help="AdamW learning rate of the transformer and heads.")] = 2e-4,
    lr_backbone: Annotated[
        float | None, typer.Option(help="Backbone learning rate (default: --lr from scratch, --lr/10 fine-tuning).")
    ] = None,
    image_size: Annotated[
        int | None,
        typer.Option(min=32, help="Square training resolution (default: the preset's, 384 for a checkpoint)."),
    ] = None,
    eval_every: Annotated[
        int, typer.Option(min=0, help="Validation AP every so many steps (0: at the end only).")
    ] = 500,
    checkpoint_every: Annotated[
        int, typer.Option(min=0, help="Save a checkpoint every so many steps (and always at the end).")
    ] = 500,
    train_json: Annotated[Path | None, typer.Option(help="Training annotations (instead of --data).")] = None,
    train_images: Annotated[Path | None, typer.Option(help="Folder of the training images.")] = None,
    val_json: Annotated[Path | None, typer.Option(help="Validation annotations (instead of --data's).")] = None,
    val_images: Annotated[Path | None, typer.Option(help="Folder of the validation images.")] = None,
    device: options.Device = "auto",
    seed: int = 0,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the run in --output from its checkpoint.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Start over, replacing the run in --output.")] = False,
    json_out: options.Json = False,
    quiet: options.Quiet = False,
    out: options.OldOut = None,
) -> None:
    """Train or fine-tune a DETR (set-prediction loss, Hungarian matching) on COCO-format data; mixed precision on \
CUDA."""
    import time

    from aitk.detect.config import TrainConfig
    from aitk.detect.train import TrainDone, TrainEval, TrainStep
    from aitk.detect.train import train as run_train
    from aitk.engine.device import resolve_device
    from aitk.engine.progress import Log

    out = options.resolve_alias("--output", output, "--out", out, default=Path("detr-run"))
    if resume and force:
        raise UsageError("--resume and --force contradict each other", hint="pick one")
    train_files, val_files = _splits(data, train_json, train_images, val_json, val_images)
    config = TrainConfig(
        model=model,
        steps=steps,
        time_budget=time_budget,
        batch_size=batch_size,
        lr=lr,
        lr_backbone=lr_backbone,
        image_size=image_size,
        eval_every=eval_every,
        checkpoint_every=checkpoint_every,
        device=resolve_device(device).torch,
        seed=seed,
    )
    live = stderr.is_terminal and not quiet
    last_print, warnings, summary = 0.0, [], {}
    for event in run_train(train_files, val_files, out, config, resume=resume, force=force):
        if (
            isinstance(event, TrainStep)
            and not quiet
            and (live or time.monotonic() - last_print > PRINT_EVERY or event.step == event.total)
        ):
            last_print = time.monotonic()
            line = f"step {event.step}/{event.total}  {_losses(event.losses)}  lr {event.lr:.1e}  {event.elapsed:.0f} s"
            stderr.print(line, end="\r" if live else "\n", markup=False, highlight=False)
        elif isinstance(event, TrainEval) and not quiet:
            stderr.print(
                f"step {event.step}: val AP {_fmt(event.metrics.get('AP'))}  AP50 {_fmt(event.metrics.get('AP50'))}"
                + " " * (40 if live else 0),
                markup=False,
            )
        elif isinstance(event, Log):
            warnings.append(event.message)
            if not quiet:
                stderr.print(f"warning: {event.message}", markup=False)
        elif isinstance(event, TrainDone):
            summary = event.summary
    if json_out:
        print_json(summary, pretty=False)
    else:
        val = summary["val"]
        print(
            f"done    {summary['run']}: {summary['steps']} steps, {summary['train_seconds']} s on "
            f"{summary['device']}; val AP {_fmt(val.get('AP'))} AP50 {_fmt(val.get('AP50'))}; model in "
            f"{summary['model_dir']}"
        )
    for message in warnings:
        error_line(message)
    if warnings:
        raise typer.Exit(1)  # unreadable images were left out: the run finished, but not on all the data


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"
