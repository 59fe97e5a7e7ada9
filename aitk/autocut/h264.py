"""The few H.264 bitstream facts a smart cut needs: NAL units, parameter-set ids, the avcC record.

MP4 and Matroska store H.264 as length-prefixed NAL units with the parameter sets (SPS, PPS) in an
avcC record; x264 writes Annex B (start codes, parameter sets in-band). Joining the two means
re-framing x264's NAL units and listing both encoders' parameter sets, under different ids, in one
avcC, which ISO/IEC 14496-15 allows (up to 31 SPS and 255 PPS).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

SLICE, IDR, SEI, SPS, PPS, AUD = 1, 5, 6, 7, 8, 9  # nal_unit_type values used here


@dataclass(frozen=True)
class AvcC:
    """An AVCDecoderConfigurationRecord: profile, level, NAL length size and parameter sets."""

    profile: int  # profile_idc: 66 baseline, 77 main, 100 high, ...
    compatibility: int
    level: int  # level_idc: 40 is level 4.0
    length_size: int  # bytes in each NAL unit's length prefix (1, 2 or 4)
    sps: tuple[bytes, ...]
    pps: tuple[bytes, ...]
    tail: bytes = b""  # the high-profile extension (chroma format, bit depths), kept as it came


def parse_avcc(data: bytes) -> AvcC:
    """ValueError when `data` is not an avcC record (Annex B extradata starts with 00 00 (00) 01)."""
    if len(data) < 7 or data[0] != 1:
        raise ValueError("not an avcC record")
    pos, sets = 5, []
    for count_mask in (0x1F, 0xFF):
        count = data[pos] & count_mask
        pos += 1
        found = []
        for _ in range(count):
            size = int.from_bytes(data[pos : pos + 2], "big")
            found.append(bytes(data[pos + 2 : pos + 2 + size]))
            pos += 2 + size
        if pos > len(data):
            raise ValueError("avcC record cut short")
        sets.append(tuple(found))
    return AvcC(data[1], data[2], data[3], (data[4] & 3) + 1, sets[0], sets[1], bytes(data[pos:]))


def build_avcc(record: AvcC) -> bytes:
    out = bytearray([1, record.profile, record.compatibility, record.level, 0xFC | (record.length_size - 1)])
    out.append(0xE0 | len(record.sps))
    for unit in record.sps:
        out += len(unit).to_bytes(2, "big") + unit
    out.append(len(record.pps))
    for unit in record.pps:
        out += len(unit).to_bytes(2, "big") + unit
    return bytes(out + record.tail)


def length_prefixed_units(data: bytes, length_size: int) -> Iterator[bytes]:
    """The NAL units of one MP4/Matroska sample."""
    pos = 0
    while pos + length_size <= len(data):
        size = int.from_bytes(data[pos : pos + length_size], "big")
        pos += length_size
        yield data[pos : pos + size]
        pos += size


def annexb_units(data: bytes) -> list[bytes]:
    """The NAL units of an Annex B byte stream (start codes 00 00 01 or 00 00 00 01)."""
    units, start = [], -1
    i = 0
    while True:
        j = data.find(b"\x00\x00\x01", i)
        if j < 0:
            break
        if start >= 0:
            end = j - 1 if j > 0 and data[j - 1] == 0 else j  # a 4-byte start code's leading zero
            units.append(data[start:end])
        start = i = j + 3
    if start >= 0:
        units.append(data[start:])
    return [u for u in units if u]


def to_length_prefixed(units: list[bytes], length_size: int) -> bytes:
    return b"".join(len(u).to_bytes(length_size, "big") + u for u in units)


def nal_type(unit: bytes) -> int:
    return unit[0] & 0x1F if unit else 0


def is_idr(sample: bytes, length_size: int) -> bool:
    """Whether an MP4/Matroska sample is an IDR access unit (a keyframe that cuts all references)."""
    return any(nal_type(u) == IDR for u in length_prefixed_units(sample, length_size))


def is_reference(sample: bytes, length_size: int) -> bool:
    """Whether other frames may refer to this one (nal_ref_idc of its slices); a frame nothing
    refers to can be left undecoded when it is not wanted itself."""
    return any(nal_type(u) in (SLICE, IDR) and u[0] & 0x60 for u in length_prefixed_units(sample, length_size))


def parameter_set_id(unit: bytes) -> int:
    """seq_parameter_set_id of an SPS, pic_parameter_set_id of a PPS: the first ue(v) after the
    SPS's profile, constraint and level bytes, or at the start of the PPS."""
    payload = unit[4:] if nal_type(unit) == SPS else unit[1:]
    bits = "".join(f"{b:08b}" for b in payload[:8])  # ids are < 256, far inside 8 bytes
    zeros = len(bits) - len(bits.lstrip("0"))
    if zeros >= len(bits) // 2:
        raise ValueError("cannot read the parameter set id")
    return int(bits[zeros : 2 * zeros + 1], 2) - 1
