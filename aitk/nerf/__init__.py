"""`aitk render-nerf`: neural radiance fields from posed images, in plain PyTorch, headless."""
