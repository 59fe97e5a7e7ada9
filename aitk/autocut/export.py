"""The cut as an edit list that real editors import: CMX3600 EDL and FCPXML 1.9 (pure, text out).

Every time is snapped to a whole frame first (round half up), so an editor sees exactly the frames
we meant and record durations add up frame-exactly. The caller writes the returned text to a file.
"""

from __future__ import annotations

import math
import os
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path

from aitk.autocut.cues import Span
from aitk.engine.errors import UsageError


def frame_rate(fps: float) -> Fraction:
    """The exact rate: 29.97 -> 30000/1001 (NTSC family), 25 -> 25, else the nearest p/q with q <= 1001."""
    if not (math.isfinite(fps) and fps > 0):
        raise UsageError(f"frame rate must be a positive number, got {fps}")
    if abs(fps - round(fps)) < 1e-3:
        return Fraction(round(fps))
    k = round(fps * 1.001)  # NTSC rates are k*1000/1001: 23.976, 29.97, 59.94, ...
    if abs(fps - k * 1000 / 1001) < 1e-3:
        return Fraction(k * 1000, 1001)
    return Fraction(fps).limit_denominator(1001)


def to_frames(seconds: float, rate: Fraction) -> int:
    """Nearest whole frame, halves rounded up (float product: 0.02 s at 25 fps is frame 1, not 0)."""
    return math.floor(seconds * float(rate) + 0.5)


def timecode(seconds: float, fps: float) -> str:
    """ "HH:MM:SS:FF", non-drop frame, the frame nearest `seconds` (halves round up).

    Frames are the media's real frames; non-integer rates count them in the rounded integer
    timebase (29.97 -> 30), i.e. NDF timecode, which runs slightly slower than the wall clock.
    """
    if seconds < 0:
        raise UsageError(f"a timecode cannot be negative, got {seconds} s")
    return _frames_to_tc(to_frames(seconds, frame_rate(fps)), _timebase(fps))


def _timebase(fps: float) -> int:
    return max(1, math.floor(fps + 0.5))


def _frames_to_tc(frames: int, base: int) -> str:
    seconds, ff = divmod(frames, base)
    minutes, ss = divmod(seconds, 60)
    hh, mm = divmod(minutes, 60)
    return f"{hh:02d}:{mm:02d}:{ss:02d}:{ff:02d}"


def _frame_spans(spans: list[Span], rate: Fraction, limit: int | None = None) -> list[tuple[int, int]]:
    """Spans as (first frame, end frame), clamped to `limit`; spans shorter than half a frame vanish."""
    if not spans:
        raise UsageError("nothing to export: no kept spans")
    out = []
    for span in spans:
        start, end = max(0, to_frames(span.start, rate)), to_frames(span.end, rate)
        if limit is not None:
            end = min(end, limit)
        if end > start:
            out.append((start, end))
    if not out:
        raise UsageError("nothing to export: every kept span is shorter than one frame")
    return out


def _one_line(text: str) -> str:
    return " ".join(str(text).split())  # a newline in a name would end the EDL line early


def export_edl(
    spans: list[Span], media_name: str, fps: float, title: str, has_video: bool = True, has_audio: bool = True
) -> str:
    """CMX3600: one cut event per span from reel AX, recorded back to back from 00:00:00:00."""
    rate, base = frame_rate(fps), _timebase(fps)
    track = {(True, True): "AA/V", (True, False): "V", (False, True): "AA"}.get((has_video, has_audio))
    if track is None:
        raise UsageError("an EDL needs video or audio: has_video and has_audio are both false")
    lines = [f"TITLE: {_one_line(title)}", "FCM: NON-DROP FRAME", ""]
    record = 0
    for number, (start, end) in enumerate(_frame_spans(spans, rate), start=1):
        times = [start, end, record, record + end - start]
        tcs = " ".join(_frames_to_tc(f, base) for f in times)
        lines.append(f"{number:03d}  {'AX':<8} {track:<5} C        {tcs}")
        lines.append(f"* FROM CLIP NAME: {_one_line(media_name)}")
        lines.append("")
        record = times[3]
    return "\n".join(lines)


def _rational(frames: int, rate: Fraction) -> str:
    """FCPXML time in frame units: 30 frames at 25 fps is "30/25s", at 29.97 "30030/30000s"."""
    if frames == 0:
        return "0s"
    return f"{frames * rate.denominator}/{rate.numerator}s"


def _flag(value: bool) -> str:
    return "1" if value else "0"


def export_fcpxml(
    spans: list[Span],
    media_path: Path,
    fps: float,
    duration: float,
    width: int,
    height: int,
    title: str,
    has_video: bool = True,
    has_audio: bool = True,
    sample_rate: int = 48000,
) -> str:
    """FCPXML 1.9: one asset for the source media and one asset-clip per span on a primary spine."""
    rate = frame_rate(fps)
    total = to_frames(duration, rate)  # clips must not run past the asset's end; 0 means unknown
    frame_spans = _frame_spans(spans, rate, limit=total if total > 0 else None)
    total = max(total, frame_spans[-1][1])
    if not (has_video or has_audio):
        raise UsageError("an FCPXML asset needs video or audio: has_video and has_audio are both false")
    path = Path(os.path.abspath(os.path.expanduser(media_path)))

    root = ET.Element("fcpxml", version="1.9")
    resources = ET.SubElement(root, "resources")
    ET.SubElement(resources, "format", id="r1", frameDuration=_rational(1, rate), width=str(width), height=str(height))
    asset = ET.SubElement(
        resources,
        "asset",
        id="r2",
        name=path.stem,
        start="0s",
        duration=_rational(total, rate),
        hasVideo=_flag(has_video),
        hasAudio=_flag(has_audio),
        format="r1",
        audioSources="1",
        audioChannels="2",
        audioRate=str(sample_rate),
    )
    ET.SubElement(asset, "media-rep", kind="original-media", src=path.as_uri())  # as_uri quotes " " and "&"

    event = ET.SubElement(ET.SubElement(root, "library"), "event", name=title)
    project = ET.SubElement(event, "project", name=title)
    length = sum(end - start for start, end in frame_spans)
    sequence = ET.SubElement(
        project, "sequence", format="r1", duration=_rational(length, rate), tcStart="0s", tcFormat="NDF"
    )
    spine = ET.SubElement(sequence, "spine")
    offset = 0
    for start, end in frame_spans:
        ET.SubElement(
            spine,
            "asset-clip",
            ref="r2",
            name=path.stem,
            offset=_rational(offset, rate),
            start=_rational(start, rate),
            duration=_rational(end - start, rate),
            format="r1",
            tcFormat="NDF",
        )
        offset += end - start

    ET.indent(root, space="    ")
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE fcpxml>\n\n{body}\n'


def export_otio(
    spans: list[Span],
    media_path: Path,
    fps: float,
    duration: float,
    title: str,
    has_video: bool = True,
    has_audio: bool = True,
) -> str:
    """OpenTimelineIO (.otio JSON): a timeline with one clip per span on a video track and on an
    audio track, each referring to the source file; frame-snapped like the EDL and FCPXML."""
    try:
        import opentimelineio as otio
    except ImportError as exc:
        raise UsageError(
            "--export otio needs the opentimelineio package", hint="pip install opentimelineio==0.18.1"
        ) from exc
    if not (has_video or has_audio):
        raise UsageError("an OTIO clip needs video or audio: has_video and has_audio are both false")
    rate = frame_rate(fps)
    total = to_frames(duration, rate)
    frame_spans = _frame_spans(spans, rate, limit=total if total > 0 else None)
    total = max(total, frame_spans[-1][1])
    path = Path(os.path.abspath(os.path.expanduser(media_path)))
    per_second = float(rate)

    def span_range(start: int, length: int):
        return otio.opentime.TimeRange(
            otio.opentime.RationalTime(start, per_second), otio.opentime.RationalTime(length, per_second)
        )

    timeline = otio.schema.Timeline(name=title)
    timeline.global_start_time = otio.opentime.RationalTime(0, per_second)
    kinds = ([otio.schema.TrackKind.Video] if has_video else []) + ([otio.schema.TrackKind.Audio] if has_audio else [])
    for kind in kinds:
        track = otio.schema.Track(name=kind, kind=kind)
        for number, (start, end) in enumerate(frame_spans, start=1):
            reference = otio.schema.ExternalReference(target_url=path.as_uri(), available_range=span_range(0, total))
            track.append(
                otio.schema.Clip(
                    name=f"{path.stem} {number}", media_reference=reference, source_range=span_range(start, end - start)
                )
            )
        timeline.tracks.append(track)
    return otio.adapters.write_to_string(timeline, "otio_json")
