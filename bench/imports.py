"""Import throughput and memory: orders with three items each, from an S3 object (moto) to the sandbox.

Each run is its own process, so its peak RSS is the import's alone. A separate profiled run of the smallest size
says where the time goes: JSON, validation, HTTP to Listrak, AWS calls, reading the stream, or our own code.
"""

from __future__ import annotations

import json
import os
import pstats
import random
import tempfile
from pathlib import Path

from bench.common import LAYER, ROOT, median, run_module

SIZES = (100_000, 1_000_000)
TARGET_SPEEDUP = 3.0  # the fast path's records/s over the detailed models' alone, same file, same run
END_TO_END_ORDERS = 20_000
END_TO_END_ROUNDS = 3
END_TO_END_TARGET = 1.5  # the pipeline's time over the floor's (bench/import_floor.py), same object, same sandbox
STATUSES = ("Completed", "Shipped", "Processing", "Pending")


def orders_file(count: int, path: Path) -> None:
    rng = random.Random(count)
    with path.open("w", encoding="utf-8") as out:
        for n in range(count):
            items = [
                {
                    "sku": f"SKU-{rng.randrange(10_000):05d}",
                    "quantity": rng.randint(1, 3),
                    "price": 19.95,
                    "itemTotal": 19.95,
                    "status": "Shipped",
                }
                for _ in range(3)
            ]
            order = {
                "orderNumber": f"B{n:08d}",
                "email": f"customer{n % 50_000}@example.com",
                "dateEntered": "2026-11-21T10:15:00",
                "status": STATUSES[n % 4],
                "orderTotal": 64.85,
                "itemTotal": 59.85,
                "taxTotal": 5.0,
                "shippingMethod": "Ground",
                "billingAddress": {"city": "Boston", "state": "MA", "zipCode": "02110"},
                "items": items,
            }
            out.write(json.dumps(order, separators=(",", ":")) + "\n")


CATEGORIES = (
    ("JSON parse", ("json/", "_json", "msgspec.json.Decoder")),
    ("validation and serialisation", ("msgspec", "pydantic", "imports/records.py", "imports/fast.py", "chunks.py")),
    ("HTTP to Listrak", ("requests", "urllib3", "http/client", "socket", "ssl")),
    ("AWS calls (S3 read, SQS, DynamoDB)", ("botocore", "boto3", "s3transfer")),
    ("reading the stream", ("io.", "codecs", "gzip", "_io")),
    ("our own code", ("listrak_kit",)),
)


def _shares(profile_path: str) -> dict[str, float]:
    stats = pstats.Stats(profile_path)
    totals: dict[str, float] = {name: 0.0 for name, _ in CATEGORIES}
    totals["other"] = 0.0
    for (filename, _line, function), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        where = f"{filename}:{function}"
        for name, needles in CATEGORIES:
            if any(needle in where for needle in needles):
                totals[name] += tottime
                break
        else:
            totals["other"] += tottime
    grand = sum(totals.values()) or 1.0
    return {name: round(100 * value / grand, 1) for name, value in totals.items()}


def measure(stack, sizes: tuple[int, ...] = SIZES) -> dict:
    stack.sandbox.keep_imported_records = False
    env = {
        **os.environ,
        **stack.environment_for("ImportFunction"),
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "BENCH_LAYER": str(LAYER),
        "PYTHONPATH": str(ROOT),
    }
    runs = {}
    with tempfile.TemporaryDirectory() as folder:
        for count in sizes:
            path = Path(folder) / f"orders-{count}.jsonl"
            orders_file(count, path)
            key = f"orders/bench-{count}.jsonl"
            stack.client("s3").upload_file(str(path), stack.refs["ImportBucket"], key)
            result = _run(env, key)
            result["file_mib"] = round(path.stat().st_size / 2**20, 1)
            result["records_per_second"] = round(result["records"] / result["seconds"])
            runs[count] = result
            path.unlink()
        smallest = min(sizes)
        profile = str(Path(folder) / "import.prof")
        path = Path(folder) / "orders-profile.jsonl"
        orders_file(smallest, path)
        stack.client("s3").upload_file(str(path), stack.refs["ImportBucket"], "orders/bench-profile.jsonl")
        _run(env, "orders/bench-profile.jsonl", profile)
        shares = _shares(profile)
    return {"runs": runs, "time_shares_percent": shares, "profiled_records": smallest}


def before_and_after(stack, count: int = 100_000) -> dict:
    """The same file through the pipeline with and without the fast path, one after the other in one run."""
    stack.sandbox.keep_imported_records = False
    env = {
        **os.environ,
        **stack.environment_for("ImportFunction"),
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "BENCH_LAYER": str(LAYER),
        "PYTHONPATH": str(ROOT),
    }
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "orders.jsonl"
        orders_file(count, path)
        runs = {}
        for name, extra in (("detailed models only", {"BENCH_DETAILED_ONLY": "1"}), ("fast path", {})):
            key = f"orders/ab-{name.split()[0]}-{count}.jsonl"
            stack.client("s3").upload_file(str(path), stack.refs["ImportBucket"], key)
            result = _run({**env, **extra}, key)
            runs[name] = {**result, "records_per_second": round(result["records"] / result["seconds"])}
    return runs


def end_to_end(stack, count: int = END_TO_END_ORDERS, rounds: int = END_TO_END_ROUNDS) -> dict:
    """The pipeline (plan, parts through SQS, the ledger, validation, chunks to the sandbox) beside a floor that
    does the same I/O bare: read the same S3 object, parse its lines, post the same chunks to the same sandbox.
    A first, untimed run records the chunks the pipeline posts; then the two alternate, each in its own process."""
    stack.sandbox.keep_imported_records = False
    env = {
        **os.environ,
        **stack.environment_for("ImportFunction"),
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "BENCH_LAYER": str(LAYER),
        "PYTHONPATH": str(ROOT),
    }
    bucket = stack.refs["ImportBucket"]
    with tempfile.TemporaryDirectory() as folder:
        path, chunks = Path(folder) / "orders.jsonl", Path(folder) / "chunks.pickle"
        orders_file(count, path)
        key = f"orders/e2e-{count}.jsonl"
        stack.client("s3").upload_file(str(path), bucket, key)
        recorded = _run({**env, "BENCH_RECORD_CHUNKS": str(chunks)}, key, raw=True)
        floor_env = {**env, "BENCH_DATA_TOKEN": stack.sandbox.issue_token("Data")}
        ours: list[dict] = []
        floors: list[dict] = []
        for n in range(rounds):
            floors.append(_floor(floor_env, bucket, key, chunks))
            # A new key each time: the ledger would otherwise (rightly) find the file imported already.
            again = f"orders/e2e-{count}-{n}.jsonl"
            stack.client("s3").upload_file(str(path), bucket, again)
            ours.append(_run(env, again, raw=True))
    seconds = median([run["seconds"] for run in ours])
    floor_seconds = median([run["seconds"] for run in floors])
    return {
        "records": count,
        "chunks": floors[0]["chunks"],
        "accepted": recorded["accepted"],
        "rounds": rounds,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(median([run["cpu_seconds"] for run in ours]), 2),
        "floor_seconds": round(floor_seconds, 2),
        "floor_cpu_seconds": round(median([run["cpu_seconds"] for run in floors]), 2),
        "ratio": round(seconds / floor_seconds, 2),
        "target": END_TO_END_TARGET,
    }


def _floor(env: dict[str, str], bucket: str, key: str, chunks: Path) -> dict:
    return run_module("bench.import_floor", [bucket, key, str(chunks)], env)


def _run(env: dict[str, str], key: str, profile: str = "", *, raw: bool = False) -> dict:
    result = run_module("bench.import_worker", [key, *([profile] if profile else [])], env)
    if raw:
        return result
    return {
        "records": result["records"],
        "accepted": result["accepted"],
        "seconds": round(result["seconds"], 1),
        "peak_mib": round(result["peak_mib"], 1),
    }
