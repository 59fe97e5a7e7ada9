"""Volume rendering as pure tensor functions: encodings, compositing, PDF sampling, ray-box tests.

Shapes: R rays, S samples per ray (dense layout), N samples in all (packed layout, where every
sample carries the index of its ray and a ray's samples are contiguous and in order of depth).
"""

from __future__ import annotations

import torch


def positional_encoding(x: torch.Tensor, n_freqs: int, include_input: bool = True) -> torch.Tensor:
    """NeRF's encoding: (..., D) -> (..., D + 2*D*n_freqs) as [x, sin(2^k x), cos(2^k x)] for k < n_freqs."""
    freqs = 2.0 ** torch.arange(n_freqs, dtype=x.dtype, device=x.device)  # (F,)
    xb = (x[..., None, :] * freqs[:, None]).flatten(-2)  # (..., F*D)
    enc = torch.cat([torch.sin(xb), torch.cos(xb)], dim=-1)  # (..., 2*F*D)
    return torch.cat([x, enc], dim=-1) if include_input else enc


def composite_weights(sigmas: torch.Tensor, deltas: torch.Tensor) -> torch.Tensor:
    """Weights (R, S): alpha_i * T_i with alpha = 1 - exp(-sigma*delta), T the exclusive product of (1 - alpha).

    T_i = prod_{j<i} exp(-sigma_j delta_j) is taken as exp(-exclusive cumsum): the same product, with
    no epsilon and a cheaper backward than cumprod.
    """
    tau = sigmas * deltas  # (R, S) optical thickness of each sample
    # shifted, not cumsum - tau: with the paper's 1e10 last delta that difference cancels to garbage
    excl = torch.cat([torch.zeros_like(tau[..., :1]), torch.cumsum(tau[..., :-1], dim=-1)], dim=-1)
    trans = torch.exp(-excl)  # (R, S)
    return (1.0 - torch.exp(-tau)) * trans


def volume_render(
    sigmas: torch.Tensor,
    rgbs: torch.Tensor,
    t_vals: torch.Tensor,
    deltas: torch.Tensor | None,
    background: torch.Tensor,
) -> dict[str, torch.Tensor]:
    """Composite samples along rays: sigmas (R, S), rgbs (R, S, 3), t_vals (R, S), deltas (R, S).

    `deltas` None: the gaps between consecutive t_vals, the last one infinite (the paper's layout).
    Returns rgb (R, 3) over `background` (3,), depth (R,) = sum w*t, acc (R,) = sum w, weights (R, S).
    """
    if deltas is None:
        gaps = t_vals[..., 1:] - t_vals[..., :-1]
        deltas = torch.cat([gaps, torch.full_like(gaps[..., :1], 1e10)], dim=-1)
    weights = composite_weights(sigmas, deltas)
    acc = weights.sum(-1)
    rgb = (weights[..., None] * rgbs).sum(-2) + (1.0 - acc)[..., None] * background
    depth = (weights * t_vals).sum(-1)
    return {"rgb": rgb, "depth": depth, "acc": acc, "weights": weights}


def packed_transmittance(tau: torch.Tensor, ray_idx: torch.Tensor) -> torch.Tensor:
    """Exclusive transmittance (N,) of ragged samples with optical thickness tau (N,), ray_idx (N,) sorted.

    A ray's sum is the global cumsum minus its value where the ray starts; the cumsum runs in float64
    so that thousands of rays before it cannot swamp one ray's sum.
    """
    excl = torch.cumsum(tau.double(), 0) - tau.double()  # (N,) exclusive global cumsum
    first = torch.ones_like(ray_idx, dtype=torch.bool)
    first[1:] = ray_idx[1:] != ray_idx[:-1]
    start = torch.cummax(torch.where(first, torch.arange(len(first), device=first.device), 0), 0).values  # (N,)
    return torch.exp(-(excl - excl[start])).to(tau.dtype)


def volume_render_packed(
    sigmas: torch.Tensor,
    rgbs: torch.Tensor,
    t_vals: torch.Tensor,
    deltas: torch.Tensor,
    ray_idx: torch.Tensor,
    n_rays: int,
    background: torch.Tensor,
) -> dict[str, torch.Tensor]:
    """Composite ragged samples: sigmas, t_vals, deltas (N,), rgbs (N, 3), ray_idx (N,) sorted.

    Rays with no sample show the background. Returns rgb (n_rays, 3), depth, acc (n_rays,), weights (N,).
    """
    tau = sigmas * deltas  # (N,)
    trans = packed_transmittance(tau, ray_idx)
    weights = (1.0 - torch.exp(-tau)) * trans  # (N,)
    zeros = sigmas.new_zeros(n_rays)
    acc = zeros.index_add(0, ray_idx, weights)
    depth = zeros.index_add(0, ray_idx, weights * t_vals)
    rgb = sigmas.new_zeros(n_rays, 3).index_add(0, ray_idx, weights[:, None] * rgbs)
    rgb = rgb + (1.0 - acc)[:, None] * background
    return {"rgb": rgb, "depth": depth, "acc": acc, "weights": weights}


def sample_pdf(bins: torch.Tensor, weights: torch.Tensor, n: int, deterministic: bool = False) -> torch.Tensor:
    """Draw n depths per ray from the piecewise-constant PDF `weights` (R, S) over `bins` (R, S+1) edges.

    Returns (R, n) sorted depths; `deterministic` uses evenly spaced quantiles instead of random ones.
    """
    pdf = (weights + 1e-5) / (weights + 1e-5).sum(-1, keepdim=True)
    cdf = torch.cat([torch.zeros_like(pdf[..., :1]), torch.cumsum(pdf, -1)], -1)  # (R, S+1)
    shape = (*cdf.shape[:-1], n)
    if deterministic:
        u = torch.linspace(0.0, 1.0, n, dtype=cdf.dtype, device=cdf.device).expand(shape)
    else:
        u = torch.rand(shape, dtype=cdf.dtype, device=cdf.device)
    u = u.contiguous()
    above = torch.searchsorted(cdf.contiguous(), u, right=True).clamp(1, cdf.shape[-1] - 1)
    below = above - 1
    cdf_lo, cdf_hi = cdf.gather(-1, below), cdf.gather(-1, above)
    bin_lo, bin_hi = bins.gather(-1, below), bins.gather(-1, above)
    span = torch.where(cdf_hi - cdf_lo < 1e-5, torch.ones_like(cdf_hi), cdf_hi - cdf_lo)
    return bin_lo + (u - cdf_lo) / span * (bin_hi - bin_lo)


def ray_aabb(
    origins: torch.Tensor, dirs: torch.Tensor, aabb: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Slab test of rays (R, 3) against a box (2, 3): t_near, t_far (R,) and hit (R,) bool.

    t_near is clamped at 0 (origins inside the box); where hit is False the t values are meaningless.
    """
    inv = 1.0 / torch.where(dirs.abs() < 1e-9, torch.full_like(dirs, 1e-9), dirs)
    t0, t1 = (aabb[0] - origins) * inv, (aabb[1] - origins) * inv
    t_near = torch.minimum(t0, t1).amax(-1).clamp_min(0.0)
    t_far = torch.maximum(t0, t1).amin(-1)
    return t_near, t_far, t_far > t_near
