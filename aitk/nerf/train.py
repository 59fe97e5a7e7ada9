"""Train a radiance field on posed images, resumably, reporting progress as events; render images from it.

Each step draws random pixels from all training images, jitters each ray uniformly inside its pixel
(the expectation over the pixel area is what anti-aliased images hold) and minimises the MSE of the
rendered colour with Adam, the learning rate decaying over the run.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

from aitk.engine.progress import Log, Reporter, TaskAdvanced, TaskFinished, TaskStarted, null_reporter
from aitk.nerf.config import NerfConfig
from aitk.nerf.fields import RadianceField, build_field
from aitk.nerf.scene import PosedImages, pixel_rays


@dataclass(frozen=True)
class MethodDefaults:
    batch_rays: int  # rays per step (at most, where samples_per_step is set)
    samples_per_step: int | None  # fewer rays while rays hold many samples (instant-ngp's batch sizing)
    lr: float  # peak learning rate
    lr_final_ratio: float  # the rate decays exponentially to lr * this over the run
    time_budget: float  # seconds of training when config gives neither iters nor time_budget


# Tuned on 2 CPU cores, 100x100 images: small batches, many steps (1024 rays beat 2048 and 4096 by 1-4 dB at 120 s).
DEFAULTS = {
    "fast": MethodDefaults(
        batch_rays=1024, samples_per_step=1 << 15, lr=1e-2, lr_final_ratio=1 / 30, time_budget=120.0
    ),
    "nerf": MethodDefaults(batch_rays=256, samples_per_step=None, lr=1e-3, lr_final_ratio=1 / 10, time_budget=600.0),
}
LOG_EVERY = 5.0  # seconds between Log events
TASK = "train"


def _psnr(mse: float) -> float:
    return -10.0 * math.log10(max(mse, 1e-10))


def _split(data: PosedImages, *names: str) -> PosedImages | None:
    for name in names:
        if data.splits.get(name):
            return data.subset(name)
    return None


class _RayBatcher:
    """Random pixels from all images -> rays jittered inside their pixels, and those pixels' colours."""

    def __init__(self, data: PosedImages, device: torch.device, generator: torch.Generator):
        self.colours = data.images.reshape(-1, 3).to(device)  # (N*H*W, 3)
        self.poses = data.poses.to(device)
        self.h, self.w, self.focal = data.height, data.width, data.focal
        self.cx = data.width / 2 if data.cx is None else data.cx
        self.cy = data.height / 2 if data.cy is None else data.cy
        self.device, self.generator = device, generator

    def sample(self, n: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """origins, dirs, colours: each (n, 3)."""
        flat = torch.randint(0, len(self.colours), (n,), generator=self.generator).to(self.device)
        uv = torch.rand(n, 2, generator=self.generator).to(self.device)  # position inside the pixel
        image, pixel = flat // (self.h * self.w), flat % (self.h * self.w)
        u, v = (pixel % self.w).float() + uv[:, 0], (pixel // self.w).float() + uv[:, 1]
        cam = torch.stack([(u - self.cx) / self.focal, -(v - self.cy) / self.focal, -torch.ones_like(u)], -1)
        c2w = self.poses[image]  # (n, 4, 4)
        dirs = torch.einsum("nij,nj->ni", c2w[:, :3, :3], cam)
        return c2w[:, :3, 3], dirs / dirs.norm(dim=-1, keepdim=True), self.colours[flat]


def _adam(groups: list[dict], lr: float) -> torch.optim.Adam:
    """Adam, fused where the build supports it (on CPU it is 8x faster over a hash table's millions of rows)."""
    try:
        return torch.optim.Adam(groups, lr=lr, betas=(0.9, 0.99), fused=True)
    except (RuntimeError, TypeError):
        return torch.optim.Adam(groups, lr=lr, betas=(0.9, 0.99))


def _resolve(config: NerfConfig) -> tuple[MethodDefaults, int, float, int | None, float | None]:
    """Method defaults, batch size, lr, and the stopping rule: iters, seconds (None: no limit)."""
    defaults = DEFAULTS[config.method] if config.method in DEFAULTS else DEFAULTS["fast"]
    iters, budget = config.iters, config.time_budget
    if iters is None and budget is None:
        budget = defaults.time_budget
    return defaults, config.batch_rays or defaults.batch_rays, config.lr or defaults.lr, iters, budget


def train(
    data: PosedImages,
    config: NerfConfig,
    device: torch.device,
    reporter: Reporter = null_reporter,
    state: dict | None = None,
    on_checkpoint: Callable[[dict], None] | None = None,
    eval_every: float | None = None,
) -> dict:
    """Train (or resume from `state`) until config.iters steps or config.time_budget seconds of training.

    `on_checkpoint(state)` gets the state every config.checkpoint_every seconds and at the end;
    `eval_every` seconds (of training time), the held-out split ("test", else "val") is rendered and
    its PSNR logged and kept in state["history"]. Returns the final state (see `load_field`).
    """
    defaults, batch, lr, iters, budget = _resolve(config)
    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed + (state["step"] if state else 0))
    field = build_field(config, data.aabb, data.near, data.far).to(device)
    optimizer = _adam(field.param_groups(lr), lr)
    step, elapsed, history = 0, 0.0, []
    if state is not None:
        field.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        step, elapsed, history = state["step"], state["elapsed"], list(state.get("history", []))
    train_set = _split(data, "train") or data
    held_out = _split(data, "test", "val")
    rays = _RayBatcher(train_set, device, generator)
    background = data.background.to(device)

    def snapshot() -> dict:
        return {
            "config": config.to_dict(),
            "model": field.state_dict(),
            "optimizer": optimizer.state_dict(),
            "step": step,
            "elapsed": elapsed,
            "history": history,
            "aabb": data.aabb.clone(),
            "near": data.near,
            "far": data.far,
        }

    def progress() -> float:
        by_steps = step / iters if iters else 0.0
        by_time = elapsed / budget if budget else 0.0
        return min(1.0, max(by_steps, by_time))

    reporter(
        TaskStarted(TASK, f"training ({config.method})", budget if budget else iters, unit="s" if budget else "steps")
    )
    if state is None:
        started = time.perf_counter()
        field.prepare(train_set)
        elapsed += time.perf_counter() - started
    last_log = last_ckpt = last_eval = elapsed
    loss_sum, loss_n = 0.0, 0
    n_rays = batch if defaults.samples_per_step is None else min(batch, 256)
    field.train()
    try:
        while progress() < 1.0:
            started = time.perf_counter()
            field.before_step(step, iters)
            for group in optimizer.param_groups:
                group["lr"] = lr * defaults.lr_final_ratio ** progress()
            origins, dirs, target = rays.sample(n_rays)
            out = field.render_rays(origins, dirs, background, train=True)
            if defaults.samples_per_step is not None and "samples" in out:
                per_ray = max(float(out["samples"]) / n_rays, 1.0)
                n_rays = max(64, min(batch, int(defaults.samples_per_step / per_ray)))
            loss = torch.nn.functional.mse_loss(out["rgb"], target)
            if "rgb_coarse" in out:
                loss = loss + torch.nn.functional.mse_loss(out["rgb_coarse"], target)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            loss_sum, loss_n = loss_sum + float(torch.nn.functional.mse_loss(out["rgb"].detach(), target)), loss_n + 1
            step += 1
            elapsed += time.perf_counter() - started
            reporter(TaskAdvanced(TASK, elapsed if budget else step))
            if elapsed - last_log >= LOG_EVERY:
                reporter(
                    Log(
                        f"step {step}  {elapsed:.0f}s  loss {loss_sum / loss_n:.5f}  "
                        f"train PSNR {_psnr(loss_sum / loss_n):.2f} dB"
                    )
                )
                last_log, loss_sum, loss_n = elapsed, 0.0, 0
            if eval_every and held_out is not None and elapsed - last_eval >= eval_every:
                history.append(_evaluate(field, held_out, step, elapsed, reporter))
                field.train()
                last_eval = elapsed
            if on_checkpoint and elapsed - last_ckpt >= config.checkpoint_every:
                on_checkpoint(snapshot())
                last_ckpt = elapsed
    except KeyboardInterrupt:
        if on_checkpoint and step > 0:
            on_checkpoint(snapshot())  # Ctrl-C: keep what was trained, so --resume goes on from here
        raise
    if eval_every and held_out is not None and (not history or history[-1]["step"] != step):
        history.append(_evaluate(field, held_out, step, elapsed, reporter))
    final = snapshot()
    if on_checkpoint:
        on_checkpoint(final)
    reporter(TaskFinished(TASK))
    return final


def _evaluate(field: RadianceField, data: PosedImages, step: int, elapsed: float, reporter: Reporter) -> dict:
    psnr = evaluate_psnr(field, data)
    reporter(Log(f"step {step}  {elapsed:.0f}s  held-out PSNR {psnr:.2f} dB"))
    return {"step": step, "elapsed": elapsed, "psnr": psnr}


def evaluate_psnr(field: RadianceField, data: PosedImages) -> float:
    """Mean PSNR (dB) over the images of `data`, each rendered from its pose."""
    device = next(field.parameters()).device
    scores = []
    for image, pose in zip(data.images, data.poses):
        out = render_image(
            field,
            data.height,
            data.width,
            data.focal,
            pose.to(device),
            data.background.to(device),
            cx=data.cx,
            cy=data.cy,
        )
        scores.append(_psnr(float(((out["rgb"].cpu() - image) ** 2).mean())))
    return sum(scores) / len(scores)


def load_field(state: dict, device: torch.device) -> RadianceField:
    """Rebuild the trained field from a state `train` returned, ready to render."""
    config = NerfConfig(**state["config"])
    field = build_field(config, state["aabb"], state["near"], state["far"])
    field.load_state_dict(state["model"])
    return field.to(device).eval()


@torch.no_grad()
def render_image(
    field: RadianceField,
    height: int,
    width: int,
    focal: float,
    c2w: torch.Tensor,
    background: torch.Tensor,
    chunk: int = 2048,
    cx: float | None = None,
    cy: float | None = None,
) -> dict[str, torch.Tensor]:
    """Render rays through pixel centres: rgb (H, W, 3), depth (H, W), acc (H, W).

    `chunk` rays at a time: the paper's model holds chunk * 192 samples * width activations per layer.
    """
    was_training = field.training
    field.eval()
    origins, dirs = pixel_rays(height, width, focal, c2w.cpu().float(), cx, cy)
    device = background.device
    parts = [
        field.render_rays(o.to(device), d.to(device), background, train=False)
        for o, d in zip(origins.split(chunk), dirs.split(chunk))
    ]
    field.train(was_training)
    return {
        "rgb": torch.cat([p["rgb"] for p in parts]).reshape(height, width, 3),
        "depth": torch.cat([p["depth"] for p in parts]).reshape(height, width),
        "acc": torch.cat([p["acc"] for p in parts]).reshape(height, width),
    }
