"""`--diarize`: speaker labels on a finished transcript (segments split where the speaker changes).

The built-in diarizer (`diarizer="ge2e"`, diarize.py) is offline. Any other `diarizer` value is a
pyannote.audio pipeline name or folder, used when pyannote.audio is installed (it is not a
dependency; its hub pipelines need an access token, read by pyannote from HF_TOKEN).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from aitk.engine.errors import DependencyError, ModelError
from aitk.engine.media import SAMPLE_RATE  # the rate decode_audio gives every transcriber
from aitk.transcribe.config import TranscribeConfig
from aitk.transcribe.diarize import Turn, assign_speakers, diarize, speaker_label
from aitk.transcribe.result import Transcript


def label_speakers(transcript: Transcript, audio: np.ndarray, config: TranscribeConfig, device: str) -> Transcript:
    """`transcript` with `speaker` on every segment and word and the `speakers` list; words are
    dropped again afterwards unless --word-timestamps asked for them (they were decoded for this)."""
    turns = find_turns(audio, config, device)
    labelled = assign_speakers(transcript.segments, turns)
    names = config.speaker_names  # speakers are numbered by first appearance in the transcript
    segments = []
    for seg, speaker, word_speakers in zip(labelled.segments, labelled.speakers, labelled.word_speakers):
        label = None if speaker is None else speaker_label(speaker, names)
        words = None
        if config.word_timestamps and seg.words is not None:
            words = [
                replace(w, speaker=None if s is None else speaker_label(s, names))
                for w, s in zip(seg.words, word_speakers)
            ]
        segments.append(replace(seg, speaker=label, words=words))
    return replace(transcript, segments=segments, speakers=labelled.labels(names))


def find_turns(audio: np.ndarray, config: TranscribeConfig, device: str) -> list[Turn]:
    if config.diarizer == "ge2e":
        return diarize(
            audio,
            speakers=config.speakers,
            min_speakers=config.min_speakers,
            max_speakers=config.max_speakers,
            device=device,
        )
    return _pyannote_turns(audio, config, device)


def _pyannote_turns(audio: np.ndarray, config: TranscribeConfig, device: str) -> list[Turn]:
    """Turns from a user's own pyannote.audio pipeline (online or a local folder), speakers 0.. by first turn."""
    try:
        import torch
        from pyannote.audio import Pipeline
    except ImportError:
        raise DependencyError(
            f"--diarizer {config.diarizer} needs pyannote.audio",
            hint="pip install pyannote.audio, or leave out --diarizer for the built-in offline diarizer",
        ) from None
    try:
        pipeline = Pipeline.from_pretrained(config.diarizer)
    except Exception as exc:  # noqa: BLE001 - hub, token and file errors all mean: this pipeline cannot load
        raise ModelError(
            f"cannot load diarization pipeline '{config.diarizer}': {str(exc).splitlines()[0] if str(exc) else exc}",
            hint="check the name or folder (hub pipelines need HF_TOKEN), or leave out --diarizer",
        ) from None
    if pipeline is None:
        raise ModelError(f"cannot load diarization pipeline '{config.diarizer}'", hint="set HF_TOKEN for gated models")
    pipeline.to(torch.device(device))
    bounds = (
        {"num_speakers": config.speakers}
        if config.speakers
        else {"min_speakers": config.min_speakers, "max_speakers": config.max_speakers}
    )
    waveform = torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32))[None]
    output = pipeline({"waveform": waveform, "sample_rate": SAMPLE_RATE}, **bounds)
    annotation = getattr(output, "speaker_diarization", output)  # pyannote 4 wraps the annotation
    numbers: dict[str, int] = {}
    turns = []
    for segment, _, label in sorted(annotation.itertracks(yield_label=True), key=lambda t: t[0].start):
        speaker = numbers.setdefault(label, len(numbers))
        turns.append(Turn(round(segment.start, 3), round(segment.end, 3), speaker))
    return turns
