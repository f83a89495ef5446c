"""Malformed storefront events: each is parked at once in the dead-letter queue with its reason; nothing is sent."""

from __future__ import annotations

import json

import pytest

from tests.conftest import placed_order

JANE = "jane.doe@example.com"


def without(event, key):
    return {k: v for k, v in event.items() if k != key}


def parked_records(stack, outcome):
    queue = outcome.parked_in or stack.refs["SendDeadLetterQueue"]
    messages = stack.client("sqs").receive_message(QueueUrl=queue, MaxNumberOfMessages=10)
    return [json.loads(m["Body"]) for m in messages.get("Messages", [])]


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (without(placed_order(), "detail"), "detail"),
        ({**placed_order(), "detail": "a string"}, "detail"),
        ({**placed_order(), "detail": ["a", "list"]}, "detail"),
        ({**placed_order(), "detail": 42}, "detail"),
        ({**placed_order(), "detail": None}, "detail"),
        (without(placed_order(), "detail-type"), "detail-type"),
        ({**placed_order(), "detail-type": "Birthday <script>"}, "Birthday <script>"),
        ({**placed_order(), "detail-type": ["Placed Order"]}, "detail-type"),
        ({**placed_order(), "detail-type": ""}, "''"),
        (without(placed_order(), "id"), "id"),
        (placed_order(profile="jane.doe@example.com"), "detail.profile.email"),
        (placed_order(profile={"email": {"$ne": None}}), "detail.profile.email"),
        (placed_order(profile={"email": "<script>@example.com"}), "detail.profile.email"),
        (placed_order(profile={"email": "jane@example.com\r\nBcc: x@example.com"}), "detail.profile.email"),
        (placed_order(properties={"OrderId": "1", "Items": {"0": {}}}), "detail.properties.Items"),
        (placed_order(properties={"OrderId": "1", "Items": [{"ProductName": {"nested": [1]}}]}), "ProductName"),
        (placed_order(profile={"first_name": "Jane"}, junk="j" * 200_000), "detail.profile.email"),
        (placed_order(unique_id="has spaces"), "detail.unique_id"),
    ],
    ids=[
        "missing-detail",
        "detail-string",
        "detail-list",
        "detail-number",
        "detail-null",
        "missing-detail-type",
        "unknown-detail-type",
        "detail-type-list",
        "empty-detail-type",
        "missing-id",
        "profile-string",
        "email-operator-object",
        "email-with-markup",
        "email-header-injection",
        "items-object",
        "item-value-object",
        "200kB-detail-without-email",
        "unique-id-with-spaces",
    ],
)
def test_a_malformed_event_fails_clearly_is_parked_and_sends_nothing(stack, sandbox, event, reason):
    outcome = stack.invoke_async("SendEventFunction", event)

    assert outcome.error is None and outcome.result["status"] == "parked", outcome
    assert reason in outcome.result["reason"], outcome.result
    assert outcome.attempts == 1  # wrong in itself: parked at once, not retried twice first
    [record] = parked_records(stack, outcome)
    assert record["requestPayload"] == event
    assert record["requestContext"]["condition"] == "PermanentError"
    assert reason in record["responsePayload"]["errorMessage"]
    assert sandbox.stats["sends"] == 0


@pytest.mark.parametrize(
    "event",
    [
        pytest.param(placed_order(profile={"email": JANE, "first_name": "x" * 200_000}), id="200kB-field-value"),
        pytest.param(placed_order(profile={"email": JANE, "first_name": "a\ud800b"}), id="lone-surrogate"),
    ],
)
def test_an_event_with_an_unusable_field_value_is_parked_and_sends_nothing(stack, sandbox, event):
    outcome = stack.invoke_async("SendEventFunction", event)

    assert outcome.result["status"] == "parked" and "first_name" in outcome.result["reason"], outcome
    assert sandbox.stats["sends"] == 0


def test_a_well_formed_event_with_junk_around_it_still_sends_once(stack, sandbox):
    event = placed_order(junk={"deep": [[[[{"x": "<script>"}]]]]}, extra="e" * 10_000)
    event["unexpected-top-level"] = {"a": 1}

    outcome = stack.invoke_async("SendEventFunction", event)

    assert outcome.error is None, outcome.error
    assert outcome.result["status"] == "sent"
    assert sandbox.stats["sends"] == 1


def test_an_event_too_large_to_park_does_not_crash_the_local_stack(stack, sandbox):
    event = placed_order(profile={}, junk="j" * 2_000_000)

    outcome = stack.invoke_async("SendEventFunction", event)

    assert outcome.error is not None
    assert sandbox.stats["sends"] == 0
