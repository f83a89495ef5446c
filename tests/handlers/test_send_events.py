"""Storefront events on EventBridge -> the send logic, in-process against moto and the sandbox."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import placed_order, storefront_event

EVENTS = Path(__file__).resolve().parents[2] / "events"


def test_a_placed_order_sends_the_order_confirmation_with_mapped_fields(stack, sandbox):
    result = stack.invoke("SendEventFunction", placed_order())

    assert result["status"] == "sent"
    assert result["reference"] == "order-confirmation/1003"
    [send] = sandbox.sent_messages
    values = {v["segmentationFieldId"]: v["value"] for v in send["segmentationFieldValues"]}
    assert send["emailAddress"] == "jane.doe@example.com"
    assert values[5101] == "Jane" and values[5102] == "1003" and values[5103] == "39.0"
    assert values[5104] == "WELCOME10"
    assert "Shirt" in values[5105]


def test_a_duplicate_delivery_of_one_event_sends_one_email(stack, sandbox):
    first = stack.invoke_async("SendEventFunction", placed_order())
    again = stack.invoke_async("SendEventFunction", placed_order())

    assert first.result["status"] == "sent"
    assert again.result["status"] == "duplicate"
    assert sandbox.stats["sends"] == 1


def test_one_order_id_may_trigger_different_messages(stack, sandbox):
    stack.invoke("SendEventFunction", placed_order())
    shipped = storefront_event(
        "Shipping Update",
        {"profile": {"email": "jane.doe@example.com"}, "properties": {"OrderId": "1003"}, "unique_id": "1003"},
    )
    assert stack.invoke("SendEventFunction", shipped)["status"] == "sent"
    assert sandbox.stats["sends"] == 2


def test_without_unique_id_the_event_id_deduplicates(stack, sandbox):
    event = placed_order()
    del event["detail"]["unique_id"]
    stack.invoke("SendEventFunction", event)
    result = stack.invoke("SendEventFunction", event)
    assert result == {
        "reference": "order-confirmation/evt-1003",
        "status": "duplicate",
        "resendKey": result["resendKey"],
    }
    assert sandbox.stats["sends"] == 1


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (placed_order(profile={"first_name": "Nobody"}), "detail.profile.email: missing"),
        (placed_order(profile={"email": "nobody-at-example"}), "detail.profile.email"),
        (placed_order(properties={"OrderId": "1", "Items": "not a list"}), "detail.properties.Items"),
        (placed_order(properties={"OrderId": "1", "Items": [{"ProductName": "x"}]}), "Quantity"),
        (storefront_event("Placed Order", ["not", "an", "object"]), "detail"),
        (storefront_event("Birthday", {"profile": {"email": "a@example.com"}}), "Birthday"),
    ],
)
def test_an_event_that_cannot_be_sent_is_parked_at_once_not_retried(stack, sandbox, event, reason):
    outcome = stack.invoke_async("SendEventFunction", event)

    # Wrong in itself: Lambda's two retries would fail alike, so it is parked by the function, marked permanent.
    assert outcome.error is None and outcome.result["status"] == "parked", outcome
    assert reason in outcome.result["reason"]
    assert outcome.attempts == 1 and outcome.parked_in is None
    assert sandbox.stats["sends"] == 0
    queue = stack.refs["SendDeadLetterQueue"]
    messages = stack.client("sqs").receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    [record] = [json.loads(m["Body"]) for m in messages]
    assert record["requestPayload"] == event
    assert record["requestContext"]["condition"] == "PermanentError"
    assert record["requestContext"]["functionArn"].split(":")[6] == "SendEventFunction"
    assert reason in record["responsePayload"]["errorMessage"]


def test_listrak_down_lands_the_event_in_the_dead_letter_queue_and_nothing_is_sent_twice(stack, sandbox):
    sandbox.inject("send", "429", times=100)
    outcome = stack.invoke_async("SendEventFunction", placed_order())
    assert type(outcome.error).__name__ == "ListrakUnavailable"
    assert outcome.parked_in

    sandbox.reset()  # Listrak is back; the event is redriven from the queue
    assert stack.invoke("SendEventFunction", placed_order())["status"] == "sent"
    assert sandbox.stats["sends"] == 1


@pytest.mark.parametrize("sample", sorted(p.name for p in EVENTS.glob("eventbridge-*.json")))
def test_every_storefront_sample_is_routed_by_the_template_rule_to_this_function(stack, sample):
    event = json.loads((EVENTS / sample).read_text())
    assert stack.route(event) == "SendEventFunction"
