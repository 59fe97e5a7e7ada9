"""Every config object of autocut in one place: light imports only. The CLI builds them; bad
values fail on construction with a UsageError naming the flag, before any probing or encoding."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from aitk.engine.errors import UsageError

EXPORTS = ("edl", "fcpxml", "otio")  # edit lists `--export` can write beside a cut
X264_PRESETS = (
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
    "placebo",
)
_BITRATE = re.compile(
    r"^\d+(\.\d+)?[kKMG]?$"
)  # as ffmpeg reads -b:v: 6M, 6000k, 1.5M, 6000000 (a lower-case m is milli)


@dataclass(frozen=True)
class EncodeOptions:
    """How a cut or merge is encoded (`--crf`, `--bitrate`, `--preset`, `--fast`)."""

    crf: int = 20  # x264 quality (lower is better); 20 with ultrafast stays above 45 dB PSNR on screen recordings
    bitrate: str | None = None  # e.g. "6M": a target video bitrate instead of --crf
    # x264 speed/size trade-off. "auto": ultrafast (the fastest) for a full re-encode, veryfast (as OBS
    # records, files about a third the size) for the few frames the smart cut re-encodes beside copied ones
    preset: str = "auto"
    audio_bitrate: str = "192k"  # AAC bitrate of the re-encoded sound
    fast: bool = False  # stream copy; cuts snap to keyframes
    smart: bool = (
        True  # accurate mode: copy whole GOPs and re-encode only the frames at the cuts, where the source allows
    )

    def x264_preset(self, smart: bool) -> str:
        """The preset to run x264 with: `smart` for the frames a smart cut re-encodes."""
        if self.preset != "auto":
            return self.preset
        return "veryfast" if smart else "ultrafast"

    def __post_init__(self) -> None:
        """Bad values fail here, naming the flag, rather than inside ffmpeg after the probing."""
        if self.fast and not self.smart:
            raise UsageError("--fast and --reencode contradict each other", hint="give one of them")
        if self.preset != "auto" and self.preset not in X264_PRESETS:
            raise UsageError(
                f"--preset {self.preset}: not an x264 preset", hint=f"use auto or one of {', '.join(X264_PRESETS)}"
            )
        if self.bitrate is not None and not (_BITRATE.match(self.bitrate) and float(self.bitrate.rstrip("kKMG")) > 0):
            raise UsageError(
                f"--bitrate {self.bitrate}: not a bitrate", hint="give bits per second, e.g. 6M, 2500k or 6000000"
            )


@dataclass(frozen=True)
class SilenceOptions:
    """`--cut-silence [DB|auto] --min-silence S --margin S`: remove pauses by loudness."""

    threshold_db: float | None = None  # dBFS at or under which a 10 ms frame is silent; None: set by the recording
    min_silence: float = 0.5  # quiet stretches at least this long (s) are pauses and go
    margin: float = 0.15  # seconds of each pause kept next to the sound on either side

    def __post_init__(self) -> None:
        if self.threshold_db is not None and not self.threshold_db < 0:
            raise UsageError(
                f"--cut-silence {self.threshold_db:g}: a level in dBFS is below 0", hint="e.g. -40, or auto"
            )
        if not self.min_silence > 0:
            raise UsageError(f"--min-silence {self.min_silence:g}: must be more than 0 seconds", hint="e.g. 0.5")
        if self.margin < 0:
            raise UsageError(f"--margin {self.margin:g}: must be 0 seconds or more", hint="e.g. 0.15")


def parse_silence_level(value: str) -> float | None:
    """`--cut-silence` VALUE: "auto" -> None; "-40", "-40dB" -> -40.0; UsageError otherwise."""
    text = value.strip().lower()
    if text == "auto":
        return None
    try:
        return float(text[:-2] if text.endswith("db") else text)
    except ValueError:
        raise UsageError(f"--cut-silence {value}: not a level", hint="give auto, or dBFS such as -40") from None


@dataclass(frozen=True)
class CutConfig:
    """How `aitk autocut cut`, `merge` and `watch` cut and write."""

    padding: float = 0.0  # seconds of context kept before and after each kept span
    merge_gap: float = 0.5  # kept spans closer than this join into one
    encode: EncodeOptions = field(default_factory=EncodeOptions)  # how the cut is encoded
    export: tuple[str, ...] = ()  # "edl", "fcpxml": edit lists beside the cut
    force: bool = False  # overwrite existing outputs
    silence: SilenceOptions | None = None  # --cut-silence: also remove pauses (None: keep them)
    keep_speakers: tuple[str, ...] = ()  # --keep-speaker: keep only these speakers' sentences
    drop_speakers: tuple[str, ...] = ()  # --drop-speaker: leave these speakers' sentences out
    fade: float = 0.005  # seconds of audio crossfade at each join, half from each side (no clicks); 0: hard cuts

    def __post_init__(self) -> None:
        if any(kind not in EXPORTS for kind in self.export):
            raise UsageError(
                f"unknown --export {','.join(self.export)}", hint="use edl, fcpxml, otio or a list: edl,fcpxml,otio"
            )
        both = set(self.keep_speakers) & set(self.drop_speakers)
        if both:
            raise UsageError(
                f"--keep-speaker and --drop-speaker both name {sorted(both)[0]}", hint="give each speaker once"
            )
        if not 0 <= self.fade <= 0.05:
            raise UsageError(f"fade {self.fade}: must be 0 to 0.05 seconds")
