"""Problem files in every format aitk reads: MBPP, evalplus (HumanEval+, MBPP+), CodeContests, APPS.

The files are written here, in each project's own layout, with reference solutions of our own.
"""

from __future__ import annotations

import json

import pytest

from aitk.engine.errors import UsageError
from aitk.passk.config import EvaluateConfig, TimeLimits
from aitk.passk.problems import load_problems
from aitk.passk.run import evaluate
from tests.conftest import run_aitk
from tests.passk.conftest import read_jsonl, run_sandboxed, write_jsonl

MBPP = [
    {
        "task_id": 11,
        "text": "Write a python function to remove the first and last occurrence of a given character from the string.",
        "code": "def remove_occ(s, ch):\n    s = s.replace(ch, '', 1)\n    i = s.rfind(ch)\n"
        "    return s if i < 0 else s[:i] + s[i + 1:]\n",
        "test_list": [
            'assert remove_occ("hello","l") == "heo"',
            'assert remove_occ("abcda","a") == "bcd"',
            'assert remove_occ("PHP","P") == "H"',
        ],
        "test_setup_code": "",
        "challenge_test_list": [],
    },
    {
        "task_id": 12,
        "text": "Write a function to find the area of a circle of radius r.",
        "code": "import math\ndef circle_area(r):\n    return math.pi * r * r\n",
        "test_list": ["assert math.isclose(circle_area(2), 12.566370614359172)", "assert circle_area(0) == 0"],
        "test_setup_code": "import math",
    },
    {
        "task_id": 13,
        "text": "Write a function to find the hypotenuse of a right triangle.",
        "code": "import math\nimport numpy\ndef hypotenuse(a, b):\n    return math.sqrt(a * a + b * b)\n",
        "test_list": ["assert math.isclose(hypotenuse(3, 4), 5)"],  # math: imported by the code, as in MBPP
        "test_setup_code": "",
    },
]

HUMANEVAL_PLUS = {
    "task_id": "HumanEval/0",
    "prompt": 'def mean(xs: list) -> float:\n    """The mean of xs.\n    >>> mean([1, 2, 3])\n    2.0\n    """\n',
    "entry_point": "mean",
    "canonical_solution": "    return sum(xs) / len(xs)\n",
    "base_input": [[[1, 2, 3]], [[5]]],
    "plus_input": [[[0.1, 0.2]], [[10**20, 1]], [[-1, 1, 1e-9]]],
    "atol": 0,
    "contract": "",
    "test": "",
}

MBPP_PLUS = {
    "task_id": "Mbpp/3",
    "prompt": '"""\nWrite a function to tell whether a number is not prime.\nassert is_not_prime(2) == False\n"""\n',
    "code": "def is_not_prime(n):\n    return n < 2 or any(n % d == 0 for d in range(2, int(n ** 0.5) + 1))\n",
    "entry_point": "is_not_prime",
    "base_input": [[2], [10], [35]],
    "plus_input": [[1], [97], [7919], [7917]],
    "atol": 0,
    "test_list": ["assert is_not_prime(2) == False"],
}

APPS = {
    "problem_id": 4001,
    "question": "Given n and then n integers, print their maximum.\n\n-----Example-----\nInput\n3\n1 5 2\nOutput\n5\n",
    "solutions": json.dumps(["n = int(input())\nprint(max(map(int, input().split())))\n"]),
    "input_output": json.dumps({"inputs": ["3\n1 5 2\n", "1\n-7\n"], "outputs": [["5"], "-7\n"]}),
    "difficulty": "introductory",
    "url": "",
    "starter_code": "",
}


def test_readers_take_each_format_as_it_is(tmp_path):
    mbpp = load_problems(str(write_jsonl(tmp_path / "mbpp.jsonl", MBPP)))
    assert mbpp["11"].entry_point == "remove_occ" and mbpp["12"].entry_point == "circle_area"
    assert mbpp["12"].prefix == "import math\n" and mbpp["11"].program("x") == "x"
    plus = load_problems(str(write_jsonl(tmp_path / "he+.jsonl", [HUMANEVAL_PLUS])))["HumanEval/0"]
    assert plus.format == "evalplus" and len(plus.plus_inputs) == 5 and plus.program("B") == plus.prompt + "B"
    mplus = load_problems(str(write_jsonl(tmp_path / "mbpp+.jsonl", [MBPP_PLUS])))["Mbpp/3"]
    assert mplus.program("B") == "B" and mplus.canonical_solution == MBPP_PLUS["code"]
    apps = load_problems(str(write_jsonl(tmp_path / "apps.jsonl", [APPS])))["4001"]
    assert apps.kind == "program" and [t.output for t in apps.tests] == ["5\n", "-7\n"]
    demo = load_problems("stdio-demo")
    sums = demo["demo/sum-pairs"]
    assert sums.time_limit == 1.0 and [t.kind for t in sums.tests][:2] == ["example", "hidden"]
    assert {t.kind for t in sums.tests} == {"example", "hidden", "generated"} and sums.canonical_solution


@pytest.mark.parametrize(
    "record, needle",
    [
        ({"foo": 1}, "not a problem format aitk reads"),
        ({**APPS, "input_output": json.dumps({"inputs": [[1]], "outputs": [1], "fn_name": "f"})}, "call-based"),
        ({"name": "x", "description": "d", "public_tests": {"input": ["1"], "output": []}}, "same length"),
        ({"task_id": 1, "text": "t", "code": "def f(): pass", "test_list": []}, "test_list"),
    ],
)
def test_a_bad_problem_names_the_file_and_line(tmp_path, record, needle):
    path = write_jsonl(tmp_path / "p.jsonl", [record])
    with pytest.raises(UsageError) as caught:
        load_problems(str(path))
    assert needle in str(caught.value) and f"{path} line 1" in str(caught.value)


def test_mbpp_evalplus_and_apps_samples_are_judged(tmp_path):
    files = {
        "mbpp": (MBPP, ["11", "12", "13"]),
        "plus": ([HUMANEVAL_PLUS, MBPP_PLUS], ["HumanEval/0", "Mbpp/3"]),
        "apps": ([APPS], ["4001"]),
    }
    rows = {
        "mbpp": [
            ("11", MBPP[0]["code"], "passed"),
            ("11", "def remove_occ(s, ch):\n    return s.replace(ch, '', 1)\n", "failed: AssertionError"),
            ("12", "def circle_area(r):\n    return math.pi * r ** 2\n", "passed"),  # math from test_setup_code
            ("13", "import math\ndef hypotenuse(a, b):\n    return math.hypot(a, b)\n", "passed"),
        ],
        "plus": [
            ("HumanEval/0", HUMANEVAL_PLUS["canonical_solution"], "passed"),
            (
                "HumanEval/0",
                "    return xs[0] if len(xs) == 2 else sum(xs) / len(xs)\n",
                "failed: a different value on input 3 of 5",
            ),
            ("HumanEval/0", "    return len(xs)\n", "failed: a different value on input 1 of 5"),
            ("Mbpp/3", MBPP_PLUS["code"], "passed"),
            (
                "Mbpp/3",
                "def is_not_prime(n):\n    return n % 2 == 0 and n != 2\n",
                "failed: a different value on input 3 of 7",
            ),
            ("Mbpp/3", "def is_not_prime(n):\n    raise ValueError(n)\n", "failed: raised ValueError on input 1 of 7"),
        ],
        "apps": [
            ("4001", "n = int(input())\nprint(max(map(int, input().split())))\n", "passed"),
            ("4001", "n = int(input())\nprint(min(map(int, input().split())))\n", "failed: wrong answer"),
        ],
    }
    for name, (records, _) in files.items():
        problems = load_problems(str(write_jsonl(tmp_path / f"{name}.jsonl", records)))
        rows_file = [{"task_id": t, "completion": c} for t, c, _ in rows[name]]
        samples = write_jsonl(tmp_path / f"{name}_s.jsonl", rows_file)
        summary = run_sandboxed("strict", lambda s=samples, p=problems: evaluate(s, p, EvaluateConfig(ks=(1,))))
        got = [r["result"] for r in read_jsonl(summary.results)]
        for result, (_, _, want) in zip(got, rows[name]):
            assert result.startswith(want), (name, got)
        failed = summary.calibration.failed  # 13's reference imports numpy: not in the sandbox, so the 3 s default
        assert summary.calibration.mode == "calibrated" and set(failed) == ({"13"} if name == "mbpp" else set())
        assert (
            name != "mbpp"
            or "No module named 'numpy'" in failed["13"]
            and summary.calibration.limits["13"] == pytest.approx(3.0 * summary.calibration.slowdown)
        )


def test_evalplus_outputs_come_from_the_reference_with_a_fixed_timeout_too(tmp_path):
    problems = load_problems(str(write_jsonl(tmp_path / "plus.jsonl", [MBPP_PLUS])))
    samples = write_jsonl(
        tmp_path / "s.jsonl", [{"task_id": "Mbpp/3", "completion": "def is_not_prime(n):\n    return True\n"}]
    )
    config = EvaluateConfig(ks=(1,), limits=TimeLimits(fixed=2.0))
    summary = run_sandboxed("strict", lambda: evaluate(samples, problems, config))
    (result,) = read_jsonl(summary.results)
    assert result["result"] == "failed: a different value on input 1 of 7" and result["time_limit"] == 2.0
    assert summary.to_dict()["time_limits"]["mode"] == "fixed"
    broken = {**MBPP_PLUS, "code": "def is_not_prime(n):\n    return 1 / 0\n"}
    write_jsonl(tmp_path / "bad.jsonl", [broken])
    before = summary.results.read_text()
    failed = run_aitk("passk", "evaluate", str(samples), "--problems", str(tmp_path / "bad.jsonl"), "--force")
    assert failed.returncode == 2 and "Mbpp/3: its reference solution fails" in failed.stderr
    assert "raised ZeroDivisionError on input 1 of 7" in failed.stderr and summary.results.read_text() == before
