"""The NeRF core: compositing against closed forms, encodings, PDF sampling, training and resuming."""

from __future__ import annotations

import math

import pytest
import torch

from aitk.engine.progress import Log, Recorder, TaskAdvanced, TaskFinished, TaskStarted
from aitk.nerf.config import NerfConfig
from aitk.nerf.fields import FastNeRF, HashEncoding, VanillaNeRF, build_field, hash_lookup
from aitk.nerf.hull import visual_hull
from aitk.nerf.render import positional_encoding, ray_aabb, sample_pdf, volume_render, volume_render_packed
from aitk.nerf.scene import PosedImages, pixel_rays
from aitk.nerf.train import evaluate_psnr, load_field, render_image, train

BLACK, WHITE = torch.zeros(3), torch.ones(3)


# --- compositing --------------------------------------------------------------------------------------


@pytest.mark.parametrize("sigma, length", [(0.5, 2.0), (3.0, 0.4), (0.1, 1.0)])
def test_constant_density_matches_beer_lambert(sigma, length):
    n = 64
    deltas = torch.full((1, n), length / n)
    t = torch.cumsum(deltas, -1) - deltas / 2
    out = volume_render(torch.full((1, n), sigma), torch.zeros(1, n, 3), t, deltas, WHITE)
    assert out["acc"].item() == pytest.approx(1 - math.exp(-sigma * length), rel=1e-5)
    assert out["rgb"][0].tolist() == pytest.approx([math.exp(-sigma * length)] * 3, rel=1e-5)  # black medium over white
    # transmittance in front of sample i is exp(-sigma * i * delta): recover it from the weights
    alpha = 1 - math.exp(-sigma * length / n)
    trans = out["weights"][0] / alpha
    expected = torch.exp(-sigma * torch.arange(n) * length / n)
    assert torch.allclose(trans, expected, rtol=1e-5)


def test_opaque_slab_returns_its_colour_and_depth():
    sigmas = torch.zeros(2, 16)
    sigmas[0, 5], sigmas[1, 11] = 1e6, 1e6
    t = torch.linspace(2, 6, 16).expand(2, 16)
    rgbs = torch.rand(2, 16, 3)
    out = volume_render(sigmas, rgbs, t, None, WHITE)
    assert torch.allclose(out["rgb"], torch.stack([rgbs[0, 5], rgbs[1, 11]]), atol=1e-5)
    assert torch.allclose(out["depth"], torch.stack([t[0, 5], t[1, 11]]), atol=1e-4)
    assert torch.allclose(out["acc"], torch.ones(2))


def test_infinite_last_delta_keeps_weights_a_distribution():
    # the paper's layout: the last sample's delta is 1e10, so a dense last sample absorbs what is left
    sigmas = torch.tensor([[0.1, 0.2, 50.0, 3.0]])
    out = volume_render(sigmas, torch.rand(1, 4, 3), torch.tensor([[2.0, 3.0, 4.0, 5.0]]), None, WHITE)
    assert out["acc"].item() == pytest.approx(1.0, abs=1e-6)
    assert (out["weights"] >= 0).all() and out["weights"][0, 3] < 1e-6


def test_empty_space_shows_the_background():
    bg = torch.tensor([0.2, 0.4, 0.6])
    out = volume_render(torch.zeros(3, 8), torch.rand(3, 8, 3), torch.linspace(2, 6, 8).expand(3, 8), None, bg)
    assert torch.allclose(out["rgb"], bg.expand(3, 3))
    assert torch.equal(out["acc"], torch.zeros(3))


def test_packed_rendering_matches_dense_and_its_gradients():
    torch.manual_seed(0)
    sigmas = (torch.rand(4, 10) * 3).requires_grad_()
    rgbs, t = torch.rand(4, 10, 3), torch.sort(torch.rand(4, 10) * 4 + 2, -1).values
    deltas = torch.full((4, 10), 0.3)
    dense = volume_render(sigmas, rgbs, t, deltas, BLACK)
    ray_idx = torch.arange(4).repeat_interleave(10)
    packed = volume_render_packed(
        sigmas.reshape(-1), rgbs.reshape(-1, 3), t.reshape(-1), deltas.reshape(-1), ray_idx, 5, BLACK
    )
    for key in ("rgb", "depth", "acc"):
        assert torch.allclose(packed[key][:4], dense[key], atol=1e-5)
    assert packed["acc"][4] == 0 and torch.equal(packed["rgb"][4], BLACK)  # a ray with no samples
    (g_dense,) = torch.autograd.grad(dense["rgb"].sum(), sigmas)
    (g_packed,) = torch.autograd.grad(packed["rgb"].sum(), sigmas)
    assert torch.allclose(g_dense, g_packed, atol=1e-5)


def test_ray_aabb():
    origins = torch.tensor([[0.0, 0.0, 4.0], [0.0, 0.0, 4.0], [0.0, 0.0, 0.0]])
    dirs = torch.tensor([[0.0, 0.0, -1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    t_near, t_far, hit = ray_aabb(origins, dirs, torch.tensor([[-1.0] * 3, [1.0] * 3]))
    assert hit.tolist() == [True, False, True]
    assert t_near[0].item() == pytest.approx(3.0) and t_far[0].item() == pytest.approx(5.0)
    assert t_near[2].item() == 0.0 and t_far[2].item() == pytest.approx(1.0)  # starts inside


def test_sample_pdf_follows_the_weights():
    bins = torch.linspace(0, 1, 11).expand(2, 11)
    weights = torch.zeros(2, 10)
    weights[0, 3], weights[1, 7] = 1.0, 1.0
    for deterministic in (False, True):
        samples = sample_pdf(bins, weights, 200, deterministic)
        assert samples.shape == (2, 200)
        assert ((samples[0] >= 0.3) & (samples[0] <= 0.4)).float().mean() > 0.9
        assert ((samples[1] >= 0.7) & (samples[1] <= 0.8)).float().mean() > 0.9
    assert torch.equal(sample_pdf(bins, weights, 50, True), sample_pdf(bins, weights, 50, True))


# --- encodings ----------------------------------------------------------------------------------------


def test_positional_encoding_shape_and_values():
    x = torch.rand(5, 7, 3)
    enc = positional_encoding(x, 10)
    assert enc.shape == (5, 7, 3 + 2 * 3 * 10)
    assert torch.equal(enc[..., :3], x)
    assert torch.equal(enc, positional_encoding(x, 10))
    assert positional_encoding(x, 4, include_input=False).shape == (5, 7, 24)
    assert torch.allclose(enc[..., 3:6], torch.sin(x))


def test_hash_encoding_shapes_indices_and_determinism():
    enc = HashEncoding(levels=6, features=2, log2_size=12, base_res=4, max_res=64)
    assert 0 < enc.n_dense < 6  # coarse levels dense, fine levels hashed
    x = torch.rand(300, 3)
    out = enc(x)
    assert out.shape == (300, 12)
    assert torch.equal(out, enc(x))
    idx, weights = enc.corners(x)
    assert idx.shape == weights.shape == (6, 8, 300)
    assert torch.allclose(weights.sum(1), torch.ones(6, 300))
    ends = torch.cat([enc.offsets.flatten()[1:], torch.tensor([len(enc.table)])])
    assert (idx >= enc.offsets).all() and (idx < ends[:, None, None]).all()  # each level stays in its slice
    # a point on a vertex of a dense level reads exactly that vertex
    corner = torch.tensor([[0.25, 0.5, 0.75]])
    i, w = enc.corners(corner)
    res = int(enc.res[0])
    vertex = round(0.25 * res) + round(0.5 * res) * (res + 1) + round(0.75 * res) * (res + 1) ** 2
    assert i[0, w[0, :, 0].argmax(), 0] == vertex


def test_hash_lookup_backward_matches_autograd_of_a_plain_gather():
    torch.manual_seed(0)
    table = torch.randn(50, 3, dtype=torch.float64, requires_grad=True)
    idx = torch.randint(0, 50, (4, 8, 20))  # repeats included: gradients must accumulate
    weights = torch.rand(4, 8, 20, dtype=torch.float64)
    upstream = torch.randn(20, 12, dtype=torch.float64)
    (custom,) = torch.autograd.grad((hash_lookup(table, idx, weights) * upstream).sum(), table)
    plain = (table[idx] * weights[..., None]).sum(1).permute(1, 0, 2).reshape(20, 12)  # (N, L*F)
    assert torch.allclose(hash_lookup(table, idx, weights), plain)
    (reference,) = torch.autograd.grad((plain * upstream).sum(), table)
    assert torch.allclose(custom, reference, atol=1e-12)
    assert torch.autograd.gradcheck(lambda tab: hash_lookup(tab, idx, weights), (table,))


# --- fields -------------------------------------------------------------------------------------------

TINY_FAST = dict(
    method="fast",
    hash_levels=8,
    hash_log2_size=14,
    hash_max_resolution=128,
    occupancy_resolution=32,
    max_samples=128,
    batch_rays=256,
)
TINY_NERF = dict(
    method="nerf", nerf_width=32, nerf_depth=4, nerf_coarse_samples=16, nerf_fine_samples=16, batch_rays=64
)
AABB = torch.tensor([[-1.5] * 3, [1.5] * 3])


@pytest.mark.parametrize("overrides", [TINY_FAST, TINY_NERF])
def test_fields_render_rays_shapes(overrides):
    field = build_field(NerfConfig(**overrides), AABB, 2.0, 6.0)
    assert isinstance(field, FastNeRF if overrides["method"] == "fast" else VanillaNeRF)
    origins, dirs = pixel_rays(6, 5, 5.0, _look_at(torch.tensor([0.0, -4.0, 1.0])))
    for train_mode in (True, False):
        out = field.render_rays(origins, dirs, WHITE, train=train_mode)
        assert out["rgb"].shape == (30, 3) and out["depth"].shape == out["acc"].shape == (30,)
        assert out["rgb"].min() >= 0 and out["rgb"].max() <= 1


def test_occupancy_grid_warms_up_and_prunes():
    field = FastNeRF(NerfConfig(**TINY_FAST), AABB, 2.0, 6.0)
    with torch.no_grad():  # a density that is high only inside a ball of radius 0.5
        field.density_net[-1].bias[0] = -20.0
    original = field.density

    def ball(points):
        sigma, feat = original(points)
        return sigma + 100.0 * (points.norm(dim=-1) < 0.5), feat

    field.density = ball
    assert field.occupied.all()
    for step in range(0, 65):
        field.before_step(step, None)
    occupied = field.occupied.float().mean().item()
    assert 0.0 < occupied < 0.1  # the ball is 2% of the box; coarse warm-up cells are a little wider


def test_visual_hull_keeps_the_sphere_and_carves_the_space_around_it(sphere):
    train_views = sphere.subset("train")
    res = 32
    hull = visual_hull(AABB, res, train_views.poses, train_views.alpha, train_views.focal)
    axis = (torch.arange(res) + 0.5) / res
    centres = AABB[0] + torch.stack(torch.meshgrid(axis, axis, axis, indexing="ij"), -1).reshape(-1, 3) * (
        AABB[1] - AABB[0]
    )
    distance = centres.norm(dim=-1)
    touching = (
        distance < 0.6 + 0.5 * math.sqrt(3) * float(AABB[1, 0] - AABB[0, 0]) / res
    )  # cells the sphere reaches into
    assert hull[touching].all()  # never carves content
    assert hull[distance > 1.2].float().mean() < 0.05  # and carves most of the empty box
    assert 0.02 < hull.float().mean() < 0.2


def test_fast_field_starts_from_the_hull_only_where_views_have_alpha(sphere):
    field = FastNeRF(NerfConfig(**TINY_FAST), AABB, 2.0, 6.0)
    no_alpha = sphere.subset("train")
    no_alpha.alpha = None
    field.prepare(no_alpha)
    assert field.occupied.all()
    field.prepare(sphere.subset("train"))
    assert 0.02 < field.occupied.float().mean() < 0.2 and torch.equal(field.occupied, field.hull)
    field.update_grid(full=True, res=16)  # later updates never reopen carved cells
    assert not (field.occupied & ~field.hull).any()


# --- training -----------------------------------------------------------------------------------------


def _look_at(eye: torch.Tensor) -> torch.Tensor:
    forward = -eye / eye.norm()
    right = torch.linalg.cross(forward, torch.tensor([0.0, 0.0, 1.0]))
    right = right / right.norm()
    up = torch.linalg.cross(right, forward)
    c2w = torch.eye(4)
    c2w[:3, 0], c2w[:3, 1], c2w[:3, 2], c2w[:3, 3] = right, up, -forward, eye
    return c2w


def sphere_scene(size: int = 32, n_train: int = 20, n_test: int = 4, supersample: int = 2) -> PosedImages:
    """A shaded orange sphere (radius 0.6) on white, each pixel the mean of supersample^2 rays."""
    focal = 0.5 * size / math.tan(0.35)
    poses = []
    golden = math.pi * (3 - math.sqrt(5))
    for k in range(n_train):  # spread over the upper hemisphere
        z = 0.1 + 0.85 * (k + 0.5) / n_train
        poses.append(
            _look_at(
                4
                * torch.tensor(
                    [math.sqrt(1 - z * z) * math.cos(golden * k), math.sqrt(1 - z * z) * math.sin(golden * k), z]
                )
            )
        )
    for k in range(n_test):  # a ring between training elevations
        a = 2 * math.pi * (k + 0.3) / n_test
        poses.append(_look_at(4 * torch.tensor([math.cos(a) * 0.9, math.sin(a) * 0.9, 0.4359])))
    light = torch.tensor([0.4, 0.3, 0.866])
    images, alphas = [], []
    offsets = (torch.arange(supersample) + 0.5) / supersample - 0.5
    for c2w in poses:
        acc, coverage = torch.zeros(size * size, 3), torch.zeros(size * size)
        for du in offsets:
            for dv in offsets:
                o, d = pixel_rays(size, size, focal, c2w, jitter=torch.tensor([du, dv]).expand(size * size, 2))
                b = (o * d).sum(-1)
                disc = b * b - (o * o).sum(-1) + 0.36
                t = -b - disc.clamp_min(0).sqrt()
                normal = o + t[:, None] * d
                shade = 0.3 + 0.7 * (normal / 0.6 @ light).clamp_min(0)
                colour = torch.tensor([0.95, 0.5, 0.1]) * shade[:, None]
                acc += torch.where((disc > 0)[:, None], colour, WHITE)
                coverage += (disc > 0).float()
        images.append((acc / supersample**2).reshape(size, size, 3))
        alphas.append((coverage / supersample**2).reshape(size, size))
    return PosedImages(
        torch.stack(images),
        torch.stack(poses),
        focal,
        2.0,
        6.0,
        AABB,
        WHITE,
        {"train": list(range(n_train)), "test": list(range(n_train, n_train + n_test))},
        alpha=torch.stack(alphas),
    )


@pytest.fixture(scope="module")
def sphere() -> PosedImages:
    return sphere_scene()


@pytest.mark.parametrize("overrides", [TINY_FAST, TINY_NERF])
def test_train_reports_checkpoints_and_resumes(sphere, overrides):
    config = NerfConfig(iters=6, checkpoint_every=0.0, **overrides)
    recorder, checkpoints = Recorder(), []
    state = train(sphere, config, torch.device("cpu"), recorder, on_checkpoint=checkpoints.append)
    assert state["step"] == 6 and state["elapsed"] > 0
    assert len(checkpoints) == 7 and checkpoints[-1]["step"] == 6  # every step (checkpoint_every 0) and at the end
    kinds = [type(e) for e in recorder.events]
    assert kinds[0] is TaskStarted and kinds[-1] is TaskFinished and TaskAdvanced in kinds
    advanced = [e for e in recorder.events if isinstance(e, TaskAdvanced)]
    assert advanced[-1].completed == 6  # counted in steps when iters bound the run

    resumed = train(sphere, NerfConfig(iters=9, **overrides), torch.device("cpu"), state=state)
    assert resumed["step"] == 9 and resumed["elapsed"] >= state["elapsed"]
    field = load_field(resumed, torch.device("cpu"))
    out = render_image(field, 8, 10, 10.0, sphere.poses[0], WHITE, chunk=32)
    assert out["rgb"].shape == (8, 10, 3) and out["depth"].shape == out["acc"].shape == (8, 10)


def test_training_is_repeatable(sphere):
    config = NerfConfig(iters=4, **TINY_FAST)
    a = train(sphere, config, torch.device("cpu"))["model"]
    b = train(sphere, config, torch.device("cpu"))["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_time_budget_stops_training_and_logs_held_out_psnr(sphere):
    recorder = Recorder()
    state = train(sphere, NerfConfig(time_budget=1.0, **TINY_FAST), torch.device("cpu"), recorder, eval_every=0.5)
    assert 1.0 <= state["elapsed"] < 3.0
    assert state["history"] and all(h["psnr"] > 0 for h in state["history"])
    assert any(isinstance(e, Log) and "held-out PSNR" in e.message for e in recorder.events)


@pytest.mark.slow
def test_fast_method_learns_a_sphere(sphere):
    # counted in steps, not seconds, so that a busy machine cannot fail it (300 steps: about 20 s on 2 free cores)
    held_out = sphere.subset("test")
    config = NerfConfig(iters=300, hash_log2_size=15, hash_max_resolution=256, occupancy_resolution=64, max_samples=256)
    untrained = evaluate_psnr(build_field(config, sphere.aabb, sphere.near, sphere.far), held_out)
    trained = evaluate_psnr(load_field(train(sphere, config, torch.device("cpu")), torch.device("cpu")), held_out)
    assert untrained < 12
    assert trained > 28, f"held-out PSNR {trained:.2f} dB after 300 steps"
