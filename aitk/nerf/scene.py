"""Shared types for render-nerf: a posed image set, and the camera conventions (pure).

Conventions (those of the NeRF "Blender" datasets): a pose is a 4x4 camera-to-world matrix; the
camera looks down its -z axis with +y up and +x right; pixel (i, j) (column i, row j) is hit by the
ray through its centre (i + 0.5, j + 0.5). Images are float32 RGB in [0, 1], already composited
over the dataset's background colour; where the files had transparency, its coverage is kept too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass
class PosedImages:
    images: torch.Tensor  # (N, H, W, 3) float32 in [0, 1], composited over `background`
    poses: torch.Tensor  # (N, 4, 4) float32 camera-to-world
    focal: float  # in pixels (same for x and y)
    near: float
    far: float
    aabb: torch.Tensor  # (2, 3): min and max corner of the box that holds the scene
    background: torch.Tensor  # (3,) the colour empty space shows
    splits: dict[str, list[int]] = field(default_factory=dict)  # "train" / "val" / "test" -> image indices
    cx: float | None = None  # principal point in pixels; None = image centre
    cy: float | None = None
    alpha: torch.Tensor | None = None  # (N, H, W) coverage in [0, 1] where the images had an alpha channel

    @property
    def height(self) -> int:
        return int(self.images.shape[1])

    @property
    def width(self) -> int:
        return int(self.images.shape[2])

    def subset(self, split: str) -> PosedImages:
        idx = self.splits[split]
        return PosedImages(
            self.images[idx],
            self.poses[idx],
            self.focal,
            self.near,
            self.far,
            self.aabb,
            self.background,
            {split: list(range(len(idx)))},
            self.cx,
            self.cy,
            None if self.alpha is None else self.alpha[idx],
        )


def pixel_rays(
    height: int,
    width: int,
    focal: float,
    c2w: torch.Tensor,
    cx: float | None = None,
    cy: float | None = None,
    jitter: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Rays through pixel centres: origins and unit directions, each (H*W, 3), row-major.

    `jitter` (H*W, 2) in [-0.5, 0.5) moves each ray inside its pixel (training on pixel areas).
    """
    cx = width / 2 if cx is None else cx
    cy = height / 2 if cy is None else cy
    j, i = torch.meshgrid(
        torch.arange(height, dtype=torch.float32), torch.arange(width, dtype=torch.float32), indexing="ij"
    )
    u, v = i.reshape(-1) + 0.5, j.reshape(-1) + 0.5
    if jitter is not None:
        u, v = u + jitter[:, 0], v + jitter[:, 1]
    cam = torch.stack([(u - cx) / focal, -(v - cy) / focal, -torch.ones_like(u)], dim=-1)  # (H*W, 3)
    dirs = cam @ c2w[:3, :3].T
    dirs = dirs / dirs.norm(dim=-1, keepdim=True)
    return c2w[:3, 3].expand_as(dirs), dirs
