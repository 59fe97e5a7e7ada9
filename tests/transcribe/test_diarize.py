"""Speaker diarization: the real GE2E weights, the DER scorer on hand-built cases, clustering, word labelling,
and whole conversations of synthetic voices (flite, espeak-ng) with a known reference."""

from __future__ import annotations

import base64
import importlib.util
import os
import shutil

import numpy as np
import pytest

from aitk.engine.models import sha256_file
from aitk.transcribe import diarize as diarize_module
from aitk.transcribe import speaker_encoder as enc
from aitk.transcribe.der import diarization_error
from aitk.transcribe.diarize import Turn, _smooth, assign_speakers, cluster, diarize, rename, speaker_label
from aitk.transcribe.result import Segment, Word
from tests.transcribe.conversations import SAMPLE_RATE, make_conversation, synthesise

STRICT = os.environ.get("AITK_STRICT_TESTS") == "1"


def _need(ok: bool, message: str) -> None:
    if not ok:
        if STRICT:
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="module")
def weights() -> None:
    _need(importlib.util.find_spec("resemblyzer") is not None, "resemblyzer==0.1.4 (the encoder's weights) is missing")


@pytest.fixture(scope="module")
def voices() -> None:
    _need(shutil.which("flite") is not None and shutil.which("espeak-ng") is not None, "flite / espeak-ng missing")


# --- DER on hand-built cases --------------------------------------------------------------------------------

REF = [(0.0, 10.0, "A"), (10.0, 20.0, "B"), (20.0, 30.0, "A")]


def test_der_perfect_is_zero():
    r = diarization_error(REF, REF)
    # The collar removes 0.5 s of speech at 10 and 20, and 0.25 s at 0 and 30 (the other half is silence).
    assert r.der == 0 and r.total == pytest.approx(30 - 2 * 0.5 - 2 * 0.25)


def test_der_swapped_labels_is_zero():
    hyp = [(0.0, 10.0, 7), (10.0, 20.0, 3), (20.0, 30.0, 7)]
    r = diarization_error(REF, hyp)
    assert r.der == 0 and r.mapping == {7: "A", 3: "B"}


def test_der_one_missed_turn_is_its_share():
    hyp = [(0.0, 10.0, "x"), (20.0, 30.0, "x")]
    r = diarization_error(REF, hyp, collar=0)
    assert r.miss_rate == pytest.approx(10 / 30) and r.false_alarm == 0 and r.confusion == 0


def test_der_false_alarm_and_confusion():
    # 5 s of speech where there is none, and the middle turn given to the first speaker.
    hyp = [(0.0, 20.0, "x"), (20.0, 30.0, "x"), (30.0, 35.0, "y")]
    r = diarization_error(REF, hyp, collar=0)
    assert r.false_alarm == pytest.approx(5.0)
    assert r.confusion == pytest.approx(10.0)
    assert r.der == pytest.approx(15 / 30)


def test_der_collar_forgives_small_boundary_shifts():
    hyp = [(0.2, 10.2, "a"), (10.2, 19.8, "b"), (19.8, 29.9, "a")]
    assert diarization_error(REF, hyp).der == 0
    assert diarization_error(REF, hyp, collar=0).der > 0


def test_der_overlapping_speech_counts_per_speaker():
    ref = [(0.0, 10.0, "A"), (5.0, 10.0, "B")]  # 15 speaker-seconds, 5 of them overlapped
    hyp = [(0.0, 10.0, "a")]
    r = diarization_error(ref, hyp, collar=0)
    assert r.total == pytest.approx(15.0) and r.missed == pytest.approx(5.0) and r.der == pytest.approx(1 / 3)


def test_der_accepts_turn_objects_and_empty_hypothesis():
    r = diarization_error([Turn(0.0, 4.0, 0)], [], collar=0)
    assert r.miss_rate == 1.0 and r.der == 1.0
    assert diarization_error([], []).der == 0.0


# --- clustering on synthetic embeddings ---------------------------------------------------------------------


def _blobs(k: int, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(k * n, 256) unit vectors around k sparse non-negative centres, like GE2E embeddings (ReLU outputs):
    cosine distance about 0.1 within a blob and 0.5 between blobs."""
    rng = np.random.default_rng(seed)
    centres = np.abs(rng.standard_normal((k, 256))) * (rng.random((k, 256)) < 0.4)
    x = np.repeat(centres, n, axis=0) + 0.5 * np.abs(rng.standard_normal((k * n, 256)))
    return x / np.linalg.norm(x, axis=1, keepdims=True), np.repeat(np.arange(k), n)


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_cluster_finds_the_count(k):
    x, truth = _blobs(k, 30, seed=k)
    labels = cluster(x)
    assert len(set(labels)) == k
    # The same partition as the truth, up to renaming.
    assert len({(a, b) for a, b in zip(labels, truth)}) == k


def test_cluster_subsamples_long_recordings(monkeypatch):
    monkeypatch.setattr(diarize_module, "MAX_LINKAGE", 100)
    x, truth = _blobs(3, 80, seed=7)
    labels = cluster(x)
    assert len(set(labels)) == 3 and len({(a, b) for a, b in zip(labels, truth)}) == 3


def test_cluster_honours_fixed_and_bounded_counts():
    x, _ = _blobs(3, 30, seed=3)
    assert len(set(cluster(x, speakers=2))) == 2
    assert len(set(cluster(x, max_speakers=2))) == 2
    one, _ = _blobs(1, 40, seed=5)
    assert len(set(cluster(one, min_speakers=2))) == 2


def _frames(*runs: tuple[int, float]) -> np.ndarray:
    """10 ms frame labels from (speaker or -1 for silence, seconds) runs."""
    return np.concatenate([np.full(round(sec * 100), lab) for lab, sec in runs])


def test_smoothing_absorbs_short_flips_and_keeps_short_turns():
    # A 0.3 s flip inside speaker 0's speech is noise; a 0.3 s "Yes." between silences is a turn.
    frames = _frames((0, 3.0), (1, 0.3), (0, 2.0), (-1, 1.5), (1, 0.3), (-1, 1.5), (0, 2.0), (-1, 0.4), (0, 1.0))
    turns = _smooth(frames)
    assert [(t.speaker, t.start, t.end) for t in turns] == [(0, 0.0, 5.3), (1, 6.8, 7.1), (0, 8.6, 12.0)]


def test_smoothing_gives_a_flip_to_the_closer_neighbour():
    frames = _frames((0, 2.0), (-1, 0.8), (2, 0.2), (-1, 0.1), (1, 2.0))
    assert [(t.speaker, t.start, t.end) for t in _smooth(frames)] == [(0, 0.0, 2.0), (1, 2.8, 5.1)]


# --- names and word labelling -------------------------------------------------------------------------------


def test_speaker_names():
    assert speaker_label(0) == "SPEAKER_1" and Turn(0, 1, 2).label == "SPEAKER_3"
    name = rename("Ann, Bob")
    assert [name(i) for i in range(3)] == ["Ann", "Bob", "SPEAKER_3"]
    assert rename(["Ann", ""])(1) == "SPEAKER_2"


def _words(*spec: tuple[float, float, str]) -> list[Word]:
    return [Word(s, e, w, 0.9) for s, e, w in spec]


def test_assign_speakers_splits_a_segment_at_a_speaker_change():
    words = _words(
        (0.0, 0.4, " Yes,"), (0.4, 0.9, " exactly."), (1.1, 1.5, " What"), (1.5, 1.8, " about"), (1.8, 2.3, " Friday?")
    )
    segments = [
        Segment(0, 0.0, 2.3, " Yes, exactly. What about Friday?", -0.2, 0.01, words=words),
        Segment(
            1, 2.5, 4.0, " Friday is fine.", -0.3, 0.02, words=_words((2.5, 3.0, " Friday"), (3.0, 4.0, " is fine."))
        ),
        Segment(2, 4.2, 5.0, " Okay.", -0.1, 0.0),  # no word timestamps
    ]
    turns = [Turn(0.0, 1.0, 0), Turn(1.05, 2.4, 1), Turn(2.45, 4.1, 0), Turn(4.15, 5.0, 1)]
    out = assign_speakers(segments, turns)
    assert [s.text for s in out.segments] == [" Yes, exactly.", " What about Friday?", " Friday is fine.", " Okay."]
    assert out.speakers == [0, 1, 0, 1] and out.count == 2
    assert [s.id for s in out.segments] == [0, 1, 2, 3]
    assert (out.segments[0].start, out.segments[0].end) == (0.0, 0.9)
    assert (out.segments[1].start, out.segments[1].end) == (1.1, 2.3)
    assert out.segments[1].avg_logprob == -0.2  # the split parts keep their segment's scores
    assert out.word_speakers == [[0, 0], [1, 1, 1], [0, 0], []]
    assert segments[0].words is not None and len(segments[0].words) == 5  # the input is not modified
    assert out.labels() == ["SPEAKER_1", "SPEAKER_2"] and out.labels(["Ann"]) == ["Ann", "SPEAKER_2"]


def test_assign_speakers_numbers_speakers_by_their_first_words():
    # Speaker 0's only turn has no words (a cough): the transcript's speakers are 1 -> SPEAKER_1, 2 -> SPEAKER_2.
    seg = Segment(0, 1.0, 3.0, " a b", 0.0, 0.0, words=_words((1.0, 1.5, " a"), (2.5, 3.0, " b")))
    out = assign_speakers([seg], [Turn(0.0, 0.5, 0), Turn(0.9, 2.0, 1), Turn(2.2, 3.0, 2)])
    assert out.speakers == [0, 1] and out.mapping == {1: 0, 2: 1} and out.count == 2


def test_assign_speakers_labels_words_outside_every_turn_by_the_nearest():
    seg = Segment(0, 0.0, 3.0, " a b", 0.0, 0.0, words=_words((0.0, 0.5, " a"), (2.5, 3.0, " b")))
    out = assign_speakers([seg], [Turn(0.6, 1.0, 0), Turn(1.9, 2.2, 1)])
    assert out.speakers == [0, 1]
    assert assign_speakers([seg], []).speakers == [None]


# --- the real encoder ---------------------------------------------------------------------------------------

# resemblyzer 0.1.4's own VoiceEncoder().embed_utterance(normalize_volume(_signal(), -30)) with librosa 0.11
# (computed once in a scratch environment), as float16, base64.
PACKAGE_EMBEDDING = (
    "AADAMQAAAAAAAEgpvCFvH9sbJy62LdMwQywAAAAAzywyJdUoSiAAAAAAAAAAAAAAiSxjKQAAAAC7JCAppyrUKC4pAAA6IOwr4ScC"
    "HsQrHR0AAAAAVS9cLHIYhy4AAOkltjAoLgAAPywAAAAAYyIAAAAAcRJEHwAAmCEAAAAAAACKLJ4n8SUFKgAAeCMAAFMtCynGJU8x"
    "AAAAAFsgZx9kGwAAAAByMAAAAAAAAAAAHS0AADUvRxW7LwAA9TELIQAAAAAAALUeAADCKAAARivrCnYpSCuALwAAAADdLCUk8SwA"
    "ACAq+SgAADwmASxIIgAAVyhSLa4xTigrKGQu6CwaLrMkAAAAAJYwOiuLLEkt7yGQML8sKC0jIgAAAABDI1crcS1RJOYuAAAYKtUq"
    "AAAoLgAA1CurJQEsAAAAAAMucSwfJQAAqC4TMIso9ilnJL8egCwAAAAADCIbKWkvAADsMIYqQiVWLp0UHzJVLZUpxyvNIwAAAAAR"
    "JgAAlTRkKtYvAABkLAAAQSoHI5MsSiYGLgAAvSp5LfouAACJHg4pRi4YLXIqAAAAAEgrZyMAACExAADaLNwpAACgKR0wAAAAANUp"
    "gC18HGggAAAAAAAAXyl/KAAAwic2LzsvEiyxLposRCs9JvUZAAAAAAIGPyihJHIwZyQAAEotAy2DKS8hAAA="
)


def _signal() -> np.ndarray:
    """3 s of a deterministic voiced-like sound: 24 harmonics of a gliding 90-150 Hz pitch, pulsed, with noise."""
    t = np.arange(3 * SAMPLE_RATE) / SAMPLE_RATE
    f0 = 120 + 30 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / SAMPLE_RATE
    x = sum(np.sin(k * phase) / k for k in range(1, 25)) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t) ** 2)
    x = x + 0.05 * np.random.default_rng(0).standard_normal(len(t))
    return (x / np.abs(x).max() * 0.5).astype(np.float32)


def test_weights_are_the_expected_file(weights):
    path = enc.weights_path()
    assert path.stat().st_size == enc.GE2E_SPEC.size == 17_090_379
    assert (
        sha256_file(path) == enc.GE2E_SPEC.sha256 == "39373b86598fa3da9fcddee6142382efe09777e8d37dc9c0561f41f0070f134e"
    )
    model = enc.load_encoder()
    assert model.lstm.num_layers == 3 and model.lstm.input_size == 40 and model.linear.out_features == 256


def test_embedding_matches_the_package(weights):
    ours = enc.embed_utterance(enc.normalise_level(_signal()))
    package = np.frombuffer(base64.b64decode(PACKAGE_EMBEDDING), dtype=np.float16).astype(np.float32)
    assert ours.shape == (256,) and np.linalg.norm(ours) == pytest.approx(1.0, abs=1e-5)
    assert float(ours @ package / np.linalg.norm(package)) > 0.99


def test_mel_filterbank_is_slaney():
    fb = enc.mel_filterbank()
    assert fb.shape == (40, 201) and (fb >= 0).all()
    # Slaney normalisation gives every triangle an area of 1 (over Hz): sampled at the FFT's 40 Hz bins, each
    # filter sums to about 1 / 40.
    assert np.allclose(fb.sum(axis=1), 1 / 40, rtol=0.05)
    peaks = fb.argmax(axis=1)
    assert (np.diff(peaks) >= 0).all() and peaks[-1] > 150


def test_same_voice_is_closer_than_another_voice(weights, voices, tmp_path):
    texts = ["The budget for the spring campaign was approved.", "Please call the office before noon on Friday."]
    names = [("flite", "slt"), ("flite", "awb"), ("flite", "rms"), ("espeak-ng", "en-gb-x-rp")]
    e = {
        (v, i): enc.embed_utterance(enc.normalise_level(synthesise(engine, v, t, tmp_path)))
        for engine, v in names
        for i, t in enumerate(texts)
    }
    for _, v in names:
        same = float(e[(v, 0)] @ e[(v, 1)])
        others = [float(e[(v, 0)] @ e[(w, 1)]) for _, w in names if w != v]
        assert same > max(others) + 0.05, (v, same, others)


def test_diarize_without_speech_is_empty(weights):
    assert diarize(np.zeros(5 * SAMPLE_RATE, dtype=np.float32)) == []
    with pytest.raises(ValueError):
        diarize(np.zeros(SAMPLE_RATE, dtype=np.float32), min_speakers=3, max_speakers=2)


@pytest.mark.slow
@pytest.mark.parametrize(("seed", "picks"), [(1001, [0, 1]), (1002, [0, 1, 2])], ids=["2 speakers", "3 speakers"])
def test_diarize_conversation(weights, voices, seed, picks, tmp_path):
    conv = make_conversation(seed, voices=picks, seconds=55, cache=tmp_path)
    turns = diarize(conv.audio)
    assert len({t.speaker for t in turns}) == conv.speakers
    assert [t.speaker for t in turns[:1]] == [0]  # numbered by first appearance
    assert all(a.end <= b.start for a, b in zip(turns, turns[1:]))
    score = diarization_error(conv.turns, turns)
    assert score.der <= 0.10, score
    # A fixed count is honoured.
    assert len({t.speaker for t in diarize(conv.audio, speakers=conv.speakers + 1)}) == conv.speakers + 1
