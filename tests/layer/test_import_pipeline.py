"""The import pipeline on its own: S3 and DynamoDB in moto (in-process), Listrak's Data API and SQS in memory."""

from __future__ import annotations

import json

import boto3

from listrak_kit.aws.import_ledger import DynamoImportLedger
from listrak_kit.aws.objects import S3Objects
from listrak_kit.imports.chunks import ChunkLimits
from listrak_kit.imports.pipeline import ImportPipeline, PartTask
from tests.conftest import REVIEW
from tests.layer.aws_fakes import BUCKET, TABLE, aws  # noqa: F401

KEY = "reviews/2026-11-22.jsonl"


class MemoryData:
    def __init__(self):
        self.bodies: list[tuple[str, list]] = []

    def import_records(self, route, body, **_budget):
        self.bodies.append((route, json.loads(body)))
        return None


class MemoryTasks(list):
    def send(self, task):
        self.append(task)


def pipeline(data, tasks, **options):
    return ImportPipeline(
        objects=S3Objects(BUCKET),
        data_api=data,
        ledger=DynamoImportLedger(TABLE),
        tasks=tasks,
        limits=ChunkLimits(max_records=2),
        **options,
    )


def drop(lines):
    boto3.client("s3").put_object(Bucket=BUCKET, Key=KEY, Body="".join(json.dumps(x) + "\n" for x in lines).encode())


def test_a_file_is_planned_once_and_its_valid_records_reach_listrak_in_chunks(aws):  # noqa: F811
    drop([REVIEW, {**REVIEW, "recommended": "maybe"}, {**REVIEW, "providerReviewID": "R-3"}])
    data, tasks = MemoryData(), MemoryTasks()
    assert pipeline(data, tasks).plan(KEY, owner="t") == "queued in 1 part(s)"
    assert pipeline(data, tasks).plan(KEY, owner="another trigger").startswith("skipped")
    assert len(tasks) == 1

    outcome = pipeline(data, tasks).run_part(PartTask.model_validate(tasks[0]))
    assert (outcome.status, outcome.records, outcome.accepted, outcome.rejected) == ("done", 3, 2, 1)
    assert [(route, [r["providerReviewID"] for r in body]) for route, body in data.bodies] == [
        ("Review", ["R-1", "R-3"])
    ]
    assert outcome.file_done
    manifest = json.loads(boto3.client("s3").get_object(Bucket=BUCKET, Key=outcome.manifest_key)["Body"].read())
    assert (manifest["accepted"], manifest["rejected"]) == (2, 1)
    rejects = boto3.client("s3").get_object(Bucket=BUCKET, Key=manifest["rejects"][0])["Body"].read().decode()
    assert "recommended" in rejects

    again = pipeline(data, tasks).run_part(PartTask.model_validate(tasks[0]))
    assert again.status == "already-done" and len(data.bodies) == 1


def test_a_part_short_of_time_hands_over_and_resumes_after_the_last_sent_chunk(aws):  # noqa: F811
    drop([{**REVIEW, "providerReviewID": f"R-{i}"} for i in range(5)])
    data, tasks = MemoryData(), MemoryTasks()
    pipeline(data, tasks).plan(KEY, owner="t")
    task = PartTask.model_validate(tasks.pop())
    seconds = iter([600.0, 1.0])
    first = pipeline(data, tasks).run_part(task, time_left=lambda: next(seconds, 1.0))
    assert first.status == "continues" and len(tasks) == 1  # queued itself again
    done = pipeline(data, tasks).run_part(PartTask.model_validate(tasks.pop()), time_left=lambda: 600.0)
    assert done.status == "done"
    sent = [r["providerReviewID"] for _, body in data.bodies for r in body]
    assert sent == [f"R-{i}" for i in range(5)]  # each record once, in order
