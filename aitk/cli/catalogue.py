"""The CLI's model catalogue: every capability's default models, in the engine's `CATALOGUE`.

The engine names no capability; this list does. Each module has `register_models(catalogue)`.
"""

from __future__ import annotations

from aitk.engine.models import CATALOGUE, Catalogue

# In the order `aitk models list` shows them.
CAPABILITY_CATALOGUES = (
    "aitk.transcribe.catalogue",
    "aitk.passk.catalogue",
    "aitk.detect.catalogue",
    "aitk.docqa.catalogue",
)


def load(catalogue: Catalogue = CATALOGUE) -> Catalogue:
    """`catalogue` with every capability's defaults registered (again is harmless)."""
    return catalogue.load(CAPABILITY_CATALOGUES)
