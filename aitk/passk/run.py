"""`aitk passk evaluate`: stream samples through the sandbox workers, write results in order, resume.

Results go to SAMPLES_results.jsonl. While running they are appended (one flushed line per sample,
in sample order) to a hidden `.NAME.partial` file beside it, which an interrupted run resumes from;
the finished file replaces the target in one rename.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from aitk.engine.errors import OutputError, UsageError
from aitk.engine.executor import ExecutorConfig, map_ordered
from aitk.engine.fileio import Staged
from aitk.engine.progress import BATCH, Log, Reporter, TaskAdvanced, TaskFinished, TaskStarted, null_reporter
from aitk.passk.calibrate import Calibration, calibrate
from aitk.passk.config import EvaluateConfig
from aitk.passk.estimator import PassAtK, summarise
from aitk.passk.jobs import make_job, run_jobs
from aitk.passk.problems import Problem, iter_samples
from aitk.passk.workers import Layers, detect, start_workers

STATUSES = ("passed", "failed", "timed out", "out of memory", "output limit", "sandbox violation", "sandbox error")


@dataclass
class Summary:
    samples: int
    results: Path
    layers: Layers
    counts: dict[str, list[int]]  # task_id -> [n, c]
    statuses: dict[str, int] = field(default_factory=dict)
    resumed: int = 0  # samples taken from an earlier run
    pass_at_k: list[PassAtK] = field(default_factory=list)
    short_of_k: dict[int, list[str]] = field(default_factory=dict)  # k -> problems with fewer than k samples
    # on Ray: each distinct set of layers the workers reported (their nodes' sandboxes, not this machine's)
    worker_layers: list[Layers] = field(default_factory=list)
    calibration: Calibration | None = None  # the time limits used (None: every sample came from an earlier run)

    def to_dict(self) -> dict:
        return {
            "samples": self.samples,
            "problems": len(self.counts),
            "results": str(self.results),
            "resumed": self.resumed,
            "pass_at_k": [p.to_dict() for p in self.pass_at_k],
            "short_of_k": {str(k): v for k, v in self.short_of_k.items()},
            "statuses": self.statuses,
            "sandbox": (self.worker_layers[0] if self.worker_layers else self.layers).to_dict(),
            **({"sandbox_variants": [w.to_dict() for w in self.worker_layers]} if len(self.worker_layers) > 1 else {}),
            "time_limits": self.calibration.to_dict() if self.calibration else None,
        }


def results_path(samples: Path) -> Path:
    name = samples.name[: -len(".gz")] if samples.name.endswith(".gz") else samples.name
    stem = name[: -len(".jsonl")] if name.endswith(".jsonl") else name
    return samples.with_name(f"{stem}_results.jsonl")


def evaluate(
    samples: Path,
    problems: dict[str, Problem],
    config: EvaluateConfig,
    reporter: Reporter = null_reporter,
    executor: ExecutorConfig | None = None,
) -> Summary:
    """Evaluate every sample not yet in the results; on Ray (`executor`) each actor runs its own sandbox."""
    if not samples.is_file():
        raise UsageError(f"{samples}: no such file", hint="give a JSONL file of task_id and completion")
    target = results_path(samples)
    staged = Staged(target, resumable=True)  # .NAME.partial: kept when stopped, continued by a rerun
    partial = staged.path
    total = sum(1 for _ in iter_samples(samples, problems))  # checks every line before anything runs
    if total == 0:
        raise UsageError(
            f"{samples}: no samples in the file", hint="write one JSON object per line with task_id and completion"
        )
    layers = detect(config.sandbox)
    counts: dict[str, list[int]] = {}
    statuses: dict[str, int] = {}
    worker_layers: list[Layers] = []

    def record(result: dict) -> None:
        tally = counts.setdefault(result["task_id"], [0, 0])
        tally[0] += 1
        tally[1] += result["passed"] is True
        statuses[result["result_status"]] = statuses.get(result["result_status"], 0) + 1

    stream = iter_samples(samples, problems)
    source = None if config.force else next((p for p in (partial, target) if p.exists()), None)
    done, offset = _resume(source, stream, record) if source else (0, 0)
    resumed = done
    reporter(TaskStarted(BATCH, f"evaluating {samples.name}", float(total)))
    reporter(TaskAdvanced(BATCH, float(done)))
    remote = executor is not None and executor.kind != "local"
    workers = (
        start_workers(min(config.workers, total - done), config.sandbox, layers) if done < total and not remote else []
    )
    calibration = None
    if done < total:
        try:
            needed = sorted({sample["task_id"] for _, sample in iter_samples(samples, problems)})
            calibration = _calibrate(problems, needed, config, layers, workers, reporter)
        except BaseException:
            for worker in workers:
                worker.close()
            raise
    # Only now, with the sandbox up, touch the files: earlier results become the partial's prefix.
    try:
        if source == target:
            staged.resume()
        out = open(partial, "r+" if source else "w", encoding="utf-8")
    except OSError as exc:
        for worker in workers:
            worker.close()
        raise OutputError(f"cannot write {partial}: {exc.strerror}", hint="make the samples' folder writable") from None
    with out:
        out.truncate(offset)
        out.seek(offset)
        if done < total:
            if remote:  # each worker's own layers are reported as its first result comes back
                reporter(
                    Log(
                        f"evaluating on Ray: {executor.workers} workers, each with its own "
                        f"{config.sandbox.level} sandbox"
                    )
                )
            else:
                reporter(Log(layers.describe()))
                for note in layers.missing:
                    reporter(Log(f"sandbox: missing {note}", "warning"))
            limits, expected = calibration.limits, calibration.expected
            jobs = (
                (
                    sample,
                    make_job(
                        problems[sample["task_id"]],
                        sample["completion"],
                        limits[sample["task_id"]],
                        expected=expected.get(sample["task_id"]),
                        exact=config.exact,
                        output_cap=config.sandbox.output_bytes,
                    ),
                )
                for _, sample in stream
            )
            if remote:
                from aitk.passk.remote import SandboxWorker, lost_outcome

                pairs = (
                    (item[0], outcome)
                    for item, outcome in map_ordered(SandboxWorker(config.sandbox), jobs, executor, lost_outcome)
                )
            else:
                pairs = run_jobs(workers, jobs, window=4 * len(workers))
            for sample, outcome in pairs:
                node = outcome.pop("sandbox", None)
                if node is not None and not any(_same_layers(node, w) for w in worker_layers):
                    worker_layers.append(Layers.from_dict(node))
                    reporter(
                        Log(
                            f"{'Ray workers' if len(worker_layers) == 1 else 'another Ray worker'}: "
                            f"{worker_layers[-1].describe()}"
                        )
                    )
                    for note in worker_layers[-1].missing:
                        reporter(Log(f"sandbox: missing {note}", "warning"))
                result = _result_line(sample, outcome, limits[sample["task_id"]])
                out.write(json.dumps(result, ensure_ascii=False) + "\n")
                out.flush()
                record(result)
                done += 1
                reporter(TaskAdvanced(BATCH, float(done)))
        else:
            reporter(Log(f"all {total} samples already evaluated in {target.name} (--force redoes them)"))
        out.flush()
        os.fsync(out.fileno())
    staged.commit()
    reporter(TaskFinished(BATCH))
    summary = Summary(done, target, layers, counts, statuses, resumed=resumed, worker_layers=worker_layers)
    summary.calibration = calibration
    for k in config.ks:
        short = sorted(t for t, (n, _) in counts.items() if n < k)
        if short:
            summary.short_of_k[k] = short
        value = summarise([tuple(v) for v in counts.values()], k)
        if value is not None:
            summary.pass_at_k.append(value)
    return summary


def _calibrate(problems, needed: list[str], config: EvaluateConfig, layers: Layers, workers, reporter) -> Calibration:
    """The time limit of each problem; on Ray the references are timed here, in local sandboxes."""
    local = workers or (
        start_workers(min(config.workers, len(needed)), config.sandbox, layers)
        if config.limits.fixed is None or any(problems[t].plus_inputs is not None for t in needed)
        else []
    )
    try:
        calibration = calibrate(problems, needed, config.limits, config.sandbox.level, local, config.exact, reporter)
    finally:
        if not workers:
            for worker in local:
                worker.close()
    reporter(Log(calibration.describe()))
    return calibration


def _same_layers(node: dict, layers: Layers) -> bool:
    """The same layers in force (each Ray worker runs samples as its own user id)."""
    theirs = layers.to_dict()
    return all(node[k] == theirs[k] for k in theirs if k != "sample_uid")


def _resume(source: Path, stream: Iterator, record) -> tuple[int, int]:
    """Count the earlier results that match the samples line for line: (how many, byte offset after them)."""
    kept, offset = 0, 0
    with open(source, "rb") as handle:
        for raw in iter(handle.readline, b""):
            if not raw.endswith(b"\n"):
                break  # the last line of an interrupted run
            try:
                result = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError):
                result = None  # a whole line that is not a result: not ours to overwrite
            sample = next(stream, (None, None))[1]
            if sample is None:
                raise UsageError(
                    f"{source}: holds more results than the samples have ({kept + 1} or more)",
                    hint="use --force to start over",
                )
            if (
                type(result) is not dict
                or result.get("task_id") != sample["task_id"]
                or result.get("completion") != sample["completion"]
            ):
                raise UsageError(
                    f"{source}: earlier results do not match the samples at result {kept + 1}",
                    hint="use --force to start over",
                )
            record(result)
            kept += 1
            offset = handle.tell()
    return kept, offset


def _result_line(sample: dict, outcome: dict, limit: float) -> dict:
    status = outcome["status"]
    reason = outcome.get("reason") or ""
    text = status if status == "passed" or not reason else f"{status}: {reason}"
    return {
        **sample,
        "passed": status == "passed",
        "result": text,
        "result_status": status,
        "seconds": outcome.get("seconds"),
        "time_limit": limit,
    }
