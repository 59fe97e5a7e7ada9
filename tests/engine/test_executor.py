"""The executors: local and a real local Ray (2 CPUs) give the same ordered results; a worker that
dies is replaced and its input retried a bounded number of times."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from aitk.engine.errors import UsageError
from aitk.engine.executor import ExecutorConfig, map_ordered


class Square:
    """A worker factory: `load` counts model loads in a folder, the function squares its input.

    Input -1 kills its worker process every time; input -2 kills it only on the first attempt
    (a marker file remembers), like a flaky node.
    """

    def __init__(self, folder: Path):
        self.folder = folder

    def __call__(self):
        (self.folder / f"load-{os.getpid()}-{os.urandom(4).hex()}").touch()
        return self.run

    def run(self, x: int):
        if x == -1:
            os._exit(3)
        if x == -2:
            marker = self.folder / "flaky-died-once"
            if not marker.exists():
                marker.touch()
                os._exit(3)
        return x * x


def lost(item, message):
    return f"lost {item}: {message}"


def test_local_executor_is_a_plain_ordered_map(tmp_path):
    out = list(map_ordered(Square(tmp_path), [3, 1, 2], ExecutorConfig(), lost))
    assert out == [(3, 9), (1, 1), (2, 4)]
    assert len(list(tmp_path.glob("load-*"))) == 1  # the model loads once
    assert list(map_ordered(Square(tmp_path), [], ExecutorConfig(), lost)) == []


def test_bad_executor_settings_are_usage_errors():
    with pytest.raises(UsageError, match="--executor"):
        ExecutorConfig(kind="spark")
    with pytest.raises(UsageError, match="--ray-address"):
        ExecutorConfig(address="auto")
    with pytest.raises(UsageError, match="--workers"):
        ExecutorConfig(kind="ray", workers=0)
    with pytest.raises(UsageError, match="--cpus-per-worker"):
        ExecutorConfig(kind="ray", gpus_per_worker=-1)


@pytest.mark.slow
def test_ray_gives_the_local_results_in_order_and_survives_dying_workers(ray_local, tmp_path):
    items = [5, -2, 7, -1, 2, 3, 4, 6]
    config = ExecutorConfig(kind="ray", workers=2, retries=2)
    out = list(map_ordered(Square(tmp_path), items, config, lost))
    assert [item for item, _ in out] == items  # input order, whatever finished first
    values = dict(out)
    assert values[-2] == 4  # died once, retried on a fresh worker
    assert values[-1].startswith("lost -1: its worker died 3 times")  # 1 try + 2 retries, then reported
    assert [values[x] for x in (5, 7, 2, 3, 4, 6)] == [25, 49, 4, 9, 16, 36]  # innocent inputs unharmed
    # The model loads once per actor, never per input: 12 runs (8 inputs, 4 retries) on at most
    # 6 actors (2, plus one replacement per death). A replacement may be killed at the end before it
    # has loaded, and retries may share a fresh actor, so at least 4 actors load: the two first ones
    # and the three distinct actors -1 kills, one of which may also have served -2's retry.
    loads = len(list(tmp_path.glob("load-*")))
    assert 4 <= loads <= 2 + 4
