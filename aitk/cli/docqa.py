"""`aitk docqa`: grounded question answering over PDFs, scans, images and text files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from aitk.cli import options
from aitk.cli.ui import ProgressRenderer, error_line, exit_if_failed, handle_errors, print_record
from aitk.engine.errors import UsageError
from aitk.engine.record import Record, Tally

app = typer.Typer(
    help=(
        "Ask questions about PDFs, scans, images and text files; answers come with page, box and snippet, or 'no "
        "answer found'."
    ),
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)

Docs = Annotated[
    list[str],
    typer.Argument(
        help=(
            "PDF, image (.png .jpg .tif ...), .txt/.md/.markdown files, folders or globs (folders and globs skip "
            "other file types, with a warning)."
        ),
        show_default=False,
    ),
]
Recursive = options.Recursive
Ocr = Annotated[str, typer.Option(help="auto (OCR pages without a text layer, and images) | always | never.")]
Device = options.Device
Quiet = options.Quiet  # -q: ask's --question has -q too, so on ask --quiet is long only
AskQuiet = Annotated[bool, typer.Option("--quiet", help="No progress or logs on stderr (errors still show).")]


@app.command("ask")
@handle_errors
def ask(
    docs: Docs,
    question: Annotated[
        list[str] | None, typer.Option("--question", "-q", help="A question (repeat for more).", show_default=False)
    ] = None,
    questions: Annotated[
        Path | None,
        typer.Option(
            "--questions", help='File of questions: one per line, or JSON Lines with "question".', show_default=False
        ),
    ] = None,
    top_k: Annotated[
        int, typer.Option("--top-k", "-k", min=1, help="Answers per question, each from a different passage.")
    ] = 1,
    min_score: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            max=1.0,
            help="Withhold answers scoring below this (default: calibrated, see docs/docqa.md).",
            show_default=False,
        ),
    ] = None,
    reader: Annotated[
        str | None,
        typer.Option(
            help=(
                "Reader model: the default instruct LM, or a transformers causal-LM, question-answering or LayoutLM "
                "document-QA checkpoint (name or folder)."
            ),
            show_default=False,
        ),
    ] = None,
    annotate: Annotated[
        Path | None,
        typer.Option(
            help=(
                "Draw answer boxes on page images: DIR/<doc-stem>-p<page>-q<n>.png (parent folders prefixed when two "
                "documents share a stem)."
            ),
            show_default=False,
        ),
    ] = None,
    json_out: Annotated[
        bool,
        typer.Option(
            "--json", help="One record per question on stdout, and one per document that failed (docs/cli.md)."
        ),
    ] = False,
    recursive: Recursive = False,
    ocr: Ocr = "auto",
    device: Device = "auto",
    quiet: AskQuiet = False,
) -> None:
    """Answer questions from the documents, with document, page, box and supporting snippet.

    Exit 0 all documents read, 1 some failed (the rest are still answered), 2 bad usage.
    """
    from aitk.docqa.config import AskConfig
    from aitk.docqa.run import read_questions

    asked = [q.strip() for q in question or [] if q.strip()] + (read_questions(questions) if questions else [])
    if not asked:
        raise UsageError("no question", hint="give -q QUESTION (repeatable) or --questions FILE")
    defaults = AskConfig()
    config = AskConfig(
        reader=reader or defaults.reader,
        top_k=top_k,
        min_score=defaults.min_score if min_score is None else min_score,
        device=device,
    )
    from aitk.docqa.config import ExtractConfig
    from aitk.docqa.index import index_paths
    from aitk.docqa.run import Asker, Library

    tally = Tally("documents")
    with ProgressRenderer(quiet=quiet) as renderer:
        reporter = _DocProgress(renderer)
        files = _inputs(docs, recursive, tally, reporter, json_out)
        asker = Asker(config, reporter)
        indexed = []
        for outcome in index_paths(files, asker.embedder, ExtractConfig(ocr=ocr), config.chunks, reporter=reporter):
            if outcome.error is not None:
                _fail(tally, outcome.path, outcome.error.message, json_out)
            else:
                tally.add(_index_record(outcome))
                indexed.append(outcome.indexed)
                _warn(reporter, outcome)
        if indexed:
            from aitk.docqa.annotate import annotate_result, annotation_names

            library = Library(indexed)
            names = annotation_names([d.path for d in library.docs])
            for n, result in enumerate(asker.ask(asked, library), start=1):
                drawn = annotate_result(result, n, annotate, names) if annotate is not None else []
                _show(result, json_out, drawn)
    exit_if_failed(tally)


@app.command("index")
@handle_errors
def index(
    docs: Docs,
    recursive: Recursive = False,
    ocr: Ocr = "auto",
    device: Device = "auto",
    json_out: options.Json = False,
    quiet: Quiet = False,
    executor: options.Executor = "local",
    ray_address: options.RayAddress = None,
    workers: options.RayWorkers = 2,
    cpus_per_worker: options.CpusPerWorker = 1.0,
    gpus_per_worker: options.GpusPerWorker = 0.0,
    retries: options.Retries = 2,
) -> None:
    """Extract, OCR and embed documents into the cache ($AITK_HOME/docqa/), so later questions are fast.

    Unchanged files are read from the cache; changed files are indexed again. Exit 1 if some failed.
    """
    from aitk.docqa.config import ChunkConfig, ExtractConfig
    from aitk.docqa.index import LazyEmbedder, index_paths
    from aitk.engine.device import resolve_device

    scaling = options.executor_config(executor, ray_address, workers, cpus_per_worker, gpus_per_worker, retries)
    tally = Tally("documents")
    with ProgressRenderer(quiet=quiet) as renderer:
        reporter = _DocProgress(renderer)
        files = _inputs(docs, recursive, tally, reporter, json_out)
        embed = LazyEmbedder(device if scaling.kind != "local" else resolve_device(device).torch)
        for outcome in index_paths(
            files, embed, ExtractConfig(ocr=ocr), ChunkConfig(), executor=scaling, device=device, reporter=reporter
        ):
            if outcome.error is not None:
                _fail(tally, outcome.path, outcome.error.message, json_out)
                continue
            _warn(reporter, outcome)
            record = tally.add(_index_record(outcome))
            if json_out:
                print_record(record)
            else:
                ix = outcome.indexed
                state = "cached" if ix.cached else "new"  # the words of the plain listing
                print(f"{state:<7}{outcome.path}: {len(ix.document.pages)} page(s), {len(ix.chunks)} chunk(s)")
    exit_if_failed(tally)


def _index_record(outcome) -> Record:
    """A document read now (ok) or from the cache (cached); its digest, pages, chunks and warnings under result."""
    ix = outcome.indexed
    result = {
        "sha256": ix.document.sha256,
        "pages": len(ix.document.pages),
        "chunks": len(ix.chunks),
        "warnings": ix.document.warnings,
    }
    return Record(outcome.path, "cached" if ix.cached else "ok", result=result)


def _inputs(docs: list[str], recursive: bool, tally: Tally, reporter, json_out: bool = False) -> list[Path]:
    """The documents named, found in folders or matched by globs. Folders and globs skip files of
    other types: one warning line names them (a file named explicitly is tried whatever its type)."""
    from aitk.docqa.extract import is_document_path
    from aitk.engine.inputs import expand_inputs
    from aitk.engine.progress import Log

    skipped: list[Path] = []

    def accept(path: Path) -> bool:
        if is_document_path(path):
            return True
        skipped.append(path)
        return False

    files, problems = expand_inputs(docs, recursive, accept=accept)
    for problem in problems:
        _fail(tally, problem.path, problem.message, json_out)
    skipped = sorted(set(skipped))
    if skipped:
        shown = ", ".join(map(str, skipped[:SHOW_SKIPPED])) + (
            f" and {len(skipped) - SHOW_SKIPPED} more" if len(skipped) > SHOW_SKIPPED else ""
        )
        reporter(
            Log(
                (
                    f"skipped {len(skipped)} file(s) docqa does not read: {shown} (it reads PDFs, images and "
                    ".txt/.md/.markdown files)"
                ),
                "warning",
            )
        )
    return files


SHOW_SKIPPED = 5  # skipped files named in the warning line; the rest are counted


def _fail(tally: Tally, path, message: str, json_out: bool = False) -> None:
    """A document that failed: an error line now (with --json, its failed record on stdout instead),
    and one line in the list at the end."""
    record = tally.fail(path, message)
    print_record(record) if json_out else error_line(message)


def _warn(reporter, outcome) -> None:
    """The document's warnings (e.g. an empty page), every run: they are kept in the extraction cache."""
    from aitk.engine.progress import Log

    for warning in outcome.indexed.document.warnings:
        reporter(Log(f"{outcome.path}: {warning}", "warning"))


class _DocProgress:
    """docqa's progress for the renderer: bars on a terminal. Elsewhere one line per document
    extracted now (cached ones are quick), since the plain renderer reads a task's total as
    seconds and docqa counts documents, pages and questions."""

    def __init__(self, renderer: ProgressRenderer):
        from aitk.docqa.run import QUESTIONS
        from aitk.engine.progress import BATCH

        self.renderer, self.counters = renderer, (BATCH, QUESTIONS)

    def __call__(self, event) -> None:
        from aitk.engine.progress import Log, TaskStarted

        if self.renderer.live or isinstance(event, Log):
            self.renderer(event)
        elif isinstance(event, TaskStarted) and event.task not in self.counters:
            pages = f" ({event.total:.0f} page{'' if event.total == 1 else 's'})" if event.total else ""
            self.renderer(Log(f"reading {event.task}{pages}"))


def _show(result, json_out: bool, drawn: list[Path] = ()) -> None:
    if json_out:  # the question is the record's input; answers, abstained (and reason) under result
        payload = result.to_dict()
        print_record(Record(payload.pop("question"), "ok", drawn, result=payload))
        return
    lines = [f"Q: {result.question}"]
    if result.abstained:
        lines.append(f"A: no answer found ({result.reason})")
    for a in result.answers:
        if not a.grounded:
            lines.append(f"A: {a.text} (score {a.score:.2f}) (not found in the document)")
            continue
        where = f"{a.document} p.{a.page}"  # the path as given: two report.pdf in different folders differ
        if a.box is not None:
            where += " [" + ",".join(f"{v:.0f}" for v in a.box) + "]"
        lines.append(f"A: {a.text} (score {a.score:.2f}) — {where}")
        if a.snippet:
            lines.append(f"   “{a.snippet}”")
    print("\n".join(lines), flush=True)
