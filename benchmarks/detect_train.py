#!/usr/bin/env python3
"""detect train: training steps per second, and the validation AP a time-boxed run reaches.

The data is generated (`aitk detect synth`: 3 shape classes, 1-3 objects per 128 px image).
1. Steps/s of the `tiny` preset at each --batch-sizes, with aitk's criterion and, side by side, with
   transformers' built-in DETR loss (`model(pixel_values, labels=...)`) on the same model and batches.
2. One `aitk detect train` run of --budget seconds: validation AP/AP50 at each evaluation.

    .venv/bin/python benchmarks/detect_train.py                      # CPU, 240 s run
    .venv/bin/python benchmarks/detect_train.py --budget 600 --device cuda --json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from aitk.detect.config import SynthConfig, TrainConfig  # noqa: E402
from aitk.detect.criterion import set_criterion  # noqa: E402
from aitk.detect.detr_model import build_preset, detr_outputs  # noqa: E402
from aitk.detect.synth import generate  # noqa: E402
from aitk.detect.train import TrainDone, TrainEval, TrainStep, batch_indices, train  # noqa: E402
from aitk.detect.train_data import find_split, load_split, make_batch, read_categories  # noqa: E402
from aitk.engine.device import resolve_device  # noqa: E402


def steps_per_second(data: Path, batch_size: int, device: torch.device, builtin: bool, steps: int = 30) -> float:
    """Forward + loss + backward + AdamW step, timed over `steps` after 3 warm-up steps."""
    files = find_split(data, "train")
    categories = read_categories(files)
    split = load_split(files, 128, {c["id"]: i for i, c in enumerate(categories)})
    torch.manual_seed(0)
    model = build_preset("tiny", {i: c["name"] for i, c in enumerate(categories)}).to(device).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=1e-4)
    started = 0.0
    for step in range(steps + 3):
        if step == 3:
            if device.type == "cuda":
                torch.cuda.synchronize()
            started = time.perf_counter()
        idx, flips = batch_indices(step, len(split), batch_size, seed=0)
        pixels, mask, targets = make_batch(split, idx, flips, device)
        if builtin:  # transformers' own matcher and loss (labels: class_labels + boxes)
            labels = [{"class_labels": t["labels"], "boxes": t["boxes"]} for t in targets]
            loss = model(pixel_values=pixels, pixel_mask=mask, labels=labels).loss
        else:
            logits, boxes, aux = detr_outputs(model, pixels, mask)
            loss, _ = set_criterion(logits, boxes, targets, aux)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.1)
        optimizer.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return steps / (time.perf_counter() - started)


def timed_run(data: Path, out: Path, budget: float, device: torch.device, batch_size: int, every: int) -> dict:
    config = TrainConfig(
        steps=1_000_000,
        time_budget=budget,
        batch_size=batch_size,
        eval_every=every,
        checkpoint_every=0,
        device=str(device),
    )
    summary = {}
    for event in train(find_split(data, "train"), find_split(data, "val"), out, config, force=True):
        if isinstance(event, TrainEval):
            print(
                f"  step {event.step:>6}  val AP {event.metrics['AP']:.3f}  AP50 {event.metrics['AP50']:.3f}",
                file=sys.stderr,
            )
        elif isinstance(event, TrainStep) and event.step % 200 == 0:
            print(f"  step {event.step:>6}  {event.elapsed:6.0f} s  loss {event.losses['loss']:.3f}", file=sys.stderr)
        elif isinstance(event, TrainDone):
            summary = event.summary
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budget", type=float, default=240.0, help="seconds of training for the AP run")
    parser.add_argument("--batch-sizes", default="4,8")
    parser.add_argument("--images", type=int, default=400, help="synth training images (validation: 64)")
    parser.add_argument("--every", type=int, default=500, help="evaluate every so many steps")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    device = torch.device(resolve_device(args.device).torch)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "shapes"
        for _ in generate(data, SynthConfig(images=args.images, val_images=64, size=128)):
            pass
        speed = []
        for batch in (int(b) for b in args.batch_sizes.split(",")):
            ours, theirs = steps_per_second(data, batch, device, False), steps_per_second(data, batch, device, True)
            speed.append(
                {
                    "batch_size": batch,
                    "aitk_steps_per_s": round(ours, 2),
                    "transformers_loss_steps_per_s": round(theirs, 2),
                }
            )
            print(
                (
                    f"batch {batch:>3}: {ours:6.2f} steps/s with aitk's criterion, {theirs:6.2f} with transformers' "
                    "DETR loss"
                ),
                file=sys.stderr,
            )
        summary = timed_run(data, Path(tmp) / "run", args.budget, device, 8, args.every)
    result = {
        "device": str(device),
        "threads": torch.get_num_threads(),
        "speed": speed,
        "budget_s": args.budget,
        "steps": summary["steps"],
        "val": summary["val"],
        "history": [{k: h[k] for k in ("step", "AP", "AP50")} for h in summary["history"]],
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"{args.budget:.0f} s run on {device}: {summary['steps']} steps, val AP {summary['val']['AP']:.3f}, "
            f"AP50 {summary['val']['AP50']:.3f}"
        )


if __name__ == "__main__":
    main()
