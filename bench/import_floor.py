"""The import's floor, in its own process like the pipeline's run: the same I/O with nothing of ours around it.

Reads the same S3 object through a bare boto3 client, parses every line with json, and posts the chunks the
pipeline posted (recorded by an earlier run of bench.import_worker) to the same sandbox with a bare requests loop.

    python -m bench.import_floor BUCKET KEY CHUNKS_FILE     (env: BENCH_DATA_TOKEN, the sandbox's Data API token)
"""

from __future__ import annotations

import json
import os
import pickle
import sys
import time
from pathlib import Path


def main() -> int:
    bucket, key, chunks_file = sys.argv[1:4]
    chunks: list[tuple[str, bytes]] = pickle.loads(Path(chunks_file).read_bytes())
    import boto3
    import requests

    headers = {"Authorization": f"Bearer {os.environ['BENCH_DATA_TOKEN']}", "Content-Type": "application/json"}
    started, cpu_started = time.perf_counter(), time.process_time()
    records = 0
    for line in boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].iter_lines(chunk_size=1 << 20):
        if line:
            json.loads(line)
            records += 1
    session = requests.Session()
    for url, body in chunks:
        answer = session.post(url, data=body, headers=headers, timeout=(3.05, 120))
        answer.raise_for_status()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    print(json.dumps({"records": records, "chunks": len(chunks), "seconds": elapsed, "cpu_seconds": cpu}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
