"""Transcribe batches and watched folders. The model loads once, on the first file that needs it.

Everything reports through a Reporter (progress events) and returns FileResult objects; nothing
here prints.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from aitk.engine.device import Device, resolve_device
from aitk.engine.errors import MediaError, OutputError, UsageError
from aitk.engine.executor import ExecutorConfig, map_planned
from aitk.engine.fileio import OutputClaims, atomic_write_text
from aitk.engine.media import SAMPLE_RATE, decode_audio, is_media_path
from aitk.engine.progress import BATCH, Log, Reporter, TaskAdvanced, TaskFinished, TaskStarted, null_reporter
from aitk.engine.record import Record
from aitk.engine.watch import signature, watch_folder
from aitk.transcribe.align import align_words
from aitk.transcribe.backends import Backend, choose_backend, load_backend
from aitk.transcribe.config import TranscribeConfig
from aitk.transcribe.guards import clamp_times, clean_segments
from aitk.transcribe.models import resolve_model
from aitk.transcribe.result import Transcript
from aitk.transcribe.vad import speech_regions
from aitk.transcribe.word_times import refine_word_times
from aitk.transcribe.writers import render


@dataclass
class FileResult:
    input: Path
    status: str  # "done" | "skipped" | "failed"
    outputs: list[Path] = field(default_factory=list)
    transcript: Transcript | None = None
    error: str | None = None
    seconds: float = 0.0  # wall time spent on this file

    @property
    def ok(self) -> bool:
        return self.status != "failed"

    def record(self, with_transcript: bool = True) -> Record:
        """The input's record (aitk.engine.record): the transcript and real-time factor under `result`."""
        result = None
        if self.transcript is not None:
            result = {
                "real_time_factor": round(self.seconds / self.transcript.duration, 4)
                if self.transcript.duration
                else None
            }
            if with_transcript:
                result["transcript"] = self.transcript.to_dict()
        seconds = self.seconds if self.transcript is not None or self.status == "failed" else None
        return Record(self.input, self.status, self.outputs, self.error, seconds, result)


def normalise_language(language: str | None) -> str | None:
    """'English' or 'EN' -> 'en'; None or 'auto' -> None (detect)."""
    if language is None or language.lower() in ("", "auto"):
        return None
    LANGUAGES, TO_LANGUAGE_CODE = whisper_language_tables()
    code = language.lower()
    code = TO_LANGUAGE_CODE.get(code, code)
    if code not in LANGUAGES:
        raise UsageError(
            f"unknown language '{language}'", hint="use a code such as en, de, fr, or leave --language out"
        )
    return code


@functools.cache
def whisper_language_tables() -> tuple[dict, dict]:
    """openai-whisper's (LANGUAGES, TO_LANGUAGE_CODE), read from whisper/tokenizer.py without importing the
    whisper package: its __init__ imports torch, seconds of start-up that faster-whisper runs never need."""
    import importlib.util
    import sys

    spec = importlib.util.find_spec("whisper") if "whisper" not in sys.modules else None
    if spec is None or not spec.submodule_search_locations:
        from whisper.tokenizer import LANGUAGES, TO_LANGUAGE_CODE

        return LANGUAGES, TO_LANGUAGE_CODE
    path = Path(next(iter(spec.submodule_search_locations))) / "tokenizer.py"
    name = "aitk._whisper_tokenizer"
    module_spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module  # dataclasses look their module up while the file runs
    module_spec.loader.exec_module(module)
    return module.LANGUAGES, module.TO_LANGUAGE_CODE


class Transcriber:
    """Resolves device, backend and model once; the model itself loads on first use."""

    def __init__(self, config: TranscribeConfig, devices: list[Device] | None = None):
        self.config = config
        self.device = resolve_device(config.device, devices)
        self.model = resolve_model(config.model)
        self.backend_name = choose_backend(config.backend, self.device, self.model)
        self.language = normalise_language(config.language)
        self._check_english_only(self.model.english_only)
        self._backend: Backend | None = None

    def _check_english_only(self, english_only: bool | None) -> None:
        if not english_only:
            return
        if self.config.task == "translate":
            raise UsageError(f"model {self.config.model} is English-only and cannot translate", hint="use --model base")
        if self.language not in (None, "en"):
            raise UsageError(
                f"model {self.config.model} is English-only; --language {self.language} needs a multilingual model",
                hint="use --model base",
            )

    @property
    def backend(self) -> Backend:
        if self._backend is None:
            # --diarize labels words, so it decodes word times (dropped again unless asked for)
            decode = replace(self.config, word_timestamps=True) if self.config.diarize else self.config
            self._backend = load_backend(self.backend_name, decode, self.device, self.model)
            self._check_english_only(not self._backend.multilingual)
        return self._backend

    def transcribe_audio(self, audio, on_progress=lambda t: None) -> Transcript:
        language = self.language or (None if self.backend.multilingual else "en")
        transcript = self.backend.transcribe(audio, language, on_progress)
        c = self.config
        # With VAD on, the guards also test the text against where VAD heard speech (--no-vad: the scores alone).
        speech = speech_regions(audio) if c.vad else None
        segments = clean_segments(transcript.segments, c.no_speech_threshold, c.logprob_threshold, speech=speech)
        transcript.segments = clamp_times(segments, transcript.duration)
        # Word times are aligned and refined only when they are output: --diarize alone uses them to
        # give each word its speaker, where turns from 0.75 s embedding steps set the precision.
        if c.refine_words and c.word_timestamps:
            if c.align_words:
                transcript.segments = align_words(
                    transcript.segments, audio, SAMPLE_RATE, transcript.language, c.align_model, c.align_language
                )
            transcript.segments = refine_word_times(transcript.segments, audio, SAMPLE_RATE)
        transcript.model = c.model
        if c.diarize:
            from aitk.transcribe.speakers import label_speakers

            transcript = label_speakers(transcript, audio, c, self.device.torch)
        return transcript

    def transcribe_file(self, path: Path, reporter: Reporter = null_reporter) -> Transcript:
        audio = decode_audio(path)
        duration = len(audio) / SAMPLE_RATE
        reporter(TaskStarted(str(path), f"transcribe {path.name}", total=duration))
        return self.transcribe_audio(audio, lambda t: reporter(TaskAdvanced(str(path), min(t, duration))))


def output_paths(media: Path, formats: Iterable[str], output_dir: Path | None) -> dict[str, Path]:
    folder = output_dir if output_dir is not None else media.parent
    return {fmt: folder / f"{media.stem}.{fmt}" for fmt in formats}


def process_file(
    path: Path,
    transcriber: Transcriber,
    output_dir: Path | None = None,
    force: bool = False,
    write: bool = True,
    reporter: Reporter = null_reporter,
) -> FileResult:
    """Transcribe one file and write its missing outputs (all of them with force).

    A bad input or output becomes a failed FileResult; model, device and dependency errors are
    raised, since every other file would fail the same way.
    """
    todo = _todo(path, transcriber.config, output_dir, force)
    if write and not todo:
        reporter(TaskFinished(str(path), ok=True, note="skipped"))
        return FileResult(path, "skipped", list(output_paths(path, transcriber.config.formats, output_dir).values()))
    return _finish(path, todo if write else {}, transcribe_one(transcriber, path, reporter), reporter)


def _todo(path: Path, config: TranscribeConfig, output_dir: Path | None, force: bool) -> dict[str, Path]:
    """The outputs still to write: format -> path."""
    return {fmt: p for fmt, p in output_paths(path, config.formats, output_dir).items() if force or not p.exists()}


@dataclass
class Outcome:
    """What a worker sends back for one file: the transcript, or why the file failed."""

    transcript: Transcript | None
    error: str | None
    seconds: float


def transcribe_one(transcriber: Transcriber, path: Path, reporter: Reporter = null_reporter) -> Outcome:
    started = time.perf_counter()
    try:
        transcript = transcriber.transcribe_file(path, reporter)
    except MediaError as exc:
        return Outcome(None, exc.message, time.perf_counter() - started)
    return Outcome(transcript, None, time.perf_counter() - started)


class RemoteTranscriber:
    """A worker factory for other processes (`--executor ray`): one Transcriber (one model) per worker."""

    def __init__(self, config: TranscribeConfig):
        self.config = config

    def __call__(self):
        import dataclasses
        import os

        config = self.config
        if config.threads == 0 and os.environ.get("OMP_NUM_THREADS", "").isdigit():
            # Ray sets OMP_NUM_THREADS to the actor's CPUs: actors sharing a node must not each take every core
            config = dataclasses.replace(config, threads=int(os.environ["OMP_NUM_THREADS"]))
        transcriber = Transcriber(config)
        return lambda path: transcribe_one(transcriber, path)


def _finish(path: Path, todo: dict[str, Path], outcome: Outcome, reporter: Reporter) -> FileResult:
    """Write the outputs of a transcribed file (each atomically, all rendered first)."""
    error = outcome.error
    if error is None:
        try:
            texts = {fmt: render(outcome.transcript, fmt) for fmt in todo}
            written = [atomic_write_text(todo[fmt], text) for fmt, text in texts.items()]
        except OutputError as exc:
            error = exc.message
    if error is not None:
        reporter(TaskFinished(str(path), ok=False, note=error))
        return FileResult(path, "failed", error=error, seconds=outcome.seconds)
    reporter(TaskFinished(str(path), ok=True))
    return FileResult(path, "done", written, outcome.transcript, seconds=outcome.seconds)


def run_batch(
    files: list[Path],
    transcriber: Transcriber,
    output_dir: Path | None = None,
    force: bool = False,
    write: bool = True,
    reporter: Reporter = null_reporter,
    executor: ExecutorConfig | None = None,
) -> Iterator[FileResult]:
    """Process files in order; one failure never stops the batch.

    Skips and name clashes are decided here; the files left are transcribed by the executor (this
    process by default, Ray actors with `executor.kind == "ray"`) and written here, in order.
    """
    executor = executor or ExecutorConfig()
    reporter(TaskStarted(BATCH, "all files", total=len(files)))
    claims = OutputClaims()
    plans: list[tuple[Path, str | dict]] = []  # (file, "skip" | error message | outputs to write)
    for path in files:
        clash = (
            claims.claim(path, output_paths(path, transcriber.config.formats, output_dir).values()) if write else None
        )
        if clash is not None:
            plans.append((path, clash))
            continue
        todo = _todo(path, transcriber.config, output_dir, force) if write else {}
        plans.append((path, todo if todo or not write else "skip"))
    if executor.kind == "local":

        def factory():
            return lambda path: transcribe_one(transcriber, path, reporter)
    else:
        factory = RemoteTranscriber(transcriber.config)
        reporter(Log(f"transcribing on Ray: {executor.workers} workers"))
    lost = lambda path, why: Outcome(None, f"{path}: {why}", 0.0)  # noqa: E731
    outcomes = map_planned(factory, plans, lambda plan: isinstance(plan, dict), executor, lost)
    for done, (path, plan, outcome) in enumerate(outcomes, start=1):
        if plan == "skip":
            reporter(TaskFinished(str(path), ok=True, note="skipped"))
            yield FileResult(path, "skipped", list(output_paths(path, transcriber.config.formats, output_dir).values()))
        elif isinstance(plan, str):
            yield FileResult(path, "failed", error=plan)
        else:
            yield _finish(path, plan, outcome, reporter)
        reporter(TaskAdvanced(BATCH, done))
    reporter(TaskFinished(BATCH))


LEDGER = ".aitk-transcribe-watch.json"  # in the watched folder; hidden, so never taken for a recording


class WatchLedger:
    """What a watch wrote: each recording's (size, mtime) when it was read and each output's after.

    A recording that changes after it was transcribed (OBS resumed after a pause, a slow copy that
    stalled longer than --settle) is transcribed again while its outputs are still as aitk left
    them; outputs someone edited are never overwritten. Kept in the folder, so a restart knows too.
    """

    def __init__(self, folder: Path):
        import json

        self.path = folder / LEDGER
        try:
            self.data: dict[str, dict] = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.data = {}
        if type(self.data) is not dict:
            self.data = {}

    def changed(self, media: Path, outputs: list[Path]) -> str | None:
        """None: as it was when transcribed (or never transcribed here); "redo": it changed and its
        outputs are untouched; "edited": it changed, but so did some output."""
        entry = self.data.get(str(media))
        if not isinstance(entry, dict) or entry.get("source") == signature(media):
            return None
        recorded = entry.get("outputs") or {}
        return "redo" if all(signature(p) == recorded.get(str(p)) for p in outputs if p.exists()) else "edited"

    def record(self, media: Path, source: list[int] | None, outputs: list[Path]) -> None:
        import json

        self.data[str(media)] = {"source": source, "outputs": {str(p): signature(p) for p in outputs}}
        try:
            atomic_write_text(self.path, json.dumps(self.data, indent=1))
        except OutputError:
            pass  # a read-only folder: the outputs were written; only this memory is lost


def run_watch(
    folder: Path,
    transcriber: Transcriber,
    output_dir: Path | None = None,
    recursive: bool = False,
    settle: float = 3.0,
    interval: float = 1.0,
    stop: threading.Event | None = None,
    reporter: Reporter = null_reporter,
) -> Iterator[FileResult]:
    """Transcribe each recording in `folder` once it has stopped growing; skip ones already done,
    redo ones that changed since this watch (or an earlier one) transcribed them."""
    if not folder.is_dir():
        raise UsageError(f"--watch {folder}: not a folder", hint="create it or pick another")
    reporter(Log(f"watching {folder} for new recordings (Ctrl-C to stop)"))
    ledger = WatchLedger(folder)
    for path in watch_folder(folder, is_media_path, recursive, settle, interval, stop):
        outputs = list(output_paths(path, transcriber.config.formats, output_dir).values())
        source = signature(path)  # before reading: growth during the run shows next time
        change = ledger.changed(path, outputs)
        if change == "edited":
            reporter(
                Log(
                    f"{path} changed after it was transcribed, but its outputs were edited since: left as they are",
                    "warning",
                )
            )
        result = process_file(path, transcriber, output_dir, force=change == "redo", reporter=reporter)
        if result.status == "done":
            ledger.record(path, source, outputs)
        yield result
