"""`--suggest`: fillers, abandoned restarts and long silences are marked; real speech never is."""

from __future__ import annotations

import pytest

from aitk.autocut.cues import NO_SPEECH, Cue
from aitk.autocut.suggest import is_filler, suggest_drops, words
from aitk.engine.errors import UsageError


def cues(*items: str | tuple[str, float]) -> list[Cue]:
    """Back-to-back cues, 1 s each unless given as (text, seconds)."""
    out, t = [], 0.0
    for i, item in enumerate(items, start=1):
        text, length = item if isinstance(item, tuple) else (item, 1.0)
        out.append(Cue(i, t, t + length, text))
        t += length
    return out


def test_words_are_lowercased_without_punctuation():
    assert words("Well, I—I don’t know...") == ["well", "i", "i", "don't", "know"]
    assert words("Mm-hmm.") == ["mm-hmm"]


@pytest.mark.parametrize("text", ["Um.", "uh, uh...", "Hmm", "Erm, um, you know", "UHM!"])
def test_fillers_are_marked(text):
    assert suggest_drops(cues("Hello there everyone.", text, "Let's begin.")) == {2: "filler"}


@pytest.mark.parametrize("text", ["I um think so", "You know.", "Mm-hmm.", "Uh-uh.", "Like, so.", "...", "Um, yes."])
def test_speech_with_words_or_answers_is_not_marked(text):
    assert suggest_drops(cues(text)) == {}


def test_is_filler_needs_a_filler_sound():
    assert is_filler(["um", "you", "know"]) and not is_filler(["you", "know"]) and not is_filler([])


def test_restart_marks_the_abandoned_cue():
    got = suggest_drops(cues("So the main thing is—", "So the main thing is that we ship on Friday.", "Thanks."))
    assert got == {1: "restart"}


def test_restart_across_a_filler_and_a_short_pause():
    got = suggest_drops(cues("We decided to", "Um.", (NO_SPEECH, 0.5), "We decided to move the launch."))
    assert got == {1: "restart", 2: "filler"}


@pytest.mark.parametrize(
    "first, second",
    [
        ("So the plan was", "So the plan is to go south and then west."),  # same 3+ opening, most of it
        ("I was going to say...", "I was thinking we could leave early."),  # dangling, same first two words
        ("So—", "So the main thing is that we ship."),
        ("We ship on Friday at noon.", "We ship on Friday at noon."),  # a sentence said twice
    ],
)
def test_restart_variants(first, second):
    assert suggest_drops(cues(first, second)) == {1: "restart"}


@pytest.mark.parametrize(
    "first, second",
    [
        ("The weather was nice.", "We went to the beach."),  # unrelated neighbours
        ("I think that we should go home.", "I think that it is fine to stay here tonight."),  # alike openings only
        ("Thank you.", "Thank you."),  # short repeats are often two people
        ("Yes.", "Yes, I agree with that."),
        ("So the main thing is that we ship.", "So the main"),  # the later cue is the shorter
        ("No...", "Nobody came."),
    ],
)
def test_neighbours_that_are_not_restarts(first, second):
    assert suggest_drops(cues(first, second)) == {}


def test_long_silences_are_marked_short_ones_are_not():
    got = suggest_drops(cues("Hello.", (NO_SPEECH, 2.0), "Again.", (NO_SPEECH, 1.99), "End.", (NO_SPEECH, 5.0)))
    assert got == {2: "silence", 6: "silence"}
    assert suggest_drops(cues((NO_SPEECH, 3.0)), long_silence=4.0) == {}


def test_float_error_does_not_hide_a_two_second_silence():
    assert suggest_drops([Cue(7, 1.3, 3.3, NO_SPEECH)]) == {7: "silence"}  # 3.3 - 1.3 < 2.0 in floats


def test_keys_are_cue_indices_not_positions():
    marked = [Cue(10, 0, 1, "Um."), Cue(42, 1, 2, "Right, let's go.")]
    assert suggest_drops(marked) == {10: "filler"}


def test_empty_and_bad_arguments():
    assert suggest_drops([]) == {}
    with pytest.raises(UsageError):
        suggest_drops(cues("Hi."), long_silence=-1)
