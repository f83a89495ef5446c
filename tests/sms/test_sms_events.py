"""Storefront events that trigger an SMS beside their email (Klaviyo's Shipping Update, Shopify's
orders/fulfilled), in-process against moto and the sandbox, counting SMS at the sandbox."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

EVENTS = Path(__file__).resolve().parents[2] / "events"
SUBSCRIBED = "15551234567"


def sample(name: str) -> dict:
    event = json.loads((EVENTS / name).read_text(encoding="utf-8"))
    event.pop("expected")
    return event


def klaviyo(phone: object = "+15551234567") -> dict:
    event = sample("sms-1-klaviyo-shipping-update.json")
    attributes = event["detail"]["data"]["attributes"]
    attributes["profile"]["data"]["attributes"]["phone_number"] = phone
    attributes["properties"]["ShippingAddress"].pop("Phone")
    if phone is None:
        attributes["profile"]["data"]["attributes"].pop("phone_number")
    return event


def test_a_klaviyo_shipping_update_sends_its_email_and_one_sms(stack, sandbox):
    result = stack.invoke("SendEventFunction", klaviyo())

    assert result["status"] == "sent"
    assert result["sms"] == {"channel": "sms", "reference": "shipping-update-sms/sms-1235", "status": "sent"}
    [sms] = sandbox.sms_sent
    assert sms["phoneNumber"] == SUBSCRIBED and sms["transactionalMessageId"] == 701
    assert sms["messageContent"].startswith("Your order 1235 has shipped with UPS. Tracking: 1Z999AA10123456784.")
    assert len(sandbox.sent_messages) == 1


def test_a_redelivered_event_sends_no_second_sms(stack, sandbox):
    results = [stack.invoke_async("SendEventFunction", klaviyo()).result for _ in range(3)]

    assert [r["sms"]["status"] for r in results] == ["sent", "duplicate", "duplicate"]
    assert sandbox.sms_count(SUBSCRIBED) == 1 and len(sandbox.sent_messages) == 1


def test_a_shopify_orders_fulfilled_webhook_texts_the_customer(stack, sandbox):
    result = stack.invoke("SendEventFunction", sample("sms-2-shopify-orders-fulfilled.json"))

    assert result["sms"]["status"] == "sent" and result["sms"]["reference"] == "shipping-update-sms/sms-evt-2001"
    assert "Your order 2001 has shipped" in sandbox.sms_sent[0]["messageContent"]


def test_an_event_without_a_phone_number_sends_its_email_only(stack, sandbox):
    result = stack.invoke("SendEventFunction", klaviyo(phone=None))

    assert result["status"] == "sent" and "sms" not in result
    assert sandbox.sms_sent == [] and len(sandbox.sent_messages) == 1


def test_a_number_without_consent_is_skipped_and_the_email_still_goes(stack, sandbox):
    result = stack.invoke("SendEventFunction", sample("sms-3-shopify-orders-fulfilled-not-subscribed.json"))

    assert result["status"] == "sent"
    assert result["sms"]["status"] == "skipped" and result["sms"]["reason"] == "not-subscribed"
    assert sandbox.sms_sent == [] and len(sandbox.sent_messages) == 1


@pytest.mark.parametrize(("phone", "problem"), [("call me", "phone_number"), (5551234567, "must be a string")])
def test_an_unusable_number_is_reported_and_never_blocks_the_email(stack, sandbox, phone, problem):
    outcome = stack.invoke_async("SendEventFunction", klaviyo(phone=phone))

    assert outcome.error is None and outcome.attempts == 1
    assert outcome.result["status"] == "sent" and outcome.result["sms"]["status"] == "rejected"
    assert problem in outcome.result["sms"]["reason"]
    assert sandbox.sms_sent == []


def test_an_sms_answer_lost_after_listrak_sent_it_is_never_followed_by_a_second(stack, sandbox):
    sandbox.inject("sms", "502_after")
    first = stack.invoke_async("SendEventFunction", klaviyo())
    again = stack.invoke_async("SendEventFunction", klaviyo())

    assert first.result["sms"]["status"] == "unconfirmed" and again.result["sms"]["status"] == "unconfirmed"
    assert sandbox.sms_count(SUBSCRIBED) == 1 and len(sandbox.sent_messages) == 1


def test_listrak_unavailable_for_sms_fails_the_event_and_the_retry_sends_each_message_once(stack, sandbox):
    sandbox.inject("sms", "429", times=30)
    event = klaviyo()
    first = stack.invoke_async("SendEventFunction", copy.deepcopy(event))

    assert sandbox.sms_sent == []
    sandbox.reset()
    again = stack.invoke_async("SendEventFunction", event)
    assert type(first.error).__name__ == "ListrakUnavailable"
    assert again.result["sms"]["status"] == "sent" and again.result["status"] == "sent"
    assert sandbox.sms_count(SUBSCRIBED) == 1 and len(sandbox.sent_messages) == 1
