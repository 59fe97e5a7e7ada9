"""Progress events of indexing and asking: the batch counted in documents, each document extracted
now (not from the cache) as its own task, and the questions counted as they are answered."""

from __future__ import annotations

import numpy as np
import pytest

from aitk.docqa.config import AskConfig, ExtractConfig
from aitk.docqa.index import index_paths
from aitk.docqa.readers import Candidate
from aitk.engine.progress import BATCH, Recorder, TaskAdvanced, TaskFinished, TaskStarted


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    """An empty cache: nothing here is cached by another test, and the stand-in vectors below never
    reach the cache the other tests read."""
    monkeypatch.setenv("AITK_HOME", str(tmp_path / "aitk-home"))


def unit_vectors(texts: list[str]) -> np.ndarray:
    """Stands in for the embedder: these tests count events, not retrieval quality."""
    return np.full((len(texts), 384), 1 / np.sqrt(384), np.float32)


def test_index_reports_the_batch_and_each_document_it_extracts(tmp_path, multipage_pdf):
    import shutil

    notes = tmp_path / "notes.txt"
    notes.write_text("Written for the progress test.\n")
    book = tmp_path / "book.pdf"
    shutil.copy(multipage_pdf.path, book)
    missing = tmp_path / "missing.pdf"
    recorder = Recorder()
    outcomes = list(index_paths([notes, missing, book], unit_vectors, ExtractConfig(), reporter=recorder))
    assert [o.error is None for o in outcomes] == [True, False, True]
    batch = [e for e in recorder.events if getattr(e, "task", None) == BATCH]
    assert batch == [
        TaskStarted(BATCH, "documents", 3),
        TaskAdvanced(BATCH, 1),
        TaskAdvanced(BATCH, 2),
        TaskAdvanced(BATCH, 3),
        TaskFinished(BATCH),
    ]
    started = [e for e in recorder.events if isinstance(e, TaskStarted) and e.task != BATCH]
    assert started[0] == TaskStarted(str(notes), "read notes.txt")
    assert all(e.task != str(missing) for e in started)
    assert started[1:] == [TaskStarted(str(book), "read book.pdf", total=4)]  # a PDF counts pages
    assert [e.completed for e in recorder.events if isinstance(e, TaskAdvanced) and e.task == str(book)] == [1, 2, 3, 4]

    again = Recorder()
    list(index_paths([notes, book], unit_vectors, ExtractConfig(), reporter=again))
    assert [type(e) for e in again.events] == [
        TaskStarted,
        TaskAdvanced,
        TaskAdvanced,
        TaskFinished,
    ]  # cached: the batch only


def test_ask_counts_the_questions(tmp_path):
    from aitk.docqa.chunks import chunk_document
    from aitk.docqa.document import Block, Document, Page, Word
    from aitk.docqa.index import IndexedDocument
    from aitk.docqa.run import QUESTIONS, Asker, Library

    words = [Word(t, (10.0 * i, 10, 10.0 * i + 8, 20)) for i, t in enumerate("The total due is EUR 270.60".split())]
    doc = Document(str(tmp_path / "inv.pdf"), "ab" * 32, "pdf", [Page(1, 595, 842, [Block("text", words)])])
    chunks = chunk_document(doc, 0)
    library = Library([IndexedDocument(doc, chunks, unit_vectors([c.text for c in chunks]), cached=False)])

    class Scripted:
        kind = "generative"

        def read(self, question, chunks, docs):
            return [Candidate("EUR 270.60", 0.9)]

    recorder = Recorder()
    asker = Asker.__new__(Asker)  # no models: the embedder and reader are stand-ins
    asker.config, asker.reporter, asker.embedder, asker.reader = (
        AskConfig(min_score=0.5),
        recorder,
        unit_vectors,
        Scripted(),
    )
    results = asker.ask(["total?", "again?"], library)
    first = next(results)
    assert first.answers[0].text == "EUR 270.60"
    assert recorder.events == [
        TaskStarted(QUESTIONS, "questions", 2),
        TaskAdvanced(QUESTIONS, 1),
    ]  # reported as answered
    list(results)
    assert recorder.events[2:] == [TaskAdvanced(QUESTIONS, 2), TaskFinished(QUESTIONS)]
