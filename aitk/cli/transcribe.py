"""`aitk transcribe`: Whisper speech-to-text for audio and video files, folders, globs, or a watched folder."""

from __future__ import annotations

import sys
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
    stderr,
    stop_on_signals,
)
from aitk.engine.errors import UsageError
from aitk.engine.record import Tally
from aitk.transcribe.config import FORMATS, TranscribeConfig


def parse_formats(value: str | None, to_stdout: bool) -> tuple[str, ...]:
    if value is None:
        return ("txt",) if to_stdout else FORMATS
    names = [v.strip().lower() for v in value.split(",") if v.strip()]
    if names == ["all"]:
        names = list(FORMATS)
    unknown = [n for n in names if n not in FORMATS]
    if unknown or not names:
        raise UsageError(
            f"unknown --format {','.join(unknown) or value!r}", hint=f"use {'|'.join(FORMATS)}|all, or a comma list"
        )
    if to_stdout and len(names) != 1:
        raise UsageError("-o - writes one format to stdout", hint="pick one, e.g. --format srt")
    return tuple(dict.fromkeys(names))


@handle_errors
def transcribe(
    inputs: Annotated[
        list[str] | None, typer.Argument(help="Audio/video files, folders or globs.", show_default=False)
    ] = None,
    output_format: Annotated[
        str | None,
        typer.Option("--format", "-f", help="txt|srt|vtt|tsv|json|all, or a comma list. Default: all (txt with -o -)."),
    ] = None,
    output_dir: Annotated[
        Path | None, typer.Option("--output-dir", "-d", help="Write outputs here instead of beside each input.")
    ] = None,
    output: Annotated[str | None, options.output("'-' writes the transcript to stdout instead of files.")] = None,
    model: Annotated[
        str,
        typer.Option(
            "--model", "-m", help="tiny.en, base (offline), a CTranslate2 folder, a .pt file, or a name to download."
        ),
    ] = "tiny.en",
    backend: Annotated[
        str,
        typer.Option(
            help="auto|faster-whisper|openai-whisper. auto: faster-whisper on CPU/CUDA, openai-whisper on MPS."
        ),
    ] = "auto",
    device: options.Device = "auto",
    compute_type: Annotated[
        str | None,
        typer.Option(help="faster-whisper precision (int8, float16, float32...). Default follows the device."),
    ] = None,
    language: Annotated[
        str | None,
        typer.Option("--language", "-l", help="Spoken language (en, de, ...). Default: detect and report."),
    ] = None,
    task: Annotated[
        str, typer.Option(help="transcribe|translate (to English; multilingual models only).")
    ] = "transcribe",
    initial_prompt: Annotated[str | None, typer.Option(help="Text that primes vocabulary and style.")] = None,
    beam_size: Annotated[int, typer.Option(min=1, help="Beam width; 1 is greedy and faster.")] = 5,
    temperature: Annotated[float, typer.Option(min=0.0, max=1.0, help="First decoding temperature.")] = 0.0,
    fallback: Annotated[
        bool, typer.Option("--fallback/--no-fallback", help="Retry a doubtful window at higher temperatures.")
    ] = True,
    batch_size: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="faster-whisper: windows decoded at once. 1: sequential, with context and temperature fallback. "
            "Default: sequential up to 30 s of audio, 8 above.",
        ),
    ] = None,
    vad: Annotated[bool, typer.Option("--vad/--no-vad", help="Skip silence with voice activity detection.")] = True,
    word_timestamps: Annotated[
        bool, typer.Option("--word-timestamps", help="Times and probabilities per word (json).")
    ] = False,
    diarize: Annotated[
        bool,
        typer.Option(
            "--diarize",
            help="Label speakers (offline): [SPEAKER_1] in txt/srt, <v SPEAKER_1> in vtt, a tsv column, json fields.",
        ),
    ] = False,
    speakers: Annotated[
        int | None, typer.Option(min=1, help="--diarize: the number of speakers, when known (default: estimated).")
    ] = None,
    min_speakers: Annotated[int, typer.Option(min=1, help="--diarize: at least this many speakers.")] = 1,
    max_speakers: Annotated[int, typer.Option(min=1, help="--diarize: at most this many speakers.")] = 8,
    speaker_names: Annotated[
        str | None,
        typer.Option(help='--diarize: names for SPEAKER_1, SPEAKER_2, ... in order of first appearance: "Ann,Bob".'),
    ] = None,
    diarizer: Annotated[
        str,
        typer.Option(
            help="--diarize: ge2e (built in, offline), or a pyannote.audio pipeline name or folder (if installed)."
        ),
    ] = "ge2e",
    recursive: options.Recursive = False,
    force: options.Force = False,
    watch: Annotated[
        Path | None,
        typer.Option(help="Keep running: transcribe each new recording in this folder once it stops growing."),
    ] = None,
    settle: Annotated[
        float, typer.Option(min=0.0, help="Watch: seconds a file must stay unchanged before it is read.")
    ] = 3.0,
    threads: Annotated[int, typer.Option(min=0, help="CPU threads (0 = all available).")] = 0,
    json_out: options.Json = False,
    quiet: options.Quiet = False,
    executor: options.Executor = "local",
    ray_address: options.RayAddress = None,
    workers: options.RayWorkers = 2,
    cpus_per_worker: options.CpusPerWorker = 1.0,
    gpus_per_worker: options.GpusPerWorker = 0.0,
    retries: options.Retries = 2,
) -> None:
    """Transcribe (or translate) speech in audio and video with Whisper.

    Writes INPUT.txt/.srt/.vtt/.tsv/.json beside each input (or in --output-dir). Inputs whose outputs exist are \
skipped unless --force. Exit 0 all done, 1 some inputs failed, 2 bad usage.
    """
    from aitk.engine.inputs import expand_inputs
    from aitk.transcribe.run import Transcriber, run_batch, run_watch

    to_stdout = output == "-"
    if output is not None and not to_stdout:
        raise UsageError(f"-o {output}: only '-' (stdout) is supported", hint="use --output-dir for a folder")
    if to_stdout and json_out:
        raise UsageError("--json and -o - both write to stdout", hint="use -o - --format json for the transcript alone")
    if watch is not None and inputs:
        raise UsageError("give inputs or --watch DIR, not both")
    if watch is None and not inputs:
        raise UsageError("no inputs", hint="give files, folders or globs, or --watch DIR")
    if watch is not None and to_stdout:
        raise UsageError("--watch writes files; -o - is not supported with it")
    config = TranscribeConfig(
        model=model,
        backend=backend,
        device=device,
        compute_type=compute_type,
        language=language,
        task=task,
        initial_prompt=initial_prompt,
        beam_size=beam_size,
        best_of=5,
        temperature=temperature,
        temperature_fallback=fallback,
        batch_size=batch_size,
        vad=vad,
        word_timestamps=word_timestamps,
        formats=parse_formats(output_format, to_stdout),
        threads=threads,
        diarize=diarize,
        speakers=speakers,
        min_speakers=min_speakers,
        max_speakers=max_speakers,
        speaker_names=tuple(n.strip() for n in speaker_names.split(",")) if speaker_names is not None else (),
        diarizer=diarizer,
    )
    scaling = options.executor_config(executor, ray_address, workers, cpus_per_worker, gpus_per_worker, retries)
    if watch is not None and scaling.kind != "local":
        raise UsageError("--watch runs locally", hint="leave out --executor ray")
    if output_dir is not None and not to_stdout:  # before any transcribing, naming the flag
        from aitk.engine.errors import OutputError
        from aitk.engine.fileio import check_writable

        try:
            check_writable(output_dir)
        except OutputError as exc:
            raise OutputError(f"--output-dir {output_dir}: {exc.args[0]}", hint=exc.hint) from None
    transcriber = Transcriber(config)
    tally = Tally()
    if watch is None:
        files, problems = expand_inputs(inputs or [], recursive)
        if to_stdout and len(files) + len(problems) > 1:
            raise UsageError(
                f"-o - writes one transcript, and {len(files) + len(problems)} inputs were given",
                hint="give one input, or leave out -o - to write a file per input",
            )
    with ProgressRenderer(quiet=quiet) as reporter:
        if watch is not None:
            results = run_watch(
                watch, transcriber, output_dir, recursive, settle, stop=stop_on_signals(), reporter=reporter
            )
        else:
            for problem in problems:
                record = tally.fail(problem.path, problem.message)
                print_record(record) if json_out else error_line(problem.message)
            results = run_batch(
                files, transcriber, output_dir, force, write=not to_stdout, reporter=reporter, executor=scaling
            )
        try:
            for result in results:
                tally.add(result.record(with_transcript=False))
                _show(result, json_out, to_stdout, config.formats[0])
        except KeyboardInterrupt:
            if watch is None:
                raise
            stderr.print("stopped watching", markup=False)
    exit_if_failed(tally)


def _show(result, json_out: bool, to_stdout: bool, fmt: str) -> None:
    """Print one input's outcome: JSON object, the transcript itself (-o -), or a short line."""
    from aitk.transcribe.writers import render

    if json_out:
        print_record(result.record())
    elif result.status == "failed":
        error_line(result.error)
    elif to_stdout:
        sys.stdout.write(render(result.transcript, fmt))
        sys.stdout.flush()
    elif result.status == "skipped":  # a result line on stdout like "done": -q silences stderr only
        print(f"skipped {result.input} (outputs exist; --force redoes it)")
    else:
        t = result.transcript
        names = ", ".join(p.name for p in result.outputs)
        print(f"done    {result.input} -> {names} [{t.language}, {t.duration:.1f} s audio in {result.seconds:.1f} s]")
