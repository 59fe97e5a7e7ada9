"""Grounding: normalisation, exact and fuzzy matches, search order, boxes per line, snippets."""

from __future__ import annotations

from aitk.docqa.document import Block, Document, Page, Word
from aitk.docqa.ground import line_boxes, locate, normalise


def words(text: str, y: float, x: float = 10.0) -> list[Word]:
    out = []
    for token in text.split():
        out.append(Word(token, (x, y, x + 6 * len(token), y + 10)))
        x += 6 * len(token) + 4
    return out


def doc(*pages: list[Block]) -> Document:
    return Document("d.pdf", "0" * 64, "pdf", [Page(i + 1, 600, 800, blocks) for i, blocks in enumerate(pages)])


def test_normalise_case_punctuation_and_digit_separators():
    assert normalise("$1,234.00") == normalise("1234.00") == "1234.00"
    assert normalise("Total:") == "total"
    assert normalise("floor.") == "floor"
    assert normalise("INV-2024-0871") == "inv20240871"
    assert normalise("1 234") == "1234"
    assert normalise("—") == ""


def test_exact_match_gives_page_box_and_snippet():
    d = doc([Block("text", words("Invoice total due: EUR 1,234.00 by May.", 100))])
    g = locate(d, "eur 1234.00")
    assert g is not None and g.exact and g.page == 1
    matched = d.pages[0].words[g.start : g.end]
    assert [w.text for w in matched] == ["EUR", "1,234.00"]
    assert g.box == (matched[0].box[0], 100, matched[1].box[2], 110)
    assert "Invoice total due" in g.snippet


def test_match_must_align_to_word_edges():
    d = doc([Block("text", words("In 2012 we paid 12 euros", 100))])
    g = locate(d, "12")
    assert [w.text for w in d.pages[0].words[g.start : g.end]] == ["12"]  # not the "12" inside 2012


def test_ocr_split_words_still_match():
    d = doc([Block("text", words("Number INV- 2024 -0871 issued", 100))])
    g = locate(d, "INV-2024-0871")
    assert g is not None and (g.start, g.end) == (1, 4)


def test_fuzzy_match_is_strict():
    d = doc([Block("text", words("The spare keys are in locker 38 at the Rotterdarn depot", 100))])
    g = locate(d, "Rotterdam depot")
    assert g is not None and not g.exact
    assert locate(d, "Amsterdam harbour") is None


def test_search_prefers_the_chunk_then_its_page():
    d = doc([Block("text", words("code 4417 here", 100))], [Block("text", words("other code 4417 there", 100))])
    assert locate(d, "4417").page == 1
    assert locate(d, "4417", page_number=2).page == 2
    assert locate(d, "4417", page_number=2, word_range=(2, 4)).start == 2


def test_unlocatable_answer_is_none():
    d = doc([Block("text", words("nothing to see", 100))])
    assert locate(d, "the answer") is None
    assert locate(d, "...") is None


def test_an_answer_over_two_lines_has_a_box_per_line():
    first, second = words("the total is", 100), words("45.00 EUR", 114)
    assert len(line_boxes(first[2:] + second[:1])) == 2
    d = doc([Block("text", first + second)])
    g = locate(d, "is 45.00")
    assert len(g.line_boxes) == 2 and g.box[1] == 100 and g.box[3] == 124
