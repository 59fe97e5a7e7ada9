"""`--help` snapshots: one per command, so the docs cannot drift from the real flags unnoticed.

Each command's help (rendered at 100 columns, no colour) is kept in tests/cli/help/<command path>.txt.
After changing a flag on purpose, renew the snapshots and read the diff:

    AITK_UPDATE_HELP=1 .venv/bin/python -m pytest tests/cli/test_help.py

The docs test checks that every long flag a command takes is named on its docs page.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import typer.rich_utils  # noqa: F401 - imported now, outside ENV (see ENV)
from typer.main import get_command
from typer.testing import CliRunner

from aitk.cli import app

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOTS = Path(__file__).parent / "help"
UPDATE = os.environ.get("AITK_UPDATE_HELP") == "1"
# Only what rich's Console reads when it is made: typer.rich_utils reads TERMINAL_WIDTH and the like once,
# at import, so setting those here would leak this width into every later in-process run of the CLI.
ENV = {"COLUMNS": "100", "NO_COLOR": "1"}

# The docs page that documents each top-level command; flags shared by every command live in cli.md.
PAGES = {
    "autocut": "autocut.md",
    "detect": "detect.md",
    "docqa": "docqa.md",
    "doctor": "cli.md",
    "models": "models.md",
    "passk": "passk.md",
    "render-nerf": "render-nerf.md",
    "transcribe": "transcribe.md",
}
SHARED_PAGES = ("cli.md", "scaling.md")


def _commands(command, path=()):
    """(path, click command) for every command that runs something (groups are walked, not listed)."""
    subcommands = getattr(command, "commands", None)
    if subcommands:
        for name, sub in sorted(subcommands.items()):
            if not getattr(sub, "hidden", False):
                yield from _commands(sub, (*path, name))
    else:
        yield path, command


ROOT_COMMAND = get_command(app)
COMMANDS = list(_commands(ROOT_COMMAND))
IDS = [" ".join(path) for path, _ in COMMANDS]


def _help(path: tuple[str, ...]) -> str:
    result = CliRunner().invoke(app, [*path, "--help"], env=ENV, prog_name="aitk")
    assert result.exit_code == 0, result.output
    return "\n".join(line.rstrip() for line in result.output.splitlines()) + "\n"


def test_every_command_is_walked():
    assert len(COMMANDS) >= 20  # transcribe, doctor, models, autocut, render-nerf, passk, detect, docqa and subcommands
    assert ("transcribe",) in [path for path, _ in COMMANDS]
    assert ("detect", "predict") in [path for path, _ in COMMANDS]


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_help_snapshot(path, command):
    text = _help(path)
    assert "<bool>" not in text, "a boolean flag shows a stray <bool> metavar"
    snapshot = SNAPSHOTS / ("-".join(path) + ".txt")
    if UPDATE:
        snapshot.parent.mkdir(exist_ok=True)
        snapshot.write_text(text)
    assert snapshot.exists(), f"no help snapshot for '{' '.join(path)}': run with AITK_UPDATE_HELP=1"
    assert text == snapshot.read_text(), f"'aitk {' '.join(path)} --help' changed: renew with AITK_UPDATE_HELP=1"


def test_no_stale_snapshots():
    expected = {"-".join(path) + ".txt" for path, _ in COMMANDS}
    stale = sorted(p.name for p in SNAPSHOTS.glob("*.txt") if p.name not in expected)
    assert not stale, f"snapshots for commands that no longer exist: {stale}"


def _long_flags(command) -> set[str]:
    flags = set()
    for param in command.params:
        if getattr(param, "hidden", False) or param.param_type_name != "option":
            continue
        for opt in [*param.opts, *param.secondary_opts]:
            if opt.startswith("--") and opt != "--help":
                flags.add(opt)
    return flags


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_docs_name_every_flag(path, command):
    page = (ROOT / "docs" / PAGES[path[0]]).read_text()
    shared = "".join((ROOT / "docs" / name).read_text() for name in SHARED_PAGES)
    missing = sorted(
        flag
        for flag in _long_flags(command)
        if not re.search(rf"{re.escape(flag)}(?![\w-])", page) and not re.search(rf"{re.escape(flag)}(?![\w-])", shared)
    )
    assert not missing, f"docs/{PAGES[path[0]]} does not mention these flags of 'aitk {' '.join(path)}': {missing}"
