"""Host side of the sandbox: detect the layers, start one bubblewrap zygote per worker, talk to it.

The zygote (sandbox/zygote.py) runs with the interpreter's own standard library only; this module
decides the plan (which layers, which limits), builds the bubblewrap command, puts each worker in
its own cgroup when the machine lets us, and restarts a worker that stops answering.
"""

from __future__ import annotations

import contextlib
import os
import platform
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from aitk.engine.errors import DependencyError, UsageError
from aitk.passk.config import SandboxConfig
from aitk.passk.sandbox import landlock, plaindata, seccomp

SANDBOX_DIR = Path(__file__).parent / "sandbox"
INSIDE_DIR = "/run/aitk/passk_sandbox"  # where bubblewrap shows the sandbox package
SYSTEM_PATHS = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin")
BOOT = (
    "import sys,importlib.util as u;d=sys.argv[1];s=u.spec_from_file_location('passk_sandbox',d+'/__init__.py',"
    "submodule_search_locations=[d]);m=u.module_from_spec(s);sys.modules['passk_sandbox']=m;s.loader.exec_module(m);"
    "from passk_sandbox import zygote;zygote.main()"
)
CAPS = ("CAP_SETUID", "CAP_SETGID", "CAP_KILL", "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER")
GRACE = 10.0  # seconds past a sample's timeout before the host gives up on its worker
PROBE_CPU_SECONDS = 60  # the start-up probe's CPU backstop (each sample gets its own from its time limit)
WIRE = ("id", "kind", "program", "prompt", "test", "entry_point", "timeout", "output_cap")  # what enters


@dataclass
class Layers:
    """What this machine offers for the chosen level; `missing` says what is not there and why."""

    level: str
    namespaces: str = ""  # bubblewrap version when used
    cgroup: str = ""  # "v1" / "v2" when each worker gets memory and pids limits
    rlimits: bool = False
    landlock: int = 0  # Landlock ABI in force (0: none)
    seccomp: bool = False
    uid: int | None = None  # the user id samples run as (None: not checked yet)
    root_dropped: bool = False
    missing: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "level": self.level,
            "namespaces": self.namespaces or None,
            "cgroup": self.cgroup or None,
            "rlimits": self.rlimits,
            "landlock_abi": self.landlock,
            "seccomp": self.seccomp,
            "sample_uid": self.uid,
            "root_dropped": self.root_dropped,
            "missing": self.missing,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Layers:
        """The inverse of to_dict (a Ray worker's layers, reported back to the driver)."""
        return cls(
            data["level"],
            data["namespaces"] or "",
            data["cgroup"] or "",
            data["rlimits"],
            data["landlock_abi"],
            data["seccomp"],
            data["sample_uid"],
            data["root_dropped"],
            list(data["missing"]),
        )

    def describe(self) -> str:
        def mark(ok: bool, text: str) -> str:
            return f"{text} {'yes' if ok else 'NO'}"

        if self.level == "none":
            return "sandbox none: fresh processes, timeout, output cap and private verdict only (no isolation layers)"
        parts = []
        if self.level == "strict":
            parts.append(mark(bool(self.namespaces), f"namespaces (bubblewrap {self.namespaces or '-'})"))
        parts += [
            mark(bool(self.cgroup), f"cgroups ({self.cgroup or '-'})"),
            mark(self.rlimits, "rlimits"),
            mark(bool(self.landlock), f"landlock (ABI {self.landlock})"),
            mark(self.seccomp, "seccomp"),
            mark(
                self.uid not in (None, 0),
                f"unprivileged (uid {self.uid}{', dropped root' if self.root_dropped else ''})",
            ),
        ]
        return f"sandbox {self.level}: " + ", ".join(parts)


def detect(config: SandboxConfig) -> Layers:
    """What can be used before any worker starts (the zygote's probe confirms the kernel layers)."""
    layers = Layers(config.level)
    if config.level == "none":
        if config.require:
            raise UsageError("--require-sandbox with --sandbox none", hint="use --sandbox strict or standard")
        return layers
    if config.level == "strict":
        layers.namespaces = _bwrap_version()
        if not layers.namespaces:
            layers.missing.append(
                "namespaces: bubblewrap is not installed or cannot create namespaces here (apt-get install "
                "bubblewrap; Ubuntu may block unprivileged user namespaces)"
            )
    layers.cgroup = _cgroup_kind()
    if not layers.cgroup:
        layers.missing.append("cgroups: no writable cgroup for memory and pids limits (optional; rlimits still apply)")
    if not seccomp.supported():
        layers.missing.append(f"seccomp: no syscall table for {platform.machine()}")
    if landlock.abi_version() == 0:
        layers.missing.append("landlock: the kernel has no Landlock (Linux 5.13+ with landlock in the lsm= list)")
    return layers


def check_required(layers: Layers, config: SandboxConfig) -> None:
    """After the probe: with --require-sandbox, any missing layer (cgroups aside) stops the run."""
    if layers.level == "none":
        return
    if not layers.rlimits:
        layers.missing.append("rlimits: could not be applied")
    if layers.uid in (None, 0):
        layers.missing.append("unprivileged user: samples would run as root")
    if not layers.seccomp and not any(m.startswith("seccomp") for m in layers.missing):
        layers.missing.append("seccomp: the filter did not hold in the start-up probe")
    if not layers.landlock and not any(m.startswith("landlock") for m in layers.missing):
        layers.missing.append("landlock: the rules did not hold in the start-up probe")
    hard = [m for m in layers.missing if not m.startswith("cgroups")]
    if config.require and hard:
        raise DependencyError(f"--require-sandbox: {hard[0]}", hint="fix that or drop --require-sandbox")


def _bwrap_version() -> str:
    path = shutil.which("bwrap")
    if path is None:
        return ""
    try:
        version = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10).stdout.split()[-1]
        probe = subprocess.run(
            [path, *_namespace_args(), "--ro-bind", "/", "/", "true"], capture_output=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError, IndexError):
        return ""
    return version if probe.returncode == 0 else ""


def _namespace_args() -> list[str]:
    args = [
        "--unshare-pid",
        "--unshare-net",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--die-with-parent",
        "--new-session",
    ]
    if os.geteuid() != 0:
        args.insert(0, "--unshare-user")  # as root we keep real uids so samples can drop to their own
    return args


# --- cgroups -------------------------------------------------------------------------------------
def _own_cgroup(controller: str) -> Path | None:
    """Our cgroup folder for a v1 controller ('' for the v2 unified tree)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, names, path = line.split(":", 2)
            if (controller and controller in names.split(",")) or (not controller and names == ""):
                base = Path("/sys/fs/cgroup") / (controller if controller else "")
                return base / path.lstrip("/")
    return None


def _cgroup_kind() -> str:
    if Path("/sys/fs/cgroup/cgroup.controllers").is_file():
        own = _own_cgroup("")
        ok = (
            own is not None
            and os.access(own, os.W_OK)
            and {"memory", "pids"} <= set((own / "cgroup.subtree_control").read_text().split())
        )
        return "v2" if ok else ""
    mem, pids = _own_cgroup("memory"), _own_cgroup("pids")
    return "v1" if mem and pids and os.access(mem, os.W_OK) and os.access(pids, os.W_OK) else ""


class _Cgroup:
    """Memory and pids limits for one worker's whole sandbox (a backstop behind the rlimits)."""

    def __init__(self, kind: str, name: str, memory: int, pids: int):
        self.dirs: list[Path] = []
        if kind == "v2":
            own = _own_cgroup("")
            self._make(own / name, {"memory.max": memory, "memory.swap.max": 0, "pids.max": pids})
        else:
            self._make(_own_cgroup("memory") / name, {"memory.limit_in_bytes": memory})
            self._make(_own_cgroup("pids") / name, {"pids.max": pids})

    def _make(self, path: Path, settings: dict) -> None:
        path.mkdir(exist_ok=True)
        self.dirs.append(path)
        for key, value in settings.items():
            with contextlib.suppress(OSError):
                (path / key).write_text(str(value))

    def enter(self) -> None:
        """Runs in the worker's child before exec (preexec_fn): move it into every folder."""
        for path in self.dirs:
            (path / "cgroup.procs").write_text(str(os.getpid()))

    def remove(self) -> None:
        for path in self.dirs:
            for _ in range(50):
                try:
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)


# --- workers --------------------------------------------------------------------------------------
class WorkerDied(Exception):
    pass


class Worker:
    """One zygote in its own sandbox. `run` sends a job and returns the zygote's result dict."""

    def __init__(self, index: int, config: SandboxConfig, layers: Layers):
        self.index, self.config, self.layers = index, config, layers
        self.proc: subprocess.Popen | None = None
        self.cgroup: _Cgroup | None = None
        self.host_tmp: str | None = None

    def start(self) -> dict:
        level = self.config.level
        use_bwrap = level == "strict" and bool(self.layers.namespaces)
        python = os.path.realpath(getattr(sys, "_base_executable", sys.executable))
        if use_bwrap:
            work_root, package = "/tmp/work", INSIDE_DIR
            command = self._bwrap_command(python) + [python, "-I", "-S", "-c", BOOT, INSIDE_DIR]
        else:
            self.host_tmp = tempfile.mkdtemp(prefix="aitk-passk-")
            os.chmod(self.host_tmp, 0o711)
            work_root, package = os.path.join(self.host_tmp, "work"), str(SANDBOX_DIR)
            command = [python, "-I", "-S", "-c", BOOT, str(SANDBOX_DIR)]
        if level != "none" and self.layers.cgroup:
            memory = 2 * self.config.memory_mb * 2**20 + 2**28  # a sample's two processes plus the zygote
            self.cgroup = _Cgroup(
                self.layers.cgroup, f"aitk-passk-{os.getpid()}-{self.index}", memory, 4 * self.config.nproc
            )
        debug = os.environ.get("AITK_DEBUG", "") not in ("", "0")
        self.proc = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=None if debug else subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=self.cgroup.enter if self.cgroup else None,
            bufsize=0,
        )
        plaindata.send(
            self.proc.stdin.fileno(),
            {
                "plan": self._plan(python, package),
                "uids": self._uids(),
                "work_root": work_root,
                "output_cap": self.config.output_bytes,
            },
        )
        return self._receive(30.0)

    def _uids(self) -> list[int] | None:
        if self.config.level == "none" or os.geteuid() != 0:
            return None
        base = self.config.uid_base + 2 * self.index
        return [base, base + 1]

    def _plan(self, python: str, package: str) -> dict:
        if self.config.level == "none":
            return {"rlimits": False, "landlock": 0, "seccomp": False, "no_new_privs": False}
        reads = sorted({*SYSTEM_PATHS, *_python_dirs(python), package, "/etc/ld.so.cache", "/etc/localtime"})
        return {
            "rlimits": True,
            "memory_bytes": self.config.memory_mb * 2**20,
            "cpu_seconds": PROBE_CPU_SECONDS,
            "file_bytes": self.config.file_bytes,
            "nproc": self.config.nproc if os.geteuid() == 0 else None,
            "landlock": landlock.abi_version(),
            "seccomp": seccomp.supported(),
            "read_paths": reads,
        }

    def _bwrap_command(self, python: str) -> list[str]:
        binds = [p for p in SYSTEM_PATHS if os.path.exists(p)]
        extra = [d for d in _python_dirs(python) if not any(d == s or d.startswith(s + "/") for s in binds)]
        args = [
            "bwrap",
            *_namespace_args(),
            "--proc",
            "/proc",
            "--dev",
            "/dev",
            "--size",
            str(256 * 2**20),
            "--tmpfs",
            "/tmp",
        ]
        for folder in sorted({a for path in [*extra, INSIDE_DIR] for a in _ancestors(path)}, key=len):
            args += ["--perms", "0755", "--dir", folder]  # bubblewrap would make them 0700
        for path in [*binds, *extra]:
            args += ["--ro-bind", path, path]
        args += [
            "--ro-bind",
            str(SANDBOX_DIR),
            INSIDE_DIR,
            "--ro-bind-try",
            "/etc/ld.so.cache",
            "/etc/ld.so.cache",
            "--ro-bind-try",
            "/etc/localtime",
            "/etc/localtime",
            "--chdir",
            "/tmp",
        ]
        if os.geteuid() == 0:
            for cap in CAPS:
                args += ["--cap-add", cap]
        return args

    def run(self, job: dict) -> dict:
        self._send({k: job[k] for k in WIRE if k in job})  # host-only keys (expected outputs) stay out
        return self._receive(float(job["timeout"]) + GRACE)

    def run_program(self, job: dict, judge) -> None:
        """A stdin/stdout sample: its inputs go in one at a time; `judge(index, reply)` says whether to
        run the next. An input too big for one message is judged as the sandbox error it is."""
        self._send({k: job[k] for k in WIRE if k in job})
        try:
            for index, text in enumerate(job["inputs"]):
                try:
                    self._send({"input": text})
                except plaindata.NotPlainData as exc:
                    judge(index, {"status": "sandbox error", "reason": f"the test input is too big to send ({exc})"})
                    return
                if not judge(index, self._receive(float(job["timeout"]) + GRACE)):
                    return
        finally:
            if self.proc is not None and self.proc.poll() is None:
                self._send({})  # the sample is over

    def _send(self, message: dict) -> None:
        if self.proc is None or self.proc.poll() is not None:
            raise WorkerDied("worker is not running")
        try:
            plaindata.send(self.proc.stdin.fileno(), message)
        except OSError as exc:
            raise WorkerDied(str(exc)) from None

    def _receive(self, timeout: float) -> dict:
        fd = self.proc.stdout.fileno()
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            raise WorkerDied(f"no answer within {timeout:.0f} s")
        try:
            message = plaindata.recv(fd)
        except (plaindata.NotPlainData, ValueError, OSError) as exc:
            raise WorkerDied(str(exc)) from None
        if message is None:
            raise WorkerDied("the sandbox worker exited")
        return message

    def close(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()
            try:
                self.proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                pass
            with contextlib.suppress(OSError):
                os.killpg(self.proc.pid, signal.SIGKILL)  # the whole sandbox: bwrap, zygote, anything left
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=5)
            with contextlib.suppress(OSError, ValueError):
                self.proc.stdout.close()
            self.proc = None
        if self.cgroup is not None:
            self.cgroup.remove()
            self.cgroup = None
        if self.host_tmp is not None:
            shutil.rmtree(self.host_tmp, ignore_errors=True)
            self.host_tmp = None


def _python_dirs(python: str) -> list[str]:
    dirs = {os.path.realpath(p) for p in (sys.base_prefix, sys.base_exec_prefix)}
    dirs.add(os.path.dirname(python))
    dirs = {d for d in dirs if d and d != "/"}
    return sorted(d for d in dirs if not any(d.startswith(other + "/") for other in dirs))


def _ancestors(path: str) -> list[str]:
    parts = Path(path).parts[1:-1]
    return ["/" + "/".join(parts[: i + 1]) for i in range(len(parts))]


def start_workers(count: int, config: SandboxConfig, layers: Layers, first_index: int = 0) -> list[Worker]:
    """Start every worker; fold the first probe into `layers`; fail closed when required.

    Worker i runs samples as user ids uid_base + 2i and + 2i + 1: `first_index` keeps workers of
    different processes on one machine apart.
    """
    workers: list[Worker] = []
    try:
        for index in range(first_index, first_index + count):
            worker = Worker(index, config, layers)
            workers.append(worker)
            hello = worker.start()
            if index == first_index and config.level != "none":
                probe = hello["probe"]
                layers.rlimits, layers.landlock, layers.seccomp = (
                    probe["rlimits"],
                    int(probe["landlock"]),
                    probe["seccomp"],
                )
                layers.uid, layers.root_dropped = probe["uid"], probe["root_dropped"]
                check_required(layers, config)
    except WorkerDied as exc:
        for worker in workers:
            worker.close()
        raise DependencyError(
            f"the sandbox worker failed to start ({exc})",
            hint="run with AITK_DEBUG=1 to see why, or try --sandbox standard",
        ) from None
    except BaseException:
        for worker in workers:
            worker.close()
        raise
    return workers
