"""Shared by the benchmarks: handler modules, a fake Lambda context, percentiles, the machine's description."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYER = ROOT / "layers" / "shared"
HANDLERS = {
    "send (API)": ROOT / "functions" / "send" / "rest.py",
    "send (events)": ROOT / "functions" / "send" / "events.py",
    "hooks (API)": ROOT / "functions" / "send" / "hooks.py",
    "reconcile": ROOT / "functions" / "send" / "reconcile.py",
    "resend": ROOT / "functions" / "resend" / "rest.py",
    "import": ROOT / "functions" / "imports" / "events.py",
    "import (API)": ROOT / "functions" / "imports" / "rest.py",
}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def median(values: list[float]) -> float:
    return statistics.median(values)


def machine() -> dict[str, str | int]:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kib / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return {
        "cpu": model,
        "cores": os.cpu_count() or 0,
        "memory": memory,
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
    }


def run_python(code: str, env: dict[str, str] | None = None, timeout: float = 120) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )
    return result.stdout.strip()


def run_module(module: str, args: list[str], env: dict[str, str], timeout: float = 3600) -> dict:
    """`python -m module args` in its own process; its last line of output, as JSON."""
    answer = subprocess.run(
        [sys.executable, "-m", module, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if answer.returncode != 0:
        raise RuntimeError(answer.stderr[-3000:])
    return json.loads(answer.stdout.strip().splitlines()[-1])
