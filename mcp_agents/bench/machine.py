"""The machine and the versions a benchmark run measured: figures mean nothing without them."""

from __future__ import annotations

import importlib.metadata
import os
import platform
from typing import Any

MEASURED_PACKAGES = ("mcp-agent-runs", "mcp", "httpx2", "pydantic", "starlette", "uvicorn", "anyio")


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_mb() -> int | None:
    try:
        with open("/proc/meminfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def load_average() -> list[float] | None:
    """1, 5 and 15-minute load averages: figures taken on a busy machine are noisy, and this says so."""
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except OSError:
        return None


def machine_info() -> dict[str, Any]:
    """Cores, CPU, memory, OS, Python and the versions of every package on the measured path."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cores": usable,
        "cpu": _cpu_model(),
        "memory_mb": _memory_mb(),
        "os": f"{platform.system()} {platform.release()} ({platform.machine()})",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "load_average": load_average(),
        "versions": {package: _version(package) for package in MEASURED_PACKAGES},
    }


def machine_line(info: dict[str, Any]) -> str:
    """One line for the table header and the README."""
    versions = ", ".join(f"{name} {version}" for name, version in info["versions"].items())
    memory = f", {info['memory_mb'] // 1024} GiB RAM" if info.get("memory_mb") else ""
    load = info.get("load_average")
    busy = f", load average {load[0]:.2f} at start" if load else ""
    return f"{info['cores']} cores ({info['cpu']}){memory}, {info['os']}, {info['python']}{busy}; {versions}"
