"""One record per input, for every batch command's `--json` lines and its end-of-run failure list.

A record is one JSON object on one line (docs/cli.md, "Result records"):

    {"version": 1, "input": "talk.mp4", "status": "ok", "outputs": ["talk.srt"], "error": null,
     "seconds": 1.234, "result": {...}}

`status` is one of STATUSES, whatever the command: ok (done now), skipped (its outputs exist and
were left alone), cached (the result was read back from an earlier run's stored output), failed
(`error` says why, on one line). The command's own payload is under `result` (null when none).
Nothing here prints: the CLI writes `dumps()` and `Tally.lines()`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

VERSION = 1  # bumped when a field is renamed or removed (adding one is not a new version)
STATUSES = ("ok", "skipped", "cached", "failed")

# The states commands used before records (CHANGELOG, 0.x -> records v1), read as a status.
_OLD_STATES = {"done": "ok", "new": "ok", "transcribed": "ok", "cut": "ok", "merged": "ok"}


def status_of(state: str) -> str:
    """A command's own state word ('done', 'new', ...) as a record status; unknown words are an error."""
    status = _OLD_STATES.get(state, state)
    if status not in STATUSES:
        raise ValueError(f"unknown record status {state!r} (use one of {', '.join(STATUSES)})")
    return status


def one_line(message: str | None) -> str | None:
    return None if message is None else " ".join(str(message).split())


@dataclass
class Record:
    input: str
    status: str = "ok"
    outputs: list[str] = field(default_factory=list)
    error: str | None = None
    seconds: float | None = None
    result: Any = None  # the command's own payload (a dict), or None
    version: int = VERSION

    def __post_init__(self) -> None:
        self.input = os.fspath(self.input) if isinstance(self.input, os.PathLike) else str(self.input)
        self.status = status_of(self.status)
        self.outputs = [os.fspath(p) if isinstance(p, os.PathLike) else str(p) for p in self.outputs]
        self.error = one_line(self.error)
        if self.seconds is not None:
            self.seconds = round(float(self.seconds), 3)

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    def to_dict(self) -> dict:
        return {
            "version": self.version,
            "input": self.input,
            "status": self.status,
            "outputs": self.outputs,
            "error": self.error,
            "seconds": self.seconds,
            "result": self.result,
        }

    def to_json(self) -> str:
        """The record as one JSON line (no trailing newline)."""
        return json.dumps(self.to_dict(), ensure_ascii=False)

    dumps = to_json


def failed(input: str | os.PathLike, error: str, outputs: Iterable = (), seconds: float | None = None) -> Record:
    return Record(
        os.fspath(input) if isinstance(input, os.PathLike) else str(input), "failed", list(outputs), error, seconds
    )


@dataclass
class Tally:
    """Counts a run's inputs and keeps its failures, for the "N of M failed:" lines at the end."""

    noun: str = "inputs"
    total: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (input, error)

    def add(self, record: Record) -> Record:
        self.total += 1
        if record.failed:
            self.failures.append((record.input, record.error or "failed"))
        return record

    def fail(self, input: str | os.PathLike, error: str) -> Record:
        return self.add(failed(input, error))

    def __bool__(self) -> bool:
        return bool(self.failures)

    def lines(self) -> list[str]:
        """'2 of 5 inputs failed:' then one line per failure naming its file; [] when none failed."""
        if not self.failures:
            return []
        head = f"{len(self.failures)} of {max(self.total, len(self.failures))} {self.noun} failed:"
        return [head, *(_named(input, error) for input, error in self.failures)]


def _named(input: str, error: str) -> str:
    """The error, led by its file unless the message names it already ('a.mp4: no audio stream')."""
    return error if not input or error.startswith(input) else f"{input}: {error}"
