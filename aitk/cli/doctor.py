"""`aitk doctor`: what this machine offers aitk (Python, torch devices, ffmpeg, models, cache)."""

from __future__ import annotations

import importlib.metadata
import platform
import sys

from aitk.cli import options
from aitk.cli.ui import handle_errors, print_json


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def collect() -> dict:
    from aitk import __version__
    from aitk.cli.catalogue import load as load_catalogue
    from aitk.engine.device import available_devices
    from aitk.engine.media import ffmpeg_version
    from aitk.engine.models import aitk_home

    report: dict = {
        "aitk": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": {
            d: _version(d) for d in ("torch", "faster-whisper", "ctranslate2", "openai-whisper", "ffmpeg-python")
        },
        "ffmpeg": ffmpeg_version(),
        "cache": str(aitk_home()),
    }
    try:
        report["devices"] = [{"device": d.torch, "name": d.name} for d in available_devices()]
    except ImportError:
        report["devices"] = [{"device": "cpu", "name": "CPU (torch not installed)"}]
    try:
        import ctranslate2

        report["ctranslate2_cuda_devices"] = ctranslate2.get_cuda_device_count()
    except ImportError:
        report["ctranslate2_cuda_devices"] = None
    report["models"] = [
        {k: m[k] for k in ("name", "family", "installed", "cached", "path")} for m in load_catalogue().describe()
    ]
    return report


@handle_errors
def doctor(json_out: options.Json = False) -> None:
    """Check Python, torch devices (CPU, CUDA, MPS), ffmpeg and the default models."""
    report = collect()
    if json_out:
        print_json(report)
        return
    print(f"aitk           {report['aitk']}")
    print(f"python      {report['python']} on {report['platform']}")
    for name, version in report["packages"].items():
        print(f"{name:<15}{version or 'not installed'}")
    print(f"ffmpeg      {report['ffmpeg'] or 'NOT FOUND (apt-get install ffmpeg / brew install ffmpeg)'}")
    print("devices     " + ", ".join(f"{d['device']} ({d['name']})" for d in report["devices"]))
    print(f"cache       {report['cache']}")
    for m in report["models"]:
        state = "cached" if m["cached"] else ("installed, not cached yet" if m["installed"] else "not installed")
        print(f"model       {m['name']:<28} {state}{' at ' + m['path'] if m['path'] else ''}")
