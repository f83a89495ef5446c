"""Cold start: importing each handler module in a fresh interpreter from the layer as `sam build` made it, beside
`import boto3, requests` (the floor); and the same layer without its bytecode, as a layer without .pyc files would
run (Lambda mounts it read-only, so nothing compiled is ever kept)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

from bench.common import HANDLERS, ROOT, median, run_python

RUNS = 9
TARGET_RATIO = 1.5
BUILT_LAYER = ROOT / ".aws-sam" / "build" / "SharedLayer" / "python"
LAMBDA_EXTENSION_SUFFIX = ".cpython-313-aarch64-linux-gnu.so"

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
# Nothing a run compiles is written back: every run starts as cold as a fresh container on a read-only mount.
ENV = {
    "POWERTOOLS_SERVICE_NAME": "bench",
    "POWERTOOLS_METRICS_NAMESPACE": "Bench",
    "AWS_DEFAULT_REGION": "us-east-1",
    "PYTHONDONTWRITEBYTECODE": "1",
    # As in a Lambda container: the Tracer is on and patches botocore and requests (outside Lambda, aws_xray_sdk
    # would instead build a daemon sampler, a cost no function pays).
    "LAMBDA_TASK_ROOT": "/var/task",
    "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
}


BREAKDOWN = (
    ("ours", ("listrak_kit", "handler")),
    ("Powertools", ("aws_lambda_powertools",)),
    ("pydantic", ("pydantic", "annotated_types", "typing_inspection")),
    ("X-Ray SDK", ("aws_xray_sdk", "wrapt")),
)


def _breakdown(layer: Path, path: Path) -> dict[str, float]:
    """Self time by owner, from -X importtime, beyond what the floor already imports."""
    code = "import boto3, requests\n" + HANDLER.format(layer=str(layer), folder=str(path.parent), path=str(path))
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


def _dist_info(site: Path, package: str) -> str | None:
    found = sorted(p.name for p in site.glob(f"{package}-*.dist-info"))
    return found[0] if found else None


def copy_built_layer(dest: Path) -> Path:
    """The built layer, bytecode and all. Off arm64, its native extensions are swapped for this machine's builds of
    the same releases (from the interpreter running the bench), so that it imports here; nothing else changes."""
    if not (BUILT_LAYER / "listrak_kit").is_dir():
        raise SystemExit(f"{BUILT_LAYER.relative_to(ROOT)} is missing: run `make build` first")
    if sys.version_info[:2] != (3, 13):
        raise SystemExit(
            f"the layer's bytecode is for python3.13 (the Lambda runtime); this is {sys.version.split()[0]}"
        )
    shutil.copytree(BUILT_LAYER, dest, symlinks=True)
    host_suffix = sysconfig.get_config_var("EXT_SUFFIX")
    if host_suffix == LAMBDA_EXTENSION_SUFFIX:
        return dest
    site = Path(sysconfig.get_paths()["platlib"])
    for foreign in sorted(dest.rglob(f"*{LAMBDA_EXTENSION_SUFFIX}")):
        relative = foreign.relative_to(dest)
        package = relative.parts[0]
        if _dist_info(dest, package) != _dist_info(site, package):
            raise SystemExit(
                f"{package}: the layer has {_dist_info(dest, package)}, this environment has "
                f"{_dist_info(site, package)}; the bench needs the same release"
            )
        native = site / relative.parent / (foreign.name.removesuffix(LAMBDA_EXTENSION_SUFFIX) + host_suffix)
        if not native.is_file():
            raise SystemExit(f"{relative}: no build of it for this machine at {native}")
        shutil.copy2(native, foreign.parent / native.name)
        foreign.unlink()
    return dest


def _bytecode_counts(layer: Path) -> dict[str, int]:
    return {
        "modules": sum(1 for p in layer.rglob("*.py") if "__pycache__" not in p.parts),
        "compiled": sum(1 for _ in layer.rglob("__pycache__/*.cpython-313.pyc")),
    }


def measure() -> dict:
    with tempfile.TemporaryDirectory(prefix="cold-start-") as scratch:
        compiled = copy_built_layer(Path(scratch) / "layer")
        source_only = Path(scratch) / "layer-source-only"
        shutil.copytree(compiled, source_only, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
        # The function code, as Lambda gets it from `sam build`: source only.
        handlers: dict[str, Path] = {}
        for name, path in HANDLERS.items():
            folder = Path(scratch) / "functions" / path.parent.name
            if not folder.exists():
                shutil.copytree(path.parent, folder, ignore=shutil.ignore_patterns("__pycache__"))
            handlers[name] = folder / path.name
        layers = {"compiled": compiled, "source": source_only}
        floors: list[float] = []
        samples = {(name, kind): [] for name in handlers for kind in layers}
        for _ in range(RUNS):  # interleaved, so drift in the machine's load hits every figure alike
            floors.append(float(run_python(FLOOR, ENV)))
            for name, path in handlers.items():
                for kind, layer in layers.items():
                    code = HANDLER.format(layer=str(layer), folder=str(path.parent), path=str(path))
                    samples[name, kind].append(float(run_python(code, ENV)))
        floor = median(floors)
        results = {}
        for name, path in handlers.items():
            with_pyc, without_pyc = median(samples[name, "compiled"]), median(samples[name, "source"])
            target = TARGET_RATIO
            results[name] = {
                "ms": round(with_pyc * 1000, 1),
                "ratio": round(with_pyc / floor, 2),
                "target": target,
                "without_bytecode_ms": round(without_pyc * 1000, 1),
                "without_bytecode_ratio": round(without_pyc / floor, 2),
                "self_ms_by_owner": _breakdown(compiled, path),
            }
        return {
            "floor_ms": round(floor * 1000, 1),
            "handlers": results,
            "runs": RUNS,
            "layer": {"path": str(BUILT_LAYER.relative_to(ROOT)), **_bytecode_counts(compiled)},
        }


if __name__ == "__main__":
    import json

    print(json.dumps(measure(), indent=2))
