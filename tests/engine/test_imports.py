"""The import graph: the engine names no capability, capabilities import no CLI and each other only
along declared edges, no module cycles, and config modules stay light."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENGINE = ROOT / "aitk" / "engine"
CAPABILITIES = ("transcribe", "autocut", "detect", "nerf", "docqa", "passk")


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append(node.module)
    return found


def test_the_engine_imports_no_capability_and_no_cli():
    for path in sorted(ENGINE.glob("*.py")):
        text = path.read_text()
        for module in _imports(path):
            assert not module.startswith(("aitk.cli", *(f"aitk.{c}" for c in CAPABILITIES))), (
                f"{path.name} imports {module}"
            )
        for cap in (*CAPABILITIES, "cli"):
            assert f"aitk.{cap}" not in text, f"{path.name} names aitk.{cap}"


def test_capabilities_import_no_cli_and_no_other_capability_but_the_declared_edges():
    allowed = {("autocut", "transcribe")}
    root = ENGINE.parent
    for cap in CAPABILITIES:
        for path in sorted((root / cap).rglob("*.py")):
            for module in _imports(path):
                parts = module.split(".")
                if parts[0] != "aitk" or len(parts) < 2 or parts[1] in ("engine", cap):
                    continue
                assert parts[1] != "cli", f"{path} imports {module}"
                assert (cap, parts[1]) in allowed, f"{path} imports {module}"


def _graph() -> dict[str, set[str]]:
    modules = {}
    for path in (ROOT / "aitk").rglob("*.py"):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        modules[name] = path
    graph = {}
    for name, path in modules.items():
        edges = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            else:
                continue
            # every import counts, lazy ones too; a module importing its own package is no cycle
            edges |= {t for t in targets if t in modules and t != name and not name.startswith(t + ".")}
        graph[name] = edges
    return graph


def test_no_import_cycles():
    graph = _graph()
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> None:
        if node in path:
            raise AssertionError("import cycle: " + " -> ".join(path[path.index(node) :] + [node]))
        if node in done:
            return
        for nxt in sorted(graph[node]):
            visit(nxt, [*path, node])
        done.add(node)

    for node in sorted(graph):
        visit(node, [])


def test_config_modules_import_no_framework():
    configs = [f"aitk.{c}.config" for c in CAPABILITIES if (ROOT / "aitk" / c / "config.py").exists()]
    assert len(configs) == len(CAPABILITIES)
    heavy = ("torch", "numpy", "transformers", "PIL")
    code = f"import sys; import {', '.join(configs)}; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert out.strip() == "[]"
