"""Run a smart cut (planned by smartcut.py) with PyAV: copy the packets of whole GOPs, re-encode the
frames at each cut with libx264 set like the source, and join them with the audio in one MP4.

The re-encoded pieces use their own SPS/PPS id, and the output's avcC lists both the source's and
x264's parameter sets, so every decoder finds the right ones for every frame (x264 also repeats
its own before each of its IDR frames). Timestamps are rebuilt: frame j of the cut is shown at
j frame durations, and the n-th packet is decoded at n - lag frame durations, `lag` being the
deepest B-frame reordering among the copied runs (negative start dts go into an MP4 edit list).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from aitk.autocut import h264
from aitk.autocut.config import EncodeOptions
from aitk.autocut.smartcut import COPY, Packet, Piece, Timeline, blockers, decode_start, plan, reorder_lag, timeline
from aitk.engine.media import VideoPackets, video_packets

# ffmpeg's H.264 profile names -> x264's (profiles x264 cannot write are not smart-cut).
X264_PROFILES = {
    "Constrained Baseline": "baseline",
    "Baseline": "baseline",
    "Main": "main",
    "High": "high",
    "High 10": "high10",
    "High 4:2:2": "high422",
    "High 4:4:4 Predictive": "high444",
}
X264_PIX_FMTS = ("yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "yuv420p10le", "yuv422p10le")


class SpliceError(Exception):
    """The smart cut went wrong part-way (the stream was not as its packet table said)."""


@dataclass(frozen=True)
class SmartPlan:
    scan: VideoPackets
    avcc: h264.AvcC
    packets: list[Packet]  # decode order
    timeline: Timeline
    pieces: list[Piece]


def prepare(src: Path, frame_spans: Callable[[Timeline, VideoPackets], list[tuple[int, int]]]) -> SmartPlan | str:
    """The smart-cut plan for `src`, or why it cannot be smart-cut (a phrase for the user)."""
    scan = video_packets(src, read_packets=False)  # codec facts first; the IDR check needs the NAL length size
    if scan.codec != "h264":
        return f"its video is {scan.codec or 'of an unknown codec'}, and the smart cut handles H.264"
    try:
        avcc = h264.parse_avcc(scan.extradata)
    except ValueError:
        return "its H.264 is not stored as in MP4/Matroska (no avcC record)"
    if scan.profile not in X264_PROFILES or scan.pix_fmt not in X264_PIX_FMTS:
        return f"x264 cannot match its H.264 profile {scan.profile or '?'} / pixel format {scan.pix_fmt or '?'}"
    if scan.interlaced:
        return "it is interlaced"
    scan = video_packets(src, lambda data: h264.is_idr(data, avcc.length_size))
    if scan.discarded:
        return "an edit list hides some of its frames"
    packets = [Packet(pts, dts, key, idr) for pts, dts, key, idr in scan.packets]
    reasons = blockers(packets)
    if reasons:
        return "; ".join(reasons)
    tl = timeline(packets)
    return SmartPlan(scan, avcc, packets, tl, plan(frame_spans(tl, scan), tl))


def splice(
    src: Path,
    dst: Path,
    smart: SmartPlan,
    opts: EncodeOptions,
    audio: Path | None,
    on_progress: Callable[[float], None],
) -> None:
    """Write the video pieces (and the audio file's packets) to the MP4 `dst`."""
    import av

    try:
        _splice(src, dst, smart, opts, audio, on_progress)
    except av.FFmpegError as exc:  # a packet or frame libav would not take: the full re-encode will
        raise SpliceError(str(exc)) from exc


def _splice(src: Path, dst: Path, smart: SmartPlan, opts: EncodeOptions, audio: Path | None, on_progress) -> None:
    import av

    scan = smart.scan
    with (
        av.open(str(src)) as source,
        av.open(str(dst), "w", format="mp4", container_options={"movflags": "+faststart"}) as out,
    ):
        in_video = source.streams.video[0]
        in_video.codec_context.thread_type = "AUTO"
        out_video = out.add_stream_from_template(in_video)
        encoder = _Encoder(scan, smart.avcc, opts)
        out_video.codec_context.extradata = h264.build_avcc(encoder.joint_avcc)
        audio_in = av.open(str(audio)) if audio else None
        try:
            streams: list[Iterator[tuple[float, av.Packet]]] = [
                _video_packets(source, in_video, out_video, smart, encoder, on_progress)
            ]
            if audio_in is not None:
                in_audio = audio_in.streams.audio[0]
                out_audio = out.add_stream_from_template(in_audio)
                streams.append(_audio_packets(audio_in, in_audio, out_audio))
            for _, packet in heapq.merge(*streams, key=lambda item: item[0]):
                out.mux(packet)
        finally:
            if audio_in is not None:
                audio_in.close()


def _audio_packets(container, stream, out_stream) -> Iterator[tuple[float, object]]:
    for packet in container.demux(stream):
        if packet.dts is None:
            continue
        packet.stream = out_stream
        yield float(packet.dts * stream.time_base), packet


def _video_packets(
    source, in_video, out_video, smart: SmartPlan, encoder, on_progress
) -> Iterator[tuple[float, object]]:
    """The joined video's packets in decode order, with their output pts/dts, keyed by dts seconds."""
    tl, tick = smart.timeline, smart.scan.time_base
    lag = reorder_lag(smart.pieces, tl)
    shown = 0  # frames of the cut before the current piece
    decoded = 0  # packets written so far
    for piece in smart.pieces:
        runs = (
            _copied(source, in_video, smart, piece)
            if piece.kind == COPY
            else encoder.encode(_decoded_frames(source, in_video, smart, piece))
        )
        for packet, index in runs:  # index: the frame's position within the piece
            packet.time_base = tick  # first: PyAV rescales the timestamps already set
            packet.pts = round((shown + index) * tl.frame_ticks)
            packet.dts = round((decoded - lag) * tl.frame_ticks)
            packet.duration = round(tl.frame_ticks)
            packet.stream = out_video
            decoded += 1
            if decoded % 250 == 0:  # a long copied run still moves the bar
                on_progress(float((shown + index) * tl.frame_ticks * tick))
            yield float(packet.dts * tick), packet
        shown += piece.frames
        on_progress(float(shown * tl.frame_ticks * tick))
    if decoded != shown:
        raise SpliceError(f"wrote {decoded} video packets for {shown} frames")


def _copied(source, stream, smart: SmartPlan, piece: Piece) -> Iterator[tuple[object, int]]:
    """The source packets of a copy piece, in decode order, each with its frame's place in the piece."""
    tl, packets = smart.timeline, smart.packets
    start = tl.decode[piece.first]
    index = {packets[tl.decode[p]].pts: p - piece.first for p in range(piece.first, piece.stop)}
    source.seek(packets[start].dts, stream=stream, backward=True)
    wanted = piece.frames
    for packet in source.demux(stream):
        if packet.pts is None or packet.size == 0:
            continue
        if wanted == piece.frames and packet.pts != packets[start].pts:
            continue  # before the piece's IDR frame: the seek lands at or before it
        at = index.get(packet.pts)
        if at is None:
            raise SpliceError(f"packet at pts {packet.pts} is not in the copied run")
        yield packet, at
        wanted -= 1
        if wanted == 0:
            return
    raise SpliceError(f"the source ended {wanted} packets early")


def _decoded_frames(source, stream, smart: SmartPlan, piece: Piece) -> Iterator[object]:
    """The decoded frames [first, stop) of an encode piece, decoding from the IDR before them."""
    tl, packets = smart.timeline, smart.packets
    first_pts, last_pts = tl.pts[piece.first], tl.pts[piece.stop - 1]
    start = tl.decode[decode_start(piece.first, tl)]
    source.seek(packets[start].dts, stream=stream, backward=True)
    stream.codec_context.flush_buffers()
    expected = piece.first
    length_size = smart.avcc.length_size
    for packet in source.demux(stream):
        if packet.pts is not None and packet.pts < first_pts and packet.size:
            if not h264.is_reference(bytes(packet), length_size):
                continue  # a B-frame before the wanted ones that nothing refers to: no need to decode it
        for frame in packet.decode():
            if frame.pts is None or frame.pts < first_pts:
                continue
            pts = frame.pts
            if pts != tl.pts[expected]:
                raise SpliceError(f"decoded pts {pts}, expected {tl.pts[expected]}")
            yield frame  # the encoder re-stamps it
            expected += 1
            if pts >= last_pts:
                return
    raise SpliceError(f"decoding stopped {piece.stop - expected} frames short")


class _Encoder:
    """libx264 set like the source: profile, level, pixel format, size, colours, time base, rate;
    no B-frames (so its pieces need no reordering) and its own parameter-set id."""

    def __init__(self, scan: VideoPackets, avcc: h264.AvcC, opts: EncodeOptions) -> None:
        taken = {h264.parameter_set_id(u) for u in avcc.sps + avcc.pps}
        self.set_id = min(set(range(32)) - taken)
        self.scan, self.opts, self.length_size = scan, opts, avcc.length_size
        probe = self._context(global_header=True)
        probe.open()
        units = h264.annexb_units(bytes(probe.extradata))
        self.sps = [u for u in units if h264.nal_type(u) == h264.SPS]
        self.pps = [u for u in units if h264.nal_type(u) == h264.PPS]
        if len(self.sps) != 1 or len(self.pps) != 1:
            raise SpliceError("x264 wrote no single SPS/PPS")
        compat = avcc.compatibility & self.sps[0][2]
        self.joint_avcc = h264.AvcC(
            avcc.profile,
            compat,
            avcc.level,
            avcc.length_size,
            avcc.sps + tuple(self.sps),
            avcc.pps + tuple(self.pps),
            avcc.tail,
        )

    def _context(self, global_header: bool = False):
        import av

        scan, opts = self.scan, self.opts
        ctx = av.CodecContext.create("libx264", "w")
        ctx.width, ctx.height, ctx.pix_fmt = scan.width, scan.height, scan.pix_fmt
        ctx.time_base = 1 / scan.frame_rate if scan.frame_rate else scan.time_base  # frame.pts counts frames
        if scan.frame_rate:
            ctx.framerate = scan.frame_rate
        for key, value in scan.color.items():
            setattr(ctx, key, value)
        if global_header:
            ctx.flags |= av.codec.context.Flags.global_header
        quality = {"b": opts.bitrate} if opts.bitrate else {"crf": str(opts.crf)}
        ctx.options = {
            "preset": opts.x264_preset(True),
            **quality,
            "profile": X264_PROFILES[scan.profile],
            "level": str(scan.level),
            "x264-params": f"sps-id={self.set_id}:bframes=0:keyint=infinite:scenecut=0",
        }
        return ctx

    def encode(self, frames: Iterator[object]) -> Iterator[tuple[object, int]]:
        """The piece's packets (length-prefixed like the source's), each with its frame index."""
        import av

        ctx = self._context()
        count, written = 0, 0
        for frame in frames:
            frame.pict_type = av.video.frame.PictureType.NONE  # x264 places its own (one IDR first)
            frame.time_base, frame.pts = ctx.time_base, count
            count += 1
            for packet in self._packets(ctx.encode(frame)):
                yield packet, written  # no B-frames: packets come in frame order
                written += 1
        for packet in self._packets(ctx.encode(None)):
            yield packet, written
            written += 1
        if written != count:
            raise SpliceError(f"x264 returned {written} packets for {count} frames")

    def _packets(self, encoded) -> Iterator[object]:
        import av

        for packet in encoded:
            units = h264.annexb_units(bytes(packet))
            for unit in units:
                kind = h264.nal_type(unit)
                if (kind == h264.SPS and unit != self.sps[0]) or (kind == h264.PPS and unit != self.pps[0]):
                    raise SpliceError("x264 changed its parameter sets mid-stream")
            out = av.Packet(h264.to_length_prefixed(units, self.length_size))
            out.is_keyframe = packet.is_keyframe
            yield out
