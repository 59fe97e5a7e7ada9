"""`aitk docqa` as a user runs it: usage errors, the index cache, a batch with a broken file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import run_aitk, run_aitk_subprocess


def test_no_question_is_a_usage_error(invoice_pdf):
    result = run_aitk_subprocess("docqa", "ask", str(invoice_pdf.path))  # one real process for docqa
    assert result.returncode == 2 and "no question" in result.stderr and "-q QUESTION" in result.stderr


def test_bad_questions_file_is_a_usage_error(tmp_path, invoice_pdf):
    bad = tmp_path / "q.jsonl"
    bad.write_text('{"not_question": 1}\n')
    result = run_aitk("docqa", "ask", str(invoice_pdf.path), "--questions", str(bad))
    assert result.returncode == 2 and "q.jsonl" in result.stderr and "line 1" in result.stderr


@pytest.mark.slow
def test_index_caches_and_reindexes_changed_files(tmp_path, multipage_pdf, corrupt_pdf):
    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(multipage_pdf.path, folder / "book.pdf")
    notes = folder / "notes.txt"
    notes.write_text(f"Notes written by {tmp_path.name}.\fThe door code is 5521.\n")  # content no other test has
    first = run_aitk("docqa", "index", str(folder), "--json", "--quiet")
    assert first.returncode == 0, first.stderr
    rows = {r["input"].split("/")[-1]: r for r in map(json.loads, first.stdout.splitlines())}
    assert rows["book.pdf"]["result"]["pages"] == 4 and rows["book.pdf"]["result"]["chunks"] >= 4
    assert rows["notes.txt"]["result"]["pages"] == 2 and rows["notes.txt"]["status"] == "ok"
    cached = {
        r["input"].split("/")[-1]: r["status"]
        for r in map(json.loads, run_aitk("docqa", "index", str(folder), "--json", "-q").stdout.splitlines())
    }
    assert cached == {"book.pdf": "cached", "notes.txt": "cached"}

    again = run_aitk("docqa", "index", str(folder))
    assert again.returncode == 0 and again.stdout.count("cached") == 2, again.stdout

    notes.write_text(notes.read_text() + "Also: the safe is in room 4.\n")  # the same name, new content
    shutil.copy(corrupt_pdf, folder / "broken.pdf")
    third = run_aitk("docqa", "index", str(folder))
    lines = {line.split()[1].split("/")[-1].rstrip(":"): line.split()[0] for line in third.stdout.splitlines()}
    assert lines == {"book.pdf": "cached", "notes.txt": "new"}, third.stdout
    assert third.returncode == 1 and "broken.pdf" in third.stderr and "corrupt" in third.stderr


@pytest.mark.slow
def test_batch_with_a_corrupt_file_answers_the_rest(
    tmp_path, invoice_pdf, corrupt_pdf, encrypted_pdf, shared_lm
):  # the LM loaded once
    questions = tmp_path / "questions.jsonl"
    questions.write_text(
        '{"question": "What is the total due?"}\n{"question": "What is the name of the customer\'s dog?"}\n'
    )
    boxes = tmp_path / "boxes"
    result = run_aitk(
        "docqa",
        "ask",
        str(corrupt_pdf),
        str(invoice_pdf.path),
        str(encrypted_pdf),
        "--questions",
        str(questions),
        "--json",
        "--annotate",
        str(boxes),
        "--device",
        "cpu",
        timeout=900,
    )
    assert result.returncode == 1
    assert "corrupt.pdf" in result.stderr and "encrypted.pdf" in result.stderr and "qpdf --decrypt" in result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    failed = [r for r in records if r["status"] == "failed"]  # the documents that could not be read come first
    assert [Path(r["input"]).name for r in failed] == ["corrupt.pdf", "encrypted.pdf"] and all(
        r["error"] for r in failed
    )
    total, dog = [r for r in records if r["status"] == "ok"]
    assert total["input"] == "What is the total due?" and not total["result"]["abstained"]
    assert [Path(p).name for p in total["outputs"]] == ["invoice-p1-q1.png"]
    (answer,) = total["result"]["answers"]
    assert answer["text"] == "EUR 270.60" and answer["page"] == 1 and answer["grounded"] and answer["unit"] == "pt"
    assert answer["document"] == str(invoice_pdf.path) and len(answer["box"]) == 4 and "Total due" in answer["snippet"]
    assert dog["result"]["abstained"] and dog["result"]["answers"] == [] and dog["result"]["reason"]

    from PIL import Image

    (png,) = boxes.iterdir()
    assert png.name == "invoice-p1-q1.png"
    image = Image.open(png).convert("RGB")
    red = sum(1 for r, g, b in image.getdata() if r > 180 and g < 80 and b < 80)
    assert red > 100  # the drawn box


def test_empty_questions_file_is_a_usage_error(tmp_path, invoice_pdf):
    empty = tmp_path / "questions.txt"
    empty.write_text("\n# to do: write the questions\n\n")
    result = run_aitk("docqa", "ask", str(invoice_pdf.path), "--questions", str(empty))
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == f'error: {empty}: no questions (one per line, or JSON Lines with "question")'


def test_index_reports_failures_warnings_and_skipped_files(tmp_path, blank_page_pdf):
    """--json has a record for every document, failed ones too; a cached run still shows the
    warnings; files of other types in a folder are named in one warning line."""
    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(blank_page_pdf.path, folder / "blank.pdf")
    guide = folder / "guide.markdown"
    guide.write_text(
        f"# Guide {tmp_path.name}\n\nThe spare keys hang behind the **blue** door.\n"
    )  # content no other test has
    (folder / "broken.png").write_text("not an image\n")
    (folder / "prices.csv").write_text("item,price\ntea,2\n")
    (folder / "report.docx").write_bytes(b"PK\x03\x04" + b"\x00" * 60)

    first = run_aitk("docqa", "index", str(folder), "--json", "--device", "cpu")
    assert first.returncode == 1, first.stderr
    rows = {Path(r["input"]).name: r for r in map(json.loads, first.stdout.splitlines())}
    assert set(rows) == {"blank.pdf", "guide.markdown", "broken.png"}, first.stdout
    broken = rows["broken.png"]
    assert broken["status"] == "failed" and broken["error"].startswith(
        f"{folder / 'broken.png'}: not a readable image"
    ), broken
    assert rows["guide.markdown"]["result"]["pages"] == 1 and rows["guide.markdown"]["status"] == "ok"
    assert rows["blank.pdf"]["result"]["warnings"] == ["page 2 is empty"]
    skipped = [line for line in first.stderr.splitlines() if "skipped" in line]
    assert skipped == [
        f"warning: skipped 2 file(s) docqa does not read: {folder / 'prices.csv'}, {folder / 'report.docx'} "
        "(it reads PDFs, images and .txt/.md/.markdown files)"
    ], first.stderr
    assert f"reading {guide}\n" in first.stderr  # progress off a terminal: one line per document extracted
    assert "error: 1 of 3 documents failed:" in first.stderr and "error: {" not in first.stderr

    (folder / "broken.png").unlink()
    again = run_aitk("docqa", "index", str(folder), "--device", "cpu")
    assert again.returncode == 0, again.stderr
    assert sorted(again.stdout.splitlines()) == [
        f"cached {folder / 'blank.pdf'}: 3 page(s), 2 chunk(s)",
        f"cached {folder / 'guide.markdown'}: 1 page(s), 1 chunk(s)",
    ]
    assert f"warning: {folder / 'blank.pdf'}: page 2 is empty" in again.stderr.splitlines()
    assert "reading" not in again.stderr  # nothing extracted: all from the cache
    quiet = run_aitk("docqa", "index", str(folder), "--quiet")
    assert quiet.returncode == 0 and quiet.stderr == ""
