"""`aitk autocut`: edit a video by editing its transcript."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from aitk.cli.ui import ProgressRenderer, error_line, exit_if_failed, handle_errors, print_json, stop_on_signals
from aitk.engine.errors import UsageError

app = typer.Typer(
    help="Edit a video by editing its transcript: transcribe to Markdown, tick the sentences to keep, cut.",
    no_args_is_help=True,
)

Force = Annotated[bool, typer.Option("--force", help="Overwrite existing outputs (including files you edited).")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress or logs on stderr.")]
Json = Annotated[bool, typer.Option("--json", help="One JSON object per input on stdout.")]
Model = Annotated[str, typer.Option("--model", "-m", help="Whisper model (see aitk transcribe --help).")]
Device = Annotated[str, typer.Option(help="auto|cpu|cuda|cuda:N|mps.")]
Language = Annotated[Optional[str], typer.Option("--language", "-l", help="Spoken language; default: detect.")]


def _transcriber(model: str, device: str, language: str | None):
    from aitk.transcribe.config import TranscribeConfig
    from aitk.transcribe.run import Transcriber

    return Transcriber(TranscribeConfig(model=model, device=device, language=language, word_timestamps=False))


@app.command("transcribe")
@handle_errors
def transcribe(
    media: Annotated[list[Path], typer.Argument(help="Recordings (audio or video).")],
    model: Model = "tiny.en",
    device: Device = "auto",
    language: Language = None,
    suggest: Annotated[bool, typer.Option("--suggest", help="Pre-tick every sentence except likely drops (fillers, restarts, long silences).")] = False,
    force: Force = False,
    json_out: Json = False,
    quiet: Quiet = False,
) -> None:
    """Write X.srt and X.md (one checkbox per sentence) beside each recording; skip those that have both."""
    from aitk.autocut.run import editing_paths, is_transcribed, transcribe_for_editing
    from aitk.engine.errors import MediaError, OutputError

    transcriber = _transcriber(model, device, language)
    failures: list[str] = []
    with ProgressRenderer(quiet=quiet) as reporter:
        for path in media:
            if not force and is_transcribed(path):
                outputs = editing_paths(path)
                if json_out:
                    print_json({"input": str(path), "status": "skipped", "outputs": [str(p) for p in outputs]}, pretty=False)
                else:  # a result line on stdout, like "done": -q silences stderr only
                    print(f"skipped {path} ({outputs[0].name} and {outputs[1].name} exist; --force transcribes again, overwriting your edits)")
                continue
            try:
                outputs = transcribe_for_editing(path, transcriber, force, suggest, reporter)
            except (MediaError, OutputError) as exc:
                failures.append(exc.message)
                if json_out:
                    print_json({"input": str(path), "status": "failed", "outputs": [], "error": exc.message}, pretty=False)
                else:
                    error_line(exc.message)
                continue
            if json_out:
                print_json({"input": str(path), "status": "done", "outputs": [str(p) for p in outputs]}, pretty=False)
            else:
                print(f"done    {path} -> {', '.join(p.name for p in outputs)}")
    exit_if_failed(failures)


def _classify(paths: list[Path]) -> tuple[Path | None, Path | None, Path | None]:
    """MEDIA [SRT] [MD] in any order, told apart by extension."""
    media = srt_path = md_path = None
    for p in paths:
        suffix = p.suffix.lower()
        if suffix == ".srt":
            srt_path = p
        elif suffix in (".md", ".markdown"):
            md_path = p
        else:
            media = p
    for p in (media, srt_path, md_path):
        if p is not None and not p.exists():
            raise UsageError(f"{p}: no such file", hint="check the path")
    return media, srt_path, md_path


@app.command("cut")
@handle_errors
def cut(
    files: Annotated[list[Path], typer.Argument(help="MEDIA [SRT] [MD], in any order. With an md: keep the ticked sentences. Without: keep the cues still in the srt.")],
    padding: Annotated[float, typer.Option(min=0.0, help="Seconds of context kept around each kept span.")] = 0.0,
    merge_gap: Annotated[float, typer.Option(min=0.0, help="Kept spans closer than this (s) merge.")] = 0.5,
    crf: Annotated[int, typer.Option(min=0, max=51, help="x264 quality (lower is better).")] = 20,
    bitrate: Annotated[Optional[str], typer.Option(help="Target video bitrate (e.g. 6M) instead of --crf.")] = None,
    preset: Annotated[str, typer.Option(help="x264 preset: ultrafast (fastest) ... veryfast, medium (smaller files, slower).")] = "ultrafast",
    fast: Annotated[bool, typer.Option("--fast", help="Copy streams without re-encoding: much faster, but cuts snap to keyframes.")] = False,
    export: Annotated[Optional[str], typer.Option(help="Also write the edit list: edl, fcpxml, or edl,fcpxml.")] = None,
    force: Force = False,
    json_out: Json = False,
    quiet: Quiet = False,
) -> None:
    """Cut MEDIA to the kept sentences: X_cut.mp4 (or the input's audio format), X_cut.srt, X_cut.md."""
    from aitk.autocut.config import CutConfig, EncodeOptions
    from aitk.autocut.run import cut as do_cut
    from aitk.engine.errors import AitkError

    media, srt_path, md_path = _classify(files)
    if media is None:
        raise UsageError("no media file given", hint="aitk autocut cut talk.mp4 [talk.srt] [talk.md]")
    kinds = tuple(k.strip().lower() for k in export.split(",")) if export else ()
    config = CutConfig(padding, merge_gap, EncodeOptions(crf, bitrate, preset, fast=fast), kinds, force)
    with ProgressRenderer(quiet=quiet) as reporter:
        if fast and not quiet:
            reporter.console.print("--fast: streams are copied, so each kept part starts at the keyframe before it (the subtitles follow)", markup=False)
        try:
            result = do_cut(media, srt_path, md_path, config, reporter)
        except AitkError as exc:
            if json_out:  # a record for scripts; the error line and exit code follow as usual
                print_json({"input": str(media), "status": "failed", "outputs": [], "error": exc.message}, pretty=False)
            raise
    if json_out:
        print_json({"input": str(media), "status": "done", "outputs": [str(p) for p in result.outputs],
                    "kept_seconds": round(result.kept_seconds, 3), "source_seconds": round(result.source_seconds, 3), "spans": result.spans}, pretty=False)
    else:
        print(f"done    {media} -> {', '.join(p.name for p in result.outputs)} "
              f"[kept {result.kept_seconds:.1f} of {result.source_seconds:.1f} s in {result.spans} span(s)]")


@app.command("to-md")
@handle_errors
def to_md(
    files: Annotated[list[Path], typer.Argument(help="SRT [MEDIA], in either order.")],
    force: Force = False,
) -> None:
    """Make the editing Markdown (X.md) from subtitles."""
    from aitk.autocut.run import srt_to_md

    media, srt_path, _ = _classify(files)
    if srt_path is None:
        raise UsageError("no .srt file given")
    print(srt_to_md(srt_path, media, force))


@app.command("md-to-srt")
@handle_errors
def md_to_srt(
    md: Annotated[Path, typer.Argument(help="The edited X.md.")],
    srt: Annotated[Optional[Path], typer.Option("--srt", help="The srt it was made from (default: X.srt).")] = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Default: X_edited.srt; '-' writes the subtitles to stdout.")] = None,
    force: Force = False,
) -> None:
    """Subtitles with the text as corrected in the md."""
    from aitk.autocut.run import edited_srt, md_to_srt as convert

    if not md.exists():
        raise UsageError(f"{md}: no such file", hint="check the path")
    if output is not None and str(output) == "-":
        sys.stdout.write(edited_srt(md, srt))
        return
    print(convert(md, srt, output, force))


@app.command("compact")
@handle_errors
def compact(
    path: Annotated[Path, typer.Argument(help="X.srt -> X.compact.txt (one line per cue); X.compact.txt -> X.srt.")],
    force: Force = False,
) -> None:
    """Subtitles as one line per cue (easy to edit), and back."""
    from aitk.autocut.run import compact as convert

    if not path.exists():
        raise UsageError(f"{path}: no such file", hint="check the path")
    print(convert(path, force))


@app.command("merge")
@handle_errors
def merge(
    media: Annotated[list[Path], typer.Argument(help="Recordings, in order.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The joined file, e.g. joined.mp4 (its .srt goes beside it).")],
    crf: Annotated[int, typer.Option(min=0, max=51)] = 20,
    force: Force = False,
) -> None:
    """Join recordings (and their subtitles, re-timed) into one."""
    from aitk.autocut.config import CutConfig, EncodeOptions
    from aitk.autocut.run import merge as do_merge

    for p in media:
        if not p.exists():
            raise UsageError(f"{p}: no such file", hint="check the path")
    outputs = do_merge(media, output, CutConfig(encode=EncodeOptions(crf=crf), force=force))
    print(f"done    {', '.join(str(p) for p in outputs)}")


@app.command("watch")
@handle_errors
def watch(
    folder: Annotated[Path, typer.Argument(help="The folder your recorder writes to.")],
    recursive: Annotated[bool, typer.Option("--recursive", "-r")] = False,
    settle: Annotated[float, typer.Option(min=0.0, help="Seconds a recording must stay unchanged before it is read.")] = 3.0,
    interval: Annotated[float, typer.Option(min=0.1, help="Seconds between scans.")] = 1.0,
    model: Model = "tiny.en",
    device: Device = "auto",
    language: Language = None,
    suggest: Annotated[bool, typer.Option("--suggest")] = False,
    fast: Annotated[bool, typer.Option("--fast", help="Cut by stream copy.")] = False,
    json_out: Json = False,
    quiet: Quiet = False,
) -> None:
    """Transcribe new recordings, cut those whose md says done, merge what autocut.md ticks."""
    from aitk.autocut.config import CutConfig, EncodeOptions
    from aitk.autocut.watch import watch_folder

    if not folder.is_dir():
        raise UsageError(f"{folder}: not a folder")
    stop = stop_on_signals()
    transcriber = _transcriber(model, device, language)
    failures: list[str] = []
    with ProgressRenderer(quiet=quiet) as reporter:
        if not quiet:
            reporter.console.print(f"watching {folder} (Ctrl-C to stop)", markup=False)
        try:
            for event in watch_folder(folder, transcriber, CutConfig(encode=EncodeOptions(fast=fast), force=True),
                                      recursive, settle, interval, suggest, stop, reporter):
                if event["status"] == "failed":
                    failures.append(event["error"])
                if json_out:
                    print_json(event, pretty=False)
                elif event["status"] == "failed":
                    error_line(event["error"])
                else:
                    print(f"{event['status']:<12}{event['input']} -> {', '.join(Path(p).name for p in event.get('outputs', []))}", flush=True)
        except KeyboardInterrupt:
            pass
        if not quiet:
            reporter.console.print("stopped watching", markup=False)
    exit_if_failed(failures)
