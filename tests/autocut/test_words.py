"""Word-level editing, pure: striking words in a line, the stretches they leave, suggestions, the word file."""

import pytest

from aitk.autocut.cues import Cue, EditFileError, Span
from aitk.autocut.spans import retime
from aitk.autocut.suggest import suggest_strikes
from aitk.autocut.words import (
    CueWords,
    TimedWord,
    dump_words,
    has_strikes,
    kept_text,
    load_words,
    marked_line,
    removed_ranges,
    split_speaker,
    struck_words,
)

# "Um, so we we ship on Friday." with a pause before and after each word
WORDS = tuple(
    TimedWord(a, b, t)
    for a, b, t in [
        (1.00, 1.30, "Um,"),
        (1.60, 1.80, "so"),
        (1.90, 2.10, "we"),
        (2.12, 2.30, "we"),
        (2.50, 2.80, "ship"),
        (2.90, 3.00, "on"),
        (3.10, 3.60, "Friday."),
    ]
)


def test_struck_words_are_found_by_alignment_even_with_corrections():
    assert struck_words("~~Um,~~ so we ~~we~~ ship on Friday.", WORDS) == {0, 3}
    # another word of the line corrected ("ships"), the strike still lands on the right word
    assert struck_words("~~Um,~~ so we we ships on ~~Friday.~~", WORDS) == {0, 6}
    assert struck_words("Um, so we we ship on Friday.", WORDS) == set()
    assert struck_words("~~Um, so~~ we we ship on Friday.", WORDS) == {0, 1}


def test_strikes_that_match_nothing_or_split_a_word_are_refused():
    with pytest.raises(ValueError, match="'banana' is not among the words"):
        struck_words("Um, so we we ship ~~banana~~ on Friday.", WORDS)
    hyphen = (TimedWord(0.0, 0.5, "state-of-the-art"), TimedWord(0.6, 0.9, "code"))
    assert struck_words("~~state-of-the-art~~ code", hyphen) == {0}


def test_kept_text_tidies_what_is_left():
    assert kept_text("~~Um,~~ so we ~~we~~ ship, ~~you know,~~ on Friday.") == "so we ship, on Friday."
    assert kept_text("[SPEAKER_1] ~~Um,~~ hello.") == "[SPEAKER_1] hello."
    assert has_strikes("a ~~b~~") and not has_strikes("a ~b~ c")
    assert split_speaker("[Ann] Hello there.") == ("Ann", "Hello there.")
    assert split_speaker("Hello [there].") == (None, "Hello [there].")


def test_removed_ranges_run_from_pause_middle_to_pause_middle():
    # "we" (index 3) sits between "we" ending 2.10 and "ship" starting 2.50
    assert removed_ranges(WORDS, {3}, 0.95, 3.65) == [(pytest.approx(2.11), pytest.approx(2.40))]
    # a leading run starts at the cue's edge, a trailing one ends there
    assert removed_ranges(WORDS, {0}, 0.95, 3.65) == [(0.95, pytest.approx(1.45))]
    assert removed_ranges(WORDS, {5, 6}, 0.95, 3.65) == [(pytest.approx(2.85), 3.65)]
    assert removed_ranges(WORDS, set(), 0.95, 3.65) == []


def test_removed_ranges_snap_to_frames_without_entering_a_kept_word():
    fps = 25
    for removed in ({1}, {3}, {5}, {1, 2, 3}):
        for start, end in removed_ranges(WORDS, removed, 0.95, 3.65, fps):
            for edge in (start, end):
                assert abs(edge * fps - round(edge * fps)) < 1e-9
            for i, w in enumerate(WORDS):
                if i not in removed:  # no kept word overlaps what is cut
                    assert w.end <= start + 1e-9 or w.start >= end - 1e-9, (removed, i, start, end)
    # the pause between the two "we" is 20 ms, under a frame: the edge goes past the kept word's end
    (start, end) = removed_ranges(WORDS, {3}, 0.95, 3.65, fps)[0]
    assert start == pytest.approx(2.12) and end == pytest.approx(2.40)


def test_marked_line_and_word_level_suggestions():
    assert marked_line(WORDS, {0, 3}) == "~~Um,~~ so we ~~we~~ ship on Friday."
    assert marked_line(WORDS, {5, 6}) == "Um, so we we ship ~~on Friday.~~"
    assert suggest_strikes([w.text for w in WORDS]) == {0, 2}  # the filler and the first "we"
    line = "So, um, you know, we should we should go now.".split()
    assert suggest_strikes(line) == {1, 2, 3, 4, 5}  # "um, you know," and the first "we should"
    assert suggest_strikes("Do you know the way?".split()) == set()  # a real question
    assert suggest_strikes("That is very very good.".split()) == set()  # meant
    assert suggest_strikes("Um, uh.".split()) == set()  # all fillers: the whole line is for suggest_drops
    assert suggest_strikes("I I think so.".split()) == {0}
    restart = "So the main thing is— so the main thing is that we ship.".split()
    assert suggest_strikes(restart) == {0, 1, 2, 3, 4}  # the abandoned first take


def test_word_file_round_trip_and_bad_file(tmp_path):
    words = {3: CueWords(0.95, 3.65, WORDS, "SPEAKER_2"), 5: CueWords(4.0, 5.0, (), None)}
    path = tmp_path / "talk.words.json"
    path.write_text(dump_words("talk.mp4", words))
    assert load_words(path) == words
    assert load_words(tmp_path / "none.words.json") is None
    path.write_text("{not json")
    with pytest.raises(EditFileError, match="not a valid word-times file"):
        load_words(path)


def test_retime_spans_a_cue_over_a_removed_word():
    spans = [Span(1.0, 2.0), Span(2.5, 4.0)]
    out = retime([Cue(7, 1.2, 3.0, "one two"), Cue(8, 2.1, 2.4, "gone")], spans)
    assert [(c.index, c.start, c.end, c.text) for c in out] == [(1, 0.2, 1.5, "one two")]
