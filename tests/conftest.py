"""Shared fixtures: an isolated cache, speech made with flite/espeak-ng, media made with ffmpeg.

Nothing is downloaded. Tests that need a program skip when it is missing, except under
AITK_STRICT_TESTS=1 (scripts/test.sh, CI), where they fail: setup installs those programs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import warnings
from pathlib import Path

import pytest

STRICT = os.environ.get("AITK_STRICT_TESTS") == "1"


def require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        message = f"{tool} is not installed (scripts/setup.sh installs it)"
        if STRICT:
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session", autouse=True)
def aitk_home(tmp_path_factory) -> Path:
    """Point the model cache at a temp folder for the whole run (the user's cache is never touched)."""
    home = tmp_path_factory.mktemp("aitk-home")
    os.environ["AITK_HOME"] = str(home)
    return home


def speak(text: str, out: Path, voice: str = "awb", engine: str = "flite") -> Path:
    """Synthesise `text` into the wav file `out` with flite (clear English) or espeak-ng (-v voice)."""
    if engine == "flite":
        subprocess.run([require("flite"), "-voice", voice, "-t", text, "-o", str(out)], check=True)
    else:
        subprocess.run([require("espeak-ng"), "-v", voice, "-s", "150", "-w", str(out), text], check=True)
    return out


def ffmpeg(*args: str) -> None:
    subprocess.run([require("ffmpeg"), "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def make_video(out: Path, audio: Path | None = None, seconds: float = 2.0) -> Path:
    """A small H.264 video, with `audio` as its sound track (or silent with no audio stream)."""
    if audio is None:
        ffmpeg(
            "-f",
            "lavfi",
            "-i",
            f"testsrc=size=160x120:rate=25:duration={seconds}",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            str(out),
        )
    else:
        ffmpeg(
            "-f",
            "lavfi",
            "-i",
            "color=c=gray:s=160x120:r=25",
            "-i",
            str(audio),
            "-shortest",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            str(out),
        )
    return out


def run_aitk_subprocess(
    *args: str, env: dict | None = None, timeout: float = 300, **kwargs
) -> subprocess.CompletedProcess:
    """Run the real CLI in a subprocess, as a user or a script would (for exit statuses of a real
    process, signals, pipes, Ray and watchers; each run pays the imports of torch & co, ~2 s)."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "aitk", *args], capture_output=True, text=True, env=full_env, timeout=timeout, **kwargs
    )


class _TimedOut(BaseException):
    """Raised by the alarm in run_aitk: a BaseException, so the CLI's handlers do not turn it into an exit status."""


def run_aitk(
    *args: str,
    env: dict | None = None,
    timeout: float = 300,
    input: str | bytes | None = None,
    cwd: str | os.PathLike | None = None,
) -> subprocess.CompletedProcess:
    """Run the CLI in this process, through the same entry point as `python -m aitk` (aitk.cli.main:
    its usage-error lines, exit statuses and SystemExit), with typer's CliRunner holding stdin,
    stdout and stderr apart. Returns a CompletedProcess like run_aitk_subprocess.

    Per call, as a child process would have it: `env` on top of os.environ (the whole environment
    is restored afterwards, keys the CLI set included), `cwd`, `input` on stdin, sys.argv, the
    SIGINT/SIGTERM handlers, sys.excepthook, torch's thread count (OMP_NUM_THREADS in `env` sets it,
    as it would at a child's start), and Python's default warning filters (a warning shows on
    stderr, as in a fresh interpreter, instead of being collected by pytest). An exception escaping
    main() is printed and gives status 1, as the interpreter would; `timeout` raises
    subprocess.TimeoutExpired.
    """
    import signal
    import traceback

    from typer.testing import CliRunner

    import aitk.cli

    argv = [str(a) for a in args]
    main_module = sys.modules["__main__"]
    saved = {
        "environ": dict(os.environ),
        "cwd": os.getcwd(),
        "argv": sys.argv,
        "excepthook": sys.excepthook,
        "signals": {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)},
        "package": getattr(main_module, "__package__", None),
    }
    if "OMP_NUM_THREADS" in (env or {}):
        import torch  # now, so that the variable does not become the thread count of the whole session
    torch = sys.modules.get("torch")
    threads = torch.get_num_threads() if torch is not None else None
    alarm = threading.current_thread() is threading.main_thread() and timeout is not None

    def on_alarm(*_):
        raise _TimedOut()

    code: object = 0
    try:
        with CliRunner().isolation(input=input, env={k: str(v) for k, v in (env or {}).items()}) as (out, err, _mixed):
            try:
                # click names the program from __main__ and argv[0]: "python -m aitk", as in the subprocess
                main_module.__package__ = "aitk"
                sys.argv = [str(Path(aitk.cli.__file__).parent.parent / "__main__.py"), *argv]
                if cwd is not None:
                    os.chdir(cwd)
                if torch is not None and str((env or {}).get("OMP_NUM_THREADS", "")).isdigit():
                    torch.set_num_threads(int(env["OMP_NUM_THREADS"]))
                if alarm:
                    old_alarm = signal.signal(signal.SIGALRM, on_alarm)
                    signal.setitimer(signal.ITIMER_REAL, timeout)
                with warnings.catch_warnings():
                    warnings.resetwarnings()
                    for action, category, module in (
                        ("default", DeprecationWarning, "__main__"),
                        ("ignore", DeprecationWarning, ""),
                        ("ignore", PendingDeprecationWarning, ""),
                        ("ignore", ImportWarning, ""),
                        ("ignore", ResourceWarning, ""),
                    ):
                        warnings.filterwarnings(action, category=category, module=module)
                    warnings.showwarning = _show_warning
                    try:
                        aitk.cli.main()
                    except SystemExit as exc:
                        code = exc.code
                    except _TimedOut:
                        raise subprocess.TimeoutExpired(["aitk", *argv], timeout) from None
                    except Exception:  # what the interpreter does with an uncaught exception
                        traceback.print_exc()
                        code = 1
            finally:
                if alarm:
                    signal.setitimer(signal.ITIMER_REAL, 0)
                    signal.signal(signal.SIGALRM, old_alarm)
                sys.stdout.flush()
                sys.stderr.flush()
                stdout, stderr = out.getvalue(), err.getvalue()
                main_module.__package__ = saved["package"]
                sys.argv, sys.excepthook = saved["argv"], saved["excepthook"]
                for sig, handler in saved["signals"].items():
                    signal.signal(sig, handler)
                os.chdir(saved["cwd"])
                if threads is not None:
                    torch.set_num_threads(threads)
    finally:  # after isolation() has put back the keys it set: the whole environment, as it was
        os.environ.clear()
        os.environ.update(saved["environ"])
    if code is None:
        code = 0
    elif not isinstance(code, int):  # sys.exit("message"): the message on stderr, status 1
        stderr += f"{code}\n".encode()
        code = 1
    return subprocess.CompletedProcess(
        ["aitk", *argv], code, stdout.decode("utf-8", "replace"), stderr.decode("utf-8", "replace")
    )


def _show_warning(message, category, filename, lineno, file=None, line=None):
    sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Speech recognition turns spoken words into written text.",
    "Please call the office before noon on Friday.",
]


@pytest.fixture(scope="session")
def speech_dir(tmp_path_factory) -> Path:
    """Three clips with known text (file stem -> sentence index), made once per run."""
    folder = tmp_path_factory.mktemp("speech")
    for i, sentence in enumerate(SENTENCES):
        speak(sentence, folder / f"clip{i}.wav")
    return folder


CODE_LM = "qwen2.5-coder-0.5b-instruct"  # docqa's reader and passk's generator (their catalogues)


def _seed_dequantized_lm() -> None:
    """Hard-link the code LM's dequantized folder from the user's cache into the test cache.

    scripts/setup.sh dequantizes the GGUF once into the user's cache (about a minute); without this
    every test run would do it again in its fresh cache. The test cache still joins and checks the
    GGUF itself. Where the user's cache has no dequantized folder, the first load builds one."""
    from aitk.cli.catalogue import load
    from aitk.engine.lm import TRANSFORMERS_FOLDER
    from aitk.engine.models import link_or_copy, materialise

    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "aitk"
    ready = cache / "models" / CODE_LM / TRANSFORMERS_FOLDER
    if not ready.is_dir():
        return
    target = materialise(load().get(CODE_LM)) / TRANSFORMERS_FOLDER
    if target.exists():
        return
    staging = target.with_name(target.name + ".seeding")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(ready, staging, copy_function=link_or_copy)
    staging.rename(target)


@pytest.fixture(scope="session")
def shared_lm():
    """The causal LM (docqa's default reader, passk's offline generator) loaded once per run.

    From the first test that asks for this fixture on, every aitk.engine.lm.load_causal_lm in this
    process, in-process CLI runs included, gets the tokenizer and model it loaded before for the
    same name and device (the first load in a fresh cache dequantizes the GGUF: about a minute;
    each later one would take seconds). Loads that fail are not kept: they fail again each time.
    """
    from aitk.engine import lm

    _seed_dequantized_lm()
    original, loaded = lm.load_causal_lm, {}

    def load_once(name, device, *args, **kwargs):
        key = (name, device.torch, device.fp16)
        if key not in loaded:
            loaded[key] = original(name, device, *args, **kwargs)
        return loaded[key]

    patch = pytest.MonkeyPatch()
    patch.setattr(lm, "load_causal_lm", load_once)
    yield load_once
    patch.undo()


@pytest.fixture(scope="session")
def ray_local():
    """A real local Ray with 2 CPUs for the whole run (started once: it takes several seconds)."""
    ray = pytest.importorskip("ray") if not STRICT else __import__("ray")
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray
    ray.shutdown()
