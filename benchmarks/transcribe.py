#!/usr/bin/env python3
"""Transcription speed, memory and accuracy: aitk (each backend) against the openai-whisper CLI.

All runs use the same >= 60 s speech file and the same weights (tiny.en from the offline package;
the openai-whisper CLI reads aitk's converted checkpoint), with each tool's default decoding
(beam 5, temperature fallback). Each run is a fresh process, timed from start to exit as a user
would see it, with its peak resident memory from the kernel (wait4).

    .venv/bin/python benchmarks/transcribe.py            # generates speech with flite
    .venv/bin/python benchmarks/transcribe.py --audio talk.wav --text talk.txt --json
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

from aitk.transcribe.metrics import word_error_rate  # noqa: E402

PARAGRAPH = [
    "Good morning, and welcome to the weekly planning meeting.",
    "First, the new office will open on the second floor next month.",
    "Please move your desks before the painters arrive on Monday.",
    "The budget for the spring campaign has been approved by the board.",
    "We will hire two more engineers and one designer this quarter.",
    "Customer support answered most questions within one hour last week.",
    "The mobile app crashed less often after the latest update.",
    "Remember to send your travel receipts to the finance team by Friday.",
    "The training session on security will take place in the main hall.",
    "Lunch will be served in the kitchen after the meeting.",
    "If you have questions about the schedule, ask your team leader.",
    "Thank you all for your hard work, and have a great week.",
]


def make_speech(folder: Path) -> tuple[Path, str]:
    """About 60+ s of clear synthetic speech with known text: flite, sentences joined with pauses."""
    parts = []
    for i, sentence in enumerate(PARAGRAPH * 2):
        part = folder / f"s{i}.wav"
        subprocess.run(["flite", "-voice", "awb", "-t", sentence, "-o", str(part)], check=True)
        parts.append(part)
    listing = folder / "list.txt"
    listing.write_text("".join(f"file '{p}'\n" for p in parts))
    out = folder / "speech.wav"
    subprocess.run(
        [
            "ffmpeg",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "concat",
            "-safe",
            "0",
            "-i",
            str(listing),
            "-af",
            "apad=pad_dur=0.4",
            "-ar",
            "16000",
            str(out),
        ],
        check=True,
    )
    return out, " ".join(PARAGRAPH * 2)


def duration_of(path: Path) -> float:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip())


def measure(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of one fresh process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr.read().decode()[-2000:]}")
    return wall, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--audio", type=Path, help="speech file (default: generate >= 60 s with flite)")
    parser.add_argument("--text", type=Path, help="its reference transcript, for the word error rate")
    parser.add_argument("--model", default="tiny.en")
    parser.add_argument("--repeat", type=int, default=1, help="runs per tool; the fastest is reported")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args()

    from aitk.cli.catalogue import load
    from aitk.transcribe.models import openai_checkpoint

    bindir = Path(sys.executable).parent
    work = Path(tempfile.mkdtemp(prefix="aitk-bench-"))
    if args.audio:
        audio, reference = args.audio, args.text.read_text() if args.text else ""
    else:
        audio, reference = make_speech(work)
    seconds = duration_of(audio)
    checkpoint = openai_checkpoint(load().get(args.model))  # converted once, outside the timings
    whisper_cli = shutil.which("whisper", path=str(bindir)) or "whisper"

    runs = {
        "openai-whisper CLI": (
            [
                whisper_cli,
                str(audio),
                "--model",
                str(checkpoint),
                "--language",
                "en",
                "--fp16",
                "False",
                "--output_format",
                "txt",
                "--output_dir",
                str(work / "ref"),
                "--verbose",
                "False",
            ],
            work / "ref" / f"{audio.stem}.txt",
        ),
    }
    for backend in ("faster-whisper", "openai-whisper"):
        out = work / backend
        runs[f"aitk ({backend})"] = (
            [
                str(bindir / "aitk"),
                "transcribe",
                str(audio),
                "--model",
                args.model,
                "--backend",
                backend,
                "--format",
                "txt",
                "--output-dir",
                str(out),
                "--force",
                "--quiet",
            ],
            out / f"{audio.stem}.txt",
        )
    for label, extra in (("--batch-size 1", ["--batch-size", "1"]), ("--beam-size 1", ["--beam-size", "1"])):
        out = work / label.strip("-").replace(" ", "")
        runs[f"aitk (faster-whisper, {label})"] = (
            runs["aitk (faster-whisper)"][0] + extra + ["--output-dir", str(out)],
            out / f"{audio.stem}.txt",
        )

    rows = []
    for name, (cmd, text_file) in runs.items():
        wall, peak = min(measure(cmd) for _ in range(max(args.repeat, 1)))
        hypothesis = text_file.read_text()
        rows.append(
            {
                "tool": name,
                "wall_s": round(wall, 2),
                "real_time_factor": round(wall / seconds, 3),
                "peak_rss_mb": round(peak),
                "wer": round(word_error_rate(reference, hypothesis), 4) if reference else None,
            }
        )
    base = rows[0]["wall_s"]
    for row in rows:
        row["speedup_vs_whisper_cli"] = round(base / row["wall_s"], 2)
    if args.json:
        print(
            json.dumps(
                {"audio_seconds": round(seconds, 1), "model": args.model, "cpus": os.cpu_count(), "rows": rows},
                indent=2,
            )
        )
        return
    print(f"{seconds:.1f} s of speech, model {args.model}, {os.cpu_count()} CPUs, best of {args.repeat}")
    print(f"{'tool':<38}{'wall s':>8}{'RTF':>8}{'peak MB':>9}{'WER':>8}{'speedup':>9}")
    for r in rows:
        wer = f"{r['wer']:.3f}" if r["wer"] is not None else "-"
        print(
            f"{r['tool']:<38}{r['wall_s']:>8.2f}{r['real_time_factor']:>8.3f}{r['peak_rss_mb']:>9}{wer:>8}{r['speedup_vs_whisper_cli']:>8.2f}x"
        )


if __name__ == "__main__":
    main()
