"""Whisper backends behind one interface. Each loads its model once and returns a Transcript.

- faster-whisper (CTranslate2): fastest on CPU (int8) and CUDA (float16); reads the offline
  CTranslate2 models directly.
- openai-whisper (torch): the one that runs on Apple MPS; reads the offline models through a
  one-time conversion to its .pt checkpoint.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

from aitk.engine.device import Device
from aitk.engine.errors import DeviceError, UsageError
from aitk.transcribe.config import BACKENDS, TranscribeConfig
from aitk.transcribe.models import ResolvedModel
from aitk.transcribe.result import Transcript

ProgressFn = Callable[[float], None]  # seconds of audio done


class Backend(Protocol):
    name: str
    multilingual: bool

    def transcribe(self, audio: np.ndarray, language: str | None, on_progress: ProgressFn) -> Transcript: ...


def choose_backend(requested: str, device: Device, model: ResolvedModel) -> str:
    """Which backend serves this device and model (pure; raises for impossible pairs)."""
    if requested == "faster-whisper":
        if device.kind == "mps":
            raise DeviceError(
                "faster-whisper cannot use --device mps", hint="use --backend openai-whisper, or --device cpu"
            )
        if model.is_checkpoint:
            raise UsageError(f"{model.name} is an openai-whisper checkpoint", hint="use --backend openai-whisper")
        return requested
    if requested == "openai-whisper":
        return requested
    if requested not in BACKENDS:
        raise UsageError(f"unknown backend '{requested}'", hint=f"use --backend {', '.join(BACKENDS)}")
    return "openai-whisper" if device.kind == "mps" or model.is_checkpoint else "faster-whisper"


def load_backend(name: str, config: TranscribeConfig, device: Device, model: ResolvedModel) -> Backend:
    if name == "faster-whisper":
        from aitk.transcribe.backends.faster import FasterWhisperBackend

        return FasterWhisperBackend(config, device, model)
    from aitk.transcribe.backends.openai import OpenAIWhisperBackend

    return OpenAIWhisperBackend(config, device, model)
