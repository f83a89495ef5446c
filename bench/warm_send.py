"""Warm send: this code's own CPU per POST /messages on a warm container, beside the same calls made bare.

AWS (DynamoDB, Secrets Manager) and Listrak are answered in-process (bench/transport.py: botocore's `before-send`
and a requests transport adapter): no moto, no sockets, so the figure is the work of this code and of the
libraries it drives, not of a server. The floor makes the very calls one send made (the same DynamoDB requests,
replayed from what the send serialised, and the same Listrak POST) through a bare botocore client and a bare
requests Session, answered by the same transport. Sends and bare runs alternate, so the machine's load hits both
alike; each is timed with time.process_time (CPU of this process).

Counts the calls each send makes to each service and the DynamoDB writes among them (the send's state machine:
write 1 before Listrak, write 2 after). Runs in its own process (`python -m bench.warm_send`): its answers are
registered on the function's cached AWS clients, which must not outlive it.
"""

from __future__ import annotations

import contextlib
import cProfile
import io
import json
import os
import pstats
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from bench.common import ROOT, median, percentile, run_module

SENDS = 300
WARMUP = 20
TARGET_RATIO = 1.2
FUNCTION = "SendApiFunction"
DYNAMODB_WRITES = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")
BODY = {
    "emailAddress": "jane.doe@example.com",
    "message": "order-confirmation",
    "fields": {"firstName": "Jane", "orderNumber": "1001", "orderTotal": "52.95"},
    "items": [{"ProductName": "Linen shirt", "Quantity": 1, "ItemPrice": "$39.00", "ImageURL": "https://x/s.jpg"}],
}
AUTH_URL = "https://auth.listrak.test/OAuth2/Token"
EMAIL_URL = "https://api.listrak.test/email"
DATA_URL = "https://api.listrak.test/data"
TOKEN = "bench-token"  # what the shared token cache holds: a warm container never asks Listrak for another


def measure() -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "layers" / "shared"), str(ROOT)])}
    result = run_module("bench.warm_send", [], env, timeout=1800)
    # A second run under cProfile, only to say where a send's CPU goes (its timings are not reported).
    with tempfile.TemporaryDirectory() as folder:
        profile = str(Path(folder) / "warm-send.prof")
        run_module("bench.warm_send", [profile], env, timeout=1800)
        result["cpu_shares_percent"] = cpu_shares(profile)
    return result


OWNERS = (
    ("botocore, requests, urllib3 (the floor's libraries)", ("/botocore/", "/requests/", "/urllib3/", "/http/")),
    ("Powertools", ("/aws_lambda_powertools/",)),
    ("pydantic", ("/pydantic/", "pydantic_core")),
    ("this code", ("/listrak_kit/", "/functions/")),
    ("the in-process transport", ("/bench/",)),
)
# Everything else (the standard library, builtins) is charged to its callers: see cpu_shares.


OTHER = "other"


def cpu_shares(profile: str) -> dict[str, float]:
    """Self time by owner over the profiled sends, in percent. Time in the standard library and builtins goes to
    whoever called them (split by the time each caller spent there), up a few frames."""
    stats: dict[Any, Any] = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    memo: dict[Any, dict[str, float]] = {}

    def owned_by(function: Any, depth: int = 0) -> dict[str, float]:
        if function in memo:
            return memo[function]
        filename, _line, name = function
        where = f"{filename}:{name}"
        owner = next((owner for owner, needles in OWNERS if any(n in where for n in needles)), None)
        shares: dict[str, float] = {owner: 1.0} if owner else {}
        callers = stats[function][4] if function in stats else {}
        spent = sum(entry[2] for entry in callers.values())
        if not owner and callers and spent > 0 and depth < 8:
            for caller, entry in callers.items():
                for who, share in owned_by(caller, depth + 1).items():
                    shares[who] = shares.get(who, 0.0) + share * entry[2] / spent
        memo[function] = shares or {OTHER: 1.0}
        return memo[function]

    totals: dict[str, float] = {}
    for function, (_cc, _nc, tottime, _ct, _callers) in stats.items():
        for owner, share in owned_by(function).items():
            totals[owner] = totals.get(owner, 0.0) + tottime * share
    grand = sum(totals.values()) or 1.0
    return {owner: round(100 * value / grand, 1) for owner, value in totals.items()}


def _environment() -> dict[str, str]:
    from local_stack.template import Template

    template = Template.load(ROOT / "template.yaml", {})
    refs = {logical_id: f"bench-{logical_id}" for logical_id in template.resources}
    env = {k: str(v) for k, v in template.resolve(template.functions()[FUNCTION].environment, refs, {}).items()}
    env.update(
        LISTRAK_AUTH_URL=AUTH_URL,
        LISTRAK_EMAIL_API_URL=EMAIL_URL,
        LISTRAK_DATA_API_URL=DATA_URL,
        AWS_LAMBDA_FUNCTION_NAME=FUNCTION,
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        # Tracing as on a warm container whose invocations Lambda does not sample (the X-Ray SDK would need a
        # daemon socket); what a sampled one adds is the SDK's, not this code's.
        POWERTOOLS_TRACE_DISABLED="true",
    )
    return env


def _aws_answer(operation: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """DynamoDB and Secrets Manager as a warm send finds them: every condition holds, the token is cached."""
    if operation in ("PutItem", "DeleteItem"):
        return 200, {}
    if operation == "UpdateItem":
        return 200, {"Attributes": {}} if body.get("ReturnValues", "NONE") != "NONE" else {}
    if operation == "GetItem":
        return 200, {}
    if operation == "Query":
        return 200, {"Items": [], "Count": 0, "ScannedCount": 0}
    if operation == "GetSecretValue":
        secret = body["SecretId"]
        if "Token" in secret:
            value = {"accessToken": TOKEN, "expiresAt": time.time() + 86_400}
        else:
            value = {"clientId": "bench-client", "clientSecret": "bench-secret"}
        arn = f"arn:aws:secretsmanager:us-east-1:123456789012:secret:{secret}"
        return 200, {"ARN": arn, "Name": secret, "VersionId": "v1", "SecretString": json.dumps(value)}
    raise AssertionError(f"a warm send made an unexpected AWS call: {operation}")


def _listrak_answer(method: str, url: str, _body: bytes) -> tuple[int, Any]:
    if method == "POST" and url.startswith(EMAIL_URL) and url.endswith("/Message"):
        return 201, {"status": 201, "resourceId": str(uuid.uuid4())}
    if method == "POST" and url == AUTH_URL:
        return 200, {"access_token": TOKEN, "expires_in": 3600}
    raise AssertionError(f"a warm send made an unexpected Listrak call: {method} {url}")


def _listrak_name(method: str, url: str) -> str:
    if url == AUTH_URL:
        return "listrak.token"
    return "listrak.send" if url.endswith("/Message") else f"listrak.{method} {url}"


class _Context:
    """What a handler reads of Lambda's context object."""

    function_name = FUNCTION
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{FUNCTION}"
    log_group_name = f"/aws/lambda/{FUNCTION}"
    log_stream_name = "bench"

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())
        self._deadline = time.monotonic() + 29

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _event(reference: str) -> dict[str, Any]:
    from local_stack.api_server import proxy_event

    body = json.dumps({**BODY, "reference": reference}).encode()
    return proxy_event("POST", "/messages", {"Content-Type": "application/json"}, body, "/messages", {}, "v1")


def run(profile: str = "") -> dict[str, Any]:
    """In this process: the handler's sends and the bare calls, alternating; `profile`: where to write a
    cProfile of the handler's sends alone (its timings then include the profiler's overhead)."""
    import boto3
    import requests
    from botocore import xform_name

    from bench.transport import HttpAnswers, answer_aws, mount, mount_on_every_session
    from local_stack.template import Template, patched_environ

    spec = Template.load(ROOT / "template.yaml", {}).functions()[FUNCTION]
    calls: Counter[str] = Counter()
    listrak = HttpAnswers(_listrak_answer, Counter(), _listrak_name)
    sent: list[tuple[str, dict[str, Any]]] = []  # the AWS requests of the last send, as serialised
    posted: list[tuple[str, bytes, str]] = []  # the Listrak requests of the last send

    def remember_aws(operation: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        sent.append((operation, body))
        return _aws_answer(operation, body)

    def remember_listrak(method: str, url: str, body: bytes) -> tuple[int, Any]:
        posted.append((url, body, method))
        return _listrak_answer(method, url, body)

    handler_calls = HttpAnswers(remember_listrak, calls, _listrak_name)
    timings: list[float] = []
    bare: list[float] = []
    with patched_environ(_environment()), contextlib.redirect_stdout(io.StringIO()) as logs:
        from listrak_kit.aws.clients import aws_client

        module = spec.import_module("lambda_bench_send")
        handler = getattr(module, spec.function_name)
        for service in ("dynamodb", "secretsmanager"):
            answer_aws(aws_client(service), remember_aws, calls)
        module.path()  # the function's services, as its first invocation (or SnapStart) builds them
        assert mount_on_every_session(handler_calls), "the function made no requests.Session"
        for n in range(WARMUP):
            assert handler(_event(f"warm-{n}"), _Context())["statusCode"] == 201
        # The floor: a bare client and session, the same transport, the calls of the last warm send.
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        answer_aws(ddb, _aws_answer, Counter())
        session = requests.Session()
        mount(session, listrak)
        operations = [(xform_name(operation), body) for operation, body in sent[-_per_send(sent) :]]
        listrak_posts = [(url, json.loads(body)) for url, body, method in posted[-1:] if method == "POST"]
        authorization = {"Authorization": f"Bearer {TOKEN}"}
        calls.clear()
        profiler = cProfile.Profile() if profile else None
        for n in range(SENDS):
            request, context = _event(f"bench-{n}-{uuid.uuid4()}"), _Context()
            started = time.process_time()
            if profiler:
                profiler.enable()
            answer = handler(request, context)
            if profiler:
                profiler.disable()
            timings.append(time.process_time() - started)
            assert answer["statusCode"] == 201, answer
            logs.seek(0)
            logs.truncate()
            started = time.process_time()
            for name, params in operations[:1]:
                getattr(ddb, name)(**params)
            for url, payload in listrak_posts:
                session.post(url, json=payload, headers=authorization, timeout=(3.05, 10.0))
            for name, params in operations[1:]:
                getattr(ddb, name)(**params)
            bare.append(time.process_time() - started)
    if profiler:
        profiler.dump_stats(profile)
    per_send = {name: round(n / SENDS, 2) for name, n in sorted(calls.items())}
    per_send.setdefault("listrak.token", 0.0)
    per_send.setdefault("listrak.send", 0.0)
    writes = sum(n for name, n in calls.items() if name.split(".")[-1] in DYNAMODB_WRITES)
    return {
        "sends": SENDS,
        "dynamodb_writes_per_send": round(writes / SENDS, 2),
        "cpu_p50_ms": round(median(timings) * 1000, 3),
        "cpu_p99_ms": round(percentile(timings, 99) * 1000, 3),
        "bare_cpu_p50_ms": round(median(bare) * 1000, 3),
        "bare_cpu_p99_ms": round(percentile(bare, 99) * 1000, 3),
        "ratio_p50": round(median(timings) / median(bare), 2),
        "target": TARGET_RATIO,
        "calls_per_send": per_send,
        "floor_calls": [name for name, _ in operations[:1]] + ["listrak.send"] + [name for name, _ in operations[1:]],
    }


def _per_send(sent: list[tuple[str, dict[str, Any]]]) -> int:
    """How many AWS requests the last send made: those since its conditional PutItem (write 1)."""
    for back, (operation, _body) in enumerate(reversed(sent), start=1):
        if operation == "PutItem":
            return back
    raise AssertionError("no send record was written")


if __name__ == "__main__":
    print(json.dumps(run(sys.argv[1] if len(sys.argv) > 1 else "")))
