"""The `aitk` command. Only aitk/cli imports typer and rich; each command imports its engine lazily."""

from __future__ import annotations

import typer

from aitk import __version__
from aitk.cli import autocut, detect, docqa, doctor, models, nerf, passk, transcribe

app = typer.Typer(
    name="aitk",
    help="Applied AI utilities: transcribe media, edit video by its transcript, render neural radiance fields, evaluate code models in a sandbox, detect objects and train detectors, answer questions about documents; batches scale out on Ray.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"aitk {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
) -> None:
    """Applied AI utilities. Results go to stdout, progress and logs to stderr; exit 0 all done, 1 some inputs failed, 2 bad usage."""


app.command("doctor")(doctor.doctor)
app.add_typer(models.app, name="models")
app.command("transcribe")(transcribe.transcribe)
app.add_typer(autocut.app, name="autocut")
app.add_typer(nerf.app, name="render-nerf")
app.add_typer(passk.app, name="passk")
app.add_typer(detect.app, name="detect")
app.add_typer(docqa.app, name="docqa")


def main() -> None:
    app()
