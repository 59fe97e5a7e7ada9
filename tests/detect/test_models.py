"""transformers detection checkpoints through `aitk detect --model`: a tiny random DETR saved locally.

Nothing is downloaded: the DETR is built from a config (small ResNet backbone from transformers,
no pretrained weights) and saved with its image processor, as a user's fine-tuned folder would be.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from aitk.detect.config import DetectConfig
from aitk.detect.models import DETR_THRESHOLD, TransformersModel, load_model
from aitk.detect.predict import predict
from aitk.detect.results import parse_classes
from aitk.engine.errors import ModelError, UsageError
from tests.conftest import run_aitk, run_aitk_subprocess

LABELS = {0: "person", 1: "cup", 2: "widget"}  # two COCO names and one that is not


@pytest.fixture(scope="module")
def tiny_detr(tmp_path_factory):
    import torch
    from transformers import DetrConfig, DetrForObjectDetection, DetrImageProcessor, ResNetConfig

    backbone = ResNetConfig(
        embedding_size=16,
        hidden_sizes=[16, 32, 64, 128],
        depths=[1, 1, 1, 1],
        layer_type="basic",
        out_features=["stage4"],
    )
    config = DetrConfig(
        backbone_config=backbone,
        use_timm_backbone=False,
        use_pretrained_backbone=False,
        d_model=32,
        encoder_layers=1,
        decoder_layers=1,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        num_queries=10,
        id2label=LABELS,
        label2id={v: k for k, v in LABELS.items()},
    )
    torch.manual_seed(0)
    model = DetrForObjectDetection(config).eval()
    with torch.no_grad():  # fresh DETR gives every query the same answer; noise makes boxes and scores differ
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.2)
    folder = tmp_path_factory.mktemp("tiny-detr")
    model.save_pretrained(folder)
    DetrImageProcessor(size={"shortest_edge": 128, "longest_edge": 200}).save_pretrained(folder)
    return folder


def _direct(folder, image_path):
    """What transformers itself gives: processor + model + post_process, threshold 0, best first."""
    import torch
    from PIL import Image
    from transformers import AutoImageProcessor, AutoModelForObjectDetection

    processor = AutoImageProcessor.from_pretrained(folder)
    model = AutoModelForObjectDetection.from_pretrained(folder).eval()
    image = Image.open(image_path).convert("RGB")
    with torch.no_grad():
        outputs = model(**processor(images=image, return_tensors="pt"))
    found = processor.post_process_object_detection(outputs, threshold=0.0, target_sizes=[(image.height, image.width)])[
        0
    ]
    order = found["scores"].argsort(descending=True)
    return found["scores"][order].numpy(), found["labels"][order].numpy(), found["boxes"][order].numpy(), image.size


@pytest.mark.slow
def test_cli_with_a_model_folder_matches_transformers(tiny_detr, photos, centernet):
    photo = photos["astronaut"]
    result = run_aitk("detect", "--model", str(tiny_detr), str(photo), "--threshold", "0", "--json")
    assert result.returncode == 0 and result.stderr == "", result.stderr
    (line,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert line["status"] == "ok" and line["input"] == str(photo)
    record = line["result"]
    # the same schema as the offline default's records (whose path and seconds are the record's own)
    reference = {
        k: v
        for k, v in next(predict([str(photo)], DetectConfig(), centernet)).as_dict().items()
        if k not in ("path", "seconds")
    }
    assert list(record) == list(reference) and list(record["detections"][0]) == list(reference["detections"][0])

    scores, labels, boxes, (width, height) = _direct(tiny_detr, photo)
    assert len(record["detections"]) == len(scores) == 10 and np.ptp(scores) > 1e-3
    got = record["detections"]
    assert [d["score"] for d in got] == pytest.approx(scores.tolist(), abs=1e-3)
    assert [d["label"] for d in got] == [LABELS[int(i)] for i in labels]
    assert [d["category_id"] for d in got] == [
        {0: 1, 1: 47, 2: 2}[int(i)] for i in labels
    ]  # COCO ids where the name is COCO's
    x1, y1 = boxes[:, 0].clip(0, width), boxes[:, 1].clip(0, height)
    x2, y2 = boxes[:, 2].clip(0, width), boxes[:, 3].clip(0, height)
    expected = np.stack([x1, y1, x2 - x1, y2 - y1], axis=1)
    assert np.abs(np.array([d["bbox"] for d in got]) - expected).max() < 0.02


def test_model_defaults_and_classes(tiny_detr, photos):
    model = load_model(str(tiny_detr))
    assert isinstance(model, TransformersModel) and model.default_threshold == DETR_THRESHOLD
    assert model.labels == ("person", "cup", "widget")
    assert parse_classes("Widget", model.labels) == ("widget",)
    with pytest.raises(UsageError, match="'car'.*person,cup,widget"):
        parse_classes("car", model.labels)
    config = DetectConfig(threshold=0.0, classes=("widget",), max_detections=3)
    (result,) = predict([str(photos["coffee"])], config, model)
    assert len(result.detections) <= 3 and {d.label for d in result.detections} <= {"widget"}
    assert [d.score for d in result.detections] == sorted((d.score for d in result.detections), reverse=True)


def test_bad_model_names(tmp_path, photos, monkeypatch):
    with pytest.raises(ModelError, match="no such model folder"):
        load_model(str(tmp_path / "nope"))
    with pytest.raises(ModelError, match="no config.json"):
        load_model(str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelError, match="cannot reach the Hugging Face hub.*local folder"):
        load_model("someone/not-cached-detector")


def test_cli_unreachable_hub_id_fails_fast_with_one_line(photos):
    # a real process: huggingface_hub reads HF_HUB_OFFLINE when it is imported
    result = run_aitk_subprocess(
        "detect",
        "--model",
        "someone/not-cached-detector",
        str(photos["coffee"]),
        env={"HF_HUB_OFFLINE": "1"},
        timeout=60,
    )
    assert result.returncode == 1 and result.stdout == ""
    assert (
        result.stderr.count("\n") == 1
        and "someone/not-cached-detector" in result.stderr
        and "save_pretrained" in result.stderr
    )
