"""Shared fixtures: an isolated cache, speech made with flite/espeak-ng, media made with ffmpeg.

Nothing is downloaded. Tests that need a program skip when it is missing, except under
AITK_STRICT_TESTS=1 (scripts/test.sh, CI), where they fail: setup installs those programs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

STRICT = os.environ.get("AITK_STRICT_TESTS") == "1"


def require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        message = f"{tool} is not installed (scripts/setup.sh installs it)"
        if STRICT:
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session", autouse=True)
def aitk_home(tmp_path_factory) -> Path:
    """Point the model cache at a temp folder for the whole run (the user's cache is never touched)."""
    home = tmp_path_factory.mktemp("aitk-home")
    os.environ["AITK_HOME"] = str(home)
    return home


def speak(text: str, out: Path, voice: str = "awb", engine: str = "flite") -> Path:
    """Synthesise `text` into the wav file `out` with flite (clear English) or espeak-ng (-v voice)."""
    if engine == "flite":
        subprocess.run([require("flite"), "-voice", voice, "-t", text, "-o", str(out)], check=True)
    else:
        subprocess.run([require("espeak-ng"), "-v", voice, "-s", "150", "-w", str(out), text], check=True)
    return out


def ffmpeg(*args: str) -> None:
    subprocess.run([require("ffmpeg"), "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def make_video(out: Path, audio: Path | None = None, seconds: float = 2.0) -> Path:
    """A small H.264 video, with `audio` as its sound track (or silent with no audio stream)."""
    if audio is None:
        ffmpeg("-f", "lavfi", "-i", f"testsrc=size=160x120:rate=25:duration={seconds}", "-c:v", "libx264", "-pix_fmt", "yuv420p", str(out))
    else:
        ffmpeg(
            "-f", "lavfi", "-i", "color=c=gray:s=160x120:r=25", "-i", str(audio), "-shortest",
            "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", str(out),
        )
    return out


def run_aitk(*args: str, env: dict | None = None, timeout: float = 300, **kwargs) -> subprocess.CompletedProcess:
    """Run the real CLI in a subprocess, as a user or a script would."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "aitk", *args], capture_output=True, text=True, env=full_env, timeout=timeout, **kwargs
    )


SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Speech recognition turns spoken words into written text.",
    "Please call the office before noon on Friday.",
]


@pytest.fixture(scope="session")
def speech_dir(tmp_path_factory) -> Path:
    """Three clips with known text (file stem -> sentence index), made once per run."""
    folder = tmp_path_factory.mktemp("speech")
    for i, sentence in enumerate(SENTENCES):
        speak(sentence, folder / f"clip{i}.wav")
    return folder


@pytest.fixture(scope="session")
def ray_local():
    """A real local Ray with 2 CPUs for the whole run (started once: it takes several seconds)."""
    ray = pytest.importorskip("ray") if not STRICT else __import__("ray")
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray
    ray.shutdown()
