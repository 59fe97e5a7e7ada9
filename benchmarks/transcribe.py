#!/usr/bin/env python3
"""Transcription speed, memory and accuracy: aitk against faster-whisper's library default and the openai-whisper CLI.

Sets (each tool runs once per set, as a fresh process over all the set's files, timed from start
to exit with its peak resident memory from the kernel, wait4):

- long: >= 60 s of flite speech (one voice, the meeting paragraph), as before;
- long-tune / long-report: the evaluation set's English utterances (tests/transcribe/evalset.py,
  several flite and espeak-ng voices) joined into one recording each: even indices / odd indices;
- short: the same 44 utterances as single clips of 3-10 s, speech touching both ends;
- multilingual: German, French and Spanish clips (espeak-ng) with the `base` model;
- conv-tune / conv-report: generated conversations of 2-4 flite and espeak-ng voices taking turns,
  60-180 s each (tests/transcribe/conversations.py, seeds 200-203 and 300-303): long-form speech
  with several voices, quick back-and-forths and short replies; the `--diarize` row runs here.

The word error rate is reported on the tuning half (even indices) and the report half (odd
indices) separately: aitk's decoding rule was chosen on the first, the second shows it holds.
All tools use the same weights (the openai-whisper CLI reads aitk's converted checkpoint, the
whisper-ctranslate2 CLI aitk's CTranslate2 folder) and their own default decoding (beam 5,
temperature fallback), except rows that say otherwise. whisper-ctranslate2 is optional:
`.venv/bin/pip install --no-deps -r benchmarks/requirements-transcribe.txt` (its row is left out
when the command is missing).

    .venv/bin/python benchmarks/transcribe.py                       # every set
    .venv/bin/python benchmarks/transcribe.py --sets short,long --json
    .venv/bin/python benchmarks/transcribe.py --audio talk.wav --text talk.txt
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aitk.transcribe.metrics import word_error_rate  # noqa: E402

SPEAKER_LABEL = re.compile(r"^\[[^\]\n]+\] ", re.M)

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
    folder.mkdir(parents=True, exist_ok=True)
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


FASTER_WHISPER_DEFAULT = """
import sys
from pathlib import Path
from faster_whisper import WhisperModel

model_dir, threads, language, out, *files = sys.argv[1:]
model = WhisperModel(model_dir, device="cpu", compute_type="int8", cpu_threads=int(threads))
for f in files:
    segments, _ = model.transcribe(f, language=None if language == "auto" else language)  # the library default
    Path(out, Path(f).stem + ".txt").write_text("".join(s.text for s in segments))
"""


def tools(
    model: str, files: list[Path], work: Path, language: str | None, full: bool | str
) -> dict[str, tuple[list, Path]]:  # full: True (batch sizes), "all" (every variant), "diarize"
    """Each tool's command over all `files`, and the folder where it writes FILE_STEM.txt."""
    from aitk.cli.catalogue import load
    from aitk.transcribe.models import ct2_folder, openai_checkpoint, resolve_model

    bindir = Path(sys.executable).parent
    checkpoint = openai_checkpoint(load().get(model))  # converted once, outside the timings
    whisper_cli = shutil.which("whisper", path=str(bindir)) or "whisper"
    lang = ["--language", language] if language else []
    paths = [str(f) for f in files]
    runs: dict[str, tuple[list, Path]] = {}

    def add(name: str, cmd: list[str], out: Path) -> None:
        out.mkdir(parents=True, exist_ok=True)
        runs[name] = (cmd, out)

    out = work / "whisper-cli"
    add(
        "openai-whisper CLI",
        [whisper_cli, *paths, "--model", str(checkpoint), *lang, "--fp16", "False", "--output_format", "txt"]
        + ["--output_dir", str(out), "--verbose", "False"],
        out,
    )
    out = work / "fw-library"
    threads = str(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count())
    add(
        "faster-whisper library default (sequential, beam 5)",
        [sys.executable, "-c", FASTER_WHISPER_DEFAULT, str(ct2_folder(resolve_model(model))), threads]
        + [language or "auto", str(out), *paths],
        out,
    )
    ct2_cli = shutil.which("whisper-ctranslate2", path=str(bindir))
    if ct2_cli:
        out = work / "whisper-ctranslate2"
        add(
            "whisper-ctranslate2 CLI (its default: sequential, beam 5)",
            [ct2_cli, *paths, "--model_directory", str(ct2_folder(resolve_model(model))), *lang]
            + ["--device", "cpu", "--compute_type", "int8", "--threads", threads]
            + ["--output_format", "txt", "--output_dir", str(out), "--verbose", "False"],
            out,
        )
    variants = [("aitk default (auto)", [])]
    if full == "diarize":
        variants += [("aitk --diarize", ["--diarize"])]
    if full is True or full == "all":
        variants += [
            ("aitk --batch-size 1 (sequential)", ["--batch-size", "1"]),
            ("aitk --batch-size 8 (batched)", ["--batch-size", "8"]),
        ]
    if full == "all":
        variants += [
            ("aitk --beam-size 1", ["--beam-size", "1"]),
            ("aitk --backend openai-whisper", ["--backend", "openai-whisper"]),
        ]
    for i, (name, extra) in enumerate(variants):
        out = work / f"aitk{i}"
        cmd = [str(bindir / "aitk"), "transcribe", *paths, "--model", model, *lang, "--format", "txt"]
        add(name, cmd + ["--output-dir", str(out), "--force", "--quiet", *extra], out)
    return runs


def make_sets(work: Path, wanted: set[str], audio: Path | None, text: str) -> dict[str, dict]:
    """name -> {files, references, halves (index parity per file, None: one file), model, language}."""
    from tests.transcribe import evalset  # the project's evaluation set, shared with the tests

    sets: dict[str, dict] = {}
    if audio is not None:
        return {"file": {"files": [audio], "refs": [text], "parity": [None], "model": None, "language": "en"}}
    if "long" in wanted:
        speech, reference = make_speech(work / "paragraph")
        sets["long"] = {"files": [speech], "refs": [reference], "parity": [None], "language": "en"}
    n = len(evalset.ENGLISH)
    for name, parity in (("long-tune", 0), ("long-report", 1)):
        if name in wanted:
            clip = evalset.long_form(work / "eval", indices=range(parity, n, 2), name=name)
            sets[name] = {"files": [clip.path], "refs": [clip.text], "parity": [parity], "language": "en"}
    if "short" in wanted:
        clips = evalset.build(work / "eval")
        sets["short"] = {
            "files": [c.path for c in clips],
            "refs": [c.text for c in clips],
            "parity": [c.index % 2 for c in clips],
            "language": "en",
        }
    for name, first in (("conv-tune", 200), ("conv-report", 300)):
        if name in wanted:
            from tests.transcribe.conversations import make_conversation

            files, refs = [], []
            for seed in range(first, first + 4):
                conv = make_conversation(seed, cache=work / "voices")
                path = work / "conversations" / f"{name}-{seed}.wav"
                path.parent.mkdir(parents=True, exist_ok=True)
                evalset.write_wav(path, conv.audio)
                files.append(path)
                refs.append(conv.text)
            parity = 0 if name == "conv-tune" else 1
            sets[name] = {"files": files, "refs": refs, "parity": [parity] * len(files), "language": "en"}
    if "multilingual" in wanted:
        clips = evalset.build(work / "eval", evalset.MULTILINGUAL, prefix="ml")
        sets["multilingual"] = {
            "files": [c.path for c in clips],
            "refs": [c.text for c in clips],
            "parity": [c.index % 2 for c in clips],
            "language": None,
            "model": "base",
        }
    return sets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--audio", type=Path, help="your own speech file instead of the sets")
    parser.add_argument("--text", type=Path, help="its reference transcript, for the word error rate")
    parser.add_argument(
        "--sets", default="long,long-tune,long-report,conv-tune,conv-report,short,multilingual", help="comma list"
    )
    parser.add_argument("--model", default="tiny.en", help="for the English sets (multilingual uses base)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per tool; the fastest is reported")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="aitk-bench-"))
    reference = args.text.read_text() if args.text else ""
    sets = make_sets(work, set(args.sets.split(",")), args.audio, reference)
    rows = []
    for set_name, spec in sets.items():
        model = spec.get("model") or args.model
        seconds = sum(duration_of(f) for f in spec["files"])
        # aitk's variants: all on one long file, the batch sizes on the short clips, the default elsewhere
        full = (
            "all" if set_name in ("long", "file") else "diarize" if set_name.startswith("conv") else set_name == "short"
        )
        runs = tools(model, spec["files"], work / "runs" / set_name, spec["language"], full)
        first = len(rows)
        for name, (cmd, out) in runs.items():
            wall, peak = min(measure(cmd) for _ in range(max(args.repeat, 1)))
            errors = {0: [], 1: [], None: []}
            for f, ref, parity in zip(spec["files"], spec["refs"], spec["parity"]):
                if ref:
                    text = SPEAKER_LABEL.sub("", (out / f"{f.stem}.txt").read_text())  # --diarize's "[SPEAKER_1] "
                    errors[parity].append(word_error_rate(ref, text))
            wer = {k: round(sum(v) / len(v), 4) if v else None for k, v in errors.items()}
            rows.append(
                {
                    "set": set_name,
                    "model": model,
                    "files": len(spec["files"]),
                    "audio_s": round(seconds, 1),
                    "tool": name,
                    "wall_s": round(wall, 2),
                    "real_time_factor": round(wall / seconds, 3),
                    "peak_rss_mb": round(peak),
                    "wer": wer[None],
                    "wer_tune": wer[0],
                    "wer_report": wer[1],
                }
            )
            print(f"  {set_name}: {name} {wall:.1f} s", file=sys.stderr, flush=True)
        base = rows[first]["wall_s"]
        for row in rows[first:]:
            row["speedup_vs_whisper_cli"] = round(base / row["wall_s"], 2)
    if args.json:
        print(json.dumps({"cpus": os.cpu_count(), "rows": rows}, indent=2))
        return
    print(
        f"{os.cpu_count()} CPUs, best of {args.repeat}; WER: of one file, or the mean over clips"
        " (tune: even indices, report: odd)"
    )
    print(f"{'set':<13}{'tool':<53}{'wall s':>8}{'RTF':>7}{'MB':>6}{'WER':>7}{'tune':>7}{'report':>7}{'speedup':>8}")
    cell = lambda v: f"{v:>7.3f}" if v is not None else f"{'-':>7}"  # noqa: E731
    for r in rows:
        print(
            f"{r['set']:<13}{r['tool']:<53}{r['wall_s']:>8.2f}{r['real_time_factor']:>7.3f}{r['peak_rss_mb']:>6}"
            f"{cell(r['wer'])}{cell(r['wer_tune'])}{cell(r['wer_report'])}{r['speedup_vs_whisper_cli']:>7.2f}x"
        )


if __name__ == "__main__":
    main()
