"""`aitk detect`: object detection. For now `eval`, the COCO box metrics of a results file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from aitk.cli.ui import handle_errors, print_json

app = typer.Typer(help="Object detection, DETR-style: COCO evaluation now; inference and training are planned.", no_args_is_help=True)

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
