"""AlphaCode-style selection: docstring examples, generated inputs, clustering, n@k."""

from __future__ import annotations

import json
import random

import pytest

from aitk.passk.config import SelectConfig, TimeLimits
from aitk.passk.examples import generate_inputs, mutate, parse_examples, same_output, signature
from aitk.passk.problems import load_problems
from aitk.passk.select import select
from tests.conftest import run_aitk
from tests.passk.conftest import read_jsonl, run_sandboxed, write_jsonl

PROMPT = '''def f(xs, k):
    """Doc.
    >>> f([1, 2], 3)
    [4, 5]
    f([0], -1) ==> [-1]
    for f([5, 6], 0) == [5, 6]
    >>> round(f([1.5], 1)[0], 1)
    2.5
    f('a', 2) should return 'weird'
    """
'''


def test_parse_examples_handles_doctest_and_arrow_forms():
    found = parse_examples(PROMPT, "f")
    assert [(e.args, e.expected, e.has_expected) for e in found] == [
        (([1, 2], 3), [4, 5], True),
        (([0], -1), [-1], True),
        (([5, 6], 0), [5, 6], True),
        (([1.5], 1), None, False),  # wrapped in round(): an input, but no expected value
        (("a", 2), "weird", True),
    ]
    assert parse_examples("def g(x):\n    return x\n", "g") == []
    inline = (
        'def g(x):\n    """E.g. g(3) ==> 9 and g(2) ==> 4; g([1, 2]) == [1, 2], '
        "g('a b') -> 'a b' as shown; g(5) == 9 * 2\n    \"\"\"\n"
    )
    assert [(e.args, e.expected, e.has_expected) for e in parse_examples(inline, "g")] == [
        ((3,), 9, True),
        ((2,), 4, True),
        (([1, 2],), [1, 2], True),
        (("a b",), "a b", True),
        ((5,), None, False),
    ]


def test_generated_inputs_keep_types_start_with_examples_and_are_deterministic():
    examples = parse_examples(PROMPT, "f")
    inputs = generate_inputs(examples, 12, "seed")
    assert inputs[:5] == [e.args for e in examples]
    assert len(inputs) == 12 and len({repr(i) for i in inputs}) == 12
    assert inputs == generate_inputs(examples, 12, "seed")
    rng = random.Random(0)
    for value in (3, -2.5, "abc", [1, 2], (1, "x"), {"a": 1}, True):
        assert type(mutate(value, rng)) is type(value)


def test_same_output_and_signature():
    assert same_output(0.1 + 0.2, 0.3) and same_output([1, (2.0000000001,)], [1, (2.0,)])
    assert not same_output(1, True) and not same_output(1.0, 1) and not same_output([1], (1,))
    assert signature([["ok", {3, 1, 2}]]) == signature([["ok", {2, 3, 1}]])
    assert signature([["ok", 0.1 + 0.2]]) == signature([["ok", 0.3]])
    assert signature([["ok", [1]]]) != signature([["ok", (1,)]])


ADD_WITH_EXAMPLE = {
    "task_id": "toy/add",
    "prompt": 'def add(a, b):\n    """Add two numbers.\n    >>> add(2, 3)\n    5\n    """\n',
    "test": "def check(candidate):\n    assert candidate(1, 2) == 3\n    assert candidate(-1, 1) == 0\n",
    "entry_point": "add",
}


def test_select_submits_the_largest_cluster_of_example_passing_samples(tmp_path):
    completions = [
        "    return a * b\n",  # fails the example
        "    return 5 if (a, b) == (2, 3) else 0\n",  # passes the example, alone in its cluster
        "    return a + b\n",
        "    return b + a\n",
        "    return sum((a, b))\n",  # one behaviour
        "    while True:\n        pass\n",  # never answers: not runnable
    ]
    samples = write_jsonl(tmp_path / "s.jsonl", [{"task_id": "toy/add", "completion": c} for c in completions])
    problems = load_problems(str(write_jsonl(tmp_path / "p.jsonl", [ADD_WITH_EXAMPLE])))
    result = run_sandboxed(
        "strict",
        lambda: select(samples, problems, SelectConfig(n=2, inputs=8, sandbox=_fast(), limits=TimeLimits(fixed=1.0))),
    )
    chosen = read_jsonl(result.output)
    assert [(c["completion"], c["cluster_size"], c["passed"]) for c in chosen] == [
        ("    return a + b\n", 3, True),
        ("    return 5 if (a, b) == (2, 3) else 0\n", 1, False),
    ]
    assert result.survivors == 4 and result.with_examples == 1
    assert result.n_at_k == 1.0 and result.pass_at_all == 1.0
    assert result.pass_at_n == pytest.approx(1 - (3 * 2) / (6 * 5))  # C(3,2)/C(6,2) of drawing two wrong ones


def _fast():
    from aitk.passk.config import SandboxConfig

    return SandboxConfig(memory_mb=256)


def test_select_on_humaneval_beats_random_choice(tmp_path):
    problems = load_problems("humaneval")
    subset = {tid: problems[tid] for tid in list(problems)[:24]}
    rows = []
    for p in subset.values():
        rows += [
            {"task_id": p.task_id, "completion": c}
            for c in ("    return None\n", "    raise ValueError('no')\n", p.canonical_solution)
        ]
    samples = write_jsonl(tmp_path / "he.jsonl", rows)
    result = run_sandboxed("strict", lambda: select(samples, subset, SelectConfig(n=1, inputs=10)))
    assert result.pass_at_n == pytest.approx(1 / 3)
    assert result.n_at_k >= 0.75  # problems whose docstring has examples pick the canonical solution
    with_checks = [p for p in result.per_problem if p["survivors"] == 1]
    assert with_checks and all(p["selected_passed"] for p in with_checks)


def test_cli_select_prints_n_at_k_and_json(tmp_path):
    problems = write_jsonl(tmp_path / "p.jsonl", [ADD_WITH_EXAMPLE])
    samples = write_jsonl(
        tmp_path / "s.jsonl",
        [{"task_id": "toy/add", "completion": c} for c in ("    return a - b\n", "    return a + b\n")],
    )
    table = run_aitk("passk", "select", str(samples), "-p", str(problems), "-n", "1", "--inputs", "4")
    assert table.returncode == 0, table.stderr
    assert "1@k" in table.stdout and "1.0000" in table.stdout and "1 of 2 samples matched" in table.stderr
    out = run_aitk("passk", "select", str(samples), "-p", str(problems), "-n", "1", "--json", "-q")
    assert json.loads(out.stdout)["result"]["n_at_k"] == 1.0
    short = run_aitk("passk", "select", str(samples), "-p", str(problems), "-n", "3", "--json", "-q")  # 2 samples < n
    assert (
        json.loads(short.stdout, parse_constant=lambda c: pytest.fail(f"not JSON: {c}"))["result"]["pass_at_n"] is None
    )
    assert (
        run_aitk("passk", "select", str(samples), "-p", str(problems), "--n", "1", "-q").returncode == 0
    )  # the old spelling, hidden
    assert "n/a" in run_aitk("passk", "select", str(samples), "-p", str(problems), "-n", "3", "-q").stdout
    bad = run_aitk("passk", "select", str(tmp_path / "missing.jsonl"), "-p", str(problems))
    assert bad.returncode == 2 and "missing.jsonl" in bad.stderr


def test_select_takes_a_sample_that_exits_as_a_behaviour(tmp_path):
    completions = ["    import sys\n    sys.exit(0)\n", "    return a + b\n", "    import sys\n    sys.exit(3)\n"]
    samples = write_jsonl(tmp_path / "s.jsonl", [{"task_id": "toy/add", "completion": c} for c in completions])
    problems = load_problems(str(write_jsonl(tmp_path / "p.jsonl", [ADD_WITH_EXAMPLE])))
    result = run_sandboxed(
        "strict",
        lambda: select(samples, problems, SelectConfig(n=2, inputs=4, sandbox=_fast(), limits=TimeLimits(fixed=1.0))),
    )
    chosen = read_jsonl(result.output)
    assert [(c["completion"], c["passed"]) for c in chosen] == [
        ("    return a + b\n", True)
    ]  # the exits matched no example
    assert result.survivors == 1 and result.n_at_k == 1.0
