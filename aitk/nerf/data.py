"""Load posed image sets: the Blender (NeRF-synthetic) format and the original LLFF layout.

Blender: transforms_{train,val,test}.json + RGBA PNGs, composited over the chosen background;
optional scene.json (near, far, aabb) as aitk.nerf.synth writes it.
LLFF: poses_bounds.npy (N x 17: a 3x5 [R | t | hwf] matrix with [down, right, back] axes, then
near/far depth bounds) + images/. Poses become OpenGL axes, scaled and recentred as nerf-pytorch's
load_llff does, without NDC: we ray-march in a box, so near/far and the aabb come from the bounds.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from aitk.engine.errors import DependencyError, MediaError, UsageError
from aitk.nerf.paths import average_pose
from aitk.nerf.scene import PosedImages

SPLITS = ("train", "val", "test")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
BACKGROUNDS = {"white": 1.0, "black": 0.0}
LLFF_HOLDOUT = 8  # every 8th image is a test view (the LLFF convention)
EXPECTED = "expected transforms_train.json (Blender format) or poses_bounds.npy with images/ (LLFF)"


def load_dataset(path: Path, background: str = "white", downscale: int = 1) -> PosedImages:
    """Read a Blender or LLFF dataset folder; `downscale` shrinks images by that integer factor (area mean)."""
    path = Path(path)
    if background not in BACKGROUNDS:
        raise UsageError(f"unknown background {background!r}", hint="use white or black")
    if int(downscale) != downscale or downscale < 1:
        raise UsageError(f"downscale {downscale}: must be a whole number >= 1")
    if not path.exists():
        raise UsageError(f"{path}: no such dataset folder", hint="check the path")
    root = path.parent if path.is_file() else path  # a transforms file or poses_bounds.npy names its folder
    bg = torch.full((3,), BACKGROUNDS[background])
    if any((root / f"transforms_{s}.json").is_file() for s in SPLITS):
        return _load_blender(root, bg, int(downscale))
    if (root / "poses_bounds.npy").is_file():
        return _load_llff(root, bg, int(downscale))
    if not any(root.iterdir()):
        raise UsageError(f"{root}: empty folder, not a dataset", hint=EXPECTED)
    raise UsageError(f"{root}: not a NeRF dataset", hint=EXPECTED)


def _load_blender(root: Path, bg: torch.Tensor, downscale: int) -> PosedImages:
    if not (root / "transforms_train.json").is_file():
        raise MediaError(
            f"{root / 'transforms_train.json'}: missing", hint="a Blender dataset needs its training views"
        )
    files, poses, splits, angle = [], [], {}, None
    for split in SPLITS:
        file = root / f"transforms_{split}.json"
        if not file.is_file():
            continue
        meta = _read_json(file)
        frames = meta.get("frames") if isinstance(meta, dict) else None
        if not frames or not isinstance(frames, list):
            raise MediaError(f"{file}: no frames", hint='expected {"camera_angle_x": ..., "frames": [...]}')
        try:
            angle = float(meta["camera_angle_x"]) if angle is None else angle
            splits[split] = list(range(len(files), len(files) + len(frames)))
            for frame in frames:
                files.append(_frame_image(root, frame["file_path"], file))
                poses.append(_pose(frame["transform_matrix"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise MediaError(
                f"{file}: malformed ({exc!r})", hint="each frame needs file_path and a 4x4 transform_matrix"
            ) from None
    # a missing val or test file: each stands in for the other (empty lists when both are missing)
    splits.setdefault("val", splits.get("test", []))
    splits.setdefault("test", splits["val"])
    scene = _read_json(root / "scene.json") if (root / "scene.json").is_file() else {}
    images, alphas = zip(*_load_images(files, bg, downscale))
    stack, alpha = torch.stack(images), torch.stack(alphas)  # (N, H, W, 3), (N, H, W)
    focal = 0.5 * stack.shape[2] / math.tan(0.5 * angle)
    aabb = torch.tensor(scene.get("aabb", [[-1.5] * 3, [1.5] * 3]), dtype=torch.float32)
    if aabb.shape != (2, 3) or not (aabb[0] < aabb[1]).all():
        raise MediaError(f"{root / 'scene.json'}: aabb must be [[min x, y, z], [max x, y, z]]")
    return PosedImages(
        stack,
        torch.stack(poses),
        focal,
        float(scene.get("near", 2.0)),
        float(scene.get("far", 6.0)),
        aabb,
        bg,
        {s: splits[s] for s in SPLITS},
        alpha=alpha if bool((alpha < 1).any()) else None,
    )


def _load_llff(root: Path, bg: torch.Tensor, downscale: int) -> PosedImages:
    file = root / "poses_bounds.npy"
    try:
        table = np.load(file).astype(np.float64)
    except (OSError, ValueError) as exc:
        raise MediaError(f"{file}: not readable as a numpy array ({exc})") from None
    if table.ndim != 2 or table.shape[1] != 17 or len(table) == 0:
        raise MediaError(f"{file}: shape {table.shape}, expected N x 17 (a 3x5 pose and 2 bounds per image)")
    folder, factor = root / "images", downscale
    if downscale > 1 and len(_image_files(root / f"images_{downscale}")) == len(table):
        folder, factor = root / f"images_{downscale}", 1  # LLFF ships pre-shrunk copies: use them
    files = _image_files(folder)
    if len(files) != len(table):
        raise MediaError(
            f"{folder}: {len(files)} images but poses_bounds.npy has {len(table)} rows",
            hint="LLFF keeps one photo per row in images/",
        )
    images = torch.stack([image for image, _ in _load_images(files, bg, factor)])  # (N, H, W, 3)
    raw = table[:, :15].reshape(-1, 3, 5)  # (N, 3, 5): [R | t | (H, W, focal)]
    bounds = table[:, 15:]  # (N, 2) near/far depth of each image's content
    h, w, focal = raw[0, :, 4]
    height, width = images.shape[1:3]
    if abs(height / width - h / w) > 0.01:
        raise MediaError(f"{folder}: images are {width}x{height} but poses_bounds.npy was made for {w:.0f}x{h:.0f}")
    focal *= width / w
    # rotation columns [down, right, back] -> OpenGL [right, up, back] = [col 1, -col 0, col 2]
    poses = np.concatenate([raw[:, :, 1:2], -raw[:, :, 0:1], raw[:, :, 2:4]], axis=2)  # (N, 3, 4)
    scale = 1.0 / (bounds.min() * 0.75)  # nerf-pytorch's bd_factor: the nearest content ends up at depth 1/0.75
    poses[:, :, 3] *= scale
    bounds = bounds * scale
    poses = torch.cat(
        [torch.from_numpy(poses), torch.tensor([0.0, 0, 0, 1], dtype=torch.float64).expand(len(poses), 1, 4)], 1
    )
    poses = torch.linalg.inv(average_pose(poses).double()) @ poses  # recentre: the average camera becomes the identity
    test = list(range(0, len(poses), LLFF_HOLDOUT))
    train = [i for i in range(len(poses)) if i % LLFF_HOLDOUT] or test
    return PosedImages(
        images,
        poses.float(),
        float(focal),
        float(bounds.min() * 0.9),
        float(bounds.max()),
        _frustum_box(poses, bounds, width, height, focal),
        bg,
        {"train": train, "val": test, "test": test},
    )


def _frustum_box(poses: torch.Tensor, bounds: np.ndarray, width: int, height: int, focal: float) -> torch.Tensor:
    """(2, 3) box around every camera's view frustum cut at its own near/far bounds: where content was seen."""
    corners = torch.tensor(
        [[x, y, -1.0] for x in (-width / 2, width / 2) for y in (-height / 2, height / 2)], dtype=torch.float64
    )
    corners[:, :2] /= focal  # (4, 3) image corners at depth 1 in camera axes
    depths = torch.from_numpy(bounds)[:, :, None, None]  # (N, 2, 1, 1)
    points = (depths * corners) @ poses[:, None, :3, :3].transpose(-1, -2) + poses[:, None, None, :3, 3]  # (N, 2, 4, 3)
    points = points.reshape(-1, 3)
    return torch.stack([points.min(0).values, points.max(0).values]).float()


def _load_images(files: list[Path], bg: torch.Tensor, downscale: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(H, W, 3) float32 images composited over `bg` and their (H, W) alpha, all one size,
    area-shrunk by `downscale`.
    """
    out, size = [], None
    for file in files:
        rgba = torch.from_numpy(read_rgba(file)).float() / 255  # (H, W, 4)
        if size is None:
            size = rgba.shape[:2]
        elif rgba.shape[:2] != size:
            raise MediaError(
                f"{file}: image is {rgba.shape[1]}x{rgba.shape[0]}, {files[0].name} is {size[1]}x{size[0]}",
                hint="all views must share one size",
            )
        image = rgba[..., :3] * rgba[..., 3:] + bg * (
            1 - rgba[..., 3:]
        )  # compositing is linear: do it before shrinking
        alpha = rgba[..., 3]
        if downscale > 1:
            small = (size[0] // downscale, size[1] // downscale)
            image = F.interpolate(image.permute(2, 0, 1)[None], size=small, mode="area")[0].permute(1, 2, 0)
            alpha = F.interpolate(alpha[None, None], size=small, mode="area")[0, 0]
        out.append((image, alpha))
    return out


def read_rgba(path: Path) -> np.ndarray:
    """(H, W, 4) uint8 from a PNG or JPEG: with Pillow when installed, else through ffmpeg."""
    try:
        from PIL import Image
    except ImportError:
        return _read_rgba_ffmpeg(path)
    try:
        with Image.open(path) as image:
            return np.array(image.convert("RGBA"))  # a writable copy
    except (OSError, ValueError) as exc:
        raise MediaError(f"{path}: not readable as an image ({exc})") from None


def _read_rgba_ffmpeg(path: Path) -> np.ndarray:
    from aitk.engine.media import INSTALL_FFMPEG, ffmpeg_message

    exe = shutil.which("ffmpeg")
    if exe is None:
        raise DependencyError("reading images needs Pillow or ffmpeg", hint=f"pip install pillow, or {INSTALL_FFMPEG}")
    # PAM output carries its own width/height header, so one ffmpeg call is enough
    cmd = [
        exe,
        "-v",
        "error",
        "-i",
        str(path),
        "-frames:v",
        "1",
        "-f",
        "image2pipe",
        "-c:v",
        "pam",
        "-pix_fmt",
        "rgba",
        "-",
    ]
    proc = subprocess.run(cmd, capture_output=True)
    if proc.returncode != 0 or b"ENDHDR\n" not in proc.stdout:
        raise MediaError(f"{path}: not readable as an image ({ffmpeg_message(proc.stderr, path)})")
    header, _, data = proc.stdout.partition(b"ENDHDR\n")
    fields = dict(line.split(b" ", 1) for line in header.splitlines()[1:])
    width, height = int(fields[b"WIDTH"]), int(fields[b"HEIGHT"])
    return np.frombuffer(data, np.uint8, count=width * height * 4).reshape(height, width, 4).copy()


def _frame_image(root: Path, file_path: str, listed_in: Path) -> Path:
    """Blender frames name images without an extension ("./train/r_0"); find the file."""
    base = root / file_path
    candidates = ([base] if base.suffix.lower() in IMAGE_SUFFIXES else []) + [
        Path(f"{base}{ext}") for ext in IMAGE_SUFFIXES
    ]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise MediaError(
        f"{candidates[0]}: image not found (listed in {listed_in.name})", hint="check the dataset is complete"
    )


def _image_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES) if folder.is_dir() else []


def _pose(matrix) -> torch.Tensor:
    pose = torch.tensor(matrix, dtype=torch.float32)
    if pose.shape == (3, 4):
        pose = torch.cat([pose, torch.tensor([[0.0, 0, 0, 1]])])
    if pose.shape != (4, 4):
        raise ValueError(f"transform_matrix of shape {tuple(pose.shape)}")
    return pose


def _read_json(file: Path):
    try:
        return json.loads(file.read_text())
    except (OSError, ValueError) as exc:
        raise MediaError(f"{file}: not readable as JSON ({exc})") from None
