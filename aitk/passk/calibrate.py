"""Calibrated time limits: each problem's reference solution timed in the same sandbox, on this machine.

A fixed timeout fails correct but slow samples on a slow or busy machine, so scores move with the
machine (evalplus's users saw pass@1 drop from 0.40 to 0.23). Instead each problem's reference is
run once through the very workers that will run the samples, and a sample gets
max(floor, factor x the reference's seconds). The seconds are cached per machine, sandbox level and
problem file under $AITK_HOME/passk/calibration/, so later runs start at once; a changed problem
is timed again. A machine that has become slower or busier since (or faster) is noticed by a
yardstick, a fixed bit of work timed three times in the sandbox at every run (about 0.1 s): when it takes more
than SPEED_CHANGE times as long as when the cache was written, or less than 1/SPEED_CHANGE, every
reference is timed again. evalplus problems need their reference's outputs in any mode: they come
from the same runs and the same cache.
"""

from __future__ import annotations

import hashlib
import json
import platform
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

from aitk.engine.device import cpu_model, usable_cpus
from aitk.engine.errors import UsageError
from aitk.engine.fileio import atomic_write_text
from aitk.engine.progress import Log, Reporter, TaskAdvanced, TaskFinished, TaskStarted, null_reporter
from aitk.passk.config import DEFAULT_TIMEOUT, TimeLimits
from aitk.passk.jobs import make_job, run_jobs
from aitk.passk.problems import Problem
from aitk.passk.sandbox import plaindata
from aitk.passk.workers import Worker

REFERENCE_LIMIT = 30.0  # seconds a reference may take while it is timed (per test for stdin/stdout)
YARDSTICK_SECONDS = (
    0.04  # the yardstick in the sandbox on this project's 2-core EPYC (about 0.03 s, busy or not): slowdown 1
)
SPEED_CHANGE = 1.5  # the yardstick this many times slower (or faster) than in the cache: time everything again
YARDSTICK = {  # a fixed bit of pure-Python work (about 50 ms on a quiet core here) run as a function sample
    "id": 0,
    "program": "def work():\n    total = 0\n    for i in range(600000):\n        total += i % 7\n    return total\n",
    "prompt": "",
    "test": "def check(candidate):\n    candidate()\n",
    "entry_point": "work",
    "timeout": REFERENCE_LIMIT,
}
TASK = "calibrate"
VERSION = 1  # of the cache file's layout


@dataclass
class Calibration:
    limits: dict[str, float]  # task_id -> seconds per sample (per test for stdin/stdout)
    mode: str = "calibrated"  # or "fixed"
    floor: float = 3.0
    factor: float = 4.0
    slowdown: float = 1.0  # the floor's scale here: yardstick now / YARDSTICK_SECONDS, at least 1
    reference: dict[str, float] = field(default_factory=dict)  # task_id -> the reference's seconds here
    expected: dict[str, list] = field(default_factory=dict)  # evalplus: the reference's outputs (plain data)
    failed: dict[str, str] = field(default_factory=dict)  # task_id -> why it has no reference time
    cache: Path | None = None
    timed_now: int = 0  # references run in this call (the rest came from the cache)
    seconds: float = 0.0
    yardstick: float | None = None  # seconds the yardstick took now
    speed_change: float | None = None  # yardstick now / when the cache was written (None: no cache)

    def to_dict(self) -> dict:
        values = sorted(self.reference.values())
        limits = sorted(self.limits.values())
        return {
            "mode": self.mode,
            **(
                {"floor": self.floor, "factor": self.factor, "slowdown": self.slowdown}
                if self.mode == "calibrated"
                else {}
            ),
            "problems": len(self.limits),
            "limit_seconds": _spread(limits),
            **({"reference_seconds": _spread(values)} if values else {}),
            "without_reference": {t: why for t, why in sorted(self.failed.items())},
            "timed_now": self.timed_now,
            "yardstick_seconds": self.yardstick,
            "speed_change": self.speed_change,
            "seconds": round(self.seconds, 2),
            "cache": str(self.cache) if self.cache else None,
        }

    def describe(self) -> str:
        if self.mode == "fixed":
            return f"time limits: fixed, {_spread(sorted(self.limits.values()))['max']} s"
        spread = _spread(sorted(self.limits.values()))
        came = f"{self.timed_now} timed now" if self.timed_now else "all from the cache"
        return (
            f"time limits: calibrated, max({self.floor * self.slowdown:.3g} s, {self.factor:g} x reference)"
            f" = {spread['min']:g} to "
            f"{spread['max']:g} s over {len(self.limits)} problems ({came})"
        )


def _spread(values: list[float]) -> dict:
    if not values:
        return {}
    return {"min": round(values[0], 4), "median": round(statistics.median(values), 4), "max": round(values[-1], 4)}


def machine() -> dict:
    """What makes reference times from one run valid for another: this machine as the samples see it."""
    return {
        "host": platform.node(),
        "cpu": cpu_model(),
        "cpus": usable_cpus(),
        "arch": platform.machine(),
        "python": platform.python_version(),
    }


def cache_path(problems: dict[str, Problem], level: str) -> Path:
    from aitk.engine.models import aitk_home

    where = hashlib.sha256(json.dumps([machine(), level], sort_keys=True).encode()).hexdigest()[:12]
    which = hashlib.sha256("".join(sorted(p.digest() for p in problems.values())).encode()).hexdigest()[:12]
    return aitk_home() / "passk" / "calibration" / f"{where}-{which}.json"


def calibrate(
    problems: dict[str, Problem],
    task_ids: list[str],
    limits: TimeLimits,
    level: str,
    workers: list[Worker],
    exact: bool = False,
    reporter: Reporter = null_reporter,
) -> Calibration:
    """Per-problem limits for `task_ids`; runs (on `workers`, left open) the references not cached yet."""
    started = time.monotonic()
    timing = limits.fixed is None
    wanted = [t for t in task_ids if timing or problems[t].plus_inputs is not None]
    path = cache_path(problems, level)
    entries, then = ({}, None) if limits.recalibrate else _read(path)
    result = Calibration({}, "calibrated" if timing else "fixed", limits.floor, limits.factor, cache=path)
    if timing and wanted:
        result.yardstick = _yardstick(workers)
        if result.yardstick:
            result.slowdown = round(max(1.0, result.yardstick / YARDSTICK_SECONDS), 2)
        if then:
            result.speed_change = round(result.yardstick / then, 2)
            if not 1 / SPEED_CHANGE <= result.speed_change <= SPEED_CHANGE:
                reporter(
                    Log(
                        f"this machine runs {result.speed_change:g} x as long as when the time limits were cached; "
                        "timing the references again"
                    )
                )
                entries, then = {}, None  # every time in the cache was taken at the other speed
    todo = [t for t in wanted if entries.get(t, {}).get("digest") != problems[t].digest()]
    if todo:
        reporter(TaskStarted(TASK, "timing reference solutions", float(len(todo)), unit="references"))
        entries.update(_time_references(problems, todo, workers, exact, reporter))
        reporter(TaskFinished(TASK))
        _write(path, entries, then if then is not None else result.yardstick)  # the speed its times were taken at
    result.timed_now = len(todo)
    for tid in task_ids:
        problem, entry = problems[tid], entries.get(tid, {})
        if problem.plus_inputs is not None:
            if entry.get("outputs") is None:
                raise UsageError(
                    f"{tid}: its reference solution fails ({entry.get('error', 'not run')}), so the expected outputs "
                    "of its inputs are unknown",
                    hint="fix the problem's canonical_solution or leave the problem out",
                )
            result.expected[tid] = entry["outputs"]
        seconds = entry.get("seconds") if timing else None
        if timing and seconds is None:
            result.failed[tid] = entry.get("error", "no reference solution")
        if seconds is not None:
            result.reference[tid] = seconds
        result.limits[tid] = round(limits.limit(seconds, problem.time_limit, result.slowdown), 4)
    if result.failed and timing:
        shown = ", ".join(sorted(result.failed)[:3]) + (" ..." if len(result.failed) > 3 else "")
        reporter(
            Log(
                f"{len(result.failed)} problem(s) without a working reference get"
                f" {DEFAULT_TIMEOUT * result.slowdown:.3g} s ({shown})"
            )
        )
    result.seconds = time.monotonic() - started
    return result


def _time_references(problems, todo: list[str], workers: list[Worker], exact: bool, reporter: Reporter) -> dict:
    entries: dict[str, dict] = {}

    def jobs():
        for tid in todo:
            problem = problems[tid]
            if not problem.canonical_solution.strip():
                entries[tid] = {"digest": problem.digest(), "seconds": None, "error": "no reference solution"}
                continue
            yield tid, make_job(problem, problem.canonical_solution, REFERENCE_LIMIT, exact=exact)

    for done, (tid, outcome) in enumerate(run_jobs(workers, jobs(), window=4 * len(workers), close=False), start=1):
        problem = problems[tid]
        entry: dict = {"digest": problem.digest(), "seconds": None}
        if outcome["status"] != "passed":
            entry["error"] = f"{outcome['status']}: {outcome.get('reason') or ''}".rstrip(": ")
        elif problem.kind == "program":
            entry["seconds"] = max(s for s in outcome["test_seconds"] if s is not None)
        else:
            entry["seconds"] = outcome["seconds"]
            if problem.plus_inputs is not None:
                entry.update(_reference_outputs(outcome, len(problem.plus_inputs)))
        entries[tid] = entry
        reporter(TaskAdvanced(TASK, float(done)))
    return entries


def _reference_outputs(outcome: dict, count: int) -> dict:
    """evalplus: the reference's outputs, when it answered every input in time."""
    try:
        outputs = plaindata.decode(outcome["outputs"])
    except (KeyError, plaindata.NotPlainData, ValueError, TypeError):
        return {"seconds": None, "error": "no outputs from its run"}
    if len(outputs) != count or any(kind in ("timeout", "skipped") for kind, _ in outputs):
        return {"seconds": None, "error": f"did not answer every input within {REFERENCE_LIMIT:g} s"}
    raised = next((i for i, (kind, _) in enumerate(outputs, start=1) if kind == "exc"), None)
    if raised is not None:
        return {"seconds": None, "error": f"raised {outputs[raised - 1][1]} on input {raised} of {count}"}
    return {"outputs": outcome["outputs"]}


def _yardstick(workers: list[Worker]) -> float | None:
    """Median seconds of three runs of the yardstick in the sandbox (None when it fails)."""
    runs = [outcome for _, outcome in run_jobs(workers, ((i, dict(YARDSTICK)) for i in range(3)), 3, close=False)]
    seconds = sorted(o["seconds"] for o in runs if o["status"] == "passed" and o.get("seconds") is not None)
    return seconds[len(seconds) // 2] if seconds else None


def _read(path: Path) -> tuple[dict, float | None]:
    """(task entries, the yardstick's seconds when they were timed)."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}, None
    if type(data) is not dict or data.get("version") != VERSION:
        return {}, None
    return data.get("tasks", {}), data.get("yardstick")


def _write(path: Path, entries: dict, yardstick: float | None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"version": VERSION, "machine": machine(), "yardstick": yardstick, "tasks": entries}
    atomic_write_text(path, json.dumps(record))
