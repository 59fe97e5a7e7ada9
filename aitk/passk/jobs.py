"""Samples as sandbox jobs: `make_job` builds one, `run_one` runs it on a worker (restarting a
worker that died) and judges what only the host may judge, `run_jobs` feeds many to local workers
in order. Shared by evaluate (run.py), its Ray actors (remote.py), calibration and select.

Three kinds of job. A function problem's test runs in the sandbox's test process (HumanEval,
MBPP). An evalplus problem's inputs are run there too, but the outputs come back to the host,
which compares them with the reference's. A stdin/stdout program runs once per test input and
the host compares each output. Expected outputs that a sample could copy never enter the sandbox.
"""

from __future__ import annotations

import json
import math
import queue
import threading
from collections.abc import Iterator

from aitk.passk import compare
from aitk.passk.examples import calls_harness
from aitk.passk.problems import Problem
from aitk.passk.sandbox import plaindata
from aitk.passk.workers import Worker, WorkerDied

LOAD_MARGIN = 0.5  # seconds an evalplus sample gets to load on top of its inputs' time budget
OUTCOMES = ("failed", "timed out", "out of memory", "output limit", "sandbox violation", "sandbox error")


def make_job(
    problem: Problem,
    completion: str,
    timeout: float,
    test: str | None = None,
    expected: list | None = None,
    exact: bool = False,
    output_cap: int = 1 << 20,
) -> dict:
    """One sample for a zygote, with the host-only keys that judge it (`expected`, `labels`).

    `timeout` is the sample's time limit (a stdin/stdout program: per test). `test` replaces a
    function problem's test (select's behaviour probes); for evalplus problems `expected` holds the
    reference's outputs (plain-data encoded).
    """
    if problem.kind == "program":
        return program_job(completion, problem.tests, timeout, exact, output_cap)
    job = {
        "id": 0,
        "program": problem.program(completion),
        "prompt": problem.setup,
        "test": problem.test if test is None else test,
        "entry_point": problem.entry_point,
        "timeout": timeout,
    }
    if problem.plus_inputs is not None and test is None:
        job.update(test=value_probe(list(problem.plus_inputs), timeout), timeout=timeout + LOAD_MARGIN)
        job.update(expected=expected, atol=problem.atol)
    return job


def program_job(completion: str, tests, timeout: float, exact: bool, output_cap: int, probe: bool = False) -> dict:
    """A stdin/stdout sample: the program and its inputs go in; expected outputs stay on the host."""
    biggest = max((len(t.output) for t in tests), default=0)
    return {
        "id": 0,
        "kind": "program",
        "program": completion,
        "inputs": [t.input for t in tests],
        "timeout": timeout,
        "output_cap": max(output_cap, 2 * biggest + 4096),
        "expected": None if probe else [t.output for t in tests],
        "labels": [t.kind for t in tests],
        "exact": exact,
        "probe": probe,
    }


def value_probe(inputs: list, budget: float) -> str:
    """Test text calling the candidate on each argument list, recording what came back (evalplus).

    The inputs travel as plain-data JSON (nan, inf and big ints survive); the calls share `budget`
    seconds, after which the rest are recorded as skipped.
    """
    encoded = json.dumps(json.dumps(plaindata.encode(inputs)))
    setup = "import json, signal, time\nfrom passk_sandbox import plaindata as _plain\n"
    return calls_harness(f"{setup}__aitk_inputs__ = _plain.decode(json.loads({encoded}))\n", budget)


def same_value(got, expected, atol: float = 0.0) -> bool:
    """A returned value against the reference's: == (values rebuilt from plain data), floats within tolerance."""
    numbers = (int, float)
    if type(got) in numbers and type(expected) in numbers and float in (type(got), type(expected)):
        if math.isnan(got) and math.isnan(expected):
            return True
        return math.isclose(got, expected, rel_tol=1e-6, abs_tol=max(atol, 1e-9))
    if type(got) in (list, tuple) and type(got) is type(expected) and len(got) == len(expected):
        return all(same_value(g, e, atol) for g, e in zip(got, expected))
    return type(got) is not bool and type(expected) is not bool and got == expected or got is expected


def run_jobs(
    workers: list[Worker], items: Iterator[tuple], window: int, close: bool = True
) -> Iterator[tuple[dict, dict]]:
    """Feed (sample, job) pairs to the workers; yield (sample, outcome) in input order.

    At most `window` jobs are in flight or waiting to be yielded, so memory stays flat. The
    workers are closed when the iteration ends, unless `close` is False (calibration, then the run).
    """
    jobs: queue.Queue = queue.Queue()
    done: queue.Queue = queue.Queue()

    def serve(worker: Worker) -> None:
        while (item := jobs.get()) is not None:
            index, sample, job = item
            done.put((index, sample, run_one(worker, job)))
        if close:
            worker.close()

    threads = [threading.Thread(target=serve, args=(w,), daemon=True) for w in workers]
    for thread in threads:
        thread.start()
    pending: dict[int, tuple] = {}
    sent = emitted = 0
    exhausted = False
    try:
        while True:
            while not exhausted and sent - emitted < window:
                try:
                    sample, job = next(items)
                except StopIteration:
                    exhausted = True
                    break
                jobs.put((sent, sample, job))
                sent += 1
            if exhausted and emitted == sent:
                return
            index, sample, outcome = done.get()
            pending[index] = (sample, outcome)
            while emitted in pending:
                pair = pending.pop(emitted)
                emitted += 1
                yield pair
    finally:
        while not jobs.empty():
            try:
                jobs.get_nowait()
            except queue.Empty:
                break
        for _ in threads:
            jobs.put(None)
        for thread in threads:
            thread.join(timeout=30)


def run_one(worker: Worker, job: dict) -> dict:
    try:
        if job.get("kind") == "program":
            return _run_program(worker, job)
        outcome = worker.run(job)
        return _judge_values(outcome, job) if "expected" in job else outcome
    except WorkerDied as died:
        reason = str(died)
    worker.close()
    try:
        worker.start()  # a fresh sandbox for the next sample
    except Exception as again:  # noqa: BLE001 - the next job retries; never leave the queue unserved
        reason = str(again)
    return {
        "status": "sandbox error",
        "reason": f"the sandbox worker stopped ({reason}); it was restarted",
        "seconds": None,
    }


def _judge_values(outcome: dict, job: dict) -> dict:
    """evalplus: the candidate's outputs against the reference's (None: the reference is being run)."""
    if outcome["status"] != "passed" or job["expected"] is None:
        return outcome
    try:
        got = plaindata.decode(outcome.pop("outputs"))
        expected = plaindata.decode(job["expected"])
    except (KeyError, plaindata.NotPlainData, ValueError, TypeError):
        return {**outcome, "status": "failed", "reason": "no outputs from the inputs' run"}
    for index, ((kind, value), (want_kind, want)) in enumerate(zip(got, expected), start=1):
        where = f"input {index} of {len(expected)}"
        if kind in ("timeout", "skipped"):
            return {**outcome, "status": "timed out", "reason": where}
        if kind != want_kind or not (same_value(value, want, job.get("atol", 0.0)) if kind == "ok" else value == want):
            shown = f"raised {value}" if kind == "exc" else "a different value"
            return {**outcome, "status": "failed", "reason": f"{shown} on {where}"}
    if len(got) != len(expected):
        return {**outcome, "status": "failed", "reason": "outputs for fewer inputs than the reference"}
    return outcome


def _run_program(worker: Worker, job: dict) -> dict:
    """Run a stdin/stdout sample test by test; judge each output here; stop at the first failure."""
    count, labels, probe = len(job["inputs"]), job.get("labels"), job.get("probe", False)
    state: dict = {"status": "passed", "reason": "", "seconds": 0.0, "test_seconds": []}
    signatures: list = []

    def judge(index: int, reply: dict) -> bool:
        state["seconds"] += float(reply.get("seconds") or 0.0)
        state["test_seconds"].append(reply.get("seconds"))
        status = reply.get("status")
        if probe:
            output = reply.get("output") or ""
            signatures.append(["ok", compare.signature(output)] if status == "ok" else [status, None])
            return status != "timed out"
        where = f"test {index + 1} of {count}" + (f" ({labels[index]})" if labels else "")
        if status != "ok":
            reason = str(reply.get("reason") or "")
            state.update(
                status=status if status in OUTCOMES else "failed", reason=f"{where}" + (f": {reason}" if reason else "")
            )
            return False
        if not compare.same_output(reply.get("output") or "", job["expected"][index], job.get("exact", False)):
            diff = compare.first_difference(reply.get("output") or "", job["expected"][index], job.get("exact", False))
            state.update(status="failed", reason=f"wrong answer on {where}: {diff}")
            return False
        return True

    worker.run_program(job, judge)
    state["seconds"] = round(state["seconds"], 4)
    if probe:
        state["outputs"] = signatures + [["skipped", None]] * (count - len(signatures))
    return state
