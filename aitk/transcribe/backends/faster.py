"""faster-whisper (CTranslate2) backend: int8 on CPU, float16 on CUDA.

Decoding follows the input (TranscribeConfig.batch_for): up to one Whisper window (30 s) it is
faster-whisper's own sequential decoding (beam search with timestamps, context and temperature
fallback: the same text as `WhisperModel.transcribe`); longer inputs are cut into windows of up
to 28 s at the longest pauses Silero VAD finds, with the pauses inside a window kept, and the
windows are decoded side by side. No prompt is added unless the user gives --initial-prompt.
"""

from __future__ import annotations

import os
from dataclasses import replace

import numpy as np

from aitk.engine.device import Device
from aitk.engine.errors import DependencyError, DeviceError, ModelError
from aitk.engine.media import SAMPLE_RATE
from aitk.transcribe.backends import ProgressFn
from aitk.transcribe.config import TranscribeConfig
from aitk.transcribe.cues import split_segments
from aitk.transcribe.models import ResolvedModel, ct2_folder
from aitk.transcribe.result import Segment, Transcript, Word
from aitk.transcribe.vad import speech_regions, speech_windows, uncovered


def default_compute_type(device: Device) -> str:
    return "float16" if device.kind == "cuda" else "int8"


def fixed_windows(duration: float, window: float = 30.0) -> list[dict]:
    """Consecutive 30 s windows (in seconds) for batched decoding without VAD."""
    starts = np.arange(0.0, max(duration, 1e-3), window)
    return [{"start": float(a), "end": float(min(a + window, duration))} for a in starts]


def cpu_threads(requested: int) -> int:
    if requested > 0:
        return requested
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class FasterWhisperBackend:
    name = "faster-whisper"

    def __init__(self, config: TranscribeConfig, device: Device, model: ResolvedModel):
        try:
            import ctranslate2
            from faster_whisper import BatchedInferencePipeline, WhisperModel
        except ImportError as exc:
            raise DependencyError(
                f"faster-whisper is not installed ({exc})", hint="pip install faster-whisper"
            ) from exc
        if device.kind == "cuda" and ctranslate2.get_cuda_device_count() == 0:
            raise DeviceError(
                "this CTranslate2 build cannot use CUDA", hint="use --backend openai-whisper or --device cpu"
            )
        self.config = config
        self.device = device
        self.compute_type = config.compute_type or default_compute_type(device)
        supported = ctranslate2.get_supported_compute_types(device.kind, device.index)
        if self.compute_type not in (*supported, "auto", "default"):
            raise DeviceError(
                f"--compute-type {self.compute_type} is not supported on {device.torch}",
                hint=f"use one of {', '.join(sorted(supported))}, or leave it out",
            )
        source = ct2_folder(model) or model.name  # a name is downloaded by faster-whisper when online
        try:
            self.model = WhisperModel(
                str(source),
                device=device.kind,
                device_index=device.index,
                compute_type=self.compute_type,
                cpu_threads=cpu_threads(config.threads),
            )
        except Exception as exc:  # noqa: BLE001 - CTranslate2 and the hub raise many types
            raise ModelError(
                (
                    f"cannot load model '{model.name}' with faster-whisper: "
                    f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
                ),
                hint="give a CTranslate2 folder, or a known name: tiny.en, base",
            ) from exc
        self.multilingual = bool(self.model.model.is_multilingual)
        self.batched = BatchedInferencePipeline(self.model)

    def transcribe(self, audio: np.ndarray, language: str | None, on_progress: ProgressFn) -> Transcript:
        c = self.config
        options = dict(
            language=language,
            task=c.task,
            beam_size=c.beam_size,
            best_of=c.best_of,
            initial_prompt=c.initial_prompt,
            vad_filter=c.vad,
            compression_ratio_threshold=c.compression_ratio_threshold,
            log_prob_threshold=c.logprob_threshold,
            no_speech_threshold=c.no_speech_threshold,
        )
        duration = len(audio) / SAMPLE_RATE
        batch_size = c.batch_for(duration)
        windows: list[dict] | None = None
        if batch_size > 1:
            # Windows of up to 30 s decoded side by side: no fallback or context across windows.
            # Word times are always taken here, to cut each window into subtitle-sized segments.
            if c.vad:
                # Our windows, not the pipeline's: its own VAD chunks glue speech together with the
                # pauses cut out, which on long inputs merged sentences and dropped whole ones.
                # No speech found: None lets the pipeline's own VAD find none too.
                windows = speech_windows(speech_regions(audio), duration) or None
            else:
                windows = fixed_windows(duration)
            segments, info = self.batched.transcribe(
                audio,
                batch_size=batch_size,
                temperature=c.temperature,
                word_timestamps=True,
                clip_timestamps=windows,
                **options,
            )
        else:
            segments, info = self.model.transcribe(
                audio,
                temperature=list(c.temperatures),
                word_timestamps=c.word_timestamps,
                condition_on_previous_text=c.condition_on_previous_text,
                hallucination_silence_threshold=c.hallucination_silence_threshold if c.word_timestamps else None,
                **options,
            )
        out: list[Segment] = []
        for seg in segments:  # a generator: decoding happens while we iterate
            out.append(_segment(seg, len(out)))
            on_progress(seg.end)
        if batch_size > 1:
            if windows:
                out = self._redecode_bad_windows(audio, out, windows, options)
            out = split_segments(out)
            if not c.word_timestamps:
                out = [replace(seg, words=None) for seg in out]
        return Transcript(
            language=info.language,
            language_probability=round(info.language_probability, 4) if language is None else None,
            duration=round(len(audio) / SAMPLE_RATE, 3),
            segments=out,
            backend=self.name,
            device=f"{self.device.torch} ({self.compute_type})",
        )

    def _redecode_bad_windows(
        self, audio: np.ndarray, segments: list[Segment], windows: list[dict], options: dict
    ) -> list[Segment]:
        """Decode again, sequentially, each batched window whose text does not fit its audio.

        With no fallback and no context, a batched window can end its text early (end-of-text after
        the first sentence, the rest of its speech lost) or repeat a sentence that is not there
        (its words then stretched over seconds of other speech). A window is judged from its own
        output (window_is_suspect) and decoded again as faster-whisper's sequential decoding would,
        with temperature fallback and context, in place."""
        c = self.config
        regions = speech_regions(audio) if c.vad else []  # --no-vad: judged by the word lengths alone
        out: list[Segment] = []
        for window in windows:
            lo, hi = window["start"], window["end"]
            inside = [s for s in segments if lo <= (s.start + s.end) / 2 < hi]
            speech = [r for r in regions if lo <= (r[0] + r[1]) / 2 < hi]
            if not window_is_suspect(inside, speech):
                out += inside
                continue
            redone = self._decode_slice(audio, lo, hi, options)
            # A sequential pass can stop early too: what it left out is decoded on its own.
            for _ in range(2):
                gaps = uncovered(speech, [(s.start, s.end) for s in redone])
                if not gaps:
                    break
                for a, b in gaps:
                    redone += self._decode_slice(audio, max(lo, a - 0.2), min(hi, b + 0.2), options)
                redone.sort(key=lambda s: s.start)
            out += redone
        return [replace(seg, id=i) for i, seg in enumerate(out)]

    def _decode_slice(self, audio: np.ndarray, lo: float, hi: float, options: dict) -> list[Segment]:
        """faster-whisper's sequential decoding (fallback, context) of audio[lo:hi] (seconds), in file time."""
        c = self.config
        first, last = int(lo * SAMPLE_RATE), min(len(audio), int(hi * SAMPLE_RATE))
        found, _ = self.model.transcribe(
            audio[first:last],
            temperature=list(c.temperatures),
            word_timestamps=True,
            condition_on_previous_text=c.condition_on_previous_text,
            **{**options, "vad_filter": False},  # decoded whole, as the window it stands in for
        )
        return [_segment(seg, 0, offset=first / SAMPLE_RATE) for seg in found]


def window_is_suspect(segments: list[Segment], speech: list[tuple[float, float]], longest_word: float = 2.0) -> bool:
    """Whether one batched window's text looks wrong for its audio (pure): speech that no segment
    covers (a sentence left out), or a word held for over `longest_word` s (text aligned to audio
    that does not say it)."""
    if uncovered(speech, [(s.start, s.end) for s in segments]):
        return True
    return any(w.end - w.start > longest_word for s in segments for w in s.words or [])


def _segment(seg, index: int, offset: float = 0.0) -> Segment:
    """Our Segment from one of faster-whisper's; `offset` s later when it was decoded from a slice."""
    words = None
    if seg.words is not None:
        words = [
            Word(round(w.start + offset, 3), round(w.end + offset, 3), w.word, round(w.probability, 4))
            for w in seg.words
        ]
    return Segment(
        id=index,
        start=round(seg.start + offset, 3),
        end=round(seg.end + offset, 3),
        text=seg.text,
        avg_logprob=round(seg.avg_logprob, 4),
        no_speech_prob=round(seg.no_speech_prob, 4),
        compression_ratio=round(seg.compression_ratio, 3),
        temperature=seg.temperature,
        words=words,
    )
