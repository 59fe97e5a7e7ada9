"""Answer questions over indexed documents: retrieve chunks, read them, ground the answer, or abstain.

Scores: an answer's score is 0.8 x the reader's confidence + 0.2 x the cosine similarity of the
question and the chunk it was found in; an answer below `min_score` is withheld ("no answer
found"), and so is any reply of the LM reader that says the context has no answer. An answer that
cannot be located in the document's words is returned with `grounded: false`, never as fact.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from aitk.docqa.chunks import Chunk, merge_chunks
from aitk.docqa.config import AskConfig
from aitk.docqa.ground import Grounding, grounding, locate
from aitk.docqa.index import IndexedDocument
from aitk.docqa.readers import Candidate
from aitk.docqa.retrieve import BM25, rank
from aitk.engine.progress import Reporter, TaskAdvanced, TaskFinished, TaskStarted, null_reporter

QUESTIONS = "questions"  # progress task id of Asker.ask
READER_WEIGHT = 0.8  # score = 0.8 * reader confidence + 0.2 * question-chunk cosine
UNITS = {"pdf": "pt", "image": "px"}


@dataclass
class Answer:
    text: str
    score: float
    document: str | None
    page: int | None
    box: list[float] | None  # x0, y0, x1, y1 in `unit`, origin top-left; None for text files or ungrounded answers
    unit: str | None  # "pt" (PDF points) | "px" (image pixels)
    snippet: str
    grounded: bool
    line_boxes: list[list[float]] = field(default_factory=list)  # one box per line the answer spans

    def to_dict(self) -> dict:
        data = asdict(self)
        data["score"] = round(self.score, 4)
        data["box"] = None if self.box is None else [round(v, 2) for v in self.box]
        data["line_boxes"] = [[round(v, 2) for v in b] for b in self.line_boxes]
        return data


@dataclass
class QuestionResult:
    question: str
    answers: list[Answer]
    abstained: bool
    reason: str | None = None

    def to_dict(self) -> dict:
        data = {"question": self.question, "answers": [a.to_dict() for a in self.answers], "abstained": self.abstained}
        if self.reason:
            data["reason"] = self.reason
        return data


class Library:
    """The indexed documents of one run, with one BM25 over all their chunks."""

    def __init__(self, indexed: list[IndexedDocument]):
        self.indexed = indexed
        self.docs = [d.document for d in indexed]
        self.chunks: list[Chunk] = [c for d in indexed for c in d.chunks]
        dims = {d.vectors.shape[1] for d in indexed if d.vectors.shape[0]}
        self.vectors = (
            np.concatenate([d.vectors for d in indexed if d.vectors.shape[0]])
            if dims
            else np.zeros((0, 384), np.float32)
        )
        self.bm25 = BM25([c.text for c in self.chunks])


def answer_question(
    question: str, library: Library, question_vector: np.ndarray, reader, config: AskConfig
) -> QuestionResult:
    ranked = rank(question_vector, library.vectors, library.bm25, question, config.lexical_weight)
    if not ranked:
        return QuestionResult(question, [], True, "the documents hold no text")
    cosine = library.vectors @ question_vector  # (n_chunks,)
    top = merge_chunks([library.chunks[i] for i, _ in ranked[: config.read_chunks]], library.docs)
    candidates: list[tuple[Candidate, list[Chunk]]] = [(c, top) for c in reader.read(question, top, library.docs)]
    if config.top_k > 1:
        # More answers, each from its own chunk: one read per further chunk, best first.
        for i, _ in ranked[config.read_chunks : config.read_chunks + 2 * config.top_k]:
            chunk = library.chunks[i]
            candidates += [(c, [chunk]) for c in reader.read(question, [chunk], library.docs)]
    answers = _dedupe(sorted((_answer(c, chunks, library, cosine) for c, chunks in candidates), key=lambda a: -a.score))
    if not answers:
        return QuestionResult(question, [], True, "the reader found no answer in the best passages")
    kept = [a for a in answers if a.score >= config.min_score][: config.top_k]
    if not kept:
        best = answers[0]
        return QuestionResult(
            question,
            [],
            True,
            f'best evidence too weak: "{best.text}" scored {best.score:.2f} < --min-score {config.min_score:.2f}',
        )
    return QuestionResult(question, kept, False)


def _answer(candidate: Candidate, chunks: list[Chunk], library: Library, cosine: np.ndarray) -> Answer:
    found = _ground(candidate, chunks, library)
    if found is None:
        chunk = chunks[candidate.chunk or 0]
        score = READER_WEIGHT * candidate.confidence + (1 - READER_WEIGHT) * _similarity(library, cosine, chunks)
        doc = library.docs[chunk.document]
        return Answer(candidate.text, score, doc.path, None, None, None, "", False)
    doc_index, g = found
    sim = _similarity(library, cosine, chunks, doc_index, g.page, g.start)
    score = READER_WEIGHT * candidate.confidence + (1 - READER_WEIGHT) * max(0.0, sim)
    doc = library.docs[doc_index]
    unit = UNITS.get(doc.kind)
    has_box = unit is not None and any(g.box)
    text = " ".join(w.text for w in _page(doc, g.page).words[g.start : g.end])
    return Answer(
        text,
        score,
        doc.path,
        g.page,
        list(g.box) if has_box else None,
        unit if has_box else None,
        g.snippet,
        True,
        [list(b) for b in g.line_boxes] if has_box else [],
    )


def _similarity(
    library: Library,
    cosine: np.ndarray,
    read: list[Chunk],
    doc: int | None = None,
    page: int | None = None,
    word: int | None = None,
) -> float:
    """Cosine of the question with the indexed chunk holding the answer's first word among those read
    (chunks read may be merges of indexed ones); the weakest read chunk's when none holds it."""

    def overlaps(c: Chunk) -> bool:
        return any((r.document, r.page) == (c.document, c.page) and c.start < r.end and r.start < c.end for r in read)

    pool = [i for i, c in enumerate(library.chunks) if overlaps(c)]
    holders = [
        i
        for i in pool
        if (library.chunks[i].document, library.chunks[i].page) == (doc, page)
        and library.chunks[i].start <= (word or 0) < library.chunks[i].end
    ]
    if holders:
        return max(0.0, float(max(cosine[i] for i in holders)))
    return max(0.0, float(min(cosine[i] for i in pool))) if pool else 0.0


def _ground(candidate: Candidate, chunks: list[Chunk], library: Library) -> tuple[int, Grounding] | None:
    if candidate.words is not None:  # extractive: already document words
        chunk = chunks[candidate.chunk or 0]
        return chunk.document, grounding(_page(library.docs[chunk.document], chunk.page), *candidate.words)
    order = chunks if candidate.chunk is None else [chunks[candidate.chunk]]
    for chunk in order:  # exact, in a chunk the reader read
        g = locate(
            _only_page(library.docs[chunk.document], chunk.page), candidate.text, chunk.page, (chunk.start, chunk.end)
        )
        if g is not None and g.exact and chunk.start <= g.start < chunk.end:
            return chunk.document, g
    seen = list(dict.fromkeys(c.document for c in order)) + [
        i for i in range(len(library.docs)) if i not in {c.document for c in order}
    ]
    for i in seen:  # anywhere in the documents, fuzzy allowed
        first = next((c for c in order if c.document == i), None)
        g = locate(
            library.docs[i], candidate.text, first.page if first else None, (first.start, first.end) if first else None
        )
        if g is not None:
            return i, g
    return None


def _dedupe(answers: list[Answer]) -> list[Answer]:
    """One answer per place (and per text when ungrounded), best score first."""
    seen, out = set(), []
    for a in answers:
        key = (a.document, a.page, tuple(a.box or ()), a.text.lower() if not a.grounded else "")
        if key not in seen:
            seen.add(key)
            out.append(a)
    return out


def _page(doc, number: int):
    return next(p for p in doc.pages if p.number == number)


def _only_page(doc, number: int):
    from aitk.docqa.document import Document

    return Document(doc.path, doc.sha256, doc.kind, [_page(doc, number)], doc.warnings)


class Asker:
    """Loads the embedder and the reader once; answers any number of questions over a Library."""

    def __init__(self, config: AskConfig, reporter: Reporter = null_reporter):
        from aitk.docqa.index import LazyEmbedder
        from aitk.docqa.readers import load_reader
        from aitk.engine.device import resolve_device

        device = resolve_device(config.device)
        self.config, self.reporter = config, reporter
        self.embedder = LazyEmbedder(device.torch)
        self.reader = load_reader(config.reader, device, config.max_new_tokens, reporter)

    def ask(self, questions: list[str], library: Library) -> Iterator[QuestionResult]:
        """Answers in question order; progress as task QUESTIONS, counted in questions."""
        vectors = self.embedder(questions)  # (n_questions, 384)
        self.reporter(TaskStarted(QUESTIONS, "questions", total=len(questions)))
        for done, (question, vector) in enumerate(zip(questions, vectors), start=1):
            result = answer_question(question, library, vector, self.reader, self.config)
            self.reporter(TaskAdvanced(QUESTIONS, done))
            yield result
        self.reporter(TaskFinished(QUESTIONS))


def read_questions(path: Path) -> list[str]:
    """One question per line, or JSON Lines with a "question" field; blank lines and # comments skipped.
    A file holding no question is a UsageError (most likely the wrong file)."""
    import json

    from aitk.engine.errors import UsageError

    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise UsageError(f"cannot read --questions file: {exc.strerror}", path=path) from None
    except UnicodeDecodeError:
        raise UsageError(
            "--questions file is not UTF-8 text", path=path, hint="one question per line, saved as UTF-8"
        ) from None
    out = []
    for n, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("{"):
            try:
                row = json.loads(line)
                out.append(str(row["question"]).strip())
            except (ValueError, KeyError, TypeError):
                raise UsageError(
                    f'line {n} is not JSON with a "question"', path=path, hint='write {"question": "..."} or plain text'
                ) from None
        else:
            out.append(line)
    out = [q for q in out if q]
    if not out:
        raise UsageError("no questions", path=path, hint='one per line, or JSON Lines with "question"')
    return out
