"""Train or fine-tune a DETR on COCO-format data, resumably; the core yields events and never prints.

Run folder OUT:
- OUT/checkpoint.pt  the latest checkpoint (model, optimiser, step, config, label map), written
                     atomically every `checkpoint_every` steps and at the end;
- OUT/model/         the final model (save_pretrained + image processor) for `aitk detect --model`;
- OUT/metrics.json   the final losses, validation AP and run facts.
The batch order is a function of (seed, step) only, so a resumed run sees the batches an
uninterrupted one would have seen.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch

from aitk.detect.config import CriterionConfig, TrainConfig
from aitk.detect.criterion import set_criterion
from aitk.detect.train_data import CocoSplit, SplitFiles, load_split, make_batch, read_categories
from aitk.engine.errors import UsageError
from aitk.engine.fileio import atomic_open, atomic_path, atomic_write_text
from aitk.engine.progress import Log

CHECKPOINT = "checkpoint.pt"


@dataclass(frozen=True)
class TrainStep:
    step: int  # steps done so far
    total: int
    losses: dict[str, float]  # the criterion's parts: loss, loss_ce, loss_bbox, loss_giou, ..._0 for aux layers
    lr: float
    elapsed: float  # seconds of training in all sessions


@dataclass(frozen=True)
class TrainEval:
    step: int
    metrics: dict[str, float | None]  # COCO stats (AP, AP50, ...), None where undefined


@dataclass(frozen=True)
class TrainDone:
    summary: dict  # what metrics.json holds


TrainEvent = TrainStep | TrainEval | TrainDone | Log


def lr_factor(step: int, config: TrainConfig) -> float:
    """Multiplier of the base LR at `step`: linear warm-up, then DETR's single 10x drop.

    Only the step decides, so a resumed run follows the same schedule. (Dropping at 80 % of a
    time budget instead was tried: in a 240 s CPU run it came mid-way through the fast-learning
    phase and cost AP50 0.29 -> 0.23.)"""
    warm = min(1.0, (step + 1) / config.warmup) if config.warmup else 1.0
    return warm * (0.1 if step >= int(config.lr_drop * config.steps) else 1.0)


def batch_indices(step: int, n: int, batch_size: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The images (B,) and flips (B,) of `step`: epochs of a seeded permutation, so resume needs no RNG state."""
    batch_size = min(batch_size, n)
    per_epoch = n // batch_size
    epoch, k = divmod(step, per_epoch)
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed * 1_000_003 + epoch))
    flips = torch.rand(batch_size, generator=torch.Generator().manual_seed(seed * 7_919 + step + 1)) < 0.5
    return order[k * batch_size : (k + 1) * batch_size], flips


def _build_model(config: TrainConfig, id2label: dict[int, str], saved_config: dict | None):
    from aitk.detect.detr_model import PRESETS, build_preset, family_classes, load_pretrained, thaw_backbone

    if saved_config is not None:  # resume: the architecture comes from the checkpoint
        config_class, model_class, _ = family_classes(saved_config["model_type"])
        model = model_class(config_class.from_dict(saved_config))
        return thaw_backbone(model) if config.model in PRESETS else model
    torch.manual_seed(config.seed)
    if config.model in PRESETS:
        return build_preset(config.model, id2label)
    return load_pretrained(config.model, id2label)


def _optimizer(model, config: TrainConfig, pretrained: bool) -> torch.optim.AdamW:
    lr_backbone = config.lr_backbone if config.lr_backbone is not None else config.lr / (10 if pretrained else 1)
    backbone = [p for n, p in model.named_parameters() if "backbone" in n and p.requires_grad]
    rest = [p for n, p in model.named_parameters() if "backbone" not in n and p.requires_grad]
    groups = [
        {"params": rest, "lr": config.lr, "base_lr": config.lr},
        {"params": backbone, "lr": lr_backbone, "base_lr": lr_backbone},
    ]
    return torch.optim.AdamW(groups, lr=config.lr, weight_decay=config.weight_decay)


@torch.no_grad()
def evaluate_split(
    model, split: CocoSplit, label_ids: list[int], device: torch.device, batch_size: int = 16
) -> dict[str, float | None]:
    """COCO box metrics of the model on a split: one detection per query, scored by its best real class."""
    import numpy as np

    from aitk.detect.boxes import box_cxcywh_to_xywh, denormalize_boxes
    from aitk.detect.coco_eval import Boxes, evaluate
    from aitk.detect.detr_model import detr_outputs, uses_sigmoid

    was_training = model.training
    model.eval()
    grouped: dict[tuple[int, int], list] = {}
    for start in range(0, len(split), batch_size):
        idx = torch.arange(start, min(start + batch_size, len(split)))
        pixels, mask, _ = make_batch(split, idx, torch.zeros(len(idx), dtype=torch.bool), device)
        logits, boxes, _ = detr_outputs(model, pixels, mask)
        probs = (
            logits.float().sigmoid() if uses_sigmoid(model) else logits.float().softmax(-1)[..., :-1]
        )  # (B, Q, C): no no-object
        scores, labels = probs.max(-1)  # (B, Q)
        for row, i in enumerate(idx.tolist()):
            w, h = split.sizes[i]
            xywh = box_cxcywh_to_xywh(denormalize_boxes(boxes[row].float(), w, h)).cpu().numpy()  # (Q, 4) pixels
            for q in range(len(xywh)):
                key = (split.image_ids[i], label_ids[int(labels[row, q])])
                grouped.setdefault(key, []).append((xywh[q], float(scores[row, q])))
    model.train(was_training)
    dt = {}
    for key, rows in grouped.items():
        xywh = np.array([b for b, _ in rows]).reshape(-1, 4)
        dt[key] = Boxes(xywh, xywh[:, 2] * xywh[:, 3], score=np.array([s for _, s in rows]))
    return evaluate(split.gt, dt, split.image_ids, split.categories).as_dict()["metrics"]


def _save_checkpoint(
    out: Path, model, optimizer, step: int, config: TrainConfig, categories: list[dict], elapsed: float, history: list
) -> None:
    state = {
        "model": model.state_dict(),
        "model_config": model.config.to_dict(),
        "optimizer": optimizer.state_dict(),
        "step": step,
        "config": asdict(config),
        "categories": categories,
        "elapsed": elapsed,
        "history": history,
    }
    with atomic_open(out / CHECKPOINT, "wb", encoding=None) as handle:
        torch.save(state, handle)


def _save_model(out: Path, model, image_size: int, category_ids: list[int]) -> Path:
    """save_pretrained into a temp folder, then swap it in: a reader never sees half a model."""
    from transformers.utils import logging as hf_logging

    from aitk.detect.detr_model import frozen_copy, image_processor

    final = out / "model"
    hf_logging.disable_progress_bar()  # save_pretrained draws a tqdm bar; core code stays silent
    try:
        with atomic_path(final) as tmp:  # a folder: the old model is swapped out whole
            saved = frozen_copy(model)
            saved.config.aitk_category_ids = (
                category_ids  # label index -> the dataset's category id, for `detect --coco-out`
            )
            saved.save_pretrained(tmp)
            image_processor(model, image_size).save_pretrained(tmp)
    finally:
        hf_logging.enable_progress_bar()
    return final


def _config_from_checkpoint(saved: dict, config: TrainConfig) -> TrainConfig:
    """The checkpoint's run settings, with this session's length, device and intervals."""
    base = dict(saved)
    base["criterion"] = CriterionConfig(
        **{k: v for k, v in base["criterion"].items() if k != "matcher"}, matcher=_matcher(base["criterion"]["matcher"])
    )
    return replace(
        TrainConfig(**base),
        steps=config.steps,
        time_budget=config.time_budget,
        device=config.device,
        eval_every=config.eval_every,
        checkpoint_every=config.checkpoint_every,
        amp=config.amp,
    )


def _matcher(values: dict):
    from aitk.detect.config import MatcherConfig

    return MatcherConfig(**values)


def _start(
    out: Path, config: TrainConfig, train_files: SplitFiles, resume: bool, force: bool
) -> tuple[TrainConfig, list[dict], dict | None]:
    """Check the run folder; on resume, the settings and categories come from the checkpoint."""
    checkpoint = out / CHECKPOINT
    if resume:
        if not checkpoint.is_file():
            raise UsageError(f"{out}: no {CHECKPOINT} to resume from", hint="drop --resume to start a new run")
        from aitk.engine.errors import ModelError

        try:
            saved = torch.load(checkpoint, map_location="cpu", weights_only=True)
        except Exception as exc:  # noqa: BLE001 - any unpickling failure means a damaged file
            raise ModelError(
                f"{checkpoint}: cannot read the checkpoint ({type(exc).__name__})", hint="start over with --force"
            ) from None
        return _config_from_checkpoint(saved["config"], config), saved["categories"], saved
    if checkpoint.exists() and not force:
        raise UsageError(
            f"{out} already holds a training run", hint="pass --resume to continue it or --force to start over"
        )
    return config, read_categories(train_files), None


def train(
    train_files: SplitFiles,
    val_files: SplitFiles | None,
    out: Path,
    config: TrainConfig,
    resume: bool = False,
    force: bool = False,
) -> Iterator[TrainEvent]:
    """Train, yielding a TrainStep per step, a TrainEval per validation, Log warnings, and last a TrainDone."""
    from aitk.detect.detr_model import PRESETS, detr_outputs, uses_sigmoid

    out = Path(out)
    config, categories, saved = _start(out, config, train_files, resume, force)
    id2label = {i: c["name"] for i, c in enumerate(categories)}
    label_ids = [c["id"] for c in categories]
    model = _build_model(config, id2label, saved["model_config"] if saved else None)
    size = config.image_size or (PRESETS[config.model].image_size if config.model in PRESETS else 384)
    config = replace(config, image_size=size)
    criterion = replace(config.criterion, sigmoid=uses_sigmoid(model))
    train_split = load_split(train_files, size, {cid: i for i, cid in enumerate(label_ids)})
    val_split = load_split(val_files, size, {cid: i for i, cid in enumerate(label_ids)}) if val_files else None
    skipped = train_split.skipped + (val_split.skipped if val_split else [])
    for message in skipped:
        yield Log(message, "warning")
    device = torch.device(config.device)
    model.to(device).train()
    optimizer = _optimizer(model, config, pretrained=config.model not in PRESETS)
    step, elapsed_before, history = 0, 0.0, []
    if saved:
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        step, elapsed_before, history = saved["step"], saved["elapsed"], saved["history"]
    amp = config.amp and device.type == "cuda"
    amp_dtype = torch.bfloat16 if amp and torch.cuda.is_bf16_supported() else torch.float16
    scaler = torch.amp.GradScaler("cuda", enabled=amp and amp_dtype == torch.float16)
    started, recent, first_step = time.monotonic(), [], step
    elapsed = lambda: elapsed_before + time.monotonic() - started  # noqa: E731
    try:
        while step < config.steps and (config.time_budget is None or time.monotonic() - started < config.time_budget):
            for group in optimizer.param_groups:
                group["lr"] = group["base_lr"] * lr_factor(step, config)
            idx, flips = batch_indices(step, len(train_split), config.batch_size, config.seed)
            pixels, mask, targets = make_batch(
                train_split, idx, flips if config.hflip else torch.zeros_like(flips), device
            )
            with torch.autocast(device.type, dtype=amp_dtype, enabled=amp):
                logits, boxes, aux = detr_outputs(model, pixels, mask)
            loss, parts = set_criterion(logits, boxes, targets, aux, criterion)
            if not math.isfinite(parts["loss"]):
                raise UsageError(
                    f"the loss became {parts['loss']} at step {step + 1}",
                    hint="lower --lr, or --resume from the last checkpoint",
                )
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            scaler.step(optimizer)
            scaler.update()
            step += 1
            recent = (recent + [parts])[-50:]
            yield TrainStep(step, config.steps, parts, optimizer.param_groups[0]["lr"], elapsed())
            if val_split and config.eval_every and step % config.eval_every == 0 and step < config.steps:
                history.append({"step": step, **evaluate_split(model, val_split, label_ids, device)})
                yield TrainEval(step, history[-1])
            if config.checkpoint_every and step % config.checkpoint_every == 0:
                _save_checkpoint(out, model, optimizer, step, config, categories, elapsed(), history)
    except KeyboardInterrupt:
        _save_checkpoint(out, model, optimizer, step, config, categories, elapsed(), history)  # resumable from here
        raise
    session = time.monotonic() - started
    final = evaluate_split(model, val_split, label_ids, device) if val_split else {}
    if val_split and (not history or history[-1]["step"] != step):
        history.append({"step": step, **final})
        yield TrainEval(step, final)
    _save_checkpoint(out, model, optimizer, step, config, categories, elapsed(), history)
    model_dir = _save_model(out, model, size, label_ids)
    losses = {k: round(sum(p[k] for p in recent) / len(recent), 5) for k in recent[0]} if recent else {}
    summary = {
        "run": str(out),
        "model_dir": str(model_dir),
        "model": config.model,
        "steps": step,
        "device": str(device),
        "train_seconds": round(elapsed(), 1),
        "session_steps_per_second": round((step - first_step) / max(session, 1e-9), 3),
        "train_images": len(train_split),
        "val_images": len(val_split) if val_split else 0,
        "image_size": size,
        "lr_drop_step": int(config.lr_drop * config.steps),
        "categories": categories,
        "losses_last_50_steps": losses,
        "val": final,
        "history": history,
        "skipped": skipped,
        "config": asdict(config),
    }
    atomic_write_text(out / "metrics.json", json.dumps(summary, indent=2))
    yield TrainDone(summary)
