"""What a storefront door trusts: only what is signed (Shopify's HMAC covers the body alone), and Klaviyo's own
rule for an event without unique_id. Emails are counted at the Listrak sandbox."""

from __future__ import annotations

import copy
import json

from tests.handlers.test_storefront_hooks import answer, klaviyo_request, order_payload, placed_order, webhook_request


def deliver(stack, request) -> int:
    status, _ = answer(stack.invoke("HooksFunction", request))
    stack.deliver_events()
    return status


def test_one_signed_body_posted_again_with_its_unsigned_headers_changed_sends_one_email(stack, sandbox):
    payload = order_payload()
    assert deliver(stack, webhook_request(stack, payload)) == 200
    for changed in (
        webhook_request(stack, payload, event_id="evt-other"),
        webhook_request(stack, payload, drop=("X-Shopify-Event-Id", "X-Shopify-Webhook-Id")),
        webhook_request(stack, payload, topic="orders/fulfilled", event_id="evt-3"),
        webhook_request(stack, payload, topic="customers/create", event_id="evt-4"),
    ):
        deliver(stack, changed)
    assert sandbox.stats["sends"] == 1


def test_a_topic_is_acted_on_only_for_a_body_of_its_kind(stack, sandbox):
    for topic, why in (("customers/create", "not a customer"), ("orders/fulfilled", "no fulfillment")):
        status, body = answer(stack.invoke("HooksFunction", webhook_request(stack, order_payload(), topic=topic)))
        assert status == 400 and why in json.dumps(body)
    assert stack.deliver_events() == [] and sandbox.stats["sends"] == 0


def test_a_klaviyo_event_without_unique_id_posted_twice_is_one_event(stack, sandbox):
    event = placed_order()
    del event["data"]["attributes"]["unique_id"]
    event["data"]["attributes"]["time"] = "2026-11-22T15:04:05.120Z"
    assert deliver(stack, klaviyo_request(event)) == 202
    again = copy.deepcopy(event)
    again["data"]["attributes"]["time"] = "2026-11-22T15:04:05.870Z"  # the same second: the same event
    assert deliver(stack, klaviyo_request(again)) == 202
    assert sandbox.stats["sends"] == 1
    later = copy.deepcopy(event)
    later["data"]["attributes"]["time"] = "2026-11-22T15:04:06Z"  # another second: another event
    deliver(stack, klaviyo_request(later))
    assert sandbox.stats["sends"] == 2
