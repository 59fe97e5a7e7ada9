"""render-nerf data side: camera rays, the synthetic scene, Blender/LLFF loading, camera paths, bad input."""

import json
import math
import sys

import numpy as np
import pytest
import torch

from aitk.engine.errors import MediaError, UsageError
from aitk.nerf import paths
from aitk.nerf.data import _read_rgba_ffmpeg, load_dataset, read_rgba
from aitk.nerf.scene import pixel_rays
from aitk.nerf.synth import CAMERA_ANGLE_X, TEST_ELEVATION, png_bytes, render_synthetic, render_view
from tests.conftest import require


def project(points: torch.Tensor, c2w: torch.Tensor, focal: float, cx: float, cy: float) -> torch.Tensor:
    """Pinhole projection of world points (P, 3) to pixel coordinates (P, 2): camera looks down -z, +y up."""
    cam = (points - c2w[:3, 3]) @ c2w[:3, :3]  # (P, 3) in camera axes
    depth = -cam[:, 2]
    return torch.stack([cx + focal * cam[:, 0] / depth, cy - focal * cam[:, 1] / depth], dim=-1)


@pytest.mark.parametrize("principal", [None, (13.3, 7.9)])
def test_rays_project_back_to_their_pixel_centres(principal):
    height, width, focal = 24, 32, 27.5
    c2w = paths.look_at((1.5, -3.0, 2.0), (0.2, 0.1, -0.3), (0, 0, 1))
    cx, cy = principal or (width / 2, height / 2)
    origins, dirs = pixel_rays(height, width, focal, c2w, *(principal or (None, None)))
    for t in (0.7, 3.9):
        pixels = project((origins + t * dirs).double(), c2w.double(), focal, cx, cy)  # (H*W, 2)
        j, i = torch.meshgrid(torch.arange(height), torch.arange(width), indexing="ij")
        centres = torch.stack([i.reshape(-1) + 0.5, j.reshape(-1) + 0.5], dim=-1).double()
        assert torch.allclose(pixels, centres, atol=1e-4)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    root = tmp_path_factory.mktemp("synth")
    render_synthetic(root / "aa", size=32, n_train=10, n_val=2, n_test=4, supersample=4)
    render_synthetic(
        root / "hard", size=32, n_train=3, n_val=0, n_test=1, supersample=1, background="black"
    )  # no val file
    return root


def test_synthetic_dataset_round_trips(synthetic):
    root = synthetic / "aa"
    names = (
        "transforms_train.json",
        "transforms_val.json",
        "transforms_test.json",
        "scene.json",
        "train/r_9.png",
        "test/r_3.png",
    )
    for name in names:
        assert (root / name).is_file(), name
    meta = json.loads((root / "transforms_train.json").read_text())
    assert meta["camera_angle_x"] == CAMERA_ANGLE_X and meta["frames"][0]["file_path"] == "./train/r_0"
    data = load_dataset(root)
    assert (
        data.images.shape == (16, 32, 32, 3) and data.poses.shape == (16, 4, 4) and data.images.dtype == torch.float32
    )
    assert data.splits == {"train": list(range(10)), "val": [10, 11], "test": [12, 13, 14, 15]}
    assert data.focal == pytest.approx(16 / math.tan(CAMERA_ANGLE_X / 2))
    assert (data.near, data.far) == (2.0, 6.0) and data.aabb.tolist() == [[-1.5] * 3, [1.5] * 3]
    assert data.subset("test").images.shape[0] == 4
    # the scene sits in the middle of the frame; empty corners show the background asked for
    assert data.images[:, 16, 16].sub(1).abs().max() > 0.1 and torch.all(data.images[:, 0, 0] == 1)
    assert torch.all(load_dataset(root, background="black").images[:, 0, 0] == 0)
    assert load_dataset(root, downscale=2).images.shape == (16, 16, 16, 3)
    # re-tracing a test view from the loaded pose and focal gives the stored pixels (up to 8-bit rounding)
    rgba = torch.from_numpy(render_view(data.poses[13], 32, data.focal, 4))
    assert (rgba[..., :3] * rgba[..., 3:] + 1 - rgba[..., 3:] - data.images[13]).abs().max() < 1.5 / 255
    # coverage is kept for the visual hull: empty corners 0, partial at outlines, split with the images
    assert data.alpha.shape == (16, 32, 32) and torch.all(data.alpha[:, 0, 0] == 0)
    assert (rgba[..., 3] - data.alpha[13]).abs().max() < 1 / 255 and ((data.alpha > 0) & (data.alpha < 1)).any()
    assert torch.equal(data.subset("test").alpha, data.alpha[12:])


def test_test_ring_is_unseen(synthetic):
    data = load_dataset(synthetic / "aa")
    positions = data.poses[:, :3, 3]
    elevation = torch.rad2deg(torch.asin(positions[:, 2] / positions.norm(dim=-1)))
    train, test = elevation[data.splits["train"]], elevation[data.splits["test"]]
    assert torch.allclose(test, torch.tensor(TEST_ELEVATION), atol=1e-3)
    assert (train[:, None] - test[None, :]).abs().min() > 3.0  # a gap, not just a different float
    assert positions.norm(dim=-1).sub(4.0).abs().max() < 1e-4


def test_supersampling_antialiases_edges(synthetic):
    soft = np.concatenate([read_rgba(p)[..., 3].ravel() for p in sorted((synthetic / "aa" / "train").glob("*.png"))])
    hard = np.concatenate([read_rgba(p)[..., 3].ravel() for p in sorted((synthetic / "hard" / "train").glob("*.png"))])
    assert ((soft > 0) & (soft < 255)).sum() > 50 and set(np.unique(hard)) == {0, 255}
    assert load_dataset(synthetic / "hard").splits == {"train": [0, 1, 2], "val": [3], "test": [3]}


def test_png_reader_without_pillow_uses_ffmpeg(synthetic, monkeypatch):
    require("ffmpeg")
    image = synthetic / "aa" / "val" / "r_1.png"
    expected = read_rgba(image)
    monkeypatch.setitem(sys.modules, "PIL", None)  # "import PIL" now fails
    assert np.array_equal(read_rgba(image), expected) and np.array_equal(_read_rgba_ffmpeg(image), expected)


def test_look_at_points_minus_z_at_target():
    eye, target = torch.tensor([2.0, -1.0, 3.0]), torch.tensor([0.5, 0.2, -0.1])
    pose = paths.look_at(eye, target, (0, 0, 1))
    forward = -pose[:3, 2]
    assert torch.allclose(forward, (target - eye) / (target - eye).norm(), atol=1e-6)
    assert torch.allclose(pose[:3, :3].T @ pose[:3, :3], torch.eye(3), atol=1e-6) and torch.det(pose[:3, :3]) > 0
    assert pose[2, 1] > 0  # +y leans towards the up vector
    straight_down = paths.look_at((0, 0, 5), (0, 0, 0), (0, 0, 1))  # up parallel to the view: still a rotation
    assert torch.allclose(-straight_down[:3, 2], torch.tensor([0.0, 0, -1])) and torch.isfinite(straight_down).all()


def test_orbit_circles_the_focus_point_at_constant_radius():
    centre = torch.tensor([0.3, -0.2, 0.5])
    rng = np.random.default_rng(1)
    eyes = [
        centre.numpy() + 3.0 * np.array([math.cos(a) * math.cos(e), math.sin(a) * math.cos(e), math.sin(e)])
        for a, e in zip(rng.uniform(0, 2 * math.pi, 20), rng.uniform(0.2, 1.2, 20))
    ]
    poses = torch.stack([paths.look_at(eye, centre, (0, 0, 1)) for eye in eyes])
    orbit = paths.orbit(poses, 16)
    assert orbit.shape == (16, 4, 4) and orbit.dtype == torch.float32
    to_centre = centre - orbit[:, :3, 3]
    radius = to_centre.norm(dim=-1)
    assert radius.sub(3.0).abs().max() < 1e-4  # the cameras' own distance
    assert torch.allclose(-orbit[:, :3, 2], to_centre / radius[:, None], atol=1e-5)
    assert orbit[:, 2, 3].sub(orbit[0, 2, 3]).abs().max() < 1e-4  # one height: a level circle


def test_spiral_and_camera_files(tmp_path):
    base = paths.look_at((0, 0, 0), (0, 0, -1), (0, 1, 0))
    poses = torch.stack([base.clone() for _ in range(5)])
    poses[:, :3, 3] = torch.tensor([[0.1 * k - 0.2, 0.05 * (k % 2), 0.0] for k in range(5)])
    spiral = paths.spiral(poses, 12, rotations=2)
    assert spiral.shape == (12, 4, 4) and torch.isfinite(spiral).all()
    assert (spiral[:, 2, 2] > 0.95).all()  # every frame still looks down -z (its back axis is +z)
    (tmp_path / "list.json").write_text(json.dumps(spiral[:3].tolist()))
    (tmp_path / "frames.json").write_text(
        json.dumps({"frames": [{"transform_matrix": m} for m in spiral[:2, :3].tolist()]})
    )
    assert torch.allclose(paths.load_cameras(tmp_path / "list.json"), spiral[:3])
    assert torch.allclose(paths.load_cameras(tmp_path / "frames.json"), spiral[:2])
    (tmp_path / "bad.json").write_text('{"frames": []}')
    with pytest.raises(MediaError, match="bad.json"):
        paths.load_cameras(tmp_path / "bad.json")


def make_llff(root, n=10, size=(12, 16)):
    """A fake LLFF folder: forward-facing OpenGL poses stored with LLFF's [down, right, back] axes."""
    h, w = size
    poses = []
    for k in range(n):
        eye = np.array([0.3 * math.cos(k), 0.2 * math.sin(k), 0.1 * k / n])
        poses.append(paths.look_at(eye, (0.05 * k, 0, -5.0), (0, 1, 0)).double().numpy())
    poses = np.stack(poses)  # (N, 4, 4) OpenGL
    llff = np.concatenate(
        [
            -poses[:, :3, 1:2],
            poses[:, :3, 0:1],
            poses[:, :3, 2:4],
            np.broadcast_to(np.array([h, w, 20.0])[None, :, None], (n, 3, 1)),
        ],
        axis=2,
    )  # (N, 3, 5)
    bounds = np.stack([np.full(n, 2.0), np.linspace(8.0, 10.0, n)], axis=1)
    np.save(root / "poses_bounds.npy", np.concatenate([llff.reshape(n, 15), bounds], axis=1))
    (root / "images").mkdir()
    for k in range(n):
        colour = np.array([20 * k, 100, 255 - 20 * k, 255], np.uint8)
        (root / "images" / f"IMG_{k:03d}.png").write_bytes(png_bytes(np.broadcast_to(colour, (h, w, 4)).copy()))
    return poses


def test_llff_loader_recovers_poses_and_holds_out_every_8th(tmp_path):
    original = torch.from_numpy(make_llff(tmp_path))
    data = load_dataset(tmp_path)
    loaded = data.poses.double()
    assert data.images.shape == (10, 12, 16, 3) and data.focal == pytest.approx(20.0)
    assert (
        data.splits["test"] == [0, 8]
        and data.splits["train"] == [1, 2, 3, 4, 5, 6, 7, 9]
        and data.splits["val"] == [0, 8]
    )
    assert torch.allclose(data.images[3, 0, 0], torch.tensor([60, 100, 195]) / 255.0)
    assert data.alpha is None  # opaque photos: nothing to carve with
    # recentring is one rigid motion and rescaling one factor: relative rotations and distance ratios survive
    rel = lambda p: p[:, None, :3, :3].transpose(-1, -2) @ p[None, :, :3, :3]  # noqa: E731  (N, N, 3, 3)
    assert torch.allclose(rel(loaded), rel(original), atol=1e-5)
    scale = 1 / (2.0 * 0.75)
    dist = lambda p: torch.cdist(p[:, :3, 3], p[:, :3, 3])  # noqa: E731
    assert torch.allclose(dist(loaded), scale * dist(original), atol=1e-5)
    assert data.near == pytest.approx(0.9 * 2.0 * scale) and data.far == pytest.approx(10.0 * scale)
    # the average camera is now the identity; the cameras look down -z at content inside the aabb
    assert torch.allclose(paths.average_pose(loaded), torch.eye(4), atol=1e-5)
    seen = loaded[:, :3, 3] - loaded[:, :3, 2] * 5.0 * scale
    assert ((seen > data.aabb[0]) & (seen < data.aabb[1])).all()
    assert load_dataset(tmp_path, downscale=2).focal == pytest.approx(10.0)


def test_llff_image_count_mismatch(tmp_path):
    make_llff(tmp_path)
    (tmp_path / "images" / "IMG_009.png").unlink()
    with pytest.raises(MediaError, match="9 images but poses_bounds.npy has 10 rows"):
        load_dataset(tmp_path)


def test_bad_input_names_the_file(tmp_path):
    with pytest.raises(UsageError, match="no such dataset"):
        load_dataset(tmp_path / "nope")
    with pytest.raises(UsageError, match="empty.*transforms_train.json.*poses_bounds.npy"):
        load_dataset(tmp_path)
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(UsageError, match="not a NeRF dataset"):
        load_dataset(tmp_path)
    frame = {"file_path": "./train/r_0", "transform_matrix": np.eye(4).tolist()}
    (tmp_path / "transforms_train.json").write_text(json.dumps({"camera_angle_x": 0.7, "frames": [frame]}))
    with pytest.raises(MediaError, match=r"train/r_0\.png: image not found \(listed in transforms_train.json\)"):
        load_dataset(tmp_path)
    (tmp_path / "transforms_train.json").write_text(json.dumps({"camera_angle_x": 0.7, "frames": []}))
    with pytest.raises(MediaError, match="transforms_train.json: no frames"):
        load_dataset(tmp_path)
    with pytest.raises(UsageError, match="background"):
        load_dataset(tmp_path, background="pink")


def test_blender_size_mismatch_and_missing_test_split(tmp_path):
    (tmp_path / "train").mkdir()
    for k, size in enumerate([(8, 8), (8, 8), (6, 8)]):
        (tmp_path / "train" / f"r_{k}.png").write_bytes(png_bytes(np.zeros(size + (4,), np.uint8)))
    frames = [{"file_path": f"./train/r_{k}", "transform_matrix": np.eye(4).tolist()} for k in range(3)]
    (tmp_path / "transforms_train.json").write_text(json.dumps({"camera_angle_x": 0.7, "frames": frames[:2]}))
    (tmp_path / "transforms_val.json").write_text(json.dumps({"camera_angle_x": 0.7, "frames": frames[:1]}))
    data = load_dataset(tmp_path)
    assert data.splits == {"train": [0, 1], "val": [2], "test": [2]}  # test falls back to val
    (tmp_path / "transforms_val.json").write_text(json.dumps({"camera_angle_x": 0.7, "frames": frames[2:]}))
    with pytest.raises(MediaError, match=r"r_2\.png: image is 8x6, r_0\.png is 8x8"):
        load_dataset(tmp_path)
