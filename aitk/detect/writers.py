"""Output writers, one small class per format; `WRITERS[name]` looks one up.

Each streams ImageResults (`add`, one image or video frame at a time, so a long video never sits in
memory) into a temp file that `close` renames into place; `abort` drops it, so a crash never
leaves half a file. COCO image_id numbers images and frames 1, 2, ... in output order (the caller
counts; failed inputs take no number).
"""

from __future__ import annotations

import contextlib
import csv
import json
from pathlib import Path

from aitk.detect.results import ImageResult
from aitk.engine.errors import OutputError
from aitk.engine.fileio import atomic_open


class Writer:
    def __init__(self, path: Path):
        self.path = Path(path)
        self._stack: contextlib.ExitStack | None = None
        self.handle = None

    def _open(self) -> None:
        if self._stack is not None:
            return
        stack = contextlib.ExitStack()
        try:
            self.handle = stack.enter_context(atomic_open(self.path, "w", encoding="utf-8"))
        except OSError as exc:
            raise OutputError(f"cannot write: {exc.strerror or exc}", path=self.path) from None
        self._stack = stack
        self.start()

    def add(self, image_id: int, result: ImageResult) -> None:
        if result.error:
            return
        self._open()
        try:
            self.write(image_id, result)
        except OSError as exc:
            self.abort()
            raise OutputError(f"cannot write: {exc.strerror or exc}", path=self.path) from None

    def close(self) -> None:
        self._open()  # no results still makes a (valid, empty) file
        try:
            self.finish()
            self._stack.close()  # flush, fsync, rename into place
        except OSError as exc:
            raise OutputError(f"cannot write: {exc.strerror or exc}", path=self.path) from None
        finally:
            self._stack = None

    def abort(self) -> None:
        """Drop the temp file; the target (if any) is left as it was."""
        if self._stack is not None:
            stack, self._stack = self._stack, None
            with contextlib.suppress(RuntimeError):
                stack.__exit__(RuntimeError, RuntimeError("aborted"), None)

    def start(self) -> None:
        pass

    def write(self, image_id: int, result: ImageResult) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        pass


class CocoResultsWriter(Writer):
    """COCO results JSON: [{image_id, category_id, bbox: [x, y, w, h], score}] (`aitk detect eval --pred`)."""

    def start(self) -> None:
        self.handle.write("[")
        self.first = True

    def write(self, image_id: int, result: ImageResult) -> None:
        for d in result.detections:
            row = {
                "image_id": image_id,
                "category_id": d.category_id,
                "bbox": [round(v, 2) for v in d.bbox],
                "score": round(d.score, 4),
            }
            self.handle.write(("" if self.first else ", ") + json.dumps(row))
            self.first = False

    def finish(self) -> None:
        self.handle.write("]\n")


class CsvWriter(Writer):
    """One row per detection: path, frame, time, image_id, category_id, label, score, x, y, w, h
    (frame and time empty for images).
    """

    def start(self) -> None:
        self.out = csv.writer(self.handle, lineterminator="\n")
        self.out.writerow(["path", "frame", "time", "image_id", "category_id", "label", "score", "x", "y", "w", "h"])

    def write(self, image_id: int, result: ImageResult) -> None:
        frame = "" if result.frame is None else result.frame
        time = "" if result.time is None else f"{result.time:.3f}"
        for d in result.detections:
            self.out.writerow(
                [
                    result.path,
                    frame,
                    time,
                    image_id,
                    d.category_id,
                    d.label,
                    f"{d.score:.4f}",
                    *(f"{v:.2f}" for v in d.bbox),
                ]
            )


class JsonLinesWriter(Writer):
    """One JSON object per image or frame (ImageResult.as_dict; frames add frame and time)."""

    def write(self, image_id: int, result: ImageResult) -> None:
        self.handle.write(json.dumps(result.as_dict(), ensure_ascii=False) + "\n")


WRITERS: dict[str, type[Writer]] = {"coco": CocoResultsWriter, "csv": CsvWriter, "jsonl": JsonLinesWriter}


def read_json_lines(path: Path):
    """Stored per-input results back as ImageResults, one line at a time."""
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield ImageResult.from_dict(json.loads(line))
