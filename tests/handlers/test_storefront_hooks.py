"""Storefront events as the platforms send them, through every door, against moto and the Listrak sandbox.

Shopify: its EventBridge partner source (the partner bus and its rule), and its signed HTTPS webhooks
(POST /webhooks/shopify). Klaviyo-shaped senders: POST /events with a Create Event body, unchanged.
The samples in events/ are the bodies; each door ends in one email at the sandbox, or in a clear refusal.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import html
import json
from pathlib import Path
from typing import Any

import pytest

from local_stack.api_server import proxy_event
from tests.hostile.helpers import field_values

EVENTS = Path(__file__).resolve().parents[2] / "events"


def sample(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


def sign(raw: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest()).decode()


def webhook_request(stack, payload: Any, *, topic: str | None = "orders/create", event_id: str = "evt-9001", **kw):
    """What Shopify POSTs: the raw JSON body, signed with the shop's secret (unless told otherwise)."""
    raw = kw.pop("raw", None) or json.dumps(payload, separators=(",", ":")).encode("utf-8")
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Shop-Domain": "example-shop.myshopify.com",
        "X-Shopify-Webhook-Id": f"wh-{event_id}",
        "X-Shopify-Event-Id": event_id,
        "X-Shopify-API-Version": "2025-10",
        "X-Shopify-Hmac-Sha256": kw.pop("signature", None) or sign(raw, stack.shopify_webhook_secret),
    }
    if topic is not None:
        headers["X-Shopify-Topic"] = topic
    for name in kw.pop("drop", ()):
        headers.pop(name)
    return proxy_event("POST", "/webhooks/shopify", headers, raw, "/webhooks/shopify", {}, "v1")


def answer(response: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return response["statusCode"], json.loads(response["body"])


def order_payload() -> dict[str, Any]:
    return copy.deepcopy(sample("shopify-1-orders-create.json")["detail"]["payload"])


def parked(stack) -> list[dict[str, Any]]:
    url = stack.refs["SendDeadLetterQueue"]
    messages = stack.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def assert_order_1004_email(send: dict[str, Any]) -> None:
    """The sample order: three line items, markup in two product titles, a discount code."""
    assert send["emailAddress"] == "jane.doe@example.com"
    assert (send["listId"], send["transactionalMessageId"]) == (300001, 7001)
    values = field_values(send)
    assert values[5101] == "Jane"
    assert values[5102] == "1004"
    assert values[5103] == "122.00"
    assert values[5104] == "WELCOME10"
    block = values[5105]
    assert "<" not in block and ">" not in block  # the block reaches Listrak escaped
    rendered = html.unescape(block)  # what the email holds: the template's markup, the titles as text
    assert rendered.count("<!-- Item -->") == 3
    assert html.escape('Linen shirt <b>Limited</b> & "Co"') in rendered
    assert html.escape("Wool socks <script>alert(1)</script>") in rendered
    assert "<script>" not in rendered and "<b>" not in rendered
    assert "QTY 2" in rendered and "QTY 3" in rendered and "39.00" in rendered
    assert "https://shop.example.com/images/no-image.png" in rendered  # Shopify's line items carry no image


# -- Shopify through its EventBridge partner source -----------------------------------------------------------


def test_a_shopify_order_on_the_partner_bus_sends_one_order_confirmation_with_its_line_items(stack, sandbox):
    [(function, outcome)] = stack.publish(sample("shopify-1-orders-create.json"), "ShopifyEventBus")

    assert function == "SendEventFunction"
    assert outcome.error is None, outcome.error
    assert outcome.result["reference"] == "order-confirmation/98880550-7158-44d4-b7cd-2c97c8a091b5"
    [send] = sandbox.sent_messages
    assert_order_1004_email(send)


def test_a_redelivered_shopify_webhook_sends_nothing_more(stack, sandbox):
    first = sample("shopify-1-orders-create.json")
    again = sample("shopify-2-orders-create-redelivered.json")
    assert first["id"] != again["id"]  # a new EventBridge event, the same Shopify event

    [(_, sent)] = stack.publish(first, "ShopifyEventBus")
    [(_, repeated)] = stack.publish(again, "ShopifyEventBus")

    assert sent.result["status"] == "sent"
    assert repeated.result["status"] == "duplicate"
    assert repeated.result["reference"] == sent.result["reference"]
    assert sandbox.stats["sends"] == 1


def test_one_order_triggers_its_confirmation_and_its_shipping_email(stack, sandbox):
    stack.publish(sample("shopify-1-orders-create.json"), "ShopifyEventBus")
    [(_, shipped)] = stack.publish(sample("shopify-3-orders-fulfilled.json"), "ShopifyEventBus")

    assert shipped.result["status"] == "sent"
    assert shipped.result["reference"].startswith("shipping-confirmation/")
    confirmation, shipping = sandbox.sent_messages
    assert shipping["transactionalMessageId"] == 7002
    values = field_values(shipping)
    assert values[5102] == "1004" and values[5106] == "1Z999AA10123456784" and values[5107] == "UPS"
    assert html.unescape(values[5108]).count("<tr>") == 3


def test_a_new_shopify_customer_gets_the_welcome_email(stack, sandbox):
    [(_, outcome)] = stack.publish(sample("shopify-4-customers-create.json"), "ShopifyEventBus")

    assert outcome.result["status"] == "sent"
    [send] = sandbox.sent_messages
    assert send["emailAddress"] == "sam.lee@example.com" and send["transactionalMessageId"] == 7004
    assert field_values(send) == {5101: "Sam", 5110: "Lee"}


def test_a_shopify_topic_the_catalog_does_not_name_is_ignored_not_parked(stack, sandbox):
    [(_, outcome)] = stack.publish(sample("shopify-5-products-update-not-in-catalog.json"), "ShopifyEventBus")

    assert outcome.error is None and outcome.attempts == 1
    assert outcome.result["status"] == "ignored"
    assert "products/update" in outcome.result["reason"]
    assert sandbox.stats["sends"] == 0
    assert parked(stack) == []


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda e: e["detail"]["metadata"].pop("X-Shopify-Topic"), "detail.metadata.X-Shopify-Topic: missing"),
        (lambda e: e["detail"]["payload"].update(email=None, contact_email=None, customer=None), "payload.email"),
        (lambda e: e["detail"].pop("payload"), "detail.payload.email: missing"),
        (lambda e: e["detail"]["payload"]["line_items"][1].pop("quantity"), "line_items[1].Quantity"),
        (lambda e: e["detail"]["payload"].update(line_items="none"), "detail.payload.line_items"),
    ],
    ids=["no-topic", "no-email", "no-payload", "item-without-quantity", "line-items-not-a-list"],
)
def test_a_shopify_event_that_cannot_be_sent_is_parked_with_its_reason(stack, sandbox, change, reason):
    event = sample("shopify-1-orders-create.json")
    change(event)

    [(_, outcome)] = stack.publish(event, "ShopifyEventBus")

    assert outcome.result["status"] == "parked" and reason in outcome.result["reason"], outcome
    assert outcome.attempts == 1  # wrong in itself: parked at once, not retried
    [record] = parked(stack)
    assert record["requestContext"]["condition"] == "PermanentError"
    assert record["requestPayload"] == event  # nothing lost: the event as it came, with why it failed
    assert reason in record["responsePayload"]["errorMessage"]
    assert sandbox.stats["sends"] == 0


def test_only_shopify_s_own_source_is_taken_from_the_partner_bus(stack):
    event = sample("shopify-1-orders-create.json")
    assert [f for f, _ in stack.publish({**event, "detail-type": "Placed Order"}, "ShopifyEventBus")] == []
    assert stack.route(event) == "SendEventFunction"


# -- Shopify over HTTPS: POST /webhooks/shopify ---------------------------------------------------------------


def test_a_signed_webhook_is_answered_at_once_and_sent_once_from_the_bus(stack, sandbox):
    status, body = answer(stack.invoke("HooksFunction", webhook_request(stack, order_payload())))

    assert status == 200
    assert body == {
        "status": "accepted",
        "detail": "queued: it sends order-confirmation once",
        "message": "order-confirmation",
        "reference": body["reference"],
    }
    # the key comes from what Shopify signed: the body's own id and a hash of the body, not the event id header
    assert body["reference"].startswith("order-confirmation/5784293114102-")
    assert sandbox.stats["sends"] == 0  # the answer does not wait for Listrak
    [(function, outcome)] = stack.deliver_events()
    assert function == "SendEventFunction"
    assert outcome.result["reference"] == body["reference"]
    [send] = sandbox.sent_messages
    assert_order_1004_email(send)


def test_a_webhook_shopify_delivers_again_is_accepted_and_sends_nothing_more(stack, sandbox):
    request = webhook_request(stack, order_payload())
    stack.invoke("HooksFunction", request)
    stack.deliver_events()

    status, body = answer(stack.invoke("HooksFunction", request))
    [(_, outcome)] = stack.deliver_events()

    assert status == 200 and body["reference"].startswith("order-confirmation/5784293114102-")
    assert outcome.result["status"] == "duplicate"
    assert sandbox.stats["sends"] == 1


def test_a_base64_encoded_body_is_checked_and_read_as_its_bytes(stack, sandbox):
    request = webhook_request(stack, order_payload())
    request["body"] = base64.b64encode(request["body"].encode()).decode()
    request["isBase64Encoded"] = True

    status, _ = answer(stack.invoke("HooksFunction", request))

    assert status == 200
    assert [o.result["status"] for _, o in stack.deliver_events()] == ["sent"]


@pytest.mark.parametrize(
    "make",
    [
        lambda stack: webhook_request(stack, order_payload(), signature=sign(b"{}", stack.shopify_webhook_secret)),
        lambda stack: webhook_request(stack, order_payload(), signature=sign(b"x", "not-the-shop-secret")),
        lambda stack: webhook_request(stack, order_payload(), drop=["X-Shopify-Hmac-Sha256"]),
        lambda stack: webhook_request(stack, order_payload(), signature="not base64 at all ✓"),
        lambda stack: _altered_after_signing(webhook_request(stack, order_payload())),
    ],
    ids=["signature-of-another-body", "wrong-secret", "no-signature", "garbage-signature", "body-altered"],
)
def test_a_webhook_without_a_valid_signature_is_a_401_and_nothing_is_queued(stack, sandbox, make):
    status, body = answer(stack.invoke("HooksFunction", make(stack)))

    assert status == 401
    assert "X-Shopify-Hmac-Sha256" in body["message"] and "nothing was sent" in body["message"]
    assert stack.deliver_events() == []
    assert sandbox.stats["sends"] == 0


def _altered_after_signing(request: dict[str, Any]) -> dict[str, Any]:
    assert '"total_price":"122.00"' in request["body"]
    request["body"] = request["body"].replace('"total_price":"122.00"', '"total_price":"0.01"')
    return request


def test_the_altered_body_sample_is_refused(stack, sandbox):
    status, _ = answer(stack.invoke("HooksFunction", sample("webhook-3-shopify-body-altered-after-signing.json")))
    assert status == 401
    assert stack.deliver_events() == [] and sandbox.stats["sends"] == 0


@pytest.mark.parametrize(
    ("make", "field", "message"),
    [
        (lambda s: webhook_request(s, order_payload(), topic=None), "X-Shopify-Topic", "missing"),
        (lambda s: webhook_request(s, None, raw=b"[1, 2]"), "(body)", "must be a JSON object"),
        (lambda s: webhook_request(s, None, raw=b'{"id": 1'), "(body)", "not valid JSON"),
        (
            lambda s: webhook_request(s, {**order_payload(), "email": None, "contact_email": None, "customer": None}),
            "detail.payload.email",
            "missing (the recipient's address)",
        ),
        (
            lambda s: webhook_request(s, {**order_payload(), "email": "jane.doe-at-example.com"}),
            "detail.payload.email",
            "not a valid email address",
        ),
        (
            lambda s: webhook_request(s, {**order_payload(), "line_items": [{"title": "x", "price": "1.00"}]}),
            "detail.payload.line_items[0].Quantity",
            "required by the item block",
        ),
    ],
    ids=["no-topic", "not-an-object", "not-json", "no-email", "bad-email", "item-without-quantity"],
)
def test_a_signed_webhook_that_cannot_be_sent_is_a_400_naming_why_and_nothing_is_queued(
    stack, sandbox, make, field, message
):
    status, body = answer(stack.invoke("HooksFunction", make(stack)))

    assert status == 400, body
    assert any(e["field"] == field and message in e["message"] for e in body["errors"]), body
    assert stack.deliver_events() == []
    assert sandbox.stats["sends"] == 0


def test_a_signed_webhook_of_a_topic_the_catalog_does_not_name_is_a_200_that_says_so(stack, sandbox):
    request = webhook_request(stack, {"id": 8011, "title": "Linen shirt"}, topic="products/update")

    status, body = answer(stack.invoke("HooksFunction", request))

    assert status == 200
    assert body["status"] == "ignored" and "products/update" in body["detail"]
    assert stack.deliver_events() == [] and sandbox.stats["sends"] == 0


def test_an_unset_webhook_secret_refuses_every_webhook_with_a_500_and_says_how_to_fix_it(stack, sandbox):
    secrets = stack.client("secretsmanager")
    secrets.put_secret_value(SecretId=stack.refs["ShopifyWebhookSecret"], SecretString="REPLACE_ME")

    status, body = answer(stack.invoke("HooksFunction", webhook_request(stack, order_payload())))

    assert status == 500 and "misconfigured" in body["message"]
    assert stack.deliver_events() == [] and sandbox.stats["sends"] == 0
    log = (stack.log_dir / "HooksFunction.log").read_text()
    assert "ShopifyWebhookSecret" in log and stack.shopify_webhook_secret not in log


# -- Klaviyo Create Event bodies: POST /events ----------------------------------------------------------------

# Every event type of Klaviyo's transactional guide, and what its email holds (segmentationFieldId -> value).
KLAVIYO = [
    ("klaviyo-01-created-account.json", "account-created/acct-1234", 7004, {5101: "John", 5110: "Smith"}),
    (
        "klaviyo-02-updated-account.json",
        "account-updated/acct-1234-upd-1",
        7007,
        {5101: "John", 5117: "Property Update"},
    ),
    (
        "klaviyo-03-reset-password.json",
        "password-reset/reset-1234567890",
        7003,
        {5109: "https://shop.example.com/reset/1234567890987654321"},
    ),
    ("klaviyo-04-created-invoice.json", "invoice-created/1234", 7008, {5101: "John", 5102: "1234", 5103: "9.99"}),
    (
        "klaviyo-05-placed-order.json",
        "order-confirmation/1234",
        7001,
        {5101: "John", 5102: "1234", 5103: "9.99", 5104: "Free Shipping"},
    ),
    (
        "klaviyo-06-failed-payment.json",
        "failed-payment/1234",
        7005,
        {5102: "1234", 5103: "9.99", 5111: "Credit card not accepted"},
    ),
    (
        "klaviyo-07-shipping-update.json",
        "shipping-confirmation/1234",
        7002,
        {5102: "1234", 5106: "1Z999AA10123456784", 5107: "UPS"},
    ),
    (
        "klaviyo-08-became-lead.json",
        "became-lead/lead-1234",
        7009,
        {5101: "John", 5116: "Filled out whitepaper request form"},
    ),
    (
        "klaviyo-09-new-lead.json",
        "new-lead/lead-1234",
        7006,
        {5112: "John", 5113: "Smith", 5114: "john.smith@example.com", 5115: "5551234567"},
    ),
]
ITEM_BLOCKS = {7001: 5105, 7002: 5108, 7008: 5118}


@pytest.mark.parametrize(("name", "reference", "message_id", "expected"), KLAVIYO, ids=[k[0][11:-5] for k in KLAVIYO])
def test_each_klaviyo_event_type_is_accepted_unchanged_and_sends_one_email(
    stack, sandbox, name, reference, message_id, expected
):
    request = sample(name)
    klaviyo_body = json.loads(request["body"])

    status, body = answer(stack.invoke("HooksFunction", request))

    assert status == 202, body
    assert body["status"] == "accepted" and body["reference"] == reference
    [(_, outcome)] = stack.deliver_events()
    assert outcome.result == {**outcome.result, "status": "sent", "reference": reference}
    [send] = sandbox.sent_messages
    assert send["transactionalMessageId"] == message_id
    profile = klaviyo_body["data"]["attributes"]["profile"]["data"]["attributes"]
    assert send["emailAddress"] == profile["email"]
    values = field_values(send)
    assert values.items() >= expected.items(), values
    if message_id in ITEM_BLOCKS:
        block = values[ITEM_BLOCKS[message_id]]
        assert "<" not in block and "Winnie the Pooh" in html.unescape(block)

    # and the same event again (a retried POST): accepted, nothing more sent
    status, again = answer(stack.invoke("HooksFunction", request))
    [(_, repeated)] = stack.deliver_events()
    assert status == 202 and again["reference"] == reference
    assert repeated.result["status"] == "duplicate"
    assert sandbox.stats["sends"] == 1


def klaviyo_request(body: Any) -> dict[str, Any]:
    raw = json.dumps(body).encode()
    return proxy_event("POST", "/events", {"Content-Type": "application/json"}, raw, "/events", {}, "v1")


def placed_order() -> dict[str, Any]:
    return json.loads(sample("klaviyo-05-placed-order.json")["body"])


def test_a_klaviyo_metric_the_catalog_does_not_name_is_a_200_that_says_so(stack, sandbox):
    status, body = answer(stack.invoke("HooksFunction", sample("klaviyo-10-viewed-product-not-in-catalog.json")))

    assert status == 200
    assert body["status"] == "ignored" and "'Viewed Product'" in body["detail"]
    assert stack.deliver_events() == [] and sandbox.stats["sends"] == 0


def _without(path: str):
    def change(body: dict[str, Any]) -> dict[str, Any]:
        *parents, last = path.split(".")
        node = body
        for part in parents:
            node = node[part]
        del node[last]
        return body

    return change


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            _without("data.attributes.profile.data.attributes.email"),
            "detail.data.attributes.profile.data.attributes.email",
        ),
        (_without("data.attributes.metric.data.attributes.name"), "detail.data.attributes.metric.data.attributes.name"),
        (_without("data.attributes.metric"), "data.attributes.metric"),
        (_without("data"), "data"),
        (lambda b: {**b, "data": {**b["data"], "type": "profile"}}, "data.type"),
        (
            lambda b: (b["data"]["attributes"]["properties"]["Items"][0].pop("Quantity"), b)[1],
            "detail.data.attributes.properties.Items[0].Quantity",
        ),
        (lambda b: (b["data"]["attributes"].update(unique_id="has spaces"), b)[1], "detail.data.attributes.unique_id"),
    ],
    ids=["no-email", "no-metric-name", "no-metric", "not-json-api", "not-an-event", "item-path-absent", "bad-id"],
)
def test_a_klaviyo_event_that_cannot_be_sent_is_a_400_naming_the_path_and_nothing_is_queued(
    stack, sandbox, change, field
):
    status, body = answer(stack.invoke("HooksFunction", klaviyo_request(change(placed_order()))))

    assert status == 400, body
    assert field in [e["field"] for e in body["errors"]], body
    assert stack.deliver_events() == [] and sandbox.stats["sends"] == 0


def test_a_klaviyo_event_without_unique_id_is_keyed_by_its_eventbridge_id(stack, sandbox):
    event = placed_order()
    del event["data"]["attributes"]["unique_id"]

    status, body = answer(stack.invoke("HooksFunction", klaviyo_request(event)))
    [(_, outcome)] = stack.deliver_events()

    assert status == 202
    assert body["reference"].startswith("order-confirmation/") and body["reference"] != "order-confirmation/pending"
    assert outcome.result["reference"] == body["reference"]
    assert sandbox.stats["sends"] == 1


def test_a_klaviyo_body_put_on_the_bus_by_the_storefront_itself_sends_the_same_way(stack, sandbox):
    event = {
        "version": "0",
        "id": "0b7e4c2a-4e0d-4f3b-9d7e-1a2b3c4d5e6f",
        "detail-type": "klaviyoEvent",
        "source": "com.example.storefront",
        "account": "123456789012",
        "time": "2026-11-22T15:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": placed_order(),
    }

    [(_, outcome)] = stack.publish(event, "StorefrontBus")

    assert outcome.result["status"] == "sent" and outcome.result["reference"] == "order-confirmation/1234"
    assert sandbox.stats["sends"] == 1


def test_a_lone_surrogate_anywhere_in_a_klaviyo_body_is_a_400_not_a_crash(stack, sandbox):
    raw = json.dumps(placed_order())[:-3] + ', "Note": "a\\ud800b"}}}'
    request = proxy_event("POST", "/events", {"Content-Type": "application/json"}, raw.encode(), "/events", {}, "v1")

    status, body = answer(stack.invoke("HooksFunction", request))

    assert status == 400, body
    assert "lone surrogate" in json.dumps(body)
    assert stack.deliver_events() == [] and sandbox.stats["sends"] == 0


def test_a_catalog_without_klaviyo_triggers_ignores_klaviyo_events(stack, sandbox, tmp_path):
    catalog = tmp_path / "catalog.toml"
    catalog.write_text(
        "[messages.only-api]\nlistId = 300001\ntransactionalMessageId = 7001\n[messages.only-api.fields]\nx = 1\n"
    )
    stack.env_overrides["CATALOG_PATH"] = str(catalog)

    status, body = answer(stack.invoke("HooksFunction", sample("klaviyo-05-placed-order.json")))

    assert status == 200 and body["status"] == "ignored" and "klaviyoEvent" in body["detail"]
    assert stack.deliver_events() == [] and sandbox.stats["sends"] == 0
