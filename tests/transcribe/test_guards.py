from aitk.transcribe.guards import clamp_times, clean_segments, collapse_phrase_loops
from aitk.transcribe.metrics import word_error_rate
from aitk.transcribe.result import Segment


def seg(text, start=0.0, end=1.0, logprob=-0.2, no_speech=0.05):
    return Segment(0, start, end, text, logprob, no_speech)


def test_phrase_loops_collapse_but_real_repetition_stays():
    assert collapse_phrase_loops("I said go on go on go on go on and left") == "I said go on and left"
    assert collapse_phrase_loops("no no no no") == "no no no no"
    assert collapse_phrase_loops("so so so so so so so") == "so"
    assert collapse_phrase_loops("hello world") == "hello world"


def test_runs_of_identical_segments_are_capped_and_time_absorbed():
    segments = [seg(" Thanks.", i, i + 1) for i in range(6)] + [seg(" Bye now.", 6, 7)]
    cleaned = clean_segments(segments)
    assert [s.text for s in cleaned] == [" Thanks.", " Thanks.", " Bye now."]
    assert cleaned[1].end == 6 and [s.id for s in cleaned] == [0, 1, 2]


def test_text_on_silence_is_dropped():
    segments = [
        seg(" Real words here.", no_speech=0.1),
        seg(" Something invented.", no_speech=0.9, logprob=-1.5),  # whisper's own rule
        seg(" Thank you.", no_speech=0.4),  # stock phrase where whisper suspected silence
        seg(" Thank you.", no_speech=0.02, logprob=-0.1),  # said clearly: kept
    ]
    assert [s.text for s in clean_segments(segments)] == [" Real words here.", " Thank you."]


def test_word_error_rate():
    assert word_error_rate("The quick brown fox.", "the quick brown fox") == 0.0
    assert word_error_rate("a b c d", "a x c") == 0.5
    assert word_error_rate("dog speed", "dog-speed") == 0.0
    assert word_error_rate("", "") == 0.0 and word_error_rate("", "x") == 1.0


def test_times_are_clamped_to_the_media():
    from aitk.transcribe.result import Word

    s = Segment(0, 5.5, 7.0, " end", -0.1, 0.0, words=[Word(5.5, 6.9, " end", 0.9)])
    (out,) = clamp_times([s], 6.578)
    assert (out.start, out.end, out.words[0].end) == (5.5, 6.578, 6.578)


def test_split_segment_at_sentences_pauses_and_length():
    from aitk.transcribe.cues import split_segment, split_segments
    from aitk.transcribe.result import Word

    def words(spec):
        return [Word(a, b, w, 0.9) for a, b, w in spec]

    s = Segment(
        0,
        0.0,
        9.0,
        " Hi there. How are you today",
        -0.2,
        0.01,
        words=words(
            [
                (0.0, 0.4, " Hi"),
                (0.5, 0.9, " there."),
                (1.0, 1.2, " How"),
                (1.2, 1.4, " are"),
                (1.4, 1.6, " you"),
                (3.0, 3.5, " today"),
            ]
        ),
    )
    parts = split_segment(s)
    assert [p.text for p in parts] == [" Hi there.", " How are you", " today"]
    assert [(p.start, p.end) for p in parts] == [(0.0, 0.9), (1.0, 1.6), (3.0, 3.5)]
    # Whisper scores whole windows: each piece keeps its window's scores (docs/transcribe.md says so).
    assert all((p.avg_logprob, p.no_speech_prob) == (-0.2, 0.01) for p in parts)

    long = Segment(
        0, 0.0, 20.0, "", -0.2, 0.0, words=words([(i, i + 0.9, f" w{i}," if i == 4 else f" w{i}") for i in range(10)])
    )
    parts = split_segments([long], max_seconds=7.0)
    assert [p.text for p in parts] == [" w0 w1 w2 w3 w4,", " w5 w6 w7 w8 w9"]
    assert [p.id for p in parts] == [0, 1]
    assert all(p.end - p.start <= 7.0 for p in parts)
    no_words = Segment(0, 0.0, 1.0, " x", -0.1, 0.0)
    assert split_segment(no_words) == [no_words]
