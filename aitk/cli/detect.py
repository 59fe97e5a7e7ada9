"""`aitk detect`: object detection. `aitk detect INPUTS...` runs the offline default detector
(the default command, `predict`); `aitk detect eval` scores a COCO results file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from typer.core import TyperGroup

from aitk.cli.ui import error_line, handle_errors, print_json


class DefaultToPredict(TyperGroup):
    """`aitk detect photo.jpg` means `aitk detect predict photo.jpg`; subcommands and --help still route."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["predict", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=DefaultToPredict,
    help="Object detection: 'aitk detect INPUTS...' finds COCO-80 objects in images (offline CenterNet); 'eval' scores COCO results. Video and DETR training are planned.",
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
    inputs: Annotated[list[str], typer.Argument(help="Images, folders of images, or globs.", show_default=False)],
    recursive: Annotated[bool, typer.Option("--recursive", "-r", help="Look for images in subfolders too.")] = False,
    threshold: Annotated[Optional[float], typer.Option(help="Keep detections scoring at least this (default: the model's own, 0.3 for CenterNet).")] = None,
    classes: Annotated[Optional[str], typer.Option(help="Keep only these COCO class names, e.g. person,car.")] = None,
    max_detections: Annotated[int, typer.Option(help="At most this many detections per image, best first.")] = 100,
    batch_size: Annotated[int, typer.Option(help="Images per forward pass.")] = 4,
    device: Annotated[str, typer.Option(help="auto|cpu|cuda|cuda:N|mps.")] = "cpu",
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object per image (JSON Lines) instead of a summary line.")] = False,
    coco_out: Annotated[Optional[Path], typer.Option("--coco-out", help="Write COCO results JSON (image_id = input position, from 1).")] = None,
    csv_out: Annotated[Optional[Path], typer.Option("--csv", help="Write one CSV row per detection.")] = None,
) -> None:
    """Detect COCO-80 objects in images with the offline default detector (the default command: 'aitk detect photo.jpg')."""
    import json

    from aitk.detect.predict import DetectConfig, is_image_path, parse_classes
    from aitk.detect.predict import predict as run_predict
    from aitk.detect.writers import WRITERS
    from aitk.engine.device import resolve_device
    from aitk.engine.inputs import expand_inputs

    config = DetectConfig(
        threshold=threshold, classes=parse_classes(classes), max_detections=max_detections,
        batch_size=batch_size, device=resolve_device(device).torch,
    )
    paths, problems = expand_inputs(inputs, recursive, accept=is_image_path)
    writers = [WRITERS[kind](path) for kind, path in (("coco", coco_out), ("csv", csv_out)) if path is not None]
    failures = [problem.message for problem in problems]  # inputs that matched nothing, reported with the rest
    for image_id, result in enumerate(run_predict(paths, config), start=1):
        for writer in writers:
            writer.add(image_id, result)
        if result.error:
            failures.append(result.error)
        elif json_out:
            print(json.dumps(result.as_dict(), ensure_ascii=False), flush=True)
        else:
            found = ", ".join(f"{d.label} {d.score:.2f}" for d in result.detections) or "nothing"
            print(f"{result.path}: {found}", flush=True)
    for writer in writers:
        writer.close()
    for message in failures:
        error_line(message)
    if failures:
        raise typer.Exit(1)


@app.command("eval")
@handle_errors
def evaluate(
    gt: Annotated[Path, typer.Option("--gt", help="Ground truth: a COCO instances JSON (images, annotations, categories).")],
    pred: Annotated[Path, typer.Option("--pred", help="Predictions: a COCO results JSON list of {image_id, category_id, bbox: [x, y, w, h], score}.")],
    per_class: Annotated[bool, typer.Option("--per-class", help="Also AP, AP50, AP75 and AR100 for each category.")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """COCO-protocol box metrics (AP@[.5:.95], AP50, AP75, AP and AR by size, AR@1/10/100); '-' where a metric has no ground truth."""
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
