"""Reading order: synthetic word layouts (pure), then the generated PDFs' text layers."""

from __future__ import annotations

from aitk.docqa.document import Word
from aitk.docqa.extract import load_document
from aitk.docqa.layout import naive_order, reading_order
from tests.docqa import make_docs

CHAR = 5.0  # synthetic glyph width


def line(text: str, x: float, y: float, height: float = 10.0) -> list[Word]:
    """Words of `text` set from (x, y) top-left in a fixed-width font."""
    words, cursor = [], x
    for token in text.split():
        words.append(Word(token, (cursor, y, cursor + CHAR * len(token), y + height)))
        cursor += CHAR * (len(token) + 1)
    return words


def texts(blocks) -> list[str]:
    return [b.text for b in blocks]


LEFT = ["alpha one two three four", "alpha five six seven eight", "alpha nine ten eleven twelve"]
RIGHT = ["beta one two three four", "beta five six seven eight", "beta nine ten eleven twelve"]


def two_columns(top: float = 40.0) -> list[Word]:
    words = []
    for i, (left, right) in enumerate(zip(LEFT, RIGHT)):
        words += line(left, 20, top + 12 * i) + line(right, 200, top + 12 * i)
    return words


def test_two_columns_are_read_one_after_the_other():
    blocks = reading_order(two_columns(), 400, 300)
    assert texts(blocks) == [" ".join(LEFT), " ".join(RIGHT)]
    assert [b.kind for b in blocks] == ["text", "text"]
    # The input order must not matter.
    assert texts(reading_order(list(reversed(two_columns())), 400, 300)) == texts(blocks)


def test_naive_order_interleaves_the_same_columns():
    naive = " ".join(w.text for w in naive_order(two_columns()))
    assert naive.startswith("alpha one two three four beta one")


def test_title_across_both_columns_comes_first_then_left_then_right():
    title = line("A Big Heading", 20, 5, height=20)
    blocks = reading_order(title + two_columns(top=35), 400, 300)
    assert texts(blocks) == ["A Big Heading", " ".join(LEFT), " ".join(RIGHT)]
    assert blocks[0].kind == "title"


def test_aligned_short_cells_form_table_rows_header_first():
    rows = [("Name", "Qty", "Price"), ("apple", "3", "1.20"), ("pear", "12", "0.80")]
    words = []
    for i, row in enumerate(rows):
        for x, cell in zip((20, 120, 200), row):
            words += line(cell, x, 50 + 14 * i)
    blocks = reading_order(list(reversed(words)), 400, 300)
    assert [b.kind for b in blocks] == ["table-row"] * 3
    assert texts(blocks) == ["Name Qty Price", "apple 3 1.20", "pear 12 0.80"]


def test_a_table_inside_one_column_is_read_by_rows():
    prose = [line(f"right column sentence number {i} goes on", 200, 20 + 12 * i) for i in range(8)]
    table = [
        line(cell, x, 40 + 12 * i)
        for i, row in enumerate([("key", "value"), ("red", "1"), ("blue", "2")])
        for x, cell in zip((20, 100), row)
    ]
    intro = line("left intro text here", 20, 20)
    blocks = reading_order([w for ws in prose + table + [intro] for w in ws], 400, 300)
    assert texts(blocks)[:4] == ["left intro text here", "key value", "red 1", "blue 2"]
    assert [b.kind for b in blocks][1:4] == ["table-row"] * 3
    assert blocks[4].text.startswith("right column sentence number 0")


def test_prose_in_two_columns_is_not_taken_for_a_table():
    assert all(b.kind == "text" for b in reading_order(two_columns(), 400, 300))


def test_paragraphs_split_at_a_blank_line():
    words = (
        line("first paragraph line one", 20, 20)
        + line("first paragraph line two", 20, 32)
        + line("second paragraph", 20, 60)
    )
    assert texts(reading_order(words, 400, 300)) == [
        "first paragraph line one first paragraph line two",
        "second paragraph",
    ]


def test_a_lone_label_and_value_stay_one_line():
    words = line("Total due:", 20, 20) + line("EUR 270.60", 300, 20) + line("Thank you for your order", 20, 60)
    assert texts(reading_order(words, 400, 300)) == ["Total due: EUR 270.60", "Thank you for your order"]


def test_no_words_and_no_geometry():
    assert reading_order([], 100, 100) == []
    assert reading_order([Word(" ", (0, 0, 1, 1))], 100, 100) == []
    flat = [Word(t, (0.0, 0.0, 0.0, 0.0)) for t in "keep this order".split()]
    assert texts(reading_order(flat, 0, 0)) == ["keep this order"]


def test_every_word_comes_out_once():
    words = two_columns() + line("footer", 20, 280)
    blocks = reading_order(words, 400, 300)
    assert sorted(id(w) for b in blocks for w in b.words) == sorted(id(w) for w in words)


# ---- generated PDFs ---------------------------------------------------------------------------


def test_two_column_pdf_keeps_the_launch_sentence_whole(two_column_pdf):
    page = load_document(two_column_pdf.path, cache=False).pages[0]
    assert page.blocks[0].kind == "title" and page.blocks[0].text == "Field Notes from the Northern Station"
    left = next(b for b in page.blocks if make_docs.LAUNCH_SENTENCE in b.text)
    assert left.text == " ".join(make_docs._LEFT)
    right = next(b for b in page.blocks if "2291" in b.text)
    assert right.text == " ".join(make_docs._RIGHT)
    assert page.blocks.index(left) < page.blocks.index(right)
    # Read across, the left column's sentence is broken by the right column's line.
    naive = " ".join(w.text for w in naive_order(page.words))
    assert "The launch code is 4417" not in naive and "The launch code is is 2291" in naive


def test_table_pdf_rows_in_order(table_pdf):
    page = load_document(table_pdf.path, cache=False).pages[0]
    rows = [b.text for b in page.blocks if b.kind == "table-row"]
    assert rows == [" ".join(r) for r in make_docs.TABLE]
    kinds = [b.kind for b in page.blocks]
    assert kinds[:2] == ["title", "text"] and kinds[-1] == "text"


def test_invoice_fields_pair_label_with_value(invoice_pdf):
    page = load_document(invoice_pdf.path, cache=False).pages[0]
    rows = [b.text for b in page.blocks if b.kind == "table-row"]
    assert "Invoice number: INV-2024-0871" in rows
    assert "Total due: EUR 270.60" in rows
    assert "Paper cups (box of 100) 10 6.25 62.50" in rows
    assert page.blocks[0].kind == "title" and page.blocks[0].text == "INVOICE"


def test_a_very_long_page_is_cut_without_recursion_limits():
    words = [w for i in range(1100) for w in line(f"row {i}", 20, 12 * i)]
    blocks = reading_order(words, 200, 12 * 1100)
    assert [w.text for b in blocks for w in b.words] == [w.text for w in words]
