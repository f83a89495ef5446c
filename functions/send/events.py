"""Storefront events from EventBridge: each catalog trigger sends its message once per event, and an SMS trigger
its SMS at most once (to the event's phone number, when it has one).

Shopify webhooks (detail-type shopifyWebhook) and Klaviyo Create Event bodies (klaviyoEvent) come as the
platforms send them; a topic or metric the catalog does not name is ignored, not parked.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import ValidationError

from listrak_kit import snapstart
from listrak_kit.aws.dead_letters import failure_record
from listrak_kit.errors import InvalidRequest, NotTriggered, UnknownMessage
from listrak_kit.observability import logger, observed
from listrak_kit.send.event_mapping import request_from_event
from listrak_kit.services import SendPath, count, send_path
from listrak_kit.settings import SendSettings, load_settings
from listrak_kit.sms.event_mapping import sms_request_from_event

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

CATALOG = Path(__file__).with_name("catalog.toml")


class StorefrontEvent(EventBridgeModel):
    detail: dict[str, Any]


@cache
def path() -> SendPath:
    return send_path(load_settings(SendSettings), default_catalog=CATALOG)


def _prime() -> None:
    path()
    sample: dict[str, Any] = {"version": "0", "id": "snapshot", "detail-type": "Placed Order", "source": "storefront"}
    sample |= {"account": "0", "time": "2026-01-01T00:00:00Z", "region": "us-east-1", "resources": [], "detail": {}}
    parse(event=sample, model=StorefrontEvent)


snapstart.install(_prime, modules=("email_validator",))


@observed(correlation_id_path=correlation_paths.EVENT_BRIDGE)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # A transient failure fails the invocation: Lambda retries it, then parks it in the dead-letter queue. An event
    # that is wrong in itself is parked at once (retries would fail alike). A send whose outcome is pending returns
    # normally: the reconciler settles it, and a redelivery would only wait for it.
    path().begin(context)
    try:
        return _send(parse(event=event, model=StorefrontEvent))
    except NotTriggered as ignored:
        logger.info("event ignored", extra={"reason": str(ignored)})
        count("EventIgnored")
        return {"status": "ignored", "reason": str(ignored)}
    except (ValidationError, InvalidRequest, UnknownMessage) as permanent:
        park = path().dead_letters
        if park is None:
            raise
        record = failure_record(
            event, function_arn=context.invoked_function_arn, request_id=context.aws_request_id, error=permanent
        )
        try:
            park.park(record)
        except Exception:  # too large for SQS, or SQS down: fail it, and Lambda's own retries and destination act
            logger.exception("event could not be parked")
            raise permanent from None
        count("EventParkedPermanent")
        reason = record["responsePayload"]["errorMessage"]  # masked: it may quote the event's own values
        logger.warning("event parked: it cannot be sent as it is", extra={"reason": reason})
        return {"status": "parked", "reason": reason}


def _send(event: StorefrontEvent) -> dict[str, Any]:
    sender = path().service
    sms = _send_sms(event)
    try:
        request = request_from_event(
            sender.catalog, detail_type=event.detail_type, detail=event.detail, event_id=event.id
        )
    except (NotTriggered, UnknownMessage):
        if sms is not None:  # an event that triggers only an SMS
            return sms
        raise
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
