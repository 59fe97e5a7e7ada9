"""Visual hull: the cells of a grid over the scene box that no training view sees as empty (pure).

Where the training images carry alpha (Blender-format renders), every pixel with zero coverage
proves its whole ray empty. A cell is carved away when its centre projects into some view onto
a pixel that is empty in that view's mask dilated by the cell's projected size, so that no cell
holding any visible content is ever carved. The fast method starts its occupancy grid from the hull:
its first steps then march only near the objects instead of through the whole box.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

COVERAGE = 0.5 / 255  # alpha above this (half an 8-bit step) counts as content
MAX_DILATION = 8  # pixels; a view that would need more (a camera inside the box) constrains nothing


def visual_hull(
    aabb: torch.Tensor,
    res: int,
    poses: torch.Tensor,
    alpha: torch.Tensor,
    focal: float,
    cx: float | None = None,
    cy: float | None = None,
) -> torch.Tensor:
    """Occupied cells (res^3,) bool, flat in (x, y, z) order, of a res^3 grid over `aabb` (2, 3).

    poses (N, 4, 4) camera-to-world (looking down -z, +y up), alpha (N, H, W) coverage in [0, 1].
    """
    n, height, width = alpha.shape
    cx = width / 2 if cx is None else cx
    cy = height / 2 if cy is None else cy
    lo, hi = aabb[0].float(), aabb[1].float()
    axis = (torch.arange(res, dtype=torch.float32) + 0.5) / res  # (res,) cell centres in [0, 1]
    grid = torch.stack(torch.meshgrid(axis, axis, axis, indexing="ij"), -1).reshape(-1, 3)  # (res^3, 3)
    centres = lo + grid * (hi - lo)
    half_diagonal = 0.5 * float((hi - lo).norm()) / res
    corners = torch.stack(torch.meshgrid(*[torch.stack([lo[i], hi[i]]) for i in range(3)], indexing="ij"), -1).reshape(
        -1, 3
    )
    occupied = torch.ones(len(centres), dtype=torch.bool)
    content = alpha > COVERAGE  # (N, H, W)
    for view in range(n):
        rotation, origin = poses[view, :3, :3].float(), poses[view, :3, 3].float()
        nearest = float(-((corners - origin) @ rotation)[:, 2].min())  # depth of the box's nearest corner
        if nearest <= 0 or focal * half_diagonal / nearest + 1 > MAX_DILATION:
            continue  # the camera is in or beside the box: cells may cover many pixels, so skip this view
        radius = math.ceil(focal * half_diagonal / nearest) + 1
        mask = F.max_pool2d(content[view][None, None].float(), 2 * radius + 1, stride=1, padding=radius)[0, 0] > 0
        cam = (centres - origin) @ rotation  # (M, 3) in camera axes
        depth = -cam[:, 2]
        ahead = depth > 0
        u = focal * cam[:, 0] / depth.clamp_min(1e-6) + cx
        v = -focal * cam[:, 1] / depth.clamp_min(1e-6) + cy
        inside = ahead & (u >= 0) & (u < width) & (v >= 0) & (v < height)
        col, row = u.clamp(0, width - 1).long(), v.clamp(0, height - 1).long()
        empty = inside & ~mask[row, col]
        occupied &= ~empty
    return occupied
