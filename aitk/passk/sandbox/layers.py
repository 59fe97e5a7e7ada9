"""The per-process restrictions a sample's processes take on right after fork, before any sample code.

`plan` is plain JSON from the parent: which layers to apply and their limits. Each apply step raises
on failure, and the caller then exits without running the sample (fail closed).
"""

from __future__ import annotations

import ctypes
import os
import resource

from . import landlock, seccomp

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4


def apply(plan: dict, uid: int | None, write_dir: str | None, dumpable: bool = True) -> None:
    """Apply, in order: rlimits, dropping root, parent-death signal, no_new_privs, Landlock, seccomp."""
    libc = landlock._libc()
    if plan.get("rlimits"):
        set_rlimits(plan)
    if uid is not None:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    libc.prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0)  # after the uid change, which clears it
    if not dumpable:
        libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)  # no /proc/PID/mem or ptrace from same-uid processes
    if plan.get("landlock") or plan.get("seccomp") or plan.get("no_new_privs", True):
        if libc.prctl(seccomp.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:  # Landlock and seccomp need it
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
    if plan.get("landlock"):
        landlock.restrict(
            plan["read_paths"], [write_dir] + ["/dev/null"] if write_dir else ["/dev/null"], plan["landlock"]
        )
    if plan.get("seccomp"):
        seccomp.install()


def set_rlimits(plan: dict) -> None:
    cpu = int(plan["cpu_seconds"])
    memory = int(plan["memory_bytes"])
    limits = {
        resource.RLIMIT_AS: (memory, memory),
        resource.RLIMIT_CPU: (cpu, cpu + 1),  # SIGXCPU, then SIGKILL: a backstop behind the wall clock
        resource.RLIMIT_FSIZE: (plan["file_bytes"], plan["file_bytes"]),
        resource.RLIMIT_NOFILE: (64, 64),
        resource.RLIMIT_CORE: (0, 0),
    }
    if plan.get("nproc"):
        limits[resource.RLIMIT_NPROC] = (plan["nproc"], plan["nproc"])
    for which, (soft, hard) in limits.items():
        current_soft, current_hard = resource.getrlimit(which)
        if current_hard != resource.RLIM_INFINITY:
            hard = min(hard, current_hard)
            soft = min(soft, hard)
        resource.setrlimit(which, (soft, hard))
