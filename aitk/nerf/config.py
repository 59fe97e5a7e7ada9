"""One config object for render-nerf training: light imports only. The CLI builds it (bad values
fail on construction with a UsageError naming the flag); checkpoints store it."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from aitk.engine.errors import UsageError

METHODS = ("fast", "nerf")  # --method


@dataclass(frozen=True)
class NerfConfig:
    method: str = "fast"  # "fast": hash grid + small MLP + occupancy grid; "nerf": the paper's model
    iters: int | None = None  # training steps; None: run until time_budget
    time_budget: float | None = None  # seconds of training; None with iters None: the method's default
    batch_rays: int | None = None  # rays per step; None: the method's default (tuned for CPU)
    lr: float | None = None  # peak learning rate; None: the method's default; decays over the run
    device: str = "auto"  # auto | cpu | cuda | mps
    seed: int = 0  # initial weights and ray batches
    checkpoint_every: float = 30.0  # seconds between checkpoints
    # nerf method: the paper's architecture
    nerf_width: int = 256
    nerf_depth: int = 8
    nerf_coarse_samples: int = 64
    nerf_fine_samples: int = 128
    # fast method: multiresolution hash encoding (instant-ngp) + occupancy grid
    hash_levels: int = 16
    hash_features: int = 2
    hash_log2_size: int = 16  # 2^16 rows per level: on 2 CPU cores 2^19 trains slower for no gain at 100x100
    hash_base_resolution: int = 16
    hash_max_resolution: int = 512
    occupancy_resolution: int = 128
    max_samples: int = 256  # samples per ray before empty-space skipping

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise UsageError(f"unknown --method {self.method}", hint="use fast or nerf")
        if self.lr is not None and not (math.isfinite(self.lr) and self.lr > 0):
            raise UsageError(
                f"--lr {self.lr}: must be a number above 0",
                hint="e.g. --lr 0.01, or leave it out for the method's default",
            )

    def to_dict(self) -> dict:
        return asdict(self)
