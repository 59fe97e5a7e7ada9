"""The model catalogue: the engine holds the mechanism, each capability registers its own models."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from aitk.engine.errors import ModelError
from aitk.engine.models import Catalogue, ModelSpec, PackageFile

ENGINE = Path(__file__).resolve().parents[2] / "aitk" / "engine"
CAPABILITIES = ("transcribe", "autocut", "detect", "nerf", "docqa", "passk")


def _spec(name: str = "toy", sha: str = "0" * 64, aliases: tuple[str, ...] = ()) -> ModelSpec:
    return ModelSpec(name, "test", "raw", "d", (PackageFile("p", "1", "p_mod", "m.bin"),), "m.bin", sha, 1, aliases=aliases)


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
        "tiny.en": "transcribe", "base": "transcribe", "qwen2.5-coder-0.5b-instruct": "passk",
        "centernet": "detect", "all-minilm-l6-v2": "docqa", "pp-ocr": "docqa",
    }
    full = load(Catalogue())
    assert full.names() == load(full).names() == list(owners)


def test_each_default_model_name_is_in_the_catalogue():
    from aitk.cli.catalogue import load
    from aitk.detect.models import DEFAULT_MODEL as DETECT_DEFAULT
    from aitk.docqa.config import DEFAULT_READER, EMBEDDER
    from aitk.passk.generate import DEFAULT_MODEL as PASSK_DEFAULT
    from aitk.transcribe.config import TranscribeConfig

    names = load(Catalogue()).names()
    for default in (TranscribeConfig().model, PASSK_DEFAULT, DEFAULT_READER, EMBEDDER, DETECT_DEFAULT):
        assert default in names


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append(node.module)
    return found


def test_the_engine_imports_no_capability_and_no_cli():
    for path in sorted(ENGINE.glob("*.py")):
        text = path.read_text()
        for module in _imports(path):
            assert not module.startswith(("aitk.cli", *(f"aitk.{c}" for c in CAPABILITIES))), f"{path.name} imports {module}"
        for cap in (*CAPABILITIES, "cli"):
            assert f"aitk.{cap}" not in text, f"{path.name} names aitk.{cap}"


def test_capabilities_import_no_cli_and_no_other_capability_but_the_declared_edges():
    allowed = {("autocut", "transcribe")}
    root = ENGINE.parent
    for cap in CAPABILITIES:
        for path in sorted((root / cap).rglob("*.py")):
            for module in _imports(path):
                parts = module.split(".")
                if parts[0] != "aitk" or len(parts) < 2 or parts[1] in ("engine", cap):
                    continue
                assert parts[1] != "cli", f"{path} imports {module}"
                assert (cap, parts[1]) in allowed, f"{path} imports {module}"
