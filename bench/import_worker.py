"""One import run in its own process, so its peak memory is its own: plan the file, work every part."""

from __future__ import annotations

import cProfile
import json
import os
import pickle
import pstats
import resource
import sys
import time
from pathlib import Path


def peak_rss_kib() -> int:
    """This process's own high-water mark. (ru_maxrss would carry over the parent's from before exec.)"""
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main() -> int:
    key, profile_path = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else ""
    sys.path.insert(0, os.environ["BENCH_LAYER"])
    import boto3

    from listrak_kit.imports.pipeline import PartTask
    from listrak_kit.services import import_pipeline
    from listrak_kit.settings import ImportSettings, load_settings

    if os.environ.get("BENCH_DETAILED_ONLY"):
        # The same pipeline as before the fast path: every record through the pydantic models, lines by json.
        import json as _json

        from listrak_kit.imports import fast, sources

        fast.fast_serialized = lambda _entity, _raw: None
        sources._decode = _json.loads
    settings = load_settings(ImportSettings)
    pipeline = import_pipeline(settings)
    chunks: list[tuple[str, bytes]] = []
    if record_to := os.environ.get("BENCH_RECORD_CHUNKS"):
        # What the pipeline posts to Listrak, kept for the floor to post again (this run is not timed).
        from requests.adapters import HTTPAdapter

        from bench.transport import mount_on_every_session

        class Recording(HTTPAdapter):
            def send(self, request, *args, **kwargs):  # type: ignore[no-untyped-def]
                if request.method == "POST" and isinstance(request.body, bytes):
                    chunks.append((request.url, request.body))
                return super().send(request, *args, **kwargs)

        assert mount_on_every_session(Recording()), "the pipeline made no requests.Session"
    sqs = boto3.client("sqs")
    profiler = cProfile.Profile() if profile_path else None

    def trace(records: int) -> None:
        if os.environ.get("BENCH_TRACE_RSS") and records % 10_000 == 0:
            print(records, peak_rss_kib(), file=sys.stderr, flush=True)

    started, cpu_started = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    pipeline.plan(key, owner="bench")
    records = accepted = 0
    while messages := sqs.receive_message(QueueUrl=settings.IMPORT_QUEUE_URL, MaxNumberOfMessages=10).get("Messages"):
        for message in messages:
            outcome = pipeline.run_part(PartTask.model_validate_json(message["Body"]), progress=trace)
            records += outcome.records
            accepted += outcome.accepted
            sqs.delete_message(QueueUrl=settings.IMPORT_QUEUE_URL, ReceiptHandle=message["ReceiptHandle"])
    if profiler:
        profiler.disable()
        pstats.Stats(profiler).dump_stats(profile_path)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    peak_mib = peak_rss_kib() / 1024
    if record_to:
        Path(record_to).write_bytes(pickle.dumps(chunks))
    print(
        json.dumps(
            {
                "records": records,
                "accepted": accepted,
                "seconds": elapsed,
                "peak_mib": peak_mib,
                "cpu_seconds": cpu,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
