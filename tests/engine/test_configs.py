"""Config validation is one way everywhere: a frozen dataclass whose __post_init__ raises the
engine's UsageError naming the CLI flag (exit 2), on construction and on dataclasses.replace."""

from __future__ import annotations

import dataclasses

import pytest

from aitk.autocut.config import CutConfig, EncodeOptions
from aitk.detect.config import DetectConfig, Sampling, SynthConfig, TrainConfig
from aitk.docqa.config import ExtractConfig
from aitk.engine.errors import UsageError
from aitk.engine.executor import ExecutorConfig
from aitk.nerf.config import NerfConfig
from aitk.passk.config import EvaluateConfig, GenerateConfig, SandboxConfig
from aitk.transcribe.config import TranscribeConfig

BAD = [
    (lambda: ExecutorConfig(kind="spark"), "--executor"),
    (lambda: ExecutorConfig(address="auto"), "--ray-address"),
    (lambda: DetectConfig(threshold=1.5), "--threshold 1.5"),
    (lambda: DetectConfig(threshold=float("nan")), "--threshold nan"),
    (lambda: DetectConfig(batch_size=0), "--batch-size"),
    (lambda: DetectConfig(every=2, fps=1.0), "--every and --fps"),
    (lambda: DetectConfig(fps=-1.0), "--fps -1"),
    (lambda: Sampling(every=0), "--every 0"),
    (lambda: TrainConfig(lr=float("nan")), "--lr nan"),
    (lambda: TrainConfig(lr_backbone=0.0), "--lr-backbone 0.0"),
    (lambda: TrainConfig(steps=0), "--steps"),
    (lambda: SynthConfig(classes=("hexagon",)), "--classes hexagon"),
    (lambda: EncodeOptions(preset="fastest"), "--preset fastest"),
    (lambda: EncodeOptions(bitrate="lots"), "--bitrate lots"),
    (lambda: CutConfig(export=("pdf",)), "--export pdf"),
    (lambda: ExtractConfig(ocr="sometimes"), "--ocr sometimes"),
    (lambda: NerfConfig(method="magic"), "--method magic"),
    (lambda: NerfConfig(lr=float("inf")), "--lr inf"),
    (lambda: SandboxConfig(level="loose"), "--sandbox loose"),
    (lambda: EvaluateConfig(ks=(0, 10)), "-k [0]"),
    (lambda: GenerateConfig(top_p=0.0), "--top-p"),
    (lambda: GenerateConfig(n=0), "-n"),
    (lambda: TranscribeConfig(task="summarise"), "--task"),
    (lambda: TranscribeConfig(compute_type="int3"), "--compute-type int3"),
]


@pytest.mark.parametrize(("make", "flag"), BAD, ids=[flag for _, flag in BAD])
def test_a_bad_value_is_a_usage_error_naming_its_flag(make, flag):
    with pytest.raises(UsageError) as err:
        make()
    assert flag in err.value.message and err.value.exit_code == 2


def test_defaults_are_valid_and_frozen_and_replace_checks_again():
    for config in (
        ExecutorConfig(),
        DetectConfig(),
        TrainConfig(),
        SynthConfig(),
        EncodeOptions(),
        CutConfig(),
        ExtractConfig(),
        NerfConfig(),
        SandboxConfig(),
        EvaluateConfig(),
        GenerateConfig(),
        TranscribeConfig(),
    ):
        with pytest.raises(dataclasses.FrozenInstanceError):
            config.seed = 1  # type: ignore[misc]
    with pytest.raises(UsageError, match="--threshold"):
        dataclasses.replace(DetectConfig(), threshold=-0.1)
    assert DetectConfig(fps=2.0).sampling == Sampling(fps=2.0)
