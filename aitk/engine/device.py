"""Pick the torch device once: `auto` means CUDA, then MPS, then CPU.

A device that is absent is a DeviceError naming the --device flag. Precision follows the device:
fp16 on CUDA, fp32 on CPU and MPS (int8 where a backend quantises on CPU).
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass

from aitk.engine.errors import DeviceError

_SPEC = re.compile(r"^(auto|cpu|mps|cuda)(?::(\d+))?$")


@dataclass(frozen=True)
class Device:
    kind: str  # "cpu" | "cuda" | "mps"
    index: int = 0  # GPU ordinal; 0 for cpu and mps
    name: str = ""  # human name, e.g. "NVIDIA H100 80GB HBM3"

    @property
    def torch(self) -> str:
        """The string torch understands: cpu, mps, cuda:N."""
        return f"cuda:{self.index}" if self.kind == "cuda" else self.kind

    @property
    def fp16(self) -> bool:
        return self.kind == "cuda"

    def __str__(self) -> str:
        return self.torch


def parse_device_spec(spec: str) -> tuple[str, int | None]:
    """'cuda:1' -> ('cuda', 1). Pure; raises DeviceError on anything else."""
    match = _SPEC.match(spec.strip().lower())
    if not match or (match.group(2) is not None and match.group(1) != "cuda"):
        raise DeviceError(f"unknown device '{spec}'", hint="use --device auto, cpu, cuda, cuda:N or mps")
    index = match.group(2)
    return match.group(1), None if index is None else int(index)


def _gpu_driver_present() -> bool:
    """False only where no GPU can exist (Linux without NVIDIA/AMD/WSL GPU drivers): skips importing torch (~1 s)."""
    if not sys.platform.startswith("linux"):
        return True
    return any(os.path.exists(p) for p in ("/proc/driver/nvidia/version", "/dev/nvidiactl", "/dev/kfd", "/dev/dxg"))


def available_devices() -> list[Device]:
    """Every device torch can use here: CPU always, then each CUDA GPU, then MPS."""
    if not _gpu_driver_present():
        return [Device("cpu", 0, "CPU")]
    import torch

    found = [Device("cpu", 0, "CPU")]
    if torch.cuda.is_available():
        found += [Device("cuda", i, torch.cuda.get_device_name(i)) for i in range(torch.cuda.device_count())]
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        found.append(Device("mps", 0, "Apple Metal (MPS)"))
    return found


def resolve_device(spec: str = "auto", devices: list[Device] | None = None) -> Device:
    """Turn a --device value into a Device that exists here (devices defaults to what torch finds)."""
    kind, index = parse_device_spec(spec)
    if kind == "cpu":
        return Device("cpu", 0, "CPU")
    devices = available_devices() if devices is None else devices
    if kind == "auto":
        for preferred in ("cuda", "mps", "cpu"):
            for device in devices:
                if device.kind == preferred:
                    return device
    for device in devices:
        if device.kind == kind and (index is None or device.index == index):
            return device
    here = ", ".join(d.torch for d in devices)
    raise DeviceError(f"--device {spec}: no such device here (found: {here})", hint="use --device auto or --device cpu")


def cpu_model() -> str:
    """The CPU's model name (Linux /proc/cpuinfo), else what the platform says."""
    import platform
    from pathlib import Path

    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity), else the machine's count."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
