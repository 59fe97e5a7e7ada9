"""The smart cut's pure parts: which frames are copied and which re-encoded, and the H.264 records."""

from fractions import Fraction

import pytest

from aitk.autocut import h264
from aitk.autocut.smartcut import (
    COPY,
    ENCODE,
    Packet,
    Piece,
    blockers,
    copied_share,
    decode_start,
    frame_range,
    plan,
    plan_span,
    reorder_lag,
    timeline,
)

TICK = 512  # time-base ticks per frame (25 fps in 1/12800 s)


def gops(pattern: str, count: int, open_gop: bool = False) -> list[Packet]:
    """A packet table in decode order: `count` GOPs, each laid out by `pattern` in presentation order
    ("IPPP", "IBBP", "IBBBP" with B-pyramid...). A P after Bs is decoded before them, as encoders do."""
    packets: list[Packet] = []
    for g in range(count):
        base = g * len(pattern)
        order: list[int] = []
        pending: list[int] = []
        for i, kind in enumerate(pattern):
            if kind == "B":
                pending.append(i)
            else:
                order.append(i)
                order += pending
                pending = []
        order += pending
        for i in order:
            key = i == 0
            packets.append(Packet((base + i) * TICK, 0, key, key and not (open_gop and g > 0)))
    return [Packet(p.pts, (n - 2) * TICK, p.key, p.idr) for n, p in enumerate(packets)]


def test_p_only_source_copies_from_the_first_idr_to_the_out_point():
    tl = timeline(gops("IPPPPPPPPP", 5))
    assert plan_span(13, 37, tl) == [Piece(ENCODE, 13, 20), Piece(COPY, 20, 37)]
    assert plan_span(20, 37, tl) == [Piece(COPY, 20, 37)]  # in-point on an IDR: nothing re-encoded
    assert plan_span(3, 8, tl) == [Piece(ENCODE, 3, 8)]  # no IDR inside: all of it re-encoded
    assert plan_span(0, 50, tl) == [Piece(COPY, 0, 50)]


def test_b_frames_copy_up_to_the_last_whole_run_and_reencode_the_tail():
    tl = timeline(gops("IBBPBBPBBP", 4))  # decode order per GOP: I P B B P B B P B B
    # frames 20..25 are decoded as 20, 23, 21, 22, 26, 24, 25: [20, 24) is whole, [24, 26) needs 26 first
    assert plan_span(15, 26, tl) == [Piece(ENCODE, 15, 20), Piece(COPY, 20, 24), Piece(ENCODE, 24, 26)]
    assert plan_span(15, 27, tl) == [Piece(ENCODE, 15, 20), Piece(COPY, 20, 27)]  # up to B5: whole again
    assert plan_span(15, 30, tl) == [Piece(ENCODE, 15, 20), Piece(COPY, 20, 30)]  # a whole GOP
    assert plan_span(20, 22, tl) == [Piece(COPY, 20, 21), Piece(ENCODE, 21, 22)]
    assert reorder_lag([Piece(COPY, 20, 30)], tl) == 1  # B1 is the 3rd decoded and the 2nd shown
    assert reorder_lag([Piece(ENCODE, 15, 20)], tl) == 0


def test_b_pyramid_runs():
    # GOPs of I0 B1 B2 B3 P4, decoded I0 P4 B2 B1 B3 (B2 is the pyramid's reference for B1 and B3)
    packets = []
    for g in range(4):
        for i in (0, 4, 2, 1, 3):
            packets.append(Packet((5 * g + i) * TICK, len(packets) * TICK, i == 0, i == 0))
    tl = timeline(packets)
    assert plan_span(5, 9, tl) == [Piece(COPY, 5, 6), Piece(ENCODE, 6, 9)]
    assert plan_span(5, 10, tl) == [Piece(COPY, 5, 10)]
    assert reorder_lag([Piece(COPY, 5, 10)], tl) == 2  # B1: decoded 4th, shown 2nd


def test_every_kept_frame_is_planned_once_in_order():
    tl = timeline(gops("IBBPBBPBBPBB", 6))
    spans = [(3, 17), (17, 40), (44, 71)]
    pieces = plan(spans, tl)
    frames = [f for p in pieces for f in range(p.first, p.stop)]
    assert frames == [f for a, b in spans for f in range(a, b)]
    for p in pieces:
        if p.kind == COPY:
            assert p.first in tl.idr  # every copied run starts at an IDR frame
            decode = sorted(tl.decode[f] for f in range(p.first, p.stop))
            assert decode == list(range(decode[0], decode[0] + p.frames))  # and is whole in decode order
    assert 0 < copied_share(pieces) < 1


def test_decode_start_is_the_idr_at_or_before():
    tl = timeline(gops("IPPP", 3))
    assert [decode_start(f, tl) for f in (0, 3, 4, 11)] == [0, 0, 4, 8]


def test_blockers_name_what_the_source_lacks():
    assert blockers(gops("IBBP", 3)) == []
    assert blockers(gops("IBBP", 3, open_gop=True)) == ["open GOPs (keyframes that are not IDR frames)"]
    vfr = gops("IPPP", 3)
    vfr = [Packet(p.pts * 2 if p.pts > 5 * TICK else p.pts, p.dts, p.key, p.idr) for p in vfr]
    assert blockers(vfr) == ["a variable frame rate"]
    assert blockers([]) == ["it has no video packets"]
    # 29.97 fps in milliseconds: 33, 33, 34, ... is a constant rate, rounded
    ntsc = [Packet(round(i * 1001 / 30), round(i * 1001 / 30), i % 15 == 0, i % 15 == 0) for i in range(60)]
    assert blockers(ntsc) == []


def test_frame_range_from_seconds():
    tl = timeline(gops("IPPPPPPPPP", 10))  # 100 frames at 25 fps
    assert frame_range(0.2, 1.8, 0.0, tl, Fraction(1, 12800)) == (5, 45)
    assert frame_range(3.0, 9.0, 0.0, tl, Fraction(1, 12800)) == (75, 100)  # clamped to the last frame
    # video starting 21 ms after the container (AAC priming): as the full re-encode keeps them, the
    # first frame at or after half a frame before the start, then round(duration * fps) frames
    assert frame_range(0.0, 3.0, 0.021, tl, Fraction(1, 12800)) == (0, 75)
    assert frame_range(1.0, 2.0, 0.021, tl, Fraction(1, 12800)) == (24, 49)  # frame 24 is at 0.981 s


def test_avcc_round_trip_and_parameter_set_ids():
    sps = bytes([0x67, 0x64, 0x00, 0x1F, 0xAC, 0xD9, 0x40])  # High, level 3.1, sps id 0 ('1' as ue(v))
    pps = bytes([0x68, 0xEB, 0xE3, 0xCB])  # pps id 0, sps id 0
    pps1 = bytes([0x68, 0x4B, 0xE3, 0xCB])  # '010' = ue(v) 1
    record = h264.AvcC(100, 0, 31, 4, (sps,), (pps, pps1), b"\xfd\xf8\xf8\x00")
    assert h264.parse_avcc(h264.build_avcc(record)) == record
    assert [h264.parameter_set_id(u) for u in (sps, pps, pps1)] == [0, 0, 1]
    with pytest.raises(ValueError):
        h264.parse_avcc(b"\x00\x00\x00\x01\x67")  # Annex B, not avcC


def test_annexb_to_length_prefixed():
    stream = b"\x00\x00\x00\x01\x67\x64\x00\x00\x01\x68\xeb\x00\x00\x00\x01\x65\x88\x00"
    units = h264.annexb_units(stream)
    assert units == [b"\x67\x64", b"\x68\xeb", b"\x65\x88\x00"]
    sample = h264.to_length_prefixed(units, 4)
    assert list(h264.length_prefixed_units(sample, 4)) == units
    assert h264.is_idr(sample, 4) and not h264.is_idr(h264.to_length_prefixed(units[:2], 4), 4)


def test_reference_frames_by_nal_ref_idc():
    p_slice, b_slice = bytes([0x41, 0x9A]), bytes([0x01, 0x9E])  # nal_ref_idc 2 and 0, type 1
    assert h264.is_reference(h264.to_length_prefixed([p_slice], 4), 4)
    assert not h264.is_reference(h264.to_length_prefixed([bytes([0x06, 0x05]), b_slice], 4), 4)  # SEI + B
