"""`aitk transcribe` usage errors that name the flag, and a stdout reader that stops early."""

import subprocess
import sys

import pytest

from aitk.transcribe.config import COMPUTE_TYPES
from tests.conftest import run_aitk


def one_error_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def test_stdout_takes_one_input(speech_dir):
    for inputs in ([speech_dir / "clip0.wav", speech_dir / "clip1.wav"], [speech_dir]):  # two files; a folder of three
        result = run_aitk("transcribe", *map(str, inputs), "-o", "-", "-q")
        assert result.returncode == 2 and result.stdout == ""
        line = one_error_line(result)
        assert "-o - writes one transcript" in line and "inputs were given" in line


def test_unknown_compute_type_is_a_usage_error_listing_the_values():
    result = run_aitk("transcribe", "x.wav", "--compute-type", "foo")
    assert result.returncode == 2
    line = one_error_line(result)
    assert "--compute-type foo" in line and "int8" in line and "float32" in line and "model" not in line


def test_compute_type_the_device_cannot_run_names_the_flag(speech_dir):
    ctranslate2 = pytest.importorskip("ctranslate2")
    supported = ctranslate2.get_supported_compute_types("cpu")
    unsupported = [c for c in COMPUTE_TYPES if c not in supported and c not in ("auto", "default")]
    if not unsupported:
        pytest.skip("this CPU runs every CTranslate2 precision")
    result = run_aitk(
        "transcribe",
        str(speech_dir / "clip0.wav"),
        "--device",
        "cpu",
        "--compute-type",
        unsupported[0],
        "-o",
        "-",
        "-q",
    )
    assert result.returncode == 2
    line = one_error_line(result)
    assert f"--compute-type {unsupported[0]} is not supported on cpu" in line and sorted(supported)[0] in line
    assert "cannot load model" not in line


@pytest.mark.slow
def test_a_reader_that_stops_early_ends_the_run_quietly(speech_dir):
    # `aitk transcribe x.wav -o - | head -0`: the reader has gone before the transcript is written.
    proc = subprocess.Popen(
        [sys.executable, "-m", "aitk", "transcribe", str(speech_dir / "clip0.wav"), "-o", "-", "-q"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    proc.stdout.close()
    stderr = proc.stderr.read()
    assert proc.wait(timeout=300) == 141  # as a Unix tool ended by SIGPIPE
    assert stderr == ""
