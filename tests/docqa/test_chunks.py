"""Chunking: windows within a page, block-aware cuts, overlap, table rows with their headers."""

from __future__ import annotations

from aitk.docqa.chunks import chunk_document, chunk_page, is_header, table_cells, words_in_span
from aitk.docqa.config import ChunkConfig
from aitk.docqa.document import Block, Document, Page, Word


def line(text: str, y: float, x: float = 10.0, gap: float = 4.0, char: float = 6.0) -> list[Word]:
    """Words of `text` laid left to right at height y (boxes in points)."""
    out = []
    for token in text.split():
        out.append(Word(token, (x, y, x + char * len(token), y + 10)))
        x += char * len(token) + gap
    return out


def cells(row: list[str], xs: list[float], y: float) -> list[Word]:
    return [w for text, x in zip(row, xs) for w in line(text, y, x)]


def test_windows_never_cross_pages_and_overlap():
    pages = [Page(n, 600, 800, [Block("text", line(" ".join(f"p{n}w{i}" for i in range(50)), 100))]) for n in (1, 2)]
    chunks = chunk_document(Document("a.pdf", "0" * 64, "pdf", pages), 3, ChunkConfig(words=20, overlap=5))
    assert {c.document for c in chunks} == {3}
    for c in chunks:
        assert all(f"p{c.page}w" in t for t in c.text.split())  # one page per chunk
        assert c.end - c.start <= 20
    first = [c for c in chunks if c.page == 1]
    assert first[0].start == 0 and first[-1].end == 50
    assert all(b.start == a.end - 5 for a, b in zip(first, first[1:]))  # 5 words shared


def test_cuts_prefer_block_ends():
    blocks = [
        Block("text", line(" ".join(f"a{i}" for i in range(12)), 100)),
        Block("text", line(" ".join(f"b{i}" for i in range(12)), 130)),
    ]
    chunks = chunk_page(Page(1, 600, 800, blocks), 0, ChunkConfig(words=20, overlap=0))
    assert (chunks[0].start, chunks[0].end) == (0, 12)  # whole first paragraph, not 20 words across both
    assert chunks[0].text.split()[-1] == "a11" and chunks[1].text.split()[0] == "b0"


def test_empty_page_gives_no_chunk():
    assert chunk_page(Page(1, 600, 800, []), 0) == []


def test_table_rows_carry_row_label_and_column_header():
    xs = [80, 220, 300]
    header = Block("table-row", cells(["Region", "Q1", "Q2"], xs, 100))
    east = Block("table-row", cells(["East", "143", "160"], xs, 120))
    (chunk,) = chunk_page(Page(1, 600, 800, [header, east]), 0)
    assert "East\nEast Q1: 143\nEast Q2: 160" in chunk.text
    # The spans still point at the page's own words: "160" is word 5 (reading order).
    at = chunk.text.index("160")
    assert words_in_span(chunk, at, at + 3) == (5, 6)


def test_key_value_forms_are_not_read_as_headers():
    xs = [72, 190]
    rows = [cells(["Invoice number:", "INV-2024-0871"], xs, 100), cells(["Invoice date:", "15 March 2024"], xs, 118)]
    assert not is_header(table_cells(rows[0]))
    (chunk,) = chunk_page(Page(1, 600, 800, [Block("table-row", r) for r in rows]), 0)
    assert "Invoice number:" not in chunk.text.split("\n")[1]  # the date row is not prefixed with the first row
    assert is_header(table_cells(cells(["Description", "Qty", "Unit price"], [72, 300, 370], 90)))


def test_table_cells_split_on_wide_gaps_only():
    row = cells(["Unit price", "18.50"], [370, 470], 100)
    assert [[w.text for w in c] for c in table_cells(row)] == [["Unit", "price"], ["18.50"]]


def test_overlapping_chunks_of_a_page_merge_for_the_reader():
    from aitk.docqa.chunks import merge_chunks

    page = Page(1, 600, 800, [Block("text", line(" ".join(f"w{i}" for i in range(50)), 100))])
    doc = Document("a.pdf", "0" * 64, "pdf", [page])
    a, b, c = chunk_page(page, 0, ChunkConfig(words=20, overlap=5))[:3]
    merged = merge_chunks([b, a], [doc])
    assert len(merged) == 1 and (merged[0].start, merged[0].end) == (0, b.end)
    assert merged[0].text == " ".join(f"w{i}" for i in range(b.end))  # each word once
    assert len(merge_chunks([a, c], [doc])) == 2  # a gap between them: kept apart
