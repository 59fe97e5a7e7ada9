"""Extraction: PDF text layers with boxes, text files, bad files, the content-hash cache, page images."""

from __future__ import annotations

import shutil
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest

from aitk.docqa import extract, extract_cache
from aitk.docqa.config import ExtractConfig
from aitk.docqa.extract import is_document_path, load_document, render_page
from aitk.engine.errors import MediaError, UsageError
from tests.docqa import make_docs


def find_word(doc, text: str, page: int | None = None):
    for p in doc.pages:
        for w in p.words:
            if w.text == text and page in (None, p.number):
                return p, w
    raise AssertionError(f"{text!r} not found in {doc.path}")


def contains(outer, inner, tol: float = 0.5) -> bool:
    return (
        outer[0] <= inner[0] + tol
        and outer[1] <= inner[1] + tol
        and outer[2] >= inner[2] - tol
        and outer[3] >= inner[3] - tol
    )


# ---- PDF text layer ---------------------------------------------------------------------------


def test_invoice_words_and_boxes_match_what_was_drawn(invoice_pdf):
    doc = load_document(invoice_pdf.path, cache=False)
    assert (doc.kind, len(doc.pages), doc.warnings) == ("pdf", 1, [])
    page = doc.pages[0]
    assert page.source == "text-layer"
    assert (round(page.width, 1), round(page.height, 1)) == (595.3, 841.9)
    for qa in invoice_pdf.qa:
        if qa.answer is None:
            continue
        first = qa.answer.split()[0]
        _, word = find_word(doc, first)
        truth = qa.box
        # The word's box holds the drawn glyphs and is no more than a line taller than them.
        assert contains(word.box, (truth[0], truth[1], word.box[2], truth[3])), (qa.answer, word.box, truth)
        assert abs(word.box[0] - truth[0]) < 1.0
        assert word.box[3] - word.box[1] < 1.4 * (truth[3] - truth[1])
    _, number = find_word(doc, "INV-2024-0871")
    assert number.box[2] == pytest.approx(invoice_pdf.qa[0].box[2], abs=1.0)


def test_multipage_pdf_numbers_pages_and_finds_page_three(multipage_pdf):
    doc = load_document(multipage_pdf.path, cache=False)
    assert [p.number for p in doc.pages] == [1, 2, 3, 4]
    assert [p.blocks[0].text for p in doc.pages] == [
        f"Chapter {n}: {t}" for n, (t, _) in enumerate(make_docs._CHAPTERS, 1)
    ]
    page, word = find_word(doc, "38")
    assert page.number == 3 and "locker 38" in page.text
    truth = next(q for q in multipage_pdf.qa if q.answer == "locker 38").box
    assert word.box[2] == pytest.approx(truth[2], abs=1.0)


def test_empty_page_is_a_warning_not_an_error(blank_page_pdf, monkeypatch):
    import aitk.docqa.ocr as ocr

    calls = []
    monkeypatch.setattr(ocr, "engine", lambda: calls.append(1))  # a blank page must not reach the models
    doc = load_document(blank_page_pdf.path, cache=False)
    assert [len(p.blocks) > 0 for p in doc.pages] == [True, False, True]
    assert doc.warnings == ["page 2 is empty"]
    assert "REF-333" in doc.pages[2].text and calls == []


def test_rotated_page_boxes_follow_the_rendered_page(invoice_pdf, tmp_path):
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(invoice_pdf.path))
    pdf[0].set_rotation(90)
    rotated = tmp_path / "rotated.pdf"
    pdf.save(str(rotated))
    pdf.close()
    doc = load_document(rotated, cache=False)
    page = doc.pages[0]
    assert page.width > page.height  # displayed in landscape
    _, word = find_word(doc, "INV-2024-0871")
    image, scale = render_page(rotated, 1)
    assert ink(image, word.box, scale) > 0.05
    assert ink(image, (page.width - 60, 10, page.width - 10, 60), scale) < 0.01  # no text in that corner


def ink(image, box, scale) -> float:
    """Share of dark pixels inside `box` (page units) on the rendered `image`."""
    x0, y0, x1, y1 = (int(round(v * scale)) for v in box)
    grey = np.asarray(image.convert("L"))[y0:y1, x0:x1]
    return float((grey < 128).mean()) if grey.size else 0.0


def test_render_page_scales_boxes_onto_pixels(invoice_pdf, scanned_png, notes_txt):
    doc = load_document(invoice_pdf.path, cache=False)
    image, scale = render_page(invoice_pdf.path, 1, width_px=600)
    assert image.mode == "RGB" and image.width == 600 and scale == pytest.approx(600 / doc.pages[0].width)
    _, word = find_word(doc, "INV-2024-0871")
    assert ink(image, word.box, scale) > 0.05
    assert ink(image, (300, 600, 500, 780), scale) == 0.0  # blank lower half of the page
    picture, one = render_page(scanned_png.path, 1)
    assert one == 1.0 and picture.size == (1241, 1754)
    with pytest.raises(MediaError, match="no page 2"):
        render_page(invoice_pdf.path, 2)
    with pytest.raises(MediaError, match="text file"):
        render_page(notes_txt.path, 1)


def test_ocr_never_leaves_a_scanned_page_empty_with_a_warning(scanned_pdf):
    doc = load_document(scanned_pdf.path, ExtractConfig(ocr="never"), cache=False)
    assert doc.pages[0].blocks == []
    assert doc.warnings == ["page 1 has no text layer (turn OCR on to read it)"]


# ---- text files -------------------------------------------------------------------------------


def test_text_file_pages_split_at_form_feeds(notes_txt):
    doc = load_document(notes_txt.path, cache=False)
    assert (doc.kind, [p.number for p in doc.pages]) == ("text", [1, 2])
    assert [p.source for p in doc.pages] == ["text", "text"]
    assert "The wifi password is harbor-lights-42." in doc.pages[0].text
    assert doc.pages[1].blocks[1].text == "The next meeting is on 9 June in room B4. Anna will send the minutes."


def test_markdown_headings_become_titles(handbook_md, tmp_path):
    doc = load_document(handbook_md.path, cache=False)
    blocks = doc.pages[0].blocks
    assert [(b.kind, b.text) for b in blocks if b.kind == "title"] == [
        ("title", "Office handbook"),
        ("title", "Opening hours"),
        ("title", "Parking"),
    ]
    assert blocks[-1].text == "Visitors park in bay 12, next to the loading dock. Staff park on the upper deck."
    other = tmp_path / "other.md"
    other.write_text(
        "| Item | Price |\n|---|---|\n| tea | 2.50 |\n\n---\n- **Tea** is [cheap](https://x.org) `today`\n- coffee\n"
    )
    assert [(b.kind, b.text) for b in load_document(other, cache=False).pages[0].blocks] == [
        ("table-row", "Item Price"),
        ("table-row", "tea 2.50"),
        ("text", "Tea is cheap today coffee"),
    ]


def test_latin1_text_is_read_with_a_warning(tmp_path):
    path = tmp_path / "old.txt"
    path.write_bytes("Caf\xe9 au lait costs 3 euros.".encode("latin-1"))
    doc = load_document(path, cache=False)
    assert doc.pages[0].text == "Café au lait costs 3 euros."
    assert doc.warnings == ["not UTF-8: read as Latin-1"]


# ---- bad input --------------------------------------------------------------------------------


def bad_file_error(path, match: str, config=ExtractConfig()) -> str:
    with pytest.raises(MediaError, match=match) as caught:
        load_document(path, config, cache=False)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{path}: "), message  # error: PATH: what (fix)
    return message


def test_encrypted_pdf_says_decrypt_first(encrypted_pdf):
    assert "qpdf --decrypt" in bad_file_error(encrypted_pdf, "encrypted")


def test_corrupt_and_empty_pdfs(corrupt_pdf, tmp_path):
    bad_file_error(corrupt_pdf, "corrupt or truncated")
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    bad_file_error(empty, "corrupt or truncated")
    garbage = tmp_path / "random.pdf"
    garbage.write_bytes(np.random.default_rng(0).bytes(4000))
    bad_file_error(garbage, "corrupt or truncated")


def test_missing_folder_and_unsupported_files(tmp_path):
    bad_file_error(tmp_path / "nope.pdf", "no such file")
    bad_file_error(tmp_path, "is a folder")
    docx = tmp_path / "report.docx"
    docx.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    assert "convert it to PDF" in bad_file_error(docx, "unsupported file type '.docx'")
    binary = tmp_path / "data.txt"
    binary.write_bytes(b"\x00\x01\x02 binary")
    bad_file_error(binary, "not a text file")
    broken = tmp_path / "photo.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 50)
    bad_file_error(broken, "not a readable image")


def test_unreadable_images_start_with_the_path(scanned_png, tmp_path):
    """Pillow quotes the file name in some errors ("cannot identify image file 'x.png'"): the
    message must still start with the path, and name it once."""
    text = tmp_path / "notes.png"
    text.write_text("not an image at all\n")
    noise = tmp_path / "noise.jpg"
    noise.write_bytes(np.random.default_rng(1).bytes(300))
    whole = scanned_png.path.read_bytes()
    cut = tmp_path / "cut.png"
    cut.write_bytes(whole[: len(whole) // 3])  # a copy that stopped a third of the way
    for path in (text, noise, cut):
        message = bad_file_error(path, "not a readable image")
        assert message.count(path.name) == 1 and "re-save it as PNG or JPEG" in message, message


def test_image_without_ocr_and_bad_settings(scanned_png):
    bad_file_error(scanned_png.path, "only be read with OCR", ExtractConfig(ocr="never"))
    with pytest.raises(UsageError, match="unknown OCR mode"):
        load_document(scanned_png.path, ExtractConfig(ocr="sometimes"))


def test_a_pdf_without_the_suffix_is_still_read(invoice_pdf, tmp_path):
    renamed = tmp_path / "invoice.download"
    shutil.copy(invoice_pdf.path, renamed)
    doc = load_document(renamed, cache=False)
    assert doc.kind == "pdf" and "INV-2024-0871" in doc.pages[0].text


def test_is_document_path():
    for name in [
        "a.pdf",
        "B.PDF",
        "scan.png",
        "x.jpg",
        "y.JPEG",
        "z.tif",
        "t.tiff",
        "m.bmp",
        "w.webp",
        "n.txt",
        "r.md",
        "s.markdown",
    ]:
        assert is_document_path(name), name
    for name in ["a.docx", "movie.mp4", "noext", "archive.pdf.zip"]:
        assert not is_document_path(name), name


# ---- cache ------------------------------------------------------------------------------------


@pytest.fixture
def counted(monkeypatch, tmp_path):
    """Count real extractions (cache misses) while keeping their behaviour, in an empty cache
    (other tests in the run may have cached the same documents already)."""
    monkeypatch.setenv("AITK_HOME", str(tmp_path / "aitk-home"))
    calls: list[Path] = []
    real = extract._extract

    def spy(path, *args, **kwargs):
        calls.append(Path(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(extract, "_extract", spy)
    return calls


def test_cache_hit_then_re_extract_when_the_file_changes(multipage_pdf, invoice_pdf, tmp_path, counted):
    path = tmp_path / "report.pdf"
    shutil.copy(multipage_pdf.path, path)
    first = load_document(path)
    second = load_document(path)
    assert len(counted) == 1
    assert second.as_dict() == first.as_dict()
    assert list(extract_cache.cache_dir().rglob(f"{first.sha256}-*.json"))
    shutil.copy(invoice_pdf.path, path)  # same name, new content
    changed = load_document(path)
    assert len(counted) == 2 and changed.sha256 != first.sha256 and "INV-2024-0871" in changed.pages[0].text


def test_cache_follows_content_not_name_and_settings_matter(multipage_pdf, tmp_path, counted):
    copy = tmp_path / "copy.pdf"
    shutil.copy(multipage_pdf.path, copy)
    load_document(multipage_pdf.path)
    doc = load_document(copy)
    assert doc.path == str(copy)
    misses = len(counted)
    load_document(copy, ExtractConfig(ocr_dpi=150))
    load_document(copy, cache=False)
    assert len(counted) == misses + 2


def test_a_damaged_cache_entry_is_rebuilt(notes_txt, counted):
    doc = load_document(notes_txt.path)
    key = extract_cache.cache_key("text", asdict(ExtractConfig()))
    entry = extract_cache.cache_path(doc.sha256, key)
    assert entry.exists()
    entry.write_text("{ not json")
    before = len(counted)
    again = load_document(notes_txt.path)
    assert len(counted) == before + 1 and again.pages[1].text == doc.pages[1].text
