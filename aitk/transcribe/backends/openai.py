"""openai-whisper (torch) backend: the one that runs on Apple MPS; fp16 on CUDA, fp32 elsewhere."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from aitk.engine.device import Device
from aitk.engine.errors import DependencyError, ModelError
from aitk.engine.media import SAMPLE_RATE
from aitk.engine.models import aitk_home
from aitk.transcribe.backends import ProgressFn
from aitk.transcribe.config import TranscribeConfig
from aitk.transcribe.models import ResolvedModel, openai_checkpoint
from aitk.transcribe.result import Segment, Transcript, Word
from aitk.transcribe.vad import speech_only


def checkpoint_for(model: ResolvedModel) -> Path:
    """A .pt file for any --model value: registry and CTranslate2 folders are converted once."""
    from aitk.transcribe.ct2_convert import convert_to_file

    if model.spec is not None:
        return openai_checkpoint(model.spec)
    if model.is_checkpoint:
        return model.path  # type: ignore[return-value]
    if model.is_ct2_dir:
        key = hashlib.sha256(str(model.path.resolve()).encode()).hexdigest()[:16]  # type: ignore[union-attr]
        out = aitk_home() / "converted" / f"{model.path.name}-{key}.pt"  # type: ignore[union-attr]
        stale = out.exists() and out.stat().st_mtime < (model.path / "model.bin").stat().st_mtime  # type: ignore[operator]
        if stale or not out.exists():
            convert_to_file(model.path, out)  # type: ignore[arg-type]
        return out
    import whisper

    if model.name not in whisper._MODELS:
        raise ModelError(
            f"unknown model '{model.name}'",
            hint="give a .pt file, a CTranslate2 folder, or a known name: tiny.en, base",
        )
    try:  # openai-whisper's own download, for machines that are online
        return Path(whisper._download(whisper._MODELS[model.name], str(aitk_home() / "openai-whisper"), False))
    except Exception as exc:  # noqa: BLE001 - urllib raises many kinds
        raise ModelError(
            f"cannot download model '{model.name}': {exc}", hint="use an offline model: tiny.en, base"
        ) from exc


class OpenAIWhisperBackend:
    name = "openai-whisper"

    def __init__(self, config: TranscribeConfig, device: Device, model: ResolvedModel):
        try:
            import whisper  # noqa: F401
        except ImportError as exc:
            raise DependencyError(
                f"openai-whisper is not installed ({exc})", hint="pip install --no-deps openai-whisper tiktoken"
            ) from exc
        from aitk.transcribe.ct2_convert import load_openai_model

        self.config = config
        self.device = device
        try:
            self.model = load_openai_model(checkpoint_for(model), device=device.torch)
        except ModelError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise ModelError(f"cannot load model '{model.name}' with openai-whisper: {exc}") from exc
        self.multilingual = bool(self.model.is_multilingual)

    def detect_language(self, audio: np.ndarray) -> tuple[str, float]:
        import whisper

        mel = whisper.log_mel_spectrogram(whisper.pad_or_trim(audio), self.model.dims.n_mels).to(self.model.device)
        _, probs = self.model.detect_language(mel)
        best = max(probs, key=probs.get)
        return best, float(probs[best])

    def transcribe(self, audio: np.ndarray, language: str | None, on_progress: ProgressFn) -> Transcript:
        import whisper

        c = self.config
        duration = len(audio) / SAMPLE_RATE
        to_original = lambda t, is_end=False: t  # noqa: E731
        if c.vad:
            audio, to_original = speech_only(audio)
        probability = None
        if language is None:
            language, probability = self.detect_language(audio) if self.multilingual else ("en", None)
        segments: list[Segment] = []
        if len(audio):
            result = whisper.transcribe(
                self.model,
                audio,
                verbose=None,  # None: no tqdm, no printing; progress comes from us
                language=language,
                task=c.task,
                temperature=c.temperatures,
                beam_size=c.beam_size,
                best_of=c.best_of,
                initial_prompt=c.initial_prompt,
                word_timestamps=c.word_timestamps,
                condition_on_previous_text=c.condition_on_previous_text,
                compression_ratio_threshold=c.compression_ratio_threshold,
                logprob_threshold=c.logprob_threshold,
                no_speech_threshold=c.no_speech_threshold,
                hallucination_silence_threshold=c.hallucination_silence_threshold if c.word_timestamps else None,
                fp16=self.device.fp16,
            )
            segments = [self._segment(i, s, to_original) for i, s in enumerate(result["segments"])]
        on_progress(duration)
        return Transcript(
            language=language,
            language_probability=None if probability is None else round(probability, 4),
            duration=round(duration, 3),
            segments=segments,
            backend=self.name,
            device=f"{self.device.torch} ({'float16' if self.device.fp16 else 'float32'})",
        )

    @staticmethod
    def _segment(index: int, s: dict, to_original) -> Segment:
        words = None
        if "words" in s:
            words = [
                Word(
                    round(to_original(w["start"]), 3),
                    round(to_original(w["end"], True), 3),
                    w["word"],
                    round(float(w["probability"]), 4),
                )
                for w in s["words"]
            ]
        return Segment(
            id=index,
            start=round(to_original(s["start"]), 3),
            end=round(to_original(s["end"], True), 3),
            text=s["text"],
            avg_logprob=round(float(s["avg_logprob"]), 4),
            no_speech_prob=round(float(s["no_speech_prob"]), 4),
            compression_ratio=round(float(s["compression_ratio"]), 3),
            temperature=float(s["temperature"]),
            words=words,
        )
