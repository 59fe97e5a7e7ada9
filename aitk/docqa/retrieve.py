"""Rank chunks for a question: dense cosine similarity fused with a lexical BM25 score.

Dense embeddings find paraphrases ("amount due" for "total"); BM25 finds rare exact tokens that
embeddings blur (invoice numbers, names). Both are scaled to [0, 1] per question and mixed.
"""

from __future__ import annotations

import math
import re
from collections import Counter

import numpy as np

_TOKEN = re.compile(r"[a-z0-9]+")
STOPWORDS = frozenset(
    "a an and are as at be by did do does for from has have how in is it its of on or the this to was were what when "
    "where which who whom whose why with".split()
)


def tokenize(text: str) -> list[str]:
    """Lower-case letters/digits runs without stop words: '1,234.00' -> ['1', '234', '00']."""
    return [t for t in _TOKEN.findall(text.lower()) if t not in STOPWORDS]


class BM25:
    """Okapi BM25 over a fixed list of texts (k1, b as in Robertson & Zaragoza 2009)."""

    def __init__(self, texts: list[str], k1: float = 1.5, b: float = 0.75):
        self.k1, self.b = k1, b
        self.docs = [Counter(tokenize(t)) for t in texts]
        self.lengths = np.array([sum(d.values()) for d in self.docs], dtype=np.float64)
        self.avg = float(self.lengths.mean()) if len(self.docs) and self.lengths.mean() > 0 else 1.0
        df: Counter = Counter()
        for d in self.docs:
            df.update(d.keys())
        n = len(self.docs)
        # Lucene's idf: never negative, so a term in most chunks still counts a little.
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}

    def scores(self, query: str) -> np.ndarray:
        """(n_texts,) BM25 score of each text for `query`."""
        out = np.zeros(len(self.docs))
        norm = self.k1 * (1 - self.b + self.b * self.lengths / self.avg)  # (n_texts,)
        for term in set(tokenize(query)):
            idf = self.idf.get(term)
            if idf is None:
                continue
            tf = np.array([d.get(term, 0) for d in self.docs], dtype=np.float64)
            out += idf * tf * (self.k1 + 1) / (tf + norm)
        return out


def fuse(dense: np.ndarray, lexical: np.ndarray, lexical_weight: float = 0.5) -> np.ndarray:
    """(n,) mix of cosine similarities (clipped to [0, 1]) and BM25 scaled by its best score."""
    dense = np.clip(np.asarray(dense, dtype=np.float64), 0.0, 1.0)
    lexical = np.asarray(lexical, dtype=np.float64)
    top = lexical.max() if lexical.size else 0.0
    scaled = lexical / top if top > 0 else np.zeros_like(lexical)
    return (1.0 - lexical_weight) * dense + lexical_weight * scaled


def rank(
    question_vector: np.ndarray, chunk_vectors: np.ndarray, bm25: BM25, question: str, lexical_weight: float = 0.5
) -> list[tuple[int, float]]:
    """Chunk indices with fused scores, best first. Vectors are L2-normalised: (dim,) and (n, dim)."""
    if chunk_vectors.shape[0] == 0:
        return []
    dense = chunk_vectors @ question_vector  # (n,)
    fused = fuse(dense, bm25.scores(question), lexical_weight)
    order = np.argsort(-fused, kind="stable")
    return [(int(i), float(fused[i])) for i in order]
