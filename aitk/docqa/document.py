"""What extraction hands to question answering: documents as pages of words with boxes.

Extraction (`aitk.docqa.extract`) fills these from a PDF text layer, OCR or a text file and puts
each page's words in reading order (`aitk.docqa.layout`); question answering (chunks, retrieval,
reader, grounding) only reads them. Pure data: no model, no I/O beyond JSON round-trips.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 on the page, origin top-left, y down


@dataclass(frozen=True)
class Word:
    text: str
    box: Box  # in the page's units (PDF points for PDFs, pixels for images; zeros for text files)
    confidence: float = 1.0  # OCR's confidence; 1.0 for a text layer or a text file


@dataclass
class Block:
    """A run of words read together: a paragraph or column piece, a title, or one table row."""

    kind: str  # "text" | "title" | "table-row"
    words: list[Word]

    @property
    def box(self) -> Box:
        return union_box(w.box for w in self.words)

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


@dataclass
class Page:
    number: int  # 1-based, as a reader of the document counts
    width: float  # page size in the units of the word boxes
    height: float
    blocks: list[Block] = field(default_factory=list)  # in reading order
    source: str = "text-layer"  # "text-layer" | "ocr" | "text"

    @property
    def words(self) -> list[Word]:
        """All words in reading order."""
        return [w for b in self.blocks for w in b.words]

    @property
    def text(self) -> str:
        return "\n".join(b.text for b in self.blocks)


@dataclass
class Document:
    path: str
    sha256: str  # of the file's bytes: the cache key
    kind: str  # "pdf" | "image" | "text"
    pages: list[Page] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # e.g. "page 2 is empty"

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Document:
        pages = [
            Page(
                number=p["number"],
                width=p["width"],
                height=p["height"],
                source=p["source"],
                blocks=[
                    Block(b["kind"], [Word(w["text"], tuple(w["box"]), w["confidence"]) for w in b["words"]])
                    for b in p["blocks"]
                ],
            )
            for p in data["pages"]
        ]
        return cls(
            path=data["path"],
            sha256=data["sha256"],
            kind=data["kind"],
            pages=pages,
            warnings=list(data.get("warnings", [])),
        )


def union_box(boxes) -> Box:
    """The smallest box holding all `boxes`; (0, 0, 0, 0) for none."""
    boxes = list(boxes)
    if not boxes:
        return (0.0, 0.0, 0.0, 0.0)
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))
