"""Retrieval cores: tokenizer, BM25 against hand-computed values, fusion, ranking."""

from __future__ import annotations

import math

import numpy as np
import pytest

from aitk.docqa.retrieve import BM25, fuse, rank, tokenize


def test_tokenize_drops_stop_words_and_splits_numbers():
    assert tokenize("What is the Total due? EUR 1,234.00") == ["total", "due", "eur", "1", "234", "00"]


def test_bm25_matches_the_formula():
    texts = ["invoice total due", "total total", "weather report"]
    bm = BM25(texts, k1=1.5, b=0.75)
    avg = (3 + 2 + 2) / 3
    idf = math.log(1 + (3 - 2 + 0.5) / (2 + 0.5))  # "total" is in 2 of 3 texts
    expect = [
        idf * 1 * 2.5 / (1 + 1.5 * (0.25 + 0.75 * 3 / avg)),
        idf * 2 * 2.5 / (2 + 1.5 * (0.25 + 0.75 * 2 / avg)),
        0.0,
    ]
    assert bm.scores("total?") == pytest.approx(expect)
    assert bm.scores("nothing matches") == pytest.approx([0, 0, 0])


def test_rare_terms_outweigh_common_ones():
    bm = BM25(["the code is 4417", "code code code", "code of conduct"])
    assert int(np.argmax(bm.scores("code 4417"))) == 0


def test_fuse_scales_lexical_by_its_best_and_clips_cosine():
    fused = fuse(np.array([0.9, -0.2, 0.5]), np.array([2.0, 4.0, 0.0]), lexical_weight=0.5)
    assert fused == pytest.approx([0.5 * 0.9 + 0.5 * 0.5, 0.5 * 0.0 + 0.5 * 1.0, 0.25])
    assert fuse(np.array([0.3]), np.array([0.0])) == pytest.approx([0.15])  # no lexical hit: dense alone


def test_rank_orders_by_fused_score():
    vectors = np.eye(3, dtype=np.float32)  # chunk i points along axis i
    bm = BM25(["alpha", "beta", "gamma"])
    ranked = rank(np.array([0.0, 1.0, 0.0], np.float32), vectors, bm, "gamma", lexical_weight=0.4)
    assert [i for i, _ in ranked] == [1, 2, 0]  # dense 0.6 beats lexical 0.4
    assert rank(np.zeros(3, np.float32), np.zeros((0, 3), np.float32), BM25([]), "x") == []
