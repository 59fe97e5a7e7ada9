"""Locate an answer in the document's own words: page, box and the sentence around it. Pure.

Matching is on normalised words (case, punctuation, digit separators: "$1,234.00" == "1234.00"),
with the spaces between words ignored (OCR may split "INV-0042" into pieces); it must start at a
word start and end at a word end. Search order: the chunk the reader read, its page, the whole
document. A strict fuzzy match (ratio >= 0.85, answers of 5+ characters, over a same-length word
window) covers OCR typos.
Nothing found: the answer is not grounded and must be reported as such.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from aitk.docqa.document import Box, Document, Page, union_box

FUZZY_RATIO = 0.85
FUZZY_MIN_CHARS = 5  # shorter answers (codes, amounts) must match exactly: one wrong digit is another answer
_DIGIT_SEP = re.compile(r"(?<=\d)[,\s'](?=\d{3}\b)")  # 1,234 / 1 234 / 1'234 thousands separators
_KEEP = re.compile(r"[^0-9a-z.]")


def normalise(text: str) -> str:
    """Compare form of a word or phrase: lower-case letters, digits and inner dots only."""
    text = _DIGIT_SEP.sub("", text.lower())
    text = _KEEP.sub("", text)
    return text.strip(".")


@dataclass
class Grounding:
    page: int
    start: int  # page word range [start, end) in reading order
    end: int
    box: Box  # union of the matched words' boxes
    line_boxes: list[Box] = field(default_factory=list)  # one union box per text line the answer spans
    snippet: str = ""
    exact: bool = True


def locate(
    doc: Document, answer: str, page_number: int | None = None, word_range: tuple[int, int] | None = None
) -> Grounding | None:
    """Find `answer` in the chunk range, then that page, then every page of `doc`."""
    target = normalise(answer)
    if not target:
        return None
    pages = {p.number: p for p in doc.pages}
    order: list[tuple[Page, int, int]] = []
    if page_number in pages:
        page = pages[page_number]
        if word_range is not None:
            order.append((page, *word_range))
        order.append((page, 0, len(page.words)))
    order += [(p, 0, len(p.words)) for p in doc.pages if p.number != page_number]
    for page, lo, hi in order:
        hit = _exact(page, target, lo, hi)
        if hit is not None:
            return grounding(page, *hit, exact=True)
    if len(target) < FUZZY_MIN_CHARS:
        return None
    for page, lo, hi in order:
        hit = _fuzzy(page, target, lo, hi, len(answer.split()))
        if hit is not None:
            return grounding(page, *hit, exact=False)
    return None


def _exact(page: Page, target: str, lo: int, hi: int) -> tuple[int, int] | None:
    words = page.words
    norms = [normalise(w.text) for w in words[lo:hi]]
    joined, starts = "", []
    for n in norms:
        starts.append(len(joined))
        joined += n
    start_at = {s: i for i, s in enumerate(starts) if norms[i]}
    ends = {s + len(n): i for i, (s, n) in enumerate(zip(starts, norms)) if n}
    pos = joined.find(target)
    while pos >= 0:
        if pos in start_at and pos + len(target) in ends:
            return lo + start_at[pos], lo + ends[pos + len(target)] + 1
        pos = joined.find(target, pos + 1)
    return None


def _fuzzy(page: Page, target: str, lo: int, hi: int, n_words: int) -> tuple[int, int] | None:
    words = page.words[lo:hi]
    norms = [normalise(w.text) for w in words]
    best, best_ratio = None, FUZZY_RATIO
    for size in {max(1, n_words - 1), n_words, n_words + 1}:
        for i in range(0, max(0, len(words) - size) + 1):
            candidate = "".join(norms[i : i + size])
            if not candidate or abs(len(candidate) - len(target)) > max(2, len(target) // 5):
                continue
            ratio = SequenceMatcher(None, candidate, target, autojunk=False).ratio()
            if ratio >= best_ratio and (best is None or ratio > best_ratio):
                best, best_ratio = (lo + i, lo + i + size), ratio
    return best


def grounding(page: Page, start: int, end: int, exact: bool = True) -> Grounding:
    words = page.words[start:end]
    return Grounding(
        page.number, start, end, union_box(w.box for w in words), line_boxes(words), snippet(page, start, end), exact
    )


def line_boxes(words) -> list[Box]:
    """One box per line: a word starting below the previous word's vertical middle begins a new line."""
    lines: list[list] = []
    for w in words:
        if (
            lines
            and w.box[1] < (lines[-1][-1].box[1] + lines[-1][-1].box[3]) / 2
            and w.box[0] >= lines[-1][-1].box[0] - 1
        ):
            lines[-1].append(w)
        else:
            lines.append([w])
    return [union_box(x.box for x in line) for line in lines]


def snippet(page: Page, start: int, end: int, context: int = 12) -> str:
    """The answer's block(s), cut to `context` words either side of the answer."""
    n = 0
    lo, hi = start, end
    for block in page.blocks:
        b0, b1 = n, n + len(block.words)
        if b0 <= start < b1:
            lo = b0
        if b0 < end <= b1:
            hi = b1
        n = b1
    lo, hi = max(lo, start - context), min(hi, end + context)
    words = page.words
    text = " ".join(w.text for w in words[lo:hi])
    return (
        ("… " if lo > 0 and lo == start - context else "")
        + text
        + (" …" if hi < len(words) and hi == end + context else "")
    )
