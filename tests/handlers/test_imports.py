"""Imports end to end on the local stack: S3 drop -> EventBridge -> plan -> SQS parts -> Listrak's Data API."""

from __future__ import annotations

import gzip
import json

import pytest

from listrak_kit.imports.pipeline import PartTask
from listrak_kit.listrak.errors import ListrakUnavailable
from listrak_kit.services import import_pipeline
from listrak_kit.settings import ImportSettings, load_settings
from tests.conftest import REVIEW, api_event

VALID = {
    "customers": {"email": "jane@example.com", "firstName": "Jane", "registered": True},
    "orders": {"orderNumber": "1001", "status": "Completed", "orderTotal": 10.5, "items": [{"sku": "A-1"}]},
    "products": {"sku": "A-1", "title": "Shirt", "price": 39.0, "inStock": True},
    "reviews": REVIEW,
    "rating-summaries": {
        "provider": "Yotpo",
        "providerProductID": "A-1",
        "ratingSummaries": [{"providerRatingSummaryID": "s", "rating": 4.5}],
    },
}
INVALID = {
    "customers": ({"email": "x" * 101}, "email"),
    "orders": ({"orderNumber": "1002", "status": "placed"}, "status"),
    "products": ({"title": "no sku"}, "sku"),
    "reviews": ({**VALID["reviews"], "providerReviewID": "R-2", "recommended": "maybe"}, "recommended"),
    "rating-summaries": (
        {"providerProductID": "B", "ratingSummaries": [{"rating": 1}]},
        "ratingSummaries[0].providerRatingSummaryID",
    ),
}
ROUTES = {
    "customers": "Customer",
    "orders": "Order",
    "products": "Product",
    "reviews": "Review",
    "rating-summaries": "RatingSummary",
}


def jsonl(*records) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()


def drop(stack, key, body):
    [(function, outcome)] = stack.drop_file("ImportBucket", key, body)
    assert function == "ImportFunction" and outcome.error is None, outcome.error
    stack.drain("ImportQueue")
    return outcome.result["outcome"]


def results(stack, key, suffix):
    s3 = stack.client("s3")
    return s3.get_object(Bucket=stack.refs["ImportBucket"], Key=f"results/{key}{suffix}")["Body"].read().decode()


def manifest(stack, key):
    return json.loads(results(stack, key, ".manifest.json"))


def rejects(stack, key):
    return [json.loads(line) for line in results(stack, key, ".rejects.jsonl").splitlines()]


def imported(sandbox, route):
    return [record for body in sandbox.data_imports.get(route, []) for record in body]


@pytest.mark.parametrize("entity", sorted(VALID))
def test_each_entity_imports_its_valid_records_and_rejects_the_invalid(stack, sandbox, entity):
    bad, field = INVALID[entity]
    key = f"{entity}/day.jsonl"
    assert drop(stack, key, jsonl(VALID[entity], bad)) == "queued in 1 part(s)"

    summary = manifest(stack, key)
    assert (summary["records"], summary["accepted"], summary["rejected"]) == (2, 1, 1)
    [sent] = imported(sandbox, ROUTES[entity])
    assert sent.items() >= {k: v for k, v in VALID[entity].items() if k != "items"}.items()
    [problem] = rejects(stack, key)
    assert (problem["line"], problem["field"]) == (2, field)


def test_order_items_get_their_order_number(stack, sandbox):
    drop(stack, "orders/day.jsonl", jsonl(VALID["orders"]))
    assert imported(sandbox, "Order")[0]["items"] == [{"sku": "A-1", "orderNumber": "1001"}]


def test_csv_with_an_items_json_column_and_dotted_nested_fields(stack, sandbox):
    csv = (
        "orderNumber,status,orderTotal,billingAddress.city,items\n"
        '1001,Shipped,9.5,Boston,"[{""sku"": ""A-1"", ""quantity"": 2}]"\n'
        "1002,Pending,,Denver,\n"
    )
    drop(stack, "orders/day.csv", csv.encode())
    first, second = imported(sandbox, "Order")
    assert first == {
        "orderNumber": "1001",
        "status": "Shipped",
        "orderTotal": 9.5,
        "billingAddress": {"city": "Boston"},
        "items": [{"sku": "A-1", "quantity": 2, "orderNumber": "1001"}],
    }
    assert "orderTotal" not in second  # an empty cell is an absent field


def test_a_separate_order_items_file_is_joined_on_order_number_whichever_arrives_first(stack, sandbox):
    orders = b"orderNumber,status\n1001,Shipped\n1002,Pending\n"
    items = b"orderNumber,sku,quantity\n1002,B-2,1\n1001,A-1,2\n1001,A-2,1\n"
    assert drop(stack, "orders/day.csv", orders).startswith("waiting")
    assert imported(sandbox, "Order") == []
    drop(stack, "orders/day.items.csv", items)

    by_number = {o["orderNumber"]: o for o in imported(sandbox, "Order")}
    assert [i["sku"] for i in by_number["1001"]["items"]] == ["A-1", "A-2"]
    assert [i["sku"] for i in by_number["1002"]["items"]] == ["B-2"]


@pytest.mark.parametrize("name", ["products/day.jsonl.gz", "products/day.csv.gz"])
def test_gzip_is_accepted(stack, sandbox, name):
    if name.endswith(".jsonl.gz"):
        body = gzip.compress(jsonl(VALID["products"]))
    else:
        body = gzip.compress(b"sku,title,price\nA-1,Shirt,39.0\n")
    drop(stack, name, body)
    assert manifest(stack, name)["accepted"] == 1
    assert imported(sandbox, "Product")[0]["sku"] == "A-1"


def test_a_duplicate_trigger_imports_once(stack, sandbox):
    key = "customers/day.jsonl"
    drop(stack, key, jsonl(VALID["customers"]))
    event = {
        "version": "0",
        "id": "again",
        "detail-type": "Object Created",
        "source": "aws.s3",
        "detail": {"bucket": {"name": stack.refs["ImportBucket"]}, "object": {"key": key}},
    }
    [(_, again)] = stack.publish(event)
    scan = stack.fire_schedule("ImportFunction", "Nightly")
    stack.drain("ImportQueue")

    assert again.result["outcome"].startswith("skipped")
    assert scan.result["planned"] == []
    assert sandbox.stats["data_imports"] == 1


def test_a_new_version_of_the_same_key_is_imported_again(stack, sandbox):
    drop(stack, "customers/day.jsonl", jsonl(VALID["customers"]))
    drop(stack, "customers/day.jsonl", jsonl(VALID["customers"], {"email": "sam@example.com"}))
    assert sandbox.stats["data_records"]["Customer"] == 3


def test_the_schedule_imports_files_no_event_announced(stack, sandbox):
    stack.client("s3").put_object(
        Bucket=stack.refs["ImportBucket"], Key="products/quiet.jsonl", Body=jsonl(VALID["products"])
    )
    planned = stack.fire_schedule("ImportFunction", "Nightly").result["planned"]
    stack.drain("ImportQueue")
    assert planned == [{"key": "products/quiet.jsonl", "outcome": "queued in 1 part(s)"}]
    assert sandbox.stats["data_records"]["Product"] == 1


def test_the_rejects_file_lists_every_bad_record(stack, sandbox):
    records = [
        VALID["products"],
        {"title": "x"},
        "not json",
        {"sku": "B", "price": "cheap", "colour": "red"},
        {"sku": "C", "title": "t" * 501},
    ]
    body = "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records).encode()
    drop(stack, "products/day.jsonl", body)

    listed = rejects(stack, "products/day.jsonl")
    assert {(r["line"], r["field"]) for r in listed} == {
        (2, "sku"),
        (3, "(line)"),
        (4, "price"),
        (4, "colour"),
        (5, "title"),
    }
    assert manifest(stack, "products/day.jsonl")["rejected"] == 4


def test_a_large_file_is_split_into_parts_fanned_out_on_sqs(stack, sandbox):
    stack.env_overrides.update({"IMPORT_PART_BYTES": "2000", "IMPORT_CHUNK_MAX_RECORDS": "7"})
    records = [{"sku": f"SKU-{n:04d}", "title": "Shirt " * 5, "price": n} for n in range(100)]
    records[73] = {"title": "no sku"}
    outcome = drop(stack, "products/big.jsonl", jsonl(*records))

    parts = int(outcome.split()[2])
    assert parts > 3
    summary = manifest(stack, "products/big.jsonl")
    assert (summary["records"], summary["accepted"], summary["rejected"]) == (100, 99, 1)
    assert len(summary["parts"]) == parts
    skus = [r["sku"] for r in imported(sandbox, "Product")]
    assert len(skus) == len(set(skus)) == 99
    [reject] = [
        json.loads(line)
        for key in summary["rejects"]
        for line in stack.client("s3")
        .get_object(Bucket=stack.refs["ImportBucket"], Key=key)["Body"]
        .read()
        .splitlines()
    ]
    assert reject["line"] == 74  # counted across parts


class FailOnce:
    """Listrak failing the third chunk of a file once, then recovering."""

    def __init__(self, real):
        self.real, self.calls = real, 0

    def import_records(self, route, body, **kwargs):
        self.calls += 1
        if self.calls == self.fail_on:
            raise ListrakUnavailable("Listrak unavailable after 4 attempt(s)")
        return self.real.import_records(route, body, **kwargs)

    fail_on = 3


def test_a_part_that_fails_after_progress_continues_in_a_fresh_message_without_resending(stack, sandbox):
    stack.env_overrides["IMPORT_CHUNK_MAX_RECORDS"] = "2"
    key = "orders/day.jsonl"
    stack.client("s3").put_object(
        Bucket=stack.refs["ImportBucket"],
        Key=key,
        Body=jsonl(*[{"orderNumber": str(n), "status": "Completed"} for n in range(7)]),
    )
    with stack.function_env("ImportFunction"):
        pipeline = import_pipeline(load_settings(ImportSettings))
        pipeline._data = FailOnce(pipeline._data)
        pipeline.plan(key, owner="test")
        sqs, queue = stack.client("sqs"), stack.refs["ImportQueue"]
        [message] = sqs.receive_message(QueueUrl=queue)["Messages"]
        sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
        first = pipeline.run_part(PartTask.model_validate_json(message["Body"]))
        [fresh] = sqs.receive_message(QueueUrl=queue)["Messages"]  # a new message: SQS's receive count starts over
        task = PartTask.model_validate_json(fresh["Body"])
        retried = pipeline.run_part(task)

    assert first.status == "continues" and task.chunksDone == 2
    assert (retried.status, retried.chunks_skipped, retried.chunks_sent, retried.file_done) == ("done", 2, 2, True)
    numbers = [o["orderNumber"] for o in imported(sandbox, "Order")]
    assert sorted(numbers) == [str(n) for n in range(7)]  # every record once, none twice


def test_a_part_short_of_time_continues_in_a_fresh_invocation_without_resending(stack, sandbox):
    stack.env_overrides["IMPORT_CHUNK_MAX_RECORDS"] = "2"
    key = "products/day.jsonl"
    stack.client("s3").put_object(
        Bucket=stack.refs["ImportBucket"], Key=key, Body=jsonl(*[{"sku": str(n)} for n in range(6)])
    )
    clock = iter([1000, 1000, 10, 10, 10])  # plenty of time for two chunks, then not
    with stack.function_env("ImportFunction"):
        pipeline = import_pipeline(load_settings(ImportSettings))
        pipeline.plan(key, owner="test")
        sqs = stack.client("sqs")
        [message] = sqs.receive_message(QueueUrl=stack.refs["ImportQueue"])["Messages"]
        sqs.delete_message(QueueUrl=stack.refs["ImportQueue"], ReceiptHandle=message["ReceiptHandle"])
        first = pipeline.run_part(PartTask.model_validate_json(message["Body"]), time_left=lambda: next(clock))
        [handover] = sqs.receive_message(QueueUrl=stack.refs["ImportQueue"])["Messages"]
        second = pipeline.run_part(PartTask.model_validate_json(handover["Body"]), time_left=lambda: 1000)

    assert first.status == "continues"
    assert (second.status, second.chunks_skipped, second.chunks_sent) == ("done", 2, 1)
    assert sorted(r["sku"] for r in imported(sandbox, "Product")) == [str(n) for n in range(6)]


def test_over_size_chunks_fail_the_file_with_a_clear_reason_and_no_retry_storm(stack, sandbox):
    sandbox.max_body_bytes = 500  # room for a token request, not for this product
    try:
        drop(stack, "products/day.jsonl", jsonl({**VALID["products"], "description": "d" * 1000}))
    finally:
        sandbox.max_body_bytes = 262_144_000
    result = manifest(stack, "products/day.jsonl")
    assert result["state"] == "failed" and "lower IMPORT_CHUNK_MAX_BYTES" in result["reason"]
    assert result["notImported"] == [{"part": 0, "fromLine": 1, "toLine": None}]
    assert sandbox.stats["data_imports"] == 0 and sandbox.stats["requests"] == 2  # a token, one refused chunk
    dlq = stack.client("sqs").receive_message(QueueUrl=stack.refs["ImportDeadLetterQueue"]).get("Messages", [])
    assert dlq == []


def test_files_outside_the_drop_layout_are_ignored(stack, sandbox):
    assert drop(stack, "orders/readme.txt", b"hello") == "ignored: not an import file (see the drop layout)"
    assert stack.client("sqs").receive_message(QueueUrl=stack.refs["ImportQueue"]).get("Messages") is None


def post_import(stack, body):
    event = api_event(body)
    event["resource"] = event["path"] = event["requestContext"]["resourcePath"] = "/imports"
    response = stack.invoke("ImportApiFunction", event)
    return response["statusCode"], json.loads(response["body"])


def test_post_imports_sends_the_valid_records_and_reports_the_rest(stack, sandbox):
    status, body = post_import(stack, {"entity": "orders", "records": [VALID["orders"], INVALID["orders"][0], 7]})
    assert status == 200
    assert (body["received"], body["accepted"], body["chunks"]) == (3, 1, 1)
    assert {(r["index"], r["field"]) for r in body["rejected"]} == {(1, "status"), (2, "(record)")}
    assert imported(sandbox, "Order")[0]["orderNumber"] == "1001"


@pytest.mark.parametrize(
    "body",
    [
        {"entity": "invoices", "records": [{}]},
        {"entity": "orders", "records": []},
        {"entity": "orders"},
        {"entity": "orders", "records": [{}] * 1001},
    ],
)
def test_post_imports_refuses_a_malformed_request(stack, sandbox, body):
    status, answer = post_import(stack, body)
    assert status == 400 and answer["errors"]
    assert sandbox.stats["data_imports"] == 0
