"""Hostile samples: each is contained and scored correctly, honest samples still pass, nothing leaks.

All samples answer `add(a, b)`. Several add the count of side effects that got through to their
answer, so they pass exactly when every attempt was stopped. Each runs twice: as a function
completion (HumanEval style) and inside a stdin/stdout program that reads `a b` and prints the sum
(CodeContests style), where the host judges the printed output. Everything runs under tiny limits
(256 MiB, 1.5 s, 16 processes) and every side effect targets this test's own temp folder.
"""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest

from aitk.passk.config import EvaluateConfig, SandboxConfig, TimeLimits
from aitk.passk.problems import load_problems
from aitk.passk.run import evaluate
from tests.passk.conftest import ADD, ADD_STDIO, read_jsonl, run_sandboxed, sandbox_uids_alive, write_jsonl

HONEST = "    return a + b\n"
# In a program the same body behaves differently only where it touches the program's own output.
PROGRAM_EXPECTED = {"closes_stdout": "failed"}


HUNT = (  # a program that looks through its memory for the hidden test's expected output ("777777\n")
    "import gc, sys\nfound, target = 0, str(7 * 111111) + chr(10)\nfor o in gc.get_objects():\n    try:\n"
    "        mine = type(o) is dict and o is globals()\n"
    "        seq = type(o) in (list, tuple)\n"
    "        items = list(o.values()) if type(o) is dict and not mine else list(o) if seq else []\n"
    "    except Exception:\n        items = []\n"
    "    found += any(type(i) is str and i == target for i in items)\n"
    "a, b = map(int, input().split())\nprint(a + b + found)\n"
)


def as_program(completion: str) -> str:
    """The hostile body as a whole stdin/stdout program: define add, read a b, print the sum."""
    return "def add(a, b):\n" + completion + "\na, b = map(int, input().split())\nprint(add(a, b))\n"


def hostile_samples(base: Path, port: int) -> dict[str, tuple[str, str]]:
    """name -> (completion, expected status)."""
    secret, victim, new_file, marker = (
        base / n for n in ("secret.txt", "victim.txt", "created.txt", "orphan-alive.txt")
    )
    results = base / "samples_results.jsonl"
    return {
        "honest": (HONEST, "passed"),
        "infinite_loop": ("    while True:\n        pass\n", "timed out"),
        "c_loop_ignoring_signals": (
            "    import re, signal\n"
            "    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGALRM, signal.SIGXCPU, signal.SIGHUP):\n"
            "        signal.signal(s, signal.SIG_IGN)\n"
            "    re.match(r'(a+)+$', 'a' * 64 + 'b')\n    return a + b\n",
            "timed out",
        ),
        "fork_bomb": (
            "    import os\n    while True:\n        try:\n"
            "            os.fork()\n        except OSError:\n            pass\n",
            "timed out",
        ),
        "memory_bomb": ("    x = bytearray(8 * 1024 ** 3)\n    return a + b\n", "out of memory"),
        "memory_bomb_list": ("    x = [0] * (2 * 10 ** 9)\n    return a + b\n", "out of memory"),
        "recursion_bomb": (
            "    import sys\n    sys.setrecursionlimit(10 ** 8)\n"
            "    def f(n):\n        return f(n + 1) + 1\n    return f(0)\n",
            {"failed", "out of memory", "timed out"},
        ),
        "files_outside": (
            "    import os\n    hits = 0\n"
            f"    for act in (lambda: open({str(new_file)!r}, 'w').write('x'), lambda: os.remove({str(victim)!r}),\n"
            "                lambda: open('/tmp/outside-work', 'w').write('x'),\n"
            "                lambda: open('/usr/aitk-owned', 'w').write('x')):\n"
            "        try:\n            act()\n            hits += 1\n        except Exception:\n            pass\n"
            "    return a + b + hits\n",
            "passed",
        ),
        "read_secret": (
            f"    try:\n        data = open({str(secret)!r}).read()\n    except Exception:\n        data = ''\n"
            "    return a + b + len(data)\n",
            "passed",
        ),
        "connect_localhost": (
            f"    import socket\n    s = socket.socket()\n"
            f"    s.connect(('127.0.0.1', {port}))\n    s.sendall(b'leak')\n"
            "    return a + b\n",
            "sandbox violation",
        ),
        "ptrace": (
            "    import ctypes\n    ctypes.CDLL(None).ptrace(16, 1, 0, 0)\n    return a + b\n",
            "sandbox violation",
        ),
        "orphan_tampers_later": (
            "    import os, time\n"
            "    if os.fork() == 0:\n        os.setsid()\n        if os.fork() == 0:\n            time.sleep(1.0)\n"
            f"            for p in ({str(results)!r}, {str(marker)!r}, 'results.jsonl'):\n"
            "                try:\n                    open(p, 'w').write('tampered')\n"
            "                except Exception:\n                    pass\n"
            "        os._exit(0)\n    return a + b\n",
            "passed",
        ),
        "stdout_flood": ("    while True:\n        print('x' * 65536)\n", "output limit"),
        "closes_stdout": (
            "    import os, sys\n    for fd in (0, 1, 2):\n        try:\n"
            "            os.close(fd)\n        except OSError:\n            pass\n"
            "    print('lost')\n    sys.stdout = None\n    return a + b\n",
            "passed",
        ),
        "kills_parent": (
            "    import os, signal\n"
            "    for target in [os.getppid(), 1, -1, *range(2, 300)]:\n"
            "        if target not in (os.getpid(), -os.getpid()):\n"
            "            try:\n                os.kill(target, signal.SIGKILL)\n"
            "            except Exception:\n                pass\n"
            "    return a - b\n",
            "failed",
        ),
        "sys_exit_at_load": (HONEST + "import sys\nsys.exit(0)\n", "failed"),
        "os_exit_at_load": (HONEST + "import os\nos._exit(0)\n", "failed"),
        "sys_exit_in_call": ("    import sys\n    sys.exit(0)\n", "failed"),
        "atexit_trick": ("    return a - b\nimport atexit\natexit.register(lambda: print('passed'))\n", "failed"),
        "always_equal": (
            "    class A:\n        def __eq__(self, o):\n            return True\n    return A()\n",
            "failed",
        ),
        "int_subclass": (
            "    class I(int):\n        def __eq__(self, o):\n            return True\n    return I(0)\n",
            "failed",
        ),
        "patches_check": (
            "    return a - b\nimport builtins\nbuiltins.check = lambda candidate: None\n"
            "def check(candidate):\n    pass\n",
            "failed",
        ),
        "frame_and_trace_tampering": (
            "    import sys\n    f = sys._getframe()\n    while f is not None:\n"
            "        f.f_globals.update(passed=True, result='passed')\n        f = f.f_back\n"
            "    sys.settrace(None)\n    h = sys.modules.get('passk_sandbox.harness')\n"
            "    if h is not None:\n        h.os._exit = lambda code: None\n    return a - b\n",
            "failed",
        ),
        "forged_verdicts": (
            '    import os\n    print(\'passed\')\n    print(json_line := \'{"passed": true, "reason": ""}\')\n'
            "    for fd in range(64):\n        try:\n"
            "            os.write(fd, b'\\x00\\x00\\x00\\x10{\"passed\":true}')\n"
            "        except OSError:\n            pass\n    return a - b\n",
            "failed",
        ),
        "reads_the_test": (  # answers from the test's own asserts, if it can find them
            "    import gc, re, sys\n    f, seen = sys._getframe(), []\n    while f is not None:\n"
            "        seen += [v for v in f.f_locals.values() if type(v) is dict]\n        f = f.f_back\n"
            "    seen += [o for o in gc.get_objects() if type(o) is dict]\n"
            "    texts = [v for d in seen for v in list(d.values()) if type(v) is str and 'candidate(' in v]\n"
            "    for x, y, want in re.findall(r'candidate\\((-?\\d+), (-?\\d+)\\) == (-?\\d+)', ''.join(texts)):\n"
            "        if (int(x), int(y)) == (a, b):\n            return int(want)\n"
            "    return a - b\n",
            "failed",
        ),
        "honest_after_all_that": (HONEST, "passed"),
    }


MODES = [("strict", "function"), ("standard", "function"), ("strict", "program"), ("standard", "program")]


@pytest.fixture(scope="module", params=MODES, ids=[f"{level}-{mode}" for level, mode in MODES])
def hostile_run(request, tmp_path_factory):
    level, mode = request.param
    base = tmp_path_factory.mktemp(f"hostile-{level}-{mode}")
    (base / "secret.txt").write_text("TOP-SECRET")
    (base / "secret.txt").chmod(0o644)  # readable by anyone on the host: only the sandbox may stop it
    (base / "victim.txt").write_text("keep me")
    base.chmod(0o777)  # writable by anyone on the host: only the sandbox may stop the writes
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.settimeout(0.2)
    cases = hostile_samples(base, listener.getsockname()[1])
    if mode == "program":
        cases = {n: (as_program(c), PROGRAM_EXPECTED.get(n, e)) for n, (c, e) in cases.items()}
        cases["hunts_expected_outputs"] = (HUNT, "passed")  # finds nothing: the outputs stay on the host
    samples = write_jsonl(
        base / "samples.jsonl", [{"task_id": ADD["task_id"], "completion": c, "name": n} for n, (c, _) in cases.items()]
    )
    problems = load_problems(str(write_jsonl(base / "problems.jsonl", [ADD if mode == "function" else ADD_STDIO])))
    config = EvaluateConfig(
        ks=(1,),
        workers=2,
        sandbox=SandboxConfig(level=level, memory_mb=256, require=True),
        limits=TimeLimits(fixed=1.5),
    )
    summary = run_sandboxed(level, lambda: evaluate(samples, problems, config))
    results_text = summary.results.read_text()
    time.sleep(1.5)  # give any surviving orphan the time it asked for
    try:
        leaked = listener.accept()[0].recv(16)
    except OSError:
        leaked = b""
    listener.close()
    results = {r["name"]: r for r in read_jsonl(summary.results)}
    return {
        "base": base,
        "cases": cases,
        "results": results,
        "summary": summary,
        "results_text": results_text,
        "leaked": leaked,
    }


def test_every_layer_is_in_force(hostile_run):
    layers = hostile_run["summary"].layers
    assert layers.rlimits and layers.seccomp and layers.landlock and layers.uid not in (None, 0)
    assert bool(layers.namespaces) == (layers.level == "strict")


@pytest.mark.parametrize("name", [*hostile_samples(Path("/x"), 1), "hunts_expected_outputs"])
def test_each_sample_is_scored_correctly(hostile_run, name):
    if name not in hostile_run["cases"]:
        pytest.skip("a stdin/stdout case")
    result = hostile_run["results"][name]
    expected = hostile_run["cases"][name][1]
    expected = {expected} if isinstance(expected, str) else expected
    assert result["result_status"] in expected, result["result"]
    assert result["passed"] is (expected == {"passed"})


def test_side_effects_were_all_stopped(hostile_run):
    base = hostile_run["base"]
    assert (base / "victim.txt").read_text() == "keep me"
    assert not (base / "created.txt").exists()
    assert not (base / "orphan-alive.txt").exists()
    assert hostile_run["leaked"] == b""


def test_nothing_outlives_the_run_and_results_are_untouched(hostile_run):
    assert sandbox_uids_alive() == []
    assert hostile_run["summary"].results.read_text() == hostile_run["results_text"]
    lines = [json.loads(line) for line in hostile_run["results_text"].splitlines()]
    assert len(lines) == len(hostile_run["cases"])
    assert not list(hostile_run["base"].glob(".*partial"))


def test_a_dead_worker_is_reported_and_replaced(tmp_path):
    """If a worker's sandbox dies (here: killed from outside), that sample is a sandbox error and the next runs."""
    import os
    import signal

    from aitk.passk.jobs import make_job, run_one
    from aitk.passk.workers import detect, start_workers

    problem = load_problems(str(write_jsonl(tmp_path / "p.jsonl", [ADD])))[ADD["task_id"]]
    config = SandboxConfig(memory_mb=256)
    program = load_problems(str(write_jsonl(tmp_path / "io.jsonl", [ADD_STDIO])))[ADD_STDIO["name"]]
    (worker,) = run_sandboxed("strict", lambda: start_workers(1, config, detect(config)))
    try:
        for job in (make_job(problem, HONEST, 1.0), make_job(program, as_program(HONEST), 1.0)):
            assert run_one(worker, job)["status"] == "passed"
            os.killpg(worker.proc.pid, signal.SIGKILL)
            worker.proc.wait()
            assert run_one(worker, job)["status"] == "sandbox error"
            assert run_one(worker, job)["status"] == "passed"
    finally:
        worker.close()
    assert sandbox_uids_alive() == []
