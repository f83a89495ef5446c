"""Cold start: the CPU time of a fresh interpreter that imports one handler module from the layer as `sam build`
made it, beside one that runs `import boto3, requests` (the floor), with tracing on as in a Lambda container; and
the same layer without its bytecode, as a layer without .pyc files would run (Lambda mounts it read-only, so
nothing compiled is ever kept). CPU time (user + system, from getrusage) rather than wall time: the figure is the
work the import does, whatever else shares the cores; the runs interleave, so drift in the load hits all alike.

Beside it, what the first sampled invocation pays to load the Tracer (the X-Ray SDK and its patches), which no
import pays any more (listrak_kit.tracing)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

from bench.common import HANDLERS, ROOT, median

RUNS = 7
TARGET_RATIO = 1.5
BUILT_LAYER = ROOT / ".aws-sam" / "build" / "SharedLayer" / "python"
LAMBDA_EXTENSION_SUFFIX = ".cpython-313-aarch64-linux-gnu.so"

# The process's whole CPU time, interpreter start included, in the floor and the handler alike.
CPU = "import resource; r = resource.getrusage(resource.RUSAGE_SELF); print(r.ru_utime + r.ru_stime)"
FLOOR = "import boto3, requests\n" + CPU
HANDLER = """
import importlib.util, sys
sys.path[:0] = [{layer!r}, {folder!r}]
spec = importlib.util.spec_from_file_location("handler", {path!r})
module = importlib.util.module_from_spec(spec)
sys.modules["handler"] = module
spec.loader.exec_module(module)
"""
# After the import: the CPU that the first sampled invocation spends making the Tracer (SDK import, patches).
TRACER_LOAD = """
import time
from listrak_kit.observability import tracer
assert not tracer.disabled and not tracer.loaded
t = time.process_time()
tracer.load()
print(time.process_time() - t)
"""
# Nothing a run compiles is written back: every run starts as cold as a fresh container on a read-only mount.
ENV = {
    "POWERTOOLS_SERVICE_NAME": "bench",
    "POWERTOOLS_METRICS_NAMESPACE": "Bench",
    "AWS_DEFAULT_REGION": "us-east-1",
    "PYTHONDONTWRITEBYTECODE": "1",
    # As in a Lambda container with tracing Active: POWERTOOLS_TRACE_DISABLED unset (see _env), Lambda's variables
    # set (outside Lambda, aws_xray_sdk would instead build a daemon sampler, a cost no function pays).
    "LAMBDA_TASK_ROOT": "/var/task",
    "AWS_LAMBDA_FUNCTION_NAME": "Bench",
    "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
}


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POWERTOOLS_TRACE", "_X_AMZN"))}
    return {**env, **ENV}


def _cpu(code: str) -> float:
    result = subprocess.run(
        [sys.executable, "-c", code], env=_env(), capture_output=True, text=True, timeout=120, check=True
    )
    return float(result.stdout.strip().splitlines()[-1])


BREAKDOWN = (
    ("ours", ("listrak_kit", "handler")),
    ("Powertools", ("aws_lambda_powertools",)),
    ("pydantic", ("pydantic", "annotated_types", "typing_inspection")),
    ("X-Ray SDK", ("aws_xray_sdk", "wrapt")),
)
OTHER = "other"


BREAKDOWN_RUNS = 3


def _breakdown(layer: Path, path: Path, beyond_floor_ms: float) -> dict[str, float]:
    """The handler's CPU beyond the floor, split by owner in the shares of the self times that -X importtime
    reports for the imports after the floor's (wall times, so only their shares are used; median of a few runs).
    A module is its package's owner's, or else the owner's that imported it. The handler module's own body is not
    an import, so it is not in the split."""
    runs = [_breakdown_once(layer, path) for _ in range(BREAKDOWN_RUNS)]
    walls = {owner: median([run[owner] for run in runs]) for owner in runs[0]}
    total = sum(walls.values()) or 1.0
    return {owner: round(beyond_floor_ms * wall / total, 1) for owner, wall in walls.items()}


def _breakdown_once(layer: Path, path: Path) -> dict[str, float]:
    code = "import boto3, requests\n" + HANDLER.format(layer=str(layer), folder=str(path.parent), path=str(path))
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        env=_env(),
        check=True,
    )
    owners = dict.fromkeys([*(name for name, _ in BREAKDOWN), OTHER], 0.0)
    lines = [line[len("import time:") :] for line in result.stderr.splitlines() if line.startswith("import time:")]
    entries = [tuple(part for part in line.split("|")) for line in lines if "self [us]" not in line]
    names = [name.strip() for _self, _cumulative, name in entries]
    after_floor = entries[names.index("requests") + 1 :]  # importtime lists a module after what it imported
    # A module no owner claims (asyncio, typing_extensions, boto3.dynamodb) is charged to whoever imported it.
    ancestors: list[tuple[int, str]] = []
    for self_us, _cumulative, field in reversed(after_floor):
        name = field.strip()
        depth = len(field) - len(field.lstrip())
        while ancestors and ancestors[-1][0] >= depth:
            ancestors.pop()
        claimed = next((owner for owner, prefixes in BREAKDOWN if name.split(".")[0] in prefixes), None)
        owner = claimed or (ancestors[-1][1] if ancestors else OTHER)
        ancestors.append((depth, owner))
        owners[owner] += int(self_us) / 1000
    return owners


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
        tracer_loads: list[float] = []
        for _ in range(RUNS):  # interleaved, so drift in the machine's load hits every figure alike
            floors.append(_cpu(FLOOR))
            for name, path in handlers.items():
                for kind, layer in layers.items():
                    code = HANDLER.format(layer=str(layer), folder=str(path.parent), path=str(path))
                    samples[name, kind].append(_cpu(code + CPU))
            first = handlers[next(iter(handlers))]
            code = HANDLER.format(layer=str(compiled), folder=str(first.parent), path=str(first))
            tracer_loads.append(_cpu(code + TRACER_LOAD))
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
                "beyond_floor_cpu_ms_by_owner": _breakdown(compiled, path, (with_pyc - floor) * 1000),
            }
        return {
            "floor_ms": round(floor * 1000, 1),
            "handlers": results,
            "tracer_load_ms": round(median(tracer_loads) * 1000, 1),
            "runs": RUNS,
            "layer": {"path": str(BUILT_LAYER.relative_to(ROOT)), **_bytecode_counts(compiled)},
        }


if __name__ == "__main__":
    import json

    print(json.dumps(measure(), indent=2))
