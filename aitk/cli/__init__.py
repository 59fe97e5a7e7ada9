"""The `aitk` command. Only aitk/cli imports typer and rich; each command imports its engine lazily."""

from __future__ import annotations

import sys

import typer

from aitk import __version__
from aitk.cli import autocut, detect, docqa, doctor, models, nerf, options, passk, transcribe, ui  # noqa: F401 (options: flags print cleanly)

app = typer.Typer(
    name="aitk",
    help=(
        "Applied AI utilities: transcribe media, edit video by its transcript, render neural radiance fields, "
        "evaluate code models in a sandbox, detect objects and train detectors, answer questions about documents; "
        "batches scale out on Ray."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"aitk {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Applied AI utilities. Results go to stdout, progress and logs to stderr; exit 0 all done, 1 some inputs failed, \
2 bad usage."""
    from aitk.cli import catalogue

    catalogue.load()  # every capability's default models, for any command's --model (docqa's reader is passk's)


app.command("doctor")(doctor.doctor)
app.add_typer(models.app, name="models")
app.command("transcribe")(transcribe.transcribe)
app.add_typer(autocut.app, name="autocut")
app.add_typer(nerf.app, name="render-nerf")
app.add_typer(passk.app, name="passk")
app.add_typer(detect.app, name="detect")
app.add_typer(docqa.app, name="docqa")


def main() -> None:
    """Run the CLI; a usage error is one line on stderr (exit 2), a closed stdout pipe ends quietly."""
    try:
        code = _run()
        sys.stdout.flush()
    except BrokenPipeError:
        code = ui.broken_pipe()
    sys.exit(code)


def _run() -> int:
    exceptions = _click_exceptions()
    try:
        code = app(standalone_mode=False)
    except exceptions.NoArgsIsHelpError as exc:  # `aitk passk` alone: the group's help, as asked for
        exc.show()
        return exc.exit_code
    except exceptions.UsageError as exc:
        where = f" (see {exc.ctx.command_path} -h)" if exc.ctx is not None else ""
        ui.error_line(" ".join(exc.format_message().split()) + where)
        return exc.exit_code
    except exceptions.ClickException as exc:
        ui.error_line(" ".join(exc.format_message().split()))
        return exc.exit_code
    except typer.Abort:
        ui.error_line("interrupted")
        return 130
    return code if isinstance(code, int) else 0  # a command's return value is not an exit status


def _click_exceptions():
    """click's exceptions: typer 0.20 and later carry their own copy of click."""
    try:
        from typer._click import exceptions
    except ImportError:  # an older typer on plain click
        from click import exceptions
    return exceptions
