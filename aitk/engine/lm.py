"""Load a causal language model with transformers: a catalogue GGUF or any Hugging Face id/folder.

A catalogue model of family "code-lm" (a GGUF, e.g. passk's default) is dequantized once into
safetensors beside the materialised model (`engine.models.derived`): about a minute the first time,
about 2 s after. Shared by `passk generate` and the `docqa` reader; each names its own default.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aitk.engine.errors import ModelError
from aitk.engine.fileio import atomic_path
from aitk.engine.models import CATALOGUE, Catalogue, ModelSpec
from aitk.engine.progress import Log, Reporter, null_reporter

TRANSFORMERS_FOLDER = "transformers"  # the dequantized form's folder, beside the materialised GGUF


def transformers_folder(spec: ModelSpec, reporter: Reporter = null_reporter) -> Path:
    """The transformers (safetensors) folder of a catalogue GGUF model, dequantized once beside it."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from aitk.engine.models import derived

    def dequantize(source: Path, out: Path) -> None:
        reporter(Log(f"dequantizing {spec.name} once (about a minute on 2 cores)"))
        tokenizer = AutoTokenizer.from_pretrained(source, gguf_file=spec.weights_name)
        model: Any = AutoModelForCausalLM.from_pretrained(source, gguf_file=spec.weights_name)
        # The dequantized weights are plain tensors now; drop the GGUF marks that block saving.
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model = model.to(torch.bfloat16)  # half the disk of float32; loaded back in the device's dtype
        with atomic_path(out) as tmp:  # a folder, renamed in whole
            model.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)

    return derived(spec, TRANSFORMERS_FOLDER, dequantize)


def load_causal_lm(
    name: str, device, reporter: Reporter = null_reporter, hint: str | None = None, catalogue: Catalogue = CATALOGUE
):
    """(tokenizer, model in eval mode on `device`); ModelError with `hint` when it cannot be loaded.
    `name` is looked up in `catalogue` first (the caller registers its default there)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # progress is ours to report (events), not tqdm's on stderr

    dtype = "float16" if device.fp16 else "float32"
    spec = catalogue.find(name)
    try:
        path: Path | str = name
        if spec is not None and spec.family == "code-lm":
            path = transformers_folder(spec, reporter)
        tokenizer = AutoTokenizer.from_pretrained(path)
        model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype).to(device.torch).eval()
    except (OSError, ValueError) as exc:
        hint = hint or "use a catalogue model ('aitk models list'), a Hugging Face id or a local folder"
        raise ModelError(f"cannot load model '{name}': {str(exc).splitlines()[0]}", hint=hint) from None
    return tokenizer, model
