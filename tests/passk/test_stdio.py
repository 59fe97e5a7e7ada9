"""stdin/stdout problems end to end: the shipped demo problems, the judge's tolerance, select."""

from __future__ import annotations

import json

import pytest

from aitk.passk.calibrate import SPEED_CHANGE
from aitk.passk.config import EvaluateConfig, SandboxConfig, SelectConfig, TimeLimits
from aitk.passk.problems import load_problems
from aitk.passk.run import evaluate, results_path
from aitk.passk.select import select
from tests.conftest import run_aitk
from tests.passk.conftest import read_jsonl, run_sandboxed, write_jsonl

CIRCLE_LONG = "import math, sys\nfor line in sys.stdin:\n    print(math.pi * float(line) ** 2)\n"  # all digits
WRONG = {
    "demo/sum-pairs": ("print(3)\n", "failed: wrong answer on test 1 of 10 (example): 1 tokens, expected 2"),
    "demo/circle-area": (
        "import math, sys\nfor line in sys.stdin:\n    print(round(math.pi * float(line) ** 2, 2))\n",
        "failed: wrong answer on test 1 of 9 (example): token 1: got '3.14', expected '3.141593'",
    ),
    "demo/big-product": (  # right on the example, wrong once the numbers outgrow a float
        "a, b = input().split()\nprint(round(float(a) * float(b)))\n",
        "failed: wrong answer on test 2 of 10 (hidden): token 1:",
    ),
    "demo/top-word": ("import sys\nprint(sys.stdin.read().split()[0].lower(), 1)\n", "failed: wrong answer on test"),
    "demo/grid-path": ("raise ValueError('no idea')\n", "failed: test 1 of 11 (example): runtime error (exit 1): "),
    "demo/prime-count": ("while True:\n    pass\n", "timed out: test 1 of 10 (example)"),
}


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("stdio")
    problems = load_problems("stdio-demo")
    rows = [{"task_id": p.task_id, "completion": p.canonical_solution, "kind": "reference"} for p in problems.values()]
    rows += [{"task_id": t, "completion": c, "kind": "wrong"} for t, (c, _) in WRONG.items()]
    rows.append({"task_id": "demo/circle-area", "completion": CIRCLE_LONG, "kind": "long"})
    samples = write_jsonl(base / "samples.jsonl", rows)
    # a 1 s floor: the endless sample waits out its limit, and the rule is the same at any floor
    config = EvaluateConfig(ks=(1,), limits=TimeLimits(floor=1.0))
    summary = run_sandboxed("strict", lambda: evaluate(samples, problems, config))
    return {
        "base": base,
        "problems": problems,
        "samples": samples,
        "summary": summary,
        "results": read_jsonl(summary.results),
    }


def test_demo_references_pass_and_wrong_programs_fail_with_their_reason(demo_run):
    results = demo_run["results"]
    assert [r["result"] for r in results if r["kind"] == "reference"] == ["passed"] * 6
    wrong = {r["task_id"]: r["result"] for r in results if r["kind"] == "wrong"}
    for task_id, (_, reason) in WRONG.items():
        assert wrong[task_id].startswith(reason), wrong[task_id]
    assert next(r for r in results if r["kind"] == "long")["passed"]  # more digits are within 1e-6


def test_limits_are_calibrated_per_problem_and_recorded(demo_run):
    summary, results = demo_run["summary"], demo_run["results"]
    calibration = summary.to_dict()["time_limits"]
    assert calibration["mode"] == "calibrated" and calibration["problems"] == 6 and not calibration["without_reference"]
    limits = {r["task_id"]: r["time_limit"] for r in results}
    references = summary.calibration.reference
    floor = calibration["floor"] * calibration["slowdown"]  # scaled up where the yardstick ran slow
    assert calibration["floor"] == 1.0 and calibration["slowdown"] >= 1.0
    for task_id, limit in limits.items():
        own = demo_run["problems"][task_id].time_limit or 0.0
        assert limit == pytest.approx(max(floor, 4 * references[task_id], own), abs=1e-3)
    assert limits["demo/sum-pairs"] >= 1.0  # its own time limit (1 s) is a floor too
    timed_out = next(r for r in results if r["task_id"] == "demo/prime-count" and r["kind"] == "wrong")
    assert timed_out["seconds"] == pytest.approx(limits["demo/prime-count"], abs=0.5)


def test_cache_is_reused_and_recalibrate_times_again(demo_run):
    problems = load_problems("stdio-demo")
    one = write_jsonl(demo_run["base"] / "one.jsonl", [demo_run["results"][1]])  # demo/prime-count's reference
    cache, earlier = demo_run["summary"].calibration.cache, demo_run["summary"].calibration.limits
    again = evaluate(one, problems, EvaluateConfig(ks=(1,), force=True, limits=TimeLimits(floor=1.0))).calibration
    assert again.cache == cache and again.speed_change is not None
    if 1 / SPEED_CHANGE <= again.speed_change <= SPEED_CHANGE:  # (unless the machine's load changed meanwhile)
        assert again.timed_now == 0 and again.limits == {"demo/prime-count": earlier["demo/prime-count"]}
    record = json.loads(cache.read_text())
    cache.write_text(json.dumps({**record, "yardstick": record["yardstick"] / 3}))  # as if timed on a faster machine
    slower = evaluate(one, problems, EvaluateConfig(ks=(1,), force=True, limits=TimeLimits(floor=1.0))).calibration
    assert slower.timed_now == 1 and slower.speed_change > SPEED_CHANGE
    assert set(json.loads(cache.read_text())["tasks"]) == {"demo/prime-count"}  # times from the other speed: gone
    fresh = evaluate(one, problems, EvaluateConfig(ks=(1,), force=True, limits=TimeLimits(floor=1.0, recalibrate=True)))
    assert fresh.calibration.timed_now == 1


def test_exact_and_fixed_timeout_from_the_cli(demo_run, tmp_path):
    rows = [{"task_id": "demo/circle-area", "completion": CIRCLE_LONG}]
    samples = write_jsonl(tmp_path / "s.jsonl", rows)
    args = ("passk", "evaluate", str(samples), "-p", "stdio-demo", "-k", "1", "--json", "-q")
    tolerant = json.loads(run_aitk(*args, "--timeout", "2").stdout)["result"]
    assert tolerant["pass_at_k"][0]["pass_at_k"] == 1.0 and tolerant["time_limits"]["mode"] == "fixed"
    assert read_jsonl(results_path(samples))[0]["time_limit"] == 2.0
    exact = json.loads(run_aitk(*args, "--exact", "--force").stdout)["result"]
    assert exact["pass_at_k"][0]["pass_at_k"] == 0.0 and exact["time_limits"]["mode"] == "calibrated"
    assert "token 1: got '3.141592653589793', expected '3.141593'" in read_jsonl(results_path(samples))[0]["result"]


def test_a_problem_time_limit_applies_with_a_fixed_timeout(tmp_path):
    slow = {
        "name": "slow",
        "description": "print 1 after a while",
        "public_tests": {"input": [""], "output": ["1\n"]},
        "private_tests": {"input": [], "output": []},
        "time_limit": {"seconds": 0, "nanos": 300_000_000},
    }
    problems = load_problems(str(write_jsonl(tmp_path / "p.jsonl", [slow])))
    program = "import time\nt = time.monotonic()\nwhile time.monotonic() - t < 0.6:\n    pass\nprint(1)\n"
    samples = write_jsonl(tmp_path / "s.jsonl", [{"task_id": "slow", "completion": program}])
    config = EvaluateConfig(ks=(1,), limits=TimeLimits(fixed=5.0), sandbox=SandboxConfig(memory_mb=256))
    (result,) = read_jsonl(run_sandboxed("strict", lambda: evaluate(samples, problems, config)).results)
    assert result["result_status"] == "timed out" and result["time_limit"] == 0.3


def test_select_filters_on_examples_and_clusters_on_generated_inputs(tmp_path):
    problems = load_problems("stdio-demo")
    subset = {t: problems[t] for t in ("demo/big-product", "demo/sum-pairs")}
    same = "a, b = map(int, input().split())\nprint(a * b)\n"  # a second correct program, same behaviour
    float_product = WRONG["demo/big-product"][0]  # passes the example, differs on generated inputs
    rows = [
        ("demo/big-product", "print(-36)\n"),  # right on the one example only
        ("demo/big-product", float_product),
        ("demo/big-product", "print(0)\n"),
        ("demo/big-product", same),
        ("demo/big-product", subset["demo/big-product"].canonical_solution),
        ("demo/sum-pairs", "print(3)\nprint(7)\n"),  # right on the example only
        ("demo/sum-pairs", subset["demo/sum-pairs"].canonical_solution),
    ]
    samples = write_jsonl(tmp_path / "s.jsonl", [{"task_id": t, "completion": c} for t, c in rows])
    result = run_sandboxed("strict", lambda: select(samples, subset, SelectConfig(n=1, inputs=10)))
    per = {p["task_id"]: p for p in result.per_problem}
    assert per["demo/big-product"]["survivors"] == 4 and per["demo/big-product"]["clusters"] == 3
    assert per["demo/sum-pairs"]["survivors"] == 2 and per["demo/sum-pairs"]["clusters"] == 2
    chosen = {r["task_id"]: r for r in read_jsonl(result.output)}
    assert chosen["demo/big-product"]["cluster_size"] == 2 and chosen["demo/big-product"]["passed"]
    assert result.with_examples == 2 and result.pass_at_all == 1.0


def test_an_input_too_big_for_the_sandbox_is_a_sandbox_error_and_the_worker_goes_on(tmp_path):
    huge = {
        "name": "huge",
        "description": "count the bytes",
        "public_tests": {"input": ["abc\n"], "output": ["4\n"]},
        "private_tests": {"input": ["x" * (17 << 20)], "output": [str(17 << 20) + "\n"]},
    }
    problems = load_problems(str(write_jsonl(tmp_path / "p.jsonl", [huge])))
    program = "import sys\nprint(len(sys.stdin.read()))\n"
    samples = write_jsonl(tmp_path / "s.jsonl", [{"task_id": "huge", "completion": program}] * 2)
    config = EvaluateConfig(ks=(1,), workers=1, limits=TimeLimits(fixed=5.0))
    results = read_jsonl(run_sandboxed("strict", lambda: evaluate(samples, problems, config)).results)
    assert [r["result_status"] for r in results] == ["sandbox error", "sandbox error"]
    assert results[1]["result"].startswith("sandbox error: test 2 of 2 (hidden): the test input is too big to send")
