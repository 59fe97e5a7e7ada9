"""Samples as sandbox jobs: `make_job` builds one, `run_one` runs it on a worker (restarting a
worker that died), `run_jobs` feeds many to local workers in order. Shared by evaluate (run.py),
its Ray actors (remote.py) and select."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator

from aitk.passk.problems import Problem
from aitk.passk.workers import Worker, WorkerDied


def make_job(problem: Problem, completion: str, timeout: float, test: str | None = None) -> dict:
    """One sample for a zygote: the program, and the (trusted) prompt and test that judge it."""
    return {
        "id": 0,
        "program": problem.prompt + completion,
        "prompt": problem.prompt,
        "test": problem.test if test is None else test,
        "entry_point": problem.entry_point,
        "timeout": timeout,
    }


def run_jobs(workers: list[Worker], items: Iterator[tuple[dict, dict]], window: int) -> Iterator[tuple[dict, dict]]:
    """Feed (sample, job) pairs to the workers; yield (sample, outcome) in input order.

    At most `window` jobs are in flight or waiting to be yielded, so memory stays flat. The
    workers are closed when the iteration ends.
    """
    jobs: queue.Queue = queue.Queue()
    done: queue.Queue = queue.Queue()

    def serve(worker: Worker) -> None:
        while (item := jobs.get()) is not None:
            index, sample, job = item
            done.put((index, sample, run_one(worker, job)))
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
        return worker.run(job)
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
