#!/usr/bin/env python3
"""Cutting a recording to its subtitle cues: `aitk autocut cut` (smart cut, --reencode, --fast) against moviepy.

Two cases, each a 1080p25 H.264 + AAC screen-recording stand-in made with ffmpeg alone (testsrc2 and
a sine tone, encoded as OBS records by default: x264 veryfast CRF 23, B-frames, a fixed keyframe
interval), cached in --work:

    today  10 minutes, a keyframe every 10 s, 20 cues of 5-20 s (most kept frames sit near a cut)
    long   30 minutes, a keyframe every 2 s, 5 cues of 2-5 minutes

(--quick: 3 minutes with 6 cues, and 8 minutes with 5 cues of 32-80 s.) The srt holds seeded random
cues (>= 2 s apart, on frame boundaries). The reference does what mli/autocut does: moviepy
VideoFileClip, one subclip per cue, concatenate_videoclips, audio at 44.1 kHz normalized,
write_videofile(codec libx264, audio aac, bitrate "10m", which ffmpeg reads as 10 millibit/s, so x264
falls back to its default CRF 23 at preset medium). Each run is a fresh process, timed from start to
exit, with its peak resident memory from GNU time (the largest of the process and the children it
waited for, such as ffmpeg). Each output is then checked: ffprobe (duration, video packet
count, audio minus video duration), and PSNR against the source of every frame within 8 frames of
each cut and of the first keyframe after each in-point (where the smart cut switches from re-encoding
to copying), each output frame against the source frame it should be (a frame off by one scores far
lower on testsrc2).

    .venv/bin/pip install -r benchmarks/requirements-autocut.txt
    .venv/bin/python benchmarks/autocut.py --work /tmp/autocut-bench              # both cases, full size
    .venv/bin/python benchmarks/autocut.py --work /tmp/autocut-bench --quick --case long
    .venv/bin/python benchmarks/autocut.py --minutes 0.5 --spans 3 --case today --only moviepy --json
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import srt

FPS = 25
WIDTH, HEIGHT = 1920, 1080
CHECK_W, CHECK_H = 960, 540  # frames are compared at half size (memory); a frame off by one still scores < 30 dB
WINDOW = 8  # frames checked on each side of every cut and of the first keyframe after each in-point


@dataclass(frozen=True)
class Case:
    name: str
    minutes: float
    keyint: int  # frames between keyframes
    spans: int
    cue_s: tuple[float, float]  # shortest and longest cue
    goal: str


CASES = {
    "today": Case(
        "today", 10, 250, 20, (5, 20), "smart cut >= 5x faster than moviepy, output <= 1.2x moviepy's, frame error 0"
    ),
    "long": Case(
        "long",
        30,
        50,
        5,
        (120, 300),
        "smart cut >= 20x faster than moviepy, frame error 0, bitrate <= 1.2x the source's",
    ),
}
QUICK = {"today": dict(minutes=3, spans=6), "long": dict(minutes=8, spans=5, cue_s=(32, 80))}

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


def make_media(work: Path, case: Case, preset: str, crf: int) -> Path:
    """The recording, made once per length, keyframe interval and encoding, reused from --work afterwards."""
    media = work / f"rec{case.minutes:g}min-k{case.keyint}-{preset}{crf}.mp4"
    if not media.exists():
        seconds = f"{case.minutes * 60:g}"
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
                preset,
                "-crf",
                str(crf),
                "-pix_fmt",
                "yuv420p",
                "-g",
                str(case.keyint),
                "-keyint_min",
                str(case.keyint),
                "-sc_threshold",
                "0",  # a fixed GOP, as OBS writes them
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


def make_srt(media: Path, count: int, cue_s: tuple[float, float], seed: int) -> list[tuple[float, float]]:
    """MEDIA.srt with `count` cues: cue_s seconds long, >= 2 s gaps, all times on frame boundaries."""
    rng = random.Random(seed)
    total = probe(media)["duration"]
    lengths = [rng.uniform(*cue_s) for _ in range(count)]
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
    """Container duration and bitrate, video packet count and the duration of each stream."""
    out = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-count_packets",
            "-show_entries",
            "format=duration,bit_rate:stream=codec_type,duration,nb_read_packets",
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
        "mbit_s": float(info["format"]["bit_rate"]) / 1e6,
        "frames": int(streams["video"]["nb_read_packets"]),
        "video_s": float(streams["video"].get("duration", "nan")),
        "audio_s": float(streams["audio"].get("duration", "nan")) if "audio" in streams else float("nan"),
    }


def kept_frames(spans: list[tuple[float, float]]) -> list[int]:
    """The source frame index of each frame of the cut, in order."""
    return [f for s, e in spans for f in range(round(s * FPS), round(e * FPS))]


def checked_frames(spans: list[tuple[float, float]], keyint: int) -> list[int]:
    """Output frame indices to compare: WINDOW frames inside each cut, and around the first keyframe
    after each in-point (the smart cut's switch from re-encoded to copied frames)."""
    picked, offset = set(), 0
    for s, e in spans:
        first, stop = round(s * FPS), round(e * FPS)
        key = -(-first // keyint) * keyint
        for a, b in ((first, first + WINDOW), (stop - WINDOW, stop), (key - WINDOW, key + WINDOW)):
            picked.update(offset + f - first for f in range(max(a, first), min(b, stop)))
        offset += stop - first
    return sorted(picked)


def decode_frames(path: Path, indices: list[int]) -> tuple[dict[int, np.ndarray], list[str]]:
    """Frames by decoded index (presentation order), half-size gray, decoding the whole file once;
    and what ffmpeg said while decoding it (nothing, for a file that plays end to end)."""
    wanted = set(indices)
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(
            ["ffmpeg", "-loglevel", "error", "-threads", "0", "-i", str(path), "-map", "0:v:0"]
            + ["-fps_mode", "passthrough", "-vf", f"scale={CHECK_W}:{CHECK_H}:flags=area"]
            + ["-f", "rawvideo", "-pix_fmt", "gray", "-"],
            stdout=subprocess.PIPE,
            stderr=errors,
        )
        assert proc.stdout is not None
        size, frames, n = CHECK_W * CHECK_H, {}, 0
        while len(raw := proc.stdout.read(size)) == size:
            if n in wanted:
                frames[n] = np.frombuffer(raw, np.uint8).copy()  # 0.5 MB each; float only to compare
            n += 1
        proc.wait()
        errors.seek(0)
        said = errors.read().decode(errors="replace").splitlines()
    return frames, said


def frame_psnr(
    source: dict[int, np.ndarray], output: Path, kept: list[int], checked: list[int]
) -> tuple[float, int, int]:
    """(lowest PSNR dB over the checked frames, how many of them are missing or match a neighbouring
    source frame better than their own, how many error lines decoding the whole output printed)."""
    got, said = decode_frames(output, checked)
    worst, wrong = float("inf"), 0
    for j in checked:
        if j not in got:
            wrong += 1
            continue
        scores = {d: _psnr(source[kept[j] + d], got[j]) for d in (-1, 0, 1) if kept[j] + d in source}
        worst = min(worst, scores[0])
        wrong += max(scores, key=lambda d: scores[d]) != 0
    return worst, wrong, len(said)


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b) ** 2))
    return 99.0 if mse == 0 else 10 * np.log10(255**2 / mse)


def measure(cmd: list[str], env: dict | None = None) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in MB, its output) of one fresh process; its chatter goes to a file, not
    a pipe. The peak is GNU time's (the process and the children it waited for, such as ffmpeg):
    this script's own kernel count would include its memory, which a vfork child reports at exec."""
    timer = shutil.which("time") or "/usr/bin/time"
    with tempfile.TemporaryFile() as log, tempfile.NamedTemporaryFile("r") as peak:
        start = time.perf_counter()
        proc = subprocess.run([timer, "-f", "%M", "-o", peak.name, *cmd], stdout=log, stderr=log, env=env)
        wall = time.perf_counter() - start
        log.seek(0)
        text = log.read().decode(errors="replace")
        if proc.returncode != 0:
            raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)[:300]}\n{text[-2000:]}")
        kilobytes = int(peak.read().split()[-1])
    return wall, kilobytes / 1024, text


def run_case(case: Case, args, work: Path) -> dict:
    media = make_media(work, case, args.source_preset, args.source_crf)
    load_before = os.getloadavg()[0]  # the machine may be shared: timings are only as good as it was idle
    spans = make_srt(media, case.spans, case.cue_s, args.seed)
    source = probe(media)
    expected = sum(e - s for s, e in spans)
    kept = kept_frames(spans)
    checked = checked_frames(spans, case.keyint)
    wanted = sorted({kept[j] + d for j in checked for d in (-1, 0, 1)} - {-1})
    source_frames, _ = decode_frames(media, wanted)
    aitk = str(Path(sys.executable).parent / "aitk")
    # moviepy 2.x finds ffmpeg through imageio-ffmpeg: point it at the system one (no download, same ffmpeg as aitk)
    ref_env = {**os.environ, "IMAGEIO_FFMPEG_EXE": shutil.which("ffmpeg") or "ffmpeg"}
    cut = media.with_name(f"{media.stem}_cut.mp4")  # where aitk writes
    base = [aitk, "autocut", "cut", str(media), str(media.with_suffix(".srt")), "--force"]
    runs = {
        "moviepy": (
            "moviepy (mli/autocut)",
            [sys.executable, "-c", REFERENCE, str(media), str(work / "out-moviepy.mp4"), json.dumps(spans)],
            ref_env,
        ),
        "aitk": ("aitk autocut cut (smart)", base, None),
        "aitk-crf23": ("  ... --crf 23", [*base, "--crf", "23"], None),
        "aitk-ultrafast": ("  ... --preset ultrafast", [*base, "--preset", "ultrafast"], None),
        "aitk-reencode": ("aitk autocut cut --reencode", [*base, "--reencode"], None),
        "aitk-fast": ("aitk autocut cut --fast", [*base, "--fast"], None),
    }
    rows = []
    for key in args.only.split(","):
        name, cmd, env = runs[key.strip()]
        out = work / f"out-{case.name}-{key.strip()}.mp4"
        out.unlink(missing_ok=True)
        cut.unlink(missing_ok=True)
        wall, peak, log = measure(cmd, env)
        if cut.exists():
            cut.rename(out)  # aitk's output, kept apart from the next run's
        if key == "moviepy":
            (work / "out-moviepy.mp4").rename(out)
        got = probe(out)
        smart = re.search(r"smart cut: (\d+)% of the frames stream-copied", log)
        # --fast keeps from the keyframe before each cue: its frames are not the cues' frames
        worst, wrong, errors = (
            (float("nan"), -1, -1) if key == "aitk-fast" else frame_psnr(source_frames, out, kept, checked)
        )
        rows.append(
            {
                "tool": name,
                "wall_s": round(wall, 2),
                "peak_rss_mb": round(peak),
                "output_mb": round(out.stat().st_size / 1e6, 1),
                "mbit_s": round(got["mbit_s"], 2),
                "copied_pct": int(smart.group(1)) if smart else None,
                "duration_error_s": round(got["duration"] - expected, 3) + 0.0,  # no -0.0
                "frame_error": got["frames"] - len(kept),
                "av_drift_ms": round((got["audio_s"] - got["video_s"]) * 1000),
                "psnr_min_db": round(worst, 1),
                "frames_off": wrong,  # checked frames missing or nearer a neighbouring source frame
                "decode_errors": errors,  # lines ffmpeg printed decoding the whole output (-1: not checked)
            }
        )
    ref = next((r for r in rows if r["tool"].startswith("moviepy")), None)
    for row in rows:
        row["speedup_vs_moviepy"] = round(ref["wall_s"] / row["wall_s"], 1) if ref else None
        row["size_vs_moviepy"] = round(row["output_mb"] / ref["output_mb"], 2) if ref else None
        row["bitrate_vs_source"] = round(row["mbit_s"] / source["mbit_s"], 2)
    return {
        "case": case.name,
        "goal": case.goal,
        "media": media.name,
        "media_s": round(source["duration"], 1),
        "source_mbit_s": round(source["mbit_s"], 2),
        "keyint": case.keyint,
        "spans": len(spans),
        "expected_s": round(expected, 3),
        "expected_frames": len(kept),
        "checked_frames": len(checked),
        "load_before": round(load_before, 1),
        "load_after": round(os.getloadavg()[0], 1),
        "rows": rows,
    }


def print_case(result: dict) -> None:
    print(
        f"\n[{result['case']}] {result['media_s']:.0f} s 1080p{FPS} H.264/AAC at {result['source_mbit_s']} Mbit/s, "
        f"keyframe every {result['keyint']} frames, {result['spans']} cues = {result['expected_s']:.2f} s "
        f"({result['expected_frames']} frames, {result['checked_frames']} checked by PSNR); "
        f"load average {result['load_before']} before, {result['load_after']} after"
    )
    print(
        f"{'tool':<28}{'wall s':>8}{'speedup':>9}{'peak MB':>9}{'out MB':>8}{'x mp':>6}{'Mbit/s':>8}{'x src':>7}"
        f"{'copied':>8}{'frame err':>10}{'A/V ms':>8}{'PSNR min':>9}{'off':>5}{'dec err':>8}"
    )
    for r in result["rows"]:
        speed = f"{r['speedup_vs_moviepy']:.1f}x" if r["speedup_vs_moviepy"] else "-"
        size = f"{r['size_vs_moviepy']:.2f}" if r["size_vs_moviepy"] else "-"
        copied = f"{r['copied_pct']}%" if r["copied_pct"] is not None else "-"
        off = "-" if r["frames_off"] < 0 else str(r["frames_off"])
        errs = "-" if r["decode_errors"] < 0 else str(r["decode_errors"])
        print(
            f"{r['tool']:<28}{r['wall_s']:>8.2f}{speed:>9}{r['peak_rss_mb']:>9}{r['output_mb']:>8.1f}{size:>6}"
            f"{r['mbit_s']:>8.2f}{r['bitrate_vs_source']:>7.2f}{copied:>8}{r['frame_error']:>10}{r['av_drift_ms']:>8}"
            f"{r['psnr_min_db']:>9.1f}{off:>5}{errs:>8}"
        )
    print(f"goal: {result['goal']}")


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
        wall, peak, _ = measure(cmd)
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
    parser.add_argument(
        "--case",
        default="today,long,silence",
        help="comma list: today, long, silence (aitk --cut-silence against auto-editor, on today's recording)",
    )
    parser.add_argument(
        "--auto-editor",
        default=shutil.which("auto-editor"),
        help="the auto-editor program for the silence case (default: the one on PATH; none: aitk alone)",
    )
    parser.add_argument("--quick", action="store_true", help="shorter recordings (3 and 8 minutes)")
    parser.add_argument("--minutes", type=float, help="override the recording's length")
    parser.add_argument("--spans", type=int, help="override the number of cues")
    parser.add_argument("--source-preset", default="veryfast", help="x264 preset of the recording (OBS: veryfast)")
    parser.add_argument("--source-crf", type=int, default=23, help="x264 CRF of the recording (OBS: 23)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--only",
        default="moviepy,aitk,aitk-crf23,aitk-ultrafast,aitk-reencode,aitk-fast",
        help="comma list of runs: moviepy, aitk, aitk-crf23, aitk-ultrafast, aitk-reencode, aitk-fast",
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()

    work = args.work or Path(tempfile.mkdtemp(prefix="aitk-autocut-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    results = []
    for name in args.case.split(","):
        case = CASES["today" if name.strip() == "silence" else name.strip()]
        changes = {**(QUICK[case.name] if args.quick else {})}
        changes.update({k: v for k, v in (("minutes", args.minutes), ("spans", args.spans)) if v is not None})
        case = Case(**{**case.__dict__, **changes})
        if name.strip() == "silence":
            media = make_media(work, case, args.source_preset, args.source_crf)
            silence_head, silence = silence_rows(work, media, args.seed, args.auto_editor)
            (work / "results-silence.json").write_text(json.dumps({**silence_head, "rows": silence}, indent=2))
            if not args.json:
                print_silence(silence_head, silence)
            continue
        results.append(run_case(case, args, work))
        (work / f"results-{case.name}{'-quick' if args.quick else ''}.json").write_text(
            json.dumps(results[-1], indent=2)
        )
        if not args.json:
            print_case(results[-1])
    load = os.getloadavg()
    if args.json:
        print(json.dumps({"cpus": os.cpu_count(), "load_after": load, "work": str(work), "cases": results}, indent=2))
    else:
        print(
            f"\n{os.cpu_count()} CPUs, load average after the run "
            f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}, work {work}"
        )


if __name__ == "__main__":
    main()
