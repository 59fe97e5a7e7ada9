"""Documents -> pages of words in reading order: PDF text layers, OCR of scans and images, text files.

`load_document` is the one entry point: it picks the reader by file type, OCRs pages that have no
text layer (config.ocr), puts each page's words in reading order (`aitk.docqa.layout`) and caches
the result by content hash (`aitk.docqa.extract_cache`). Bad files raise MediaError with a
one-line message naming the file and the fix; an empty page is a warning on the Document.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from pathlib import Path

from aitk.docqa import extract_cache
from aitk.docqa.config import ExtractConfig
from aitk.docqa.document import Block, Document, Page, Word
from aitk.docqa.layout import reading_order
from aitk.engine.errors import MediaError
from aitk.engine.models import sha256_file
from aitk.engine.progress import Reporter, TaskAdvanced, TaskFinished, TaskStarted, null_reporter

PDF_EXTENSIONS = frozenset({".pdf"})
IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp"})
TEXT_EXTENSIONS = frozenset({".txt", ".md", ".markdown"})
DOCUMENT_EXTENSIONS = PDF_EXTENSIONS | IMAGE_EXTENSIONS | TEXT_EXTENSIONS
RENDER_DPI = 150  # render_page's default resolution for PDFs
_NO_BOX = (0.0, 0.0, 0.0, 0.0)


def is_document_path(path: str | Path) -> bool:
    """True for file names aitk can read as documents (any letter case)."""
    return Path(path).suffix.lower() in DOCUMENT_EXTENSIONS


def load_document(
    path: str | Path, config: ExtractConfig = ExtractConfig(), cache: bool = True, *, reporter: Reporter = null_reporter
) -> Document:
    """Read one document into pages of words in reading order (from the cache when unchanged)."""
    path = Path(path)
    parser = _parser(path)
    try:
        sha = sha256_file(path)
    except OSError as exc:
        raise MediaError(f"cannot read the file: {exc.strerror}", path=path, hint="check its permissions") from exc
    key = extract_cache.cache_key(parser, asdict(config))
    doc = extract_cache.load(sha, key) if cache else None
    if doc is None:
        doc = _extract(path, parser, sha, config, reporter)
        if cache:
            extract_cache.save(doc, key)
    doc.path = str(path)
    return doc


def cache_key_for(path: str | Path, config: ExtractConfig = ExtractConfig()) -> str:
    """The extraction cache key of `path` under `config` (MediaError for a missing or unsupported file)."""
    return extract_cache.cache_key(_parser(Path(path)), asdict(config))


def load_cached(path: str | Path, config: ExtractConfig = ExtractConfig()) -> Document | None:
    """The cached extraction of `path`, or None when it is not cached; never extracts."""
    path = Path(path)
    key = cache_key_for(path, config)
    try:
        sha = sha256_file(path)
    except OSError as exc:
        raise MediaError(f"cannot read the file: {exc.strerror}", path=path, hint="check its permissions") from exc
    doc = extract_cache.load(sha, key)
    if doc is not None:
        doc.path = str(path)
    return doc


def _extract(path: Path, parser: str, sha: str, config: ExtractConfig, reporter: Reporter) -> Document:
    """Run the reader for `parser`; the cache-free core of load_document."""
    if parser != "pdf":  # a PDF reports its page count once it is open
        reporter(TaskStarted(str(path), f"read {path.name}"))
    try:
        if parser == "pdf":
            doc = _read_pdf(path, sha, config, reporter)
        elif parser == "image":
            doc = _read_image(path, sha, config)
        else:
            doc = _read_text(path, sha, markdown=parser == "markdown")
    except BaseException:
        reporter(TaskFinished(str(path), ok=False))
        raise
    doc.warnings.extend(
        f"page {p.number} is empty" for p in doc.pages if not p.blocks and not _has_warning(doc, p.number)
    )
    reporter(TaskFinished(str(path), note=f"{len(doc.pages)} pages"))
    return doc


def _has_warning(doc: Document, number: int) -> bool:
    return any(w.startswith(f"page {number} ") for w in doc.warnings)


def _parser(path: Path) -> str:
    """Which reader a file needs, by suffix, else by its first bytes; MediaError when none fits."""
    if not path.exists():
        raise MediaError("no such file", path=path, hint="check the path")
    if path.is_dir():
        raise MediaError(
            "is a folder, not a document", path=path, hint="give the files, or the folder to 'aitk docqa index'"
        )
    suffix = path.suffix.lower()
    if suffix in PDF_EXTENSIONS or suffix in IMAGE_EXTENSIONS:
        return "pdf" if suffix in PDF_EXTENSIONS else "image"
    if suffix in TEXT_EXTENSIONS:
        return "markdown" if suffix in (".md", ".markdown") else "text"
    try:
        with open(path, "rb") as handle:
            head = handle.read(8)
    except OSError:
        head = b""
    if head.startswith(b"%PDF"):
        return "pdf"
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*")):
        return "image"
    supported = " ".join(sorted(DOCUMENT_EXTENSIONS))
    raise MediaError(
        f"unsupported file type '{suffix or path.name}'",
        path=path,
        hint=f"convert it to PDF or text; aitk reads {supported}",
    )


# ---- PDFs --------------------------------------------------------------------------------------


def _read_pdf(path: Path, sha: str, config: ExtractConfig, reporter: Reporter) -> Document:
    from aitk.docqa import pdf

    document = pdf.open_pdf(path)
    doc = Document(str(path), sha, "pdf")
    try:
        total = len(document)
        reporter(TaskStarted(str(path), f"read {path.name}", total=total))
        for index in range(total):
            doc.pages.append(_pdf_page(document, index, config, doc.warnings))
            reporter(TaskAdvanced(str(path), index + 1))
    finally:
        document.close()
    return doc


def _pdf_page(document, index: int, config: ExtractConfig, warnings: list[str]) -> Page:
    """One page; one PDFium cannot read becomes an empty page with a warning (the rest is kept)."""
    import pypdfium2 as pdfium

    number, page = index + 1, None
    try:
        page = document[index]
        return _pdf_page_content(page, number, config, warnings)
    except pdfium.PdfiumError as exc:
        warnings.append(f"page {number} could not be read ({exc})")
        return Page(number, 0.0, 0.0, [], "text-layer")
    finally:
        if page is not None:
            page.close()


def _pdf_page_content(page, number: int, config: ExtractConfig, warnings: list[str]) -> Page:
    """The text layer, or OCR of the rendered page when there is (almost) none."""
    from aitk.docqa import pdf

    width, height = pdf.page_size(page)
    words, upright = ([], []) if config.ocr == "always" else pdf.page_words(page)
    if config.ocr == "always" or sum(len(w.text) for w in words) < config.min_text_chars:
        if config.ocr == "never":
            if not words:
                warnings.append(f"page {number} has no text layer (turn OCR on to read it)")
        else:
            scale = config.ocr_dpi / 72.0
            blocks = _ocr_blocks(pdf.render(page, scale), 1.0 / scale)
            if blocks or not words:
                return Page(number, width, height, blocks, "ocr")
    return Page(number, width, height, _ordered(words, upright, *pdf.upright_size(page)), "text-layer")


# ---- images ------------------------------------------------------------------------------------


def _read_image(path: Path, sha: str, config: ExtractConfig) -> Document:
    if config.ocr == "never":
        raise MediaError("an image can only be read with OCR, which is off", path=path, hint="use --ocr auto")
    doc = Document(str(path), sha, "image")
    for number, frame in enumerate(_frames(path), start=1):  # multi-page TIFFs: one page per frame
        doc.pages.append(Page(number, float(frame.width), float(frame.height), _ocr_blocks(frame, 1.0), "ocr"))
    return doc


def _frames(path: Path):
    """RGB frames of an image file, upright per its EXIF orientation."""
    from PIL import Image, ImageOps, ImageSequence

    try:
        with Image.open(path) as image:
            for frame in ImageSequence.Iterator(image):
                frame.load()
                yield ImageOps.exif_transpose(frame).convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise MediaError(
            f"not a readable image ({_image_problem(exc, path)})", path=path, hint="re-save it as PNG or JPEG"
        ) from exc


def _image_problem(exc: Exception, path: Path) -> str:
    """Pillow's reason without the file name it sometimes quotes (the error line starts with the path)."""
    from PIL import UnidentifiedImageError

    if isinstance(exc, UnidentifiedImageError):
        return "unknown format or damaged data"
    text = str(exc)
    for name in (repr(str(path)), str(path)):
        text = text.replace(name, "")
    return " ".join(text.replace("''", "").split()).strip(" :") or type(exc).__name__


def _ocr_blocks(image, to_page_units: float) -> list[Block]:
    """OCR `image` and order its words; boxes scaled by `to_page_units` (pixels -> page units)."""
    from aitk.docqa.ocr import ocr_image

    page = ocr_image(image)
    s = to_page_units
    placed = [Word(w.text, (w.box[0] * s, w.box[1] * s, w.box[2] * s, w.box[3] * s), w.confidence) for w in page.words]
    return _ordered(placed, page.upright, page.width, page.height)


def _ordered(placed: list[Word], upright: list[Word], width: float, height: float) -> list[Block]:
    """Blocks in reading order found on the `upright` boxes (deskewed, unrotated), holding the
    `placed` words (same order: boxes as the page is displayed)."""
    if placed is upright:
        return reading_order(placed, width, height)
    as_placed = {id(u): w for u, w in zip(upright, placed)}
    return [Block(b.kind, [as_placed[id(u)] for u in b.words]) for b in reading_order(upright, width, height)]


def render_page(path: str | Path, page_number: int, width_px: int | None = None):
    """(RGB PIL image of the page, pixels per page unit). Images come back as they are, scale 1.0."""
    path = Path(path)
    parser = _parser(path)
    if parser == "pdf":
        from aitk.docqa import pdf

        document = pdf.open_pdf(path)
        try:
            if not 1 <= page_number <= len(document):
                raise MediaError(f"has no page {page_number} (it has {len(document)})", path=path)
            page = document[page_number - 1]
            width, _ = pdf.page_size(page)
            scale = width_px / width if width_px else RENDER_DPI / 72.0
            return pdf.render(page, scale), scale
        finally:
            document.close()
    if parser == "image":
        for number, frame in enumerate(_frames(path), start=1):
            if number == page_number:
                if width_px and width_px != frame.width:
                    scale = width_px / frame.width
                    return frame.resize((width_px, max(1, round(frame.height * scale)))), scale
                return frame, 1.0
        raise MediaError(f"has no page {page_number}", path=path)
    raise MediaError("a text file has no page image", path=path, hint="--annotate works on PDFs and images")


# ---- text and Markdown -------------------------------------------------------------------------

_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")  # [text](url) and ![alt](src) -> text
_EMPHASIS = re.compile(r"(\*\*|__|\*|`)")
_BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_RULE = re.compile(r"^\s*([-*_=])\1{2,}\s*$")  # a horizontal rule or a setext underline


def _read_text(path: Path, sha: str, markdown: bool) -> Document:
    """One page per form feed; paragraphs split at blank lines; Markdown headings become titles."""
    data = path.read_bytes()
    if b"\x00" in data[:4096]:
        raise MediaError(
            "not a text file (it holds binary data)", path=path, hint="give PDFs, images, .txt or .md files"
        )
    doc = Document(str(path), sha, "text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
        doc.warnings.append("not UTF-8: read as Latin-1")
    for number, page_text in enumerate(text.split("\f"), start=1):
        doc.pages.append(Page(number, 0.0, 0.0, _text_blocks(page_text, markdown), "text"))
    return doc


def _text_blocks(text: str, markdown: bool) -> list[Block]:
    blocks: list[Block] = []
    paragraph: list[Word] = []

    def close():
        if paragraph:
            blocks.append(Block("text", list(paragraph)))
            paragraph.clear()

    for line in text.splitlines():
        if markdown:
            line = "" if _RULE.match(line) else _EMPHASIS.sub("", _LINK.sub(r"\1", _BULLET.sub("", line)))
        if not line.strip():
            close()
        elif markdown and _HEADING.match(line):
            close()
            blocks.append(Block("title", _words(_HEADING.sub("", line).rstrip("# "))))
        elif markdown and line.lstrip().startswith("|"):
            close()
            if not _TABLE_RULE.match(line):
                blocks.append(Block("table-row", _words(line.replace("|", " "))))
        else:
            paragraph.extend(_words(line))
    close()
    return [b for b in blocks if b.words]


def _words(text: str) -> list[Word]:
    return [Word(token, _NO_BOX) for token in text.split()]
