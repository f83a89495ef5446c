"""Import validation + serialisation in one process, on the same orders: our path beside msgspec with the same rules.

The path is what the import pipeline does per JSON line (jsonl_records reads it, record_bytes checks and
serialises it). The floor decodes each
line straight into the compiled schema and encodes it back: the speed of the JSON underneath. The detailed models
alone (every record through pydantic, as before the fast path) run on a tenth of the orders for comparison.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from bench.common import LAYER
from bench.imports import orders_file

ORDERS = 100_000
TARGET_RATIO = 2.5


def measure(count: int = ORDERS) -> dict:
    sys.path.insert(0, str(LAYER))
    import msgspec

    from listrak_kit.imports.chunks import serialize_checked
    from listrak_kit.imports.fast import _struct, record_bytes
    from listrak_kit.imports.records import ENTITIES, complete, validate_record
    from listrak_kit.imports.sources import jsonl_records

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "orders.jsonl"
        orders_file(count, path)
        lines = path.read_bytes().splitlines()
        texts = path.read_text(encoding="utf-8").splitlines(keepends=True)

    def ours() -> int:
        return sum(len(record_bytes("orders", raw.data)[0] or b"") for raw in jsonl_records(texts) if raw.data)

    schema = _struct(ENTITIES["orders"].model)
    decode, encode, convert = msgspec.json.Decoder().decode, msgspec.json.Encoder().encode, msgspec.convert

    def floor() -> int:
        # The same rules and the same fill-in (an item's orderNumber is its order's), with msgspec's own parser.
        return sum(len(encode(convert(complete("orders", decode(line)), schema))) for line in lines)

    def detailed(subset: list[bytes]) -> int:
        total = 0
        for line in subset:
            record, _ = validate_record("orders", complete("orders", json.loads(line)))
            total += len(serialize_checked(record)[0] or b"")
        return total

    ours()  # warm: schemas built, caches filled
    tenth = lines[: count // 10]
    runs = {"ours": (ours, count), "floor": (floor, count), "detailed": (lambda: detailed(tenth), len(tenth))}
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(3):  # interleaved, so drift in the machine's load hits every figure alike
        for name, (run, _n) in runs.items():
            started = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - started)
    results = {name: {"records_per_second": round(n / best[name])} for name, (_run, n) in runs.items()}
    same = ours() == floor()
    ratio = results["floor"]["records_per_second"] / results["ours"]["records_per_second"]
    return {"orders": count, **results, "ratio": round(ratio, 2), "target": TARGET_RATIO, "same_bytes": same}


if __name__ == "__main__":
    print(json.dumps(measure(int(sys.argv[1]) if len(sys.argv) > 1 else ORDERS), indent=1))
