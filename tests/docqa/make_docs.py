"""Documents with known contents for the docqa tests and benchmark, and the answers they hold.

Every generator writes one file and returns a GeneratedDoc: its path, page count and ground-truth
questions (answer text, page, and the box where the answer was drawn, in the page's units: PDF
points with a top-left origin for PDFs, pixels for images). PDFs are written with fpdf2's core
fonts at exact positions; scans are an fpdf2 page rasterised by pypdfium2, with noise and a small
rotation. Plain functions, so `benchmarks/docqa.py` can build the same set without pytest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

Box = tuple[float, float, float, float]  # x0, y0, x1, y1, origin top-left

A4 = (595.28, 841.89)  # points
# Helvetica's glyph extent per point of font size (the font's ascender and descender).
ASCENT, DESCENT = 0.718, 0.207


@dataclass(frozen=True)
class QA:
    question: str
    answer: str | None  # None: the document does not say, so the right output is "no answer found"
    page: int | None = None  # 1-based
    box: Box | None = None  # where the answer is drawn on `page`


@dataclass
class GeneratedDoc:
    name: str
    path: Path
    kind: str  # "pdf" | "image" | "text"
    pages: int
    qa: list[QA] = field(default_factory=list)


@dataclass
class _Drawn:
    page: int
    text: str
    x: float
    baseline: float
    size: float
    style: str


class _Canvas:
    """An fpdf2 document in points that remembers where each string went, to locate answers."""

    def __init__(self):
        from fpdf import FPDF

        self.pdf = FPDF(unit="pt", format="A4")
        self.pdf.set_auto_page_break(False)
        self.drawn: list[_Drawn] = []

    def page(self) -> None:
        self.pdf.add_page()

    def text(self, x: float, baseline: float, text: str, size: float = 11, style: str = "") -> float:
        """Draw `text` with its baseline at `baseline`; return its width."""
        self.pdf.set_font("Helvetica", style, size)
        self.pdf.text(x, baseline, text)
        self.drawn.append(_Drawn(self.pdf.page, text, x, baseline, size, style))
        return self.pdf.get_string_width(text)

    def locate(self, answer: str, page: int | None = None) -> tuple[int, Box]:
        """The page and glyph box of `answer`: a string drawn as it is, else the first holding it."""
        candidates = [d for d in self.drawn if page in (None, d.page)]
        for d in sorted(candidates, key=lambda d: d.text != answer):
            if answer in d.text:
                self.pdf.set_font("Helvetica", d.style, d.size)
                x0 = d.x + self.pdf.get_string_width(d.text[: d.text.index(answer)])
                x1 = x0 + self.pdf.get_string_width(answer)
                return d.page, (x0, d.baseline - ASCENT * d.size, x1, d.baseline + DESCENT * d.size)
        raise ValueError(f"{answer!r} was not drawn")

    def qa(self, question: str, answer: str, page: int | None = None) -> QA:
        found_page, box = self.locate(answer, page)
        return QA(question, answer, found_page, box)

    def save(self, path: Path) -> Path:
        self.pdf.output(str(path))
        return path


def invoice_pdf(path: Path) -> GeneratedDoc:
    """One page: title, seller, key-value header fields, a line-item table and totals."""
    c = _invoice_canvas()
    c.save(path)
    return GeneratedDoc("invoice", path, "pdf", 1, _invoice_qa(c))


def _invoice_canvas() -> _Canvas:
    c = _Canvas()
    c.page()
    c.text(72, 90, "INVOICE", size=24, style="B")
    c.text(72, 120, "Northwind Trading Ltd.")
    c.text(72, 135, "12 Harbour Road, Leith, Edinburgh")
    fields = [
        ("Invoice number:", "INV-2024-0871"),
        ("Invoice date:", "15 March 2024"),
        ("Due date:", "14 April 2024"),
        ("Customer:", "Blue Harbor Cafe"),
    ]
    for i, (label, value) in enumerate(fields):
        c.text(72, 180 + 18 * i, label, style="B")
        c.text(190, 180 + 18 * i, value)
    columns = (72, 300, 370, 470)
    items = [
        ("Description", "Qty", "Unit price", "Amount"),
        ("Espresso beans 1 kg", "4", "18.50", "74.00"),
        ("Paper cups (box of 100)", "10", "6.25", "62.50"),
        ("Milk frother", "1", "89.00", "89.00"),
    ]
    for i, row in enumerate(items):
        for x, cell in zip(columns, row):
            c.text(x, 290 + 20 * i, cell, style="B" if i == 0 else "")
    c.pdf.line(72, 296, 530, 296)
    totals = [("Subtotal:", "225.50"), ("VAT (20%):", "45.10"), ("Total due:", "EUR 270.60")]
    for i, (label, value) in enumerate(totals):
        c.text(370, 390 + 18 * i, label, style="B" if i == 2 else "")
        c.text(470, 390 + 18 * i, value, style="B" if i == 2 else "")
    c.text(72, 480, "Please pay by bank transfer within 30 days.")
    c.text(72, 495, "Bank: Leith Savings, IBAN GB33 LEIT 0000 1234 5678 90.")
    return c


def _invoice_qa(c: _Canvas) -> list[QA]:
    return [
        c.qa("What is the invoice number?", "INV-2024-0871"),
        c.qa("What is the invoice date?", "15 March 2024"),
        c.qa("What is the total due?", "EUR 270.60"),
        c.qa("How many paper cups boxes were ordered?", "10", page=1),
        QA("What is the name of the customer's dog?", None),
    ]


# Two columns whose lines sit at the same heights. Read across (sort by y, then x), line 6 of the
# left column ("... The launch code is") runs into line 6 of the right one ("is 2291 ...") before
# reaching "4417" on the left column's next line.
_LEFT = [
    "Our team reached the northern station on",
    "the second of March after a long drive.",
    "The supply crates were checked twice and",
    "everything was stored in the east hall.",
    "Before the rocket test next week the crew",
    "will calibrate sensors. The launch code is",
    "4417 and it may only be entered by the",
    "station chief during the final countdown.",
    "Meals are served in the canteen at noon",
    "and again at seven in the evening.",
]
_RIGHT = [
    "Weather has been cold but mostly clear.",
    "Wind speeds stayed below forty km an hour.",
    "Visitors must sign in at the front desk,",
    "and each guest receives a badge there.",
    "The visitor badge number for this week",
    "is 2291 and it changes every Monday at",
    "dawn. Lost badges should be reported to",
    "the security office on the ground floor.",
    "The library opens at nine each morning",
    "and closes when the last reader leaves.",
]
LAUNCH_SENTENCE = "The launch code is 4417 and it may only be entered by the station chief"


def two_column_pdf(path: Path) -> GeneratedDoc:
    c = _two_column_canvas()
    c.save(path)
    return GeneratedDoc("two-column", path, "pdf", 1, _two_column_qa(c))


def _two_column_canvas() -> _Canvas:
    c = _Canvas()
    c.page()
    c.text(60, 80, "Field Notes from the Northern Station", size=20, style="B")
    for i, (left, right) in enumerate(zip(_LEFT, _RIGHT)):
        c.text(60, 130 + 15 * i, left)
        c.text(320, 130 + 15 * i, right)
    c.text(60, 800, "Page 1")
    return c


def _two_column_qa(c: _Canvas) -> list[QA]:
    return [
        c.qa("What is the launch code?", "4417"),
        c.qa("What is the visitor badge number?", "2291"),
        c.qa("Where is the security office?", "the ground floor"),
        QA("What is the station chief's favourite colour?", None),
    ]


TABLE = [
    ("Region", "Q1", "Q2", "Q3"),
    ("North", "120", "135", "150"),
    ("South", "98", "101", "97"),
    ("East", "143", "160", "171"),
    ("West", "87", "92", "110"),
]
TABLE_COLUMNS = (80, 220, 300, 380)


def table_pdf(path: Path) -> GeneratedDoc:
    """A ruled table of unit sales per region and quarter, between two paragraphs."""
    c = _Canvas()
    c.page()
    c.text(72, 80, "Quarterly Sales by Region", size=18, style="B")
    c.text(72, 110, "The table below lists the units sold per region in each quarter.")
    top = 140
    for i, row in enumerate(TABLE):
        for x, cell in zip(TABLE_COLUMNS, row):
            c.text(x, top + 22 * i + 15, cell, style="B" if i == 0 else "")
    for i in range(len(TABLE) + 1):
        c.pdf.line(72, top + 22 * i, 440, top + 22 * i)
    c.text(72, top + 22 * len(TABLE) + 30, "Figures for the fourth quarter follow in January.")
    c.save(path)
    qa = [
        QA("How many units were sold in the East region in Q2?", "160", 1, _cell_box(c, 3, 2)),
        QA("How many units did the South region sell in Q3?", "97", 1, _cell_box(c, 2, 3)),
    ]
    return GeneratedDoc("table", path, "pdf", 1, qa)


def _cell_box(c: _Canvas, row: int, col: int) -> Box:
    cell = TABLE[row][col]
    for d in c.drawn:
        if d.text == cell and d.x == TABLE_COLUMNS[col]:
            c.pdf.set_font("Helvetica", d.style, d.size)
            return (
                d.x,
                d.baseline - ASCENT * d.size,
                d.x + c.pdf.get_string_width(cell),
                d.baseline + DESCENT * d.size,
            )
    raise ValueError(cell)


_CHAPTERS = [
    (
        "Arrival",
        ["The ferry docked at the old pier shortly after dawn.", "Everyone carried their own luggage to the hostel."],
    ),
    (
        "Equipment",
        ["The spare tyres are stored in the garage behind the workshop.", "Ropes and helmets hang on the north wall."],
    ),
    (
        "Security",
        ["The spare keys are kept in locker 38 at the Rotterdam depot.", "Only the night porter may open that locker."],
    ),
    ("Departure", ["The return ferry leaves at six in the evening.", "Please hand in your room cards at reception."]),
]


def multipage_pdf(path: Path) -> GeneratedDoc:
    """Four pages of one chapter each; the answer is on page 3 (with a near miss on page 2)."""
    c = _Canvas()
    for n, (title, lines) in enumerate(_CHAPTERS, start=1):
        c.page()
        c.text(72, 90, f"Chapter {n}: {title}", size=18, style="B")
        for i, line in enumerate(lines):
            c.text(72, 130 + 16 * i, line)
        c.text(72, 800, f"Page {n} of {len(_CHAPTERS)}")
    c.save(path)
    qa = [
        c.qa("Where are the spare keys kept?", "locker 38"),
        c.qa("When does the return ferry leave?", "six in the evening"),
    ]
    return GeneratedDoc("multipage", path, "pdf", len(_CHAPTERS), qa)


def blank_page_pdf(path: Path) -> GeneratedDoc:
    """Three pages; page 2 has nothing on it."""
    c = _Canvas()
    for n in range(1, 4):
        c.page()
        if n != 2:
            c.text(72, 100, f"Section {n} begins here. The reference code is REF-{n}{n}{n}.")
    c.save(path)
    return GeneratedDoc("blank-page", path, "pdf", 3, [c.qa("What is the reference code of section 3?", "REF-333")])


def encrypted_pdf(path: Path, password: str = "secret") -> Path:
    """A PDF that needs a password to open."""
    c = _invoice_canvas()
    c.pdf.set_encryption(owner_password=password + "-owner", user_password=password)
    return c.save(path)


def corrupt_pdf(path: Path) -> Path:
    """The first half of a real PDF: a download that stopped midway."""
    whole = _invoice_canvas().pdf.output()
    path.write_bytes(bytes(whole[: len(whole) // 2]))
    return path


# ---- scans -------------------------------------------------------------------------------------


def scanned_invoice_png(
    path: Path, dpi: int = 150, angle: float = 2.0, noise: float = 12.0, seed: int = 0
) -> GeneratedDoc:
    """The invoice rasterised at `dpi`, turned `angle` degrees counter-clockwise, with Gaussian noise."""
    c = _invoice_canvas()
    image, qa = _scan(c, _invoice_qa(c), dpi, angle, noise, seed)
    image.save(path)
    return GeneratedDoc("scanned-invoice", path, "image", 1, qa)


def scanned_two_column_png(
    path: Path, dpi: int = 150, angle: float = -2.5, noise: float = 8.0, seed: int = 2
) -> GeneratedDoc:
    """The two-column article as a scan turned 2.5 degrees clockwise: across the page the tilt
    exceeds a line's height, so only deskewed boxes keep the columns' lines apart."""
    c = _two_column_canvas()
    image, qa = _scan(c, _two_column_qa(c), dpi, angle, noise, seed)
    image.save(path)
    return GeneratedDoc("scanned-two-column", path, "image", 1, qa)


def scanned_invoice_pdf(
    path: Path, dpi: int = 150, angle: float = 2.0, noise: float = 12.0, seed: int = 1
) -> GeneratedDoc:
    """The same scan placed as the only content of an A4 page: a PDF with no text layer."""
    from fpdf import FPDF

    c = _invoice_canvas()
    image, qa = _scan(c, _invoice_qa(c), dpi, angle, noise, seed)
    to_points = 72.0 / dpi
    pdf = FPDF(unit="pt", format="A4")
    pdf.add_page()
    pdf.image(image, x=0, y=0, w=A4[0], h=A4[1])
    pdf.output(str(path))
    qa = [QA(q.question, q.answer, q.page, q.box and tuple(v * to_points for v in q.box)) for q in qa]
    return GeneratedDoc("scanned-invoice-pdf", path, "pdf", 1, qa)


def two_page_tiff(path: Path, dpi: int = 150) -> GeneratedDoc:
    """A two-frame TIFF (one page per frame, as fax and scanner software write them); the answer
    is on the second frame. Each frame is the top band of an A4 page, to keep OCR quick."""
    import pypdfium2 as pdfium

    c = _Canvas()
    for line in ("Delivery note for the Leith warehouse.", "The parcel code is PX-5531 for all three boxes."):
        c.page()
        c.text(72, 60, line, size=14)
    scale = dpi / 72.0
    document = pdfium.PdfDocument(bytes(c.pdf.output()))
    band = round(100 * scale)  # the top 100 points of each page
    frames = [
        document[i].render(scale=scale).to_pil().convert("L").crop((0, 0, round(A4[0] * scale), band)) for i in range(2)
    ]
    frames[0].save(path, save_all=True, append_images=frames[1:], compression="tiff_deflate")
    page, box = c.locate("PX-5531")
    qa = [QA("What is the parcel code?", "PX-5531", page, tuple(v * scale for v in box))]
    return GeneratedDoc("two-page-tiff", path, "image", 2, qa)


def _scan(c: _Canvas, truth: list[QA], dpi: int, angle: float, noise: float, seed: int):
    """Rasterise page 1 of `c`, rotate and add noise; return the image and `truth` with pixel boxes."""
    import pypdfium2 as pdfium
    from PIL import Image

    scale = dpi / 72.0
    page = pdfium.PdfDocument(bytes(c.pdf.output()))[0]
    image = page.render(scale=scale).to_pil().convert("L")
    size = image.size
    # Rotating about the centre without expanding keeps the page size (corners are blank margin).
    image = image.rotate(angle, resample=Image.BICUBIC, fillcolor=255)
    rng = np.random.default_rng(seed)
    pixels = np.asarray(image, dtype=np.float32) + rng.normal(0.0, noise, (size[1], size[0]))
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).convert("RGB")
    qa = []
    for q in truth:
        box = None if q.box is None else _rotate_box(tuple(v * scale for v in q.box), angle, size)
        qa.append(QA(q.question, q.answer, q.page, box))
    return image, qa


def _rotate_box(box: Box, angle: float, size: tuple[int, int]) -> Box:
    """Where `box` lands after PIL's rotate(angle) about the image centre (axis-aligned bounds)."""
    cx, cy = size[0] / 2.0, size[1] / 2.0
    a = math.radians(angle)
    xs, ys = [], []
    for x, y in ((box[0], box[1]), (box[2], box[1]), (box[2], box[3]), (box[0], box[3])):
        # Counter-clockwise on screen is clockwise in y-down maths: x' = c*dx + s*dy, y' = -s*dx + c*dy.
        dx, dy = x - cx, y - cy
        xs.append(cx + math.cos(a) * dx + math.sin(a) * dy)
        ys.append(cy - math.sin(a) * dx + math.cos(a) * dy)
    return (min(xs), min(ys), max(xs), max(ys))


# ---- text files --------------------------------------------------------------------------------


def notes_txt(path: Path) -> GeneratedDoc:
    """Two pages separated by a form feed; the answer is on page 2."""
    page1 = (
        "Meeting notes, 3 June\n\nWe reviewed the budget and agreed to buy two new printers.\n"
        "The wifi password is harbor-lights-42.\n"
    )
    page2 = "Action items\n\nThe next meeting is on 9 June in room B4.\nAnna will send the minutes.\n"
    path.write_text(page1 + "\f" + page2, encoding="utf-8")
    qa = [QA("What is the wifi password?", "harbor-lights-42", 1), QA("Where is the next meeting?", "room B4", 2)]
    return GeneratedDoc("notes-txt", path, "text", 2, qa)


def handbook_md(path: Path) -> GeneratedDoc:
    text = (
        "# Office handbook\n\n"
        "## Opening hours\n\nThe office opens at 8:30 and closes at 17:00 on weekdays.\n\n"
        "## Parking\n\nVisitors park in bay 12, next to the loading dock.\n"
        "Staff park on the upper deck.\n"
    )
    path.write_text(text, encoding="utf-8")
    qa = [QA("Where do visitors park?", "bay 12", 1), QA("When does the office open?", "8:30", 1)]
    return GeneratedDoc("handbook-md", path, "text", 1, qa)


GENERATORS = {
    "invoice.pdf": invoice_pdf,
    "two_column.pdf": two_column_pdf,
    "table.pdf": table_pdf,
    "multipage.pdf": multipage_pdf,
    "blank_page.pdf": blank_page_pdf,
    "scan.png": scanned_invoice_png,
    "scan_two_column.png": scanned_two_column_png,
    "scanned.pdf": scanned_invoice_pdf,
    "two_pages.tiff": two_page_tiff,
    "notes.txt": notes_txt,
    "handbook.md": handbook_md,
}


def make_all(folder: Path, names=None) -> dict[str, GeneratedDoc]:
    """Write every good document (or those in `names`) into `folder`; keyed by file name."""
    folder.mkdir(parents=True, exist_ok=True)
    return {name: make(folder / name) for name, make in GENERATORS.items() if names is None or name in names}
