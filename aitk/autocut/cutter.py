"""Cut media to spans.

Accurate mode is frame-exact. Video is smart-cut where the source allows (smartcut.py plans it,
splice.py runs it): whole GOPs are stream-copied and only the frames between each cut and the
nearest keyframe are re-encoded. Otherwise, and with `--reencode`, one ffmpeg run re-encodes
everything: each span is its own input, seeked by ffmpeg (frame-exact after decoding) and joined
with the concat filter. Spans are whole frames long, video keeps exactly that many frames and
audio exactly that many seconds, so picture and sound stay in sync to well under a frame however
many cuts there are. `fast` copies the streams through the concat demuxer instead: no
re-encoding, but each cut starts at the keyframe before it.
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from aitk.autocut.config import EncodeOptions
from aitk.autocut.cues import Span
from aitk.engine.errors import MediaError, UsageError
from aitk.engine.fileio import TEMP_PREFIX, atomic_path
from aitk.engine.media import MediaInfo, ffmpeg_message, require_ffmpeg

# Output audio codec by extension, for audio-only inputs (the cut keeps the input's format).
AUDIO_CODECS = {
    ".mp3": ["-c:a", "libmp3lame", "-q:a", "2"],
    ".wav": ["-c:a", "pcm_s16le"],
    ".flac": ["-c:a", "flac"],
    ".m4a": ["-c:a", "aac", "-b:a", "192k"],
    ".aac": ["-c:a", "aac", "-b:a", "192k"],
    ".ogg": ["-c:a", "libvorbis", "-q:a", "5"],
    ".oga": ["-c:a", "libvorbis", "-q:a", "5"],
    ".opus": ["-c:a", "libopus", "-b:a", "128k"],
}


SEEK_LEAD = 0.5  # seconds seeked before each span in a full re-encode: more than any B-frame delay


def cut_output_path(media: Path, info: MediaInfo) -> Path:
    """X_cut.mp4 for video; X_cut.<same extension> for audio (m4a when that format is unknown)."""
    if info.has_video:
        return media.with_name(f"{media.stem}_cut.mp4")
    suffix = media.suffix.lower() if media.suffix.lower() in AUDIO_CODECS else ".m4a"
    return media.with_name(f"{media.stem}_cut{suffix}")


def crossfade_extensions(spans: list[Span], fade: float, duration: float) -> list[tuple[float, float]]:
    """Per span, the seconds of sound taken (before its start, after its end) so that each join
    can overlap the two sides by `fade` s and the whole stays exactly as long as the spans (pure).
    Half of the overlap comes from each side, from what the cut removes; none where the source
    ends there, or where a span is too short to share."""
    out = []
    for i, span in enumerate(spans):
        usable = fade > 0 and span.duration > 2 * fade
        before = min(fade / 2, span.start) if usable and i > 0 else 0.0
        after = min(fade / 2, max(0.0, duration - span.end)) if usable and i < len(spans) - 1 else 0.0
        out.append((before, after))
    for i in range(len(spans) - 1):  # a join overlaps only where both sides give their half
        if out[i][1] == 0.0 or out[i + 1][0] == 0.0:
            out[i] = (out[i][0], 0.0)
            out[i + 1] = (0.0, out[i + 1][1])
    return out


def _audio_joins(labels: list[str], overlaps: list[float]) -> str:
    """Filter text joining the audio labels in order into [a]: acrossfade where a join overlaps."""
    if len(labels) == 1:
        return f"{labels[0]}anull[a]"
    graph, last = "", labels[0]
    for i, (label, overlap) in enumerate(zip(labels[1:], overlaps), start=1):
        out = "[a]" if i == len(labels) - 1 else f"[x{i}]"
        if overlap > 0:
            graph += f"{last}{label}acrossfade=d={overlap:.6f}:c1=tri:c2=tri{out};"
        else:
            graph += f"{last}{label}concat=n=2:v=0:a=1{out};"
        last = out
    return graph.rstrip(";")


def accurate_command(
    src: Path, dst: Path, spans: list[Span], info: MediaInfo, opts: EncodeOptions, fade: float = 0.0
) -> list[str]:
    """One ffmpeg run for the full re-encode (and the smart cut's sound). Joins in the sound are
    crossfaded over `fade` s (no click where a cut falls inside running sound); the picture is cut
    hard, on the frame."""
    half = 0.5 / info.fps if info.has_video and info.fps > 0 else 0.0
    cmd = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
    parts = []
    extend = crossfade_extensions(spans, fade, info.duration) if info.has_audio else [(0.0, 0.0)] * len(spans)
    for i, span in enumerate(spans):
        # Seek SEEK_LEAD early: ffmpeg's seek lands on the keyframe whose decode time is before the
        # target, and with B-frames (open GOPs above all) the frames shown just before that keyframe
        # cannot be decoded from it, so the span would start a frame late. Then trim to half a frame
        # before the span (rounding can never drop its first frame) and keep exactly its frames.
        before, after = extend[i]
        lead = min(SEEK_LEAD, span.start) if info.has_video else before
        pre = min(half, span.start)
        cmd += ["-ss", f"{span.start - lead:.6f}", "-t", f"{span.duration + lead + after:.6f}", "-i", str(src)]
        chain = ""
        if info.has_video:
            frames = round(span.duration * info.fps)
            chain += (
                f"[{i}:v:0]trim=start={lead - pre:.6f},setpts=PTS-STARTPTS,trim=end_frame={frames},"
                f"setpts=PTS-STARTPTS[v{i}];"
            )
        if info.has_audio:
            trim = f"atrim=start={lead - before:.6f}:duration={span.duration + before + after:.6f}"
            chain += f"[{i}:a:0]{trim},asetpts=PTS-STARTPTS[a{i}];"
        parts.append(chain)
    v, a = int(info.has_video), int(info.has_audio)
    graph = "".join(parts)
    if v:
        graph += "".join(f"[v{i}]" for i in range(len(spans))) + f"concat=n={len(spans)}:v=1:a=0[v]"
        graph += ";" if a else ""
    if a:
        overlaps = [extend[i][1] + extend[i + 1][0] for i in range(len(spans) - 1)]
        graph += _audio_joins([f"[a{i}]" for i in range(len(spans))], overlaps)
    cmd += ["-filter_complex", graph]
    if v:
        quality = ["-b:v", opts.bitrate] if opts.bitrate else ["-crf", str(opts.crf)]
        cmd += ["-map", "[v]", "-c:v", "libx264", "-preset", opts.x264_preset(False), *quality, "-pix_fmt", "yuv420p"]
        cmd += ["-r", f"{info.fps:.6f}"] if info.fps > 0 else []
    if a:
        cmd += ["-map", "[a]"]
        cmd += (
            ["-c:a", "aac", "-b:a", opts.audio_bitrate] if v else AUDIO_CODECS.get(dst.suffix.lower(), ["-c:a", "aac"])
        )
    if dst.suffix.lower() in (".mp4", ".m4a", ".mov"):
        cmd += ["-movflags", "+faststart"]
    return cmd + [str(dst)]


def keyframe_times(src: Path) -> list[float]:
    """Presentation times of the video keyframes (from the packet index; nothing is decoded)."""
    cmd = [
        "ffprobe",
        "-v",
        "error",
        "-select_streams",
        "v:0",
        "-show_entries",
        "packet=pts_time,flags",
        "-of",
        "csv=p=0",
        str(src),
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise MediaError(f"ffprobe could not list keyframes: {ffmpeg_message(result.stderr, src)}", path=src)
    times = []
    for line in result.stdout.splitlines():
        pts, _, flags = line.partition(",")
        if "K" in flags and pts not in ("", "N/A"):
            times.append(float(pts))
    return sorted(times)


def snap_to_keyframes(spans: list[Span], keyframes: list[float]) -> list[Span]:
    """Start each span at the keyframe at or before it, as a stream copy must; overlaps merge.
    (Starting mid-GOP instead would carry the GOP's earlier frames into the cut, squeezed into
    an instant, and players stutter there.)"""
    out: list[Span] = []
    for span in spans:
        before = [k for k in keyframes if k <= span.start + 1e-6]
        start = before[-1] if before else 0.0
        if out and start <= out[-1].end:
            out[-1] = Span(out[-1].start, max(out[-1].end, span.end))
        else:
            out.append(Span(start, span.end))
    return out


def fast_command(src: Path, dst: Path, listing: Path) -> list[str]:
    return [
        "ffmpeg",
        "-hide_banner",
        "-nostdin",
        "-loglevel",
        "error",
        "-y",
        "-f",
        "concat",
        "-safe",
        "0",
        "-i",
        str(listing),
        "-map",
        "0:v:0?",
        "-map",
        "0:a:0?",
        "-c",
        "copy",
        "-avoid_negative_ts",
        "make_zero",
        str(dst),
    ]


def concat_listing(src: Path, spans: list[Span]) -> str:
    quoted = str(src.resolve()).replace("'", "'\\''")
    return "ffconcat version 1.0\n" + "".join(
        f"file '{quoted}'\ninpoint {s.start:.6f}\noutpoint {s.end:.6f}\n" for s in spans
    )


def cut_media(
    src: Path,
    dst: Path,
    spans: list[Span],
    info: MediaInfo,
    opts: EncodeOptions,
    on_progress: Callable[[float], None] = lambda seconds: None,
    fade: float = 0.0,
    on_note: Callable[[str], None] = lambda message: None,
) -> Path:
    """Write the cut to `dst` atomically (a hidden temp file, then a rename). Video in accurate
    mode is smart-cut where the source allows it; `on_note` hears how it was cut, or why not.
    `fade`: seconds of audio fade at each join (accurate mode only; a stream copy cannot change
    the sound)."""
    if not spans:
        raise UsageError("nothing to keep", hint="tick at least one sentence")
    require_ffmpeg()
    listing = dst.with_name(TEMP_PREFIX + dst.stem + ".ffconcat")  # ffmpeg's input list, removed after
    try:
        with atomic_path(dst) as tmp:
            if opts.fast:
                listing.write_text(concat_listing(src, spans))
                _run_ffmpeg(fast_command(src, tmp, listing), src, on_progress, "cut it")
            elif not (
                opts.smart and info.has_video and smart_cut(src, tmp, spans, info, opts, on_progress, on_note, fade)
            ):
                _run_ffmpeg(accurate_command(src, tmp, spans, info, opts, fade), src, on_progress, "cut it")
    finally:
        with contextlib.suppress(OSError):
            listing.unlink()
    return dst


def smart_cut(
    src: Path,
    dst: Path,
    spans: list[Span],
    info: MediaInfo,
    opts: EncodeOptions,
    on_progress: Callable[[float], None],
    on_note: Callable[[str], None],
    fade: float = 0.0,
) -> bool:
    """Copy whole GOPs and re-encode only the frames at the cuts (see smartcut.py); the audio is
    re-encoded whole, sample-exact, as in the full re-encode. False (having said why) when the
    source does not allow it, and the caller re-encodes everything."""
    from aitk.autocut.smartcut import copied_share, frame_range
    from aitk.autocut.splice import SpliceError, prepare, splice

    def frame_spans(tl, scan) -> list[tuple[int, int]]:
        return [frame_range(s.start, s.end, scan.start_offset, tl, scan.time_base) for s in spans]

    smart = prepare(src, frame_spans)
    if isinstance(smart, str):
        on_note(f"smart cut not possible: {smart}; re-encoding the whole cut")
        return False
    audio = dst.with_name(TEMP_PREFIX + dst.stem + ".audio.m4a") if info.has_audio else None
    try:
        if audio is not None:
            sound = replace(info, has_video=False)
            cmd = accurate_command(src, audio, spans, sound, opts, fade)
            _run_ffmpeg(cmd, src, lambda t: None, "cut its audio")
        splice(src, dst, smart, opts, audio, on_progress)
    except SpliceError as exc:
        on_note(f"smart cut failed part-way ({exc}); re-encoding the whole cut")
        return False
    finally:
        if audio is not None:
            with contextlib.suppress(OSError):
                audio.unlink()
    share = copied_share(smart.pieces)
    encoded = sum(p.frames for p in smart.pieces if p.kind != "copy")
    on_note(f"smart cut: {share:.0%} of the frames stream-copied, {encoded} re-encoded at the cuts")
    return True


def _run_ffmpeg(cmd: list[str], src: Path, on_progress: Callable[[float], None], action: str) -> None:
    """Run ffmpeg with machine-readable progress on stdout; MediaError with its message on failure."""
    cmd = cmd[:1] + ["-progress", "pipe:1", "-nostats"] + cmd[1:]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        key, _, value = line.strip().partition("=")
        if key == "out_time_us" and value.isdigit():
            on_progress(int(value) / 1e6)
    stderr = proc.stderr.read() if proc.stderr else ""
    if proc.wait() != 0:
        raise MediaError(f"ffmpeg could not {action}: {ffmpeg_message(stderr, src)}", path=src)


def merge_media(medias: list[Path], infos: list[MediaInfo], dst: Path, opts: EncodeOptions) -> Path:
    """Join recordings end to end in one ffmpeg run (scaled and padded to the first video's frame)."""
    video = infos[0].has_video
    if any(i.has_video != video for i in infos) or any(not i.has_audio for i in infos):
        odd = next(m for m, i in zip(medias, infos) if i.has_video != video or not i.has_audio)
        raise MediaError(
            "cannot be merged with the others: every input needs sound, and all or none need video",
            path=odd,
            hint="leave it out, or give it a silent sound track",
        )
    first = infos[0]
    cmd = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
    chains, labels = [], ""
    for i, media in enumerate(medias):
        cmd += ["-i", str(media)]
        if video:
            w, h, fps = first.width, first.height, first.fps or 25
            chains.append(
                f"[{i}:v:0]scale={w}:{h}:force_original_aspect_ratio=decrease,pad={w}:{h}:(ow-iw)/2:(oh-ih)/2,"
                f"setsar=1,fps={fps:.6f}[v{i}]"
            )
            labels += f"[v{i}]"
        chains.append(f"[{i}:a:0]aresample=48000,aformat=channel_layouts=stereo[a{i}]")
        labels += f"[a{i}]"
    graph = ";".join(chains) + f";{labels}concat=n={len(medias)}:v={int(video)}:a=1" + ("[v]" if video else "") + "[a]"
    cmd += ["-filter_complex", graph]
    if video:
        quality = ["-b:v", opts.bitrate] if opts.bitrate else ["-crf", str(opts.crf)]
        cmd += [
            "-map",
            "[v]",
            "-c:v",
            "libx264",
            "-preset",
            opts.x264_preset(False),
            *quality,
            "-pix_fmt",
            "yuv420p",
            "-map",
            "[a]",
            "-c:a",
            "aac",
            "-b:a",
            opts.audio_bitrate,
        ]
    else:
        cmd += ["-map", "[a]", *AUDIO_CODECS.get(dst.suffix.lower(), ["-c:a", "aac"])]
    with atomic_path(dst) as tmp:
        _run_ffmpeg(cmd + [str(tmp)], medias[0], lambda t: None, f"join it with the others into {dst.name}")
    return dst
