"""Typed options for `aitk passk evaluate`."""

from __future__ import annotations

from dataclasses import dataclass

LEVELS = ("strict", "standard", "none")


@dataclass(frozen=True)
class SandboxConfig:
    level: str = "strict"  # strict: namespaces + every layer; standard: every layer but namespaces; none: processes only
    require: bool = False  # fail closed when a layer of `level` is missing (CI)
    timeout: float = 3.0  # wall-clock seconds per sample (program load and every test call)
    memory_mb: int = 512  # address space per sample process (RLIMIT_AS)
    output_bytes: int = 1 << 20  # stdout+stderr a sample may write before it is stopped
    file_bytes: int = 16 << 20  # largest file a sample may write in its work folder (RLIMIT_FSIZE)
    nproc: int = 16  # processes a sample may run at once (RLIMIT_NPROC on its own user id)
    uid_base: int = 61000  # worker i runs candidates as uid_base + 2i and tests as uid_base + 2i + 1


@dataclass(frozen=True)
class EvaluateConfig:
    ks: tuple[int, ...] = (1, 10, 100)  # pass@k for each k
    workers: int = 2  # sandboxes running samples in parallel (one per CPU core is right)
    sandbox: SandboxConfig = SandboxConfig()
    force: bool = False  # start over instead of resuming from an earlier results file
