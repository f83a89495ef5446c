"""Imports as their results show them: each file's manifest and rejects under results/ in the import bucket; and a
failed or abandoned file resumed, by the import pipeline built as the import function builds it (from its
environment). `listrak-sam imports resume` and `make import RESUME=1` both resume through `resume_import`."""

from __future__ import annotations

import json
import os
from typing import Any
from unittest import mock

from listrak_ops.stack import StackResources

RESULTS_PREFIX = "results/"
MANIFEST_SUFFIX = ".manifest.json"
IMPORT_FUNCTION = "ImportFunction"


def recent(stack: StackResources, *, limit: int = 10, rejects: int = 5) -> list[dict[str, Any]]:
    """The newest manifests first, each with the first `rejects` rejected lines of its files and their total."""
    s3 = stack.client("s3")
    manifests = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=stack.import_bucket, Prefix=RESULTS_PREFIX):
        manifests += [o for o in page.get("Contents", []) if o["Key"].endswith(MANIFEST_SUFFIX)]
    manifests.sort(key=lambda o: o["LastModified"], reverse=True)
    found = []
    for entry in manifests[:limit]:
        manifest = json.loads(s3.get_object(Bucket=stack.import_bucket, Key=entry["Key"])["Body"].read())
        first: list[dict[str, Any]] = []
        total = 0
        for key in manifest.get("rejects") or []:
            lines = s3.get_object(Bucket=stack.import_bucket, Key=key)["Body"].read().decode("utf-8").splitlines()
            total += len(lines)
            first += [json.loads(line) for line in lines[: max(0, rejects - len(first))]]
        found.append({"manifestKey": entry["Key"], "manifest": manifest, "firstRejects": first, "rejectLines": total})
    return found


def resume(stack: StackResources, key: str, *, version: str | None = None) -> str:
    """One line: what resuming the file version did (resumed, or why not), in the stack's import function's
    environment."""
    from listrak_kit.aws.clients import aws_client

    with mock.patch.dict(os.environ, stack.function_env(IMPORT_FUNCTION)):
        aws_client.cache_clear()  # clients made for another endpoint or region
        return resume_import(key, version=version, owner="listrak-sam")


def resume_import(key: str, *, version: str | None = None, owner: str) -> str:
    """Queues the failed or abandoned parts of one file version again, from their last accepted chunks; returns
    what happened in one line. The pipeline is built from this process's environment (the import function's)."""
    from listrak_kit.services import import_pipeline
    from listrak_kit.settings import ImportSettings, load_settings

    return import_pipeline(load_settings(ImportSettings)).resume(key, version=version, owner=owner)
