"""One email per reference, whatever Listrak or AWS do mid-send: every fault ends `sent` with exactly one email.

Emails are counted where they land, at the Listrak sandbox, per reference (each reference has its own address).
Time is a movable clock shared by the functions and the sandbox, so the reconcile window passes without sleeping.
"""

from __future__ import annotations

import json
import random
from collections import Counter

import pytest

from tests.conftest import post_message, storefront_event
from tests.faults.aws_faults import Fault
from tests.faults.conftest import ROUND

pytestmark = pytest.mark.usefixtures("measured")  # an account whose Activity has been seen to show sends


class FunctionTimedOut(BaseException):
    """What Lambda does to an invocation at its timeout: the code stops wherever it is."""


def order(reference: str) -> dict:
    return {
        "emailAddress": f"{reference}@example.com",
        "message": "password-reset",
        "fields": {"firstName": "Jane", "passwordResetLink": "https://r/1"},
        "reference": reference,
    }


def emails(sandbox) -> Counter:
    return Counter(row["emailAddress"].split("@")[0] for row in sandbox.sent_messages)


def state(stack, reference: str) -> dict:
    """GET /messages/{reference}, through the function that serves it."""
    from local_stack.api_server import proxy_event

    path = f"/messages/{reference}"
    event = proxy_event("GET", path, {}, b"", "/messages/{reference}", {"reference": reference}, "v1")
    answer = stack.invoke("ResendFunction", event)
    assert answer["statusCode"] == 200, answer
    return json.loads(answer["body"])


def records(stack) -> list:
    """Every send record, read straight from the table."""
    from listrak_kit.aws.send_records import DynamoSendRecords

    table = stack.refs["Table"]
    pages = stack.client("dynamodb").get_paginator("scan").paginate(TableName=table)
    items = [item for page in pages for item in page["Items"] if item["id"]["S"].startswith("send#")]
    items = [item for item in items if " " not in item["id"]["S"]]  # a send's reference has no space
    return [DynamoSendRecords._record(item) for item in items]


def settle(stack, clock, rounds: int = 5) -> None:
    """Lets the reconcile window pass and the scheduled reconciler run, a few times over."""
    for _ in range(rounds):
        clock.advance(ROUND)
        while True:
            report = stack.reconcile()
            if report["checked"] == 0:
                break


# -- Listrak's faults -----------------------------------------------------------------------------------

LISTRAK_FAULTS = [
    # (fault, first HTTP answer, emails right after the first request)
    ("429", 201, 1),
    ("503", 202, 0),  # a 503 may come after acting: ambiguous, Activity proves nothing went, sent once more
    ("503_after", 202, 1),
    ("500", 202, 0),  # before acting: ambiguous all the same, Activity proves nothing went, sent once more
    ("502", 202, 0),
    ("500_after", 202, 1),  # Listrak queued the email, then failed: Activity shows it, never sent again
    ("502_after", 202, 1),
    ("slow", 202, 1),  # answered after the read timeout
    ("drop", 202, 0),  # connection closed without an answer, before acting
    ("drop_after", 202, 1),  # ... after acting
]


@pytest.mark.parametrize(("fault", "first_status", "first_emails"), LISTRAK_FAULTS)
def test_each_listrak_fault_ends_with_one_email_and_sent(stack, sandbox, clock, fault, first_status, first_emails):
    sandbox.inject("send", fault, times=2 if fault == "429" else 1, delay=0.6 if fault == "slow" else 0)

    status, answer = post_message(stack, order("r-1"))
    assert status == first_status, answer
    assert emails(sandbox)["r-1"] == first_emails
    if status == 202:
        assert answer["status"] == "pending" and answer["statusUrl"] == "/v1/messages/r-1"
        again, _ = post_message(stack, order("r-1"))  # the caller's repeat before the window: nothing is sent
        assert again == 202 and emails(sandbox)["r-1"] == first_emails

    settle(stack, clock)

    assert emails(sandbox)["r-1"] == 1
    view = state(stack, "r-1")
    assert view["status"] == "sent"
    assert post_message(stack, order("r-1"))[0] == 200
    assert emails(sandbox)["r-1"] == 1
    if first_emails == 1 and status == 202:
        assert [a["resolvedBy"] for a in view["attempts"]] == ["activity"]
        assert view["hasResendKey"]  # taken from the Activity row
    if first_emails == 0:
        assert [a["resolvedBy"] for a in view["attempts"]] == ["resend", "answer"]


def test_a_caller_repeat_after_the_window_reconciles_without_the_schedule(stack, sandbox, clock):
    sandbox.inject("send", "500_after")
    assert post_message(stack, order("r-1"))[0] == 202
    clock.advance(ROUND)
    status, answer = post_message(stack, order("r-1"))
    assert (status, answer["status"]) == (200, "sent")
    assert emails(sandbox)["r-1"] == 1


def test_refusals_that_prove_nothing_was_sent_free_the_reference(stack, sandbox, clock):
    sandbox.inject("send", "429", times=20)
    status, answer = post_message(stack, order("r-1"))
    assert status == 503 and "Listrak is unavailable" in answer["message"]
    assert emails(sandbox)["r-1"] == 0
    sandbox.reset()
    assert post_message(stack, order("r-1"))[0] == 201
    assert emails(sandbox)["r-1"] == 1


def test_a_storefront_event_whose_send_is_pending_is_not_parked(stack, sandbox, clock):
    event = storefront_event(
        "Reset Password", {"profile": {"email": "ev-1@example.com"}, "properties": {}, "unique_id": "e1"}
    )
    sandbox.inject("send", "502_after")
    outcome = stack.invoke_async("SendEventFunction", event)
    assert outcome.error is None and outcome.parked_in is None
    assert outcome.result["status"] == "pending"
    assert stack.invoke("SendEventFunction", event)["status"] == "pending"  # redelivered: still pending, not sent
    settle(stack, clock)
    assert stack.invoke("SendEventFunction", event)["status"] == "duplicate"
    assert len(sandbox.sent_messages) == 1


# -- AWS's faults ---------------------------------------------------------------------------------------

SETTLE_SENT = '"S": "sent"'
MARK_PENDING = '"S": "pending"'


def test_write_1_failing_sends_nothing_and_says_so(stack, sandbox, clock):
    with Fault("dynamodb", "InternalServerError", status=500, operation="PutItem", body_contains='"send#'):
        status, answer = post_message(stack, order("r-1"))
    assert status == 503 and "nothing was sent" in answer["message"]
    assert emails(sandbox)["r-1"] == 0
    assert post_message(stack, order("r-1"))[0] == 201
    assert emails(sandbox)["r-1"] == 1


def test_write_2_failing_after_listrak_accepted_is_pending_then_sent_from_activity(stack, sandbox, clock):
    with Fault("dynamodb", "InternalServerError", status=500, operation="UpdateItem", body_contains=SETTLE_SENT):
        status, answer = post_message(stack, order("r-1"))
    assert status == 202 and answer["status"] == "pending"  # not "nothing was sent": it was
    assert post_message(stack, order("r-1"))[0] == 202  # a repeat inside the window sends nothing
    settle(stack, clock)
    assert state(stack, "r-1")["status"] == "sent"
    assert emails(sandbox)["r-1"] == 1


def test_the_pending_write_failing_after_an_ambiguous_answer_is_still_reconciled(stack, sandbox, clock):
    sandbox.inject("send", "500_after")
    with Fault("dynamodb", "InternalServerError", status=500, operation="UpdateItem", body_contains=MARK_PENDING):
        status, _ = post_message(stack, order("r-1"))
    assert status == 202
    settle(stack, clock)
    assert state(stack, "r-1")["status"] == "sent"
    assert emails(sandbox)["r-1"] == 1


def test_the_release_failing_after_a_refusal_never_loses_the_send(stack, sandbox, clock):
    sandbox.inject("send", "429", times=20)
    with Fault("dynamodb", "InternalServerError", status=500, operation="DeleteItem"):
        status, _ = post_message(stack, order("r-1"))
    assert status == 503  # true: nothing was sent
    sandbox.reset()
    assert post_message(stack, order("r-1"))[0] == 202  # the item is still held: reconciled, not re-sent blindly
    settle(stack, clock)
    assert state(stack, "r-1")["status"] == "sent"
    assert emails(sandbox)["r-1"] == 1


def test_the_function_timing_out_between_the_listrak_call_and_write_2(stack, sandbox, clock):
    with (
        Fault("dynamodb", "x", operation="UpdateItem", body_contains=SETTLE_SENT, raises=FunctionTimedOut()),
        pytest.raises(FunctionTimedOut),
    ):
        post_message(stack, order("r-1"))
    stack.cold_start()
    assert emails(sandbox)["r-1"] == 1
    assert post_message(stack, order("r-1"))[0] == 202  # API Gateway's retry, or the caller's
    settle(stack, clock)
    view = state(stack, "r-1")
    assert view["status"] == "sent" and [a["resolvedBy"] for a in view["attempts"]] == ["activity"]
    assert emails(sandbox)["r-1"] == 1


def test_the_reconciler_failing_to_settle_tries_again_and_never_resends(stack, sandbox, clock):
    sandbox.inject("send", "500_after")
    assert post_message(stack, order("r-1"))[0] == 202
    clock.advance(ROUND)
    with Fault("dynamodb", "InternalServerError", status=500, operation="UpdateItem", body_contains=SETTLE_SENT):
        stack.reconcile()
    settle(stack, clock)
    assert state(stack, "r-1")["status"] == "sent"
    assert emails(sandbox)["r-1"] == 1


# -- Activity's faults ----------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["500_after", "500"])
def test_activity_failing_keeps_the_send_pending_and_never_sends_blindly(stack, sandbox, clock, fault):
    sandbox.inject("send", fault)
    assert post_message(stack, order("r-1"))[0] == 202
    before = emails(sandbox)["r-1"]
    sandbox.inject("activity", "503", times=12)  # three lookups' worth (4 attempts each, all refused)
    settle(stack, clock, rounds=3)
    assert emails(sandbox)["r-1"] == before  # no look, no send
    assert state(stack, "r-1")["status"] == "pending"
    settle(stack, clock)  # Activity answers again
    assert emails(sandbox)["r-1"] == 1
    assert state(stack, "r-1")["status"] == "sent"


def test_activity_lagging_within_the_window_finds_the_send(stack, sandbox, clock):
    sandbox.activity_delay_seconds = ROUND - 10  # shows a send only just before it is looked up
    sandbox.inject("send", "502_after")
    assert post_message(stack, order("r-1"))[0] == 202
    settle(stack, clock)
    assert state(stack, "r-1")["status"] == "sent"
    assert emails(sandbox)["r-1"] == 1


def test_a_send_activity_never_shows_is_failed_after_bounded_attempts(stack, sandbox, clock):
    sandbox.inject("send", "500", times=3)  # every attempt ambiguous, none acted on
    assert post_message(stack, order("r-1"))[0] == 202
    settle(stack, clock, rounds=10)  # each absence believed once four times Activity's measured lag has passed
    view = state(stack, "r-1")
    assert view["status"] == "failed" and "never showed" in view["failure"]
    assert len(view["attempts"]) == 3
    assert emails(sandbox)["r-1"] == 0
    assert post_message(stack, order("r-1"))[0] == 502  # the caller learns it, by the same reference


# -- everything at once ---------------------------------------------------------------------------------

MIXED = ["429", "503", "500", "502", "500_after", "502_after", "slow", "drop", "drop_after", "write2", "timeout"]


def test_a_thousand_sends_at_a_20_percent_fault_rate_end_one_email_each(stack, sandbox, clock):
    rng = random.Random(12)
    references = [f"m-{n}" for n in range(1000)]
    injected: Counter = Counter()
    for reference in references:
        kind = rng.choice(MIXED) if rng.random() < 0.2 else None
        injected[kind or "none"] += 1
        if kind == "write2":
            with Fault(
                "dynamodb", "InternalServerError", status=500, operation="UpdateItem", body_contains=SETTLE_SENT
            ):
                post_message(stack, order(reference))
        elif kind == "timeout":
            with (
                Fault("dynamodb", "x", operation="UpdateItem", body_contains=SETTLE_SENT, raises=FunctionTimedOut()),
                pytest.raises(FunctionTimedOut),
            ):
                post_message(stack, order(reference))
        else:
            if kind:
                sandbox.inject("send", kind, delay=0.4 * (kind == "slow"))
            post_message(stack, order(reference))
    settle(stack, clock)

    sent = emails(sandbox)
    duplicates = [r for r in references if sent[r] > 1]
    losses = [r for r in references if sent[r] == 0]
    statuses = Counter(record.status for record in records(stack))
    print(f"mixed faults: injected={dict(injected)} duplicates={len(duplicates)} losses={len(losses)} {statuses}")
    assert (duplicates, losses) == ([], [])
    assert statuses == {"sent": 1000}
