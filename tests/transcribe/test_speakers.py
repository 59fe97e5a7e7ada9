"""`aitk transcribe --diarize`: speaker labels in every format, on a generated two-voice conversation."""

from __future__ import annotations

import importlib.util
import json
import wave

import numpy as np
import pytest

from aitk.engine.errors import UsageError
from aitk.transcribe.config import TranscribeConfig
from aitk.transcribe.der import diarization_error
from aitk.transcribe.result import Segment, Transcript, Word
from aitk.transcribe.writers import render
from tests.conftest import STRICT, require, run_aitk
from tests.transcribe.conversations import SAMPLE_RATE, make_conversation


def _labelled() -> Transcript:
    words = [Word(0.0, 0.4, " Hello", 0.9, "Ann"), Word(0.5, 0.9, " there.", 0.9, "Ann")]
    return Transcript(
        language="en",
        duration=3.0,
        segments=[
            Segment(0, 0.0, 0.9, " Hello there.", -0.1, 0.01, words=words, speaker="Ann"),
            Segment(1, 1.2, 2.5, " Hi, Ann.", -0.1, 0.01, speaker="Bob"),
        ],
        speakers=["Ann", "Bob"],
    )


def test_every_format_names_the_speaker():
    t = _labelled()
    assert render(t, "txt") == "[Ann] Hello there.\n[Bob] Hi, Ann.\n"
    assert "[Bob] Hi, Ann." in render(t, "srt")
    vtt = render(t, "vtt")
    assert "<v Ann>Hello there." in vtt and "<v Bob>Hi, Ann." in vtt
    tsv = render(t, "tsv").splitlines()
    assert tsv[0] == "start\tend\ttext\tspeaker" and tsv[2] == "1200\t2500\tHi, Ann.\tBob"
    data = json.loads(render(t, "json"))
    assert data["speakers"] == ["Ann", "Bob"]
    assert [s["speaker"] for s in data["segments"]] == ["Ann", "Bob"]
    assert [w["speaker"] for w in data["segments"][0]["words"]] == ["Ann", "Ann"]


def test_without_speakers_the_formats_are_unchanged():
    t = _labelled()
    t.speakers = []
    for seg in t.segments:
        seg.speaker = None
        for w in seg.words or ():
            w.speaker = None
    assert render(t, "txt") == "Hello there.\nHi, Ann.\n"
    assert render(t, "tsv").splitlines()[0] == "start\tend\ttext"
    data = json.loads(render(t, "json"))
    assert "speakers" not in data and "speaker" not in data["segments"][0]
    assert "speaker" not in data["segments"][0]["words"][0]


@pytest.mark.parametrize(
    ("kwargs", "flag"),
    [
        ({"speakers": 2}, "--diarize"),
        ({"speaker_names": ("Ann",)}, "--diarize"),
        ({"diarize": True, "speakers": 0}, "--speakers"),
        ({"diarize": True, "min_speakers": 3, "max_speakers": 2}, "--min-speakers"),
        ({"diarize": True, "speakers": 9}, "--speakers 9"),
        ({"diarize": True, "speaker_names": ("Ann", " ")}, "--speaker-names"),
    ],
)
def test_bad_speaker_settings_name_the_flag(kwargs, flag):
    with pytest.raises(UsageError) as err:
        TranscribeConfig(**kwargs)
    assert flag in err.value.message + (err.value.hint or "")


def test_cli_refuses_speaker_flags_without_diarize(tmp_path):
    result = run_aitk("transcribe", str(tmp_path / "x.wav"), "--speakers", "2")
    assert result.returncode == 2 and "--diarize" in result.stderr


def _need_speech_tools() -> None:
    require("flite")
    require("espeak-ng")
    if importlib.util.find_spec("resemblyzer") is None:
        message = "resemblyzer==0.1.4 (the speaker encoder's weights) is missing: scripts/setup.sh installs it"
        pytest.fail(message) if STRICT else pytest.skip(message)


@pytest.fixture(scope="module")
def conversation(tmp_path_factory):
    """Two voices (flite slt and awb) taking turns for about 40 s, with the reference turns."""
    _need_speech_tools()
    folder = tmp_path_factory.mktemp("conversation")
    conv = make_conversation(2024, voices=[1, 0], seconds=40, cache=folder)
    path = folder / "talk.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes((np.clip(conv.audio, -1, 1) * 32767).astype("<i2").tobytes())
    return conv, path


@pytest.mark.slow
def test_diarize_labels_a_conversation_in_every_format(conversation, tmp_path):
    conv, path = conversation
    out = tmp_path / "out"
    result = run_aitk(
        "transcribe", str(path), "--diarize", "--speaker-names", "Ann,Bob", "--word-timestamps", "-d", str(out), "-q"
    )
    assert result.returncode == 0, result.stderr
    data = json.loads((out / "talk.json").read_text())
    assert data["speakers"] == ["Ann", "Bob"]
    segments = data["segments"]
    assert segments and all(s["speaker"] in ("Ann", "Bob") for s in segments)
    # A segment never spans two speakers: all its words carry its own label.
    assert all(w["speaker"] == s["speaker"] for s in segments for w in s["words"])
    # Who spoke when, read back from the segments, agrees with the reference (Whisper's segment edges are
    # looser than the turns, so the bar is wider than the diarizer's own 10 %).
    hypothesis = [(s["start"], s["end"], s["speaker"]) for s in segments]
    assert diarization_error(conv.turns, hypothesis).der <= 0.25
    txt = (out / "talk.txt").read_text().splitlines()
    assert txt and all(line.startswith(("[Ann] ", "[Bob] ")) for line in txt)
    assert "[Ann] " in (out / "talk.srt").read_text() and "<v Bob>" in (out / "talk.vtt").read_text()
    assert (out / "talk.tsv").read_text().splitlines()[0] == "start\tend\ttext\tspeaker"


@pytest.mark.slow
def test_a_given_speaker_count_and_default_names(conversation, tmp_path):
    conv, path = conversation
    result = run_aitk("transcribe", str(path), "--diarize", "--speakers", "2", "-f", "json", "-d", str(tmp_path), "-q")
    assert result.returncode == 0, result.stderr
    data = json.loads((tmp_path / "talk.json").read_text())
    assert data["speakers"] == ["SPEAKER_1", "SPEAKER_2"]
    assert data["segments"][0]["speaker"] == "SPEAKER_1"  # numbered by first appearance
    assert all("words" not in s for s in data["segments"])  # decoded for the labels, not asked for
