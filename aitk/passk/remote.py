"""`aitk passk evaluate --executor ray`: each Ray actor runs its samples in its own sandbox.

The actor builds the same sandbox as a local run (the layers are detected on the actor's node,
and `--require-sandbox` fails closed there too), and runs one sample at a time through it. Actors
on one node take distinct sandbox user ids from a slot they lock for their lifetime.
"""

from __future__ import annotations

import fcntl
import os
import tempfile

from aitk.passk.config import SandboxConfig

SLOT_BASE = 64  # local runs use worker indexes 0..workers-1; Ray actors start above them
SLOTS = 256


def claim_slot() -> tuple[int, int]:
    """(slot, fd): the first slot whose lock file no other live process holds; the lock ends with the process."""
    folder = os.path.join(tempfile.gettempdir(), "aitk-passk-slots")
    os.makedirs(folder, exist_ok=True)
    for slot in range(SLOT_BASE, SLOT_BASE + SLOTS):
        fd = os.open(os.path.join(folder, f"{slot}.lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return slot, fd
        except BlockingIOError:
            os.close(fd)
    raise RuntimeError(f"more than {SLOTS} sandbox workers on this node")


class SandboxWorker:
    """A worker factory: one sandbox per actor; the function maps (sample, job) to the outcome dict,
    with the layers in force on the actor's node under "sandbox"."""

    def __init__(self, sandbox: SandboxConfig):
        self.sandbox = sandbox

    def __call__(self):
        from aitk.passk.jobs import run_one
        from aitk.passk.workers import detect, start_workers

        try:
            slot, self._lock = claim_slot()
            layers = detect(self.sandbox)
            worker = start_workers(1, self.sandbox, layers, first_index=slot)[0]  # folds the probe into layers
        except Exception as exc:  # noqa: BLE001 - raised on every input, so the driver stops with it
            failure = exc

            def refuse(item):
                raise failure

            return refuse
        node = layers.to_dict()  # what this worker's node gave its sandbox, for the driver's report
        return lambda item: {**run_one(worker, item[1]), "sandbox": node}


def lost_outcome(item, why: str) -> dict:
    """A sample whose Ray worker kept dying: reported like a sandbox that stopped locally."""
    return {"status": "sandbox error", "reason": f"the Ray worker running it stopped: {why}", "seconds": None}
