"""Media through ffmpeg (ffmpeg-python): probe, and decode any audio or video to 16 kHz mono float32.

Decoding pipes raw samples from ffmpeg's stdout: no temp files. Errors carry ffmpeg's own message.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from aitk.engine.errors import DependencyError, MediaError

SAMPLE_RATE = 16_000
INSTALL_FFMPEG = "install ffmpeg: 'apt-get install ffmpeg', 'brew install ffmpeg' or 'winget install ffmpeg'"

AUDIO_EXTENSIONS = frozenset(
    ".wav .mp3 .m4a .aac .flac .ogg .oga .opus .wma .aif .aiff .amr .mka .ac3 .weba .caf".split()
)
VIDEO_EXTENSIONS = frozenset(".mp4 .mkv .mov .avi .webm .flv .wmv .m4v .mpg .mpeg .ts .mts .m2ts .3gp .ogv".split())
MEDIA_EXTENSIONS = AUDIO_EXTENSIONS | VIDEO_EXTENSIONS


def is_media_path(path: str | os.PathLike) -> bool:
    """True for file names with a known audio/video extension, in any letter case."""
    return Path(path).suffix.lower() in MEDIA_EXTENSIONS


@dataclass(frozen=True)
class MediaInfo:
    path: str
    duration: float  # seconds; 0.0 when the container does not say
    has_audio: bool
    has_video: bool
    format_name: str
    fps: float = 0.0  # video frame rate (0.0 without video)
    width: int = 0
    height: int = 0
    audio_codec: str = ""
    sample_rate: int = 0
    rotation: int = (
        0  # counterclockwise degrees a player turns the stored frames (phone video); width/height are as stored
    )

    @property
    def display_size(self) -> tuple[int, int]:
        """(width, height) as players show the video, and as ffmpeg decodes it (it autorotates)."""
        return (self.height, self.width) if self.rotation % 180 == 90 else (self.width, self.height)


def ffmpeg_version() -> str | None:
    """ffmpeg's version string, or None when ffmpeg is not on PATH."""
    exe = shutil.which("ffmpeg")
    if exe is None:
        return None
    out = subprocess.run([exe, "-hide_banner", "-version"], capture_output=True, text=True, check=False).stdout
    first = out.splitlines()[0] if out else ""
    return first.split(" version ")[1].split(" ")[0] if " version " in first else first or "unknown"


def require_ffmpeg() -> None:
    if shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None:
        raise DependencyError("ffmpeg/ffprobe not found on PATH", hint=INSTALL_FFMPEG)


def _check_readable(path: Path) -> None:
    if not path.exists():
        raise MediaError("no such file", path=path, hint="check the path")
    if path.is_dir():
        raise MediaError("is a folder, not a media file", path=path)
    if path.stat().st_size == 0:
        raise MediaError("file is empty (0 bytes)", path=path)


_BANNER = ("ffmpeg version", "ffprobe version", "built with", "configuration:", "lib")
_CONTEXT = re.compile(r"^\[[^\]]* @ 0x[0-9a-f]+\]\s*")  # "[mov,mp4,m4a @ 0x55d0c...] ": a pointer, not news


def ffmpeg_message(stderr: bytes | str | None, path: str | os.PathLike | None = None) -> str:
    """The useful last line(s) of ffmpeg's stderr, folded into one line; `path`'s own name is left
    out of them, since the error line already starts with it."""
    text = stderr.decode("utf-8", "replace") if isinstance(stderr, bytes) else (stderr or "")
    lines = [_CONTEXT.sub("", line.strip()) for line in text.splitlines() if line.strip()]
    if path is not None:
        lines = [line.removeprefix(f"{path}: ") for line in lines]
    keep = [line for line in lines if line and not line.startswith(_BANNER)]
    return " | ".join(keep[-2:]) if keep else "ffmpeg failed"


def probe(path: str | os.PathLike) -> MediaInfo:
    """Streams and duration of a media file; MediaError when ffprobe cannot read it."""
    import ffmpeg

    path = Path(path)
    _check_readable(path)
    require_ffmpeg()
    try:
        data = ffmpeg.probe(str(path))
    except ffmpeg.Error as exc:
        raise MediaError(
            f"not readable as media: {ffmpeg_message(exc.stderr, path)}",
            path=path,
            hint="check that it plays; a recording cut short or a file of another kind cannot be read",
        ) from exc
    streams = data.get("streams", [])
    fmt = data.get("format", {})
    durations = [float(x) for x in [fmt.get("duration")] + [s.get("duration") for s in streams] if _is_number(x)]
    video: dict = next((s for s in streams if s.get("codec_type") == "video" and not _is_cover(s)), {})
    audio: dict = next((s for s in streams if s.get("codec_type") == "audio"), {})
    return MediaInfo(
        path=str(path),
        duration=max(durations, default=0.0),
        has_audio=bool(audio),
        has_video=bool(video),
        format_name=fmt.get("format_name", ""),
        fps=_rate(video.get("avg_frame_rate")) or _rate(video.get("r_frame_rate")),
        width=int(video.get("width", 0)),
        height=int(video.get("height", 0)),
        audio_codec=audio.get("codec_name", ""),
        sample_rate=int(audio.get("sample_rate", 0) or 0),
        rotation=_rotation(video),
    )


def _rotation(stream: dict) -> int:
    """A video stream's display rotation, counterclockwise degrees in 0..359, from its display matrix
    (ffprobe's convention), else from an old 'rotate' tag (which counts clockwise)."""
    for side in stream.get("side_data_list", []):
        if _is_number(side.get("rotation")):
            return round(float(side["rotation"])) % 360
    tag = stream.get("tags", {}).get("rotate")
    return round(-float(tag)) % 360 if _is_number(tag) else 0


def decode_audio(path: str | os.PathLike, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Decode the first audio stream to mono float32 at `sample_rate`; shape (num_samples,)."""
    import ffmpeg

    path = Path(path)
    info = probe(path)
    if not info.has_audio:
        raise MediaError("has no audio stream", path=path, hint="pick a file with sound")
    stream = ffmpeg.input(str(path), threads=0).output("-", format="f32le", acodec="pcm_f32le", ac=1, ar=sample_rate)
    try:
        out, _ = stream.run(cmd="ffmpeg", capture_stdout=True, capture_stderr=True, quiet=True)
    except ffmpeg.Error as exc:
        raise MediaError(f"ffmpeg could not decode it: {ffmpeg_message(exc.stderr, path)}", path=path) from exc
    audio = np.frombuffer(out, dtype=np.float32)
    if audio.size == 0:
        raise MediaError("contains no audio samples (zero length)", path=path)
    return audio


def _is_number(value: object) -> bool:
    try:
        float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return True


def _is_cover(stream: dict) -> bool:
    """An mp3/m4a's embedded cover picture shows up as a video stream; it is not video."""
    return stream.get("disposition", {}).get("attached_pic") == 1


def _rate(value: str | None) -> float:
    """'30000/1001' -> 29.97; '0/0' or None -> 0.0."""
    try:
        num, _, den = (value or "0/0").partition("/")
        return float(num) / float(den or 1) if float(den or 1) else 0.0
    except ValueError:
        return 0.0


@dataclass(frozen=True)
class VideoPackets:
    """A video stream's coding parameters and its packet table (read by demuxing; nothing decoded)."""

    codec: str  # "h264", "hevc", ...
    profile: str  # "High", "Main", ... ("" when unknown)
    level: int  # as the codec numbers it (H.264: 40 is level 4.0); 0 when unknown
    pix_fmt: str
    width: int
    height: int
    time_base: Fraction  # seconds per timestamp tick
    frame_rate: Fraction | None  # the stream's average rate
    extradata: bytes  # codec configuration (H.264 in MP4/Matroska: the avcC record)
    interlaced: bool  # coded as fields (field_order other than progressive or unknown)
    color: dict[str, int]  # color_range, colorspace, color_primaries, color_trc
    start_offset: float  # seconds from the container's start to the stream's first timestamp
    packets: list[tuple[int, int, bool, bool]]  # (pts, dts, keyframe, marked), decode order
    discarded: int  # packets an edit list hides (not shown by players)


def video_packets(
    path: str | os.PathLike, mark_key: Callable[[bytes], bool] | None = None, read_packets: bool = True
) -> VideoPackets:
    """The first video stream's packet table; `mark_key(data)` is asked of each keyframe's bytes
    (e.g. whether it is an IDR), so one pass over the file answers it. Without `read_packets`, only
    the coding parameters (the table is left empty; nothing is read past the header). MediaError
    when unreadable."""
    import av

    path = Path(path)
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            ctx = stream.codec_context
            packets, discarded = [], 0
            for packet in container.demux(stream) if read_packets else ():
                if packet.pts is None or packet.size == 0:
                    continue  # the demuxer's end-of-stream marker, or a packet without timing
                if packet.is_discard:
                    discarded += 1
                    continue
                marked = bool(mark_key and packet.is_keyframe and mark_key(bytes(packet)))
                dts = packet.dts if packet.dts is not None else packet.pts
                packets.append((packet.pts, dts, packet.is_keyframe, marked))
            start = (container.start_time or 0) / 1e6
            first = min((p[0] for p in packets), default=0)
            return VideoPackets(
                codec=ctx.name,
                profile=ctx.profile or "",
                level=ctx.level if ctx.level and ctx.level > 0 else 0,
                pix_fmt=ctx.pix_fmt or "",
                width=ctx.width,
                height=ctx.height,
                time_base=Fraction(stream.time_base),
                frame_rate=Fraction(stream.average_rate) if stream.average_rate else None,
                extradata=bytes(ctx.extradata or b""),
                interlaced=int(ctx.field_order or 0) > 1,  # AVFieldOrder: 0 unknown, 1 progressive
                color={k: int(getattr(ctx, k)) for k in ("color_range", "colorspace", "color_primaries", "color_trc")},
                start_offset=float(first * stream.time_base) - start,
                packets=packets,
                discarded=discarded,
            )
    except (av.FFmpegError, IndexError) as exc:
        raise MediaError(f"cannot read its video packets: {exc}", path=path) from exc
