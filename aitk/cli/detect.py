"""`aitk detect`: object detection. `aitk detect INPUTS...` runs the offline default detector
(the default command, `predict`); `aitk detect eval` scores a COCO results file."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from typer.core import TyperGroup

from aitk.cli import options
from aitk.cli.ui import exit_if_failed, handle_errors, print_json, print_record
from aitk.engine.errors import UsageError
from aitk.engine.record import Record, Tally


class DefaultToPredict(TyperGroup):
    """`aitk detect photo.jpg` means `aitk detect predict photo.jpg`; subcommands and --help still route."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["predict", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=DefaultToPredict,
    help=(
        "Object detection: 'aitk detect INPUTS...' finds objects in images and videos (offline CenterNet COCO-80, or "
        "a transformers DETR-family model); 'eval' scores COCO results; 'synth' makes a dataset and 'train' trains a "
        "DETR on it."
    ),
    no_args_is_help=True,
)

# (label, IoU, area, max detections) for each of COCOeval.summarize's twelve lines
SUMMARY_ROWS = {
    "AP": ("0.50:0.95", "all", 100),
    "AP50": ("0.50", "all", 100),
    "AP75": ("0.75", "all", 100),
    "AP_small": ("0.50:0.95", "small", 100),
    "AP_medium": ("0.50:0.95", "medium", 100),
    "AP_large": ("0.50:0.95", "large", 100),
    "AR1": ("0.50:0.95", "all", 1),
    "AR10": ("0.50:0.95", "all", 10),
    "AR100": ("0.50:0.95", "all", 100),
    "AR_small": ("0.50:0.95", "small", 100),
    "AR_medium": ("0.50:0.95", "medium", 100),
    "AR_large": ("0.50:0.95", "large", 100),
}


def _value(value: float | None) -> str:
    return "-" if value is None or value == -1 else f"{value:.3f}"


@app.command("predict")
@handle_errors
def predict(
    inputs: Annotated[list[str], typer.Argument(help="Images, videos, folders of them, or globs.", show_default=False)],
    model: Annotated[
        str,
        typer.Option(
            "--model",
            "-m",
            help=(
                "centernet (offline COCO-80 default), a transformers detection model folder, or a Hugging Face id "
                "(needs the hub)."
            ),
        ),
    ] = "centernet",
    recursive: options.Recursive = False,
    every: Annotated[int, typer.Option(help="Video: detect on every Nth frame (1: all frames).")] = 1,
    fps: Annotated[
        float | None, typer.Option(help="Video: detect on at most this many frames per second instead of --every.")
    ] = None,
    threshold: Annotated[
        float | None,
        typer.Option(
            help=(
                "Keep detections scoring at least this (default: the model's own, 0.3 for CenterNet, 0.7 for DETR, "
                "0.5 for sigmoid-scored models)."
            )
        ),
    ] = None,
    classes: Annotated[
        str | None, typer.Option(help="Keep only these class names (the model's labels), e.g. person,car.")
    ] = None,
    max_detections: Annotated[
        int, typer.Option(help="At most this many detections per image or frame, best first.")
    ] = 100,
    batch_size: Annotated[int, typer.Option(help="Images or frames per forward pass.")] = 4,
    device: options.Device = "auto",
    json_out: Annotated[
        bool,
        typer.Option(
            "--json", help="One record per image or video frame on stdout (docs/cli.md) instead of a summary line."
        ),
    ] = False,
    coco_out: Annotated[
        Path | None,
        typer.Option(
            "--coco-out", help="Write COCO results JSON (image_id counts images and frames from 1, in output order)."
        ),
    ] = None,
    csv_out: Annotated[Path | None, typer.Option("--csv", help="Write one CSV row per detection.")] = None,
    output_dir: Annotated[
        Path | None,
        typer.Option(
            "--output-dir",
            "-d",
            help="Write each input's results to DIR/<stem>.detections.jsonl; inputs already done there are skipped.",
        ),
    ] = None,
    annotate: Annotated[
        Path | None,
        typer.Option(
            "--annotate",
            help=(
                "Write copies with boxes drawn: DIR/<stem>.detections.jpg|png, or .mp4 of the kept frames for a video."
            ),
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Redo inputs whose --output-dir results exist.")] = False,
    quiet: options.Quiet = False,
    executor: options.Executor = "local",
    ray_address: options.RayAddress = None,
    workers: options.RayWorkers = 2,
    cpus_per_worker: options.CpusPerWorker = 1.0,
    gpus_per_worker: options.GpusPerWorker = 0.0,
    retries: options.Retries = 2,
) -> None:
    """Detect objects in images and videos (the default command: 'aitk detect photo.jpg'). Exit 0 all done, 1 some \
inputs failed, 2 bad usage."""

    from aitk.detect.config import DetectConfig
    from aitk.detect.inputs import is_input_path
    from aitk.detect.models import load_model
    from aitk.detect.results import parse_classes
    from aitk.detect.run import InputDone, run_batch
    from aitk.detect.writers import WRITERS
    from aitk.engine.device import resolve_device
    from aitk.engine.inputs import expand_inputs

    if force and output_dir is None:
        raise UsageError("--force redoes inputs done in --output-dir", hint="add --output-dir DIR")
    _check_outputs({"--coco-out": coco_out, "--csv": csv_out}, {"--output-dir": output_dir, "--annotate": annotate})
    scaling = options.executor_config(executor, ray_address, workers, cpus_per_worker, gpus_per_worker, retries)
    remote = scaling.kind != "local"
    config = DetectConfig(
        model=model,
        threshold=threshold,
        max_detections=max_detections,
        batch_size=batch_size,
        # on Ray each worker resolves the device on its own node
        device=device if remote else resolve_device(device).torch,
        every=every,
        fps=fps,
    )
    paths, problems = expand_inputs(inputs, recursive, accept=is_input_path)
    detector = load_model(model, "cpu" if remote else config.device)  # on Ray: here only for its labels
    config = replace(config, classes=parse_classes(classes, detector.labels))
    writers = [WRITERS[kind](path) for kind, path in (("coco", coco_out), ("csv", csv_out)) if path is not None]
    tally = Tally()
    for problem in problems:  # inputs that matched nothing, reported with the rest
        record = tally.fail(problem.path, problem.message)
        if json_out:  # a script sees every input it gave, as with transcribe
            print_record(record)
    image_id = 0
    try:
        for item in run_batch(paths, config, detector, output_dir, annotate, force, executor=scaling):
            if isinstance(item, InputDone):
                record = tally.add(Record(item.path, item.status, item.outputs, item.error))
                if (
                    record.failed and json_out
                ):  # in input order, so a script sees every input; the error lines follow at the end
                    print_record(record)
                elif record.status == "skipped":
                    note = f"skipped {item.path} (results exist in {output_dir}; --force redoes it)"
                    if not json_out:
                        print(note, flush=True)
                    elif not quiet:
                        print(note, file=sys.stderr)
                continue
            image_id += 1
            for writer in writers:
                writer.add(image_id, item)
            if json_out:
                print_record(image_record(item))
            elif not item.stored:  # a skipped input: its 'skipped' line stands for them
                print(_summary(item), flush=True)
    except BaseException:
        for writer in writers:
            writer.abort()
        raise
    for writer in writers:
        writer.close()
    exit_if_failed(tally)


def image_record(item) -> Record:
    """One image's or video frame's record: `cached` when read back from a skipped input's results
    file; the frame, its time, the image size and the detections under result."""
    if item.error:
        return Record(item.path, "failed", error=item.error)
    payload = item.as_dict()
    for key in ("path", "seconds"):
        payload.pop(key, None)
    return Record(item.path, "cached" if item.stored else "ok", seconds=item.seconds, result=payload)


def _check_outputs(files: dict[str, Path | None], folders: dict[str, Path | None]) -> None:
    """Output paths that cannot work fail now, naming their flag, not after every image is done."""
    from aitk.engine.errors import OutputError
    from aitk.engine.fileio import check_writable

    for flag, path in [*files.items(), *folders.items()]:
        if path is None:
            continue
        if flag in files and path.is_dir():
            raise UsageError(f"{flag} {path}: a folder, not a file", hint="give a file name, e.g. results.json")
        folder = path.parent if flag in files else path
        blocker = next((p for p in [folder, *folder.parents] if p.exists() and not p.is_dir()), None)
        if blocker is not None:
            raise UsageError(f"{flag} {path}: {blocker} is a file, not a folder", hint="give a path in a folder")
        try:
            check_writable(folder)
        except OutputError as exc:
            raise OutputError(f"{flag} {path}: {exc.args[0]}", hint=exc.hint) from None


def _summary(result) -> str:
    found = ", ".join(f"{d.label} {d.score:.2f}" for d in result.detections) or "nothing"
    where = "" if result.frame is None else f" @ {result.time:.2f} s (frame {result.frame})"
    return f"{result.path}{where}: {found}"


@app.command("eval")
@handle_errors
def evaluate(
    gt: Annotated[
        Path, typer.Option("--gt", help="Ground truth: a COCO instances JSON (images, annotations, categories).")
    ],
    pred: Annotated[
        Path,
        typer.Option(
            "--pred",
            help="Predictions: a COCO results JSON list of {image_id, category_id, bbox: \\[x, y, w, h], score}.",
        ),
    ],
    per_class: Annotated[
        bool, typer.Option("--per-class", help="Also AP, AP50, AP75 and AR100 for each category.")
    ] = False,
    json_out: options.Json = False,
) -> None:
    """COCO-protocol box metrics (AP@[.5:.95], AP50, AP75, AP and AR by size, AR@1/10/100); '-' where a metric has no \
ground truth."""
    from aitk.detect.coco_io import evaluate_files

    result = evaluate_files(gt, pred)
    if json_out:
        print_json(result.as_dict(per_class=per_class))
        return
    print(f"{result.images} images, {result.categories} categories, {result.detections} detections")
    print(f"{'metric':<10} {'IoU':<9}  {'area':<6}  {'maxDets':>7}  {'value':>5}")
    for name, (iou, area, max_det) in SUMMARY_ROWS.items():
        print(f"{name:<10} {iou:<9}  {area:<6}  {max_det:>7}  {_value(result.stats[name]):>5}")
    if per_class:
        width = max([5, *(len(c["name"]) for c in result.per_class)])
        print()
        print(f"{'id':>4}  {'class':<{width}}  {'AP':>5}  {'AP50':>5}  {'AP75':>5}  {'AR100':>5}  {'boxes':>5}")
        for c in result.per_class:
            cells = "  ".join(f"{_value(c[k]):>5}" for k in ("AP", "AP50", "AP75", "AR100"))
            print(f"{c['id']:>4}  {c['name']:<{width}}  {cells}  {c['gt']:>5}")


from aitk.cli import detect_train  # noqa: E402  (training commands live in their own module)

app.command("train")(detect_train.train)
app.command("synth")(detect_train.synth)
