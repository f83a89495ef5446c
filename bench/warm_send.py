"""Warm send: one POST /messages through the real handler on a warm container, beside the same calls made bare.

Counts the calls each send makes to each service, from botocore's own events and the sandbox's counters, and
the DynamoDB writes among them (the send's state machine: write 1 before Listrak, write 2 after).
"""

from __future__ import annotations

import contextlib
import io
import json
import time
import uuid
from collections import Counter

import boto3
import requests

from bench.common import median, percentile

SENDS = 300
DYNAMODB_WRITES = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")
WARMUP = 10
BODY = {
    "emailAddress": "jane.doe@example.com",
    "message": "order-confirmation",
    "fields": {"firstName": "Jane", "orderNumber": "1001", "orderTotal": "52.95"},
    "items": [{"ProductName": "Linen shirt", "Quantity": 1, "ItemPrice": "$39.00", "ImageURL": "https://x/s.jpg"}],
}


def measure(stack) -> dict:
    from listrak_kit.aws.clients import aws_client
    from local_stack.api_server import proxy_event
    from local_stack.stack import FakeLambdaContext

    def event(reference: str) -> dict:
        body = json.dumps({**BODY, "reference": reference}).encode()
        headers = {"Content-Type": "application/json"}
        return proxy_event("POST", "/messages", headers, body, "/messages", {}, "v1")

    calls: Counter[str] = Counter()

    def count(event_name: str, **_kwargs) -> None:
        calls[event_name.split(".", 2)[1] + "." + event_name.split(".", 2)[2]] += 1

    timings = []
    with stack.function_env("SendApiFunction"), contextlib.redirect_stdout(io.StringIO()) as logs:
        handler = stack._handler("SendApiFunction")
        spec = stack.functions["SendApiFunction"]
        for n in range(WARMUP):
            assert handler(event(f"warm-{n}"), FakeLambdaContext(spec))["statusCode"] == 201
        for service in ("dynamodb", "secretsmanager"):
            aws_client(service).meta.events.register(f"before-call.{service}", count)
        listrak_before = stack.sandbox.stats
        for n in range(SENDS):
            request = event(f"bench-{n}-{uuid.uuid4()}")
            started = time.perf_counter()
            answer = handler(request, FakeLambdaContext(spec))
            timings.append(time.perf_counter() - started)
            assert answer["statusCode"] == 201, answer
            logs.seek(0)
            logs.truncate()
        listrak_after = stack.sandbox.stats
        for service in ("dynamodb", "secretsmanager"):
            aws_client(service).meta.events.unregister(f"before-call.{service}", count)

    bare = _bare(stack, calls, SENDS)
    per_send = {name: round(n / SENDS, 2) for name, n in sorted(calls.items())}
    per_send["listrak.send"] = (listrak_after["sends"] - listrak_before["sends"]) / SENDS
    per_send["listrak.token"] = (listrak_after["tokens_minted"] - listrak_before["tokens_minted"]) / SENDS
    writes = sum(n for name, n in calls.items() if name.split(".")[-1] in DYNAMODB_WRITES)
    return {
        "dynamodb_writes_per_send": round(writes / SENDS, 2),
        "sends": SENDS,
        "p50_ms": round(median(timings) * 1000, 2),
        "p99_ms": round(percentile(timings, 99) * 1000, 2),
        "bare_p50_ms": round(median(bare) * 1000, 2),
        "bare_p99_ms": round(percentile(bare, 99) * 1000, 2),
        "ratio_p50": round(median(timings) / median(bare), 2),
        "calls_per_send": per_send,
    }


def _bare(stack, calls: Counter[str], sends: int) -> list[float]:
    """The same Listrak call and the same DynamoDB operations, with nothing of ours around them."""
    session = requests.Session()
    token = stack.sandbox.issue_token("Email")
    url = f"{stack.sandbox.email_api_url}/v1/List/300001/TransactionalMessage/7001/Message"
    ddb = boto3.client("dynamodb", endpoint_url=stack.aws_endpoint, region_name="us-east-1")
    table = stack.refs["Table"]
    operations = [
        name.split(".")[1] for name, n in calls.items() if name.startswith("dynamodb.") for _ in range(round(n / sends))
    ]
    timings = []
    for n in range(sends):
        key = {"id": {"S": f"bare#{n}"}}
        started = time.perf_counter()
        answer = session.post(
            url,
            json={
                "emailAddress": "jane.doe@example.com",
                "segmentationFieldValues": [{"segmentationFieldId": 1, "value": "x"}],
            },
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert answer.status_code == 201
        for operation in operations:
            if operation == "PutItem":
                ddb.put_item(TableName=table, Item={**key, "v": {"S": "x"}})
            elif operation == "UpdateItem":
                ddb.update_item(
                    TableName=table,
                    Key=key,
                    UpdateExpression="SET v = :v",
                    ExpressionAttributeValues={":v": {"S": "y"}},
                )
            elif operation == "GetItem":
                ddb.get_item(TableName=table, Key=key)
        timings.append(time.perf_counter() - started)
    return timings
