"""--annotate: one image per document, page and question, never overwritten by a namesake document;
and the human output names each answer's document by the path given, not just its file name."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from aitk.docqa.annotate import annotate_result, annotation_names
from aitk.docqa.extract import load_document
from aitk.docqa.ground import locate
from aitk.docqa.run import Answer, QuestionResult


def test_names_are_the_stem_unless_two_documents_share_it():
    assert annotation_names(["/d/invoice.pdf", "/d/notes.txt"]) == {
        "/d/invoice.pdf": "invoice",
        "/d/notes.txt": "notes",
    }
    names = annotation_names(["/d/a/report.pdf", "/d/b/report.pdf", "/d/invoice.pdf"])
    assert names == {"/d/a/report.pdf": "a-report", "/d/b/report.pdf": "b-report", "/d/invoice.pdf": "invoice"}
    # the same folder name higher up: as many folders as tell them apart
    deep = annotation_names(["/x/a/report.pdf", "/y/a/report.pdf"])
    assert deep == {"/x/a/report.pdf": "x-a-report", "/y/a/report.pdf": "y-a-report"}
    # side by side with the same stem: the whole file name
    side = annotation_names(["/d/scan.pdf", "/d/scan.png"])
    assert side == {"/d/scan.pdf": "scan.pdf", "/d/scan.png": "scan.png"}
    # a folder-prefixed name that is also a real file's stem still comes out unique
    tricky = annotation_names(["/d/a/report.pdf", "/d/b/report.pdf", "/d/a-report.pdf"])
    assert len(set(tricky.values())) == 3, tricky


def test_names_are_stable_and_follow_the_file_not_the_spelling(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    docs = ["a/report.pdf", "b/report.pdf"]
    assert (
        annotation_names(docs)
        == annotation_names(list(reversed(docs)))
        == {"a/report.pdf": "a-report", "b/report.pdf": "b-report"}
    )
    assert annotation_names(["./a/report.pdf", str(tmp_path / "b" / "report.pdf")]) == {
        "./a/report.pdf": "a-report",
        str(tmp_path / "b" / "report.pdf"): "b-report",
    }


def grounded(path: Path, text: str) -> Answer:
    """`text` as the pipeline places it: located in the document's own words."""
    doc = load_document(path)
    g = locate(doc, text)
    assert g is not None, text
    return Answer(text, 0.9, str(path), g.page, list(g.box), "pt", g.snippet, True, [list(b) for b in g.line_boxes])


def red_pixels(png: Path) -> np.ndarray:
    from PIL import Image

    rgb = np.asarray(Image.open(png).convert("RGB")).astype(int)
    ys, xs = np.nonzero((rgb[..., 0] > 180) & (rgb[..., 1] < 80) & (rgb[..., 2] < 80))
    return np.stack([xs, ys], axis=1)


def drawn_around(png: Path, box, scale: float = 150 / 72) -> bool:
    """Some of the red pixels lie on the rectangle drawn around `box` (points, rendered at 150 dpi)."""
    red = red_pixels(png)
    x0, y0, x1, y1 = (v * scale for v in box)
    near = (red[:, 0] > x0 - 12) & (red[:, 0] < x1 + 12) & (red[:, 1] > y0 - 12) & (red[:, 1] < y1 + 12)
    return near.sum() > 20


def test_two_reports_in_two_folders_get_two_images(tmp_path, invoice_pdf, multipage_pdf):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = tmp_path / "a" / "report.pdf", tmp_path / "b" / "report.pdf"
    shutil.copy(invoice_pdf.path, first)
    shutil.copy(multipage_pdf.path, second)
    total, chapter = grounded(first, "EUR 270.60"), grounded(second, "Chapter 1")
    assert total.page == chapter.page == 1  # the same page and question: one name before the fix
    result = QuestionResult("q", [total, chapter], False)
    out = tmp_path / "boxes"
    written = annotate_result(result, 1, out, annotation_names([str(first), str(second)]))
    assert (
        sorted(p.name for p in out.iterdir())
        == ["a-report-p1-q1.png", "b-report-p1-q1.png"]
        == sorted(p.name for p in written)
    )
    assert drawn_around(out / "a-report-p1-q1.png", total.box) and not drawn_around(
        out / "a-report-p1-q1.png", chapter.box
    )
    assert drawn_around(out / "b-report-p1-q1.png", chapter.box) and not drawn_around(
        out / "b-report-p1-q1.png", total.box
    )


def test_two_answers_on_one_page_share_its_image(tmp_path, invoice_pdf):
    total, number = grounded(invoice_pdf.path, "EUR 270.60"), grounded(invoice_pdf.path, "INV-2024-0871")
    out = tmp_path / "boxes"
    annotate_result(QuestionResult("q", [total, number], False), 2, out, annotation_names([str(invoice_pdf.path)]))
    (png,) = out.iterdir()
    assert png.name == "invoice-p1-q2.png"
    assert drawn_around(png, total.box) and drawn_around(png, number.box)


def test_human_output_names_the_document_by_its_path(capsys):
    from aitk.cli.docqa import _show

    box = [470.0, 415.0, 530.0, 428.0]
    answers = [
        Answer("EUR 270.60", 0.81, doc, 1, box, "pt", "Total due: EUR 270.60", True, [box])
        for doc in ("a/report.pdf", "b/report.pdf")
    ]
    _show(QuestionResult("What is the total due?", answers, False), json_out=False)
    out = capsys.readouterr().out
    assert "— a/report.pdf p.1 [470,415,530,428]" in out and "— b/report.pdf p.1" in out
