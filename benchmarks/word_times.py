#!/usr/bin/env python3
"""Word-boundary error of `aitk transcribe --word-timestamps`, raw faster-whisper times against refined ones.

The speech is generated word by word (tests/transcribe/timed_speech.py): each word synthesised alone with
flite or espeak-ng, trimmed of its own silence, joined with known gaps (half 0-50 ms, half 100-400 ms), so
every word's true start and end is known to the sample. Words are matched to the reference by normalised
text (difflib over tokens); misheard words are left out and counted in the matched share.

The refinement's parameters (aitk/transcribe/word_times.py RefineParams) were tuned on the tune half: four
voices (flite slt, rms; espeak-ng en-us, en-gb-scotland) speaking the first six sentences. The report half
is the other four voices (flite awb, kal16; espeak-ng en-us+f3, en-gb) speaking the other six sentences,
not used for tuning. Whisper's bias (RefineParams.lead) is not tuned but calibrated on each recording.
Printed: per voice and per half, the median and 95th percentile of |start error|
and |end error| in ms, raw and refined, the share of words matched, and the machine.

    .venv/bin/python benchmarks/word_times.py                 # both halves, tiny.en
    .venv/bin/python benchmarks/word_times.py --model base --json
    .venv/bin/python benchmarks/word_times.py --sweep         # the parameter sweep, on the tune half only
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aitk.engine.device import cpu_model, usable_cpus  # noqa: E402
from aitk.transcribe.align import align_words  # noqa: E402
from aitk.transcribe.config import TranscribeConfig  # noqa: E402
from aitk.transcribe.run import Transcriber  # noqa: E402
from aitk.transcribe.word_times import RefineParams, WordTimeErrors, refine_word_times, word_time_errors  # noqa: E402
from tests.transcribe.timed_speech import (  # noqa: E402
    REPORT_SENTENCES,
    REPORT_VOICES,
    SAMPLE_RATE,
    TUNE_SENTENCES,
    TUNE_VOICES,
    make_timed_speech,
)

KEYS = ("start_median_ms", "start_p95_ms", "end_median_ms", "end_p95_ms")


def machine() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"{cpu_model()}, {usable_cpus()} CPUs (load {load:.1f}), no GPU used, Python {platform.python_version()}"


def transcribe_half(transcriber: Transcriber, voices, sentences, seeds: list[int]) -> list[tuple]:
    """[(clip, raw segments)] for each voice and seed: faster-whisper's own word times, refinement off."""
    out = []
    for voice in voices:
        for seed in seeds:
            clip = make_timed_speech(sentences, voice, seed=seed)
            out.append((clip, transcriber.transcribe_audio(clip.audio).segments))
    return out


def score(
    clips: list[tuple], params: RefineParams | None, align: bool = False
) -> tuple[WordTimeErrors, list[WordTimeErrors], float]:
    """Errors over all clips and per clip; `params` None scores the raw times, `align` aligns with
    PocketSphinx before refining (as aitk does by default). Also the seconds the passes took."""
    per_clip, spent = [], 0.0
    for clip, segments in clips:
        if params is not None:
            started = time.perf_counter()
            if align:
                segments = align_words(segments, clip.audio, SAMPLE_RATE, "en")
            segments = refine_word_times(segments, clip.audio, SAMPLE_RATE, params)
            spent += time.perf_counter() - started
        per_clip.append(word_time_errors(clip.words, segments))
    return WordTimeErrors.combine(per_clip), per_clip, spent


def row(label: str, raw: WordTimeErrors, refined: WordTimeErrors, aligned: WordTimeErrors) -> str:
    a, b, c = raw.summary(), refined.summary(), aligned.summary()
    cells = "  ".join(f"{a[k]:5.0f} {b[k]:4.0f} {c[k]:4.0f}" for k in KEYS)
    return f"{label:28s} {refined.matched:4d}/{refined.reference:<4d} {b['matched']:6.1%}  {cells}"


def sweep(clips: list[tuple], base: RefineParams) -> None:
    """A grid around the defaults, on the tune half; best first by p95 of starts plus ends."""
    grid = {
        "lead": [0.06, 0.08, 0.1, 0.12],
        "no_pause": [0.1, 0.15, 0.2],
        "skip": [0.5, 1.0, 2.0],
        "valley": [0.04, 0.06, 0.1],
        "valley_lead": [0.04, 0.08, 0.1],
        "min_pause": [0.02],
    }
    results = []
    for values in itertools.product(*grid.values()):
        params = dataclasses.replace(base, **dict(zip(grid, values)))
        summary = score(clips, params)[0].summary()
        results.append((summary["start_p95_ms"] + summary["end_p95_ms"], dict(zip(grid, values)), summary))
    results.sort(key=lambda r: r[0])
    for _, values, summary in results[:15]:
        print(values, {k: summary[k] for k in KEYS})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="tiny.en", help="catalogue name (tiny.en, base) or path")
    parser.add_argument("--seeds", default="1,2,3", help="draw the gaps between words; each voice speaks once per seed")
    parser.add_argument("--sweep", action="store_true", help="sweep the refinement's parameters on the tune half")
    parser.add_argument("--reach", type=float, default=None, help="override RefineParams.reach (seconds)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = parser.parse_args()

    config = TranscribeConfig(model=args.model, word_timestamps=True, device="cpu", refine_words=False)
    transcriber = Transcriber(config)
    seeds = [int(x) for x in args.seeds.split(",")]
    started = time.perf_counter()
    halves = {"tune": transcribe_half(transcriber, TUNE_VOICES, TUNE_SENTENCES, seeds)}
    if args.sweep:
        sweep(halves["tune"], RefineParams() if args.reach is None else RefineParams(reach=args.reach))
        return 0
    halves["report"] = transcribe_half(transcriber, REPORT_VOICES, REPORT_SENTENCES, seeds)
    transcribe_seconds = time.perf_counter() - started

    params = RefineParams() if args.reach is None else RefineParams(reach=args.reach)
    report: dict = {"machine": machine(), "model": args.model, "params": dataclasses.asdict(params)}
    lines = []
    for half, clips in halves.items():
        raw, raw_clips, _ = score(clips, None)
        refined, refined_clips, spent = score(clips, params)
        aligned, aligned_clips, spent_aligned = score(clips, params, align=True)
        audio = sum(clip.duration for clip, _ in clips)
        report[half] = {
            "audio_seconds": round(audio, 1),
            "words": raw.reference,
            "raw": raw.summary(),
            "refined": refined.summary(),
            "aligned": aligned.summary(),
            "refine_ms_per_audio_minute": round(1000 * spent / (audio / 60), 1),
            "align_refine_ms_per_audio_minute": round(1000 * spent_aligned / (audio / 60), 1),
            "voices": {},
        }
        lines.append(
            f"-- {half} half: {audio:.0f} s of speech, refinement {1000 * spent:.0f} ms,"
            f" alignment + refinement {1000 * spent_aligned:.0f} ms in all"
        )
        for voice in dict.fromkeys(clip.voice for clip, _ in clips):  # per voice, over its seeds
            picked = [i for i, (clip, _) in enumerate(clips) if clip.voice == voice]
            r = WordTimeErrors.combine([raw_clips[i] for i in picked])
            f = WordTimeErrors.combine([refined_clips[i] for i in picked])
            g = WordTimeErrors.combine([aligned_clips[i] for i in picked])
            report[half]["voices"][voice] = {"raw": r.summary(), "refined": f.summary(), "aligned": g.summary()}
            lines.append(row(f"  {voice}", r, f, g))
        lines.append(row(f"  all ({half})", raw, refined, aligned))
    report["transcribe_seconds"] = round(transcribe_seconds, 1)

    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    print(f"word-boundary error, model {args.model}, seeds {args.seeds}, reach {params.reach} s; {report['machine']}")
    print("|error| in ms (median and 95th percentile): raw faster-whisper, refined, aligned + refined (the default)")
    print(f"{'':28s} {'matched':>16s}  {'start med':>15s}  {'start p95':>15s}  {'end med':>15s}  {'end p95':>15s}")
    print("\n".join(lines))
    print(f"transcription (both halves): {transcribe_seconds:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
