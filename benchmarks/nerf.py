#!/usr/bin/env python3
"""render-nerf: held-out PSNR against training time, for both methods, in one run.

The scene is generated (`aitk render-nerf synth`: shaded spheres and a textured box, 100x100,
60 training views, 12 test views on an unseen ring, anti-aliased ground truth). Each method
trains for --budget seconds; every --every seconds of training the current field renders the
test views (not counted as training time) and their mean PSNR is recorded.

    .venv/bin/python benchmarks/nerf.py                 # 120 s per method, CPU
    .venv/bin/python benchmarks/nerf.py --budget 60 --methods fast --json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from aitk.engine.device import resolve_device  # noqa: E402
from aitk.nerf.config import NerfConfig  # noqa: E402
from aitk.nerf.data import load_dataset  # noqa: E402
from aitk.nerf.metrics import psnr  # noqa: E402
from aitk.nerf.synth import render_synthetic  # noqa: E402
from aitk.nerf.train import load_field, render_image, train  # noqa: E402


def test_psnr(state: dict, test, device) -> float:
    field = load_field(state, device)
    scores = []
    for k in range(len(test.poses)):
        out = render_image(field, test.height, test.width, test.focal, test.poses[k].to(device), test.background.to(device))
        scores.append(psnr(out["rgb"].clamp(0, 1).cpu(), test.images[k]))
    return float(np.mean(scores))


def run_method(method: str, data, test, budget: float, every: float, device) -> list[tuple[float, int, float]]:
    """[(training seconds, step, test PSNR)] every `every` seconds and at the end."""
    curve: list[tuple[float, int, float]] = []
    config = NerfConfig(method=method, time_budget=budget, checkpoint_every=every, device=str(device))

    def on_checkpoint(state: dict) -> None:
        if not curve or state["elapsed"] - curve[-1][0] > 1.0:
            curve.append((round(state["elapsed"], 1), state["step"], round(test_psnr(state, test, device), 2)))
            print(f"  {method:<5} {curve[-1][0]:>6.1f} s  step {curve[-1][1]:>6}  test PSNR {curve[-1][2]:.2f} dB", file=sys.stderr)

    final = train(data.subset("train"), config, device, state=None, on_checkpoint=on_checkpoint)
    on_checkpoint(final)
    return curve


def first_reaching(curve, target: float) -> float | None:
    return next((t for t, _, p in curve if p >= target), None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budget", type=float, default=120.0, help="training seconds per method")
    parser.add_argument("--every", type=float, default=10.0, help="seconds between test evaluations")
    parser.add_argument("--methods", default="fast,nerf")
    parser.add_argument("--size", type=int, default=100)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    device = torch.device(resolve_device(args.device).torch)
    work = Path(tempfile.mkdtemp(prefix="aitk-nerf-bench-"))
    started = time.perf_counter()
    render_synthetic(work / "scene", size=args.size)
    synth_seconds = time.perf_counter() - started
    data = load_dataset(work / "scene")
    test = data.subset("test")
    curves = {m: run_method(m, data, test, args.budget, args.every, device) for m in args.methods.split(",")}

    marks = [t for t in (30, 60, 120, 300) if t <= args.budget + 1]
    rows = []
    for method, curve in curves.items():
        row = {"method": method, "final_psnr": curve[-1][2], "steps": curve[-1][1], "curve": curve}
        for mark in marks:
            before = [p for t, _, p in curve if t <= mark + 1.0]
            row[f"psnr_at_{mark}s"] = before[-1] if before else None
        row["seconds_to_30dB"] = first_reaching(curve, 30.0)
        rows.append(row)
    summary = {"device": str(device), "cpus": os.cpu_count(), "size": args.size, "synth_seconds": round(synth_seconds, 1), "rows": rows}
    if "fast" in curves and "nerf" in curves:
        target = curves["nerf"][-1][2]
        fast_t, nerf_t = first_reaching(curves["fast"], target), first_reaching(curves["nerf"], target)
        summary["vanilla_final_psnr"] = target
        summary["fast_seconds_to_vanilla_final"] = fast_t
        summary["vanilla_seconds_to_its_final"] = nerf_t
        summary["speedup_to_vanilla_final"] = round(nerf_t / fast_t, 1) if fast_t and nerf_t else None
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    print(f"{args.size}x{args.size} scene ({synth_seconds:.1f} s to generate), {device}, {os.cpu_count()} CPUs")
    print(f"{'method':<8}" + "".join(f"{f'PSNR@{m}s':>11}" for m in marks) + f"{'final':>8}{'steps':>8}{'to 30 dB':>10}")
    for r in rows:
        cells = "".join(f"{r[f'psnr_at_{m}s'] if r[f'psnr_at_{m}s'] is not None else '-':>11}" for m in marks)
        print(f"{r['method']:<8}{cells}{r['final_psnr']:>8}{r['steps']:>8}{str(r['seconds_to_30dB'] or '-'):>10}")
    if "speedup_to_vanilla_final" in summary:
        print(f"vanilla's final PSNR {summary['vanilla_final_psnr']} dB: fast reached it at {summary['fast_seconds_to_vanilla_final']} s, "
              f"vanilla at {summary['vanilla_seconds_to_its_final']} s ({summary['speedup_to_vanilla_final']}x sooner)")
    print("goals: fast >= 30 dB within 120 s on CPU; fast reaches vanilla's final PSNR >= 10x sooner")


if __name__ == "__main__":
    main()
