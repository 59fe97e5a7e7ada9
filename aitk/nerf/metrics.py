"""Image quality: PSNR and SSIM (Wang et al. 2004: 11x11 Gaussian window, sigma 1.5), pure torch."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def psnr(prediction: torch.Tensor, target: torch.Tensor) -> float:
    """Peak signal-to-noise ratio in dB for images in [0, 1]."""
    mse = torch.mean((prediction.float() - target.float()) ** 2).item()
    return float("inf") if mse == 0 else -10.0 * math.log10(mse)


def _gaussian_window(size: int = 11, sigma: float = 1.5) -> torch.Tensor:
    x = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-(x**2) / (2 * sigma**2))
    g = g / g.sum()
    return (g[:, None] * g[None, :]).float()  # (size, size)


def ssim(prediction: torch.Tensor, target: torch.Tensor) -> float:
    """Mean SSIM of two (H, W, 3) images in [0, 1], per channel, valid windows only."""
    c1, c2 = 0.01**2, 0.03**2
    window = _gaussian_window().to(prediction.device)
    channels = prediction.shape[-1]
    kernel = window.expand(channels, 1, *window.shape)  # (C, 1, 11, 11): one filter per channel

    def blur(img: torch.Tensor) -> torch.Tensor:
        return F.conv2d(img, kernel, groups=channels)

    x = prediction.float().permute(2, 0, 1)[None]  # (1, C, H, W)
    y = target.float().permute(2, 0, 1)[None]
    mu_x, mu_y = blur(x), blur(y)
    var_x = blur(x * x) - mu_x**2
    var_y = blur(y * y) - mu_y**2
    cov = blur(x * y) - mu_x * mu_y
    num = (2 * mu_x * mu_y + c1) * (2 * cov + c2)
    den = (mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2)
    return float((num / den).mean())
