"""Radiance fields: the paper's NeRF and an instant-ngp style hash grid with an occupancy grid.

Both answer `render_rays(origins (R, 3), dirs (R, 3), background (3,), train) -> {rgb, depth, acc}`;
`before_step` lets a field maintain state between optimiser steps (the occupancy grid) and
`param_groups` gives the optimiser its groups. Everything runs on whatever device the inputs are on.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from aitk.nerf.config import NerfConfig
from aitk.nerf.hull import visual_hull
from aitk.nerf.render import (
    packed_transmittance,
    positional_encoding,
    ray_aabb,
    sample_pdf,
    volume_render,
    volume_render_packed,
)
from aitk.nerf.scene import PosedImages

PRIMES = (1, 2654435761, 805459861)  # instant-ngp's spatial hash; the int32 view of each wraps like uint32
GRID_WARMUP_STEPS = 64  # occupancy grid: full rewrite every GRID_WARMUP_EVERY steps until then (NERF-NOTES)
GRID_WARMUP_EVERY = 8
GRID_UPDATE_EVERY = 16  # then a decayed-max partial update this often
GRID_DECAY = 0.95
GRID_WARMUP_RES = 64  # the last full rewrite evaluates one point per cell of a grid this coarse; earlier ones half
GRID_SAMPLE_FRACTION = 1 / 64  # a partial update evaluates this share of all cells, and as many occupied ones
ALPHA_THRESHOLD = 0.01  # a cell is occupied while one step through it would stop >= 1% of the light
ERT_TRANSMITTANCE = 1e-3  # training drops samples behind this transmittance (early ray termination)
CHUNK = 1 << 16  # points per no-grad density evaluation
HULL_RES = 64  # the visual hull is carved on a grid this fine, then upsampled to the occupancy grid


def _as_int32(value: int) -> int:
    return value - (1 << 32) if value >= (1 << 31) else value


class RadianceField(nn.Module):
    """What the trainer and renderer need from a field."""

    def render_rays(
        self, origins: torch.Tensor, dirs: torch.Tensor, background: torch.Tensor, train: bool
    ) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def prepare(self, data: PosedImages) -> None:
        """Called once before training from scratch, with the training views; a no-op unless the field uses them."""

    def before_step(self, step: int, total_steps: int | None) -> None:
        """Called before every optimiser step (0-based); a no-op unless the field keeps state."""

    def param_groups(self, lr: float) -> list[dict]:
        return [{"params": [p for p in self.parameters() if p.requires_grad], "lr": lr}]


# --- the paper's model ---------------------------------------------------------------------------------


class NerfMLP(nn.Module):
    """8 x 256 ReLU layers with the input re-injected at layer 4, a density head and a view-dependent colour branch."""

    def __init__(self, width: int = 256, depth: int = 8, pos_freqs: int = 10, dir_freqs: int = 4):
        super().__init__()
        self.pos_freqs, self.dir_freqs = pos_freqs, dir_freqs
        pos_dim, dir_dim = 3 + 6 * pos_freqs, 3 + 6 * dir_freqs
        self.skip = depth // 2
        self.layers = nn.ModuleList(
            nn.Linear(pos_dim if i == 0 else width + (pos_dim if i == self.skip else 0), width) for i in range(depth)
        )
        self.sigma = nn.Linear(width, 1)
        self.feature = nn.Linear(width, width)
        self.colour = nn.Sequential(nn.Linear(width + dir_dim, width // 2), nn.ReLU(), nn.Linear(width // 2, 3))

    def forward(self, points: torch.Tensor, dirs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """points (..., 3), dirs (..., 3) -> sigma (...), rgb (..., 3)."""
        x_enc = positional_encoding(points, self.pos_freqs)
        h = x_enc
        for i, layer in enumerate(self.layers):
            h = torch.relu(layer(torch.cat([h, x_enc], -1) if i == self.skip else h))
        sigma = torch.relu(self.sigma(h)).squeeze(-1)
        rgb = torch.sigmoid(self.colour(torch.cat([self.feature(h), positional_encoding(dirs, self.dir_freqs)], -1)))
        return sigma, rgb


class VanillaNeRF(RadianceField):
    """Coarse + fine NeRF: stratified samples in [near, far], then importance samples from the coarse weights."""

    def __init__(self, config: NerfConfig, near: float, far: float):
        super().__init__()
        self.near, self.far = near, far
        self.n_coarse, self.n_fine = config.nerf_coarse_samples, config.nerf_fine_samples
        self.coarse = NerfMLP(config.nerf_width, config.nerf_depth)
        self.fine = NerfMLP(config.nerf_width, config.nerf_depth) if self.n_fine > 0 else None

    def _query(self, mlp: NerfMLP, origins, dirs, t_vals, background) -> dict[str, torch.Tensor]:
        points = origins[:, None] + t_vals[..., None] * dirs[:, None]  # (R, S, 3)
        sigma, rgb = mlp(points, dirs[:, None].expand_as(points))
        return volume_render(sigma, rgb, t_vals, None, background)

    def render_rays(self, origins, dirs, background, train):
        n_rays = origins.shape[0]
        edges = torch.linspace(self.near, self.far, self.n_coarse + 1, device=origins.device)  # (Nc+1,)
        lower, width = edges[:-1].expand(n_rays, -1), edges[1:] - edges[:-1]
        u = torch.rand_like(lower) if train else torch.full_like(lower, 0.5)
        t_coarse = lower + u * width  # (R, Nc) stratified
        coarse = self._query(self.coarse, origins, dirs, t_coarse, background)
        if self.fine is None:
            return {k: coarse[k] for k in ("rgb", "depth", "acc")}
        mids = 0.5 * (t_coarse[:, 1:] + t_coarse[:, :-1])
        bins = torch.cat([edges[:1].expand(n_rays, 1), mids, edges[-1:].expand(n_rays, 1)], -1)  # (R, Nc+1)
        t_fine = sample_pdf(bins, coarse["weights"].detach(), self.n_fine, deterministic=not train)
        t_all = torch.sort(torch.cat([t_coarse, t_fine], -1), -1).values
        fine = self._query(self.fine, origins, dirs, t_all, background)
        out = {k: fine[k] for k in ("rgb", "depth", "acc")}
        if train:
            out["rgb_coarse"] = coarse["rgb"]
        return out


# --- hash grid ----------------------------------------------------------------------------------------


class _HashLookup(torch.autograd.Function):
    """sum_c w[l, c, n] * table[idx[l, c, n]] -> (N, L*F); the backward accumulates with index_add.

    The built-in embedding backward took most of a CPU step (NERF-NOTES); index_add over the flat
    int64 indices is the same sum, far faster (int32 indices make CPU index_add 6x slower). No
    gradient flows to the weights: sample positions are fixed.
    """

    @staticmethod
    def forward(ctx, table: torch.Tensor, idx: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        levels, corners, n = weights.shape
        features = table.shape[1]
        vals = table.index_select(0, idx.reshape(-1)).view(levels, corners, n, features)  # (L, 8, N, F)
        ctx.save_for_backward(idx, weights)
        ctx.table_shape = table.shape
        return (vals * weights[..., None]).sum(1).permute(1, 0, 2).reshape(n, levels * features)  # (N, L*F)

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):
        idx, weights = ctx.saved_tensors
        levels, _, n = weights.shape
        grad = grad_out.reshape(n, levels, ctx.table_shape[1]).permute(1, 0, 2)  # (L, N, F)
        contrib = weights[..., None] * grad[:, None]  # (L, 8, N, F)
        grad_table = grad_out.new_zeros(ctx.table_shape)
        grad_table.index_add_(0, idx.reshape(-1), contrib.reshape(-1, ctx.table_shape[1]))
        return grad_table, None, None


def hash_lookup(table: torch.Tensor, idx: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Features (N, L*F) from table rows idx (L, 8, N) int64 and trilinear weights (L, 8, N)."""
    return _HashLookup.apply(table, idx, weights)


class HashEncoding(nn.Module):
    """Multiresolution hash encoding: points in [0, 1]^3 (N, 3) -> features (N, levels * features).

    Level l has a grid of res_l = floor(base * b^l) cells per axis (b geometric from base to max);
    levels whose (res_l + 1)^3 vertices fit in 2^log2_size are indexed densely, finer ones hashed.
    All levels share one table (sum of sizes, features) with per-level offsets. Index arithmetic
    runs as (L, ..., N) so that every op streams over the long N axis, in int32 (wrapping like the
    uint32 hash: the low bits that the mask keeps are the same).
    """

    def __init__(
        self, levels: int = 16, features: int = 2, log2_size: int = 19, base_res: int = 16, max_res: int = 1024
    ):
        super().__init__()
        growth = math.exp((math.log(max_res) - math.log(base_res)) / max(levels - 1, 1))
        res = [int(math.floor(base_res * growth**level)) for level in range(levels)]
        size_cap = 1 << log2_size
        sizes, mult, offsets, dense = [], [], [0], []
        for r in res:
            is_dense = (r + 1) ** 3 <= size_cap
            dense.append(is_dense)
            sizes.append((r + 1) ** 3 if is_dense else size_cap)
            mult.append([1, r + 1, (r + 1) ** 2] if is_dense else [_as_int32(p) for p in PRIMES])
            offsets.append(offsets[-1] + sizes[-1])
        self.n_dense = sum(dense)  # levels are coarse to fine, so the dense ones come first
        self.out_dim = levels * features
        self.hash_mask = size_cap - 1
        self.register_buffer(
            "res", torch.tensor(res, dtype=torch.float32)[:, None, None], persistent=False
        )  # (L, 1, 1)
        self.register_buffer("mult", torch.tensor(mult, dtype=torch.int32)[:, :, None], persistent=False)  # (L, 3, 1)
        self.register_buffer("offsets", torch.tensor(offsets[:-1])[:, None, None], persistent=False)  # (L, 1, 1)
        self.table = nn.Parameter(torch.empty(offsets[-1], features).uniform_(-1e-4, 1e-4))

    def corners(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Table rows (L, 8, N) int64 and trilinear weights (L, 8, N) of the 8 corners around each point."""
        n_levels, n = self.res.shape[0], x.shape[0]
        pos = x.clamp(0.0, 1.0).T[None] * self.res  # (L, 3, N)
        cell = torch.minimum(pos.floor(), self.res - 1)
        frac = pos - cell
        lo = cell.to(torch.int32) * self.mult  # (L, 3, N) per-axis terms of the index
        axis = torch.stack([lo, lo + self.mult], 2)  # (L, 3, 2, N)
        ax, ay, az = axis[:, 0, :, None, None], axis[:, 1, None, :, None], axis[:, 2, None, None, :]
        nd = self.n_dense
        dense = ax[:nd] + ay[:nd] + az[:nd]  # (Ld, 2, 2, 2, N)
        hashed = (ax[nd:] ^ ay[nd:] ^ az[nd:]) & self.hash_mask
        idx = torch.cat([dense, hashed]).reshape(n_levels, 8, n).long() + self.offsets  # (L, 8, N)
        w = torch.stack([1 - frac, frac], 2)  # (L, 3, 2, N)
        weights = (w[:, 0, :, None, None] * w[:, 1, None, :, None] * w[:, 2, None, None, :]).reshape(n_levels, 8, n)
        return idx, weights

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        idx, weights = self.corners(x)
        return hash_lookup(self.table, idx, weights)


class _TruncExp(torch.autograd.Function):
    """exp with its gradient clamped at exp(15): instant-ngp's density activation."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.exp(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * torch.exp(x.clamp(max=15))


def spherical_harmonics(dirs: torch.Tensor) -> torch.Tensor:
    """Real SH basis up to degree 3 of unit directions (N, 3) -> (N, 16)."""
    x, y, z = dirs.unbind(-1)
    xx, yy, zz, xy, yz, xz = x * x, y * y, z * z, x * y, y * z, x * z
    return torch.stack(
        [
            torch.full_like(x, 0.28209479177387814),
            -0.48860251190291987 * y,
            0.48860251190291987 * z,
            -0.48860251190291987 * x,
            1.0925484305920792 * xy,
            -1.0925484305920792 * yz,
            0.94617469575755997 * zz - 0.31539156525251999,
            -1.0925484305920792 * xz,
            0.54627421529603959 * (xx - yy),
            0.59004358992664352 * y * (-3.0 * xx + yy),
            2.8906114426405538 * xy * z,
            0.45704579946446572 * y * (1.0 - 5.0 * zz),
            0.3731763325901154 * z * (5.0 * zz - 3.0),
            0.45704579946446572 * x * (1.0 - 5.0 * zz),
            1.4453057213202769 * z * (xx - yy),
            0.59004358992664352 * x * (-xx + 3.0 * yy),
        ],
        -1,
    )


class FastNeRF(RadianceField):
    """Hash encoding -> 1x64 density MLP (16 outputs: log-density + geometry features) -> 2x64 colour MLP on SH(dir).

    Rays march in fixed steps through the aabb; only samples in occupied cells of the occupancy
    grid reach the networks. The grid lives in buffers, so it is saved with the state dict.
    """

    def __init__(self, config: NerfConfig, aabb: torch.Tensor, near: float, far: float):
        super().__init__()
        self.near, self.far = near, far
        self.register_buffer("aabb", aabb.detach().clone().float().reshape(2, 3))
        self.encoding = HashEncoding(
            config.hash_levels,
            config.hash_features,
            config.hash_log2_size,
            config.hash_base_resolution,
            config.hash_max_resolution,
        )
        self.density_net = nn.Sequential(nn.Linear(self.encoding.out_dim, 64), nn.ReLU(), nn.Linear(64, 16))
        self.colour_net = nn.Sequential(
            nn.Linear(15 + 16, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 3)
        )
        self.grid_res = config.occupancy_resolution
        self.step_size = float((self.aabb[1] - self.aabb[0]).norm()) / config.max_samples
        self.register_buffer("density_grid", torch.zeros(self.grid_res**3))
        self.register_buffer("occupied", torch.ones(self.grid_res**3, dtype=torch.bool))
        self.register_buffer("hull", torch.ones(self.grid_res**3, dtype=torch.bool))  # cells the views allow

    # networks

    def _normalise(self, points: torch.Tensor) -> torch.Tensor:
        return (points - self.aabb[0]) / (self.aabb[1] - self.aabb[0])

    def density(self, points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """points (N, 3) world -> sigma (N,), geometry features (N, 15)."""
        h = self.density_net(self.encoding(self._normalise(points)))
        return _TruncExp.apply(h[:, 0]), h[:, 1:]

    def colour(self, features: torch.Tensor, sh: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.colour_net(torch.cat([features, sh], -1)))

    def param_groups(self, lr):
        nets = [p for name, p in self.named_parameters() if not name.startswith("encoding.")]
        return [
            {"params": [self.encoding.table], "lr": lr, "eps": 1e-15},
            {"params": nets, "lr": lr, "eps": 1e-15, "weight_decay": 1e-6},
        ]

    # occupancy grid

    def _cell_index(self, points: torch.Tensor) -> torch.Tensor:
        cell = (self._normalise(points) * self.grid_res).long().clamp(0, self.grid_res - 1)  # (N, 3)
        return (cell[:, 0] * self.grid_res + cell[:, 1]) * self.grid_res + cell[:, 2]

    @torch.no_grad()
    def _cell_density(self, cells: torch.Tensor, res: int) -> torch.Tensor:
        """Density at a random point inside each of the flat `cells` (M,) of a res^3 grid over the aabb."""
        ijk = torch.stack([cells // (res * res), (cells // res) % res, cells % res], -1).float()
        points = self.aabb[0] + (ijk + torch.rand_like(ijk)) / res * (self.aabb[1] - self.aabb[0])
        return torch.cat([self.density(chunk)[0] for chunk in points.split(CHUNK)])

    @torch.no_grad()
    def update_grid(self, full: bool, res: int = GRID_WARMUP_RES) -> None:
        """Full: every cell takes the current density of its parent in a grid of at most res^3 cells
        (a few points per cell would cost seconds on a CPU). Partial: decay all cells, re-evaluate a
        random sample of cells and of occupied cells, keep the max (instant-ngp's update)."""
        r = self.grid_res
        n = r**3
        device = self.aabb.device
        if full:
            coarse = min(r, res)
            values = self._cell_density(torch.arange(coarse**3, device=device), coarse).view(
                coarse, 1, coarse, 1, coarse, 1
            )
            k = r // coarse
            self.density_grid.copy_(values.expand(-1, k, -1, k, -1, k).reshape(-1))
        else:
            m = max(1, int(n * GRID_SAMPLE_FRACTION))
            occupied = self.occupied.nonzero().squeeze(1)
            cells = torch.cat(
                [
                    torch.randint(0, n, (m,), device=device),
                    occupied[torch.randint(0, len(occupied), (min(m, len(occupied)),), device=device)],
                ]
            )
            fresh = self._cell_density(cells, r)
            self.density_grid.mul_(GRID_DECAY)
            self.density_grid.scatter_reduce_(0, cells, fresh, reduce="amax")
        threshold = min(float(self.density_grid.mean()), ALPHA_THRESHOLD / self.step_size)
        self.occupied.copy_((self.density_grid > threshold) & self.hull)

    def prepare(self, data):
        """Where the views have alpha, start the occupancy grid from their visual hull (see hull.py)."""
        if data.alpha is None:
            return
        r = self.grid_res
        coarse = min(r, HULL_RES) if r % min(r, HULL_RES) == 0 else r
        hull = visual_hull(self.aabb.cpu(), coarse, data.poses, data.alpha, data.focal, data.cx, data.cy)
        k = r // coarse
        hull = hull.view(coarse, 1, coarse, 1, coarse, 1).expand(-1, k, -1, k, -1, k).reshape(-1)
        self.hull.copy_(hull.to(self.hull.device))
        self.occupied.copy_(self.hull)

    def before_step(self, step, total_steps):
        # The grid starts all occupied; the first rewrites are coarse (the young field is smooth).
        if 0 < step < GRID_WARMUP_STEPS and step % GRID_WARMUP_EVERY == 0:
            self.update_grid(full=True, res=GRID_WARMUP_RES // 2)
        elif step == GRID_WARMUP_STEPS:
            self.update_grid(full=True, res=GRID_WARMUP_RES)
        elif step > GRID_WARMUP_STEPS and step % GRID_UPDATE_EVERY == 0:
            self.update_grid(full=False)

    # rendering

    def march(self, origins: torch.Tensor, dirs: torch.Tensor, train: bool):
        """Packed samples in occupied cells: ray_idx (N,) sorted, t (N,). Steps are step_size apart
        from the box entry, with one random offset per ray when training."""
        t_near, t_far, hit = ray_aabb(origins, dirs, self.aabb)
        t_near, t_far = t_near.clamp_min(self.near), t_far.clamp_max(self.far)
        n_steps = torch.where(hit & (t_far > t_near), ((t_far - t_near) / self.step_size).ceil(), 0).long()  # (R,)
        ray_idx = torch.repeat_interleave(torch.arange(len(origins), device=origins.device), n_steps)  # (M,)
        first = torch.cumsum(n_steps, 0) - n_steps
        k = torch.arange(len(ray_idx), device=origins.device) - first[ray_idx]
        offset = torch.rand(len(origins), device=origins.device) if train else torch.full_like(t_near, 0.5)
        t = t_near[ray_idx] + (k + offset[ray_idx]) * self.step_size
        keep = (t < t_far[ray_idx]) & self.occupied[self._cell_index(origins[ray_idx] + t[:, None] * dirs[ray_idx])]
        return ray_idx[keep], t[keep]

    def _terminate_early(self, points, ray_idx, t, n_rays):
        """Drop samples behind transmittance ERT_TRANSMITTANCE, judged by a no-grad density pass."""
        with torch.no_grad():
            sigma = torch.cat([self.density(chunk)[0] for chunk in points.split(CHUNK)])
            trans = packed_transmittance(sigma * self.step_size, ray_idx)
            return trans > ERT_TRANSMITTANCE

    def render_rays(self, origins, dirs, background, train):
        n_rays = len(origins)
        ray_idx, t = self.march(origins, dirs, train)
        points = origins[ray_idx] + t[:, None] * dirs[ray_idx]
        if len(t) and train:
            keep = self._terminate_early(points, ray_idx, t, n_rays)
            ray_idx, t, points = ray_idx[keep], t[keep], points[keep]
        sigma, features = self.density(points)
        sh = spherical_harmonics(dirs)[ray_idx]
        rgb = self.colour(features, sh)
        out = volume_render_packed(sigma, rgb, t, torch.full_like(t, self.step_size), ray_idx, n_rays, background)
        return {"rgb": out["rgb"], "depth": out["depth"], "acc": out["acc"], "samples": torch.tensor(len(t))}


def build_field(config: NerfConfig, aabb: torch.Tensor, near: float, far: float) -> RadianceField:
    """The field `config.method` names: "fast" (hash grid) or "nerf" (the paper's model)."""
    if config.method == "fast":
        return FastNeRF(config, aabb, near, far)
    if config.method == "nerf":
        return VanillaNeRF(config, near, far)
    raise ValueError(f"unknown NeRF method {config.method!r} (use 'fast' or 'nerf')")
