"""The model catalogue: the engine holds the mechanism, each capability registers its own models."""

from __future__ import annotations

import importlib

import pytest

from aitk.engine.errors import ModelError
from aitk.engine.models import Catalogue, ModelSpec, PackageFile


def _spec(name: str = "toy", sha: str = "0" * 64, aliases: tuple[str, ...] = ()) -> ModelSpec:
    return ModelSpec(
        name, "test", "raw", "d", (PackageFile("p", "1", "p_mod", "m.bin"),), "m.bin", sha, 1, aliases=aliases
    )


def test_registering_twice_is_harmless_and_a_clash_is_a_bug():
    catalogue = Catalogue()
    catalogue.add(_spec(aliases=("toy-alias",)))
    catalogue.add(_spec(aliases=("toy-alias",)))  # the same model again: nothing changes
    assert [s.name for s in catalogue.specs()] == ["toy"]
    assert catalogue.get("toy-alias").name == "toy"
    with pytest.raises(ValueError, match="'toy'"):
        catalogue.add(_spec(sha="1" * 64))  # a different model under a taken name
    with pytest.raises(ModelError, match="unknown model 'nope'"):
        catalogue.get("nope")
    with pytest.raises(ModelError, match="unknown model 'nope'"):
        catalogue.pull(["toy", "nope"], install=False)  # unknown names fail before any work


def test_each_capability_registers_its_own_defaults_idempotently():
    from aitk.cli.catalogue import CAPABILITY_CATALOGUES, load

    owners = {}
    for module in CAPABILITY_CATALOGUES:
        catalogue = Catalogue()
        register = importlib.import_module(module).register_models
        register(catalogue)
        first = catalogue.names()
        register(catalogue)
        assert catalogue.names() == first
        owners.update(dict.fromkeys(first, module.split(".")[1]))
    assert owners == {
        "tiny.en": "transcribe",
        "base": "transcribe",
        "ge2e-speaker-encoder": "transcribe",
        "qwen2.5-coder-0.5b-instruct": "passk",
        "centernet": "detect",
        "all-minilm-l6-v2": "docqa",
        "pp-ocr": "docqa",
    }
    full = load(Catalogue())
    assert full.names() == load(full).names() == list(owners)


def test_each_default_model_name_is_in_the_catalogue():
    from aitk.cli.catalogue import load
    from aitk.detect.config import DEFAULT_MODEL as DETECT_DEFAULT
    from aitk.docqa.config import DEFAULT_READER, EMBEDDER
    from aitk.passk.config import DEFAULT_MODEL as PASSK_DEFAULT
    from aitk.transcribe.config import TranscribeConfig

    names = load(Catalogue()).names()
    for default in (TranscribeConfig().model, PASSK_DEFAULT, DEFAULT_READER, EMBEDDER, DETECT_DEFAULT):
        assert default in names
