"""Output writers, one small class per format; `WRITERS[name]` looks one up.

Each takes ImageResults one at a time (`add`) and writes its file atomically on `close`, so a
crash never leaves half a file. Images are numbered 1, 2, ... in input order for COCO image_id.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from aitk.detect.predict import ImageResult
from aitk.engine.errors import OutputError
from aitk.engine.fileio import atomic_open


class Writer:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.results: list[tuple[int, ImageResult]] = []

    def add(self, image_id: int, result: ImageResult) -> None:
        if not result.error:
            self.results.append((image_id, result))

    def close(self) -> None:
        try:
            with atomic_open(self.path, "w", encoding="utf-8") as handle:
                self.write(handle)
        except OSError as exc:
            raise OutputError(f"cannot write: {exc.strerror or exc}", path=self.path) from None

    def write(self, handle) -> None:
        raise NotImplementedError


class CocoResultsWriter(Writer):
    """COCO results JSON: [{image_id, category_id, bbox: [x, y, w, h], score}] (`aitk detect eval --pred`)."""

    def write(self, handle) -> None:
        rows = [
            {"image_id": image_id, "category_id": d.category_id, "bbox": [round(v, 2) for v in d.bbox], "score": round(d.score, 4)}
            for image_id, result in self.results
            for d in result.detections
        ]
        json.dump(rows, handle)
        handle.write("\n")


class CsvWriter(Writer):
    """One row per detection: path, image_id, category_id, label, score, x, y, w, h."""

    def write(self, handle) -> None:
        out = csv.writer(handle, lineterminator="\n")
        out.writerow(["path", "image_id", "category_id", "label", "score", "x", "y", "w", "h"])
        for image_id, result in self.results:
            for d in result.detections:
                out.writerow([result.path, image_id, d.category_id, d.label, f"{d.score:.4f}", *(f"{v:.2f}" for v in d.bbox)])


WRITERS: dict[str, type[Writer]] = {"coco": CocoResultsWriter, "csv": CsvWriter}
