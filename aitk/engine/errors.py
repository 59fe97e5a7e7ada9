"""One error hierarchy. Messages are written for users: one line, naming the thing and the fix.

The CLI turns an AitkError into that line and an exit code; anything else is a bug and shows a
traceback (as does any error when AITK_DEBUG=1).
"""

from __future__ import annotations


class AitkError(Exception):
    """Base class: a problem the user can fix. `exit_code` is what the CLI exits with."""

    exit_code = 1

    def __init__(self, message: str, *, path: object | None = None, hint: str | None = None):
        self.path = None if path is None else str(path)
        self.hint = hint
        super().__init__(message)

    @property
    def message(self) -> str:
        text = str(self.args[0]) if self.args else self.__class__.__name__
        if self.path and not text.startswith(f"{self.path}:"):  # every per-file error starts with its file
            text = f"{self.path}: {text}"
        if self.hint:
            text = f"{text} ({self.hint})"
        return " ".join(text.split())  # always one line

    def __str__(self) -> str:
        return self.message


class UsageError(AitkError):
    """Bad flags or arguments: exit 2."""

    exit_code = 2


class DeviceError(UsageError):
    """A --device that is absent or that the chosen backend cannot use."""


class DependencyError(AitkError):
    """A program or package aitk needs is missing (ffmpeg, a model package)."""


class MediaError(AitkError):
    """An input that cannot be read as media: missing, empty, corrupt, no audio stream."""


class ModelError(AitkError):
    """A model that is unknown, missing, corrupt (sha256) or cannot be loaded."""


class OutputError(AitkError):
    """An output that cannot be written (unwritable folder, a user's file in the way)."""
