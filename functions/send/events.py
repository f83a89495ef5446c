"""Storefront events from EventBridge: each catalog trigger sends its message once per event, and an SMS trigger
its SMS at most once (to the event's phone number, when it has one).

Shopify webhooks (detail-type shopifyWebhook) and Klaviyo Create Event bodies (klaviyoEvent) come as the
platforms send them; a topic or metric the catalog does not name is ignored, not parked.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.parser import event_parser, parse
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel

from listrak_kit import snapstart
from listrak_kit.errors import InvalidRequest, NotTriggered, UnknownMessage
from listrak_kit.observability import logger, masks_escaping_errors, metrics, tracer
from listrak_kit.send.event_mapping import request_from_event
from listrak_kit.services import send_path
from listrak_kit.settings import SendSettings, load_settings
from listrak_kit.sms.event_mapping import sms_request_from_event

CATALOG = Path(__file__).with_name("catalog.toml")


class StorefrontEvent(EventBridgeModel):
    detail: dict[str, Any]


@cache
def path():
    return send_path(load_settings(SendSettings), default_catalog=CATALOG)


def _prime() -> None:
    path()
    sample: dict[str, Any] = {"version": "0", "id": "snapshot", "detail-type": "Placed Order", "source": "storefront"}
    sample |= {"account": "0", "time": "2026-01-01T00:00:00Z", "region": "us-east-1", "resources": [], "detail": {}}
    parse(event=sample, model=StorefrontEvent)


snapstart.install(_prime, modules=("email_validator",))


@tracer.capture_lambda_handler(capture_response=False)
@masks_escaping_errors
@logger.inject_lambda_context(correlation_id_path=correlation_paths.EVENT_BRIDGE)
@metrics.log_metrics(capture_cold_start_metric=True)
@event_parser(model=StorefrontEvent)
def lambda_handler(event: StorefrontEvent, context) -> dict:
    # Any exception fails the invocation: Lambda retries it, then parks it in the dead-letter queue. A send whose
    # outcome is pending returns normally: the reconciler settles it, and a redelivery would only wait for it.
    path().begin(context)
    sender = path().service
    sms = _send_sms(event)
    try:
        request = request_from_event(
            sender.catalog, detail_type=event.detail_type, detail=event.detail, event_id=event.id
        )
    except (NotTriggered, UnknownMessage) as ignored:
        if sms is not None:  # an event that triggers only an SMS
            return sms
        if isinstance(ignored, UnknownMessage):
            raise
        logger.info("event ignored", extra={"reason": str(ignored)})
        return {"status": "ignored", "reason": str(ignored)}
    outcome = sender.send(request)
    result: dict[str, Any] = {
        "reference": outcome.result.reference,
        "status": "duplicate" if outcome.replayed and outcome.result.status == "sent" else outcome.result.status,
        "resendKey": outcome.result.resendKey,
    }
    return result | ({"sms": sms} if sms is not None else {})


def _send_sms(event: StorefrontEvent) -> dict[str, Any] | None:
    """The event's SMS, if it triggers one. A number or field that cannot be sent is reported, not retried (the
    event's email still goes); an SMS without consent is skipped. Only Listrak being unavailable fails the
    invocation, and a redelivery then sends the SMS once, as it never went."""
    service = path().sms
    if service is None:
        return None
    try:
        triggered = sms_request_from_event(
            service.catalog, detail_type=event.detail_type, detail=event.detail, event_id=event.id
        )
        if triggered is None:
            return None
        try:
            sent = service.send(triggered.request)
        except InvalidRequest as refused:
            raise triggered.named(refused) from None
    except InvalidRequest as refused:
        logger.warning("sms not sendable", extra={"problems": str(refused)})
        return {"channel": "sms", "status": "rejected", "reason": str(refused)}
    result = sent.result
    status = "duplicate" if sent.replayed and result.status == "sent" else result.status
    answer = {"channel": "sms", "reference": result.reference, "status": status}
    return answer | ({"reason": result.reason} if result.reason else {})
