#!/usr/bin/env python3
"""Accuracy and seconds per question: `aitk docqa` against a naive baseline, in one run.

Both use the same generated documents and questions (tests/docqa/make_docs.py: invoice, two-column
article, table, four-page PDF, scanned invoice image and PDF, text and Markdown files) and the same
default LM reader. aitk: layout-aware reading order, chunks, retrieval, grounding and abstention;
documents are indexed once (extraction, OCR, embeddings; timed apart), then every question asked.
Baseline: the document's words sorted top to bottom then left to right (what plain OCR gives), no
layout, no retrieval: the whole text, cut to --context tokens, is the reader's context.

An answer is right when it holds the true answer (normalised: case, punctuation, digit separators)
on the right page; for questions the document cannot answer, only "no answer found" is right.

    .venv/bin/python benchmarks/docqa.py               # every generated document
    .venv/bin/python benchmarks/docqa.py --json --scores
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aitk.docqa.chunks import Chunk  # noqa: E402
from aitk.docqa.config import AskConfig  # noqa: E402
from aitk.docqa.ground import normalise  # noqa: E402

DOCS = [
    "invoice.pdf",
    "two_column.pdf",
    "table.pdf",
    "multipage.pdf",
    "scan.png",
    "scanned.pdf",
    "notes.txt",
    "handbook.md",
]


def right(truth, page, text: str | None, got_page: int | None) -> bool:
    if truth is None:
        return text is None
    if text is None:
        return False
    return normalise(truth) in normalise(text) and (page is None or got_page in (None, page))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--context", type=int, default=512, help="baseline: tokens of document text the reader sees")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--scores", action="store_true", help="print every answer's score (to calibrate --min-score)")
    args = parser.parse_args()
    os.environ.setdefault("AITK_HOME", tempfile.mkdtemp(prefix="aitk-bench-home-"))

    from aitk.cli.catalogue import load
    from aitk.docqa.extract import load_document
    from aitk.docqa.index import index_document
    from aitk.docqa.layout import naive_order
    from aitk.docqa.run import Asker, Library, answer_question
    from tests.docqa import make_docs

    load()  # the default reader's catalogue entry (passk's code model)

    folder = Path(tempfile.mkdtemp(prefix="aitk-bench-docqa-"))
    generated = make_docs.make_all(folder, DOCS)
    started = time.perf_counter()
    config = AskConfig(device="cpu")
    asker = Asker(AskConfig(device="cpu", min_score=0.0), lambda e: None)  # scores kept, threshold applied below
    load_s = time.perf_counter() - started

    started = time.perf_counter()
    libraries = {}
    for name, g in generated.items():
        libraries[name] = Library([index_document(load_document(g.path), 0, asker.embedder, config.chunks)])
    index_s = time.perf_counter() - started

    rows = []
    for name, g in generated.items():
        library = libraries[name]
        tok = asker.reader.tokenizer
        naive = " ".join(w.text for p in library.docs[0].pages for w in naive_order(p.words))
        naive = tok.decode(tok(naive, add_special_tokens=False)["input_ids"][: args.context])
        for qa in g.qa:
            t0 = time.perf_counter()
            vector = asker.embedder([qa.question])[0]
            result = answer_question(qa.question, library, vector, asker.reader, asker.config)
            aitk_s = time.perf_counter() - t0
            best = result.answers[0] if result.answers else None
            kept = best if best is not None and best.score >= config.min_score else None
            t0 = time.perf_counter()
            base = asker.reader.read(qa.question, [Chunk(0, 1, 0, 0, naive)], library.docs)
            base_s = time.perf_counter() - t0
            base_text = base[0].text if base else None
            rows.append(
                {
                    "doc": name,
                    "question": qa.question,
                    "truth": qa.answer,
                    "page": qa.page,
                    "aitk": kept.text if kept else None,
                    "aitk_page": kept.page if kept else None,
                    "raw": best.text if best else None,
                    "score": round(best.score, 3) if best else None,
                    "grounded": best.grounded if best else None,
                    "aitk_right": right(qa.answer, qa.page, kept.text if kept else None, kept.page if kept else None),
                    "aitk_s": aitk_s,
                    "baseline": base_text,
                    "baseline_right": right(qa.answer, None, base_text, None),
                    "baseline_s": base_s,
                }
            )
            if args.scores:
                print(json.dumps(rows[-1]), file=sys.stderr, flush=True)

    n = len(rows)
    summary = {
        "documents": len(generated),
        "questions": n,
        "model_load_s": round(load_s, 1),
        "index_s": round(index_s, 1),
        "aitk": {
            "accuracy": round(sum(r["aitk_right"] for r in rows) / n, 3),
            "s_per_question": round(sum(r["aitk_s"] for r in rows) / n, 2),
        },
        "baseline": {
            "accuracy": round(sum(r["baseline_right"] for r in rows) / n, 3),
            "s_per_question": round(sum(r["baseline_s"] for r in rows) / n, 2),
        },
        "min_score": config.min_score,
        "cpu_threads": os.cpu_count(),
    }
    if args.json:
        print(json.dumps({**summary, "rows": rows}, indent=2))
        return
    print(
        f"{n} questions over {len(generated)} generated documents; models loaded in {load_s:.1f} s, indexed once "
        f"in {index_s:.1f} s"
    )
    print(f"{'':<10}{'accuracy':>10}{'s/question':>12}")
    for key in ("aitk", "baseline"):
        print(f"{key:<10}{summary[key]['accuracy']:>10.1%}{summary[key]['s_per_question']:>12.2f}")
    print("\nper question (aitk | baseline):")
    for r in rows:
        mark = lambda ok: "ok " if ok else "BAD"  # noqa: E731
        print(
            f"  {mark(r['aitk_right'])} {mark(r['baseline_right'])} {r['doc']:<15} {r['question'][:48]:<48} "
            f"truth={r['truth']!r} aitk={r['aitk']!r} ({r['score']}) baseline={r['baseline']!r}"
        )


if __name__ == "__main__":
    main()
