#!/usr/bin/env python3
"""Throughput of the local executor against Ray on this machine, for transcribe and passk, in one run.

Each configuration runs as a fresh `aitk` process, timed from start to exit as a user sees it, so
Ray's own start-up (a private local Ray per run) is included; a second Ray figure subtracts the
measured start-up of an empty Ray job to show the steady-state rate a long batch approaches.
Both executors must produce identical outputs (transcripts; pass@1), or the script stops.

    .venv/bin/python benchmarks/scale.py                      # 8 clips, 164x2 HumanEval samples, 2 Ray workers
    .venv/bin/python benchmarks/scale.py --clips 16 --workers 2 --json
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

AITK = [sys.executable, "-m", "aitk"]
SENTENCES = (
    "The quick brown fox jumps over the lazy dog.",
    "Please call the office before noon on Friday.",
    "Speech recognition turns spoken words into written text.",
    "A small team builds tools that people reach for first.",
)


def timed(args: list[str], env: dict | None = None) -> float:
    start = time.perf_counter()
    result = subprocess.run(args, capture_output=True, text=True, env={**os.environ, **(env or {})})
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(args[:4])} failed ({result.returncode}): {result.stderr[-2000:]}")
    return seconds


def ray_startup() -> float:
    """Seconds to start a private local Ray, run one trivial task and shut down (a fresh process)."""
    code = (
        "import os, ray; os.environ.setdefault('RAY_AUTH_MODE', 'disabled');"
        "ray.init(include_dashboard=False, log_to_driver=False, configure_logging=False);"
        "ray.get(ray.remote(lambda: 1).remote()); ray.shutdown()"
    )
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    return time.perf_counter() - start


def make_clips(folder: Path, count: int) -> list[Path]:
    if not shutil.which("flite"):
        raise SystemExit("flite is needed to make the speech clips (scripts/setup.sh installs it)")
    clips = []
    for i in range(count):
        clip = folder / f"clip{i:02d}.wav"
        subprocess.run(["flite", "-voice", "awb", "-t", SENTENCES[i % len(SENTENCES)], "-o", str(clip)], check=True)
        clips.append(clip)
    return clips


def bench_transcribe(work: Path, clips: int, workers: int) -> dict:
    (work / "clips").mkdir()
    files = [str(p) for p in make_clips(work / "clips", clips)]
    out = {}
    base = ["transcribe", *files, "-f", "txt", "--device", "cpu", "-q", "--force"]
    out["local"] = timed([*AITK, *base, "-d", str(work / "t-local")])
    out["ray"] = timed([*AITK, *base, "-d", str(work / "t-ray"), "--executor", "ray", "--workers", str(workers)])
    for name in (Path(f).with_suffix(".txt").name for f in files):
        if (work / "t-local" / name).read_text() != (work / "t-ray" / name).read_text():
            raise SystemExit(f"transcripts differ for {name}")
    return {"inputs": clips, **out}


def bench_passk(work: Path, copies: int, workers: int) -> dict:
    rows = []
    for problem in load_problems("humaneval").values():
        rows += [{"task_id": problem.task_id, "completion": problem.canonical_solution}] * copies
    out, scores = {}, {}
    for name, extra in (("local", []), ("ray", ["--executor", "ray"])):
        folder = work / f"p-{name}"
        folder.mkdir()
        samples = folder / "samples.jsonl"
        samples.write_text("".join(json.dumps(r) + "\n" for r in rows))
        out[name] = timed(
            [*AITK, "passk", "evaluate", str(samples), "-k", "1", "--workers", str(workers), "--json", "-q", *extra]
        )
        results = [json.loads(line) for line in (folder / "samples_results.jsonl").read_text().splitlines()]
        scores[name] = sum(r["passed"] for r in results) / len(results)
    if scores["local"] != scores["ray"]:
        raise SystemExit(f"pass@1 differs: {scores}")
    return {"inputs": len(rows), **out}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=8, help="speech clips for transcribe")
    parser.add_argument("--copies", type=int, default=2, help="canonical samples per HumanEval task for passk")
    parser.add_argument("--workers", type=int, default=2, help="Ray actors (and passk's local sandboxes)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="aitk-bench-scale-") as tmp:
        work = Path(tmp)
        startup = ray_startup()
        rows = {
            "transcribe (tiny.en)": bench_transcribe(work, args.clips, args.workers),
            "passk evaluate (strict sandbox)": bench_passk(work, args.copies, args.workers),
        }
    if args.json:
        print(
            json.dumps(
                {"cpus": os.cpu_count(), "workers": args.workers, "ray_startup_s": round(startup, 2), "rows": rows},
                indent=2,
            )
        )
        return
    print(f"{os.cpu_count()} CPUs, {args.workers} Ray workers; a private local Ray starts in {startup:.1f} s")
    print(
        f"{'command':<32} {'inputs':>6}  {'local s':>8} {'/s':>6}  {'ray s':>8} {'/s':>6}  "
        f"{'ray - start-up':>14} {'/s':>6}"
    )
    for name, r in rows.items():
        steady = max(r["ray"] - startup, 1e-9)
        print(
            f"{name:<32} {r['inputs']:>6}  {r['local']:>8.1f} {r['inputs'] / r['local']:>6.1f}  {r['ray']:>8.1f} "
            f"{r['inputs'] / r['ray']:>6.1f}  {steady:>14.1f} {r['inputs'] / steady:>6.1f}"
        )


if __name__ == "__main__":
    main()
