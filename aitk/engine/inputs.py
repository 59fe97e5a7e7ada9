"""Turn command-line inputs (files, folders, globs) into an ordered list of media files.

Files named explicitly are taken whatever their extension; folders and globs keep only media
extensions (case-insensitive) and skip hidden and temp files. Missing inputs are returned as
problems, so a batch can report them and go on.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path

from aitk.engine.errors import MediaError
from aitk.engine.fileio import TEMP_PREFIX
from aitk.engine.media import is_media_path

_GLOB_CHARS = set("*?[")


def expand_inputs(
    inputs: list[str], recursive: bool = False, accept=is_media_path
) -> tuple[list[Path], list[MediaError]]:
    """Return (files in order without duplicates, one MediaError per input that matched nothing)."""
    files: list[Path] = []
    problems: list[MediaError] = []
    seen: set[Path] = set()

    def add(path: Path) -> None:
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            files.append(path)

    for raw in inputs:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in _walk(path, recursive) if accept(p))
            if not found:
                problems.append(
                    MediaError(
                        "folder holds no files of a type this command reads",
                        path=path,
                        hint="add --recursive to look in sub-folders" if not recursive else "check the folder",
                    )
                )
            for p in found:
                add(p)
        elif path.exists():
            add(path)
        elif _GLOB_CHARS & set(raw):
            matches = sorted(Path(m) for m in glob.glob(raw, recursive=True) if Path(m).is_file() and accept(Path(m)))
            if not matches:
                problems.append(
                    MediaError(
                        "pattern matched no files of a type this command reads",
                        path=raw,
                        hint="check the pattern; quote it so aitk, not the shell, expands it",
                    )
                )
            for p in matches:
                add(p)
        else:
            problems.append(MediaError("no such file", path=path, hint="check the path"))
    return files, problems


def _walk(folder: Path, recursive: bool):
    if not recursive:
        yield from (p for p in folder.iterdir() if p.is_file() and not _hidden(p))
        return
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in names:
            p = Path(root) / name
            if not _hidden(p):
                yield p


def _hidden(path: Path) -> bool:
    return path.name.startswith(".") or path.name.startswith(TEMP_PREFIX)
