"""OCR with rapidocr: skew geometry (pure), then real scans of the generated invoice."""

from __future__ import annotations

import math

import numpy as np
import pytest

from aitk.docqa import ocr
from aitk.docqa.config import ExtractConfig
from aitk.docqa.extract import load_document
from aitk.docqa.layout import naive_order
from aitk.docqa.ocr import is_blank, ocr_image, rotate_points, skew_angle, split_line_quad
from tests.docqa import make_docs


def iou(a, b) -> float:
    inter = max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    area = lambda r: (r[2] - r[0]) * (r[3] - r[1])  # noqa: E731
    return inter / (area(a) + area(b) - inter)


def quad(x0, y0, x1, y1) -> np.ndarray:
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=float)


# ---- pure geometry ----------------------------------------------------------------------------


def test_skew_angle_of_turned_lines():
    centre = (500.0, 500.0)
    lines = [rotate_points(quad(100, 100 + 40 * i, 700, 130 + 40 * i), 2.0, centre) for i in range(5)]
    short = rotate_points(quad(100, 400, 120, 430), 30.0, centre)  # a short box does not vote
    assert skew_angle(lines + [short]) == pytest.approx(2.0, abs=1e-6)
    assert skew_angle([quad(0, 0, 500, 20)]) == 0.0
    assert skew_angle([]) == 0.0


def test_rotate_points_turns_counter_clockwise_on_screen_and_back():
    point = np.array([[110.0, 100.0]])
    turned = rotate_points(point, 90.0, (100.0, 100.0))
    assert turned == pytest.approx(np.array([[100.0, 90.0]]))  # right of centre -> above it (y down)
    assert rotate_points(turned, -90.0, (100.0, 100.0)) == pytest.approx(point)


def test_split_line_quad_shares_width_by_characters():
    parts = split_line_quad("ab  cdef", quad(0, 0, 80, 10))
    assert [t for t, _ in parts] == ["ab", "cdef"]
    assert parts[0][1][:, 0].min() == pytest.approx(0) and parts[0][1][:, 0].max() == pytest.approx(20)
    assert parts[1][1][:, 0].min() == pytest.approx(40) and parts[1][1][:, 0].max() == pytest.approx(80)


def test_blank_images_skip_the_models():
    from PIL import Image

    assert is_blank(Image.new("RGB", (400, 300), "white"))
    page = Image.new("L", (400, 300), 255)
    page.paste(0, (50, 50, 200, 60))
    assert not is_blank(page)
    result = ocr_image(Image.new("RGB", (400, 300), "white"))
    assert result.words == [] and result.angle == 0.0


# ---- real OCR (rapidocr's bundled models) -----------------------------------------------------


def near(box, truth) -> bool:
    """Same place: IoU >= 0.5, or centres within half the true height (OCR boxes are looser)."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    tx, ty = (truth[0] + truth[2]) / 2, (truth[1] + truth[3]) / 2
    return iou(box, truth) >= 0.5 or math.hypot(cx - tx, cy - ty) <= 0.5 * (truth[3] - truth[1])


def answer_box(page, answer: str):
    """Union box of the consecutive words (reading order) that spell `answer` (sentence punctuation aside)."""
    words = page.words
    n = len(answer.split())
    for i in range(len(words) - n + 1):
        if " ".join(w.text for w in words[i : i + n]).rstrip(".,;") == answer:
            chosen = words[i : i + n]
            return (
                min(w.box[0] for w in chosen),
                min(w.box[1] for w in chosen),
                max(w.box[2] for w in chosen),
                max(w.box[3] for w in chosen),
            )
    raise AssertionError(f"{answer!r} not read; page text: {page.text!r}")


@pytest.fixture
def ocr_results(monkeypatch) -> list:
    """What each real OCR call during a test returned (to check the skew without a second run)."""
    results = []

    def spy(image):
        results.append(real(image))
        return results[-1]

    real = ocr.ocr_image
    monkeypatch.setattr(ocr, "ocr_image", spy)
    return results


@pytest.mark.slow
def test_ocr_reads_the_turned_scan_exactly_with_boxes_on_the_image(scanned_png, ocr_results):
    doc = load_document(scanned_png.path, cache=False)
    assert len(ocr_results) == 1 and ocr_results[0].angle == pytest.approx(2.0, abs=0.5)
    page = doc.pages[0]
    assert (doc.kind, page.source, page.width, page.height) == ("image", "ocr", 1241.0, 1754.0)
    for qa in scanned_png.qa:
        if qa.answer is not None:
            assert near(answer_box(page, qa.answer), qa.box), qa.answer
    rows = [b.text for b in page.blocks if b.kind == "table-row"]
    assert "Invoice number: INV-2024-0871" in rows and "Total due: EUR 270.60" in rows
    assert all(0.5 <= w.confidence <= 1.0 for w in page.words)


@pytest.mark.slow
def test_turned_two_column_scan_keeps_each_column_together(scanned_two_column_png, ocr_results):
    page = load_document(scanned_two_column_png.path, cache=False).pages[0]
    assert ocr_results[0].angle == pytest.approx(-2.5, abs=0.5)
    assert [b.text for b in page.blocks] == [
        "Field Notes from the Northern Station",
        " ".join(make_docs._LEFT),
        " ".join(make_docs._RIGHT),
        "Page 1",
    ]
    for qa in scanned_two_column_png.qa:
        if qa.answer is not None:
            assert near(answer_box(page, qa.answer), qa.box), qa.answer
    # Without deskewing, rows on the tilted page run into each other.
    assert make_docs.LAUNCH_SENTENCE not in " ".join(w.text for w in naive_order(ocr_results[0].words))


@pytest.mark.slow
def test_scanned_pdf_is_ocred_with_boxes_in_points(scanned_pdf):
    doc = load_document(scanned_pdf.path, cache=False)
    page = doc.pages[0]
    assert (page.source, round(page.width), round(page.height)) == ("ocr", 595, 842)
    for qa in scanned_pdf.qa:
        if qa.answer is not None:
            assert near(answer_box(page, qa.answer), qa.box), qa.answer
    assert page.blocks[0].text == "INVOICE" and page.blocks[0].kind == "title"
    assert doc.warnings == []


@pytest.mark.slow
def test_ocr_always_reads_a_text_pdf_like_its_text_layer(invoice_pdf):
    text = load_document(invoice_pdf.path, cache=False).pages[0]
    ocr = load_document(invoice_pdf.path, ExtractConfig(ocr="always"), cache=False).pages[0]
    assert ocr.source == "ocr"
    for answer in ("INV-2024-0871", "EUR 270.60", "15 March 2024"):
        assert near(answer_box(ocr, answer), answer_box(text, answer)), answer
    assert [b.kind for b in ocr.blocks] == [b.kind for b in text.blocks]


def test_each_tiff_frame_is_a_page(two_page_tiff):
    doc = load_document(two_page_tiff.path, cache=False)
    assert [(p.number, p.source) for p in doc.pages] == [(1, "ocr"), (2, "ocr")]
    assert doc.pages[0].text == "Delivery note for the Leith warehouse."
    qa = two_page_tiff.qa[0]
    page = doc.pages[qa.page - 1]
    assert qa.page == 2 and near(answer_box(page, qa.answer), qa.box)
