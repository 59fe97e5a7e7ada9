"""Watch a folder for files that have stopped growing (a recorder such as OBS writes for minutes).

`StableFiles` is the pure part: fed snapshots {path: (size, mtime_ns)} with a clock, it hands out
each file once its size and mtime have not changed for `settle` seconds. A file that changes
after it was handed out (rewritten, or a broken file replaced) is handed out again once stable.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from aitk.engine.fileio import TEMP_PREFIX

Stat = tuple[int, int]  # (size in bytes, mtime in ns)


class StableFiles:
    def __init__(self, settle: float):
        self.settle = settle
        self._pending: dict[Path, tuple[Stat, float]] = {}  # path -> (stat, time first seen so)
        self._handed: dict[Path, Stat] = {}

    def observe(self, snapshot: dict[Path, Stat], now: float) -> list[Path]:
        ready: list[Path] = []
        for path, stat in snapshot.items():
            if self._handed.get(path) == stat:
                continue
            seen = self._pending.get(path)
            if seen is None or seen[0] != stat:
                self._pending[path] = (stat, now)  # new or still growing: restart its clock
            elif stat[0] > 0 and now - seen[1] >= self.settle:
                ready.append(path)
                self._handed[path] = stat
                del self._pending[path]
        for gone in set(self._pending) - set(snapshot):
            del self._pending[gone]
        return sorted(ready)


def signature(path: Path) -> list[int] | None:
    """[size, mtime_ns] of a file, JSON-friendly for a watch's state file; None when it is gone."""
    try:
        st = path.stat()
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


def snapshot(folder: Path, recursive: bool, accept: Callable[[Path], bool]) -> dict[Path, Stat]:
    found: dict[Path, Stat] = {}
    walker = os.walk(folder) if recursive else [(str(folder), [], os.listdir(folder))]
    for root, dirs, names in walker:
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in names:
            if name.startswith((".", TEMP_PREFIX)):
                continue
            path = Path(root) / name
            try:
                st = path.stat()
            except OSError:  # deleted between listing and stat
                continue
            if path.is_file() and accept(path):
                found[path] = (st.st_size, st.st_mtime_ns)
    return found


def watch_folder(
    folder: Path,
    accept: Callable[[Path], bool],
    recursive: bool = False,
    settle: float = 3.0,
    interval: float = 1.0,
    stop: threading.Event | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[Path]:
    """Yield each file under `folder` once it has stopped growing, until `stop` is set."""
    stop = stop or threading.Event()
    tracker = StableFiles(settle)
    while not stop.is_set():
        yield from tracker.observe(snapshot(folder, recursive, accept), clock())
        stop.wait(interval)
