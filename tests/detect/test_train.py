"""`aitk detect train`: a real DETR trained on a tiny synth set, checkpoints, exact resume, the CLI."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
import torch

from aitk.detect.config import SynthConfig, TrainConfig
from aitk.detect.synth import generate
from aitk.detect.train import TrainDone, TrainEval, TrainStep, batch_indices, lr_factor, train
from aitk.detect.train_data import find_split
from aitk.engine.errors import UsageError
from tests.conftest import run_aitk

ONE_THREAD = {"OMP_NUM_THREADS": "1"}  # see one_thread()
# 64 px keeps a step near 0.05 s on 2 cores; lr and warm-up suit a few dozen steps
QUICK = TrainConfig(steps=8, batch_size=4, image_size=64, lr=3e-4, warmup=5, eval_every=0, checkpoint_every=4, seed=0)


@pytest.fixture(autouse=True)
def one_thread():
    """One torch thread: on 2 cores shared with other test processes, two threads each step 5-10x slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    out = tmp_path_factory.mktemp("shapes")
    for _ in generate(out, SynthConfig(images=16, val_images=4, size=64, max_objects=2, seed=5), force=True):
        pass
    return out


def _run(data, out, config, **kwargs):
    return list(train(find_split(data, "train"), find_split(data, "val"), out, config, **kwargs))


def _losses(events):
    return {e.step: e.losses["loss"] for e in events if isinstance(e, TrainStep)}


def test_batches_depend_on_seed_and_step_only():
    a = [batch_indices(s, 10, 4, seed=1) for s in range(6)]
    b = [batch_indices(s, 10, 4, seed=1) for s in range(6)]
    assert all(torch.equal(x[0], y[0]) and torch.equal(x[1], y[1]) for x, y in zip(a, b))
    epoch = torch.cat([a[s][0] for s in range(2)])  # 10 // 4 = 2 batches per epoch, no repeats inside one
    assert len(set(epoch.tolist())) == 8
    assert not torch.equal(batch_indices(0, 10, 4, seed=2)[0], a[0][0])


def test_lr_warms_up_then_drops_once():
    config = TrainConfig(steps=100, warmup=10, lr_drop=0.8)
    assert lr_factor(0, config) == pytest.approx(0.1)
    assert lr_factor(50, config) == 1.0 and lr_factor(79, config) == 1.0
    assert lr_factor(80, config) == pytest.approx(0.1)


@pytest.mark.slow
def test_short_training_lowers_the_loss(shapes, tmp_path):
    events = _run(shapes, tmp_path / "run", replace(QUICK, steps=40, checkpoint_every=0))
    losses = list(_losses(events).values())
    assert len(losses) == 40
    first, last = sum(losses[:8]) / 8, sum(losses[-8:]) / 8
    assert last < 0.8 * first, (first, last)
    done = events[-1]
    assert isinstance(done, TrainDone) and done.summary["steps"] == 40
    assert isinstance(events[-2], TrainEval) and set(done.summary["val"]) >= {"AP", "AP50"}
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["steps"] == 40 and metrics["losses_last_50_steps"]["loss"] < first


@pytest.mark.slow
def test_resume_continues_exactly(shapes, tmp_path):
    whole = _losses(_run(shapes, tmp_path / "whole", QUICK))
    interrupted = train(find_split(shapes, "train"), find_split(shapes, "val"), tmp_path / "cut", QUICK)
    for event in interrupted:  # stop after step 6, as a killed process would: the last checkpoint is step 4
        if isinstance(event, TrainStep) and event.step == 6:
            break
    interrupted.close()
    saved = torch.load(tmp_path / "cut" / "checkpoint.pt", weights_only=True)
    assert saved["step"] == 4
    resumed = _run(shapes, tmp_path / "cut", QUICK, resume=True)
    again = _losses(resumed)
    assert sorted(again) == [5, 6, 7, 8]
    for step in again:
        assert again[step] == pytest.approx(whole[step], rel=1e-5, abs=1e-6)
    assert resumed[-1].summary["steps"] == 8


def test_refuses_to_clobber_or_resume_nothing(shapes, tmp_path):
    out = tmp_path / "run"
    with pytest.raises(UsageError, match="--resume"):
        _run(shapes, out, QUICK, resume=True)
    out.mkdir()
    (out / "checkpoint.pt").write_bytes(b"not mine to overwrite")
    with pytest.raises(UsageError, match="--force"):
        _run(shapes, out, QUICK)
    assert (out / "checkpoint.pt").read_bytes() == b"not mine to overwrite"


@pytest.mark.slow
def test_cli_synth_then_train_writes_a_loadable_model(tmp_path):
    data, out = tmp_path / "data", tmp_path / "run"
    made = run_aitk(
        "detect",
        "synth",
        str(data),
        "--images",
        "8",
        "--val-images",
        "2",
        "--size",
        "64",
        "--classes",
        "circle,cross",
        env=ONE_THREAD,
    )
    assert made.returncode == 0, made.stderr
    (data / "train" / "000003.png").write_bytes(b"broken")  # one bad image: skipped, reported, exit 1
    result = run_aitk(
        "detect",
        "train",
        "--data",
        str(data),
        "--output",
        str(out),
        "--steps",
        "6",
        "--batch-size",
        "4",
        "--image-size",
        "64",
        "--eval-every",
        "3",
        "--checkpoint-every",
        "3",
        "--device",
        "cpu",
        "--json",
        env=ONE_THREAD,
    )
    assert result.returncode == 1, result.stderr
    assert "000003.png" in result.stderr
    summary = json.loads(result.stdout)
    assert summary["steps"] == 6 and summary["train_images"] == 7 and [h["step"] for h in summary["history"]] == [3, 6]
    assert (out / "checkpoint.pt").is_file() and (out / "metrics.json").is_file()

    from PIL import Image
    from transformers import AutoImageProcessor, AutoModelForObjectDetection

    model = AutoModelForObjectDetection.from_pretrained(out / "model").eval()
    processor = AutoImageProcessor.from_pretrained(out / "model")
    assert model.config.id2label == {0: "circle", 1: "cross"}
    inputs = processor(images=Image.open(data / "val" / "000001.png"), return_tensors="pt")
    with torch.no_grad():
        outputs = model(**inputs)
    found = processor.post_process_object_detection(outputs, threshold=0.0, target_sizes=[(64, 64)])[0]
    assert len(found["scores"]) > 0 and found["boxes"].shape[1] == 4

    # train -> predict -> eval: predictions carry the dataset's category ids (1, 2), not label indices (0, 1)
    pred = tmp_path / "pred.json"
    predicted = run_aitk(
        "detect",
        "--model",
        str(out / "model"),
        str(data / "val"),
        "--threshold",
        "0",
        "--coco-out",
        str(pred),
        env=ONE_THREAD,
    )
    assert predicted.returncode == 0, predicted.stderr
    assert {row["category_id"] for row in json.loads(pred.read_text())} <= {1, 2}
    scored = run_aitk(
        "detect", "eval", "--gt", str(data / "annotations" / "instances_val.json"), "--pred", str(pred), "--json"
    )
    assert scored.returncode == 0, scored.stderr

    again = run_aitk("detect", "train", "--data", str(data), "--output", str(out), "--steps", "6", env=ONE_THREAD)
    assert again.returncode == 2 and "--resume" in again.stderr
    missing = run_aitk(
        "detect", "train", "--data", str(tmp_path / "nowhere"), "--output", str(tmp_path / "x"), env=ONE_THREAD
    )
    assert missing.returncode == 2 and "nowhere" in missing.stderr


@pytest.mark.slow
def test_fine_tunes_a_saved_model_on_new_classes(shapes, tmp_path):
    """A model saved by one run is the starting point of another with other classes: the classifier
    is resized, everything else is loaded, and the new model names the new classes."""
    from transformers import AutoModelForObjectDetection

    first = _run(shapes, tmp_path / "first", replace(QUICK, steps=2, checkpoint_every=0))
    other = tmp_path / "other"
    for _ in generate(other, SynthConfig(images=8, val_images=2, size=64, classes=("star", "cross"), seed=9)):
        pass
    source = first[-1].summary["model_dir"]
    events = _run(other, tmp_path / "second", replace(QUICK, model=source, steps=2, checkpoint_every=0))
    assert events[-1].summary["steps"] == 2
    before = AutoModelForObjectDetection.from_pretrained(source)
    after = AutoModelForObjectDetection.from_pretrained(tmp_path / "second" / "model")
    assert after.config.id2label == {0: "star", 1: "cross"}
    assert after.class_labels_classifier.out_features == 2 and before.class_labels_classifier.out_features == 3
    # the backbone started from the first model's weights (two steps at lr/10 move them by ~1e-5), not from a new init
    stem = "model.backbone.model.embedder.embedder.convolution.weight"
    moved = (before.state_dict()[stem] - after.state_dict()[stem]).abs().max()
    assert moved < 1e-3 < before.state_dict()[stem].abs().max()


def test_unknown_model_is_a_clear_error(shapes, tmp_path):
    from aitk.engine.errors import ModelError

    with pytest.raises(ModelError, match="no-such-model"):
        _run(shapes, tmp_path / "run", replace(QUICK, model=str(tmp_path / "no-such-model")))


@pytest.mark.slow
def test_plain_detr_preset_trains_and_saves(shapes, tmp_path):
    """The softmax + no-object path (DetrForObjectDetection) end to end, briefly."""
    from transformers import AutoModelForObjectDetection

    events = _run(shapes, tmp_path / "run", replace(QUICK, model="tiny-detr", steps=3, checkpoint_every=0))
    assert set(events[-1].summary["val"]) >= {"AP", "AP50"}
    model = AutoModelForObjectDetection.from_pretrained(tmp_path / "run" / "model")
    assert type(model).__name__ == "DetrForObjectDetection" and model.class_labels_classifier.out_features == 3 + 1
