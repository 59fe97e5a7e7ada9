"""Reading order for one page of words: lines, columns (recursive XY-cut), tables and titles.

Pure geometry over word boxes (top-left origin, any units). OCR and PDF text layers give words in
an order that is wrong for multi-column pages, forms and tables; this puts them in the order a
person reads them:

1. words -> line segments: words on one line, split where the horizontal gap is wide (a column
   gutter or a table cell boundary);
2. tables: runs of >= 2 rows of several short segments whose columns line up; each table is kept
   whole and read row by row, cells left to right (the header, being on top, comes first);
3. recursive XY-cut over segments and tables: a vertical whitespace band running through the
   whole region splits it into columns (left first), unless one side is a single line level with
   the other (a "label      value" pair); else the widest horizontal band splits it, top first;
   tables are looked for again inside each region about to be cut into columns; what cannot be
   cut is read line by line;
4. blocks: consecutive lines of one column merge into paragraphs; lines in a clearly larger font
   become titles.

Every threshold is relative to line height, so the same rules serve PDF points and OCR pixels.
Known limits: vertical text, and tables whose cells hold whole sentences (read as text lines).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from aitk.docqa.document import Block, Box, Word, union_box

SEGMENT_GAP = 0.8  # a horizontal gap wider than this many line heights starts a new segment
# A row of table cells has >= 2 segments of at most MAX_CELL_WORDS words, MEAN_CELL_WORDS on average
# (a line of prose in a column is longer: that is what tells a table from columns of text).
MAX_CELL_WORDS = 6
MEAN_CELL_WORDS = 4.0
ROW_SPACING = 3.0  # table rows are at most this many row heights apart
PARAGRAPH_GAP = 0.6  # lines closer than this many line heights (vertically) share a paragraph
TITLE_RATIO = 1.3  # a line this many times taller than the page's body text is a title
TITLE_MAX_WORDS = 20
CORE = 0.2  # fraction of a box's height trimmed at top and bottom before looking for row gaps


@dataclass
class _Segment:
    """Words on one line with no wide gap between them, left to right."""

    words: list[Word]
    box: Box = field(init=False)

    def __post_init__(self):
        self.box = union_box(w.box for w in self.words)


@dataclass
class _Table:
    rows: list[list[_Segment]]  # top to bottom; cells left to right
    box: Box = field(init=False)

    def __post_init__(self):
        self.box = union_box(s.box for row in self.rows for s in row)


_Unit = _Segment | _Table


def reading_order(words: list[Word], page_width: float, page_height: float) -> list[Block]:
    """Group a page's words into blocks in reading order (see the module docstring).

    Words with all-zero boxes (text files) come back as one block in the given order. The page
    size is part of the interface for callers; the rules themselves only compare words.
    """
    words = [w for w in words if w.text.strip()]
    if not words:
        return []
    if all(_height(w.box) <= 0 for w in words):  # no geometry (text files): keep the given order
        return [Block("text", list(words))]
    segments = [s for line in _rows(words, lambda w: w.box) for s in _split_line(line)]
    leaves = _xy_cut(_find_tables(segments))
    body = statistics.median(_height(w.box) for w in words)
    return _blocks([line for leaf in leaves for line in _leaf_lines(leaf)], body)


def naive_order(words: list[Word]) -> list[Word]:
    """Top to bottom, then left to right, ignoring columns: what plain OCR output gives."""
    return [w for row in _rows(words, lambda w: w.box) for w in sorted(row, key=lambda w: w.box[0])]


# ---- geometry ----------------------------------------------------------------------------------


def _height(box: Box) -> float:
    return box[3] - box[1]


def _centre_y(box: Box) -> float:
    return (box[1] + box[3]) / 2.0


def _rows(items: list, box_of) -> list[list]:
    """Cluster items into rows, top to bottom, by their vertical centres (one row per text line)."""
    rows: list[tuple[list[float], list]] = []  # ([centre y, height], members)
    for item in sorted(items, key=lambda i: (_centre_y(box_of(i)), box_of(i)[0])):
        cy, h = _centre_y(box_of(item)), _height(box_of(item))
        row = next((r for r in _recent(rows, cy, h) if abs(cy - r[0][0]) <= 0.5 * min(h, r[0][1])), None)
        if row is None:
            rows.append(([cy, h], [item]))
            continue
        band, members = row
        members.append(item)
        band[0] += (cy - band[0]) / len(members)  # running mean centre and height
        band[1] += (h - band[1]) / len(members)
    rows.sort(key=lambda r: r[0][0])
    return [members for _, members in rows]


def _recent(rows: list, cy: float, h: float):
    """Rows, newest first, whose centre could still be on the line at `cy` (rows come sorted by centre)."""
    for row in reversed(rows):
        if row[0][0] < cy - 2.0 * max(h, row[0][1]):
            return
        yield row


def _split_line(line: list[Word]) -> list[_Segment]:
    """One line's words, left to right, cut wherever the gap exceeds SEGMENT_GAP line heights."""
    line = sorted(line, key=lambda w: w.box[0])
    limit = SEGMENT_GAP * statistics.median(_height(w.box) for w in line)
    segments, current = [], [line[0]]
    for word in line[1:]:
        if word.box[0] - max(w.box[2] for w in current) > limit:
            segments.append(_Segment(current))
            current = []
        current.append(word)
    segments.append(_Segment(current))
    return segments


def _gaps(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Empty intervals between the union of `spans`, in order."""
    spans = sorted(spans)
    gaps, reach = [], spans[0][1]
    for start, end in spans[1:]:
        if start > reach:
            gaps.append((reach, start))
        reach = max(reach, end)
    return gaps


# ---- tables ------------------------------------------------------------------------------------


def _is_cell_row(row: list[_Segment]) -> bool:
    counts = [len(s.words) for s in row]
    return len(row) >= 2 and max(counts) <= MAX_CELL_WORDS and sum(counts) / len(counts) <= MEAN_CELL_WORDS


def _aligned(upper: list[_Segment], lower: list[_Segment]) -> bool:
    """At least two cells of `lower` sit under distinct cells of `upper` (their x ranges overlap)."""
    used, matches = set(), 0
    for cell in lower:
        for i, above in enumerate(upper):
            if i not in used and min(cell.box[2], above.box[2]) > max(cell.box[0], above.box[0]):
                used.add(i)
                matches += 1
                break
    return matches >= 2


def _find_tables(segments: list[_Segment]) -> list[_Unit]:
    """Replace runs of aligned cell rows by _Table units; other segments pass through."""
    units: list[_Unit] = []
    run: list[list[_Segment]] = []

    def close_run():
        if len(run) >= 2:
            units.append(_Table([sorted(r, key=lambda s: s.box[0]) for r in run]))
        else:
            units.extend(s for r in run for s in r)
        run.clear()

    for row in _rows(segments, lambda s: s.box):
        if _is_cell_row(row) and run:
            spacing = min(s.box[1] for s in row) - max(s.box[3] for s in run[-1])
            height = statistics.median(_height(s.box) for s in row)
            if _aligned(run[-1], row) and spacing <= ROW_SPACING * height:
                run.append(row)
                continue
        close_run()
        if _is_cell_row(row):
            run.append(row)
        else:
            units.extend(row)
    close_run()
    return units


# ---- XY-cut ------------------------------------------------------------------------------------


def _xy_cut(units: list[_Unit]) -> list[list[_Unit]]:
    """Regions of units in reading order (an explicit stack: a long page makes deep cuts)."""
    leaves, stack = [], [units]
    while stack:
        parts = _split(stack.pop())
        if len(parts) == 1:
            leaves.append(parts[0])
        else:
            stack.extend(reversed(parts))
    return [leaf for leaf in leaves if leaf]


def _split(units: list[_Unit]) -> list[list[_Unit]]:
    """One XY-cut of a region: left/right at a column gutter if there is one, else top/bottom at
    the widest row gap; the region alone (its tables found) when it cannot be cut."""
    if len(units) <= 1:
        return [units]
    columns = _gutters(units)
    segments = [u for u in units if isinstance(u, _Segment)]
    if columns and len(segments) >= 4:
        # Before cutting columns, look for tables again in this region (a column may hold one
        # that prose beside it hid from the page-wide search); a table's own gaps are no gutters.
        tables: list[_Unit] = [u for u in units if isinstance(u, _Table)]
        units = tables + _find_tables(segments)
        columns = _gutters(units)
    for cut in sorted(columns, key=lambda g: g[0] - g[1]):  # widest first
        x = (cut[0] + cut[1]) / 2.0
        left, right = [u for u in units if u.box[2] <= x], [u for u in units if u.box[0] >= x]
        if not (_lone_row_beside(left, right) or _lone_row_beside(right, left)):
            return [left, right]
    rows = _gaps([_core(u.box) for u in units])
    if rows:
        cut = max(rows, key=lambda g: g[1] - g[0])  # ties: the topmost
        y = (cut[0] + cut[1]) / 2.0
        return [[u for u in units if _centre_y(u.box) < y], [u for u in units if _centre_y(u.box) >= y]]
    return [units]


def _gutters(units: list[_Unit]) -> list[tuple[float, float]]:
    """Vertical whitespace bands through the whole region, wider than a word space could be."""
    heights = [_height(u.box) for u in units if isinstance(u, _Segment)] or [_height(units[0].box)]
    min_gutter = SEGMENT_GAP * statistics.median(heights)
    return [g for g in _gaps([(u.box[0], u.box[2]) for u in units]) if g[1] - g[0] > min_gutter]


def _lone_row_beside(side: list[_Unit], other: list[_Unit]) -> bool:
    """True when `side` is one line level with a line of `other`: a "label   value" pair, not a column."""
    top, bottom = min(u.box[1] for u in side), max(u.box[3] for u in side)
    centre, height = (top + bottom) / 2.0, bottom - top
    if len(side) > 1 and len(_rows(side, lambda u: u.box)) > 1:
        return False
    return any(
        abs(_centre_y(u.box) - centre) <= 0.5 * max(height, _height(u.box)) for u in other if isinstance(u, _Segment)
    )


def _core(box: Box) -> tuple[float, float]:
    """The vertical middle of a box: loose glyph boxes of consecutive lines touch or overlap."""
    trim = CORE * _height(box)
    return (box[1] + trim, box[3] - trim)


# ---- blocks ------------------------------------------------------------------------------------


@dataclass
class _Line:
    kind: str  # "text" | "table-row"
    words: list[Word]


def _leaf_lines(leaf: list[_Unit]) -> list[_Line]:
    """A region's content as lines, top to bottom: table rows, and text segments joined per row."""
    lines: list[_Line] = []
    for row in _rows(leaf, lambda u: u.box):
        text: list[Word] = []
        for unit in sorted(row, key=lambda u: u.box[0]):
            if isinstance(unit, _Table):
                lines.extend(_Line("table-row", [w for cell in r for w in cell.words]) for r in unit.rows)
            else:
                text.extend(unit.words)
        if text:
            lines.append(_Line("text", text))
    return lines


def _blocks(lines: list[_Line], body_height: float) -> list[Block]:
    blocks: list[Block] = []
    for line in lines:
        kind = line.kind
        height = statistics.median(_height(w.box) for w in line.words)
        if kind == "text" and height >= TITLE_RATIO * body_height and len(line.words) <= TITLE_MAX_WORDS:
            kind = "title"
        if kind != "table-row" and blocks and blocks[-1].kind == kind and _continues(blocks[-1], line.words, height):
            blocks[-1].words.extend(line.words)
        else:
            blocks.append(Block(kind, list(line.words)))
    return blocks


def _continues(block: Block, words: list[Word], height: float) -> bool:
    """True when `words` continue `block`: its next line in the same column, or the rest of its last line."""
    last = union_box(w.box for w in block.words[-_tail(block.words) :])
    box = union_box(w.box for w in words)
    same_size = 0.8 <= height / max(_height(last), 1e-9) <= 1.25
    # A piece of the same line further right: an XY-cut splits a lone "label      value" line.
    if same_size and abs(_centre_y(box) - _centre_y(last)) <= 0.5 * height and box[0] >= last[2]:
        return True
    below = -0.5 * height <= box[1] - last[3] <= PARAGRAPH_GAP * height
    overlaps = min(box[2], last[2]) > max(box[0], last[0])
    return below and same_size and overlaps


def _tail(words: list[Word]) -> int:
    """How many words at the end of `words` lie on its last line."""
    last = words[-1].box
    n = 1
    while n < len(words) and abs(_centre_y(words[-n - 1].box) - _centre_y(last)) <= 0.5 * _height(last):
        n += 1
    return n
