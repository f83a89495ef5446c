"""`make import ENTITY=orders FILE=path`: one local file through the import pipeline on the local stack.

The file is put in the local import bucket under its entity's prefix (with its `.items.csv` beside it, for orders
in CSV without an items column) and imported by the same code the import function runs, with a progress bar.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from tqdm import tqdm

from local_stack.stack import LocalStack

ENTITIES = ("customers", "orders", "products", "reviews", "rating-summaries")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entity", required=True, choices=ENTITIES)
    parser.add_argument("file", type=Path)
    args = parser.parse_args(argv)
    if not args.file.is_file():
        print(f"{args.file}: no such file", file=sys.stderr)
        return 2

    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"  # the progress bar and the summary say what happened
    with LocalStack() as stack:
        from listrak_kit.imports.pipeline import PartTask
        from listrak_kit.imports.sources import classify, items_key_for
        from listrak_kit.services import import_pipeline
        from listrak_kit.settings import ImportSettings, load_settings

        key = f"{args.entity}/{args.file.name}"
        if classify(key) is None:
            print(f"{args.file.name}: name it *.jsonl, *.ndjson, *.json or *.csv (optionally .gz)", file=sys.stderr)
            return 2
        bucket, s3, sqs = stack.refs["ImportBucket"], stack.client("s3"), stack.client("sqs")
        s3.upload_file(str(args.file), bucket, key)
        if key.endswith((".csv", ".csv.gz")):
            items = args.file.with_name(Path(items_key_for(key)).name)
            if items.is_file():
                s3.upload_file(str(items), bucket, items_key_for(key))

        started = time.monotonic()
        with stack.function_env("ImportFunction"):
            pipeline = import_pipeline(load_settings(ImportSettings))
            outcome = pipeline.plan(key, owner="make-import")
            print(f"{key}: {outcome}")
            with tqdm(unit=" records", unit_scale=True, dynamic_ncols=True) as bar:
                done = {"n": 0}

                def progress(records: int) -> None:
                    bar.update(records - done["n"])
                    done["n"] = records

                while messages := sqs.receive_message(QueueUrl=stack.refs["ImportQueue"]).get("Messages"):
                    for message in messages:
                        done["n"] = 0
                        pipeline.run_part(PartTask.model_validate_json(message["Body"]), progress=progress)
                        sqs.delete_message(QueueUrl=stack.refs["ImportQueue"], ReceiptHandle=message["ReceiptHandle"])
        try:
            manifest = json.loads(s3.get_object(Bucket=bucket, Key=f"results/{key}.manifest.json")["Body"].read())
        except s3.exceptions.NoSuchKey:
            return 1
        elapsed = time.monotonic() - started
        print(
            f"{manifest['records']} records in {elapsed:.1f} s: {manifest['accepted']} accepted, "
            f"{manifest['rejected']} rejected, {sum(len(p['chunks']) for p in manifest['parts'])} chunk(s) sent"
        )
        for rejects_key in manifest["rejects"]:
            body = s3.get_object(Bucket=bucket, Key=rejects_key)["Body"].read().decode()
            print(f"rejects ({rejects_key}):")
            for line in body.splitlines()[:20]:
                print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
