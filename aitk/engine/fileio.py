"""Atomic output: write to a hidden temp file in the target folder, then rename over the target.

A reader never sees a half-written file, and a crash leaves at most a `.aitk-tmp-*` file behind
(which watchers ignore).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from aitk.engine.errors import OutputError

TEMP_PREFIX = ".aitk-tmp-"
WRITABLE_HINT = "make the folder writable, or write to another folder"


class OutputClaims:
    """The output paths a batch's inputs will write: a second input that would write one of them
    (`a/talk.mp4` and `b/talk.mp4` into one --output-dir) fails instead of overwriting the first's."""

    def __init__(self) -> None:
        self.owners: dict[Path, Path] = {}  # resolved output -> the input that owns it

    def claim(self, input: str | os.PathLike, targets) -> str | None:
        """None when `input` may write `targets` (they are now its); else the error message for it."""
        resolved = [Path(t).resolve() for t in targets]
        owner = next((self.owners[t] for t in resolved if t in self.owners), None)
        if owner is not None:
            return f"{input}: its outputs would overwrite those of {owner}, which has the same name (use a separate --output-dir for one of them)"
        self.owners.update(dict.fromkeys(resolved, Path(input)))
        return None


def check_writable(folder: str | os.PathLike) -> None:
    """OutputError now, naming the folder, rather than from a tool (ffmpeg) after minutes of work.

    A folder that does not exist yet is checked where it would be created: its nearest existing
    parent."""
    folder = Path(folder)
    folder = next((p for p in [folder, *folder.parents] if p.exists()), Path("."))
    try:
        fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=folder)
    except OSError as exc:
        raise OutputError(f"cannot write to {folder}: {exc.strerror}", hint=WRITABLE_HINT) from exc
    os.close(fd)
    os.unlink(tmp)


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO]:
    """Open a temp file beside `path`; on clean exit it replaces `path`, on error it is removed."""
    target = Path(path)
    binary = "b" in mode
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=target.suffix + ".part", dir=target.parent)
    except OSError as exc:
        raise OutputError(f"cannot write to {target.parent}: {exc.strerror}", hint=WRITABLE_HINT) from exc
    try:
        with os.fdopen(fd, mode, encoding=None if binary else encoding) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    with atomic_open(path, "w") as handle:
        handle.write(text)
    return Path(path)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    with atomic_open(path, "wb", encoding=None) as handle:
        handle.write(data)
    return Path(path)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
