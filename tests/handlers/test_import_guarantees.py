"""Imports lose nothing and never stall: refusals become rejects, unreadable files fail in one line, a part dies
only without progress, a failed file says which lines Listrak lacks and resumes from there."""

from __future__ import annotations

import gzip
import json

import pytest
from botocore.exceptions import ResponseStreamingError

from listrak_kit.imports.pipeline import PartTask
from listrak_kit.listrak.errors import ListrakRejected, ListrakUnavailable
from listrak_kit.services import import_pipeline
from listrak_kit.settings import ImportSettings, load_settings
from listrak_ops.imports import resume_import
from tests.handlers.test_imports import drop, imported, jsonl, manifest, rejects


class DroppingStreams:
    """S3 streams that drop (ResponseStreamingError) after `after` bytes, for the first `drops` GETs."""

    def __init__(self, objects, *, drops: int, after: int):
        self._get, self.drops, self.after, self.gets = objects._get, drops, after, []
        objects._get = self

    def __call__(self, info, start, end):
        self.gets.append(start)
        body = self._get(info, start, end)
        if self.drops <= 0:
            return body
        self.drops -= 1
        return _Dropping(body, self.after)


class _Dropping:
    def __init__(self, body, after):
        self._body, self._left = body, after

    def read(self, size=-1):
        if self._left <= 0:
            raise ResponseStreamingError(error="Connection reset by peer")
        data = self._body.read(self._left if size is None or size < 0 else min(size, self._left))
        self._left -= len(data)
        return data

    def close(self):
        self._body.close()


def planned(stack, key, body):
    stack.client("s3").put_object(Bucket=stack.refs["ImportBucket"], Key=key, Body=body)
    pipeline = import_pipeline(load_settings(ImportSettings))
    assert pipeline.plan(key, owner="test").startswith("queued")
    sqs, queue = stack.client("sqs"), stack.refs["ImportQueue"]
    [message] = sqs.receive_message(QueueUrl=queue)["Messages"]
    sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    return pipeline, PartTask.model_validate_json(message["Body"])


def test_a_dropped_s3_stream_resumes_from_its_byte_offset(stack, sandbox):
    stack.env_overrides["IMPORT_CHUNK_MAX_RECORDS"] = "10"
    records = [{"sku": f"S-{n:03d}", "title": "Shirt"} for n in range(100)]
    with stack.function_env("ImportFunction"):
        pipeline, task = planned(stack, "products/drop.jsonl", jsonl(*records))
        streams = DroppingStreams(pipeline._objects, drops=2, after=1500)
        outcome = pipeline.run_part(task)

    assert outcome.status == "done" and outcome.accepted == 100
    assert streams.gets == [0, 1500, 3000]  # each re-read starts where the last one dropped
    assert [r["sku"] for r in imported(sandbox, "Product")] == [r["sku"] for r in records]


def test_an_ambiguous_answer_to_a_data_import_is_retried_in_process(stack, sandbox):
    sandbox.inject("data", "drop_after", times=2)  # Listrak applied the chunk, the answer was lost
    drop(stack, "orders/ambiguous.jsonl", jsonl({"orderNumber": "1", "status": "Completed"}))
    assert manifest(stack, "orders/ambiguous.jsonl")["state"] == "imported"
    assert sandbox.stats["data_imports"] == 3  # the same chunk three times: an upsert by orderNumber
    assert {o["orderNumber"] for o in imported(sandbox, "Order")} == {"1"}


class RefusingData:
    """A Data API that refuses a whole body (400, naming no record) when it holds a refused sku."""

    def __init__(self, real, refused):
        self.real, self.refused, self.calls = real, refused, 0

    def import_records(self, route, body, **kwargs):
        self.calls += 1
        if any(r.get("sku") in self.refused for r in json.loads(body)):
            raise ListrakRejected("Listrak answered 400", status=400, code="ERROR_INVALID_PARAMETER")
        return self.real.import_records(route, body, **kwargs)


def test_a_data_400_naming_no_record_is_bisected_to_the_refused_records(stack, sandbox):
    stack.env_overrides["IMPORT_CHUNK_MAX_RECORDS"] = "16"
    key = "products/refused.jsonl"
    with stack.function_env("ImportFunction"):
        pipeline, task = planned(stack, key, jsonl(*[{"sku": f"S-{n}"} for n in range(16)]))
        pipeline._data = RefusingData(pipeline._data, {"S-3", "S-11"})
        outcome = pipeline.run_part(task)

    assert (outcome.status, outcome.accepted, outcome.rejected) == ("done", 14, 2)
    assert pipeline._data.calls <= 1 + 2 * 2 * 4  # bounded: two refused records in a chunk of 16
    assert sorted(r["sku"] for r in imported(sandbox, "Product")) == sorted(
        f"S-{n}" for n in range(16) if n not in (3, 11)
    )
    listed = rejects(stack, key)
    assert [(r["line"], r["sku"]) for r in listed] == [(4, "S-3"), (12, "S-11")]
    assert all("ERROR_INVALID_PARAMETER" in r["reason"] for r in listed)
    assert manifest(stack, key)["state"] == "imported with rejects"


def test_a_corrupt_gzip_file_fails_in_one_line(stack, sandbox):
    body = gzip.compress(jsonl(*[{"sku": f"S-{n}"} for n in range(50)]))
    drop(stack, "products/broken.jsonl.gz", body[: len(body) // 2])
    result = manifest(stack, "products/broken.jsonl.gz")
    assert result["state"] == "failed" and "not a valid gzip file" in result["reason"]
    assert "\n" not in result["reason"]
    assert stack.client("sqs").receive_message(QueueUrl=stack.refs["ImportDeadLetterQueue"]).get("Messages") is None


def test_an_empty_or_semicolon_delimited_csv_fails_with_its_reason_not_waiting_for_items(stack, sandbox):
    assert drop(stack, "orders/empty.csv", b"").startswith("failed: the file is empty")
    assert drop(stack, "orders/semi.csv", b"orderNumber;status\n1;Completed\n").startswith(
        "failed: the header is one column ('orderNumber;status')"
    )
    assert manifest(stack, "orders/semi.csv")["state"] == "failed"
    assert sandbox.stats["requests"] == 0


def test_an_items_file_reject_names_the_file_apart_from_the_field(stack, sandbox):
    drop(stack, "orders/day.items.csv", b"orderNumber,sku\n,A-1\n")
    drop(stack, "orders/day.csv", b"orderNumber,status\n1001,Shipped\n")
    [reject] = rejects(stack, "orders/day.csv")
    assert (reject["file"], reject["line"], reject["field"]) == ("orders/day.items.csv", 2, "orderNumber")


class FailAfter:
    """Listrak accepting `ok` chunks, then unavailable for good."""

    def __init__(self, real, ok):
        self.real, self.ok = real, ok

    def import_records(self, route, body, **kwargs):
        if self.ok <= 0:
            raise ListrakUnavailable("Listrak unavailable after 8 attempt(s) (HTTP 503)")
        self.ok -= 1
        return self.real.import_records(route, body, **kwargs)


def test_a_part_dies_only_without_progress_and_its_file_is_resumed_from_the_manifest(stack, sandbox):
    stack.env_overrides.update({"IMPORT_CHUNK_MAX_RECORDS": "10", "IMPORT_MAX_RECEIVES": "2"})
    key = "products/outage.jsonl"
    records = [{"sku": f"S-{n:02d}"} for n in range(45)]
    with stack.function_env("ImportFunction"):
        pipeline, task = planned(stack, key, jsonl(*records))
        pipeline._data = FailAfter(pipeline._data, ok=2)
        sqs, queue = stack.client("sqs"), stack.refs["ImportQueue"]
        assert pipeline.run_part(task).status == "continues"  # two chunks in: a fresh message, a fresh budget
        [fresh] = sqs.receive_message(QueueUrl=queue)["Messages"]
        task = PartTask.model_validate_json(fresh["Body"])
        for delivery in (1, 2):  # no progress: SQS counts these deliveries, the last one fails the file
            with pytest.raises(ListrakUnavailable):
                pipeline.run_part(task, delivery=delivery)
        failed = manifest(stack, key)
        assert failed["state"] == "failed" and "Listrak unavailable" in failed["reason"]
        assert failed["notImported"] == [{"part": 0, "fromLine": 21, "toLine": None}]
        assert failed["accepted"] == 20
        assert failed["resume"] == f"listrak-sam imports resume {key} --version-id {task.version}"

        assert resume_import(key, owner="test").startswith("resumed: 1 part(s)")
        [again] = sqs.receive_message(QueueUrl=queue)["Messages"]
        done = import_pipeline(load_settings(ImportSettings)).run_part(PartTask.model_validate_json(again["Body"]))

    assert (done.status, done.chunks_skipped, done.chunks_sent) == ("done", 2, 3)
    assert [r["sku"] for r in imported(sandbox, "Product")] == [r["sku"] for r in records]  # each once
    result = manifest(stack, key)
    assert (result["state"], result["accepted"]) == ("imported", 45) and "notImported" not in result
