"""How a --model value resolves: a default Whisper model (see catalogue.py), a local path,
or a name a backend downloads.

openai-whisper reads none of these directly: `openai_checkpoint` converts the CTranslate2 weights
once into an openai-whisper .pt checkpoint in the cache (see ct2_convert.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aitk.engine.errors import ModelError
from aitk.engine.models import CATALOGUE, Catalogue, ModelSpec, derived, materialise
from aitk.transcribe.catalogue import register_models

OPENAI_CHECKPOINT = "openai-whisper.pt"


@dataclass(frozen=True)
class ResolvedModel:
    """What a --model value points at."""

    name: str  # as the user gave it
    spec: ModelSpec | None  # a known offline default
    path: Path | None  # a local file or folder
    english_only: bool | None  # None when unknown until loaded

    @property
    def is_ct2_dir(self) -> bool:
        return self.path is not None and self.path.is_dir() and (self.path / "model.bin").exists()

    @property
    def is_checkpoint(self) -> bool:
        return self.path is not None and self.path.is_file() and self.path.suffix in (".pt", ".pth")


def resolve_model(name: str, catalogue: Catalogue = CATALOGUE) -> ResolvedModel:
    """A catalogue name, a local path (CTranslate2 folder or .pt file), or a name a backend downloads."""
    register_models(catalogue)  # our own defaults, also where the CLI did not load the catalogue (a Ray worker)
    spec = catalogue.find(name)
    if spec is not None:
        return ResolvedModel(name, spec, None, spec.name.endswith(".en"))
    path = Path(name).expanduser()
    if path.exists():
        return ResolvedModel(name, None, path, None)
    if "/" in name and (name.startswith((".", "/", "~")) or name.endswith((".pt", ".pth", ".bin"))):
        raise ModelError(f"--model {name}: no such file or folder", hint="check the path, or use tiny.en or base")
    return ResolvedModel(name, None, None, name.endswith(".en"))


def ct2_folder(model: ResolvedModel) -> Path | None:
    """The CTranslate2 folder for a registry model or a user folder; None for other kinds."""
    if model.spec is not None:
        return materialise(model.spec)
    return model.path if model.is_ct2_dir else None


def openai_checkpoint(spec: ModelSpec) -> Path:
    """The openai-whisper .pt checkpoint for a registry model, converted once into the cache."""
    from aitk.transcribe.ct2_convert import convert_to_file

    return derived(spec, OPENAI_CHECKPOINT, lambda src, out: convert_to_file(src, out))
