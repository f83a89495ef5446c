"""Cold start: importing each handler module in a fresh interpreter, beside `import boto3, requests` (the floor)."""

from __future__ import annotations

import compileall
import os
import subprocess
import sys

from bench.common import HANDLERS, LAYER, ROOT, median, run_python

RUNS = 9
TARGET_RATIO = 1.5

FLOOR = "import time; t = time.perf_counter(); import boto3, requests; print(time.perf_counter() - t)"
HANDLER = """
import importlib.util, sys, time
sys.path[:0] = [{layer!r}, {folder!r}]
t = time.perf_counter()
spec = importlib.util.spec_from_file_location("handler", {path!r})
module = importlib.util.module_from_spec(spec)
sys.modules["handler"] = module
spec.loader.exec_module(module)
print(time.perf_counter() - t)
"""
ENV = {"POWERTOOLS_SERVICE_NAME": "bench", "POWERTOOLS_METRICS_NAMESPACE": "Bench", "AWS_DEFAULT_REGION": "us-east-1"}


BREAKDOWN = (
    ("ours", ("listrak_kit", "handler")),
    ("Powertools", ("aws_lambda_powertools",)),
    ("pydantic", ("pydantic", "annotated_types", "typing_inspection")),
)


def _breakdown(path) -> dict[str, float]:
    """Self time by owner, from -X importtime, beyond what the floor already imports."""
    code = "import boto3, requests\n" + HANDLER.format(layer=str(LAYER), folder=str(path.parent), path=str(path))
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, **ENV},
        check=True,
    )
    owners = dict.fromkeys([name for name, _ in BREAKDOWN], 0.0)
    seen_floor = False
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _cumulative, name = (part.strip() for part in line[len("import time:") :].split("|"))
        if name == "requests":
            seen_floor = True  # everything before this line is the floor's
            continue
        if not seen_floor:
            continue
        for owner, prefixes in BREAKDOWN:
            if name.split(".")[0] in prefixes:
                owners[owner] += int(self_us) / 1000
                break
    return {owner: round(ms, 1) for owner, ms in owners.items()}


def measure() -> dict:
    # Lambda runs from compiled files after the first container; so do we.
    compileall.compile_dir(str(ROOT / "layers"), quiet=1)
    compileall.compile_dir(str(ROOT / "functions"), quiet=1)
    floors, results = [], {}
    samples: dict[str, list[float]] = {name: [] for name in HANDLERS}
    for _ in range(RUNS):  # interleaved, so drift in the machine's load hits every figure alike
        floors.append(float(run_python(FLOOR, ENV)))
        for name, path in HANDLERS.items():
            code = HANDLER.format(layer=str(LAYER), folder=str(path.parent), path=str(path))
            samples[name].append(float(run_python(code, ENV)))
    floor = median(floors)
    for name, values in samples.items():
        ratio = median(values) / floor
        target = TARGET_RATIO if name.startswith(("send", "resend")) else None
        results[name] = {
            "ms": round(median(values) * 1000, 1),
            "ratio": round(ratio, 2),
            "target": target,
            "self_ms_by_owner": _breakdown(HANDLERS[name]),
        }
    return {"floor_ms": round(floor * 1000, 1), "handlers": results, "runs": RUNS}
