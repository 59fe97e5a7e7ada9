#!/usr/bin/env python3
"""aitk detect: images per second against transformers' object-detection pipeline, in one run.

Both run the same DETR weights: a DETR-ResNet-50-sized model (transformers' ResNet-50 backbone,
6+6 transformer layers, d_model 256, 100 queries: the layout of facebook/detr-resnet-50) built from
its config with random weights (no hub here; speed does not depend on the values) and saved once
to a temp folder that both load. The photos are scikit-image's (no download), resized by each
tool's own image processor (640x480 photos -> 800x1066). Batch sizes 1 and 8; one untimed warm-up pass each.
Also the offline default (CenterNet) at the same batch sizes, and a hook for a training figure.

    .venv/bin/python benchmarks/detect.py               # DETR-R50 size, 8 photos, CPU
    .venv/bin/python benchmarks/detect.py --small       # a small DETR (quick look on slow machines)
    .venv/bin/python benchmarks/detect.py --images 16 --device cuda --json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aitk.detect.config import DetectConfig  # noqa: E402
from aitk.detect.predict import predict  # noqa: E402
from aitk.detect.results import COCO80  # noqa: E402
from aitk.engine.device import resolve_device  # noqa: E402

SIZE = (640, 480)
PHOTOS = (
    "astronaut",
    "coffee",
    "chelsea",
    "rocket",
    "stereo_motorcycle",
    "hubble_deep_field",
    "immunohistochemistry",
    "camera",
)


def write_photos(folder: Path, count: int) -> list[str]:
    from PIL import Image
    from skimage import data

    paths = []
    for i in range(count):
        name = PHOTOS[i % len(PHOTOS)]
        image = getattr(data, name)()
        image = image[0] if isinstance(image, tuple) else image  # stereo_motorcycle: (left, right, disparity)
        path = folder / f"{i:02d}-{name}.png"
        # one size for all: transformers' pipeline cannot batch images of different sizes
        Image.fromarray(image).convert("RGB").resize(SIZE, Image.BICUBIC).save(path)
        paths.append(str(path))
    return paths


def save_detr(folder: Path, small: bool) -> Path:
    """Random-initialised DETR (COCO label names, 91 ids as in facebook/detr-resnet-50) and its processor."""
    import torch
    import transformers
    from transformers import DetrConfig, DetrForObjectDetection, DetrImageProcessor, ResNetConfig

    from aitk.detect.results import COCO80_IDS

    transformers.utils.logging.set_verbosity_error()  # the torchvision fallback notice
    transformers.utils.logging.disable_progress_bar()

    id2label = {i: "N/A" for i in range(91)} | dict(zip(COCO80_IDS, COCO80))
    if small:
        backbone = ResNetConfig(
            embedding_size=32,
            hidden_sizes=[32, 64, 128, 256],
            depths=[1, 1, 1, 1],
            layer_type="basic",
            out_features=["stage4"],
        )
        sizes = dict(
            d_model=128,
            encoder_layers=2,
            decoder_layers=2,
            encoder_ffn_dim=512,
            decoder_ffn_dim=512,
            encoder_attention_heads=4,
            decoder_attention_heads=4,
        )
    else:  # ResNetConfig's defaults are ResNet-50; DetrConfig's are DETR's
        backbone = ResNetConfig(out_features=["stage4"])
        sizes = {}
    config = DetrConfig(
        backbone_config=backbone,
        use_timm_backbone=False,
        use_pretrained_backbone=False,
        id2label=id2label,
        label2id={v: k for k, v in id2label.items()},
        **sizes,
    )
    torch.manual_seed(0)
    DetrForObjectDetection(config).eval().save_pretrained(folder)
    DetrImageProcessor().save_pretrained(folder)
    return folder


def images_per_second(run, count: int) -> float:
    run()  # warm-up: first-call allocations and lazy initialisation are not measured
    start = time.perf_counter()
    run()
    return count / (time.perf_counter() - start)


def bench_aitk(model_source: str, paths: list[str], batch: int, device: str, model=None) -> float:
    from aitk.detect.models import load_model

    config = DetectConfig(model=model_source, batch_size=batch, device=device)
    model = model or load_model(model_source, device)
    return images_per_second(lambda: list(predict(paths, config, model)), len(paths))


def bench_pipeline(folder: Path, paths: list[str], batch: int, device: str) -> float:
    from transformers import pipeline

    pipe = pipeline("object-detection", model=str(folder), device=device)
    return images_per_second(lambda: pipe(paths, batch_size=batch, threshold=0.7), len(paths))


def training_figure(tmp: Path) -> list[dict]:
    """Training steps/s of the `tiny` preset on a small generated set (batch 4 and 8),
    as benchmarks/detect_train.py measures it.
    """
    import torch

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from detect_train import steps_per_second

    from aitk.detect.config import SynthConfig
    from aitk.detect.synth import generate

    data = tmp / "synth"
    for _ in generate(data, SynthConfig(images=64, val_images=8, size=128, seed=0)):
        pass
    device = torch.device(resolve_device(ARGS.device).torch)
    return [{"batch": b, "steps_per_second": steps_per_second(data, b, device, builtin=False)} for b in (4, 8)]


def main() -> None:
    import torch

    device = resolve_device(ARGS.device).torch
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "photos").mkdir()
        paths = write_photos(tmp / "photos", ARGS.images)
        folder = save_detr(tmp / "detr", ARGS.small)
        name = "DETR-small" if ARGS.small else "DETR-R50"
        print(
            f"{len(paths)} photos, {name} random weights, device {device}, torch threads {torch.get_num_threads()}",
            file=sys.stderr,
        )
        from aitk.detect.models import load_model

        detr = load_model(str(folder), device)
        centernet = load_model("centernet", device)
        for batch in ARGS.batch_sizes:
            rows.append((name, "aitk", batch, bench_aitk(str(folder), paths, batch, device, detr)))
            rows.append((name, "transformers pipeline", batch, bench_pipeline(folder, paths, batch, device)))
            rows.append(
                ("CenterNet (default)", "aitk", batch, bench_aitk("centernet", paths, batch, device, centernet))
            )
            for row in rows[-3:]:
                print(f"  {row[0]:<20} {row[1]:<22} batch {row[2]:>2}: {row[3]:6.2f} images/s", file=sys.stderr)
        training = training_figure(tmp)
    if ARGS.json:
        print(
            json.dumps(
                {
                    "device": device,
                    "images": len(paths),
                    "rows": [dict(zip(("model", "tool", "batch", "images_per_second"), r)) for r in rows],
                    "training": training,
                },
                indent=2,
            )
        )
        return
    print(f"{'model':<20} {'tool':<22} {'batch':>5} {'images/s':>9}")
    for model, tool, batch, ips in rows:
        print(f"{model:<20} {tool:<22} {batch:>5} {ips:>9.2f}")
    for row in training:
        print(
            f"training (detect train, tiny preset, 128 px, aitk's set loss): batch {row['batch']}: "
            f"{row['steps_per_second']:.2f} steps/s"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=8, help="photos per timed pass")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--small", action="store_true", help="a small DETR instead of the ResNet-50-sized one")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--json", action="store_true")
    ARGS = parser.parse_args()
    main()
