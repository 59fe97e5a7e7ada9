import hashlib
import json
from pathlib import Path

import pytest
import typer

from aitk.engine import models
from aitk.engine.errors import ModelError
from aitk.engine.models import ModelSpec, PackageFile, materialise, sha256_file


def _spec(sha: str | None = None) -> ModelSpec:
    """Two real files of an installed package stand in for weight parts: the logic is the same."""
    folder = Path(typer.__file__).parent
    joined = (folder / "main.py").read_bytes() + (folder / "core.py").read_bytes()
    return ModelSpec(
        name="test-joined",
        family="test",
        format="raw",
        description="two package files joined",
        weights=(PackageFile("typer", "x", "typer", "main.py"), PackageFile("typer", "x", "typer", "core.py")),
        weights_name="weights.bin",
        sha256=sha or hashlib.sha256(joined).hexdigest(),
        size=len(joined),
        extras=(PackageFile("typer", "x", "typer", "params.py"),),
    )


def test_catalogue_knows_the_offline_whisper_models():
    from aitk.cli.catalogue import load

    catalogue = load()
    names = {m.name for m in catalogue.specs()}
    assert {"tiny.en", "base"} <= names
    assert catalogue.get("whisper-tiny.en").name == "tiny.en"
    with pytest.raises(ModelError, match="unknown model 'nope'"):
        catalogue.get("nope")


def test_materialise_joins_parts_verifies_and_caches(tmp_path, monkeypatch):
    monkeypatch.setenv("AITK_HOME", str(tmp_path))
    spec = _spec()
    out = materialise(spec)
    assert out == tmp_path / "models" / "test-joined"
    assert sha256_file(out / "weights.bin") == spec.sha256
    assert (out / "params.py").exists()
    assert json.loads((out / models.STAMP).read_text())["sha256"] == spec.sha256
    assert models.is_materialised(spec)
    bad = _spec(sha="0" * 64)
    monkeypatch.setenv("AITK_HOME", str(tmp_path / "other"))
    with pytest.raises(ModelError, match="sha256 mismatch"):
        materialise(bad)
    assert not (tmp_path / "other" / "models" / "test-joined" / "weights.bin").exists()


def test_missing_package_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("AITK_HOME", str(tmp_path))
    spec = ModelSpec(
        "ghost",
        "t",
        "raw",
        "d",
        (PackageFile("ghost-pkg", "1.0", "ghost_pkg_not_here", "m.bin"),),
        "m.bin",
        "0" * 64,
        1,
    )
    with pytest.raises(ModelError) as err:
        materialise(spec)
    assert "aitk models pull ghost" in err.value.message and "ghost-pkg==1.0" in err.value.message


@pytest.mark.slow
def test_real_default_models_materialise(tmp_path, monkeypatch):
    monkeypatch.setenv("AITK_HOME", str(tmp_path))
    from aitk.transcribe.catalogue import BASE, TINY_EN

    for spec in (TINY_EN, BASE):
        folder = materialise(spec)
        assert sha256_file(folder / "model.bin") == spec.sha256
        assert (folder / "config.json").exists() and (folder / "tokenizer.json").exists()
