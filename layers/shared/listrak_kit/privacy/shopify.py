"""Shopify's mandatory compliance topics, after the door checked the HMAC: each is recorded as a privacy request
(the worker does the work) and answered at once. The request id comes from the webhook's id, so a redelivery
finds its request already recorded and changes nothing.

- customers/redact: the customer is forgotten (Listrak, the product's data, a tombstone), as POST /privacy/forget.
- customers/data_request: what the product holds on the customer is exported to S3 and announced on the bus.
- shop/redact: recorded and announced on the bus (see docs/privacy.md for what the product holds per shop).
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from listrak_kit.core.forgotten import Person
from listrak_kit.privacy.models import Kind
from listrak_kit.privacy.service import PrivacyRequests

TOPICS: dict[str, Kind] = {"customers/redact": "forget", "customers/data_request": "export", "shop/redact": "shop"}
_NAMESPACE = uuid.UUID("6f1c8a52-4b1e-4d7e-9a39-3a7d8f0c2b11")


class ComplianceTopics:
    topics = frozenset(TOPICS)

    def __init__(self, requests: PrivacyRequests):
        self._requests = requests

    def handle(self, topic: str, payload: dict[str, Any], headers: dict[str, str], raw_body: bytes) -> dict[str, Any]:
        lowered = {k.lower(): v for k, v in headers.items()}
        kind = TOPICS[topic]
        # The webhook's id is the same on every redelivery; without one, the body's hash stands in for it.
        webhook = lowered.get("x-shopify-webhook-id") or hashlib.sha256(raw_body).hexdigest()
        request_id = str(uuid.uuid5(_NAMESPACE, f"shopify:{topic}:{webhook}"))
        shop = str(payload.get("shop_domain") or lowered.get("x-shopify-shop-domain") or "unknown")
        found = payload.get("customer")
        customer: dict[str, Any] = found if isinstance(found, dict) else {}
        source: dict[str, Any] = {"platform": "shopify", "topic": topic, "shopDomain": shop, "webhookId": webhook}
        for name, value in (
            ("shopId", payload.get("shop_id")),
            ("customerId", customer.get("id")),
            ("ordersToRedact", payload.get("orders_to_redact")),
            ("ordersRequested", payload.get("orders_requested")),
            ("dataRequestId", _field(payload.get("data_request"), "id")),
        ):
            if value is not None:
                source[name] = value
        person = None
        if kind != "shop":
            email, phone = _text(customer.get("email")), _text(customer.get("phone"))
            if email is None and phone is None:
                return {"status": "ignored", "detail": f"{topic}: the customer has no address or phone number here"}
            person = Person(email, phone)
        view, created = self._requests.start(
            kind, person, requested_by=f"shopify:{shop}", request_id=request_id, source=source
        )
        return {
            "status": "accepted",
            "detail": f"{topic} recorded" if created else f"{topic} already recorded; nothing changed",
            "requestId": view.requestId,
        }


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _field(value: Any, name: str) -> Any:
    return value.get(name) if isinstance(value, dict) else None
