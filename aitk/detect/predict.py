"""Images and video frames -> detections, with any model behind `aitk.detect.models`.

`predict(paths, config)` yields one `ImageResult` per image and per kept video frame, in order;
an input that cannot be read yields a result with `error` set instead of stopping the batch.
`detect_stream` is the batching core underneath: it runs `Frame`s through the model
`batch_size` at a time and passes anything else through in place. Core code never prints.
Config: config.py; result types and labels: results.py; reading inputs: inputs.py; models: models.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from aitk.detect.config import DetectConfig
from aitk.detect.inputs import read_input
from aitk.detect.results import Frame, ImageResult, select
from aitk.engine.errors import MediaError


def detect_stream(items: Iterable, config: DetectConfig, model, keep_images: bool = False) -> Iterator:
    """Frames -> ImageResults, `batch_size` per forward pass; other items pass through in order.

    With keep_images each result carries its RGB array in `image` (for annotation).
    """
    import time

    threshold = model.default_threshold if config.threshold is None else config.threshold
    pending: list[Frame] = []

    def flush() -> Iterator[ImageResult]:
        if not pending:
            return
        start = time.perf_counter()
        found = model.detect([f.image for f in pending], threshold)
        share = (time.perf_counter() - start) / len(pending)
        for f, detections in zip(pending, found):
            h, w = f.image.shape[:2]
            yield ImageResult(
                path=f.path,
                width=w,
                height=h,
                detections=select(detections, config),
                seconds=share,
                frame=f.frame,
                time=f.time,
                image=f.image if keep_images else None,
            )
        pending.clear()

    for item in items:
        if isinstance(item, Frame):
            pending.append(item)
            if len(pending) >= config.batch_size:
                yield from flush()
        else:
            yield from flush()  # keep the output in input order
            yield item
    yield from flush()


def predict(paths: Iterable[str], config: DetectConfig, model=None) -> Iterator[ImageResult]:
    """One ImageResult per image or kept video frame, in order; `model` defaults to load_model(config.model)."""
    from aitk.detect.models import CenterNetModel, Detector, load_model

    if isinstance(model, Detector):
        model = CenterNetModel(detector=model)
    model = model or load_model(config.model, config.device)

    def frames() -> Iterator:
        for path in paths:
            try:
                yield from read_input(path, config)
            except MediaError as exc:
                yield ImageResult(path=str(path), error=exc.message)

    yield from detect_stream(frames(), config, model)
