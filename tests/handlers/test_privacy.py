"""Forgetting a person end to end on the local stack: the IAM routes, the worker on its schedule, Listrak's
Privacy API at the sandbox, the product's own data (table, bucket, dead letters) and later imports."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest

from listrak_kit.masking import email_fingerprint
from local_stack.api_server import proxy_event
from tests.conftest import post_message
from tests.handlers.test_imports import drop, jsonl

JANE = "jane.doe@example.com"
OTHER = "sam.roe@example.com"
PRIVACY_ARN = "arn:aws:sts::123456789012:assumed-role/Privacy/dpo@shop.example"
ORDER = {
    "emailAddress": JANE,
    "message": "order-confirmation",
    "reference": "order-1001",
    "fields": {"firstName": "Jane", "orderNumber": "1001", "orderTotal": 52.95},
    "items": [{"ProductName": "Tee", "Quantity": 2, "ItemPrice": "$9.00", "ImageURL": "https://x/t.jpg"}],
}


def call(stack, method, path, resource, params, body=None, arn: str | None = PRIVACY_ARN):
    identity = {"sourceIp": "127.0.0.1", **({"userArn": arn} if arn else {})}
    raw = b"" if body is None else json.dumps(body).encode()
    event = proxy_event(method, path, {"Content-Type": "application/json"}, raw, resource, params, "v1", identity)
    response = stack.invoke("PrivacyApiFunction", event)
    return response["statusCode"], json.loads(response["body"] or "{}")


def forget(stack, body, **kw):
    return call(stack, "POST", "/privacy/forget", "/privacy/forget", {}, body, **kw)


def status(stack, request_id, **kw):
    path = f"/privacy/forget/{request_id}"
    return call(stack, "GET", path, "/privacy/forget/{requestId}", {"requestId": request_id}, **kw)


def sweep(stack) -> dict[str, Any]:
    outcome = stack.fire_schedule("PrivacyFunction", "Sweep")
    assert outcome.error is None, outcome.error
    return outcome.result


def table_items(stack) -> list[dict[str, Any]]:
    paginator = stack.client("dynamodb").get_paginator("scan")
    return [item for page in paginator.paginate(TableName=stack.refs["Table"]) for item in page["Items"]]


def bucket_texts(stack) -> dict[str, str]:
    s3, bucket = stack.client("s3"), stack.refs["ImportBucket"]
    texts = {}
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for version in page.get("Versions", []):
            body = s3.get_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])["Body"].read()
            if version["Key"].endswith(".gz"):
                body = gzip.decompress(body)
            texts[f"{version['Key']}@{version['VersionId']}"] = body.decode()
    return texts


def holding(stack, needle: str) -> list[str]:
    needle = needle.lower()
    found = [item["id"]["S"] for item in table_items(stack) if needle in json.dumps(item).lower()]
    return found + [key for key, text in bucket_texts(stack).items() if needle in text.lower()]


@pytest.fixture
def privacy(stack):
    stack.env_overrides.update({"PRIVACY_CALL_SPACING_SECONDS": "0", "PRIVACY_POLL_SECONDS": "0"})
    return stack


def test_after_a_forget_nothing_holds_the_address_listrak_forgot_and_later_imports_refuse_it(privacy, sandbox):
    stack = privacy
    assert post_message(stack, ORDER)[0] == 201
    assert post_message(stack, {**ORDER, "emailAddress": OTHER, "reference": "order-1002"})[0] == 201
    customers = [
        {"email": JANE, "firstName": "Jane", "registered": True},
        {"email": OTHER, "firstName": "Sam", "registered": True},
        {"email": "x" * 101},  # a reject: results/ has a rejects file and a manifest
    ]
    drop(stack, "customers/2026-11-22.jsonl", jsonl(*customers))
    drop(stack, "customers/2026-11-20.jsonl.gz", gzip.compress(jsonl(customers[0])))
    stack.client("sqs").send_message(
        QueueUrl=stack.refs["SendDeadLetterQueue"], MessageBody=json.dumps({"detail": {"email": JANE.upper()}})
    )
    assert holding(stack, JANE)

    code, answer = forget(stack, {"emailAddress": JANE})
    assert code == 202
    request_id = answer["requestId"]
    assert answer["status"] == "received" and answer["requestedBy"] == "iam:" + PRIVACY_ARN.replace(
        "dpo@shop.example", "d***@shop.example"
    )
    assert "emailAddress" not in answer and JANE not in json.dumps(answer)

    sweep(stack)  # tombstone, Listrak's forget, the erasure; Listrak still PROCESSING
    assert [f["emailAddress"] for f in sandbox.forget_requests] == [JANE]
    assert status(stack, request_id)[1]["status"] == "polling"
    sandbox.advance(600)  # Listrak's forget completes
    sweep(stack)
    code, view = status(stack, request_id)
    assert code == 200 and view["status"] == "complete" and view["listrakStatus"] == "COMPLETE"
    assert view["completedAt"] and view["listrakRequestId"] == sandbox.forget_requests[0]["requestID"]
    assert sandbox.stats["forget_polls"] >= 2

    assert holding(stack, JANE) == []  # no item, no object version, not even the request itself
    assert holding(stack, OTHER)  # the others are kept
    parked = stack.client("sqs").receive_message(QueueUrl=stack.refs["SendDeadLetterQueue"], VisibilityTimeout=0)
    assert [json.loads(m["Body"]) for m in parked.get("Messages", [])] == [{"detail": {"email": "[forgotten]"}}]
    record = stack.client("dynamodb").get_item(TableName=stack.refs["Table"], Key={"id": {"S": "send#order-1001"}})
    assert record["Item"]["status"]["S"] == "sent" and "payload" not in record["Item"]
    assert "emailFingerprint" not in json.dumps(record["Item"]).replace('"emailFingerprint": {"S": ""}', "")
    # An unkeyed fingerprint is reversed by hashing a list of addresses: none is left in any item, in any field.
    fingerprint = email_fingerprint(JANE)
    table = stack.client("dynamodb").scan(TableName=stack.refs["Table"])["Items"]
    assert [item["id"]["S"] for item in table if fingerprint in json.dumps(item)] == []

    # The same reference again is still a duplicate (exactly-once holds); a new send to the person is not blocked.
    assert post_message(stack, ORDER)[0] == 200
    assert post_message(stack, {**ORDER, "reference": "order-1003"})[0] == 201

    sent_before = len(sandbox.data_imports["Customer"])
    stack.cold_start("ImportFunction")  # a warm one reloads the tombstones within RELOAD_SECONDS (test_tombstones)
    drop(stack, "customers/2026-12-01.jsonl", jsonl(customers[0], customers[1]))
    imported = [r["email"] for body in sandbox.data_imports["Customer"][sent_before:] for r in body]
    assert imported == [OTHER]
    rejects_key = "results/customers/2026-12-01.jsonl.rejects.jsonl"
    rejected = stack.client("s3").get_object(Bucket=stack.refs["ImportBucket"], Key=rejects_key)["Body"].read()
    [line] = [json.loads(x) for x in rejected.decode().splitlines()]
    assert line["reason"] == "forgotten" and line["line"] == 1 and JANE not in rejected.decode()


def test_an_unknown_person_is_still_forwarded_to_listrak(privacy, sandbox):
    code, answer = forget(privacy, {"phoneNumber": "+1 (215) 555-0100"})
    assert code == 202
    sweep(privacy)
    assert [f["phoneNumber"] for f in sandbox.forget_requests] == ["+1 (215) 555-0100"]
    assert status(privacy, answer["requestId"])[1]["erasure"]["erased"] == 0


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"emailAddress": "not an address"}, "emailAddress"),
        ({"phoneNumber": "call me maybe"}, "phoneNumber"),
        ({"phoneNumber": "12"}, "phoneNumber"),
        ({}, "emailAddress"),
        ({"emailAddress": JANE, "name": "Jane"}, "name"),
    ],
)
def test_malformed_identifiers_are_a_400_naming_them(privacy, sandbox, body, named):
    code, answer = forget(privacy, body)
    assert code == 400 and named in json.dumps(answer)
    sweep(privacy)
    assert sandbox.forget_requests == []


def test_the_routes_take_iam_signed_requests_only(privacy):
    assert forget(privacy, {"emailAddress": JANE}, arn=None)[0] == 403
    assert status(privacy, "0b9e5a40-0000-4000-8000-000000000000")[0] == 404


@pytest.mark.parametrize("fault", ["429", "500", "503"])
def test_listrak_faults_while_polling_are_retried_on_a_later_sweep(privacy, sandbox, fault):
    privacy.env_overrides["LISTRAK_MAX_ATTEMPTS"] = "2"
    request_id = forget(privacy, {"emailAddress": JANE})[1]["requestId"]
    sweep(privacy)
    sandbox.advance(600)
    sandbox.inject("privacy", fault, times=2)  # every attempt of this sweep's poll
    sweep(privacy)
    assert sandbox.stats["faults"] == {"privacy": {fault: 2}}
    view = status(privacy, request_id)[1]
    assert view["status"] == "polling" and "unavailable" in view["lastError"]
    sweep(privacy)
    view = status(privacy, request_id)[1]
    assert view["status"] == "complete" and sandbox.stats["forget_requests"] == 1


def test_a_crash_in_the_middle_of_an_erasure_resumes_and_shows_where_it_stands(privacy, sandbox, monkeypatch):
    for n in range(5):
        assert post_message(privacy, {**ORDER, "reference": f"order-{n}"})[0] == 201
    request_id = forget(privacy, {"emailAddress": JANE})[1]["requestId"]
    privacy.env_overrides["PRIVACY_ERASURE_PAGE"] = "2"

    from listrak_kit.aws import erasure

    real = erasure.TableEraser.erase_page
    cursors = []

    def crash_on_second_page(self, person, cursor):
        cursors.append(cursor)
        if cursor is not None:
            raise RuntimeError("the invocation died")
        return real(self, person, cursor)

    monkeypatch.setattr(erasure.TableEraser, "erase_page", crash_on_second_page)
    outcome = privacy.fire_schedule("PrivacyFunction", "Sweep")
    assert outcome.error is not None and outcome.attempts == 3
    assert cursors[0] is None and all(c == cursors[1] for c in cursors[1:])  # retries resume, never restart
    view = status(privacy, request_id)[1]
    assert view["status"] == "erasing" and view["erasure"]["phase"] == "table"
    assert view["erasure"]["cursor"] is not None  # the first page is recorded as done
    monkeypatch.setattr(erasure.TableEraser, "erase_page", real)
    sweep(privacy)
    sandbox.advance(600)
    sweep(privacy)
    assert status(privacy, request_id)[1]["status"] == "complete"
    assert holding(privacy, JANE) == []


def test_no_whole_address_or_phone_number_reaches_a_log(privacy, sandbox):
    for old in privacy.log_dir.glob("*.log"):
        old.write_text("")
    phone = "+1 (215) 555-0100"
    assert post_message(privacy, ORDER)[0] == 201
    request_id = forget(privacy, {"emailAddress": JANE, "phoneNumber": phone})[1]["requestId"]
    forget(privacy, {"emailAddress": JANE, "phoneNumber": "215-555-01"})  # refused: 400
    sandbox.inject("privacy", "503", times=8)  # the forget itself waits for Listrak, logged as such
    sweep(privacy)
    sweep(privacy)
    sandbox.advance(600)
    sweep(privacy)
    assert status(privacy, request_id)[1]["status"] == "complete"
    logs = "".join(path.read_text() for path in sorted(privacy.log_dir.glob("*.log")))
    assert "privacy request completed" in logs and "waits for Listrak" in logs
    assert JANE not in logs.lower() and "555-0100" not in logs and "2155550100" not in logs


def test_a_direct_import_refuses_a_forgotten_person_too(privacy, sandbox):
    from tests.handlers.test_imports import post_import

    forget(privacy, {"emailAddress": JANE})
    sweep(privacy)  # the tombstone is written first
    records = [{"email": JANE.upper(), "firstName": "Jane"}, {"email": OTHER, "firstName": "Sam"}]
    code, outcome = post_import(privacy, {"entity": "customers", "records": records})
    assert code == 200 and outcome["accepted"] == 1
    assert outcome["rejected"] == [{"index": 0, "field": "email", "reason": "forgotten", "email": JANE.upper()}]
    assert [r["email"] for body in sandbox.data_imports["Customer"] for r in body] == [OTHER]
