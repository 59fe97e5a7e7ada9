"""The smart cut on real H.264 made by ffmpeg: checked on the output's own frames, sound and packets.

Sources are 4 s of testsrc2 (every frame differs, so a frame off by one scores ~25 dB where the
right one scores > 45) at 320x240 25 fps, with a 20 ms click at every whole second. The cut keeps
frames [5, 45) and [59, 90): both in-points sit inside a GOP, so each cut has re-encoded frames.
"""

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from aitk.autocut.config import EncodeOptions
from aitk.autocut.cues import Span
from aitk.autocut.cutter import cut_media
from aitk.autocut.smartcut import COPY, frame_range
from aitk.autocut.splice import prepare
from aitk.engine.media import probe
from tests.conftest import ffmpeg, require, run_aitk

FPS, W, H = 25, 320, 240
SPANS = [Span(0.2, 1.8), Span(2.36, 3.6)]
KEPT = [f for a, b in ((5, 45), (59, 90)) for f in range(a, b)]  # source frames, in the cut's order
CLICKS = "aevalsrc='if(lt(mod(t\\,1)\\,0.02)\\,sin(2*PI*1000*t)\\,0)':s=48000:d=4"


def make_source(path: Path, *video_args: str) -> Path:
    ffmpeg(
        "-f", "lavfi", "-i", f"testsrc2=size={W}x{H}:rate={FPS}:duration=4",
        "-f", "lavfi", "-i", CLICKS,
        *video_args, "-pix_fmt", "yuv420p", "-c:a", "aac", str(path),
    )  # fmt: skip
    return path


GOP12 = ("-g", "12", "-keyint_min", "12", "-sc_threshold", "0")


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    folder = tmp_path_factory.mktemp("smartcut")
    return {
        # B-frames (x264 medium: 3, pyramid), a closed GOP every 12 frames
        "bframes": make_source(folder / "bframes.mp4", "-c:v", "libx264", "-preset", "medium", *GOP12),
        # P-frames only, as OBS's x264 at ultrafast or a screen recorder writes
        "ponly": make_source(folder / "ponly.mp4", "-c:v", "libx264", "-preset", "ultrafast", *GOP12),
        "open_gop": make_source(
            folder / "open.mp4", "-c:v", "libx264", "-preset", "medium", *GOP12, "-x264-params", "open-gop=1"
        ),
        "mpeg4": make_source(folder / "mpeg4.mp4", "-c:v", "mpeg4", "-q:v", "2", "-g", "12"),
    }


def gray_frames(path: Path, *seek: str) -> np.ndarray:
    """(frames, H, W) float: every frame as decoded, none dropped or repeated."""
    raw = subprocess.run(
        [require("ffmpeg"), "-v", "error", *seek, "-i", str(path), "-fps_mode", "passthrough"]
        + ["-f", "rawvideo", "-pix_fmt", "gray", "-"],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, H, W).astype(np.float64)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a - b) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255**2 / mse)


def check_frames(source: Path, out: Path) -> list[float]:
    """Every kept frame is the source's own: count, and each frame against its source frame
    (and against the frames either side of it, which it must not be)."""
    src, got = gray_frames(source), gray_frames(out)
    assert len(got) == len(KEPT)
    scores = [psnr(src[i], got[j]) for j, i in enumerate(KEPT)]
    assert min(scores) > 35, scores
    for j, i in enumerate(KEPT):
        assert max(psnr(src[i - 1], got[j]), psnr(src[i + 1], got[j])) < scores[j] - 10, (j, i)
    return scores


def check_plays_and_syncs(out: Path) -> None:
    """ffmpeg decodes it end to end without a message; frames are shown every 1/25 s from 0; each
    click is heard within a frame of when its frame is shown; and a seek lands on the right frame."""
    decode = subprocess.run([require("ffmpeg"), "-v", "error", "-i", str(out), "-f", "null", "-"], capture_output=True)
    assert decode.returncode == 0 and decode.stderr == b"", decode.stderr
    shown = subprocess.run(
        [require("ffprobe"), "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts_time"]
        + ["-of", "csv=p=0", str(out)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert np.allclose(sorted(float(t) for t in shown), np.arange(len(KEPT)) / FPS, atol=1e-3)
    raw = subprocess.run(
        [require("ffmpeg"), "-v", "error", "-i", str(out), "-ac", "1", "-ar", "48000", "-f", "f32le", "-"],
        capture_output=True,
        check=True,
    ).stdout
    loud = np.abs(np.frombuffer(raw, np.float32)) > 0.1
    heard = [i / 48000 for i in np.flatnonzero(loud) if not loud[max(0, i - 2400) : i].any()]
    due = [KEPT.index(s * FPS) / FPS for s in (1, 2, 3) if s * FPS in KEPT]  # when the cut shows 1 s, 3 s
    assert len(heard) == len(due) == 2 and max(abs(a - b) for a, b in zip(heard, due)) <= 1 / FPS, (heard, due)
    assert abs(probe(out).duration - len(KEPT) / FPS) < 0.05


def test_smart_cut_copies_gops_and_reencodes_only_at_the_cuts(sources, tmp_path):
    source = sources["bframes"]
    media = tmp_path / "talk.mp4"
    media.write_bytes(source.read_bytes())
    (tmp_path / "talk.srt").write_text(
        "1\n00:00:00,200 --> 00:00:01,800\nOne.\n\n2\n00:00:02,360 --> 00:00:03,600\nTwo.\n"
    )
    result = run_aitk("autocut", "cut", str(media), str(tmp_path / "talk.srt"), "--json")
    assert result.returncode == 0, result.stderr
    note = json.loads(result.stdout)["result"]["video"]
    assert note.startswith("smart cut:") and "stream-copied" in note, note
    out = tmp_path / "talk_cut.mp4"
    scores = check_frames(source, out)
    check_plays_and_syncs(out)

    smart = prepare(source, lambda tl, scan: [frame_range(s.start, s.end, 0.0, tl, scan.time_base) for s in SPANS])
    assert not isinstance(smart, str)
    copied = {f for p in smart.pieces if p.kind == COPY for f in range(p.first, p.stop)}
    assert 0.5 < len(copied) / len(KEPT) < 1  # the plan keeps most frames and re-encodes some
    for j, i in enumerate(KEPT):
        assert (scores[j] == float("inf")) == (i in copied), (j, i)  # copied: bit-exact; re-encoded: not

    streams = {
        s["codec_type"]: s
        for s in json.loads(
            subprocess.run(
                [require("ffprobe"), "-v", "error", "-show_streams", "-of", "json", str(out)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )["streams"]
    }
    video = streams["video"]
    assert (video["codec_name"], video["width"], video["height"], video["pix_fmt"]) == ("h264", W, H, "yuv420p")
    assert video["time_base"] == "1/12800" and video["r_frame_rate"] == "25/1"  # the source's
    seeked = gray_frames(out, "-ss", "2.2")[0]  # output frame 55 = source frame 69, mid-GOP
    assert psnr(seeked, gray_frames(source)[KEPT[55]]) > 35


def test_p_only_source_copies_the_tails_too(sources, tmp_path):
    notes: list[str] = []
    out = tmp_path / "cut.mp4"
    cut_media(sources["ponly"], out, SPANS, probe(sources["ponly"]), EncodeOptions(), on_note=notes.append)
    assert notes and notes[0].startswith("smart cut:") and "8 re-encoded" in notes[0], notes  # 7 + 1 head frames
    scores = check_frames(sources["ponly"], out)
    assert sum(s == float("inf") for s in scores) == len(KEPT) - 8
    check_plays_and_syncs(out)


@pytest.mark.parametrize(
    ("kind", "reason"),
    [("open_gop", "open GOPs"), ("mpeg4", "its video is mpeg4")],
)
def test_falls_back_to_a_full_reencode_and_says_so(sources, tmp_path, kind, reason):
    notes: list[str] = []
    out = tmp_path / "cut.mp4"
    cut_media(sources[kind], out, SPANS, probe(sources[kind]), EncodeOptions(), on_note=notes.append)
    assert len(notes) == 1 and notes[0].startswith("smart cut not possible") and reason in notes[0], notes
    assert "re-encoding the whole cut" in notes[0]
    check_frames(sources[kind], out)
    check_plays_and_syncs(out)


def test_smart_false_keeps_the_full_reencode(sources, tmp_path):
    notes: list[str] = []
    out = tmp_path / "cut.mp4"
    cut_media(
        sources["bframes"], out, SPANS, probe(sources["bframes"]), EncodeOptions(smart=False), on_note=notes.append
    )
    assert notes == []
    assert all(s < float("inf") for s in check_frames(sources["bframes"], out))


def test_a_failure_part_way_falls_back_and_leaves_no_temp_files(sources, tmp_path, monkeypatch):
    import aitk.autocut.splice as splice_module

    def broken(src, dst, smart, opts, audio, on_progress):
        dst.write_bytes(b"half a file")
        raise splice_module.SpliceError("decoded pts 1024, expected 512")

    monkeypatch.setattr(splice_module, "splice", broken)
    notes: list[str] = []
    out = tmp_path / "cut.mp4"
    cut_media(sources["bframes"], out, SPANS, probe(sources["bframes"]), EncodeOptions(), on_note=notes.append)
    assert notes == ["smart cut failed part-way (decoded pts 1024, expected 512); re-encoding the whole cut"]
    check_frames(sources["bframes"], out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.mp4"]
