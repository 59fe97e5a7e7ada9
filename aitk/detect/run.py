"""Detect over a batch of images and videos: per-input result files, skip-if-done, annotated copies.

`run_batch` yields, in input order, an `ImageResult` per image or kept frame and then an `InputDone`
per input (done, skipped or failed). With an output folder each input's results go to
DIR/<stem>.detections.jsonl (written atomically), and the settings that made them beside it in
DIR/.<stem>.detections.settings.json; an input whose results exist, are newer than the input and
were made with the same settings is skipped, and its stored results are yielded again so
aggregate outputs stay complete.
Nothing here prints.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from aitk.detect.annotate import Annotator, annotation_path
from aitk.detect.config import DetectConfig
from aitk.detect.inputs import OUTPUT_MARK, read_input
from aitk.detect.predict import detect_stream
from aitk.detect.results import ImageResult
from aitk.detect.video import is_video_path
from aitk.detect.writers import JsonLinesWriter, read_json_lines
from aitk.engine.errors import MediaError, OutputError
from aitk.engine.executor import ExecutorConfig
from aitk.engine.fileio import OutputClaims, atomic_write_text


@dataclass
class InputDone:
    path: Path
    status: str  # "done" | "skipped" | "failed"
    results: int = 0  # images or frames reported for this input
    outputs: list[Path] = field(default_factory=list)
    error: str | None = None


@dataclass
class _InputStart:
    path: Path


def result_path(path: Path, output_dir: Path) -> Path:
    return Path(output_dir) / f"{Path(path).stem}{OUTPUT_MARK}.jsonl"


def settings_path(path: Path, output_dir: Path) -> Path:
    return Path(output_dir) / f".{Path(path).stem}{OUTPUT_MARK}.settings.json"


def settings_of(path: Path, config: DetectConfig) -> dict:
    """What decides an input's results: the model, the filters and, for a video, the frame sampling
    (not the batch size or device)."""
    model = Path(config.model)
    settings = {
        "model": str(model.resolve()) if model.exists() else config.model,
        "threshold": config.threshold,
        "classes": sorted(config.classes),
        "max_detections": config.max_detections,
    }
    if is_video_path(path):
        settings.update(every=config.every, fps=config.fps)
    return settings


def same_settings(path: Path, output_dir: Path, config: DetectConfig) -> bool:
    """Whether stored results were made with `config`'s settings (results from before aitk kept
    settings count as the same)."""
    stored = settings_path(path, output_dir)
    try:
        return json.loads(stored.read_text()) == settings_of(path, config)
    except FileNotFoundError:
        return True
    except (OSError, ValueError):
        return False


def is_done(path: Path, targets: list[Path]) -> bool:
    """Every target exists and is at least as new as the input."""
    source = Path(path).stat().st_mtime if Path(path).exists() else 0.0
    return all(t.exists() and t.stat().st_mtime >= source for t in targets)


class _Sinks:
    """One input's own outputs: its results file and its annotated copy."""

    def __init__(self, path: Path, targets: dict[str, Path], config: DetectConfig):
        self.path, self.targets, self.config = path, targets, config
        self.results = JsonLinesWriter(targets["results"]) if "results" in targets else None
        self.annotator = None
        if "annotated" in targets:
            rate, sound = None, None
            if is_video_path(path):
                from aitk.engine.media import probe

                info = probe(path)
                rate, sound = config.sampling.output_rate(info.fps), (path if info.has_audio else None)
            self.annotator = Annotator(targets["annotated"], rate, sound)
        self.count = 0
        self.error: str | None = None

    def add(self, result: ImageResult) -> None:
        self.count += 1
        if self.error:
            return
        try:
            if self.results:
                self.results.add(self.count, result)
            if self.annotator:
                self.annotator.add(result)
        except OutputError as exc:
            self.error = exc.message
            self.abort()

    def close(self) -> list[Path]:
        if self.results:
            self.results.close()
            # after the results: a crash between the two makes the next run redo the input, never wrongly skip it
            atomic_write_text(
                settings_path(self.path, self.targets["results"].parent),
                json.dumps(settings_of(self.path, self.config)),
            )
        if self.annotator:
            self.annotator.close()
        return list(self.targets.values())

    def abort(self) -> None:
        for sink in (self.results, self.annotator):
            if sink:
                sink.abort()


def targets_for(path: Path, output_dir: Path | None, annotate_dir: Path | None) -> dict[str, Path]:
    targets = {}
    if output_dir is not None:
        targets["results"] = result_path(path, output_dir)
    if annotate_dir is not None:
        targets["annotated"] = annotation_path(path, annotate_dir, is_video_path(path))
    return targets


def run_batch(
    paths: list[Path],
    config: DetectConfig,
    model,
    output_dir: Path | None = None,
    annotate_dir: Path | None = None,
    force: bool = False,
    executor: ExecutorConfig | None = None,
) -> Iterator[ImageResult | InputDone]:
    """Process inputs in order; one bad input never stops the batch. Results carry no image arrays.

    With a Ray `executor`, `model` is unused: each Ray worker loads `config.model` once and detects
    whole inputs; this process still decides skips and writes every results file, as locally.
    """
    if executor is not None and executor.kind != "local":
        yield from _run_remote(paths, config, output_dir, annotate_dir, force, executor)
        return

    def items() -> Iterator:
        for path, plan in _plans(paths, config, output_dir, annotate_dir, force):
            if plan is not None:
                yield from plan
                continue
            yield _InputStart(path)
            try:
                yield from read_input(path, config)
            except MediaError as exc:
                yield InputDone(path, "failed", error=exc.message)
                continue
            yield InputDone(path, "done")

    sinks: _Sinks | None = None
    try:
        for item in detect_stream(items(), config, model, keep_images=annotate_dir is not None):
            if isinstance(item, _InputStart):
                try:
                    sinks = _Sinks(item.path, targets_for(item.path, output_dir, annotate_dir), config)
                except MediaError:
                    sinks = None  # an unreadable video: read_input reports it next
            elif isinstance(item, ImageResult):
                if sinks is not None:
                    sinks.add(item)
                item.image = None
                yield item
            elif isinstance(item, InputDone):
                if sinks is not None and item.path == sinks.path:
                    item, sinks = _finish(item, sinks), None
                yield item
    finally:
        if sinks is not None:  # stopped part-way (Ctrl-C, a model error): no half-written outputs
            sinks.abort()


def _plans(
    paths, config: DetectConfig, output_dir: Path | None, annotate_dir: Path | None, force: bool
) -> Iterator[tuple[Path, Iterator | None]]:
    """(input, None) for inputs to detect; (input, what to yield instead) for name clashes and skips."""
    claims = OutputClaims()
    for path in map(Path, paths):
        targets = targets_for(path, output_dir, annotate_dir)
        clash = claims.claim(path, targets.values())
        if clash is not None:
            yield path, iter([InputDone(path, "failed", error=clash)])
            continue
        if (
            output_dir is not None
            and not force
            and is_done(path, list(targets.values()))
            and same_settings(path, output_dir, config)
            and _readable(targets["results"])
        ):
            yield path, _replay(path, targets)
            continue
        yield path, None


def _replay(path: Path, targets: dict[str, Path]) -> Iterator:
    stored = 0
    for result in read_json_lines(targets["results"]):
        stored += 1
        yield result
    yield InputDone(path, "skipped", stored, list(targets.values()))


class RemoteDetector:
    """A worker factory for `--executor ray`: loads the model once; detects one whole input per call.

    The worker writes the input's annotated copy itself (it has the frames); its results come back
    here, where the results file is written.
    """

    def __init__(self, config: DetectConfig, annotate_dir: Path | None):
        self.config, self.annotate_dir = config, annotate_dir

    def __call__(self):
        from dataclasses import replace

        from aitk.detect.models import load_model
        from aitk.engine.device import resolve_device

        config = replace(self.config, device=resolve_device(self.config.device).torch)
        model = load_model(config.model, config.device)
        return lambda path: list(run_batch([path], config, model, None, self.annotate_dir, force=True))


def _run_remote(
    paths, config: DetectConfig, output_dir, annotate_dir, force, executor: ExecutorConfig
) -> Iterator[ImageResult | InputDone]:
    from aitk.engine.executor import map_planned

    plans = list(_plans(paths, config, output_dir, annotate_dir, force))
    lost = lambda path, why: [InputDone(path, "failed", error=f"{path}: {why}")]  # noqa: E731
    for path, plan, items in map_planned(
        RemoteDetector(config, annotate_dir), plans, lambda plan: plan is None, executor, lost
    ):
        if plan is not None:
            yield from plan
            continue
        targets = targets_for(path, output_dir, None)
        sinks = _Sinks(path, targets, config) if targets else None
        for item in items:
            if isinstance(item, ImageResult):
                if sinks is not None:
                    sinks.add(item)
                yield item
                continue
            annotated = [p for p in item.outputs if annotate_dir is not None]
            if sinks is not None:
                item = _finish(item, sinks)
            if item.status == "done":
                item.outputs = [*(item.outputs if sinks is not None else []), *annotated]
            yield item


def _readable(stored: Path) -> bool:
    """Whether a stored results file parses completely (checked before replaying any of it);
    if not, the input is redone.
    """
    try:
        for _ in read_json_lines(stored):
            pass
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return True


def _finish(done: InputDone, sinks: _Sinks) -> InputDone:
    done.results = sinks.count
    if done.status != "done" or sinks.error:
        sinks.abort()
        done.status, done.error = "failed", done.error or sinks.error
        return done
    try:
        done.outputs = sinks.close()
    except OutputError as exc:
        sinks.abort()
        done.status, done.error = "failed", exc.message
    return done
