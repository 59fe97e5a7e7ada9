"""Draw answer boxes on rendered pages: DIR/<name>-p<page>-q<n>.png, written atomically.

<name> is the document's file stem, unless another document of the run has the same stem: then
as many parent folders as tell them apart come first (a/report.pdf, b/report.pdf -> a-report,
b-report), so one document's image never overwrites another's and a rerun gives the same names.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from pathlib import Path

from aitk.engine.fileio import atomic_open

COLOUR = (220, 30, 30)


def annotation_names(documents: list[str]) -> dict[str, str]:
    """Document path (as given) -> a file-name stem unique among `documents`."""
    parts = {d: Path(d).resolve().parts[1:] for d in dict.fromkeys(documents)}  # without the root
    names = _tell_apart(parts, lambda p: Path(p[-1]).stem, dict.fromkeys(parts, ""))
    # Same folders, same stem (scan.pdf and scan.png side by side): the whole file name tells them apart.
    clashing = {d: parts[d] for d, n in names.items() if Counter(names.values())[n] > 1}
    names.update(_tell_apart(clashing, lambda p: p[-1], names))
    count = Counter(names.values())
    return {
        d: n if count[n] == 1 else f"{n}-{hashlib.sha256('/'.join(parts[d]).encode()).hexdigest()[:8]}"
        for d, n in names.items()
    }


def _tell_apart(parts: dict[str, tuple[str, ...]], base, taken: dict[str, str]) -> dict[str, str]:
    """Prefix each `base` name with parent folders, one more at a time for the names that still clash
    with another's (in `parts` or already `taken` by a document outside them)."""
    depth = dict.fromkeys(parts, 0)

    def name(d: str) -> str:
        p = parts[d]
        return "-".join([*p[len(p) - 1 - depth[d] : -1], base(p)])

    while True:
        names = {d: name(d) for d in parts}
        count = Counter(list(names.values()) + [n for d, n in taken.items() if d not in parts and n])
        grow = [d for d in parts if count[names[d]] > 1 and depth[d] < len(parts[d]) - 1]
        if not grow:
            return names
        for d in grow:
            depth[d] += 1


def annotate_result(result, question_number: int, out_dir: Path, names: dict[str, str]) -> list[Path]:
    """One image per page holding answers of this question, each answer's box drawn (one rectangle
    per line); answers without a box draw nothing. Returns the images written."""
    pages: dict[tuple[str, int], list] = defaultdict(list)
    for answer in result.answers:
        if answer.box is not None and answer.page is not None and answer.document is not None:
            pages[(answer.document, answer.page)].append(answer)
    written = []
    for (document, page), answers in pages.items():
        name = names.get(document) or Path(document).stem
        written.append(_draw(document, page, answers, out_dir / f"{name}-p{page}-q{question_number}.png"))
    return written


def _draw(document: str, page: int, answers: list, target: Path) -> Path:
    from PIL import ImageDraw

    from aitk.docqa.extract import render_page

    image, scale = render_page(document, page)  # scale: page units -> image pixels
    draw = ImageDraw.Draw(image)
    width = max(2, round(image.width / 400))
    for answer in answers:
        for box in answer.line_boxes or [answer.box]:
            x0, y0, x1, y1 = (v * scale for v in box)
            draw.rectangle((x0 - width, y0 - width, x1 + width, y1 + width), outline=COLOUR, width=width)
    with atomic_open(target, "wb", encoding=None) as handle:
        image.save(handle, format="PNG")
    return target
