"""The per-input record every batch command prints with --json, and the failure list at the end."""

import json
from pathlib import Path

import pytest

from aitk.engine.fileio import OutputClaims
from aitk.engine.record import STATUSES, VERSION, Record, Tally, failed, status_of


def test_a_record_is_one_json_line_with_every_field():
    record = Record(Path("a/talk.mp4"), "done", [Path("a/talk.srt")], seconds=1.23456, result={"spans": 2})
    assert json.loads(record.to_json()) == {
        "version": VERSION,
        "input": "a/talk.mp4",
        "status": "ok",
        "outputs": ["a/talk.srt"],
        "error": None,
        "seconds": 1.235,
        "result": {"spans": 2},
    }
    assert "\n" not in record.dumps() and record.dumps() == record.to_json()


def test_old_states_map_onto_one_vocabulary():
    assert [status_of(s) for s in ("done", "new", "cached", "skipped", "failed", "transcribed", "cut", "merged")] == [
        "ok",
        "ok",
        "cached",
        "skipped",
        "failed",
        "ok",
        "ok",
        "ok",
    ]
    assert set(STATUSES) == {"ok", "skipped", "cached", "failed"}
    with pytest.raises(ValueError):
        Record("x", "finished")


def test_an_error_is_one_line():
    record = failed("x.mp3", "x.mp3: cannot decode\n  ffmpeg said: garbage")
    assert record.failed and record.error == "x.mp3: cannot decode ffmpeg said: garbage" and record.outputs == []


def test_tally_names_each_failed_file_once():
    tally = Tally()
    tally.add(Record("a.wav", "ok"))
    tally.add(failed("b.wav", "b.wav: no audio stream"))
    tally.fail("c.wav", "not found")
    assert tally and tally.lines() == ["2 of 3 inputs failed:", "b.wav: no audio stream", "c.wav: not found"]
    assert not Tally("documents") and Tally("documents").lines() == []


def test_output_claims_refuse_a_second_input_writing_the_same_file(tmp_path):
    claims = OutputClaims()
    assert claims.claim(tmp_path / "a" / "talk.mp4", [tmp_path / "out" / "talk.srt"]) is None
    clash = claims.claim(tmp_path / "b" / "talk.mp4", [tmp_path / "out" / "x" / ".." / "talk.srt"])
    assert clash.startswith(
        f"{tmp_path / 'b' / 'talk.mp4'}: its outputs would overwrite those of {tmp_path / 'a' / 'talk.mp4'}"
    )
    assert claims.claim(tmp_path / "b" / "talk.mp4", [tmp_path / "out" / "b.srt"]) is None
