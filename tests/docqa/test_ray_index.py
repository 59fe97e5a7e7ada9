"""`aitk docqa index --executor ray`: Ray workers extract and embed; this machine's caches end up as a
local run leaves them."""

from __future__ import annotations

import json

import numpy as np
import pytest

from aitk.docqa.config import ChunkConfig, ExtractConfig
from aitk.docqa.index import LazyEmbedder, index_paths
from aitk.engine.executor import ExecutorConfig
from tests.docqa import make_docs

pytestmark = pytest.mark.slow


def run_index(home, monkeypatch, paths, executor=None):
    monkeypatch.setenv("AITK_HOME", str(home))  # this process's cache; Ray workers keep their own
    outcomes = list(
        index_paths(paths, LazyEmbedder("cpu"), ExtractConfig(), ChunkConfig(), executor=executor, device="cpu")
    )
    summary = [
        (
            o.path.name,
            None if o.error else (len(o.indexed.document.pages), len(o.indexed.chunks), o.indexed.cached),
            o.error and o.error.message,
        )
        for o in outcomes
    ]
    return outcomes, summary


def cache_files(home):
    return sorted(p.relative_to(home).as_posix() for p in (home / "docqa").rglob("*") if p.is_file())


def test_ray_index_fills_the_local_cache_like_a_local_run(ray_local, tmp_path, monkeypatch):
    docs = tmp_path / "docs"
    docs.mkdir()
    paths = [
        make_docs.invoice_pdf(docs / "invoice.pdf").path,
        make_docs.corrupt_pdf(docs / "corrupt.pdf"),
        make_docs.notes_txt(docs / "notes.txt").path,
        make_docs.two_column_pdf(docs / "article.pdf").path,
    ]
    local, local_summary = run_index(tmp_path / "home-local", monkeypatch, paths)
    ray, ray_summary = run_index(tmp_path / "home-ray", monkeypatch, paths, ExecutorConfig(kind="ray", workers=2))
    assert ray_summary == local_summary
    assert [s[1] is None for s in ray_summary] == [False, True, False, False]
    assert "corrupt.pdf" in ray_summary[1][2]
    assert cache_files(tmp_path / "home-ray") == cache_files(tmp_path / "home-local")
    for a, b in zip(ray, local):
        if a.error is None:
            assert a.indexed.document.as_dict() == b.indexed.document.as_dict()
            assert np.allclose(a.indexed.vectors, b.indexed.vectors, atol=1e-5)
            assert [c.text for c in a.indexed.chunks] == [c.text for c in b.indexed.chunks]
    # A rerun finds everything in this machine's cache: nothing is extracted or embedded again.
    _, again = run_index(tmp_path / "home-ray", monkeypatch, paths, ExecutorConfig(kind="ray", workers=2))
    assert [s[1][2] for s in again if s[1]] == [True, True, True]
    stored = json.loads(next((tmp_path / "home-ray" / "docqa" / "extract").rglob("*.json")).read_text())
    assert stored["pages"]
