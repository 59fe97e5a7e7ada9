"""An analytic scene, ray-traced exactly and written as a Blender (NeRF-synthetic) dataset.

Three shaded spheres and a checker-textured box inside [-1.5, 1.5]^3 (z up), lit by a directional
light: Lambert + ambient, hard shadows, a mild specular on the spheres. Each pixel is the mean of
supersample^2 sub-pixel rays, as a sensor integrates over the pixel area (one hard-edged sample per
pixel capped NeRF PSNR near 29 dB, see NERF-NOTES.md); alpha is the covered fraction.
Training views cover the upper hemisphere but skip a band of elevations around the test ring.
"""

from __future__ import annotations

import functools
import json
import math
import struct
import zlib
from pathlib import Path

import numpy as np
import torch

from aitk.engine.errors import OutputError, UsageError
from aitk.nerf.paths import look_at
from aitk.nerf.scene import pixel_rays

SPHERES = np.array(
    [[0.55, 0.45, 0.2, 0.42], [-0.55, 0.55, 0.05, 0.36], [0.15, -0.6, 0.45, 0.3]], np.float32
)  # (S, 4): xyz, r
SPHERE_COLOURS = np.array([[0.85, 0.2, 0.15], [0.2, 0.7, 0.3], [0.2, 0.35, 0.9]], np.float32)  # (S, 3)
BOX_CENTRE, BOX_HALF = (
    np.array([[-0.1], [-0.15], [-0.45]], np.float32),
    np.array([[0.65], [0.5], [0.3]], np.float32),
)  # (3, 1)
_a = math.radians(25.0)
BOX_AXES = np.array(
    [[math.cos(_a), -math.sin(_a), 0], [math.sin(_a), math.cos(_a), 0], [0, 0, 1]], np.float32
)  # columns: box axes
CHECKER = (
    np.array([[0.95], [0.75], [0.25]], np.float32),
    np.array([[0.3], [0.2], [0.5]], np.float32),
    0.2,
)  # colours, square size
LIGHT = np.array([[0.5], [0.3], [0.8]], np.float32) / np.float32(
    math.sqrt(0.98)
)  # (3, 1) unit vector towards the light
AMBIENT, SPECULAR, SHININESS, EPS = 0.25, 0.3, 40.0, 1e-4
CAMERA_RADIUS, CAMERA_ANGLE_X = 4.0, 0.6911112070083618  # the NeRF-synthetic lens (50 mm on a 36 mm film)
NEAR, FAR, AABB = 2.0, 6.0, [[-1.5, -1.5, -1.5], [1.5, 1.5, 1.5]]  # every surface is within 1.25 of the origin
TEST_ELEVATION, TRAIN_GAP = 30.0, 4.0  # degrees: the test ring, and the band either side no training view uses
BACKGROUNDS = {"white": 1.0, "black": 0.0}
# The tracer is numpy, not torch: single-threaded numpy stays fast when other jobs load the cores,
# where torch's OpenMP threads slowed it 50x in our measurements.


def _rotate(m: np.ndarray, v: np.ndarray) -> np.ndarray:
    """m (3, 3) @ v (3, R), written out: BLAS threads are as contention-prone as OpenMP ones."""
    return m[:, 0:1] * v[0] + m[:, 1:2] * v[1] + m[:, 2:3] * v[2]


def _hit_distances(o: np.ndarray, d: np.ndarray) -> np.ndarray:
    """(S+1, R) distance along each ray (o, d: (3, R)) to each sphere and then the box; inf on a miss."""
    ts = []
    for x, y, z, radius in SPHERES:
        oc = o - np.array([[x], [y], [z]])  # (3, R)
        b = (oc * d).sum(0)
        disc = b * b - (oc * oc).sum(0) + radius**2
        t = -b - np.sqrt(np.maximum(disc, 0))  # nearer root: rays start outside every sphere
        ts.append(np.where((disc > 0) & (t > EPS), t, np.inf))
    ol, dl = _rotate(BOX_AXES.T, o - BOX_CENTRE), _rotate(BOX_AXES.T, d)  # (3, R) in box coordinates
    with np.errstate(divide="ignore", invalid="ignore"):  # slab test: /0 gives +-inf, which it tolerates
        t1, t2 = (-BOX_HALF - ol) / dl, (BOX_HALF - ol) / dl
    t_in, t_out = np.minimum(t1, t2).max(0), np.maximum(t1, t2).min(0)
    ts.append(np.where((t_out >= t_in) & (t_in > EPS), t_in, np.inf))
    return np.stack(ts)


def _shade(o: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Colour (3, R), zero where the ray misses, and hit mask (R,) for rays o, d (3, R)."""
    dist = _hit_distances(o, d)
    obj = dist.argmin(0)
    t = np.take_along_axis(dist, obj[None], 0)[0]
    hit = np.isfinite(t)
    colour = np.zeros_like(o)
    o, d, t, obj = o[:, hit], d[:, hit], t[hit], obj[hit]  # shade only what was hit
    p = o + t * d  # (3, R')
    is_box = obj == len(SPHERES)
    sphere = SPHERES[np.minimum(obj, len(SPHERES) - 1)].T  # (4, R')
    normal = (p - sphere[:3]) / sphere[3]
    pl = _rotate(BOX_AXES.T, p - BOX_CENTRE)  # (3, R') hit point in box coordinates
    face = (np.abs(pl) / BOX_HALF).argmax(0) == np.arange(3)[:, None]  # (3, R') the axis of the face hit
    face_normal = face * np.sign(pl)
    normal = np.where(is_box, _rotate(BOX_AXES, face_normal), normal)
    squares = (np.floor(pl / CHECKER[2]) * ~face).sum(0).astype(int) % 2  # checker over the face's two axes
    albedo = np.where(
        is_box, np.where(squares == 0, CHECKER[0], CHECKER[1]), SPHERE_COLOURS[np.minimum(obj, len(SPHERES) - 1)].T
    )
    lit = np.maximum((LIGHT * normal).sum(0), 0)  # (R',) Lambert
    facing = lit > 0  # only these can be in shadow
    shadow_o = p[:, facing] + 1e-3 * normal[:, facing]
    lit[facing] *= ~np.isfinite(_hit_distances(shadow_o, np.broadcast_to(LIGHT, shadow_o.shape))).any(0)
    half = LIGHT - d
    half /= np.linalg.norm(half, axis=0)
    gloss = SPECULAR * np.maximum((normal * half).sum(0), 0) ** SHININESS * (lit > 0) * ~is_box
    colour[:, hit] = np.clip(albedo * (AMBIENT + (1 - AMBIENT) * lit) + gloss, 0, 1)
    return colour, hit


@functools.lru_cache(maxsize=4)
def _camera_dirs(size: int, focal: float, ss: int) -> np.ndarray:
    """(3, (size*ss)^2) unit ray directions in camera axes, the same for every view (torch is slow on busy cores)."""
    # pixel centres of the image ss times finer are the sub-pixel sample points of this one
    _, dirs = pixel_rays(size * ss, size * ss, focal * ss, torch.eye(4))
    dirs = np.ascontiguousarray(dirs.numpy().T)
    dirs.setflags(write=False)  # shared by every caller of the cache
    return dirs


def render_view(c2w: torch.Tensor, size: int, focal: float, supersample: int) -> np.ndarray:
    """(size, size, 4) float32 straight (not premultiplied) RGB and coverage alpha, box-filtered per pixel."""
    ss = supersample
    c2w = c2w.numpy().astype(np.float32)
    d = _rotate(c2w[:3, :3], _camera_dirs(size, focal, ss))  # (3, R) world directions
    colour, hit = _shade(np.broadcast_to(c2w[:3, 3:], d.shape), d)
    premult = colour.reshape(3, size, ss, size, ss).mean((2, 4))  # (3, H, W)
    alpha = hit.reshape(size, ss, size, ss).mean((1, 3), dtype=np.float32)  # (H, W)
    rgba = np.concatenate([premult / np.maximum(alpha, 1e-8), alpha[None]])  # (4, H, W)
    return rgba.transpose(1, 2, 0)


def camera_poses(n_train: int, n_val: int, n_test: int, seed: int = 0) -> dict[str, torch.Tensor]:
    """(N, 4, 4) poses per split on a sphere of CAMERA_RADIUS, all looking at the origin."""
    rng = np.random.default_rng(seed)
    s = np.sin(np.radians([8.0, 80.0, TEST_ELEVATION - TRAIN_GAP, TEST_ELEVATION + TRAIN_GAP]))
    # training: equal-area spiral (sin(elevation) evenly spaced, golden-angle azimuths) skipping the gap
    u = s[0] + (np.arange(n_train) + 0.5) / n_train * (s[1] - s[0] - (s[3] - s[2]))
    train = np.stack(
        [
            np.arcsin(np.where(u >= s[2], u + s[3] - s[2], u)),
            np.arange(n_train) * math.pi * (3 - math.sqrt(5)) + rng.uniform(0, 2 * math.pi),
        ],
        axis=1,
    )
    val = np.stack([np.arcsin(rng.uniform(s[0], 0.98, n_val)), rng.uniform(0, 2 * math.pi, n_val)], axis=1)
    test = np.stack(
        [np.full(n_test, math.radians(TEST_ELEVATION)), (np.arange(n_test) + 0.5) * 2 * math.pi / max(n_test, 1)],
        axis=1,
    )

    def poses(angles: np.ndarray) -> torch.Tensor:  # (N, 2) elevation, azimuth -> (N, 4, 4)
        eyes = CAMERA_RADIUS * np.stack(
            [
                np.cos(angles[:, 0]) * np.cos(angles[:, 1]),
                np.cos(angles[:, 0]) * np.sin(angles[:, 1]),
                np.sin(angles[:, 0]),
            ],
            axis=1,
        )
        return torch.stack([look_at(e, (0, 0, 0), (0, 0, 1)) for e in eyes]) if len(eyes) else torch.empty(0, 4, 4)

    return {"train": poses(train), "val": poses(val), "test": poses(test)}


def png_bytes(rgba: np.ndarray) -> bytes:
    """An 8-bit RGBA (H, W, 4) uint8 image as PNG: no filter, zlib-deflated rows."""
    h, w, _ = rgba.shape
    rows = np.concatenate([np.zeros((h, 1), np.uint8), rgba.reshape(h, -1)], axis=1)  # a 0 filter byte per row

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0)  # 8 bits per channel, colour type 6 = RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows.tobytes(), 6))
        + chunk(b"IEND", b"")
    )


def render_synthetic(
    out: Path,
    size: int = 100,
    n_train: int = 60,
    n_val: int = 6,
    n_test: int = 12,
    supersample: int = 4,
    seed: int = 0,
    background: str = "white",
) -> Path:
    """Write the dataset to `out` (train/ val/ test/ PNGs, transforms_*.json, scene.json); return `out`.

    `background` is the colour stored under fully transparent pixels and recorded in scene.json; the
    alpha channel lets a loader composite over either colour.
    """
    if background not in BACKGROUNDS:
        raise UsageError(f"unknown background {background!r}", hint="use white or black")
    if size < 1 or supersample < 1 or n_train < 1 or min(n_val, n_test) < 0:
        raise UsageError("size, supersample and n_train must be at least 1, n_val and n_test at least 0")
    out = Path(out)
    focal = 0.5 * size / math.tan(0.5 * CAMERA_ANGLE_X)
    try:
        for split, poses in camera_poses(n_train, n_val, n_test, seed).items():
            if len(poses) == 0:  # no file rather than an empty one: loaders let val and test stand in for each other
                continue
            (out / split).mkdir(parents=True, exist_ok=True)
            frames = []
            for k, pose in enumerate(poses):
                rgba = render_view(pose, size, focal, supersample)
                rgba[..., :3] = np.where(rgba[..., 3:] > 0, rgba[..., :3], BACKGROUNDS[background])
                (out / split / f"r_{k}.png").write_bytes(png_bytes(np.round(rgba * 255).astype(np.uint8)))
                frames.append({"file_path": f"./{split}/r_{k}", "transform_matrix": pose.tolist()})
            meta = {"camera_angle_x": CAMERA_ANGLE_X, "frames": frames}
            (out / f"transforms_{split}.json").write_text(json.dumps(meta, indent=2))
        scene = {
            "near": NEAR,
            "far": FAR,
            "aabb": AABB,
            "background": background,
            "size": size,
            "supersample": supersample,
            "camera_radius": CAMERA_RADIUS,
            "test_elevation_deg": TEST_ELEVATION,
        }
        (out / "scene.json").write_text(json.dumps(scene, indent=2))
    except OSError as exc:
        raise OutputError(
            f"cannot write the dataset: {exc.strerror}", path=exc.filename or out, hint="choose a writable folder"
        ) from exc
    return out
