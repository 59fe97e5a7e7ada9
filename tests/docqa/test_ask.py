"""Question answering end to end on generated documents with the default offline LM reader.

The LM tests share one loaded model (the `asker` fixture in conftest.py; the first run in a fresh
AITK_HOME dequantizes it: about a minute, more on a busy machine) and are marked slow. The
scoring/abstention logic also has fast tests with a scripted reader.
"""

from __future__ import annotations

import pytest

from aitk.docqa.config import AskConfig
from aitk.docqa.document import Block, Document, Page, Word
from aitk.docqa.readers import Candidate


def overlap(a, b) -> float:
    """Intersection over the smaller box's area: 1.0 when one holds the other."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return w * h / smaller


# ---- fast: scoring, abstention and grounding flags with a scripted reader --------------------------


class Scripted:
    """Returns fixed candidates: pure logic around the reader, never the only test of a feature."""

    kind = "generative"

    def __init__(self, *candidates: Candidate):
        self.candidates = list(candidates)

    def read(self, question, chunks, docs):
        return list(self.candidates)


def _library():
    import numpy as np

    from aitk.docqa.chunks import chunk_document
    from aitk.docqa.index import IndexedDocument
    from aitk.docqa.run import Library

    x, words = 72.0, []
    for t in "The total due is EUR 270.60 today".split():
        words.append(Word(t, (x, 100, x + 6 * len(t), 110)))
        x += 6 * len(t) + 4
    doc = Document("/tmp/inv.pdf", "cd" * 32, "pdf", [Page(1, 595, 842, [Block("text", words)])])
    chunks = chunk_document(doc, 0)
    vectors = np.ones((len(chunks), 4), np.float32) / 2.0  # unit vectors; cosine 0.5 with the question below
    return Library([IndexedDocument(doc, chunks, vectors, cached=False)]), np.array([1, 0, 0, 0], np.float32)


def test_grounded_answer_has_page_box_and_blended_score():
    from aitk.docqa.run import answer_question

    library, q = _library()
    result = answer_question("total?", library, q, Scripted(Candidate("eur 270.60", 0.9)), AskConfig(min_score=0.5))
    (a,) = result.answers
    assert not result.abstained and a.grounded and a.text == "EUR 270.60" and a.page == 1 and a.unit == "pt"
    assert a.score == pytest.approx(0.8 * 0.9 + 0.2 * 0.5)
    assert a.box[0] > 72 and a.box[1] == 100 and "total due" in a.snippet


def test_weak_evidence_abstains_with_the_reason():
    from aitk.docqa.run import answer_question

    library, q = _library()
    result = answer_question("total?", library, q, Scripted(Candidate("EUR 270.60", 0.2)), AskConfig(min_score=0.5))
    assert result.abstained and result.answers == [] and "too weak" in result.reason and "0.26" in result.reason
    silent = answer_question("total?", library, q, Scripted(), AskConfig())
    assert silent.abstained and "no answer" in silent.reason


def test_an_answer_not_in_the_document_is_flagged_not_placed():
    from aitk.docqa.run import answer_question

    library, q = _library()
    result = answer_question("total?", library, q, Scripted(Candidate("USD 999", 0.95)), AskConfig(min_score=0.5))
    (a,) = result.answers
    assert not a.grounded and a.page is None and a.box is None and result.to_dict()["answers"][0]["grounded"] is False


# ---- slow: the default LM on generated documents -----------------------------------------------------


def ask(asker, generated, questions):
    from aitk.docqa.extract import load_document
    from aitk.docqa.index import index_document
    from aitk.docqa.run import Library

    library = Library([index_document(load_document(generated.path), 0, asker.embedder)])
    return list(asker.ask(questions, library))


def truth(generated, answer):
    return next(qa for qa in generated.qa if qa.answer == answer)


def check(result, generated, answer, min_overlap=0.5):
    qa = truth(generated, answer)
    assert not result.abstained, result.reason
    a = result.answers[0]
    assert answer.lower() in a.text.lower() and a.grounded, a
    assert a.page == qa.page
    assert overlap(a.box, qa.box) >= min_overlap, (a.box, qa.box)


@pytest.mark.slow
def test_invoice_number_date_total_and_an_unanswerable_question(asker, invoice_pdf):
    number, date, total, dog = ask(
        asker,
        invoice_pdf,
        [
            "What is the invoice number?",
            "What is the invoice date?",
            "What is the total due?",
            "What is the name of the customer's dog?",
        ],
    )
    check(number, invoice_pdf, "INV-2024-0871")
    check(date, invoice_pdf, "15 March 2024")
    check(total, invoice_pdf, "EUR 270.60")
    assert number.answers[0].unit == "pt" and number.answers[0].document == str(invoice_pdf.path)
    assert dog.abstained and dog.answers == []


@pytest.mark.slow
def test_two_column_article_needs_layout_order(asker, two_column_pdf):
    from aitk.docqa.extract import load_document
    from aitk.docqa.layout import naive_order

    page = load_document(two_column_pdf.path).pages[0]
    naive = " ".join(w.text for w in naive_order(page.words))
    assert "The launch code is is 2291" in naive  # read across the gutter, the code is the badge number
    assert "The launch code is 4417" in page.text.replace("\n", " ")
    (code,) = ask(asker, two_column_pdf, ["What is the launch code?"])
    check(code, two_column_pdf, "4417")


@pytest.mark.slow
def test_table_cell(asker, table_pdf):
    (east,) = ask(asker, table_pdf, ["How many units were sold in the East region in Q2?"])
    check(east, table_pdf, "160")


@pytest.mark.slow
def test_scanned_page_through_ocr(asker, scanned_png):
    number, total = ask(asker, scanned_png, ["What is the invoice number?", "What is the total due?"])
    check(number, scanned_png, "INV-2024-0871", min_overlap=0.3)
    check(total, scanned_png, "EUR 270.60", min_overlap=0.3)
    assert number.answers[0].unit == "px"


@pytest.mark.slow
def test_answer_on_page_three(asker, multipage_pdf):
    (keys,) = ask(asker, multipage_pdf, ["Where are the spare keys kept?"])
    check(keys, multipage_pdf, "locker 38")
