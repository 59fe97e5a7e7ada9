"""Pure parts of autocut: spans, re-timing, the Markdown format, compact lines."""

import pytest

from aitk.autocut.cues import NO_SPEECH, Cue, Span, compose_srt, parse_srt
from aitk.autocut.markdown import clock, is_done, parse_md, player_tag, render_md
from aitk.autocut.run import compact_lines, cues_with_gaps, kept_cues, parse_compact
from aitk.autocut.spans import retime, snap_to_frames, spans_for
from aitk.engine.errors import UsageError

CUES = [Cue(1, 0.0, 2.0, "One."), Cue(2, 2.0, 4.0, NO_SPEECH), Cue(3, 4.0, 6.0, "Three."), Cue(4, 6.3, 8.0, "Four.")]


def test_spans_merge_close_ones_pad_and_clamp():
    assert spans_for([CUES[0], CUES[2], CUES[3]], duration=8.0) == [Span(0.0, 2.0), Span(4.0, 8.0)]
    assert spans_for([CUES[0], CUES[2]], duration=8.0, padding=0.3) == [Span(0.0, 2.3), Span(3.7, 6.3)]
    assert spans_for([CUES[0], CUES[2]], duration=8.0, padding=1.2) == [Span(0.0, 7.2)]  # gaps under 0.5 s merge
    assert spans_for([], duration=8.0) == []


def test_snap_to_frames_makes_whole_frame_spans():
    spans = snap_to_frames([Span(0.013, 2.031), Span(4.0004, 4.01)], fps=25)
    assert spans == [Span(0.0, 2.04)]  # the second rounds to zero frames and goes
    ntsc = snap_to_frames([Span(1.0, 2.0)], fps=30000 / 1001)
    assert all(abs(round(x * 30000 / 1001) - x * 30000 / 1001) < 1e-9 for x in (ntsc[0].start, ntsc[0].end))


def test_retime_moves_cues_onto_the_cut():
    spans = [Span(0.0, 2.0), Span(4.0, 8.0)]
    out = retime([CUES[0], CUES[2], CUES[3]], spans)
    assert [(c.index, c.start, c.end, c.text) for c in out] == [
        (1, 0.0, 2.0, "One."),
        (2, 2.0, 4.0, "Three."),
        (3, 4.3, 6.0, "Four."),
    ]


def test_no_speech_cues_fill_gaps_over_a_second():
    cues = cues_with_gaps([(0.5, 2.0, " Hi."), (2.5, 3.0, " There."), (5.0, 6.0, " End.")], duration=9.0)
    assert [c.text for c in cues] == ["Hi.", "There.", NO_SPEECH, "End.", NO_SPEECH]
    assert [c.index for c in cues] == [1, 2, 3, 4, 5] and (cues[2].start, cues[2].end) == (3.0, 5.0)


def test_markdown_round_trip_with_ticks_edits_and_notes():
    text = render_md("talk.MP4", "talk.srt", CUES, ticked={1, 4}, notes={3: "filler"})
    assert text.startswith("- [ ] <-- Mark if you are done editing.\n")
    assert '<video controls="true" allowfullscreen="true"> <source src="talk.MP4" type="video/mp4"> </video>' in text
    assert "- [x] [4,00:06] Four." in text and "- [ ] [3,00:04] Three. <!-- drop? filler -->" in text
    edited = text.replace("- [ ] <--", "- [x] <--").replace("[x] [4,00:06] Four.", "[x] [4,00:06] Four, corrected.")
    doc = parse_md(edited)
    assert doc.done and [(ln.index, ln.text) for ln in doc.kept] == [(1, "One."), (4, "Four, corrected.")]
    assert [ln.text for ln in doc.lines if ln.index == 3] == ["Three."]  # the hidden note is not text


def test_markdown_details():
    assert clock(65.4) == "01:05" and clock(3725) == "1:02:05"
    assert player_tag("a.mp3").startswith('<audio controls="true"> <source src="a.mp3" type="audio/mpeg">')
    with pytest.raises(UsageError, match="line 2: cue 1 is listed twice"):
        parse_md("- [x] [1,00:00] a\n- [ ] [1,00:00] b\n")


def test_kept_cues_errors_name_the_line():
    md = render_md("t.mp4", "t.srt", CUES, ticked={1})
    with pytest.raises(UsageError, match="t.md line 8: cue 9 is not in t.srt"):
        kept_cues(CUES, md.replace("[1,00:00]", "[9,00:00]"), "t.md", "t.srt")
    with pytest.raises(UsageError, match="nothing is ticked"):
        kept_cues(CUES, render_md("t.mp4", "t.srt", CUES), "t.md", "t.srt")
    assert kept_cues(CUES, None, "", "") == CUES  # no md: every cue of the srt


def test_srt_and_compact_round_trips():
    assert parse_srt(compose_srt(CUES)) == CUES
    lines = compact_lines(CUES)
    assert lines.splitlines()[0] == "1\t00:00:00,000 --> 00:00:02,000\tOne."
    assert parse_compact(lines, "x") == CUES
    with pytest.raises(UsageError, match="x line 1"):
        parse_compact("garbage line\n", "x")


def test_snap_to_keyframes_starts_early_and_merges():
    from aitk.autocut.cutter import snap_to_keyframes

    keys = [0.0, 10.0, 20.0, 30.0]
    spans = [Span(3.0, 5.0), Span(12.0, 14.0), Span(19.0, 21.0), Span(30.0, 31.0)]
    assert snap_to_keyframes(spans, keys) == [Span(0.0, 5.0), Span(10.0, 21.0), Span(30.0, 31.0)]


@pytest.mark.parametrize(
    "line, index, ticked, text",
    [
        ("- [x] [5, 00:08] Five.", 5, True, "Five."),  # a space after the comma
        ("- [x][5,00:08] Five.", 5, True, "Five."),  # none between the boxes
        ("- [ x ] [5,00:08] Five.", 5, True, "Five."),  # spaces in the tick
        ("- [X] [5] Five.", 5, True, "Five."),  # START left out: the index is what counts
        ("* [x] [ 5 ,1:00:08] Five.", 5, True, "Five."),
        ("- [] [5,00:08] Five.", 5, False, "Five."),
        ("- [ ] [5,00:08]Five.", 5, False, "Five."),
    ],
)
def test_markdown_typos_with_a_plain_meaning_are_read_as_meant(line, index, ticked, text):
    (parsed,) = parse_md(f"- [ ] <-- Mark if you are done editing.\n\n{line}\n", "t.md").lines
    assert (parsed.index, parsed.ticked, parsed.text, parsed.line_no) == (index, ticked, text, 3)


@pytest.mark.parametrize(
    "line",
    [
        "- [x] [5 00:08] Five.",
        "- [v] [5,00:08] Five.",
        "- [x] 5,00:08 Five.",
        "- [x] [5,00:08 Five.",
        "[5,00:08] Five.",
        "[5]",
    ],
)
def test_markdown_lines_that_look_like_sentences_but_do_not_parse_are_errors(line):
    with pytest.raises(
        UsageError,
        match=r"t\.md line 2: cannot read '.*' as a sentence line \(write it as '- \[x\] \[INDEX,START\] TEXT'",
    ):
        parse_md(f"- [x] [1,00:00] One.\n{line}\n- [x] [3,00:04] Three.\n", "t.md")


def test_markdown_notes_and_done_box():
    notes = (
        "- [ ] buy milk\n1. a list\n- [x] [2026-11-28 10-00-00.mkv](x.md)\n"
        "Texts from [t.srt](t.srt).\n- [x] [1,00:00] One.\n"
    )
    assert [ln.index for ln in parse_md(notes).lines] == [1]  # other Markdown is left alone
    assert is_done("- [ x ] <-- Mark if you are done editing.\n") and not is_done(
        "- [ ] <-- Mark if you are done editing.\n"
    )
    assert parse_md(render_md("t.mp4", "t.srt", CUES, done=True)).done and not is_done("no box\n")


def test_encode_options_name_the_bad_flag():
    from aitk.autocut.config import EncodeOptions

    assert EncodeOptions(bitrate="1.5M", preset="medium").bitrate == "1.5M"
    with pytest.raises(UsageError, match="--preset fastest: not an x264 preset .*veryfast"):
        EncodeOptions(preset="fastest")
    for bad in ("lots", "6m", "0", "-3M", ""):
        with pytest.raises(UsageError, match="--bitrate"):
            EncodeOptions(bitrate=bad)


def test_sentence_edges_widen_to_their_sound_and_never_into_a_neighbour():
    import numpy as np

    from aitk.autocut.edges import snap_to_sound

    rate = 16000
    rng = np.random.default_rng(0)
    audio = rng.normal(0, 1e-4, rate * 10).astype(np.float32)  # room noise, -80 dBFS

    def sound(start, end, amplitude=0.1):
        t = np.arange(int(start * rate), int(end * rate))
        audio[t] += amplitude * np.sin(2 * np.pi * 220 * t / rate)

    sound(1.0, 1.3, 0.01)  # a quiet first consonant...
    sound(1.34, 3.0)  # ...a 40 ms stop gap, then the loud rest of the word
    sound(5.0, 6.0)
    sound(6.2, 7.0)
    sound(8.2, 9.0)
    segments = [
        (1.25, 2.9, "late start, early end"),
        (5.0, 5.8, "ends early, next starts close"),
        (6.02, 7.0, "starts early"),
        (7.9, 8.95, "starts in silence"),
        (9.5, 9.9, "nothing heard"),
    ]
    snapped = snap_to_sound(segments, audio, rate)
    assert snapped[0][0] == pytest.approx(1.0 - 0.05, abs=0.011)  # back over the stop gap to the quiet onset
    assert snapped[0][1] == pytest.approx(3.0 + 0.05, abs=0.011)
    assert snapped[1] == (5.0, 6.02, "ends early, next starts close")  # widened, but not into the next one
    assert snapped[2] == (6.02, 7.0, "starts early")  # never shrinks, never reaches back into its neighbour
    assert snapped[3] == (7.9, pytest.approx(9.05, abs=0.011), "starts in silence")
    assert snapped[4] == (9.5, 9.9, "nothing heard")


def test_file_names_with_spaces_stay_links_and_playable():
    text = render_md("my talk é.mp4", "my talk é.srt", CUES)
    assert "[my talk é.srt](<my talk é.srt>)" in text  # a bare space would end a CommonMark link
    assert 'src="my%20talk%20%C3%A9.mp4"' in text
    assert [line.index for line in parse_md(text).lines] == [1, 2, 3, 4]


def test_joins_take_half_the_crossfade_from_each_side_and_keep_the_length():
    from aitk.autocut.cutter import _audio_joins, crossfade_extensions

    spans = [Span(0.0, 1.0), Span(2.0, 3.0), Span(4.0, 4.004), Span(5.0, 6.0)]
    ext = crossfade_extensions(spans, 0.01, duration=6.0)
    # the outer edges take nothing; the 4 ms span is too short to share, so its joins are hard
    assert ext == [(0.0, 0.005), (0.005, 0.0), (0.0, 0.0), (0.0, 0.0)]
    taken = sum(b + a for b, a in ext)
    overlaps = [ext[i][1] + ext[i + 1][0] for i in range(len(spans) - 1)]
    assert taken == pytest.approx(sum(overlaps))  # each crossfade gives back exactly what was taken
    graph = _audio_joins(["[a0]", "[a1]", "[a2]", "[a3]"], overlaps)
    assert graph.count("acrossfade=d=0.010000") == 1 and graph.count("concat=n=2") == 2 and graph.endswith("[a]")
    # a source that ends at the last span's end: nothing past it to take
    assert crossfade_extensions([Span(0.0, 1.0), Span(2.0, 3.0)], 0.01, duration=3.0)[1] == (0.005, 0.0)
    assert crossfade_extensions([Span(0.0, 1.0)], 0.01, duration=3.0) == [(0.0, 0.0)]
    assert _audio_joins(["[a0]"], []) == "[a0]anull[a]"
