"""The options every command shares, declared once: one spelling and one help text each
(docs/cli.md, "Shared flags"). A command takes them as typed parameters:

    def cmd(device: options.Device = "auto", quiet: options.Quiet = False, json_out: options.Json = False): ...

Renamed flags keep their old spelling as a hidden alias (`--out`, `--iters`, passk's `--n`) that
still works and prints a one-line deprecation note; `resolve_alias` merges the two.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import typer.core

# --- the shared flags -------------------------------------------------------------------------

DEVICE_HELP = "auto (CUDA, then MPS, then CPU) | cpu | cuda | cuda:N | mps."
Device = Annotated[str, typer.Option("--device", help=DEVICE_HELP)]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress or logs on stderr (errors still show).")]
Json = Annotated[
    bool, typer.Option("--json", help="Results as JSON on stdout: one record per input for batches (docs/cli.md).")
]
Force = Annotated[bool, typer.Option("--force", help="Redo the work and replace outputs that exist.")]
Recursive = Annotated[bool, typer.Option("--recursive", "-r", help="Descend into sub-folders.")]
Steps = Annotated[int | None, typer.Option("--steps", min=1, help="Optimiser steps in all.")]

OUTPUT_NAMES = ("--output", "-o")


def output(help: str, **kwargs) -> typer.models.OptionInfo:
    """`--output/-o`, with what the command writes there as its help."""
    return typer.Option(*OUTPUT_NAMES, help=help, **kwargs)


# Hidden deprecated spellings (each still works; docs/cli.md lists them).
OldOut = Annotated[Path | None, typer.Option("--out", hidden=True, help="Deprecated: --output.")]
OldIters = Annotated[int | None, typer.Option("--iters", min=1, hidden=True, help="Deprecated: --steps.")]
OldN = Annotated[int | None, typer.Option("--n", min=1, hidden=True, help="Deprecated: -n.")]


def resolve_alias(new: str, value, old: str, old_value, default=None):
    """The value given as `new`, or as its deprecated spelling `old` (with a note on stderr); both is a usage error."""
    if old_value is None:
        return value
    from aitk.cli.ui import stderr
    from aitk.engine.errors import UsageError

    if value is not None and value != default:
        raise UsageError(f"{old} and {new} are the same option", hint=f"give {new} only")
    stderr.print(f"warning: {old} is deprecated, use {new}", markup=False, highlight=False)
    return old_value


def required(flag: str, value):
    """A required option that has a hidden alias is declared optional; this makes it required again."""
    if value is None:
        from aitk.engine.errors import UsageError

        raise UsageError(f"missing option {flag}", hint=f"give {flag} PATH")
    return value


# --- running on Ray (docs/scaling.md) ---------------------------------------------------------

PANEL = "Scaling out (docs/scaling.md)"
Executor = Annotated[
    str,
    typer.Option(
        "--executor",
        help="local: this machine's process; ray: Ray actors, each loading the model once.",
        rich_help_panel=PANEL,
    ),
]
RayAddress = Annotated[
    str | None,
    typer.Option(
        "--ray-address",
        help="Ray cluster to join: auto (the running one) or ray://HOST:10001. Default: a private local Ray.",
        rich_help_panel=PANEL,
    ),
]
RayWorkers = Annotated[
    int,
    typer.Option(
        "--workers",
        min=1,
        help="With --executor ray: actors, each loading the model once (a local run uses this process).",
        rich_help_panel=PANEL,
    ),
]
CpusPerWorker = Annotated[
    float, typer.Option("--cpus-per-worker", min=0.0, help="Ray CPUs reserved for each actor.", rich_help_panel=PANEL)
]
GpusPerWorker = Annotated[
    float,
    typer.Option(
        "--gpus-per-worker", min=0.0, help="Ray GPUs for each actor (fractions share a GPU).", rich_help_panel=PANEL
    ),
]
Retries = Annotated[
    int,
    typer.Option(
        "--retries", min=0, help="Ray: times an input is retried after its worker died.", rich_help_panel=PANEL
    ),
]


def executor_config(executor: str, address: str | None, workers: int, cpus: float, gpus: float, retries: int):
    from aitk.engine.executor import ExecutorConfig

    return ExecutorConfig(
        kind=executor, address=address, workers=workers, cpus_per_worker=cpus, gpus_per_worker=gpus, retries=retries
    )


# --- help rendering ---------------------------------------------------------------------------


def _flags_print_cleanly() -> None:
    """typer (0.2x, rich help) prints a type for every option, so flags read `--json <bool>` and even
    `--help <bool>`; a flag takes no value, so it gets no type column (an explicit metavar still wins)."""
    option = typer.core.TyperOption
    if getattr(option.display_type_rich, "_aitk", False):
        return
    typed = option.display_type_rich

    def display_type_rich(self, ctx):
        if self.metavar is None and (self.is_flag or self.count):
            return None
        return typed(self, ctx)

    display_type_rich._aitk = True
    option.display_type_rich = display_type_rich


_flags_print_cleanly()
