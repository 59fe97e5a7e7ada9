"""Word-level editing, silence removal and exports on real speech whose word times are known.

The recording is generated word by word (tests/transcribe/timed_speech.py), so every word's start
and end in the source is exact. aitk transcribes it (tiny.en), the test strikes words in the md,
and checks the cut against that reference: struck words are gone, every kept word is whole, the
samples are the source's, there is no click at a join, and the subtitles hold the kept words.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import wave
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from aitk.autocut.config import EncodeOptions
from aitk.autocut.cues import Span, parse_srt
from aitk.autocut.cutter import cut_media
from aitk.autocut.words import load_words
from aitk.engine.media import SAMPLE_RATE, decode_audio, probe
from aitk.transcribe.config import TranscribeConfig
from aitk.transcribe.run import Transcriber
from tests.autocut.test_export import read_edl
from tests.conftest import ffmpeg, require, run_aitk
from tests.transcribe.timed_speech import make_timed_speech

SENTENCES = ["The quick brown fox jumps over the lazy dog.", "Please send the final report to the finance team."]
STRUCK = {1: ("quick brown",), 2: ("final",)}  # speech line -> phrases struck in it
FPS = 25


def write_wav(path: Path, audio: np.ndarray, rate: int = SAMPLE_RATE) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((np.clip(audio, -1, 1) * 32767).astype(np.int16).tobytes())
    return path


@pytest.fixture(scope="module")
def rec(tmp_path_factory):
    """rec.wav (timed speech), transcribed by `aitk autocut transcribe`; the reference words."""
    require("flite")
    folder = tmp_path_factory.mktemp("wordedit")
    speech = make_timed_speech(SENTENCES, ("flite", "slt"), seed=4, tight_share=0.3)
    pad = 0.001 * np.random.default_rng(4).standard_normal(SAMPLE_RATE)  # 1 s more of the same faint noise
    write_wav(folder / "rec.wav", np.concatenate([pad, speech.audio, pad]))
    words = [(a + 1.0, b + 1.0, w) for a, b, w in speech.words]
    result = run_aitk("autocut", "transcribe", str(folder / "rec.wav"), "-q")
    assert result.returncode == 0, result.stderr
    return folder, words


def strike(md_text: str) -> str:
    """Tick every speech line and strike the STRUCK phrases (case-insensitive) in the n-th one."""
    out, n = [], 0
    for line in md_text.splitlines():
        if re.match(r"- \[ \] \[\d+,", line) and "< No Speech >" not in line:
            n += 1
            line = line.replace("- [ ]", "- [x]", 1)
            for phrase in STRUCK.get(n, ()):
                line = re.sub(f"({phrase})", r"~~\1~~", line, flags=re.I)
        out.append(line)
    return "\n".join(out) + "\n"


def struck_reference(words) -> set[int]:
    gone = set()
    texts = [w for _, _, w in words]
    for phrase in (p for ps in STRUCK.values() for p in ps):
        toks = phrase.split()
        for i in range(len(texts) - len(toks) + 1):
            if texts[i : i + len(toks)] == toks:
                gone |= set(range(i, i + len(toks)))
    return gone


def overlap(a: float, b: float, ranges) -> float:
    return sum(max(0.0, min(b, r1) - max(a, r0)) for r0, r1 in ranges)


def joins(ranges) -> list[float]:
    """Where each join falls in the cut (seconds)."""
    out, t = [], 0.0
    for r0, r1 in ranges[:-1]:
        t += r1 - r0
        out.append(t)
    return out


def click_ratio(audio: np.ndarray, at: float, rate: int = SAMPLE_RATE) -> float:
    """The largest sample step within 1 ms of `at`, over the largest step 2-30 ms either side."""
    step = np.abs(np.diff(audio))
    i, near, far = int(at * rate), int(0.001 * rate), int(0.030 * rate)
    around = np.concatenate([step[max(0, i - far) : max(0, i - 2 * near)], step[i + 2 * near : i + far]])
    return float(step[max(0, i - near) : i + near].max() / max(around.max(), 1e-9))


def test_transcribe_keeps_the_word_times(rec):
    folder, reference = rec
    words = load_words(folder / "rec.words.json")
    assert words is not None
    heard = [w for cue in words.values() for w in cue.words]
    close = 0
    for start, _, text in reference:
        best = min(heard, key=lambda w: abs(w.start - start))
        close += abs(best.start - start) < 0.05 and text in best.text.lower()
    assert close >= 0.8 * len(reference), (close, len(reference))


def test_struck_words_are_cut_exactly_and_the_rest_kept_whole(rec, tmp_path):
    folder, reference = rec
    for name in ("rec.wav", "rec.srt", "rec.words.json"):
        shutil.copy(folder / name, tmp_path / name)
    md = tmp_path / "rec.md"
    md.write_text(strike((folder / "rec.md").read_text()))
    assert md.read_text().count("~~") == 4
    result = run_aitk("autocut", "cut", str(tmp_path / "rec.wav"), str(md), "--json")
    assert result.returncode == 0, result.stderr
    ranges = json.loads(result.stdout)["result"]["ranges"]
    gone = struck_reference(reference)
    assert len(gone) == 3
    for i, (start, end, text) in enumerate(reference):
        kept = overlap(start, end, ranges)
        if i in gone:
            assert kept < 0.02, (text, kept)  # the struck word's sound is gone
        else:
            assert kept > end - start - 0.005, (text, start, end, ranges)  # never cut inside a kept word
    source, cut = decode_audio(tmp_path / "rec.wav"), decode_audio(tmp_path / "rec_cut.wav")
    assert abs(len(cut) / SAMPLE_RATE - sum(b - a for a, b in ranges)) < 0.002
    # the cut's samples are the source's (away from the 5 ms crossfades at the joins), each span where
    # planned to within a millisecond (today's accurate cut runs up to 0.5 ms long at some joins)
    offset, fade = 0, int(0.006 * SAMPLE_RATE)
    for a, b in ranges:
        n = int(round((b - a) * SAMPLE_RATE))
        src = source[int(round(a * SAMPLE_RATE)) + fade :][: n - 2 * fade]
        found = {
            lag: np.abs(cut[offset + lag + fade :][: len(src)] - src).max()
            for lag in range(-16, 17)
            if offset + lag >= 0
        }
        lag = min(found, key=found.get)
        assert found[lag] < 1e-3, (a, b, lag, found[lag])
        offset += lag + n
    for at in joins(ranges):
        assert click_ratio(cut, at) <= 1.0, at
    subs = parse_srt((tmp_path / "rec_cut.srt").read_text())
    said = " ".join(c.text for c in subs).lower()
    assert "quick" not in said and "final" not in said and "brown fox" not in said
    assert "the fox jumps" in said and "send the report" in said
    heard = Transcriber(TranscribeConfig(device="cpu")).transcribe_file(tmp_path / "rec_cut.wav").text.lower()
    assert "quick" not in heard and "final" not in heard and "fox" in heard and "report" in heard, heard
    cut_words = load_words(tmp_path / "rec_cut.words.json")
    assert [w.text.lower().strip(".") for c in cut_words.values() for w in c.words].count("quick") == 0
    assert all(0 <= w.start <= w.end <= len(cut) / SAMPLE_RATE + 0.01 for c in cut_words.values() for w in c.words)


def test_strikes_without_word_times_name_the_fix(rec, tmp_path):
    folder, _ = rec
    for name in ("rec.wav", "rec.srt"):
        shutil.copy(folder / name, tmp_path / name)
    md = tmp_path / "rec.md"
    md.write_text(strike((folder / "rec.md").read_text()))
    result = run_aitk("autocut", "cut", str(tmp_path / "rec.wav"), str(md))
    assert result.returncode == 2
    assert "rec.words.json, which is missing" in result.stderr and "aitk autocut transcribe" in result.stderr
    assert not (tmp_path / "rec_cut.wav").exists()
    # with the word times: --fast cannot cut words, and a cue re-timed in the srt no longer matches them
    shutil.copy(folder / "rec.words.json", tmp_path / "rec.words.json")
    fast = run_aitk("autocut", "cut", str(tmp_path / "rec.wav"), str(md), "--fast")
    assert fast.returncode == 2 and "cannot be cut with --fast" in fast.stderr
    srt_text = (folder / "rec.srt").read_text()
    first = next(c for c in parse_srt(srt_text) if c.is_speech)
    stamp = f"{int(first.start // 60):02d}:{first.start % 60:06.3f}".replace(".", ",")
    (tmp_path / "rec.srt").write_text(srt_text.replace(f"00:{stamp} -->", "00:00:01,300 -->", 1))
    moved = run_aitk("autocut", "cut", str(tmp_path / "rec.wav"), str(md))
    assert moved.returncode == 2 and "re-timed in rec.srt" in moved.stderr, moved.stderr
    # an unstruck md from before word editing still cuts
    (tmp_path / "rec.words.json").unlink()
    md.write_text(md.read_text().replace("~~", ""))
    assert run_aitk("autocut", "cut", str(tmp_path / "rec.wav"), str(md), "-q").returncode == 0


def test_join_fades_leave_no_click_where_a_hard_cut_clicks(tmp_path):
    """Cuts inside a running tone: without the fade each join jumps; with it, none does."""
    t = np.arange(3 * SAMPLE_RATE) / SAMPLE_RATE
    tone = write_wav(tmp_path / "tone.wav", 0.5 * np.sin(2 * np.pi * 220 * t))
    spans = [Span(0.1013, 0.7031), Span(1.2507, 1.9002), Span(2.3350, 2.9)]
    info = probe(tone)
    ratios = {}
    for fade in (0.0, 0.005):
        out = cut_media(tone, tmp_path / f"cut{fade}.wav", spans, info, EncodeOptions(), fade=fade)
        audio = decode_audio(out)
        ratios[fade] = [click_ratio(audio, at) for at in joins([(s.start, s.end) for s in spans])]
    assert min(ratios[0.0]) > 1.5, ratios  # a hard cut in a tone is a step well above the wave's own
    assert max(ratios[0.005]) <= 1.0, ratios


def test_cut_silence_alone_on_audio(rec, tmp_path):
    folder, reference = rec
    shutil.copy(folder / "rec.wav", tmp_path / "talk.wav")  # no srt or md: the pauses only
    args = ["--cut-silence", "auto", "--min-silence", "0.5", "--margin", "0.15", "--json"]
    result = run_aitk("autocut", "cut", str(tmp_path / "talk.wav"), *args)
    assert result.returncode == 0, result.stderr
    row = json.loads(result.stdout)
    ranges = row["result"]["ranges"]
    assert row["outputs"] == [str(tmp_path / "talk_cut.wav")]
    for start, end, text in reference:
        assert overlap(start, end, ranges) > end - start - 0.005, text  # every word whole
    # expected: each pause of 0.5 s or more between words (and at both ends) shrinks to its margins
    edges = [0.0] + [x for s, e, _ in reference for x in (s, e)] + [probe(tmp_path / "talk.wav").duration]
    pauses = [(edges[i], edges[i + 1]) for i in range(0, len(edges), 2)]
    removed = 0.0
    for k, (a, b) in enumerate(pauses):
        if b - a >= 0.5:
            removed += b - a - (0.15 if k == 0 or k == len(pauses) - 1 else 0.3)
    expected = pauses[-1][1] - removed
    assert abs(row["result"]["kept_seconds"] - expected) < 0.08, (row["result"]["kept_seconds"], expected)
    assert len(ranges) == 2  # the pause between the sentences is the only one inside the speech
    assert abs(probe(tmp_path / "talk_cut.wav").duration - expected) < 0.1


@pytest.fixture(scope="module")
def video(rec, tmp_path_factory):
    """vid.mp4: the same speech over a 25 fps test pattern, with rec's srt, word times and an md with strikes."""
    folder, _ = rec
    out = tmp_path_factory.mktemp("wordvideo")
    seconds = probe(folder / "rec.wav").duration
    ffmpeg(
        "-f", "lavfi", "-i", f"testsrc=size=160x120:rate={FPS}:duration={seconds}", "-i", str(folder / "rec.wav"),
        "-c:v", "libx264", "-g", "50", "-pix_fmt", "yuv420p", "-c:a", "aac", "-ar", "48000", "-shortest",
        str(out / "vid.mp4"),
    )  # fmt: skip
    shutil.copy(folder / "rec.srt", out / "vid.srt")
    shutil.copy(folder / "rec.words.json", out / "vid.words.json")
    (out / "vid.md").write_text(strike((folder / "rec.md").read_text()).replace("rec.", "vid."))
    return out


def _otio_ranges(path: Path) -> dict[str, list[tuple[int, int]]]:
    import opentimelineio as otio

    timeline = otio.adapters.read_from_file(str(path))
    out = {}
    for track in timeline.tracks:
        out[track.kind] = [
            (round(c.source_range.start_time.to_frames()), round(c.source_range.end_time_exclusive().to_frames()))
            for c in track
        ]
    return out


def test_exports_reproduce_the_rendered_cut(video):
    """Word strikes and silence together, on video: EDL, FCPXML and OTIO read back give the kept ranges."""
    args = ["--cut-silence", "auto", "--export", "edl,fcpxml,otio", "--json"]
    result = run_aitk("autocut", "cut", str(video / "vid.mp4"), str(video / "vid.md"), *args)
    assert result.returncode == 0, result.stderr
    row = json.loads(result.stdout)
    frames = [(round(a * FPS), round(b * FPS)) for a, b in row["result"]["ranges"]]
    assert len(frames) >= 4  # two struck phrases and the pause between the sentences
    assert all(abs(a * FPS - round(a * FPS)) < 1e-6 for r in row["result"]["ranges"] for a in r)  # whole frames

    _, events = read_edl((video / "vid_cut.edl").read_text(), FPS)
    assert [tuple(e["frames"][:2]) for e in events] == frames
    root = ET.fromstring((video / "vid_cut.fcpxml").read_text())
    clips = root.findall("library/event/project/sequence/spine/asset-clip")
    fcp = []
    for clip in clips:
        start, length = (Fraction(clip.get(k)[:-1]) for k in ("start", "duration"))
        fcp.append((int(start * FPS), int((start + length) * FPS)))
    assert fcp == frames
    otio_tracks = _otio_ranges(video / "vid_cut.otio")
    assert otio_tracks == {"Video": frames, "Audio": frames}

    info = probe(video / "vid_cut.mp4")
    total = sum(b - a for a, b in frames)
    assert abs(info.duration - total / FPS) < 1.5 / FPS
    counted = int(
        subprocess.run(
            ["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
             "stream=nb_read_frames", "-of", "csv=p=0", str(video / "vid_cut.mp4")],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
    )  # fmt: skip
    assert counted == total  # the rendered cut has exactly the exported frames
