"""Helpers for passk tests: a one-problem file and a sample writer. Untrusted code only runs in the sandbox."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aitk.engine.errors import DependencyError
from tests.conftest import STRICT, require

ADD = {
    "task_id": "toy/add",
    "prompt": 'def add(a, b):\n    """Return a + b."""\n',
    "test": "def check(candidate):\n    assert candidate(1, 2) == 3\n"
    "    assert candidate(-1, 1) == 0\n    assert candidate(10, 5) == 15\n",
    "entry_point": "add",
}

ADD_STDIO = {  # the same problem as a stdin/stdout program (CodeContests format)
    "name": "toy/add",
    "description": "Read two integers a and b; print a + b.",
    "public_tests": {"input": ["1 2\n"], "output": ["3\n"]},
    "private_tests": {"input": ["-1 1\n", "123456 654321\n"], "output": ["0\n", "777777\n"]},
}


def write_jsonl(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture
def add_problems(tmp_path) -> Path:
    return write_jsonl(tmp_path / "problems.jsonl", [ADD])


def sandbox_uids_alive(first: int = 61000, last: int = 61099) -> list[int]:
    """Host pids still running as one of the sandbox's user ids (should be none after a run)."""
    alive = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("Uid:") and first <= int(line.split()[1]) <= last:
                    alive.append(int(entry.name))
        except OSError:
            continue
    return alive


def run_sandboxed(level: str, call):
    """Call `call()`; a missing sandbox layer skips the test (fails under AITK_STRICT_TESTS=1)."""
    if level == "strict":
        require("bwrap")
    try:
        return call()
    except DependencyError as exc:
        if STRICT:
            raise
        pytest.skip(f"sandbox layer missing here: {exc}")
