"""Accepts a storefront's event at an HTTPS door: checks it, puts it on the storefront bus, names its reference.

The send itself happens where every EventBridge event is sent (the same mapping, the same one-per-reference
rule), so a slow Listrak never holds the caller. An event the catalog cannot send is refused here, with its
reasons, before anything is queued.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any, Protocol

from listrak_kit.catalog.model import Catalog, Trigger
from listrak_kit.errors import (
    FieldProblem,
    InvalidRequest,
    NotTriggered,
    PayloadTooLarge,
    Unauthenticated,
    UnknownMessage,
)
from listrak_kit.send import shopify
from listrak_kit.send.event_mapping import checked_request, reference_key, trigger_for
from listrak_kit.send.hook_models import HookAnswer

KLAVIYO_DETAIL_TYPE = "klaviyoEvent"
KLAVIYO_SOURCE = "listrak.events"
SHOPIFY_SOURCE = "listrak.webhooks.shopify"
# EventBridge takes at most 256 KB per entry, envelope included.
MAX_DETAIL_BYTES = 250_000


class Bus(Protocol):
    def put(self, *, source: str, detail_type: str, detail: str) -> str:
        """Puts one event on the bus; returns its EventBridge id."""


class Secret(Protocol):
    def get(self) -> str: ...


class ComplianceTopics(Protocol):
    """Shopify's mandatory compliance topics (customers/redact, ...): handled by the privacy feature."""

    topics: frozenset[str]

    def handle(
        self, topic: str, payload: dict[str, Any], headers: dict[str, str], raw_body: bytes
    ) -> dict[str, Any]: ...


class HookService:
    def __init__(
        self, *, catalog: Catalog, bus: Bus, shopify_secret: Secret, compliance: ComplianceTopics | None = None
    ):
        self.catalog = catalog
        self._bus = bus
        self._shopify_secret = shopify_secret
        self._compliance = compliance

    def shopify_webhook(self, raw_body: bytes, headers: dict[str, str]) -> HookAnswer:
        lowered = {k.lower(): v for k, v in headers.items()}
        if not shopify.is_signed(raw_body, lowered.get(shopify.SIGNATURE_HEADER), self._shopify_secret.get()):
            raise Unauthenticated("the X-Shopify-Hmac-Sha256 signature is missing or does not match the body")
        topic = lowered.get(shopify.TOPIC_HEADER)
        if not topic:
            raise InvalidRequest([FieldProblem("X-Shopify-Topic", "missing (it selects the message to send)")])
        payload = _json_object(raw_body)
        topic = topic.strip()
        if self._compliance is not None and topic in self._compliance.topics:  # signed; their own checks
            return HookAnswer.model_validate(self._compliance.handle(topic, payload, headers, raw_body))
        if problem := shopify.topic_problem(topic, payload):
            raise InvalidRequest([FieldProblem("X-Shopify-Topic", f"{problem}; nothing was sent")])
        detail = shopify.webhook_detail(headers, payload)
        # Only the body is signed: the reference comes from it, never from the event or webhook id headers.
        detail["metadata"].pop("X-Shopify-Webhook-Id", None)
        detail["metadata"]["X-Shopify-Event-Id"] = shopify.signed_key(raw_body, payload)
        return self._accept(source=SHOPIFY_SOURCE, detail_type=shopify.DETAIL_TYPE, detail=detail)

    def klaviyo_event(self, body: dict[str, Any]) -> HookAnswer:
        attributes = body.get("data", {}).get("attributes") if isinstance(body.get("data"), dict) else None
        if isinstance(attributes, dict) and not attributes.get("unique_id") and (key := klaviyo_key(attributes)):
            body = {**body, "data": {**body["data"], "attributes": {**attributes, "unique_id": key}}}
        return self._accept(source=KLAVIYO_SOURCE, detail_type=KLAVIYO_DETAIL_TYPE, detail=body)

    def _accept(self, *, source: str, detail_type: str, detail: dict[str, Any]) -> HookAnswer:
        sms = self.catalog.sms_trigger_for(detail_type=detail_type, detail=detail)
        email: tuple[str, Trigger] | None
        try:
            email = trigger_for(self.catalog, detail_type=detail_type, detail=detail)
        except (NotTriggered, UnknownMessage) as ignored:
            if sms is None:  # (a catalog without any trigger of this kind ignores them all)
                said = str(ignored) if isinstance(ignored, NotTriggered) else f"{ignored}; nothing was sent"
                return HookAnswer(status="ignored", detail=said)
            email = None  # it sends an SMS only
        if email is not None:
            # The problems the send would meet, found now: nothing is queued that cannot be sent.
            checked_request(self.catalog, *email, detail=detail, event_id="pending")
        triggered = email or sms
        assert triggered is not None
        name, read_by = triggered
        text = json.dumps(detail, separators=(",", ":"), ensure_ascii=False)
        try:
            size = len(text.encode("utf-8"))
        except UnicodeEncodeError:
            raise InvalidRequest(
                [FieldProblem("(body)", "is not valid Unicode text (it holds a lone surrogate)")]
            ) from None
        if size > MAX_DETAIL_BYTES:
            raise PayloadTooLarge(f"the event is larger than {MAX_DETAIL_BYTES} bytes; nothing was queued")
        event_id = self._bus.put(source=source, detail_type=detail_type, detail=text)
        reference = f"{name}/{reference_key(read_by, detail) or event_id}"
        return HookAnswer(status="accepted", detail=f"queued: it sends {name} once", message=name, reference=reference)


def _json_object(raw_body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw_body)
    except (ValueError, RecursionError):
        raise InvalidRequest([FieldProblem("(body)", "the body is not valid JSON")]) from None
    if not isinstance(value, dict):
        raise InvalidRequest([FieldProblem("(body)", "the body must be a JSON object")])
    return value


def klaviyo_key(attributes: dict[str, Any]) -> str | None:
    """Klaviyo's own rule for an event without unique_id: the same profile, metric and time to the second are the
    same event. None when the event has no time (Klaviyo then takes the moment it receives it)."""
    profile = _at(attributes, "profile", "data")
    who = profile.get("id") or _at(profile, "attributes").get("email") or _at(profile, "attributes").get("external_id")
    metric = _at(attributes, "metric", "data", "attributes").get("name")
    moment = attributes.get("time")
    if not who or not metric or not isinstance(moment, (str, int, float)) or isinstance(moment, bool):
        return None
    try:
        second = (
            int(datetime.fromisoformat(moment.replace("Z", "+00:00")).timestamp())
            if isinstance(moment, str)
            else int(moment)
        )
    except ValueError:
        return None
    text = json.dumps([str(who).strip().lower(), str(metric), second])
    return "k-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _at(value: Any, *path: str) -> dict[str, Any]:
    for name in path:
        value = value.get(name) if isinstance(value, dict) else None
    return value if isinstance(value, dict) else {}
