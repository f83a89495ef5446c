"""Shopify's HTTPS webhooks: the signature of the raw body, and the same detail its EventBridge source emits."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

DETAIL_TYPE = "shopifyWebhook"
SIGNATURE_HEADER = "x-shopify-hmac-sha256"
TOPIC_HEADER = "x-shopify-topic"
# The headers Shopify's EventBridge source puts in detail.metadata (the signature is not among them).
METADATA_HEADERS = (
    "Content-Type",
    "X-Shopify-Topic",
    "X-Shopify-Shop-Domain",
    "X-Shopify-Order-Id",
    "X-Shopify-Test",
    "X-Shopify-Webhook-Id",
    "X-Shopify-Event-Id",
    "X-Shopify-API-Version",
    "X-Shopify-Triggered-At",
)


def signature_of(raw_body: bytes, secret: str) -> str:
    """What Shopify sends in X-Shopify-Hmac-Sha256: base64 of the HMAC-SHA256 of the raw body."""
    return base64.b64encode(hmac.new(secret.encode("utf-8"), raw_body, hashlib.sha256).digest()).decode("ascii")


def is_signed(raw_body: bytes, signature: str | None, secret: str) -> bool:
    if not signature:
        return False
    # Constant-time, on bytes: a non-ASCII header must not raise before the compare.
    return hmac.compare_digest(signature_of(raw_body, secret).encode("ascii"), signature.strip().encode("utf-8"))


def webhook_detail(headers: Mapping[str, str], payload: Any) -> dict[str, Any]:
    """The EventBridge detail Shopify itself emits for this webhook: {"payload": ..., "metadata": {headers}}."""
    lowered = {k.lower(): v for k, v in headers.items()}
    metadata = {name: lowered[name.lower()] for name in METADATA_HEADERS if name.lower() in lowered}
    return {"payload": payload, "metadata": metadata}


def signed_key(raw_body: bytes, payload: dict[str, Any]) -> str:
    """The webhook's key from what the signature covers: the body's own id and a hash of the body. The event and
    webhook id headers are not signed: a body posted again with them changed is the same webhook."""
    return f"{payload.get('id', 'body')}-{hashlib.sha256(raw_body).hexdigest()[:24]}"


def topic_problem(topic: str, payload: dict[str, Any]) -> str | None:
    """Why the signed body is not of the (unsigned) topic's kind, or None when it is."""
    is_order = "line_items" in payload or "order_number" in payload
    family = topic.split("/", 1)[0]
    if family == "orders" and not is_order:
        return f"{topic}: the signed body is not an order"
    if family == "customers" and (is_order or "email" not in payload):
        return f"{topic}: the signed body is not a customer"
    if topic == "orders/fulfilled" and not payload.get("fulfillments"):
        return f"{topic}: the signed order has no fulfillment"
    return None
