"""EDL and FCPXML exports, read back with small parsers: frame-exact, contiguous, escaped."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from aitk.autocut.cues import Span
from aitk.autocut.export import export_edl, export_fcpxml, frame_rate, timecode
from aitk.engine.errors import UsageError

# No time here lands on half a frame at the rates tested, so plain round() gives the expected frame.
SPANS = [Span(0.523, 3.137), Span(4.0, 7.219), Span(10.031, 12.484), Span(3661.0, 3662.371)]
EVENT = re.compile(r"^(\d{3})  (\S+)\s+(\S+)\s+C\s+((?:\d\d:\d\d:\d\d:\d\d ?){4})$")


def read_edl(text: str, base: int) -> tuple[dict, list[dict]]:
    """Header fields and events, timecodes turned back into frame counts."""
    header = dict(re.findall(r"^(TITLE|FCM): (.*)$", text, re.M))
    events, lines = [], text.splitlines()
    for i, line in enumerate(lines):
        if m := EVENT.match(line):
            frames = [_tc_frames(tc, base) for tc in m.group(4).split()]
            clip = re.match(r"^\* FROM CLIP NAME: (.*)$", lines[i + 1])
            events.append(
                dict(num=int(m.group(1)), reel=m.group(2), track=m.group(3), frames=frames, clip=clip and clip.group(1))
            )
    return header, events


def _tc_frames(tc: str, base: int) -> int:
    hh, mm, ss, ff = map(int, tc.split(":"))
    assert ff < base and ss < 60 and mm < 60
    return ((hh * 60 + mm) * 60 + ss) * base + ff


@pytest.mark.parametrize("fps, base", [(25, 25), (29.97, 30), (23.976, 24), (60, 60)])
def test_edl_events_are_frame_exact_and_contiguous(fps, base):
    text = export_edl(SPANS, "my clip.mp4", fps, "Interview cut")
    header, events = read_edl(text, base)
    assert header == {"TITLE": "Interview cut", "FCM": "NON-DROP FRAME"}
    assert text.startswith("TITLE: Interview cut\nFCM: NON-DROP FRAME\n\n")
    assert [e["num"] for e in events] == [1, 2, 3, 4]
    assert {(e["reel"], e["track"], e["clip"]) for e in events} == {("AX", "AA/V", "my clip.mp4")}
    rate = frame_rate(fps)
    record = 0
    for span, e in zip(SPANS, events):
        src_in, src_out, rec_in, rec_out = e["frames"]
        assert (src_in, src_out) == (round(span.start * rate), round(span.end * rate))
        assert rec_in == record and rec_out - rec_in == src_out - src_in
        record = rec_out
    assert "\r" not in text


def test_edl_tracks():
    assert read_edl(export_edl(SPANS, "a.wav", 25, "t", has_video=False), 25)[1][0]["track"] == "AA"
    assert read_edl(export_edl(SPANS, "a.mp4", 25, "t", has_audio=False), 25)[1][0]["track"] == "V"
    with pytest.raises(UsageError):
        export_edl(SPANS, "a.mp4", 25, "t", has_video=False, has_audio=False)


def test_timecode_rounds_to_nearest_frame_halves_up():
    assert timecode(0, 25) == "00:00:00:00"
    assert timecode(3661.5, 25) == "01:01:01:13"  # 91537.5 frames: halves round up
    assert timecode(3661.48, 25) == "01:01:01:12"
    assert timecode(1.2, 25) == "00:00:01:05"
    # 29.97 counts real frames (30000/1001 per s) in a 30-frame NDF timebase
    assert timecode(1.0, 29.97) == "00:00:01:00"  # 29.97 frames -> 30
    assert timecode(3600, 29.97) == "00:59:56:12"  # 107892.1 frames: NDF runs behind the clock
    assert timecode(10, 30) == "00:00:10:00"


@pytest.mark.parametrize("bad", [0, -25, float("nan"), float("inf")])
def test_bad_rates_and_empty_spans_are_usage_errors(bad):
    with pytest.raises(UsageError):
        export_edl(SPANS, "a.mp4", bad, "t")
    with pytest.raises(UsageError):
        export_fcpxml(SPANS, Path("/a.mp4"), bad, 20, 1920, 1080, "t")


def test_empty_spans_are_usage_errors():
    with pytest.raises(UsageError):
        export_edl([], "a.mp4", 25, "t")
    with pytest.raises(UsageError):
        export_fcpxml([], Path("/a.mp4"), 25, 20, 1920, 1080, "t")
    with pytest.raises(UsageError):
        export_edl([Span(1.0, 1.01)], "a.mp4", 25, "t")  # shorter than one frame


def test_frame_rates():
    assert frame_rate(29.97) == Fraction(30000, 1001)
    assert frame_rate(23.976) == Fraction(24000, 1001)
    assert frame_rate(59.94) == Fraction(60000, 1001)
    assert frame_rate(25) == 25 and frame_rate(24.0) == 24
    assert frame_rate(12.5) == Fraction(25, 2)


def _time(value: str) -> Fraction:
    assert value.endswith("s")
    return Fraction(value[:-1])


def _fcpxml(fps, spans=SPANS, path=Path("/media/my clip.mp4"), duration=4000.0):
    text = export_fcpxml(spans, path, fps, duration, 1920, 1080, "Interview cut")
    return text, ET.fromstring(text)


@pytest.mark.parametrize("fps", [25, 29.97, 23.976, 50])
def test_fcpxml_clips_are_frame_snapped_and_contiguous(fps):
    text, root = _fcpxml(fps)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE fcpxml>\n')
    assert root.tag == "fcpxml" and root.get("version") == "1.9"
    rate = frame_rate(fps)
    fmt = root.find("resources/format")
    assert _time(fmt.get("frameDuration")) == 1 / rate and (fmt.get("width"), fmt.get("height")) == ("1920", "1080")
    asset = root.find("resources/asset")
    assert asset.get("id") == "r2" and asset.get("format") == "r1" and asset.get("audioRate") == "48000"
    assert _time(asset.get("duration")) == round(4000 * rate) / rate
    sequence = root.find("library/event/project/sequence")
    assert root.find("library/event/project").get("name") == "Interview cut"
    clips = sequence.findall("spine/asset-clip")
    assert len(clips) == len(SPANS)
    offset = Fraction(0)
    for span, clip in zip(SPANS, clips):
        start, duration = _time(clip.get("start")), _time(clip.get("duration"))
        assert start == round(span.start * rate) / rate
        assert start + duration == round(span.end * rate) / rate
        assert _time(clip.get("offset")) == offset and clip.get("ref") == "r2"
        for key in ("start", "duration", "offset"):  # whole frames, written in frame units
            assert (_time(clip.get(key)) * rate).denominator == 1
        offset += duration
    assert _time(sequence.get("duration")) == offset


def test_fcpxml_frame_units():
    text, root = _fcpxml(25, spans=[Span(1.2, 2.4)])
    clip = root.find(".//asset-clip")
    assert (clip.get("offset"), clip.get("start"), clip.get("duration")) == ("0s", "30/25s", "30/25s")
    text, root = _fcpxml(29.97, spans=[Span(1.0, 2.0)])
    assert root.find("resources/format").get("frameDuration") == "1001/30000s"
    clip = root.find(".//asset-clip")
    assert (clip.get("start"), clip.get("duration")) == ("30030/30000s", "30030/30000s")


def test_fcpxml_escapes_names_and_quotes_the_file_url(tmp_path):
    media = tmp_path / "Tom & Jerry <take 2>.mov"
    text = export_fcpxml(SPANS[:2], media, 25, 20, 1280, 720, 'Cut "A" & B')
    root = ET.fromstring(text)
    src = root.find("resources/asset/media-rep").get("src")
    assert src.startswith("file:///") and " " not in src and "&" not in src
    assert unquote(urlparse(src).path) == str(media.absolute())
    assert root.find("resources/asset").get("name") == "Tom & Jerry <take 2>"
    assert root.find("library/event").get("name") == 'Cut "A" & B'
    assert "Tom &amp; Jerry &lt;take 2&gt;" in text


def test_fcpxml_relative_path_becomes_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    root = _fcpxml(25, path=Path("clip.mp4"))[1]
    assert root.find("resources/asset/media-rep").get("src") == (tmp_path / "clip.mp4").as_uri()


def test_fcpxml_clamps_clips_to_the_media(tmp_path):
    root = _fcpxml(25, spans=[Span(8.0, 12.0)], duration=10.0)[1]
    clip = root.find(".//asset-clip")
    assert _time(clip.get("start")) + _time(clip.get("duration")) == 10


@pytest.mark.parametrize("fps", [25, 29.97, 23.976])
def test_otio_clips_are_the_frame_snapped_spans_on_both_tracks(fps):
    otio = pytest.importorskip("opentimelineio")
    from aitk.autocut.export import export_otio

    text = export_otio(SPANS, Path("/media/my clip.mp4"), fps, 4000.0, "Interview cut")
    timeline = otio.adapters.read_from_string(text, "otio_json")
    rate = frame_rate(fps)
    assert timeline.name == "Interview cut" and [t.kind for t in timeline.tracks] == ["Video", "Audio"]
    for track in timeline.tracks:
        clips = list(track)
        assert [
            (round(c.source_range.start_time.to_frames()), round(c.source_range.end_time_exclusive().to_frames()))
            for c in clips
        ] == [(round(s.start * rate), round(s.end * rate)) for s in SPANS]
        assert all(c.source_range.start_time.rate == pytest.approx(float(rate)) for c in clips)
        ref = clips[0].media_reference
        assert unquote(urlparse(ref.target_url).path) == "/media/my clip.mp4"
        assert round(ref.available_range.duration.to_frames()) == round(4000 * rate)
    audio_only = otio.adapters.read_from_string(
        export_otio(SPANS[:1], Path("/a.wav"), 25, 10.0, "t", has_video=False), "otio_json"
    )
    assert [t.kind for t in audio_only.tracks] == ["Audio"]
