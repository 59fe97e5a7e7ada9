"""Progress as events. Cores call a Reporter; only the CLI draws them (with rich, on a terminal).

Units are whatever the task counts in (seconds of audio for transcription); `total` may be None.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class TaskStarted:
    task: str  # stable id, e.g. the input path
    label: str
    total: float | None = None
    unit: str = "s"  # what total counts: seconds of media, or "steps", "views", "pages"...


@dataclass(frozen=True)
class TaskAdvanced:
    task: str
    completed: float  # absolute, not a delta, so a dropped event cannot skew the bar


@dataclass(frozen=True)
class TaskFinished:
    task: str
    ok: bool = True
    note: str = ""


@dataclass(frozen=True)
class Log:
    message: str
    level: str = "info"  # "info" | "warning" | "error"


Event = TaskStarted | TaskAdvanced | TaskFinished | Log


class Reporter(Protocol):
    def __call__(self, event: Event) -> None: ...


def null_reporter(event: Event) -> None:
    """Drops every event: for library use and tests."""


class Recorder:
    """Keeps every event in a list: handy in tests."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def __call__(self, event: Event) -> None:
        self.events.append(event)


BATCH = "batch"  # task id of a batch's overall bar; per-item tasks use the item's path
