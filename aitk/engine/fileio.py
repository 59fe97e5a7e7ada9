"""Atomic output: write to a hidden temp file (or folder) beside the target, then rename it over.

A reader never sees a half-written file, and a crash leaves at most a `.aitk-tmp-*` file behind
(which watchers ignore). `Staged` is the mechanism; `atomic_path`, `atomic_open` and
`atomic_write_text/bytes` are the ways to use it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
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
            return (
                f"{input}: its outputs would overwrite those of {owner}, which has the same name (use a separate "
                "--output-dir for one of them)"
            )
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


class Staged:
    """Work that ends in a rename: write to `path` (beside `target`), then `commit()` renames it
    over `target`, or `discard()` removes it. Every temp-file-then-rename in aitk goes through here.

    `path` is `.aitk-tmp-<random>-NAME` (watchers and folder expansion skip it; the suffix is kept,
    so ffmpeg picks the format from it) and does not exist yet: open it, or hand it to a tool
    (ffmpeg, torch.save, save_pretrained). A folder commits whole: an existing folder at `target`
    is moved aside, the new one renamed in, the old one removed. With `resumable` the path is the
    fixed `.NAME.partial`, kept when the work stops so that a rerun can continue it (`resume`).
    """

    def __init__(self, target: str | os.PathLike, resumable: bool = False):
        self.target = Path(target)
        name = self.target.name
        self.path = self.target.with_name(
            f".{name}.partial" if resumable else f"{TEMP_PREFIX}{secrets.token_hex(4)}-{name}"
        )

    def resume(self) -> bool:
        """A finished target becomes the partial again, to be extended; True when there is a partial to continue."""
        if not self.path.exists() and self.target.exists():
            os.replace(self.target, self.path)
        return self.path.exists()

    def commit(self) -> Path:
        if self.path.is_dir() and not self.path.is_symlink() and self.target.is_dir():
            old = self.target.with_name(f"{TEMP_PREFIX}{secrets.token_hex(4)}-old-{self.target.name}")
            os.replace(self.target, old)
            os.replace(self.path, self.target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(self.path, self.target)
        return self.target

    def discard(self) -> None:
        if self.path.is_dir() and not self.path.is_symlink():
            shutil.rmtree(self.path, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                self.path.unlink()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """A temp path (file or folder) to write; on clean exit it replaces `path`, on error it is removed."""
    staged = Staged(path)
    try:
        yield staged.path
        staged.commit()
    except BaseException:
        staged.discard()
        raise


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO]:
    """Open a temp file beside `path`; on clean exit it replaces `path`, on error it is removed."""
    staged = Staged(path)
    binary = "b" in mode
    try:
        staged.target.parent.mkdir(parents=True, exist_ok=True)
        handle = open(staged.path, mode.replace("w", "x"), encoding=None if binary else encoding)
    except OSError as exc:
        raise OutputError(f"cannot write to {staged.target.parent}: {exc.strerror}", hint=WRITABLE_HINT) from exc
    try:
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        staged.commit()
    except BaseException:
        staged.discard()
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    with atomic_open(path, "w") as handle:
        handle.write(text)
    return Path(path)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    with atomic_open(path, "wb", encoding=None) as handle:
        handle.write(data)
    return Path(path)
