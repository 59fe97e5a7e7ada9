"""Extracted documents cached on disk by content: $AITK_HOME/docqa/extract/<sha[:2]>/<sha>-<key>.json.

The key hashes everything else the result depends on (extractor version, parser, OCR settings),
so a changed file (new sha256) or changed settings miss the cache and are extracted again, while a
renamed or copied file hits it. Writes are atomic; an unreadable entry counts as a miss.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path

from aitk.docqa.document import Document
from aitk.engine.fileio import atomic_write_text
from aitk.engine.models import aitk_home

# Bump when extraction or reading order changes what a document's pages hold.
EXTRACT_VERSION = 1


def cache_key(parser: str, settings: dict) -> str:
    """A short digest of what, besides the bytes, decides the extraction result."""
    blob = json.dumps({"version": EXTRACT_VERSION, "parser": parser, **settings}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def cache_dir() -> Path:
    return aitk_home() / "docqa" / "extract"


def cache_path(sha256: str, key: str) -> Path:
    return cache_dir() / sha256[:2] / f"{sha256}-{key}.json"


def load(sha256: str, key: str) -> Document | None:
    path = cache_path(sha256, key)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        doc = Document.from_dict(data)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        with contextlib.suppress(OSError):
            path.unlink()  # a damaged entry: extract again
        return None
    return doc if doc.sha256 == sha256 else None


def save(doc: Document, key: str) -> Path:
    return atomic_write_text(cache_path(doc.sha256, key), json.dumps(doc.as_dict(), ensure_ascii=False))
