"""Speakers in autocut: a two-voice conversation (flite slt, espeak-ng en-gb-x-rp) with known turns,
transcribed with --diarize --suggest; lines show their speaker, cuts keep or drop speakers, and
filler words are struck inside kept lines."""

from __future__ import annotations

import json
import re

import pytest

from aitk.autocut.cues import parse_srt
from aitk.autocut.suggest import FILLERS
from tests.autocut.test_wordedit import overlap, write_wav
from tests.conftest import require, run_aitk
from tests.transcribe.conversations import make_conversation


@pytest.fixture(scope="module")
def conv(tmp_path_factory):
    require("flite")
    require("espeak-ng")
    folder = tmp_path_factory.mktemp("speakers")
    conversation = make_conversation(seed=5, voices=[0, 2], seconds=20)
    write_wav(folder / "conv.wav", conversation.audio)
    result = run_aitk(
        "autocut", "transcribe", str(folder / "conv.wav"), "--diarize", "--speakers", "2", "--suggest", "-q"
    )
    assert result.returncode == 0, result.stderr
    return folder, conversation.turns


def lines(md_text: str) -> list[str]:
    return [ln for ln in md_text.splitlines() if re.match(r"- \[[ x]\] \[\d+,", ln)]


def test_each_line_shows_its_speaker_and_fillers_are_struck(conv):
    folder, _ = conv
    shown = lines((folder / "conv.md").read_text())
    speech = [ln for ln in shown if "< No Speech >" not in ln]
    assert speech and all(re.match(r"- \[[ x]\] \[\d+,[\d:]+\] \[SPEAKER_[12]\] ", ln) for ln in speech), shown
    assert {re.search(r"SPEAKER_\d", ln).group() for ln in speech} == {"SPEAKER_1", "SPEAKER_2"}
    struck = [m for ln in speech for m in re.findall(r"~~(.*?)~~", ln)]
    assert struck, speech  # the reply "Hmm, maybe next week then." is heard with a filler
    for ln in speech:  # every filler sound in a kept line is struck, nothing else is
        if ln.startswith("- [x]"):
            free = re.sub(r"~~.*?~~", "", ln.split("] ", 2)[2])
            assert not set(re.findall(r"[a-z]+", free.lower())) & FILLERS, ln
    assert all(set(re.findall(r"[a-z]+", s.lower())) <= FILLERS | {"you", "know"} for s in struck), struck


def _speaker_time(ranges, turns, who: int) -> float:
    return sum(overlap(a, b, [(t0, t1) for t0, t1, s in turns if s == who]) for a, b in ranges)


def test_keep_and_drop_speaker(conv, tmp_path):
    folder, turns = conv
    cues = parse_srt((folder / "conv.srt").read_text())
    first = next(c for c in cues if c.text.startswith("[SPEAKER_1]"))
    # which reference voice SPEAKER_1 is: the one speaking most of its first cue
    ref = max({s for *_, s in turns}, key=lambda s: _speaker_time([(first.start, first.end)], turns, s))
    (tmp_path / "conv.wav").symlink_to(folder / "conv.wav")
    for name in ("conv.srt", "conv.words.json"):
        (tmp_path / name).write_bytes((folder / name).read_bytes())
    result = run_aitk("autocut", "cut", str(tmp_path / "conv.wav"), "--keep-speaker", "SPEAKER_1", "--json")
    assert result.returncode == 0, result.stderr
    ranges = json.loads(result.stdout)["result"]["ranges"]
    kept = sum(b - a for a, b in ranges)
    assert _speaker_time(ranges, turns, ref) > 0.85 * kept  # what is kept is that voice
    assert _speaker_time(ranges, turns, 1 - ref) < 0.15 * kept
    subs = parse_srt((tmp_path / "conv_cut.srt").read_text())
    assert subs and all(c.text.startswith("[SPEAKER_1] ") for c in subs)  # the labels stay

    # with the suggested md: drop SPEAKER_1, and the struck filler of the other voice goes too
    (tmp_path / "conv.md").write_text((folder / "conv.md").read_text())
    args = ["--drop-speaker", "SPEAKER_1", "--force", "--json"]
    result = run_aitk("autocut", "cut", str(tmp_path / "conv.wav"), str(tmp_path / "conv.md"), *args)
    assert result.returncode == 0, result.stderr
    ranges = json.loads(result.stdout)["result"]["ranges"]
    assert _speaker_time(ranges, turns, 1 - ref) > 0.85 * sum(b - a for a, b in ranges)
    subs = parse_srt((tmp_path / "conv_cut.srt").read_text())
    assert subs and all(c.text.startswith("[SPEAKER_2] ") for c in subs)
    assert not any(set(re.findall(r"[a-z]+", c.text.lower())) & FILLERS for c in subs), [c.text for c in subs]


def test_speaker_names_are_checked(conv, tmp_path):
    folder, _ = conv
    result = run_aitk("autocut", "cut", str(folder / "conv.wav"), "--keep-speaker", "Bob")
    assert result.returncode == 2 and "no speaker Bob" in result.stderr and "SPEAKER_1, SPEAKER_2" in result.stderr
    (tmp_path / "plain.wav").symlink_to(folder / "conv.wav")
    (tmp_path / "plain.srt").write_text("1\n00:00:01,000 --> 00:00:02,000\nHello.\n")
    result = run_aitk("autocut", "cut", str(tmp_path / "plain.wav"), "--drop-speaker", "SPEAKER_1")
    assert result.returncode == 2 and "no speaker labels" in result.stderr and "--diarize" in result.stderr


def test_watch_passes_diarize_through(monkeypatch, tmp_path):
    """The watch builds its transcriber with --diarize and --speakers (the watch loop itself is
    tested in test_watch.py); the fake stands in for the loop only, to read what it was given."""
    import aitk.autocut.watch as watch

    seen = {}

    def record(folder, transcriber, *args, **kwargs):
        seen["config"] = transcriber.config
        return iter(())

    monkeypatch.setattr(watch, "watch_folder", record)
    result = run_aitk("autocut", "watch", str(tmp_path), "--diarize", "--speakers", "3", "-q")
    assert result.returncode == 0, result.stderr
    assert seen["config"].diarize and seen["config"].speakers == 3 and seen["config"].word_timestamps
