"""autocut on real recordings: each sentence spoken (flite) over its own colour, silences between.

Every check reads the output itself: the colours of its frames, its durations, what its audio
says when transcribed, and its subtitles.
"""

import json
import subprocess

import numpy as np
import pytest
import srt

from aitk.autocut.cues import parse_srt
from aitk.engine.media import probe
from aitk.transcribe.config import TranscribeConfig
from aitk.transcribe.metrics import word_error_rate
from aitk.transcribe.run import Transcriber
from tests.conftest import SENTENCES, ffmpeg, require, run_aitk, speak

pytestmark = pytest.mark.slow
FPS = 25
COLOURS = {"red": (255, 0, 0), "lime": (0, 255, 0), "blue": (0, 0, 255)}


def make_recording(folder, name="rec"):
    """rec.mp4: sentence i over colour i, each part a whole number of frames (speech + 1.5 s)."""
    parts = []
    for i, colour in enumerate(COLOURS):
        wav = speak(SENTENCES[i], folder / f"{name}_s{i}.wav")
        seconds = np.ceil((probe(wav).duration + 1.5) * FPS) / FPS
        part = folder / f"{name}_p{i}.mp4"
        ffmpeg(
            "-f",
            "lavfi",
            "-i",
            f"color=c={colour}:s=160x120:r={FPS}:d={seconds}",
            "-i",
            str(wav),
            "-af",
            f"apad,atrim=0:{seconds}",
            "-c:v",
            "libx264",
            "-g",
            "250",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-ar",
            "48000",
            "-t",
            str(seconds),
            str(part),
        )
        parts.append(part)
    listing = folder / f"{name}_parts.txt"
    listing.write_text("".join(f"file '{p}'\n" for p in parts))
    out = folder / f"{name}.mp4"
    ffmpeg("-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy", str(out))
    for p in parts + [listing] + list(folder.glob(f"{name}_s*.wav")):
        p.unlink()
    return out


def frame_colours(video) -> list[str]:
    """The name of the nearest pure colour of every frame, decoded by ffmpeg."""
    raw = subprocess.run(
        [
            require("ffmpeg"),
            "-v",
            "error",
            "-i",
            str(video),
            "-vf",
            "scale=4:4",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-",
        ],
        capture_output=True,
        check=True,
    ).stdout
    frames = np.frombuffer(raw, np.uint8).reshape(-1, 16, 3).mean(axis=1)
    names = list(COLOURS)
    refs = np.array([COLOURS[n] for n in names], dtype=float)
    return [names[int(np.argmin(((refs - f) ** 2).sum(axis=1)))] for f in frames]


def runs(items):
    out = []
    for item in items:
        if not out or out[-1][0] != item:
            out.append([item, 0])
        out[-1][1] += 1
    return out


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("autocut")
    make_recording(folder)
    result = run_aitk("autocut", "transcribe", str(folder / "rec.mp4"))
    assert result.returncode == 0, result.stderr
    return folder


def tick(md_text: str, keep: set[int], done=True, edit: dict | None = None) -> str:
    lines = []
    for line in md_text.splitlines():
        if line.startswith("- [ ] <--") and done:
            line = line.replace("[ ]", "[x]", 1)
        for index in keep:
            if line.startswith(f"- [ ] [{index},"):
                line = line.replace("[ ]", "[x]", 1)
                for old, new in (edit or {}).items():
                    line = line.replace(old, new)
        lines.append(line)
    return "\n".join(lines) + "\n"


def speech_indices(folder):
    cues = parse_srt((folder / "rec.srt").read_text())
    speech = [c for c in cues if c.is_speech]
    assert len(speech) == 3, [c.text for c in cues]
    return cues, [c.index for c in speech]


def test_transcribe_writes_srt_and_md_and_keeps_them(workdir):
    md = (workdir / "rec.md").read_text()
    assert md.startswith("- [ ] <-- Mark if you are done editing.")
    assert '<source src="rec.mp4" type="video/mp4">' in md
    assert "< No Speech >" in md and "- [ ] [1,00:00] The quick brown fox" in md
    again = run_aitk("autocut", "transcribe", str(workdir / "rec.mp4"))  # a re-run keeps them: skipped, not an error
    assert again.returncode == 0 and again.stdout.startswith("skipped") and "--force" in again.stdout, again.stderr
    assert (workdir / "rec.md").read_text() == md


def check_cut(folder, video, keep_sentences, cut_srt_texts):
    colours = runs(frame_colours(video))
    expected = [list(COLOURS)[i] for i in keep_sentences]
    assert [c for c, _ in colours] == expected
    info = probe(video)
    frames = sum(n for _, n in colours)
    cues, _ = speech_indices(folder)
    speech = [c for c in cues if c.is_speech]
    spans = [round(speech[i].end * FPS) - round(speech[i].start * FPS) for i in keep_sentences]
    assert [n for _, n in colours] == spans  # frame-exact: each span's frames, nothing more
    streams = json.loads(
        subprocess.run(
            ["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(video)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )["streams"]
    durations = {s["codec_type"]: float(s["duration"]) for s in streams}
    assert abs(durations["audio"] - durations["video"]) < 1 / FPS  # in sync to within a frame
    assert abs(info.duration - frames / FPS) < 1 / FPS
    heard = Transcriber(TranscribeConfig(device="cpu")).transcribe_file(video).text
    assert word_error_rate(" ".join(SENTENCES[i] for i in keep_sentences), heard) < 0.2, heard
    subs = list(srt.parse(video.with_suffix(".srt").read_text()))
    assert [s.content for s in subs] == cut_srt_texts
    assert subs[0].start.total_seconds() < 0.05
    if len(subs) > 1:
        assert abs(subs[1].start.total_seconds() - spans[0] / FPS) < 0.05


def test_cut_with_md_keeps_ticked_sentences_with_corrected_text(workdir):
    _, speech = speech_indices(workdir)
    md = workdir / "rec.md"
    md.write_text(tick(md.read_text(), {speech[0], speech[2]}, edit={"Friday": "FRIDAY"}))
    result = run_aitk("autocut", "cut", str(workdir / "rec.mp4"), str(md), "--export", "edl,fcpxml", "--json")
    assert result.returncode == 0, result.stderr
    row = json.loads(result.stdout)
    assert row["status"] == "ok" and row["result"]["spans"] == 2 and len(row["outputs"]) == 6
    assert str(workdir / "rec_cut.words.json") in row["outputs"]  # the kept words, re-timed
    cues = parse_srt((workdir / "rec.srt").read_text())
    last = [c for c in cues if c.is_speech][2].text.replace("Friday", "FRIDAY")
    check_cut(workdir, workdir / "rec_cut.mp4", [0, 2], [[c for c in cues if c.is_speech][0].text, last])
    cut_md = (workdir / "rec_cut.md").read_text()
    assert "- [x] [2," in cut_md and "FRIDAY" in cut_md
    assert "002  AX" in (workdir / "rec_cut.edl").read_text()
    # The outputs exist now: a second cut refuses to overwrite them.
    again = run_aitk("autocut", "cut", str(workdir / "rec.mp4"), str(md))
    assert again.returncode == 1 and "--force" in again.stderr


def test_cut_without_md_keeps_the_cues_left_in_the_srt(workdir, tmp_path):
    cues, speech = speech_indices(workdir)
    (tmp_path / "rec.mp4").symlink_to(workdir / "rec.mp4")
    kept = [c for c in cues if c.index in (speech[1],)]
    import aitk.autocut.cues as cue_io

    (tmp_path / "rec.srt").write_text(cue_io.compose_srt(kept))
    result = run_aitk("autocut", "cut", str(tmp_path / "rec.srt"), str(tmp_path / "rec.mp4"), "-q")
    assert result.returncode == 0, result.stderr
    check_cut(workdir, tmp_path / "rec_cut.mp4", [1], [kept[0].text])


def test_bad_edits_are_clear_errors_and_write_nothing(workdir, tmp_path):
    (tmp_path / "rec.mp4").symlink_to(workdir / "rec.mp4")
    (tmp_path / "rec.srt").write_text((workdir / "rec.srt").read_text())
    md = tmp_path / "rec.md"
    fresh = run_aitk("autocut", "to-md", str(tmp_path / "rec.srt"), str(tmp_path / "rec.mp4"), "--force")
    assert fresh.returncode == 0
    nothing = run_aitk("autocut", "cut", str(tmp_path / "rec.mp4"), str(md))
    assert nothing.returncode == 2 and "nothing is ticked" in nothing.stderr
    md.write_text(md.read_text().replace("- [ ] [1,", "- [x] [99,"))
    missing = run_aitk("autocut", "cut", str(tmp_path / "rec.mp4"), str(md))
    assert missing.returncode == 2 and "line 8: cue 99 is not in" in missing.stderr
    assert not list(tmp_path.glob("rec_cut*")) and not list(tmp_path.glob(".aitk-tmp-*"))
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00" * 1000)
    (tmp_path / "broken.srt").write_text((workdir / "rec.srt").read_text())
    result = run_aitk("autocut", "cut", str(broken))
    assert result.returncode == 1 and "broken.mp4" in result.stderr and "Traceback" not in result.stderr


def test_fast_mode_copies_streams(workdir, tmp_path):
    _, speech = speech_indices(workdir)
    (tmp_path / "rec.mp4").symlink_to(workdir / "rec.mp4")
    (tmp_path / "rec.srt").write_text((workdir / "rec.srt").read_text())
    md = tmp_path / "rec.md"
    md.write_text(tick((workdir / "rec.md").read_text().replace("[x]", "[ ]"), {speech[2]}))
    result = run_aitk("autocut", "cut", str(tmp_path / "rec.mp4"), str(md), "--fast")
    assert result.returncode == 0, result.stderr
    assert "keyframe" in result.stderr
    # Each colour part of the recording starts on a keyframe, shortly before its sentence: stream
    # copy starts there (never later than the sentence), so the cut is blue alone and a little longer.
    colours = frame_colours(tmp_path / "rec_cut.mp4")
    cues, _ = speech_indices(workdir)
    cue = [c for c in cues if c.is_speech][2]
    assert set(colours) == {"blue"}
    assert (cue.end - cue.start) * FPS - 2 <= len(colours) <= (cue.end - cue.start + 2.0) * FPS


def test_audio_only_cut_keeps_the_format(workdir, tmp_path):
    _, speech = speech_indices(workdir)
    audio = tmp_path / "rec.wav"
    ffmpeg("-i", str(workdir / "rec.mp4"), "-vn", "-ac", "1", "-ar", "16000", str(audio))
    (tmp_path / "rec.srt").write_text((workdir / "rec.srt").read_text())
    md = tmp_path / "rec.md"
    md.write_text(
        tick((workdir / "rec.md").read_text().replace("[x]", "[ ]").replace("rec.mp4", "rec.wav"), {speech[1]})
    )
    result = run_aitk("autocut", "cut", str(audio), str(md), "-q")
    assert result.returncode == 0, result.stderr
    out = tmp_path / "rec_cut.wav"
    cues, _ = speech_indices(workdir)
    cue = [c for c in cues if c.is_speech][1]
    assert abs(probe(out).duration - (cue.end - cue.start)) < 0.03 and not probe(out).has_video


def test_compact_round_trip_and_md_to_srt(workdir, tmp_path):
    src = tmp_path / "rec.srt"
    src.write_text((workdir / "rec.srt").read_text())
    assert run_aitk("autocut", "compact", str(src)).returncode == 0
    compact = tmp_path / "rec.compact.txt"
    assert len(compact.read_text().splitlines()) == len(parse_srt(src.read_text()))
    compact.write_text(compact.read_text().replace("lazy dog", "sleepy dog"))
    refused = run_aitk("autocut", "compact", str(compact))
    assert refused.returncode == 1 and "--force" in refused.stderr
    assert run_aitk("autocut", "compact", str(compact), "--force").returncode == 0
    assert "sleepy dog" in src.read_text() and len(parse_srt(src.read_text())) == len(
        parse_srt((workdir / "rec.srt").read_text())
    )

    md = tmp_path / "rec.md"
    md.write_text((workdir / "rec.md").read_text().replace("quick brown", "QUICK BROWN"))
    result = run_aitk("autocut", "md-to-srt", str(md), "--srt", str(workdir / "rec.srt"))
    assert result.returncode == 0, result.stderr
    subs = list(srt.parse((tmp_path / "rec_edited.srt").read_text()))
    assert len(subs) == 3 and "QUICK BROWN" in subs[0].content


def test_merge_joins_media_and_retimes_subtitles(workdir, tmp_path):
    first = workdir / "rec.mp4"
    out = tmp_path / "joined.mp4"
    result = run_aitk("autocut", "merge", str(first), str(first), "-o", str(out))
    assert result.returncode == 0, result.stderr
    source = probe(first).duration
    assert abs(probe(out).duration - 2 * source) < 0.1
    assert [c for c, _ in runs(frame_colours(out))] == ["red", "lime", "blue"] * 2
    cues = [c for c in parse_srt(out.with_suffix(".srt").read_text())]
    own = [c for c in parse_srt((workdir / "rec.srt").read_text()) if c.is_speech]
    assert len(cues) == 6 and abs(cues[3].start - (own[0].start + source)) < 0.01


def test_suggest_pre_ticks_all_but_restarts_fillers_and_long_silences(tmp_path):
    parts = [
        speak("So the main thing is", tmp_path / "a.wav"),
        speak("So the main thing is that we ship on Friday.", tmp_path / "b.wav"),
        speak("Hmm.", tmp_path / "c.wav"),
    ]
    out = tmp_path / "take.wav"
    ffmpeg(
        "-i",
        str(parts[0]),
        "-i",
        str(parts[1]),
        "-i",
        str(parts[2]),
        "-f",
        "lavfi",
        "-t",
        "1.5",
        "-i",
        "anullsrc=r=8000:cl=mono",
        "-f",
        "lavfi",
        "-t",
        "3",
        "-i",
        "anullsrc=r=8000:cl=mono",
        "-filter_complex",
        "[3:a]asplit=2[g1][g2];[0:a][g1][1:a][4:a][2:a][g2]concat=n=6:v=0:a=1[a]",
        "-map",
        "[a]",
        str(out),
    )
    result = run_aitk("autocut", "transcribe", str(out), "--suggest", "-q")
    assert result.returncode == 0, result.stderr
    lines = [
        ln for ln in (tmp_path / "take.md").read_text().splitlines() if ln.startswith("- [") and "<-- Mark" not in ln
    ]
    ticked = [ln for ln in lines if ln.startswith("- [x]")]
    assert len(ticked) == 1 and "ship on Friday" in ticked[0]
    assert any("drop? restart" in ln and "main thing is" in ln for ln in lines)
    assert any("drop? silence" in ln for ln in lines)
