import math

import torch

from aitk.nerf.metrics import psnr, ssim


def test_psnr_known_values():
    a = torch.zeros(8, 8, 3)
    assert psnr(a, a) == float("inf")
    assert math.isclose(psnr(a + 0.1, a), 20.0, rel_tol=1e-5)  # mse 0.01 -> 20 dB


def test_ssim_identity_noise_and_symmetry():
    torch.manual_seed(0)
    img = torch.rand(32, 32, 3)
    assert abs(ssim(img, img) - 1.0) < 1e-6
    noisy = (img + 0.2 * torch.randn_like(img)).clamp(0, 1)
    s = ssim(noisy, img)
    assert 0.0 < s < 0.9 and abs(s - ssim(img, noisy)) < 1e-6
    shifted = torch.roll(img, 1, dims=1)
    assert ssim(shifted, img) < ssim(img, img)
