"""`aitk autocut`: edit a video by editing its transcript."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from aitk.cli import options
from aitk.cli.ui import (
    ProgressRenderer,
    error_line,
    exit_if_failed,
    handle_errors,
    print_record,
    record_on_error,
    stop_on_signals,
)
from aitk.engine.errors import UsageError
from aitk.engine.record import Record, Tally

app = typer.Typer(
    help="Edit a video by editing its transcript: transcribe to Markdown, tick the sentences to keep, cut.",
    no_args_is_help=True,
)

Force = options.Force  # including md files you edited
Quiet = options.Quiet
Json = options.Json
Model = Annotated[str, typer.Option("--model", "-m", help="Whisper model (see aitk transcribe --help).")]
Device = options.Device
Language = Annotated[str | None, typer.Option("--language", "-l", help="Spoken language; default: detect.")]


Diarize = Annotated[
    bool, typer.Option("--diarize", help="Label each sentence with its speaker ([SPEAKER_1] ...), offline.")
]
Speakers = Annotated[
    int | None, typer.Option("--speakers", min=1, help="With --diarize: the number of speakers, when known.")
]


def _transcriber(model: str, device: str, language: str | None, diarize: bool = False, speakers: int | None = None):
    from aitk.transcribe.config import TranscribeConfig
    from aitk.transcribe.run import Transcriber

    # Word times always: X.words.json lets the md strike single words (~~um~~).
    config = TranscribeConfig(
        model=model, device=device, language=language, word_timestamps=True, diarize=diarize, speakers=speakers
    )
    return Transcriber(config)


@app.command("transcribe")
@handle_errors
def transcribe(
    media: Annotated[list[Path], typer.Argument(help="Recordings (audio or video).")],
    model: Model = "tiny.en",
    device: Device = "auto",
    language: Language = None,
    suggest: Annotated[
        bool,
        typer.Option(
            "--suggest",
            help=(
                "Pre-tick every sentence except likely drops (filler lines, restarts, long silences); strike filler "
                "words and restarts inside kept lines."
            ),
        ),
    ] = False,
    diarize: Diarize = False,
    speakers: Speakers = None,
    force: Force = False,
    json_out: Json = False,
    quiet: Quiet = False,
) -> None:
    """Write X.srt, X.md (one checkbox per sentence) and X.words.json (word times) beside each recording;
    skip those that have both srt and md."""
    from aitk.autocut.run import editing_paths, is_transcribed, transcribe_for_editing
    from aitk.engine.errors import MediaError, OutputError

    transcriber = _transcriber(model, device, language, diarize, speakers)
    tally = Tally()
    with ProgressRenderer(quiet=quiet) as reporter:
        for path in media:
            if not force and is_transcribed(path):
                outputs = editing_paths(path)
                if json_out:
                    print_record(tally.add(Record(path, "skipped", outputs)))
                else:  # a result line on stdout, like "done": -q silences stderr only
                    tally.add(Record(path, "skipped", outputs))
                    print(
                        f"skipped {path} ({outputs[0].name} and {outputs[1].name} exist; --force transcribes "
                        "again, overwriting your edits)"
                    )
                continue
            started = time.monotonic()
            try:
                outputs = transcribe_for_editing(path, transcriber, force, suggest, reporter)
            except (MediaError, OutputError) as exc:
                record = tally.add(Record(path, "failed", error=exc.message, seconds=time.monotonic() - started))
                print_record(record) if json_out else error_line(exc.message)
                continue
            record = tally.add(Record(path, "ok", outputs, seconds=time.monotonic() - started))
            if json_out:
                print_record(record)
            else:
                print(f"done    {path} -> {', '.join(p.name for p in outputs)}")
    exit_if_failed(tally)


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
    files: Annotated[
        list[Path],
        typer.Argument(
            help=(
                "MEDIA [SRT] [MD], in any order. With an md: keep the ticked sentences. Without: keep the cues still "
                "in the srt."
            )
        ),
    ],
    padding: Annotated[float, typer.Option(min=0.0, help="Seconds of context kept around each kept span.")] = 0.0,
    merge_gap: Annotated[float, typer.Option(min=0.0, help="Kept spans closer than this (s) merge.")] = 0.5,
    crf: Annotated[int, typer.Option(min=0, max=51, help="x264 quality (lower is better).")] = 20,
    bitrate: Annotated[str | None, typer.Option(help="Target video bitrate (e.g. 6M) instead of --crf.")] = None,
    preset: Annotated[
        str,
        typer.Option(
            help=(
                "x264 preset: ultrafast (fastest) ... veryfast, medium (smaller files, slower); auto: veryfast for "
                "the frames the smart cut re-encodes, ultrafast for a full re-encode."
            )
        ),
    ] = "auto",
    fast: Annotated[
        bool, typer.Option("--fast", help="Copy streams without re-encoding: much faster, but cuts snap to keyframes.")
    ] = False,
    reencode: Annotated[
        bool,
        typer.Option(
            "--reencode", help="Re-encode the whole cut instead of the smart cut (which re-encodes only at the cuts)."
        ),
    ] = False,
    export: Annotated[
        str | None, typer.Option(help="Also write the edit list: edl, fcpxml, otio, or a list (edl,fcpxml,otio).")
    ] = None,
    cut_silence: Annotated[
        str | None,
        typer.Option(
            "--cut-silence",
            metavar="DB|auto",
            help="Also remove pauses: quieter than DB dBFS (e.g. -40), or auto (set by the recording).",
        ),
    ] = None,
    min_silence: Annotated[
        float, typer.Option(min=0.0, help="With --cut-silence: pauses at least this long (s) go.")
    ] = 0.5,
    margin: Annotated[
        float, typer.Option(min=0.0, help="With --cut-silence: seconds of each pause kept next to the sound.")
    ] = 0.15,
    keep_speaker: Annotated[
        list[str] | None,
        typer.Option("--keep-speaker", metavar="NAME", help="Keep only this speaker's sentences (repeatable)."),
    ] = None,
    drop_speaker: Annotated[
        list[str] | None,
        typer.Option("--drop-speaker", metavar="NAME", help="Leave this speaker's sentences out (repeatable)."),
    ] = None,
    force: Force = False,
    json_out: Json = False,
    quiet: Quiet = False,
) -> None:
    """Cut MEDIA to the kept sentences (less ~~struck~~ words): X_cut.mp4 (or the input's audio format),
    X_cut.srt, X_cut.md."""
    from aitk.autocut.config import CutConfig, EncodeOptions, SilenceOptions, parse_silence_level
    from aitk.autocut.run import cut as do_cut

    media, srt_path, md_path = _classify(files)
    if media is None:
        raise UsageError("no media file given", hint="aitk autocut cut talk.mp4 [talk.srt] [talk.md]")
    kinds = tuple(k.strip().lower() for k in export.split(",")) if export else ()
    silence = SilenceOptions(parse_silence_level(cut_silence), min_silence, margin) if cut_silence is not None else None
    config = CutConfig(
        padding,
        merge_gap,
        EncodeOptions(crf, bitrate, preset, fast=fast, smart=not reencode),
        kinds,
        force,
        silence=silence,
        keep_speakers=tuple(keep_speaker or ()),
        drop_speakers=tuple(drop_speaker or ()),
    )
    started = time.monotonic()
    with ProgressRenderer(quiet=quiet) as reporter, record_on_error(media, json_out):
        if fast and not quiet:
            reporter.console.print(
                "--fast: streams are copied, so each kept part starts at the keyframe before it (the subtitles follow)",
                markup=False,
            )
        result = do_cut(media, srt_path, md_path, config, reporter)
    if json_out:
        payload = {
            "kept_seconds": round(result.kept_seconds, 3),
            "source_seconds": round(result.source_seconds, 3),
            "spans": result.spans,
            "ranges": [[round(r.start, 3), round(r.end, 3)] for r in result.ranges],
            **({"video": result.video} if result.video else {}),
        }
        print_record(Record(media, "ok", result.outputs, seconds=time.monotonic() - started, result=payload))
    else:
        print(
            f"done    {media} -> {', '.join(p.name for p in result.outputs)} "
            f"[kept {result.kept_seconds:.1f} of {result.source_seconds:.1f} s in {result.spans} span(s)]"
        )


@app.command("to-md")
@handle_errors
def to_md(
    files: Annotated[list[Path], typer.Argument(help="SRT [MEDIA], in either order.")],
    force: Force = False,
    json_out: Json = False,
) -> None:
    """Make the editing Markdown (X.md) from subtitles."""
    from aitk.autocut.run import srt_to_md

    media, srt_path, _ = _classify(files)
    if srt_path is None:
        raise UsageError("no .srt file given")
    with record_on_error(srt_path, json_out):
        written = srt_to_md(srt_path, media, force)
    _done(srt_path, [written], json_out)


@app.command("md-to-srt")
@handle_errors
def md_to_srt(
    md: Annotated[Path, typer.Argument(help="The edited X.md.")],
    srt: Annotated[Path | None, typer.Option("--srt", help="The srt it was made from (default: X.srt).")] = None,
    output: Annotated[Path | None, options.output("Default: X_edited.srt; '-' writes the subtitles to stdout.")] = None,
    force: Force = False,
    json_out: Json = False,
) -> None:
    """Subtitles with the text as corrected in the md."""
    from aitk.autocut.run import edited_srt
    from aitk.autocut.run import md_to_srt as convert

    if not md.exists():
        raise UsageError(f"{md}: no such file", hint="check the path")
    if output is not None and str(output) == "-":
        if json_out:
            raise UsageError("--json and -o - both write to stdout", hint="leave out one of them")
        sys.stdout.write(edited_srt(md, srt))
        return
    with record_on_error(md, json_out):
        written = convert(md, srt, output, force)
    _done(md, [written], json_out)


@app.command("compact")
@handle_errors
def compact(
    path: Annotated[Path, typer.Argument(help="X.srt -> X.compact.txt (one line per cue); X.compact.txt -> X.srt.")],
    force: Force = False,
    json_out: Json = False,
) -> None:
    """Subtitles as one line per cue (easy to edit), and back."""
    from aitk.autocut.run import compact as convert

    if not path.exists():
        raise UsageError(f"{path}: no such file", hint="check the path")
    with record_on_error(path, json_out):
        written = convert(path, force)
    _done(path, [written], json_out)


@app.command("merge")
@handle_errors
def merge(
    media: Annotated[list[Path], typer.Argument(help="Recordings, in order.")],
    output: Annotated[Path, options.output("The joined file, e.g. joined.mp4 (its .srt goes beside it).")],
    crf: Annotated[int, typer.Option(min=0, max=51, help="x264 quality (lower is better).")] = 20,
    force: Force = False,
    json_out: Json = False,
) -> None:
    """Join recordings (and their subtitles, re-timed) into one."""
    from aitk.autocut.config import CutConfig, EncodeOptions
    from aitk.autocut.run import merge as do_merge

    for p in media:
        if not p.exists():
            raise UsageError(f"{p}: no such file", hint="check the path")
    started = time.monotonic()
    with record_on_error(output, json_out):
        outputs = do_merge(media, output, CutConfig(encode=EncodeOptions(crf=crf), force=force))
    if json_out:  # the joined file is the record's input: the recordings are listed under result
        print_record(
            Record(
                output, "ok", outputs, seconds=time.monotonic() - started, result={"inputs": [str(p) for p in media]}
            )
        )
    else:
        print(f"done    {', '.join(str(p) for p in outputs)}")


def _done(input: Path, outputs: list[Path], json_out: bool) -> None:
    """A one-file conversion's result: its record with --json, else the path written (as before)."""
    if json_out:
        print_record(Record(input, "ok", outputs))
    else:
        print("\n".join(map(str, outputs)))


@app.command("watch")
@handle_errors
def watch(
    folder: Annotated[Path, typer.Argument(help="The folder your recorder writes to.")],
    recursive: options.Recursive = False,
    settle: Annotated[
        float, typer.Option(min=0.0, help="Seconds a recording must stay unchanged before it is read.")
    ] = 3.0,
    interval: Annotated[float, typer.Option(min=0.1, help="Seconds between scans.")] = 1.0,
    model: Model = "tiny.en",
    device: Device = "auto",
    language: Language = None,
    suggest: Annotated[
        bool,
        typer.Option(
            "--suggest", help="Pre-tick every sentence except likely drops (fillers, restarts, long silences)."
        ),
    ] = False,
    fast: Annotated[bool, typer.Option("--fast", help="Cut by stream copy.")] = False,
    diarize: Diarize = False,
    speakers: Speakers = None,
    json_out: Json = False,
    quiet: Quiet = False,
) -> None:
    """Transcribe new recordings, cut those whose md says done, merge what autocut.md ticks."""
    from aitk.autocut.config import CutConfig, EncodeOptions
    from aitk.autocut.watch import watch_folder

    if not folder.is_dir():
        raise UsageError(f"{folder}: not a folder")
    stop = stop_on_signals()
    transcriber = _transcriber(model, device, language, diarize, speakers)
    tally = Tally()
    with ProgressRenderer(quiet=quiet) as reporter:
        if not quiet:
            reporter.console.print(f"watching {folder} (Ctrl-C to stop)", markup=False)
        try:
            for event in watch_folder(
                folder,
                transcriber,
                CutConfig(encode=EncodeOptions(fast=fast), force=True),
                recursive,
                settle,
                interval,
                suggest,
                stop,
                reporter,
            ):
                tally.add(event)
                if json_out:
                    print_record(event)
                elif event.failed:
                    error_line(event.error)
                else:
                    print(
                        f"{event.result['step']:<12}{event.input} -> {', '.join(Path(p).name for p in event.outputs)}",
                        flush=True,
                    )
        except KeyboardInterrupt:
            pass
        if not quiet:
            reporter.console.print("stopped watching", markup=False)
    exit_if_failed(tally)
