"""Documents made ready to ask: extracted (cached by `extract`), chunked, embedded (cached here).

Chunk embeddings are stored per document content hash and chunking/embedding key under
$AITK_HOME/docqa/index/, so asking again, or asking about the same file under another name, skips
the embedder; an edited file has a new hash and is embedded again. A cache entry also holds a hash
of the chunk texts, so a change in extraction or chunking code invalidates it too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aitk.docqa.chunks import Chunk, chunk_document
from aitk.docqa.config import EMBEDDER, ChunkConfig
from aitk.docqa.document import Document
from aitk.engine.errors import MediaError
from aitk.engine.executor import ExecutorConfig
from aitk.engine.fileio import atomic_open
from aitk.engine.models import aitk_home
from aitk.engine.progress import BATCH, Reporter, TaskAdvanced, TaskFinished, TaskStarted, null_reporter

VERSION = 1


@dataclass
class IndexedDocument:
    document: Document
    chunks: list[Chunk]
    vectors: np.ndarray  # (len(chunks), dim) unit vectors
    cached: bool  # embeddings read from the cache rather than computed now


@dataclass
class IndexOutcome:
    path: Path
    indexed: IndexedDocument | None = None
    error: MediaError | None = None


def index_dir() -> Path:
    return aitk_home() / "docqa" / "index"


def cache_path(sha256: str, chunks: ChunkConfig) -> Path:
    return index_dir() / f"{sha256}-{EMBEDDER}-{chunks.key}-v{VERSION}.npz"


def texts_hash(chunks: list[Chunk]) -> str:
    digest = hashlib.sha256()
    for c in chunks:
        digest.update(f"{c.page}:{c.start}:{c.end}:{c.text}\0".encode())
    return digest.hexdigest()


def index_document(
    doc: Document, doc_index: int, embed: Callable[[list[str]], np.ndarray], config: ChunkConfig = ChunkConfig()
) -> IndexedDocument:
    """Chunk `doc` and fetch or compute its chunk embeddings. `embed` is only called on a cache miss."""
    chunks = chunk_document(doc, doc_index, config)
    path, key = cache_path(doc.sha256, config), texts_hash(chunks)
    if path.exists():
        try:
            with np.load(path) as data:
                if str(data["texts"]) == key and data["vectors"].shape[0] == len(chunks):
                    return IndexedDocument(doc, chunks, data["vectors"], cached=True)
        except (OSError, ValueError, KeyError):
            pass  # a damaged entry is rebuilt
    vectors = embed([c.text for c in chunks]) if chunks else np.zeros((0, 384), dtype=np.float32)
    with atomic_open(path, "wb", encoding=None) as handle:
        np.savez(handle, vectors=vectors.astype(np.float32), texts=np.array(key))
    return IndexedDocument(doc, chunks, vectors, cached=False)


def index_paths(
    paths: list[Path],
    embed: Callable[[list[str]], np.ndarray],
    extract_config=None,
    config: ChunkConfig = ChunkConfig(),
    executor: ExecutorConfig | None = None,
    device: str = "auto",
    reporter: Reporter = null_reporter,
) -> Iterator[IndexOutcome]:
    """Extract and index each file; a file that cannot be read is an outcome with its error, and the rest go on.

    Progress: the batch (task BATCH, counted in documents) and, locally, each document extracted
    now rather than read from the cache (task: its path, counted in pages for PDFs).
    With a Ray `executor`, documents missing from this machine's caches are extracted and embedded
    by Ray workers (on `device`, resolved on each worker); their results are cached here exactly
    as a local run caches them.
    """
    from aitk.docqa.config import ExtractConfig

    extract_config = extract_config or ExtractConfig()
    if executor is not None and executor.kind != "local":
        outcomes = _index_remote(paths, extract_config, config, executor, device)
    else:
        outcomes = _index_local(paths, embed, extract_config, config, reporter)
    reporter(TaskStarted(BATCH, "documents", total=len(paths)))
    for done, outcome in enumerate(outcomes, start=1):
        reporter(TaskAdvanced(BATCH, done))
        yield outcome
    reporter(TaskFinished(BATCH))


def _index_local(paths, embed, extract_config, config: ChunkConfig, reporter: Reporter) -> Iterator[IndexOutcome]:
    from aitk.docqa.extract import load_document

    n = 0
    for path in paths:
        try:
            doc = load_document(path, extract_config, reporter=reporter)
        except MediaError as exc:
            yield IndexOutcome(path, error=exc)
            continue
        yield IndexOutcome(path, index_document(doc, n, embed, config))
        n += 1


def cached_entry(path: Path, extract_config, config: ChunkConfig) -> IndexedDocument | None:
    """The document and its embeddings when both caches hold them (nothing is extracted or embedded)."""
    from aitk.docqa.extract import load_cached

    doc = load_cached(path, extract_config)
    if doc is None or not cache_path(doc.sha256, config).exists():
        return None

    def miss(texts):
        raise LookupError

    try:
        return index_document(doc, 0, miss, config)
    except LookupError:
        return None


class RemoteIndexer:
    """A worker factory for `--executor ray`: the embedder loads once per worker; one document per call."""

    def __init__(self, extract_config, config: ChunkConfig, device: str):
        self.extract_config, self.config, self.device = extract_config, config, device

    def __call__(self):
        from aitk.docqa.extract import load_document
        from aitk.engine.device import resolve_device

        embed = LazyEmbedder(resolve_device(self.device).torch)

        def index_one(path: Path):
            try:
                doc = load_document(path, self.extract_config)
            except MediaError as exc:
                return None, None, exc.message
            chunks = chunk_document(doc, 0, self.config)
            vectors = embed([c.text for c in chunks]) if chunks else np.zeros((0, 384), dtype=np.float32)
            return doc, vectors, None

        return index_one


def _index_remote(
    paths, extract_config, config: ChunkConfig, executor: ExecutorConfig, device: str
) -> Iterator[IndexOutcome]:
    from aitk.docqa import extract_cache
    from aitk.docqa.extract import cache_key_for
    from aitk.engine.executor import map_planned

    plans = []
    for path in map(Path, paths):
        try:
            plans.append((path, cached_entry(path, extract_config, config)))
        except MediaError as exc:  # missing or unsupported: no worker needed to say so
            plans.append((path, exc))
    lost = lambda path, why: (None, None, f"{path}: {why}")  # noqa: E731
    n = 0
    for path, plan, result in map_planned(
        RemoteIndexer(extract_config, config, device), plans, lambda plan: plan is None, executor, lost
    ):
        if isinstance(plan, MediaError):
            yield IndexOutcome(path, error=plan)
            continue
        if plan is None:
            doc, vectors, error = result
            if error is not None:
                yield IndexOutcome(path, error=MediaError(error))
                continue
            doc.path = str(path)
            extract_cache.save(doc, cache_key_for(path, extract_config))
            indexed = index_document(doc, n, lambda texts, vectors=vectors: vectors, config)
        else:
            plan.document.path = str(path)
            indexed = index_document(plan.document, n, _never, config)
        yield IndexOutcome(path, indexed)
        n += 1


def _never(texts):
    raise AssertionError("cached embeddings were checked a moment ago")


class LazyEmbedder:
    """Loads the embedding model on first use, so a fully cached `index` run never loads it."""

    def __init__(self, device: str = "cpu"):
        self.device, self._model = device, None

    def __call__(self, texts: list[str]) -> np.ndarray:
        if self._model is None:
            from aitk.docqa.embed import Embedder

            self._model = Embedder(self.device)
        return self._model(texts)
