"""Cut pages into overlapping windows of words for retrieval, remembering where each word came from.

A chunk never crosses a page and ends at a block boundary when one is near. Its text is what the
embedder, BM25 and the reader see; table rows are written as "Header: value" pairs so a question
about "Total" finds the row whose header says so. `spans` maps characters of that text back to the
page's word indices (reading order), which is how extractive readers and grounding find boxes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aitk.docqa.config import ChunkConfig
from aitk.docqa.document import Block, Document, Page, Word


@dataclass
class Chunk:
    document: int  # index into the list of documents being asked
    page: int  # 1-based page number
    start: int  # first word, index into Page.words
    end: int  # one past the last word
    text: str
    spans: list[tuple[int, int, int]] = field(default_factory=list)  # (char start, char end, word index)


def chunk_document(doc: Document, doc_index: int = 0, config: ChunkConfig = ChunkConfig()) -> list[Chunk]:
    return [c for page in doc.pages for c in chunk_page(page, doc_index, config)]


def chunk_page(page: Page, doc_index: int = 0, config: ChunkConfig = ChunkConfig()) -> list[Chunk]:
    """Windows of about `config.words` words with `config.overlap` words of overlap,
    cut at block ends where possible.
    """
    starts = _block_starts(page.blocks)
    total = starts[-1]
    if total == 0:
        return []
    size, overlap = max(1, config.words), min(max(0, config.overlap), max(0, config.words - 1))
    rendered = _render_words(page.blocks)
    chunks, start = [], 0
    while start < total:
        end = min(total, start + size)
        if end < total:
            # Prefer a block end in the last half of the window, so a chunk holds whole paragraphs/rows.
            ends = [s for s in starts if start + size // 2 <= s < end]
            end = ends[-1] if ends else end
        chunks.append(_make_chunk(page, doc_index, start, end, rendered))
        if end >= total:
            break
        start = max(end - overlap, start + 1)
    return chunks


def _block_starts(blocks: list[Block]) -> list[int]:
    """Word index where each block starts, plus the total word count at the end."""
    out, n = [], 0
    for block in blocks:
        out.append(n)
        n += len(block.words)
    out.append(n)
    return out


def _render_words(blocks: list[Block]) -> list[tuple[str, str]]:
    """Per word of the page: (prefix, text). Table cells after the first go on lines of their own,
    prefixed with the row's label and their column header ("East Q2: 160"): a small LM reads a
    table right that way, and not from a grid of bare numbers."""
    out: list[tuple[str, str]] = []
    header: list[list[Word]] | None = None
    for block in blocks:
        if block.kind != "table-row":
            header = None  # a table ends where other text starts
            out.extend(("", w.text) for w in block.words)
            continue
        cells = table_cells(block.words)
        if is_header(cells):  # a header row may start mid-table (line items under key-value fields)
            header = cells
            out.extend(("", w.text) for w in block.words)
            continue
        label = " ".join(w.text for w in cells[0][:3])  # the row's name, cut short: it is repeated per cell
        keyed = label.endswith(":")  # "Total due: EUR 270.60" already says what the value is
        by_id = {id(w): i for i, cell in enumerate(cells) for w in cell}
        for w in block.words:  # keep reading order; cells are contiguous runs of it
            i = by_id[id(w)]
            name = _header_for(cells[i], header) if header and not keyed and i > 0 and cells[i][0] is w else ""
            out.append((f"\n{label} {name}: " if name else "", w.text))
    return out


def is_header(cells: list[list[Word]]) -> bool:
    """A header row names columns: two or more cells, none a number or a code, none a "Label:" field."""
    if len(cells) < 2:
        return False
    for cell in cells:
        text = " ".join(w.text for w in cell)
        if text.rstrip().endswith(":") or sum(ch.isdigit() for ch in text) >= 3:
            return False
        if text.replace(".", "").replace(",", "").isdigit():
            return False
    return True


def table_cells(words: list[Word]) -> list[list[Word]]:
    """Split one row's words (left to right) into cells where the gap is wider than about two characters."""
    cells: list[list[Word]] = []
    for w in sorted(words, key=lambda w: w.box[0]):
        if cells:
            prev = cells[-1][-1]
            char = max((prev.box[2] - prev.box[0]) / max(1, len(prev.text)), 1e-6)
            if w.box[0] - prev.box[2] <= 2.0 * char:
                cells[-1].append(w)
                continue
        cells.append([w])
    return cells


def _header_for(cell: list[Word], header: list[list[Word]]) -> str:
    """The header cell overlapping this cell most horizontally (nearest centre when none overlaps)."""
    x0, x1 = min(w.box[0] for w in cell), max(w.box[2] for w in cell)
    best, best_key = "", None
    for h in header:
        h0, h1 = min(w.box[0] for w in h), max(w.box[2] for w in h)
        overlap = min(x1, h1) - max(x0, h0)
        key = (overlap > 0, overlap if overlap > 0 else -abs((x0 + x1) - (h0 + h1)))
        if best_key is None or key > best_key:
            best, best_key = " ".join(w.text for w in h), key
    same = " ".join(w.text for w in cell) == best
    return "" if same else best


def _make_chunk(page: Page, doc_index: int, start: int, end: int, rendered: list[tuple[str, str]]) -> Chunk:
    starts = set(_block_starts(page.blocks))
    parts, spans, pos = [], [], 0
    for i in range(start, end):
        prefix, text = rendered[i]
        sep = "" if i == start else ("\n" if i in starts else ("" if prefix.startswith("\n") else " "))
        piece = sep + prefix
        parts.append(piece + text)
        spans.append((pos + len(piece), pos + len(piece) + len(text), i))
        pos += len(piece) + len(text)
    return Chunk(doc_index, page.number, start, end, "".join(parts), spans)


def merge_chunks(chunks: list[Chunk], docs: list[Document]) -> list[Chunk]:
    """Chunks of one page that overlap or touch become one (re-rendered), so a reader never sees a
    passage twice; order of first appearance is kept."""
    out: list[Chunk] = []
    for chunk in chunks:
        for i, kept in enumerate(out):
            if (
                (kept.document, kept.page) == (chunk.document, chunk.page)
                and chunk.start <= kept.end
                and kept.start <= chunk.end
            ):
                page = next(p for p in docs[chunk.document].pages if p.number == chunk.page)
                out[i] = _make_chunk(
                    page,
                    chunk.document,
                    min(kept.start, chunk.start),
                    max(kept.end, chunk.end),
                    _render_words(page.blocks),
                )
                break
        else:
            out.append(chunk)
    return out


def words_in_span(chunk: Chunk, char_start: int, char_end: int) -> tuple[int, int] | None:
    """Page word range [first, last+1) covered by characters [char_start, char_end) of the chunk text."""
    hit = [w for s, e, w in chunk.spans if s < char_end and e > char_start]
    return (min(hit), max(hit) + 1) if hit else None
