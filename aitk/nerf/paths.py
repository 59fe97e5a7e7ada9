"""Camera paths for rendering without a GUI: orbit, spiral, or poses read from a JSON file.

Poses are 4x4 camera-to-world matrices in the convention of aitk.nerf.scene (the camera looks down
-z, +y up). Paths come back as (F, 4, 4) float32; the maths runs in float64.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch

from aitk.engine.errors import MediaError, UsageError


def _unit(v: torch.Tensor) -> torch.Tensor:
    return v / v.norm(dim=-1, keepdim=True)


def look_at(eye, target, up=(0.0, 0.0, 1.0)) -> torch.Tensor:
    """The (4, 4) pose at `eye` whose -z axis points at `target`, its +y as close to `up` as it can be."""
    eye, target, up = (torch.as_tensor(v, dtype=torch.float64).reshape(3) for v in (eye, target, up))
    if torch.allclose(eye, target):
        raise UsageError(f"camera at {eye.tolist()} looks at itself", hint="move the eye away from the target")
    back = _unit(eye - target)  # +z points away from what the camera sees
    right = torch.linalg.cross(up, back)
    if right.norm() < 1e-9 * up.norm():  # looking straight along `up`: any sideways axis will do
        right = torch.linalg.cross(torch.eye(3, dtype=torch.float64)[back.abs().argmin()], back)
    right = _unit(right)
    pose = torch.eye(4, dtype=torch.float64)
    pose[:3, 0], pose[:3, 1], pose[:3, 2], pose[:3, 3] = right, torch.linalg.cross(back, right), back, eye
    return pose.float()


def average_pose(poses: torch.Tensor) -> torch.Tensor:
    """nerf-pytorch's poses_avg: mean position, summed viewing and up axes, as one (4, 4) pose."""
    poses = poses.double()
    centre = poses[:, :3, 3].mean(0)
    return look_at(centre, centre - poses[:, :3, 2].sum(0), poses[:, :3, 1].sum(0))


def focus_point(poses: torch.Tensor) -> torch.Tensor:
    """(3,) the point nearest to every camera's optical axis, in the least-squares sense."""
    origins, dirs = poses[:, :3, 3].double(), _unit(-poses[:, :3, 2].double())
    reject = (
        torch.eye(3, dtype=torch.float64) - dirs[:, :, None] * dirs[:, None, :]
    )  # (N, 3, 3): drops the along-axis part
    # pinv: parallel axes (forward-facing sets) leave the depth free; it then comes out nearest the origin
    return torch.linalg.pinv(reject.sum(0), rtol=1e-6) @ (reject @ origins[..., None]).sum(0).squeeze(-1)


def world_up(poses: torch.Tensor) -> torch.Tensor:
    """(3,) the scene's up direction: the one the cameras' right axes avoid, nearest their mean up axis.

    Photographers and look_at keep cameras level (no roll), so every right axis is horizontal; the
    mean up axis alone tilts when the views crowd to one side.
    """
    rights, mean_up = poses[:, :3, 0].double(), poses[:, :3, 1].double().mean(0)
    values, vectors = torch.linalg.eigh(rights.T @ rights / len(rights))  # ascending eigenvalues
    level = vectors[:, values < 0.1 * values[-1]]  # (3, k) directions (nearly) perpendicular to every right axis
    return _unit(level @ (level.T @ mean_up) if level.shape[1] else mean_up)


def orbit(poses: torch.Tensor, frames: int) -> torch.Tensor:
    """A level circle around the cameras' focus point, at their mean distance and height, looking at it."""
    _check_frames(frames)
    centre, up = focus_point(poses), world_up(poses)
    rel = poses[:, :3, 3].double() - centre  # (N, 3)
    distance = rel.norm(dim=-1).mean()  # keep the training distance: near/far and framing still fit
    height = (rel @ up).mean().clamp(-distance, distance)
    flat = rel - (rel @ up)[:, None] * up  # (N, 3) horizontal offsets
    start = flat[flat.norm(dim=-1).argmax()]  # begin beside a real camera
    if start.norm() < 1e-9:  # every camera straight above the centre: any horizontal start will do
        start = torch.linalg.cross(up, torch.eye(3, dtype=torch.float64)[up.abs().argmin()])
    e1 = _unit(start)
    e2 = torch.linalg.cross(up, e1)
    theta = torch.arange(frames, dtype=torch.float64) * (2 * math.pi / frames)
    ring = (distance**2 - height**2).sqrt() * (theta.cos()[:, None] * e1 + theta.sin()[:, None] * e2)  # (F, 3)
    return torch.stack([look_at(eye, centre, up) for eye in centre + height * up + ring])


def spiral(
    poses: torch.Tensor, frames: int, rotations: int = 2, near: float | None = None, far: float | None = None
) -> torch.Tensor:
    """nerf-pytorch's render_path_spiral for forward-facing scenes: circles in front of the average pose.

    The cameras keep looking at a focus depth of 1 / (0.25 / near + 0.75 / (5 far)), as nerf-pytorch does;
    pass the dataset's near/far. The defaults are those load_dataset gives LLFF scenes (near 1.2, far large).
    """
    _check_frames(frames)
    near, far = near or 1.2, far or math.inf
    focus = 1.0 / (0.25 / near + 0.75 / (5.0 * far))
    avg = average_pose(poses).double()
    up = _unit(poses[:, :3, 1].double().sum(0))
    local = (poses[:, :3, 3].double() - avg[:3, 3]) @ avg[:3, :3]  # (N, 3) positions in the average camera's frame
    radii = local.abs().quantile(0.9, dim=0)  # (3,) spiral size along x, y, z
    target = avg[:3, :3] @ torch.tensor([0.0, 0.0, -focus], dtype=torch.float64) + avg[:3, 3]
    out = []
    for theta in torch.arange(frames, dtype=torch.float64) * (2 * math.pi * rotations / frames):
        offset = torch.stack([theta.cos(), -theta.sin(), -(theta * 0.5).sin()]) * radii  # z moves at half the rate
        out.append(look_at(avg[:3, :3] @ offset + avg[:3, 3], target, up))
    return torch.stack(out)


def load_cameras(path: Path) -> torch.Tensor:
    """(F, 4, 4) poses from JSON: a list of 4x4 (or 3x4) matrices, or {"frames": [{"transform_matrix": ...}]}."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise MediaError("no such cameras file", path=path, hint="check the path") from None
    except (OSError, ValueError) as exc:
        raise MediaError(f"not readable as JSON: {exc}", path=path) from None
    try:
        if isinstance(data, dict):
            data = [frame["transform_matrix"] for frame in data["frames"]]
        poses = torch.tensor(data, dtype=torch.float32)
    except (KeyError, TypeError, ValueError):
        poses = torch.empty(0)
    if poses.ndim != 3 or len(poses) == 0 or tuple(poses.shape[1:]) not in ((4, 4), (3, 4)):
        raise MediaError(
            'expected a list of 4x4 camera-to-world matrices or {"frames": [{"transform_matrix": ...}]}', path=path
        )
    if poses.shape[1] == 3:
        poses = torch.cat([poses, torch.tensor([0.0, 0, 0, 1]).expand(len(poses), 1, 4)], dim=1)
    return poses


def _check_frames(frames: int) -> None:
    if frames < 1:
        raise UsageError(f"--frames {frames}: need at least one frame")
