"""One sandbox worker's supervisor: prepared once, forks a fresh candidate and test per sample.

Started (inside bubblewrap at `strict`) with the protocol on stdin/stdout: a setup message, then
one job per sample. It pre-imports the standard modules samples use (the costly part of starting
Python), becomes a child subreaper, and probes which layers really work. Per sample it forks two
processes that each take a new session, their limits, a user of their own, Landlock and seccomp
before running anything; it enforces the wall clock and the output cap, kills every process the
sample left (setsid escapees come back to it as the subreaper), removes the work folder, and only
then answers the parent.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import json
import math
import os
import random
import resource
import select
import shutil
import signal
import socket
import sys
import time

from . import harness, layers, plaindata, seccomp

PR_SET_CHILD_SUBREAPER = 36
PREIMPORT = (
    "math cmath random copy itertools collections collections.abc functools re string heapq bisect typing "
    "hashlib fractions decimal statistics operator json datetime numbers array struct time dataclasses enum "
    "abc io textwrap unicodedata queue keyword operator ast"
).split()
EXIT_LAYER_FAILED = 70
OUTPUT_MESSAGE_CAP = plaindata.MAX_MESSAGE // 3  # a program's output must fit one message, escaped as JSON


class Zygote:
    def __init__(self, setup: dict):
        self.plan = setup["plan"]
        self.uids = setup.get("uids")  # [candidate uid, test uid] or None when not dropping root
        self.work_root = setup["work_root"]
        self.output_cap = setup["output_cap"]
        self.devnull = os.open("/dev/null", os.O_RDWR)
        self.seq = 0
        self.job_plan = self.plan  # the plan with this sample's CPU-seconds backstop
        self.statuses: dict[int, int] = {}  # wait status of every process reaped during the current sample

    # --- start-up ------------------------------------------------------------------------------
    def probe(self) -> dict:
        """Fork a child that takes every layer, then checks them; report what really held."""
        found = {"subreaper": ctypes.CDLL(None).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0}
        work = self._make_dirs()[0]
        outside = os.path.join(os.path.dirname(work), "outside")
        os.mkdir(outside)
        os.chmod(outside, 0o777)  # only Landlock can stop the write below
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(read_fd)
                os.setsid()
                layers.apply(self.plan, self.uids[0] if self.uids else None, work)
                checks = {"uid": os.getuid(), "as": resource.getrlimit(resource.RLIMIT_AS)[0]}
                try:
                    os.setuid(0)
                    checks["root_back"] = True
                except OSError:
                    checks["root_back"] = False
                try:
                    with open(os.path.join(outside, "probe"), "w"):
                        pass
                    checks["write_outside"] = True
                except OSError:
                    checks["write_outside"] = False
                with open(os.path.join(work, "inside"), "w") as handle:
                    handle.write("ok")
                os.write(write_fd, json.dumps(checks).encode())
                os.close(write_fd)
                socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # seccomp kills us here
                os._exit(0)
            except BaseException as exc:  # noqa: BLE001
                os.write(2, f"aitk sandbox probe: {exc!r}\n".encode())
                os._exit(EXIT_LAYER_FAILED)
        os.close(write_fd)
        data = os.read(read_fd, 4096)
        os.close(read_fd)
        _, status = os.waitpid(pid, 0)
        shutil.rmtree(os.path.dirname(work), ignore_errors=True)
        checks = json.loads(data) if data else {}
        found["applied"] = bool(checks)
        found["uid"] = checks.get("uid")
        found["root_dropped"] = (
            bool(self.uids) and checks.get("uid") not in (None, 0) and checks.get("root_back") is False
        )
        found["landlock"] = self.plan.get("landlock", 0) if checks.get("write_outside") is False else 0
        found["seccomp"] = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGSYS
        found["rlimits"] = bool(self.plan.get("rlimits")) and checks.get("as") == self.plan.get("memory_bytes")
        # Keep only what held, so samples never fail on a layer this kernel lacks.
        self.plan = {**self.plan, "landlock": found["landlock"], "seccomp": found["seccomp"]}
        return found

    # --- one sample -------------------------------------------------------------------------------
    def run(self, job: dict) -> dict:
        started = time.monotonic()
        self.statuses = {}
        self.job_plan = {**self.plan, "cpu_seconds": math.ceil(float(job["timeout"])) + 1}
        deadline = started + float(job["timeout"])
        cand_dir, test_dir = self._make_dirs()
        req_r, req_w = os.pipe()
        rep_r, rep_w = os.pipe()
        ver_r, ver_w = os.pipe()
        out_r, out_w = os.pipe()
        uid_c, uid_t = self.uids if self.uids else (None, None)
        cand = self._spawn(
            lambda: _candidate(job),
            [req_r, rep_w],
            out_w,
            cand_dir,
            uid_c,
            True,
        )
        test = self._spawn(
            lambda: harness.test_main(job["prompt"], job["test"], job["entry_point"]),
            [req_w, rep_r, ver_w],
            self.devnull,
            test_dir,
            uid_t,
            False,
        )
        for fd in (req_r, req_w, rep_r, rep_w, ver_w, out_w):
            os.close(fd)
        verdict, timed_out, flooded = self._watch(ver_r, out_r, deadline)
        self._reap(block=False)
        died_early = dict(self.statuses)  # before our own SIGKILLs
        self._kill_all([cand, test])
        self._reap(block=True)
        for fd in (ver_r, out_r):
            os.close(fd)
        shutil.rmtree(os.path.dirname(cand_dir), ignore_errors=True)
        result = _classify(verdict, timed_out, flooded, self.statuses, died_early, cand, test)
        result.update(id=job["id"], seconds=round(time.monotonic() - started, 4))
        if type(verdict) is dict and "outputs" in verdict:
            result["outputs"] = verdict["outputs"]
        return result

    # --- one stdin/stdout sample: a fresh process per test -------------------------------------------
    def run_program(self, job: dict, proto_in: int, proto_out: int) -> bool:
        """Run the program once per input the host sends ({"input": text}), answering each with its
        output, until the host says stop ({}). The host judges the outputs: the expected outputs never
        enter the sandbox. False when the host went away.
        """
        limit = float(job["timeout"])
        self.job_plan = {**self.plan, "cpu_seconds": math.ceil(limit) + 1}
        cap = min(int(job.get("output_cap") or self.output_cap), OUTPUT_MESSAGE_CAP)
        index = 0
        while True:
            message = plaindata.recv(proto_in)
            if message is None:
                return False
            if type(message.get("input")) is not str:
                return True
            result = self._run_once(job["program"], message["input"], limit, cap)
            result.update(id=job["id"], test=index)
            plaindata.send(proto_out, result)
            index += 1

    def _run_once(self, program: str, stdin_text: str, limit: float, cap: int) -> dict:
        started = time.monotonic()
        self.statuses = {}
        cand_dir, _ = self._make_dirs()
        path = os.path.join(cand_dir, "stdin")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(stdin_text)
        os.chmod(path, 0o444)
        in_fd = os.open(path, os.O_RDONLY)
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        cand = self._spawn(
            lambda: harness.program_main(program),
            [],
            out_w,
            cand_dir,
            self.uids[0] if self.uids else None,
            True,
            stdin=in_fd,
            stderr=err_w,
        )
        for fd in (in_fd, out_w, err_w):
            os.close(fd)
        output, errors, timed_out, flooded = self._collect(out_r, err_r, cand, started + limit, cap)
        self._reap(block=False)
        died_early = dict(self.statuses)
        self._kill_all([cand])
        self._reap(block=True)
        for fd in (out_r, err_r):
            os.close(fd)
        shutil.rmtree(os.path.dirname(cand_dir), ignore_errors=True)
        status, reason = _program_status(timed_out, flooded, self.statuses, died_early, cand, errors)
        return {
            "status": status,
            "reason": reason,
            "output": output.decode("utf-8", "replace") if status == "ok" else "",
            "seconds": round(time.monotonic() - started, 4),
        }

    def _collect(self, out_r: int, err_r: int, pid: int, deadline: float, cap: int):
        """Read stdout (up to the cap) and stderr's tail until the program exits or the deadline."""
        poller = select.poll()
        poller.register(out_r, select.POLLIN)
        poller.register(err_r, select.POLLIN)
        try:
            exit_fd = os.pidfd_open(pid)
            poller.register(exit_fd, select.POLLIN)
        except (AttributeError, OSError):
            exit_fd = -1  # no pidfd: look with waitpid between short polls
        chunks, size, tail, open_pipes, exited = [], 0, b"", 2, False
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    return b"", tail, True, False
                wait = left if exit_fd >= 0 else min(left, 0.005)
                for fd, _ in poller.poll(wait * 1000):
                    if fd == exit_fd:
                        exited = True
                        poller.unregister(fd)
                        continue
                    chunk = os.read(fd, 1 << 16)
                    if not chunk:
                        poller.unregister(fd)
                        open_pipes -= 1
                    elif fd == out_r:
                        size += len(chunk)
                        if size > cap:
                            return b"", tail, False, True
                        chunks.append(chunk)
                    else:
                        tail = (tail + chunk)[-2 * harness.TEXT_LIMIT :]
                if exit_fd < 0 and not exited:
                    done, status = os.waitpid(pid, os.WNOHANG)
                    if done:
                        self.statuses[done] = status
                        exited = True
                if exited and (open_pipes == 0 or not poller.poll(0)):
                    return b"".join(chunks), tail, False, False  # a process it left may hold the pipes open
        finally:
            if exit_fd >= 0:
                os.close(exit_fd)

    def _make_dirs(self) -> tuple[str, str]:
        self.seq += 1
        base = os.path.join(self.work_root, f"s{self.seq}")
        dirs = (os.path.join(base, "c"), os.path.join(base, "t"))
        os.makedirs(base, mode=0o755)
        for path, uid in zip(dirs, self.uids or (None, None)):
            os.mkdir(path, 0o700)
            if uid is not None:
                os.chown(path, uid, uid)
        return dirs

    def _spawn(
        self, body, keep: list[int], stdout: int, cwd: str, uid, dumpable: bool, stdin: int = -1, stderr: int = -1
    ) -> int:
        pid = os.fork()
        if pid:
            return pid
        code = EXIT_LAYER_FAILED
        try:
            os.setsid()  # a fresh session and process group per process
            moved = [fcntl.fcntl(fd, fcntl.F_DUPFD, 256) for fd in keep]
            streams = [fcntl.fcntl(fd, fcntl.F_DUPFD, 256) for fd in (stdin, stdout, stderr) if fd >= 0]
            os.dup2(streams.pop(0) if stdin >= 0 else self.devnull, 0)
            os.dup2(streams[0], 1)
            os.dup2(streams[-1], 2)
            for target, fd in enumerate(moved, start=3):
                os.dup2(fd, target)
            os.closerange(3 + len(moved), 1 << 16)
            os.chdir(cwd)
            signal.signal(signal.SIGPIPE, signal.SIG_DFL)
            layers.apply(self.job_plan, uid, cwd, dumpable)
            random.seed()  # every sample gets its own random state, not the zygote's
            code = 0
            body()
        except BaseException:  # noqa: BLE001 - never return into the zygote's loop
            pass
        os._exit(code)

    def _watch(self, ver_r: int, out_r: int, deadline: float):
        """Wait for the verdict, the deadline or the output cap; count the sample's output."""
        poller = select.poll()
        poller.register(ver_r, select.POLLIN)
        poller.register(out_r, select.POLLIN)
        output = 0
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None, True, False
            for fd, _ in poller.poll(left * 1000):
                if fd == out_r:
                    chunk = os.read(out_r, 1 << 16)
                    output += len(chunk)
                    if not chunk:
                        poller.unregister(out_r)
                    elif output > self.output_cap:
                        return None, False, True
                else:
                    try:
                        verdict = plaindata.recv(ver_r)
                    except (plaindata.NotPlainData, ValueError):
                        verdict = None
                    return verdict, False, False

    def _kill_all(self, leaders: list[int]) -> None:
        """SIGKILL the sample's process groups, every process of its users, and every descendant."""
        for pid in leaders:
            _quiet(os.killpg, pid, signal.SIGKILL)
        if not set(_descendants(os.getpid())) - set(leaders):
            return  # nothing but the two (now killed) leaders: the usual, honest case
        for uid in self.uids or ():
            helper = os.fork()
            if helper == 0:
                try:
                    os.setresuid(uid, uid, uid)
                    _quiet(os.kill, -1, signal.SIGKILL)  # all of this user's processes, atomically
                finally:
                    os._exit(0)
            self.statuses[helper] = os.waitpid(helper, 0)[1]
        for _ in range(1000):
            found = _descendants(os.getpid())
            if not found:
                return
            for pid in found:
                _quiet(os.kill, pid, signal.SIGKILL)
            self._reap(block=False)
            time.sleep(0.001)

    def _reap(self, block: bool) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, 0 if block else os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.statuses[pid] = status


def _classify(verdict, timed_out: bool, flooded: bool, statuses: dict, early: dict, cand: int, test: int) -> dict:
    signals = {pid: os.WTERMSIG(s) for pid, s in statuses.items() if os.WIFSIGNALED(s)}
    cand_exit = statuses.get(cand)
    if timed_out or signals.get(cand) == signal.SIGXCPU:
        return {"status": "timed out", "reason": ""}
    if flooded:
        return {"status": "output limit", "reason": ""}
    if signal.SIGSYS in signals.values():
        return {"status": "sandbox violation", "reason": "blocked system call"}
    if any(
        os.WIFEXITED(s) and os.WEXITSTATUS(s) == EXIT_LAYER_FAILED
        for s in (statuses.get(cand, 0), statuses.get(test, 0))
    ):
        return {"status": "sandbox error", "reason": "a sandbox layer could not be applied; the sample did not run"}
    if type(verdict) is dict and verdict.get("passed") is True:
        return {"status": "passed", "reason": ""}
    if type(verdict) is dict and verdict.get("oom"):
        return {"status": "out of memory", "reason": str(verdict.get("reason", ""))}
    early_cand = early.get(cand)
    if early_cand is not None and os.WIFSIGNALED(early_cand) and os.WTERMSIG(early_cand) == signal.SIGKILL:
        # killed before we killed anything: the cgroup's OOM killer
        return {"status": "out of memory", "reason": "killed by the memory limit"}
    if type(verdict) is dict:
        reason = str(verdict.get("reason", ""))
        if reason == "candidate exited" and cand_exit is not None and os.WIFSIGNALED(cand_exit):
            reason = f"candidate crashed ({signal.Signals(os.WTERMSIG(cand_exit)).name})"
        return {"status": "failed", "reason": reason}
    return {"status": "failed", "reason": "no verdict from the test process"}


def _candidate(job: dict) -> None:
    """The candidate's process: drop its copy of the job before the sample runs, so the test (and the
    values it expects) cannot be read back from the sample's stack or through live objects."""
    program, entry_point = job["program"], job["entry_point"]
    job.clear()
    harness.candidate_main(program, entry_point)


def _program_status(timed_out: bool, flooded: bool, statuses: dict, early: dict, pid: int, errors: bytes):
    """(status, reason) of one run of a stdin/stdout program; "ok" leaves the verdict to the host."""
    signals = {p: os.WTERMSIG(s) for p, s in statuses.items() if os.WIFSIGNALED(s)}
    if timed_out or signals.get(pid) == signal.SIGXCPU:
        return "timed out", ""
    if flooded:
        return "output limit", ""
    if signal.SIGSYS in signals.values():
        return "sandbox violation", "blocked system call"
    status = statuses.get(pid)
    code = os.WEXITSTATUS(status) if status is not None and os.WIFEXITED(status) else None
    if code == EXIT_LAYER_FAILED:
        return "sandbox error", "a sandbox layer could not be applied; the sample did not run"
    if code == harness.EXIT_MEMORY:
        return "out of memory", "MemoryError"
    before = early.get(pid)
    if before is not None and os.WIFSIGNALED(before) and os.WTERMSIG(before) == signal.SIGKILL:
        return "out of memory", "killed by the memory limit"
    if code == 0:
        return "ok", ""
    last = errors.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
    if code is None and status is not None:
        return "failed", f"crashed ({signal.Signals(os.WTERMSIG(status)).name})"
    return "failed", f"runtime error (exit {code})" + (f": {last[0][: harness.TEXT_LIMIT]}" if last[0] else "")


def _descendants(root: int) -> list[int]:
    """Every descendant of `root` (zombies too), from /proc/PID/task/*/children or, lacking it, every /proc/PID/stat."""
    if not os.path.exists(f"/proc/{root}/task/{root}/children"):
        return _descendants_by_scan(root)
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{pid}/task/{task}/children") as handle:
                    kids = [int(x) for x in handle.read().split()]
            except OSError:
                continue
            found.extend(kids)
            stack.extend(kids)
    return found


def _descendants_by_scan(root: int) -> list[int]:
    parent = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as handle:
                    parent[int(name)] = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = [], {root}
    while frontier:
        frontier = {pid for pid, ppid in parent.items() if ppid in frontier}
        found.extend(frontier)
    return found


def _quiet(call, *args) -> None:
    try:
        call(*args)
    except OSError as exc:
        if exc.errno not in (errno.ESRCH, errno.EPERM):
            raise


def main() -> None:
    """Protocol: setup message in, probe report out, then one result per job until stdin closes."""
    proto_in = fcntl.fcntl(0, fcntl.F_DUPFD, 200)
    proto_out = fcntl.fcntl(1, fcntl.F_DUPFD, 200)
    devnull = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1):
        os.dup2(devnull, fd)
    for name in PREIMPORT:
        try:
            __import__(name)
        except ImportError:
            pass
    setup = plaindata.recv(proto_in)
    seccomp.prepare()
    zygote = Zygote(setup)
    plaindata.send(proto_out, {"probe": zygote.probe(), "pid": os.getpid(), "python": sys.version.split()[0]})
    while True:
        job = plaindata.recv(proto_in)
        if job is None:
            return
        if job.get("kind") == "program":
            if not zygote.run_program(job, proto_in, proto_out):
                return
            continue
        plaindata.send(proto_out, zygote.run(job))
