"""Draw answer boxes on rendered pages: DIR/<doc-stem>-p<page>-q<n>.png, written atomically."""

from __future__ import annotations

from pathlib import Path

from aitk.engine.fileio import atomic_open

COLOUR = (220, 30, 30)


def annotate(answer, question_number: int, out_dir: Path) -> Path | None:
    """Render the answer's page with its box (one rectangle per line); None when it has no box."""
    if answer.box is None or answer.page is None or answer.document is None:
        return None
    from PIL import ImageDraw

    from aitk.docqa.extract import render_page

    image, scale = render_page(answer.document, answer.page)  # scale: page units -> image pixels
    draw = ImageDraw.Draw(image)
    width = max(2, round(image.width / 400))
    for box in answer.line_boxes or [answer.box]:
        x0, y0, x1, y1 = (v * scale for v in box)
        draw.rectangle((x0 - width, y0 - width, x1 + width, y1 + width), outline=COLOUR, width=width)
    target = out_dir / f"{Path(answer.document).stem}-p{answer.page}-q{question_number}.png"
    with atomic_open(target, "wb", encoding=None) as handle:
        image.save(handle, format="PNG")
    return target
