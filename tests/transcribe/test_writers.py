import json

import srt

from aitk.transcribe.result import Segment, Transcript, Word
from aitk.transcribe.writers import WRITERS, render


def sample() -> Transcript:
    segs = [
        Segment(
            0,
            0.0,
            1.5,
            " Hello there.",
            -0.2,
            0.01,
            words=[Word(0.0, 0.6, " Hello", 0.9), Word(0.7, 1.5, " there.", 0.8)],
        ),
        Segment(1, 1.5, 3725.25, " A long --> one\twith tab.", -0.3, 0.02),
        Segment(2, 3725.25, 3725.25, "   ", -0.3, 0.02),  # empty text is not a cue
    ]
    return Transcript(language="en", duration=3726.0, segments=segs, model="tiny.en", backend="faster-whisper")


def test_every_format_is_in_the_table():
    assert set(WRITERS) == {"txt", "srt", "vtt", "tsv", "json"}


def test_srt_parses_with_the_srt_package():
    subs = list(srt.parse(render(sample(), "srt")))
    assert [s.content for s in subs] == ["Hello there.", "A long --> one\twith tab."]
    assert subs[1].end.total_seconds() == 3725.25


def test_vtt_header_times_and_no_arrow_in_text():
    text = render(sample(), "vtt")
    assert text.startswith("WEBVTT\n\n")
    assert "00:00:00.000 --> 00:00:01.500" in text and "01:00:00.250" not in text
    assert "01:02:05.250" in text
    assert text.count("-->") == 2


def test_tsv_is_milliseconds():
    lines = render(sample(), "tsv").splitlines()
    assert lines[0] == "start\tend\ttext"
    assert lines[2].split("\t")[:2] == ["1500", "3725250"] and len(lines[2].split("\t")) == 3


def test_json_schema():
    data = json.loads(render(sample(), "json"))
    assert data["language"] == "en" and data["duration"] == 3726.0
    assert data["text"] == "Hello there. A long --> one\twith tab."
    first = data["segments"][0]
    assert set(first) >= {"start", "end", "text", "avg_logprob", "no_speech_prob", "words"}
    assert first["words"][0] == {"start": 0.0, "end": 0.6, "word": " Hello", "probability": 0.9}
    assert "words" not in data["segments"][1]


def test_txt_one_line_per_segment():
    assert render(sample(), "txt") == "Hello there.\nA long --> one\twith tab.\n"


def test_srt_timestamp_is_the_one_srt_clock():
    from aitk.transcribe.writers import srt_timestamp

    assert srt_timestamp(3725.25) == "01:02:05,250"
    assert srt_timestamp(1.9996) == "00:00:02,000"  # rounds to the millisecond, carrying into the seconds
    assert srt_timestamp(-0.5) == "00:00:00,000"
    assert srt_timestamp(61.5, ".") == "00:01:01.500"
    assert srt.srt_timestamp_to_timedelta(srt_timestamp(12.345)).total_seconds() == 12.345
