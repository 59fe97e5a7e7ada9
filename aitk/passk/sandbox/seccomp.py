"""A seccomp-BPF filter built by hand (no libseccomp needed), installed with prctl through ctypes.

The filter kills the whole process (SIGSYS, reported as a sandbox violation) on: sockets other than
AF_UNIX (no network even without a network namespace), ptrace and cross-process memory access,
mount and namespace changes (unshare, setns, clone with CLONE_NEW*), kernel modules, kexec, bpf,
perf, keyrings, userfaultfd, swap, reboot. clone3 answers ENOSYS so libc falls back to clone,
whose flags we can inspect. Syscalls of another ABI (x32, a foreign arch) are killed too.
"""

from __future__ import annotations

import ctypes
import platform

PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
RET_KILL_PROCESS = 0x80000000
RET_ALLOW = 0x7FFF0000
RET_ERRNO_ENOSYS = 0x00050000 | 38
AF_UNIX = 1
CLONE_NAMESPACES = 0x7E020000  # NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET

BLOCKED = (
    "ptrace process_vm_readv process_vm_writev mount umount2 unshare setns pivot_root chroot "
    "kexec_load kexec_file_load init_module finit_module delete_module bpf perf_event_open keyctl "
    "add_key request_key userfaultfd swapon swapoff reboot acct personality open_by_handle_at "
    "name_to_handle_at fsopen fsconfig fsmount move_mount open_tree io_uring_setup"
).split()

# (AUDIT_ARCH, syscall numbers) per machine; other architectures get no seccomp layer.
TABLES = {
    "x86_64": (
        0xC000003E,
        dict(
            ptrace=101,
            process_vm_readv=310,
            process_vm_writev=311,
            mount=165,
            umount2=166,
            unshare=272,
            setns=308,
            pivot_root=155,
            chroot=161,
            kexec_load=246,
            kexec_file_load=320,
            init_module=175,
            finit_module=313,
            delete_module=176,
            bpf=321,
            perf_event_open=298,
            keyctl=250,
            add_key=248,
            request_key=249,
            userfaultfd=323,
            swapon=167,
            swapoff=168,
            reboot=169,
            acct=163,
            personality=135,
            open_by_handle_at=304,
            name_to_handle_at=303,
            fsopen=430,
            fsconfig=431,
            fsmount=432,
            move_mount=429,
            open_tree=428,
            io_uring_setup=425,
            socket=41,
            socketpair=53,
            clone=56,
            clone3=435,
        ),
    ),
    "aarch64": (
        0xC00000B7,
        dict(
            ptrace=117,
            process_vm_readv=270,
            process_vm_writev=271,
            mount=40,
            umount2=39,
            unshare=97,
            setns=268,
            pivot_root=41,
            chroot=51,
            kexec_load=104,
            kexec_file_load=294,
            init_module=105,
            finit_module=273,
            delete_module=106,
            bpf=280,
            perf_event_open=241,
            keyctl=219,
            add_key=217,
            request_key=218,
            userfaultfd=282,
            swapon=224,
            swapoff=225,
            reboot=142,
            acct=89,
            personality=92,
            open_by_handle_at=265,
            name_to_handle_at=264,
            fsopen=430,
            fsconfig=431,
            fsmount=432,
            move_mount=429,
            open_tree=428,
            io_uring_setup=425,
            socket=198,
            socketpair=199,
            clone=220,
            clone3=435,
        ),
    ),
}


class _Insn(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8), ("k", ctypes.c_uint32)]


class _Prog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_uint16), ("filter", ctypes.POINTER(_Insn))]


LD_ABS, JEQ, JGE, JSET, RET = 0x20, 0x15, 0x35, 0x45, 0x06
OFF_NR, OFF_ARCH, OFF_ARG0 = 0, 4, 16  # offsets in struct seccomp_data (arg0's low 32 bits, little-endian)


def supported() -> bool:
    return platform.machine() in TABLES


def build_filter(machine: str | None = None) -> list[tuple[int, int, int, int]]:
    """The program as (code, jt, jf, k) tuples, with jumps resolved to the labels at its end."""
    arch, nr = TABLES[machine or platform.machine()]
    body: list[tuple] = [(LD_ABS, 0, 0, OFF_ARCH), (JEQ, None, "kill", arch), (LD_ABS, 0, 0, OFF_NR)]
    if arch == TABLES["x86_64"][0]:
        body.append((JGE, "kill", None, 0x40000000))  # x32 ABI
    body += [(JEQ, "kill", None, nr[name]) for name in BLOCKED]
    body += [
        (JEQ, "enosys", None, nr["clone3"]),
        (JEQ, "socket", None, nr["socket"]),
        (JEQ, "socket", None, nr["socketpair"]),
        (JEQ, "clone", None, nr["clone"]),
        (RET, 0, 0, RET_ALLOW),
    ]
    labels = {}
    tail = [
        ("socket", (LD_ABS, 0, 0, OFF_ARG0)),
        (None, (JEQ, "allow", "kill", AF_UNIX)),
        ("clone", (LD_ABS, 0, 0, OFF_ARG0)),
        (None, (JSET, "kill", "allow", CLONE_NAMESPACES)),
        ("kill", (RET, 0, 0, RET_KILL_PROCESS)),
        ("allow", (RET, 0, 0, RET_ALLOW)),
        ("enosys", (RET, 0, 0, RET_ERRNO_ENOSYS)),
    ]
    for i, (label, _) in enumerate(tail):
        if label:
            labels[label] = len(body) + i
    program = body + [insn for _, insn in tail]

    def target(at: int, where) -> int:
        return 0 if where is None or isinstance(where, int) else labels[where] - at - 1

    return [(code, target(i, jt), target(i, jf), k) for i, (code, jt, jf, k) in enumerate(program)]


_prepared: tuple | None = None  # (libc, program) built once per zygote, inherited by every fork


def prepare() -> None:
    global _prepared
    program = build_filter()
    insns = (_Insn * len(program))(*[_Insn(*i) for i in program])
    _prepared = (ctypes.CDLL(None, use_errno=True), _Prog(len(program), insns), insns)


def install() -> None:
    """Install the filter on the calling thread's process (after no_new_privs). Raises OSError."""
    if _prepared is None:
        prepare()
    libc, prog, _ = _prepared
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP) failed")
