"""One typed config object for transcription: light imports only. The CLI builds it (bad values
fail on construction with a UsageError naming the flag); the core only reads it."""

from __future__ import annotations

from dataclasses import dataclass

from aitk.engine.errors import UsageError

AUTO_BATCH = 8  # windows decoded at once when auto picks batched decoding
FORMATS = ("txt", "srt", "vtt", "tsv", "json")
BACKENDS = ("auto", "faster-whisper", "openai-whisper")
TASKS = ("transcribe", "translate")
# CTranslate2's precisions; which of them a device runs is known only once ctranslate2 is imported.
COMPUTE_TYPES = (
    "int8",
    "int8_float32",
    "int8_float16",
    "int8_bfloat16",
    "int16",
    "float16",
    "bfloat16",
    "float32",
    "auto",
    "default",
)


@dataclass(frozen=True)
class TranscribeConfig:
    model: str = "tiny.en"  # catalogue name (tiny.en, base), local path, or a name a backend downloads
    backend: str = "auto"  # auto picks faster-whisper on CPU/CUDA and openai-whisper on MPS
    device: str = "auto"  # auto | cpu | cuda | cuda:N | mps
    compute_type: str | None = None  # CTranslate2 precision; None follows the device (int8 CPU, float16 CUDA)
    language: str | None = None  # None: detect from the first 30 s and report it
    task: str = "transcribe"  # or "translate" (into English; needs a multilingual model)
    initial_prompt: str | None = None  # vocabulary or style hint for the first window
    beam_size: int = 5  # as the openai-whisper command line; 1 is greedy and faster
    best_of: int = 5  # candidates sampled when decoding falls back to temperature > 0
    temperature: float = 0.0  # first decoding temperature
    temperature_fallback: bool = True  # retry at +0.2 steps up to 1.0 when a window looks wrong (sequential only)
    # faster-whisper: windows decoded at once; 1 = sequential long-form decoding (faster-whisper's own:
    # context, timestamps, fallback). None = auto: sequential up to sequential_max s, batched (8) above.
    batch_size: int | None = None
    sequential_max: float = 30.0  # auto: the longest input (seconds) decoded sequentially (one Whisper window)
    vad: bool = True  # skip silence with Silero VAD before decoding
    word_timestamps: bool = False
    refine_words: bool = True  # move word times onto the pauses in the sound (Whisper's are ~0.1-0.5 s off)
    # English words: forced alignment with PocketSphinx's acoustic model before the refinement (align.py)
    align_words: bool = True
    # A user's own PocketSphinx model for the alignment: a folder with the acoustic model and one .dict
    # file, for words in `align_language`. None: the US English model inside the pocketsphinx wheel.
    align_model: str | None = None
    align_language: str = "en"
    condition_on_previous_text: bool = True
    # Guards against text on silence and repetition loops (whisper's own thresholds, then ours).
    no_speech_threshold: float = 0.6
    logprob_threshold: float = -1.0
    compression_ratio_threshold: float = 2.4
    hallucination_silence_threshold: float | None = 2.0  # used when word timestamps are on
    formats: tuple[str, ...] = ("txt", "srt", "vtt", "tsv", "json")
    threads: int = 0  # CPU threads; 0 = all cores available to this process
    # Speaker labels (--diarize): who speaks each segment and word, offline by default.
    diarize: bool = False
    speakers: int | None = None  # the number of speakers when known; None: estimated
    min_speakers: int = 1  # bounds of the estimate
    max_speakers: int = 8
    speaker_names: tuple[str, ...] = ()  # names for SPEAKER_1, SPEAKER_2, ... in order of first appearance
    diarizer: str = "ge2e"  # "ge2e": the built-in offline diarizer; else a pyannote.audio pipeline name or folder

    def __post_init__(self) -> None:
        if not self.diarize and (self.speakers is not None or self.speaker_names or self.diarizer != "ge2e"):
            raise UsageError("--speakers, --speaker-names and --diarizer label speakers", hint="add --diarize")
        if self.speakers is not None and self.speakers < 1:
            raise UsageError(f"--speakers {self.speakers}: must be 1 or more", hint="e.g. --speakers 2")
        if self.min_speakers < 1 or self.min_speakers > self.max_speakers:
            raise UsageError(
                f"--min-speakers {self.min_speakers} --max-speakers {self.max_speakers}: need 1 <= min <= max",
                hint="e.g. --min-speakers 2 --max-speakers 4",
            )
        if self.speakers is not None and not self.min_speakers <= self.speakers <= self.max_speakers:
            raise UsageError(
                f"--speakers {self.speakers} is outside --min-speakers {self.min_speakers} .. "
                f"--max-speakers {self.max_speakers}",
                hint="leave out the bounds when the count is known",
            )
        if any(not name.strip() for name in self.speaker_names):
            raise UsageError("--speaker-names: an empty name", hint='e.g. --speaker-names "Ann,Bob"')
        if self.batch_size is not None and self.batch_size < 1:
            raise UsageError(f"--batch-size {self.batch_size}: must be at least 1", hint="or leave it out (auto)")
        if self.sequential_max < 0:
            raise UsageError("sequential_max must be 0 or more (seconds)")
        if self.task not in TASKS:
            raise UsageError(f"unknown task '{self.task}'", hint="use --task transcribe or --task translate")
        if self.compute_type is not None and self.compute_type not in COMPUTE_TYPES:
            raise UsageError(
                f"unknown --compute-type {self.compute_type}",
                hint=f"use one of {', '.join(COMPUTE_TYPES)}, or leave it out",
            )

    @property
    def temperatures(self) -> tuple[float, ...]:
        if not self.temperature_fallback:
            return (self.temperature,)
        steps = int(round((1.0 - self.temperature) / 0.2))
        return tuple(round(self.temperature + 0.2 * i, 2) for i in range(max(steps, 0) + 1))

    def batch_for(self, seconds: float) -> int:
        """The batch size an input of `seconds` is decoded with: the explicit one, else the auto rule."""
        if self.batch_size is not None:
            return self.batch_size
        return 1 if seconds <= self.sequential_max else AUTO_BATCH
