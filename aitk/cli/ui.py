"""Rendering for every command: errors, progress bars and plain logs on stderr; results on stdout."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from aitk.engine.errors import AitkError
from aitk.engine.progress import BATCH, Event, Log, TaskAdvanced, TaskFinished, TaskStarted
from aitk.engine.record import Record, Tally, failed

stderr = Console(stderr=True, highlight=False, soft_wrap=True)


def debug() -> bool:
    return os.environ.get("AITK_DEBUG", "") not in ("", "0")


def error_line(message: str) -> None:
    stderr.print(
        f"[bold red]error:[/] {escape(message)}", markup=True, highlight=False
    ) if stderr.is_terminal else print(f"error: {message}", file=sys.stderr)


def broken_pipe() -> int:
    """Whoever read stdout has gone (`aitk ... | head -1`): stop quietly, with the exit status of a
    program killed by SIGPIPE (141); stdout goes to /dev/null so the interpreter's last flush is silent."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 141


def exit_if_failed(tally: Tally) -> None:
    """End a batch: "N of M inputs failed:" and a line per failure on stderr, then exit 1;
    nothing when all went well.
    """
    lines = tally.lines()
    if lines:
        error_line(lines[0])
        for line in lines[1:]:
            print(f"  {line}", file=sys.stderr)
        raise typer.Exit(1)


def print_record(record: Record) -> None:
    """One input's record (aitk.engine.record) as a JSON line on stdout."""
    sys.stdout.write(record.to_json() + "\n")
    sys.stdout.flush()


@contextlib.contextmanager
def record_on_error(input, json_out: bool):
    """A one-input command with --json: if it fails, its failed record goes to stdout first; the
    error line and exit code follow as usual."""
    try:
        yield
    except AitkError as exc:
        if json_out:
            print_record(failed(input, exc.message))
        raise


def handle_errors(command: Callable) -> Callable:
    """Turn AitkError into one line and its exit code; anything else too, unless AITK_DEBUG=1."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except BrokenPipeError:
            raise typer.Exit(broken_pipe()) from None
        except AitkError as exc:
            if debug():
                traceback.print_exc()
            error_line(exc.message)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C while model loader threads wind down
            error_line("interrupted")
            raise typer.Exit(130) from None
        except Exception as exc:  # noqa: BLE001 - last line of defence for users
            if debug():
                raise
            error_line(f"internal error: {type(exc).__name__}: {exc} (run with AITK_DEBUG=1 for the traceback)")
            raise typer.Exit(1) from None

    return wrapper


def print_json(data: object, pretty: bool = True) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2 if pretty else None) + "\n")
    sys.stdout.flush()


class ProgressRenderer:
    """A Reporter: rich bars (overall and per file, with ETA) on a terminal, plain log lines elsewhere."""

    def __init__(self, quiet: bool = False, console: Console = stderr):
        self.quiet = quiet
        self.console = console
        self.live = console.is_terminal and not quiet
        self.progress: Progress | None = None
        self.tasks: dict[str, TaskID] = {}

    def __enter__(self) -> ProgressRenderer:
        if self.live:
            self.progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.percentage:>3.0f}%"),
                TimeElapsedColumn(),
                TextColumn("eta"),
                TimeRemainingColumn(),
                console=self.console,
                transient=True,
                # Results printed meanwhile keep going to stdout when it is a file or pipe
                # (`--json > out.jsonl`); on a terminal they pass above the bars.
                redirect_stdout=sys.stdout.isatty(),
            )
            self.progress.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.progress is not None:
            self.progress.stop()

    def __call__(self, event: Event) -> None:
        if self.quiet and not (isinstance(event, Log) and event.level == "error"):
            return
        if isinstance(event, Log):
            self.console.print(
                f"{event.level}: {event.message}" if event.level != "info" else event.message, markup=False
            )
        elif self.progress is None:
            if isinstance(event, TaskStarted) and event.task != BATCH:
                size = f"{event.total or 0:.1f} s" if event.unit == "s" else f"{event.total or 0:.0f} {event.unit}"
                self.console.print(f"{event.label} ({size})", markup=False)
        elif isinstance(event, TaskStarted):
            self.tasks[event.task] = self.progress.add_task(event.label, total=event.total)
        elif isinstance(event, TaskAdvanced) and event.task in self.tasks:
            self.progress.update(self.tasks[event.task], completed=event.completed)
        elif isinstance(event, TaskFinished) and event.task in self.tasks:
            task = self.tasks.pop(event.task)
            if event.task != BATCH:
                self.progress.remove_task(task)


def stop_on_signals() -> threading.Event:
    """SIGTERM (systemd, docker stop) ends a watch cleanly between files, like Ctrl-C.

    SIGINT is re-armed too: a shell starts background jobs (`aitk ... --watch &`) with SIGINT
    ignored, and `kill -INT` must still stop the watch.
    """
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, signal.default_int_handler)
    return stop
