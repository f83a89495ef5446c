"""Addresses in every field a request can carry, through every path and fault; then every log line is scanned.

What is scanned is what CloudWatch would keep: each function's log (Powertools' lines, the libraries' own
loggers at DEBUG through a root handler as Lambda's runtime installs one, printed output), the local stack's
console, and the messages of the exceptions that failed invocations (Lambda's runtime logs those).
"""

from __future__ import annotations

import io
import json
import logging
import re
import time
from urllib.parse import quote

import pytest

from tests.conftest import post_message, storefront_event
from tests.faults.conftest import measure_activity
from tests.handlers.test_storefront_hooks import order_payload, webhook_request
from tests.hostile.helpers import invoke

RECIPIENT = "jane.doe@example.com"
IN_REFERENCE = "order-ref.person@example.com"
IN_FIELD = "field.person@example.com"
IN_ITEM = "item.person@example.com"
REDIRECT_TARGET = "fixed.target@example.org"
ATTACKER = "attacker@evil.example"
IN_ARN = "arn:aws:sts::123456789012:assumed-role/Support/agent.smith@shop.example"
IN_EVENT_ID = "u-event.person@example.com"
IN_BAD_EVENT = "detail.person@example.com"
IN_IMPORT = "import.person@example.com"
# References that are addresses with "/" and "'" in their local parts: masked whole, not from the last "/" or "'"
IN_SLASHED_REFERENCE = "slashed/ref.person@example.com"
IN_QUOTED_REFERENCE = "o'brien.person@example.com"
ADDRESSES = [
    IN_SLASHED_REFERENCE,
    IN_QUOTED_REFERENCE,
    RECIPIENT,
    IN_REFERENCE,
    IN_FIELD,
    IN_ITEM,
    REDIRECT_TARGET,
    ATTACKER,
    "agent.smith@shop.example",
    "event.person@example.com",
    IN_BAD_EVENT,
    IN_IMPORT,
]
WHOLE = re.compile(r"(?P<local>[\w.!#$%&'*+/=?^`{|}~-]+)(?P<at>@|%40)[\w-]+(?:\.[\w-]+)+")


def unmasked(text: str) -> list[str]:
    """Every address in `text` whose local part is more than its first character and "***". Before a `%40` the
    address is URL-encoded, so "/ = & ?" there belong to the URL around it."""
    found = []
    for match in WHOLE.finditer(text):
        local = match["local"] if match["at"] == "@" else re.split(r"[/=&?]", match["local"])[-1]
        local = re.sub(r"^assumed-role/[^/]+/", "", local)  # an assumed role's ARN: the session name is the address
        if not re.fullmatch(r".\*\*\*", local):
            found.append(match.group(0))
    return found


def encoded(address: str) -> str:
    return address.replace("@", "%40")


def resend(stack, reference, body, *, support=False, key=None):
    path = f"/support/messages/{reference}/redirect" if support else f"/messages/{reference}/resend"
    resource = "/support/messages/{reference}/redirect" if support else "/messages/{reference}/resend"
    identity = {"sourceIp": "127.0.0.1", "userArn": IN_ARN} if support else None
    from local_stack.api_server import proxy_event

    headers = {"Content-Type": "application/json", **({"Idempotency-Key": key} if key else {})}
    event = proxy_event(
        "POST", path, headers, json.dumps(body).encode(), resource, {"reference": reference}, "v1", identity
    )
    return stack.invoke("ResendFunction", event)["statusCode"]


def read(stack, reference: str) -> int:
    path = f"/messages/{reference}"
    answer = invoke(
        stack,
        "ResendFunction",
        "GET",
        path,
        "/messages/{reference}",
        content_type=None,
        path_params={"reference": reference},
    )
    return answer.status


@pytest.fixture
def library_logs_at_debug():
    """Lambda's runtime puts a handler on the root logger: botocore's and urllib3's records (URLs, query strings
    with forwardAddress) reach the log through it."""
    root = logging.getLogger()
    handler = logging.StreamHandler(io.StringIO())  # pointed at each function's log while it runs
    root.addHandler(handler)
    levels = {name: logging.getLogger(name).level for name in ("urllib3", "botocore")}
    for name in levels:
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield
    finally:
        root.removeHandler(handler)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def test_no_whole_address_reaches_any_log_line_whatever_field_it_travels_in(
    stack, sandbox, capsys, library_logs_at_debug
):
    sandbox.resend_key_in_send_response = True  # addresses travel through the by-key resend route too
    for old in stack.log_dir.glob("*.log"):
        old.unlink()
    stack.env_overrides["POWERTOOLS_LOG_LEVEL"] = "DEBUG"
    stack.cold_start()
    errors: list[str] = []

    order = {
        "emailAddress": RECIPIENT,
        "message": "order-confirmation",
        "fields": {"firstName": IN_FIELD, "orderNumber": IN_REFERENCE},
        "items": [{"ProductName": IN_ITEM, "Quantity": 1, "ItemPrice": IN_FIELD, "ImageURL": f"mailto:{IN_ITEM}"}],
        "reference": IN_REFERENCE,
    }
    # a send, its replay, and its reference reused: the reference is logged on every path
    assert post_message(stack, order)[0] == 201
    assert post_message(stack, order)[0] == 200
    assert post_message(stack, {**order, "fields": {"firstName": "x"}})[0] == 409
    # rejects: addresses in invalid fields, oversized values, an amplifying block, unknown raw IDs
    assert post_message(stack, {**order, "emailAddress": f"{RECIPIENT} <{ATTACKER}>", "reference": "r-1"})[0] == 400
    assert post_message(stack, {**order, "fields": {"firstName": IN_FIELD * 300}, "reference": "r-2"})[0] == 400
    amplifying = [{**order["items"][0], "ProductName": '"' * 3000 + IN_ITEM}] * 200
    assert post_message(stack, {**order, "items": amplifying, "reference": "r-3"})[0] == 400
    raw = {"emailAddress": RECIPIENT, "listId": 999, "transactionalMessageId": 1, "reference": f"raw-{IN_REFERENCE}"}
    assert post_message(stack, raw)[0] == 422
    # Listrak failing: retries exhausted, then an answer that never came (pending), then reconciled from Activity
    sandbox.inject("send", "429", times=4)  # every attempt (LISTRAK_MAX_ATTEMPTS)
    assert post_message(stack, {**order, "reference": f"down-{IN_REFERENCE}"})[0] == 503
    stack.env_overrides["SEND_RECONCILE_AFTER_SECONDS"] = "0"
    stack.cold_start()
    measure_activity(stack, lag=0.1)  # an account whose Activity has been seen to show sends at once
    sandbox.inject("send", "drop_after")
    assert post_message(stack, {**order, "reference": f"lost-{IN_REFERENCE}"})[0] == 202
    time.sleep(1.1)  # due once the ambiguous answer is a second old
    assert stack.reconcile().get("sent") == 1
    sandbox.inject("*", "revoke_token")
    assert post_message(stack, {**order, "reference": f"revoked-{IN_REFERENCE}"})[0] == 201

    # resends: the storefront's redirect attempt, the support redirect (audited), one whose answer never came
    assert resend(stack, IN_REFERENCE, {"emailAddress": ATTACKER}) == 403
    assert resend(stack, IN_REFERENCE, {"emailAddress": REDIRECT_TARGET}, support=True) == 201
    sandbox.inject("resend", "drop_after")
    assert resend(stack, IN_REFERENCE, {"emailAddress": REDIRECT_TARGET}, support=True, key="t-1") == 504
    sandbox.inject("resend", "429", times=4)
    assert resend(stack, IN_REFERENCE, {"emailAddress": REDIRECT_TARGET}, support=True) == 503
    assert read(stack, IN_REFERENCE) == 200
    for reference in (IN_SLASHED_REFERENCE, IN_QUOTED_REFERENCE):
        assert post_message(stack, {**order, "reference": reference})[0] == 201
        assert read(stack, quote(reference, safe="")) == 200  # as a caller and API Gateway put it in the path
        assert resend(stack, quote(reference, safe=""), {}) in (201, 409)
    assert read(stack, quote("unknown/" + IN_SLASHED_REFERENCE, safe="")) == 404

    # events: an address in the event id (so in the reference), one in an invalid detail, one in a wrong shape
    placed = {
        "profile": {"email": RECIPIENT, "first_name": IN_FIELD},
        "properties": {"Items": []},
        "unique_id": IN_EVENT_ID,
    }
    assert stack.invoke_async("SendEventFunction", storefront_event("Placed Order", placed)).error is None
    for detail in ({"profile": {"email": f"not an address {IN_BAD_EVENT}"}}, IN_BAD_EVENT):
        outcome = stack.invoke_async(
            "SendEventFunction", storefront_event("Placed Order", detail, event_id=IN_BAD_EVENT)
        )
        assert outcome.result["status"] == "parked", outcome  # wrong in itself: parked at once, with its reason
        errors.append(outcome.result["reason"])
    parked = stack.client("sqs").receive_message(QueueUrl=stack.refs["SendDeadLetterQueue"], MaxNumberOfMessages=10)
    errors.extend(json.dumps(json.loads(m["Body"])["responsePayload"]) for m in parked.get("Messages", []))

    # the doors: a signed Shopify webhook whose event id holds an address, and one altered after signing
    shop_order = order_payload()
    shop_order["note"] = f"call {IN_FIELD}"
    webhook = webhook_request(stack, shop_order, event_id=IN_EVENT_ID)
    assert stack.invoke("HooksFunction", webhook)["statusCode"] == 200
    assert stack.invoke("HooksFunction", webhook_request(stack, shop_order, signature="AAAA"))["statusCode"] == 401

    # imports: addresses as natural keys of rejected records, and in the values
    rows = [
        {"email": IN_IMPORT, "firstName": "x" * 500},  # over maxLength: a reject keyed by the address
        {"email": f"{IN_IMPORT}x", "birthday": IN_IMPORT},
    ]
    body = "".join(json.dumps(r) + "\n" for r in rows).encode()
    [(_, planned)] = stack.drop_file("ImportBucket", "customers/addresses.jsonl", body)
    assert planned.error is None
    stack.drain("ImportQueue")
    rejects = (
        stack.client("s3")
        .get_object(Bucket=stack.refs["ImportBucket"], Key="results/customers/addresses.jsonl.rejects.jsonl")["Body"]
        .read()
        .decode()
    )

    logs = "".join(path.read_text() for path in sorted(stack.log_dir.glob("*.log")))
    console = capsys.readouterr()
    everything = "\n".join([logs, console.out, console.err, *errors])
    assert logs.count("\n") > 60  # there is a lot to scan: every path logged
    assert '"audit":"resend-redirect"' in logs  # the audit line is there, masked
    assert "a***@shop.example" in logs and "f***@example.org" in logs and "o***@example.com" in logs
    assert "forwardAddress=f***%40example.org" in logs  # urllib3's own line, with the query string, masked
    for address in ADDRESSES:
        assert address not in everything, address
        assert encoded(address) not in everything, address
    assert unmasked(everything) == []
    # the rejects file names each record by line, its address masked
    assert IN_IMPORT not in rejects and "i***@example.com" in rejects
