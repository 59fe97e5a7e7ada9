"""One config object for render-nerf training. The CLI builds it; checkpoints store it."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class NerfConfig:
    method: str = "fast"  # "fast": hash grid + small MLP + occupancy grid; "nerf": the paper's model
    iters: int | None = None  # training steps; None: run until time_budget
    time_budget: float | None = None  # seconds of training; None with iters None: the method's default
    batch_rays: int | None = None  # rays per step; None: the method's default (tuned for CPU)
    lr: float | None = None  # peak learning rate; None: the method's default; decays over the run
    device: str = "auto"
    seed: int = 0
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

    def to_dict(self) -> dict:
        return asdict(self)
