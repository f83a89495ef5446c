"""Run in a fresh process with Lambda's variables and tracing on: one unsampled invocation, one sampled, one more
unsampled, each making a DynamoDB call and a Listrak call (answered in-process); prints, per invocation, whether the
X-Ray SDK was loaded, what it patched, and the trace documents it sent to the daemon address (a UDP socket here)."""

from __future__ import annotations

import json
import os
import socket
import sys
from collections import Counter

daemon = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
daemon.bind(("127.0.0.1", 0))
daemon.settimeout(0.5)
os.environ["AWS_XRAY_DAEMON_ADDRESS"] = f"127.0.0.1:{daemon.getsockname()[1]}"

import boto3  # noqa: E402
import requests  # noqa: E402

from bench.transport import HttpAnswers, answer_aws, mount  # noqa: E402
from listrak_kit.observability import tracer  # noqa: E402

calls: Counter[str] = Counter()
table = boto3.client("dynamodb", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
answer_aws(table, lambda _operation, _body: (200, {}), calls)
session = requests.Session()
mount(session, HttpAnswers(lambda *_: (201, {"status": 201}), calls, lambda method, _url: f"listrak.{method}"))


@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict, context: object) -> str:
    table.get_item(TableName="t", Key={"id": {"S": "send#1"}})
    session.post("https://api.listrak.test/email/v1/List/1/TransactionalMessage/2/Message", json={}, timeout=5)
    return "ok"


def invoke(sampled: int) -> dict:
    os.environ["_X_AMZN_TRACE_ID"] = (
        f"Root=1-5759e988-bd862e3fe1be46a99427220{sampled};Parent=53995c3f42cd8ad8;Sampled={sampled}"
    )
    assert handler({}, None) == "ok"
    documents = []
    while True:
        try:
            datagram = daemon.recv(65536)
        except TimeoutError:
            break
        documents.append(json.loads(datagram.decode().split("\n", 1)[1]))  # after the {"format": ...} header
    patcher = sys.modules.get("aws_xray_sdk.core.patcher")
    return {
        "sdk": "aws_xray_sdk.core" in sys.modules,
        "patched": sorted(patcher._PATCHED_MODULES) if patcher else [],  # type: ignore[attr-defined]
        "documents": documents,
    }


first = invoke(0)
second = invoke(1)
third = invoke(0)
assert calls == {"dynamodb.GetItem": 3, "listrak.POST": 3}, calls
print(json.dumps([first, second, third]))
