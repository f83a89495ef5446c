"""Shopify's mandatory compliance topics at POST /webhooks/shopify, with the payloads Shopify documents for them:
each is answered 200 at once after the HMAC check, a redelivery changes nothing, and the worker does the rest."""

from __future__ import annotations

import json

import pytest

from tests.conftest import post_message
from tests.handlers.test_privacy import JANE, ORDER, holding, status, sweep
from tests.handlers.test_storefront_hooks import answer, webhook_request

SHOP = "example-shop.myshopify.com"
CUSTOMER = {"id": 191167, "email": JANE, "phone": "555-625-1199"}
REDACT = {"shop_id": 954889, "shop_domain": SHOP, "customer": CUSTOMER, "orders_to_redact": [299938, 280263]}
DATA_REQUEST = {
    "shop_id": 954889,
    "shop_domain": SHOP,
    "orders_requested": [299938, 280263],
    "customer": CUSTOMER,
    "data_request": {"id": 9999},
}
SHOP_REDACT = {"shop_id": 954889, "shop_domain": SHOP}


@pytest.fixture
def privacy(stack):
    stack.env_overrides.update({"PRIVACY_CALL_SPACING_SECONDS": "0", "PRIVACY_POLL_SECONDS": "0"})
    return stack


def deliver(stack, topic, payload, event_id="cmp-1", **kw):
    return answer(stack.invoke("HooksFunction", webhook_request(stack, payload, topic=topic, event_id=event_id, **kw)))


def bus_events(stack) -> list[dict]:
    """What reached the storefront bus from the privacy worker (the local stack taps every bus into a queue)."""
    sqs, url = stack.client("sqs"), stack.resources.taps["StorefrontBus"]
    found = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            found.append(json.loads(message["Body"]))
    return [e for e in found if e["source"] == "listrak.privacy"]


def test_customers_redact_forgets_the_customer_and_a_redelivery_changes_nothing(privacy, sandbox):
    assert post_message(privacy, ORDER)[0] == 201
    code, first = deliver(privacy, "customers/redact", REDACT)
    assert code == 200 and first["status"] == "accepted" and first["requestId"]
    code, again = deliver(privacy, "customers/redact", REDACT)  # Shopify retries with the same webhook id
    assert code == 200 and again["requestId"] == first["requestId"] and "nothing changed" in again["detail"]

    sweep(privacy)
    sandbox.advance(600)
    sweep(privacy)
    view = status(privacy, first["requestId"])[1]
    assert view["status"] == "complete" and view["requestedBy"] == f"shopify:{SHOP}"
    assert view["source"]["customerId"] == 191167 and view["source"]["ordersToRedact"] == [299938, 280263]
    assert [(f["emailAddress"], f["phoneNumber"]) for f in sandbox.forget_requests] == [(JANE, "555-625-1199")]
    assert holding(privacy, JANE) == [] and holding(privacy, "555-625-1199") == []
    assert deliver(privacy, "customers/redact", REDACT)[1]["requestId"] == first["requestId"]
    sweep(privacy)
    assert len(sandbox.forget_requests) == 1


def test_customers_data_request_exports_what_is_held_and_announces_it(privacy, sandbox):
    assert post_message(privacy, ORDER)[0] == 201
    code, accepted = deliver(privacy, "customers/data_request", DATA_REQUEST)
    assert code == 200 and accepted["status"] == "accepted"
    assert deliver(privacy, "customers/data_request", DATA_REQUEST)[1]["requestId"] == accepted["requestId"]
    sweep(privacy)
    view = status(privacy, accepted["requestId"])[1]
    assert view["status"] == "complete" and view["exportKey"] == f"privacy/exports/{accepted['requestId']}.json"
    s3 = privacy.client("s3")
    export = json.loads(s3.get_object(Bucket=privacy.refs["ImportBucket"], Key=view["exportKey"])["Body"].read())
    # The send's record, and Activity's lag probe, which watches that send by its address until Activity shows it.
    records = {record["id"]: record for record in export["records"]}
    assert set(records) <= {"send#order-1001", "send# activity"}
    assert records["send#order-1001"]["reference"] == "order-1001"
    assert export["source"]["dataRequestId"] == 9999
    [event] = bus_events(privacy)
    assert event["detail-type"] == "privacyDataExported"
    assert event["detail"]["key"] == view["exportKey"] and event["detail"]["records"] == len(records)
    assert JANE not in json.dumps(event)  # the event points at the export; it does not carry the data
    assert sandbox.forget_requests == []  # an export forgets nothing


def test_shop_redact_is_recorded_and_announced(privacy, sandbox):
    code, accepted = deliver(privacy, "shop/redact", SHOP_REDACT)
    assert code == 200 and accepted["status"] == "accepted"
    sweep(privacy)
    assert status(privacy, accepted["requestId"])[1]["status"] == "complete"
    [event] = bus_events(privacy)
    assert event["detail-type"] == "privacyShopRedact" and event["detail"]["shopDomain"] == SHOP


def test_a_compliance_topic_with_a_bad_signature_is_refused_and_records_nothing(privacy, sandbox):
    code, _ = deliver(privacy, "customers/redact", REDACT, signature="bm90IHRoZSBzaWduYXR1cmU=")
    assert code == 401
    sweep(privacy)
    assert sandbox.forget_requests == []
