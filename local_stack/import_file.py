"""`make import ENTITY=orders FILE=path`: one local file through the import pipeline on the local stack.

The file is put in the local import bucket under its entity's prefix (with its `.items.csv` beside it, for orders
in CSV without an items column) and imported by the same code the import function runs, with a progress bar.
The manifest and the full rejects are copied to `.local-stack/results/`, so nothing is only in moto's memory.
Exit status: 0 when the file was imported (with or without rejects) and something reached Listrak; 1 when it
failed, was abandoned, is waiting, or every record was rejected; 2 for a wrong invocation.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from tqdm import tqdm

from listrak_kit.imports.entities import IMPORT_ENTITIES
from local_stack.cli import one_line_errors
from local_stack.config import log_dir_for
from local_stack.stack import ROOT, LocalStack

SHOWN_REJECTS = 20
RESULTS_DIR = Path(os.environ.get("LOCAL_STACK_RESULTS") or ROOT / ".local-stack" / "results")


@one_line_errors("make import")
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entity", required=True, choices=IMPORT_ENTITIES)
    parser.add_argument(
        "--resume",
        action="store_true",
        help="resume a failed import of this same file from the manifest in .local-stack/results/",
    )
    parser.add_argument("file", type=Path)
    args = parser.parse_args(argv)
    if not args.file.is_file():
        print(f"{args.file}: no such file", file=sys.stderr)
        return 2

    os.environ["POWERTOOLS_LOG_LEVEL"] = "ERROR"  # the progress bar and the summary say what happened
    with LocalStack(log_dir=log_dir_for("import")) as stack:
        from listrak_kit.imports.sources import classify

        key = f"{args.entity}/{args.file.name}"
        if classify(key) is None:
            print(f"{args.file.name}: name it *.jsonl, *.ndjson, *.json or *.csv (optionally .gz)", file=sys.stderr)
            return 2
        return _import(stack, key, args.file, resume=args.resume)


def _import(stack: LocalStack, key: str, path: Path, *, resume: bool) -> int:
    from listrak_kit.imports.pipeline import PartTask, manifest_key_for
    from listrak_kit.imports.sources import items_key_for
    from listrak_kit.services import import_pipeline
    from listrak_kit.settings import ImportSettings, load_settings
    from listrak_ops.imports import resume_import

    bucket, s3, sqs = stack.refs["ImportBucket"], stack.client("s3"), stack.client("sqs")
    queue = stack.refs["ImportQueue"]
    s3.upload_file(str(path), bucket, key)
    if key.endswith((".csv", ".csv.gz")):
        items = path.with_name(Path(items_key_for(key)).name)
        if items.is_file():
            s3.upload_file(str(items), bucket, items_key_for(key))

    started = time.monotonic()
    with stack.function_env("ImportFunction"):
        settings = load_settings(ImportSettings)
        pipeline = import_pipeline(settings)
        if resume:
            # This stack's ledger starts empty: the earlier run's, as its manifest tells it, goes in first, and
            # the file is resumed as `listrak-sam imports resume` resumes one.
            if not _seed_from_manifest(pipeline, settings, key):
                return 1
            outcome = resume_import(key, owner="make-import")
        else:
            outcome = pipeline.plan(key, owner="make-import")
        print(f"{key}: {outcome}")
        if outcome.startswith(("ignored", "waiting", "not resumed")):
            return 1
        deliveries: dict[str, int] = {}
        with tqdm(unit=" records", unit_scale=True, dynamic_ncols=True) as bar:
            done = {"n": 0}

            def progress(records: int) -> None:
                bar.update(records - done["n"])
                done["n"] = records

            while messages := sqs.receive_message(QueueUrl=queue, VisibilityTimeout=0).get("Messages"):
                for message in messages:
                    delivery = deliveries[message["MessageId"]] = deliveries.get(message["MessageId"], 0) + 1
                    done["n"] = 0
                    task = PartTask.model_validate_json(message["Body"])
                    try:
                        pipeline.run_part(task, progress=progress, delivery=delivery)
                    except Exception as exc:  # noqa: BLE001 (retried as SQS would, then reported by the manifest)
                        bar.write(f"part {task.part}, delivery {delivery}: {type(exc).__name__}: {exc}")
                        if delivery < settings.IMPORT_MAX_RECEIVES:
                            continue
                    sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])

    try:
        manifest = json.loads(s3.get_object(Bucket=bucket, Key=manifest_key_for(key))["Body"].read())
    except s3.exceptions.NoSuchKey:
        print(f"{key}: no manifest was written", file=sys.stderr)
        return 1
    return _report(s3, bucket, key, manifest, time.monotonic() - started)


def _seed_from_manifest(pipeline: Any, settings: Any, key: str) -> bool:
    """The earlier run's file version, as its manifest left it, into this stack's ledger: failed, with the chunks
    Listrak accepted (which the resume then skips)."""
    from listrak_kit.aws.import_ledger import DynamoImportLedger
    from listrak_kit.aws.objects import S3Objects
    from listrak_kit.imports.manifest import manifest_key_for
    from listrak_kit.imports.ports import FAILED

    saved_path = RESULTS_DIR / f"{key}.manifest.json"
    if not saved_path.is_file():
        print(f"{key}: no earlier manifest in {saved_path} to resume from", file=sys.stderr)
        return False
    saved = json.loads(saved_path.read_text(encoding="utf-8"))
    info = S3Objects(settings.IMPORT_BUCKET).head(key)
    if saved.get("etag") != info.etag:
        print(
            f"{key}: the file changed since that manifest (ETag {saved.get('etag')}): import it afresh", file=sys.stderr
        )
        return False
    ledger = DynamoImportLedger(settings.TABLE_NAME)
    parts = pipeline.parts_of(info)
    ledger.claim_file(
        key,
        info.version,
        owner="make-import",
        entity=saved["entity"],
        parts=len(parts),
        part_lines=[p.firstLine for p in parts],
    )
    seeded = 0
    for part in saved["parts"]:
        for chunk in part["chunks"]:
            if not chunk.get("pending"):
                fields = {k: v for k, v in chunk.items() if k != "chunk"}
                ledger.chunk_sent(key, info.version, part["part"], chunk["chunk"], fields)
                seeded += 1
    ledger.close_file(key, info.version, FAILED, manifest_key=manifest_key_for(key), reason=saved.get("reason"))
    print(f"{key}: resuming; {seeded} chunk(s) Listrak accepted before are skipped")
    return True


def _report(s3: Any, bucket: str, key: str, manifest: dict[str, Any], elapsed: float) -> int:
    out = RESULTS_DIR / key
    out.parent.mkdir(parents=True, exist_ok=True)
    manifest_path = out.with_name(out.name + ".manifest.json")
    manifest_path.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    chunks = sum(len(p["chunks"]) for p in manifest["parts"])
    print(
        f"{manifest['state']}: {manifest['records']} records in {elapsed:.1f} s, {manifest['accepted']} accepted, "
        f"{manifest['rejected']} rejected, {chunks} chunk(s) sent"
    )
    if manifest.get("reason"):
        print(f"  reason: {manifest['reason']}")
    for gap in manifest.get("notImported") or []:
        end = "the end of the file" if gap["toLine"] is None else f"line {gap['toLine']}"
        print(f"  not imported: line {gap['fromLine']} to {end}")
    for rejects_key in manifest["rejects"]:
        lines = s3.get_object(Bucket=bucket, Key=rejects_key)["Body"].read().decode().splitlines()
        local = RESULTS_DIR / rejects_key.removeprefix("results/")
        local.parent.mkdir(parents=True, exist_ok=True)
        local.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        print(f"rejects ({local}):")
        for line in lines[:SHOWN_REJECTS]:
            print(f"  {line}")
        if len(lines) > SHOWN_REJECTS:
            print(f"  ... and {len(lines) - SHOWN_REJECTS} more in {local}")
    print(f"manifest: {manifest_path}")
    if manifest["state"] in ("failed", "abandoned"):
        if any(p["chunks"] for p in manifest["parts"]):  # something reached Listrak: resume after it
            print(f"  after fixing the cause: make import ENTITY={key.split('/')[0]} FILE=<the same file> RESUME=1")
        return 1
    if manifest["accepted"] == 0:
        print("nothing was accepted: every record was rejected", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
