"""PDFs through pypdfium2 (PDFium, bundled; no poppler): open, text-layer words, render.

All boxes are in points on the page as displayed: origin top-left, y down, the page's /Rotate and
crop box applied (PDFium's own page-to-device mapping), so text-layer words, OCR words and
rendered images of one page share one frame.
"""

from __future__ import annotations

import ctypes
from pathlib import Path

from aitk.docqa.document import Box, Word
from aitk.engine.errors import DependencyError, MediaError

# A gap wider than this many glyph heights between two characters splits a word, for PDFs that
# place words without space characters.
CHAR_GAP = 0.25
_LIGATURES = {
    "\ufb00": "ff",
    "\ufb01": "fi",
    "\ufb02": "fl",
    "\ufb03": "ffi",
    "\ufb04": "ffl",
    "\ufb05": "st",
    "\ufb06": "st",
}
_PRECISION = 100  # PDFium maps to integer device pixels: map at 100 px per point for 0.01 pt


def _pdfium():
    try:
        import pypdfium2 as pdfium
    except ImportError as exc:
        raise DependencyError("reading PDFs needs the pypdfium2 package", hint="pip install 'aitk[docqa]'") from exc
    return pdfium


def open_pdf(path: str | Path):
    """The pypdfium2 document; MediaError for encrypted, corrupt or empty files."""
    pdfium = _pdfium()
    try:
        doc = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        raise _open_error(path, exc) from exc
    if len(doc) == 0:
        doc.close()
        raise MediaError("the PDF has no pages", path=path, hint="check the file was written completely")
    return doc


def _open_error(path, exc) -> MediaError:
    import pypdfium2.raw as raw

    code = getattr(exc, "err_code", None)
    if code in (raw.FPDF_ERR_PASSWORD, raw.FPDF_ERR_SECURITY):
        return MediaError(
            "the PDF is encrypted",
            path=path,
            hint="decrypt it first, e.g. qpdf --decrypt --password=PASSWORD in.pdf out.pdf",
        )
    if code == raw.FPDF_ERR_FILE:
        return MediaError("cannot read the file", path=path, hint="check it exists and is readable")
    return MediaError("not a readable PDF (corrupt or truncated)", path=path, hint="re-download or re-export it")


def page_size(page) -> tuple[float, float]:
    """Width and height in points, as displayed (rotation applied)."""
    width, height = page.get_size()
    return float(width), float(height)


def page_words(page) -> tuple[list[Word], list[Word]]:
    """The text layer's words, with loose glyph boxes (full line height), twice, in the same order.

    First as displayed (the frame of the page's rendering), then "upright": in the page's own
    frame before its /Rotate, where lines run left to right, which is what reading order needs.
    Characters are joined into words in that upright frame too.
    """
    import pypdfium2.raw as raw

    textpage = page.get_textpage()
    try:
        left, _, _, top = page.get_bbox()
        words: list[Word] = []
        chars: list[str] = []
        box: list[float] = []  # x0, y0, x1, y1 of the word so far, upright frame
        rect = raw.FS_RECTF()
        for i in range(raw.FPDFText_CountChars(textpage)):
            code = raw.FPDFText_GetUnicode(textpage, i)
            char = chr(code) if 0 < code < 0x110000 else ""
            if not char or char.isspace() or code < 0x20 or code in (0xFFFE, 0xFFFF):
                _flush(words, chars, box)
                continue
            if not raw.FPDFText_GetLooseCharBox(textpage, i, rect):
                continue
            x0, y0, x1, y1 = rect.left - left, top - rect.top, rect.right - left, top - rect.bottom
            if chars and not _same_word(box, (x0, y0, x1, y1)):
                _flush(words, chars, box)
            chars.append(_LIGATURES.get(char, char))
            box[:] = (
                [x0, y0, x1, y1] if not box else [min(box[0], x0), min(box[1], y0), max(box[2], x1), max(box[3], y1)]
            )
        _flush(words, chars, box)
    finally:
        textpage.close()
    if page.get_rotation() % 360 == 0:
        return words, words
    to_display = _display_transform(page)
    placed = [
        Word(w.text, _transform_rect(to_display, w.box[0] + left, top - w.box[3], w.box[2] + left, top - w.box[1]))
        for w in words
    ]
    return placed, words


def upright_size(page) -> tuple[float, float]:
    """Width and height in points before the page's /Rotate."""
    width, height = page_size(page)
    return (height, width) if page.get_rotation() % 180 == 90 else (width, height)


def _same_word(word: list[float], char: Box) -> bool:
    """A character continues the word when it sits on the same line just after it."""
    height = max(word[3] - word[1], char[3] - char[1], 1e-6)
    same_line = abs((word[1] + word[3]) - (char[1] + char[3])) / 2.0 <= 0.5 * height
    return same_line and -0.5 * height <= char[0] - word[2] <= CHAR_GAP * height


def _flush(words: list[Word], chars: list[str], box: list[float]) -> None:
    if chars:
        words.append(Word("".join(chars), (box[0], box[1], box[2], box[3])))
    chars.clear()
    box.clear()


def _display_transform(page) -> tuple[float, float, float, float, float, float]:
    """(a, b, c, d, e, f) with display x = a*x + c*y + e, y = b*x + d*y + f, from PDF user space."""
    import pypdfium2.raw as raw

    width, height = page_size(page)
    w, h = int(round(width * _PRECISION)), int(round(height * _PRECISION))

    def device(x: float, y: float) -> tuple[float, float]:
        dx, dy = ctypes.c_int(), ctypes.c_int()
        raw.FPDF_PageToDevice(page, 0, 0, w, h, 0, x, y, dx, dy)
        return dx.value / _PRECISION, dy.value / _PRECISION

    ox, oy = device(0.0, 0.0)
    ux, uy = device(1000.0, 0.0)
    vx, vy = device(0.0, 1000.0)
    return ((ux - ox) / 1000.0, (uy - oy) / 1000.0, (vx - ox) / 1000.0, (vy - oy) / 1000.0, ox, oy)


def _transform_rect(t, left: float, bottom: float, right: float, top: float) -> Box:
    a, b, c, d, e, f = t
    xs, ys = [], []
    for x, y in ((left, bottom), (right, top)):
        xs.append(a * x + c * y + e)
        ys.append(b * x + d * y + f)
    return (min(xs), min(ys), max(xs), max(ys))


def render(page, scale: float):
    """The page as an RGB PIL image, `scale` pixels per point."""
    return page.render(scale=scale).to_pil().convert("RGB")
