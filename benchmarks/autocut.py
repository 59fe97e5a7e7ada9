#!/usr/bin/env python3
"""Cutting a recording to its subtitle cues: `aitk autocut cut` (accurate and --fast) against moviepy.

The media is a >= 10 minute 1080p25 H.264 + AAC screen-recording stand-in made with ffmpeg alone
(testsrc2 and a sine tone, a keyframe every 250 frames as OBS writes them), cached in --work. The srt
holds --spans seeded random cues (5-20 s each, >= 2 s apart, on frame boundaries). The reference does
what mli/autocut does: moviepy VideoFileClip, one subclip per cue, concatenate_videoclips, audio at
44.1 kHz normalized, write_videofile(codec libx264, audio aac, bitrate 10m). Each run is a fresh
process, timed from start to exit, with its peak resident memory from the kernel (wait4: the largest
of the process and the children it waited for, such as ffmpeg). Each output is then checked with
ffprobe (duration, video packet count, audio minus video duration) and, for one frame just inside two
cues, by PSNR against the matching source frame (a frame off by one scores far lower on testsrc2).

    .venv/bin/pip install -r benchmarks/requirements-autocut.txt
    .venv/bin/python benchmarks/autocut.py --work /tmp/autocut-bench          # 10 min, 20 cues
    .venv/bin/python benchmarks/autocut.py --minutes 0.5 --spans 3 --only moviepy --json
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import srt

FPS = 25
WIDTH, HEIGHT = 1920, 1080

# The reference, run as `python -c REFERENCE SRC OUT SPANS_JSON`; works with moviepy 1.x and 2.x.
REFERENCE = r"""
import json, sys
try:
    from moviepy import VideoFileClip, concatenate_videoclips, afx  # moviepy 2.x
    V2 = True
except ImportError:
    from moviepy.editor import VideoFileClip, concatenate_videoclips, afx  # moviepy 1.x
    V2 = False
src, out, spans = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
media = VideoFileClip(src)
clips = [media.subclipped(s, e) if V2 else media.subclip(s, e) for s, e in spans]
final = concatenate_videoclips(clips)
if V2:
    final = final.without_audio().with_audio(final.audio.with_fps(44100)).with_effects([afx.AudioNormalize()])
else:
    final = final.without_audio().set_audio(final.audio.set_fps(44100)).fx(afx.audio_normalize)
final.write_videofile(out, codec="libx264", audio_codec="aac", bitrate="10m", logger=None)
media.close()
"""


def make_media(work: Path, minutes: float) -> Path:
    """The recording, made once per length and reused from --work afterwards."""
    media = work / f"rec{minutes:g}min.mp4"
    if not media.exists():
        seconds = f"{minutes * 60:g}"
        tmp = media.with_suffix(".part.mp4")
        subprocess.run(
            [
                "ffmpeg",
                "-loglevel",
                "error",
                "-y",
                "-f",
                "lavfi",
                "-i",
                f"testsrc2=size={WIDTH}x{HEIGHT}:rate={FPS}:duration={seconds}",
                "-f",
                "lavfi",
                "-i",
                f"sine=frequency=440:beep_factor=4:sample_rate=48000:duration={seconds}",
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-crf",
                "28",
                "-pix_fmt",
                "yuv420p",
                "-g",
                "250",
                "-keyint_min",
                "250",
                "-sc_threshold",
                "0",  # fixed 10 s GOP like OBS
                "-c:a",
                "aac",
                "-b:a",
                "128k",
                str(tmp),
            ],
            check=True,
        )
        tmp.rename(media)
    return media


def make_srt(media: Path, count: int, seed: int) -> list[tuple[float, float]]:
    """MEDIA.srt with `count` cues: 5-20 s long, >= 2 s gaps, all times on frame boundaries."""
    rng = random.Random(seed)
    total = probe(media)["duration"]
    lengths = [rng.uniform(5, 20) for _ in range(count)]
    room = total - 1 - 2.0 * (count + 1)  # keep the minimum gaps and 1 s of tail
    if room <= 0:
        raise SystemExit(f"{count} cues do not fit in {total:.0f} s; use fewer --spans")
    scale = min(1.0, 0.8 * room / sum(lengths))  # short recordings: shorter cues
    lengths = [x * scale for x in lengths]
    cuts = sorted(rng.uniform(0, room - sum(lengths)) for _ in range(count))  # slack split in count+1 parts
    spans, t, prev = [], 0.0, 0.0
    for length, cut in zip(lengths, cuts):
        t += 2.0 + cut - prev
        prev = cut
        start = math.ceil(t * FPS - 1e-6) / FPS
        end = start + round(length * FPS) / FPS
        spans.append((start, end))
        t = end
    cues = [
        srt.Subtitle(i + 1, dt.timedelta(seconds=s), dt.timedelta(seconds=e), f"cue {i + 1}")
        for i, (s, e) in enumerate(spans)
    ]
    media.with_suffix(".srt").write_text(srt.compose(cues))
    return spans


def probe(path: Path) -> dict:
    """Container duration, video packet count and the duration of each stream."""
    out = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-count_packets",
            "-show_entries",
            "format=duration:stream=codec_type,duration,nb_read_packets",
            "-of",
            "json",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    info = json.loads(out.stdout)
    streams = {s["codec_type"]: s for s in info["streams"]}
    return {
        "duration": float(info["format"]["duration"]),
        "frames": int(streams["video"]["nb_read_packets"]),
        "video_s": float(streams["video"].get("duration", "nan")),
        "audio_s": float(streams["audio"].get("duration", "nan")) if "audio" in streams else float("nan"),
    }


def frame_at(path: Path, t: float) -> np.ndarray:
    """The decoded frame shown at time t (exact seek; t is nudged back so frame k/25 is never missed)."""
    raw = subprocess.run(
        [
            "ffmpeg",
            "-loglevel",
            "error",
            "-ss",
            f"{max(t - 0.01, 0):.3f}",
            "-i",
            str(path),
            "-frames:v",
            "1",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "gray",
            "-",
        ],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(raw, np.uint8).astype(np.float64)


def psnr(source: Path, output: Path, spans: list[tuple[float, float]]) -> float:
    """Lowest PSNR (dB) of the frame 0.2 s into the middle and the last cue, output against source."""
    worst = float("inf")
    for k in (len(spans) // 2, len(spans) - 1):
        offset = sum(e - s for s, e in spans[:k]) + 0.2
        a, b = frame_at(source, spans[k][0] + 0.2), frame_at(output, offset)
        if a.size != b.size:
            return float("nan")
        mse = float(np.mean((a - b) ** 2))
        worst = min(worst, 99.0 if mse == 0 else 10 * np.log10(255**2 / mse))
    return worst


def measure(cmd: list[str], env: dict | None = None) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of one fresh process; its chatter goes to a file, not a pipe."""
    with tempfile.TemporaryFile() as log:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=log, stderr=log, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            log.seek(0)
            raise SystemExit(f"failed ({code}): {' '.join(cmd)[:300]}\n{log.read().decode()[-2000:]}")
    return wall, usage.ru_maxrss / 1024


# --- Silence only: `aitk autocut cut --cut-silence` against auto-editor --------------------------------
# The same recording (its testsrc2 video, stream-copied) with a speech track that has pauses: flite
# sentences, seeded gaps, half of them short (0.15-0.45 s: they stay) and half long (0.6-3 s: pauses),
# faint noise (-60 dBFS) in between. Both tools get the same settings: pauses of 0.5 s or more go,
# 0.15 s of margin kept next to the sound. The expected kept length is the recording less each long gap
# shortened to its two margins (each sentence's own sound is all kept: its inner pauses are short).

SILENCE_SENTENCES = [
    "The quarterly numbers look better than we expected.",
    "Please send the final report to the finance team by Friday.",
    "We moved the meeting to the second floor this morning.",
    "Open the window and let some fresh air into the room.",
    "The server crashed twice during the long weekend.",
]
MIN_SILENCE, MARGIN = 0.5, 0.15


def make_pauses_media(work: Path, media: Path, seed: int) -> tuple[Path, float]:
    """MEDIA_pauses.mp4 (MEDIA's video, a speech track with pauses) and its expected kept seconds."""
    out = media.with_name(f"{media.stem}_pauses.mp4")
    meta = out.with_suffix(".json")
    if out.exists() and meta.exists():
        return out, json.loads(meta.read_text())["expected_s"]
    rate = 48000
    clips = []
    for i, text in enumerate(SILENCE_SENTENCES):
        wav = work / f"sentence{i}.wav"
        if not wav.exists():
            subprocess.run(["flite", "-voice", "slt", "-t", text, "-o", str(wav)], check=True)
        raw = subprocess.run(
            ["ffmpeg", "-loglevel", "error", "-i", str(wav), "-f", "f32le", "-ac", "1", "-ar", str(rate), "-"],
            capture_output=True,
            check=True,
        ).stdout
        clip = np.frombuffer(raw, dtype=np.float32)
        loud = np.flatnonzero(np.abs(clip) > 0.01 * np.abs(clip).max())
        clip = clip[loud[0] : loud[-1] + 1]
        clips.append(0.5 * clip / np.abs(clip).max())
    rng = random.Random(seed)
    total = probe(media)["duration"]
    lead = 1.0  # leading silence: all but the margin goes
    pieces, t, removed = [np.zeros(int(lead * rate), dtype=np.float32)], lead, lead - MARGIN
    while True:
        clip = clips[rng.randrange(len(clips))]
        gap = 0.0 if len(pieces) == 1 else (rng.uniform(0.15, 0.45) if rng.random() < 0.5 else rng.uniform(0.6, 3.0))
        gap = round(gap * rate) / rate
        if t + gap + len(clip) / rate + 1.0 > total:
            break
        pieces += [np.zeros(int(round(gap * rate)), dtype=np.float32), clip]
        t += gap + len(clip) / rate
        removed += gap - 2 * MARGIN if gap >= MIN_SILENCE else 0.0
    tail = total - t  # trailing silence (>= 1 s): all but the margin goes
    pieces.append(np.zeros(int(round(tail * rate)), dtype=np.float32))
    removed += tail - MARGIN
    audio = np.concatenate(pieces)
    audio = (audio + 0.001 * np.random.default_rng(seed).standard_normal(len(audio))).astype(np.float32)
    pcm = work / "pauses.f32"
    pcm.write_bytes(audio.tobytes())
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", "-i", str(media), "-f", "f32le", "-ar", str(rate), "-ac", "1",
         "-i", str(pcm), "-map", "0:v:0", "-map", "1:a:0", "-c:v", "copy", "-c:a", "aac", "-b:a", "128k",
         "-shortest", str(out)],
        check=True,
    )  # fmt: skip
    pcm.unlink()
    expected = probe(out)["duration"] - removed
    meta.write_text(json.dumps({"expected_s": expected}))
    return out, expected


def silence_rows(work: Path, media: Path, seed: int, auto_editor: str | None) -> tuple[dict, list[dict]]:
    """Wall time and kept duration of aitk --cut-silence and auto-editor on the pauses recording."""
    src, expected = make_pauses_media(work, media, seed)
    aitk = str(Path(sys.executable).parent / "aitk")
    runs = [
        (
            "aitk autocut cut --cut-silence",
            [aitk, "autocut", "cut", str(src), "--cut-silence", "auto", "--min-silence", str(MIN_SILENCE),
             "--margin", str(MARGIN), "--force"],
            src.with_name(f"{src.stem}_cut.mp4"),
        ),
    ]  # fmt: skip
    if auto_editor:
        out = work / "out-auto-editor.mp4"
        runs.append(
            (
                "auto-editor",
                [auto_editor, str(src), "--edit", "audio", "--margin", f"{MARGIN}sec", "--min-cut",
                 f"{MIN_SILENCE}sec", "--no-open", "-o", str(out)],
                out,
            )
        )  # fmt: skip
    rows = []
    for name, cmd, out in runs:
        out.unlink(missing_ok=True)
        wall, peak = measure(cmd)
        got = probe(out)
        rows.append(
            {
                "tool": name,
                "wall_s": round(wall, 2),
                "peak_rss_mb": round(peak),
                "output_mb": round(out.stat().st_size / 1e6, 1),
                "kept_s": round(got["duration"], 2),
                "kept_error_s": round(got["duration"] - expected, 2) + 0.0,
                "av_drift_ms": round((got["audio_s"] - got["video_s"]) * 1000),
            }
        )
    head = {"source_s": round(probe(src)["duration"], 1), "expected_kept_s": round(expected, 2), "work": str(work)}
    return head, rows


def print_silence(head: dict, rows: list[dict]) -> None:
    print(
        f"\nsilence only: {head['source_s']:.0f} s with pauses, expected kept {head['expected_kept_s']:.2f} s "
        f"(pauses >= {MIN_SILENCE} s less {MARGIN} s margins)"
    )
    print(f"{'tool':<32}{'wall s':>8}{'peak MB':>9}{'out MB':>8}{'kept s':>9}{'error s':>9}{'A/V ms':>8}")
    for r in rows:
        print(
            f"{r['tool']:<32}{r['wall_s']:>8.2f}{r['peak_rss_mb']:>9}{r['output_mb']:>8.1f}{r['kept_s']:>9.2f}"
            f"{r['kept_error_s']:>9.2f}{r['av_drift_ms']:>8}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, help="folder for the media and outputs, reused (default: a temp dir)")
    parser.add_argument("--minutes", type=float, default=10, help="length of the recording")
    parser.add_argument("--spans", type=int, default=20, help="number of subtitle cues to keep")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--only",
        default="moviepy,aitk,aitk-fast,silence",
        help="comma list of runs: moviepy, aitk, aitk-fast, silence (aitk --cut-silence against auto-editor)",
    )
    parser.add_argument(
        "--auto-editor",
        default=shutil.which("auto-editor"),
        help="the auto-editor program for the silence case (default: the one on PATH; none: aitk alone)",
    )
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args()

    work = args.work or Path(tempfile.mkdtemp(prefix="aitk-autocut-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    media = make_media(work, args.minutes)
    spans = make_srt(media, args.spans, args.seed)
    expected = sum(e - s for s, e in spans)
    expected_frames = round(expected * FPS)
    aitk = str(Path(sys.executable).parent / "aitk")
    # moviepy 2.x finds ffmpeg through imageio-ffmpeg: point it at the system one (no download, same ffmpeg as aitk)
    ref_env = {**os.environ, "IMAGEIO_FFMPEG_EXE": shutil.which("ffmpeg") or "ffmpeg"}
    cut = media.with_name(f"{media.stem}_cut.mp4")  # where aitk writes
    runs = {
        "moviepy": (
            "moviepy (mli/autocut)",
            [sys.executable, "-c", REFERENCE, str(media), str(work / "out-moviepy.mp4"), json.dumps(spans)],
            ref_env,
        ),
        "aitk": (
            "aitk autocut cut",
            [aitk, "autocut", "cut", str(media), str(media.with_suffix(".srt")), "--force"],
            None,
        ),
        "aitk-fast": (
            "aitk autocut cut --fast",
            [aitk, "autocut", "cut", str(media), str(media.with_suffix(".srt")), "--fast", "--force"],
            None,
        ),
    }
    chosen = [k.strip() for k in args.only.split(",") if k.strip()]
    silence = silence_rows(work, media, args.seed, args.auto_editor) if "silence" in chosen else None
    rows = []
    for key in (k for k in chosen if k != "silence"):
        name, cmd, env = runs[key]
        out = work / f"out-{key}.mp4"
        out.unlink(missing_ok=True)
        cut.unlink(missing_ok=True)
        wall, peak = measure(cmd, env)
        if cut.exists():
            cut.rename(out)  # aitk's output, kept apart from the next run's
        got = probe(out)
        rows.append(
            {
                "tool": name,
                "wall_s": round(wall, 2),
                "peak_rss_mb": round(peak),
                "output_mb": round(out.stat().st_size / 1e6, 1),
                "duration_s": round(got["duration"], 3),
                "duration_error_s": round(got["duration"] - expected, 3) + 0.0,  # no -0.0
                "frame_error": got["frames"] - expected_frames,
                "av_drift_ms": round((got["audio_s"] - got["video_s"]) * 1000),
                "psnr_db": round(psnr(media, out, spans), 1),
            }
        )
    base = next((r["wall_s"] for r in rows if r["tool"].startswith("moviepy")), None)
    for row in rows:
        row["speedup_vs_moviepy"] = round(base / row["wall_s"], 1) if base else None

    head = {
        "media_s": round(probe(media)["duration"], 1),
        "spans": len(spans),
        "expected_s": round(expected, 3),
        "expected_frames": expected_frames,
        "cpus": os.cpu_count(),
        "work": str(work),
    }
    if args.json:
        extra = {"silence": {**silence[0], "rows": silence[1]}} if silence else {}
        print(json.dumps({**head, "rows": rows, **extra}, indent=2))
        return
    print(
        f"{head['media_s']:.0f} s 1080p{FPS} H.264/AAC, {len(spans)} cues = {expected:.2f} s "
        f"({expected_frames} frames), {os.cpu_count()} CPUs, work {work}"
    )
    print(
        f"{'tool':<26}{'wall s':>8}{'speedup':>9}{'peak MB':>9}{'out MB':>8}{'dur err s':>11}"
        f"{'frame err':>10}{'A/V ms':>8}{'PSNR dB':>9}"
    )
    for r in rows:
        speed = f"{r['speedup_vs_moviepy']:.1f}x" if r["speedup_vs_moviepy"] else "-"
        print(
            f"{r['tool']:<26}{r['wall_s']:>8.2f}{speed:>9}{r['peak_rss_mb']:>9}{r['output_mb']:>8.1f}"
            f"{r['duration_error_s']:>11.3f}{r['frame_error']:>10}{r['av_drift_ms']:>8}{r['psnr_db']:>9.1f}"
        )
    print(
        "goals: accurate mode >= 5x faster than moviepy; --fast >= 50x (frame error is expected there: keyframe snap)"
    )
    if silence:
        print_silence(*silence)


if __name__ == "__main__":
    main()
