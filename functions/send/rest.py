"""POST /messages: send a Listrak transactional email, or a transactional SMS (a body with a phoneNumber)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from pydantic import Discriminator, Tag

from listrak_kit import snapstart
from listrak_kit.answers import LISTRAK_REFUSED, MISCONFIGURED, RETRY_AFTER, UNAVAILABLE, answers, ok
from listrak_kit.api import json_response, public_url, rest_api, write_status
from listrak_kit.errors import ConfigurationError
from listrak_kit.observability import observed
from listrak_kit.send.models import SendRequest, SendResult
from listrak_kit.services import SendPath, send_path
from listrak_kit.settings import SendSettings, load_settings
from listrak_kit.sms.models import SmsRequest, SmsResult
from listrak_kit.sms.service import SmsOutcome

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponseHeader
    from aws_lambda_powertools.utilities.typing import LambdaContext

CATALOG = Path(__file__).with_name("catalog.toml")
app = rest_api()


@cache
def path() -> SendPath:
    return send_path(load_settings(SendSettings), default_catalog=CATALOG)


PENDING_BODY = {
    "allOf": [
        {"$ref": "#/components/schemas/SendResult"},
        {
            "type": "object",
            "required": ["detail", "statusUrl"],
            "properties": {
                "detail": {"type": "string"},
                "statusUrl": {"type": "string", "description": "GET it (or repeat the request) for the outcome"},
            },
        },
    ]
}
PENDING_HEADERS: dict[str, OpenAPIResponseHeader] = {
    **RETRY_AFTER,
    "Location": {"description": "The send's status: GET /messages/{reference}.", "schema": {"type": "string"}},
}
SENT = {
    "reference": "order-1001",
    "status": "sent",
    "message": "order-confirmation",
    "listId": 300001,
    "transactionalMessageId": 7001,
    "resendKey": "0f8fad5b-d9cb-469f-a165-70867728950e",
    "sentAt": "2026-11-22T15:00:00Z",
    "resendableUntil": "2026-12-22T15:00:00Z",
    "attempts": 1,
    "failure": None,
}
# The samples in events/ (api-01, api-03): valid against the sample catalog and the local stack's Listrak.
BY_NAME = {
    "emailAddress": "jane.doe@example.com",
    "message": "order-confirmation",
    "reference": "order-1001",
    "fields": {"firstName": "Jane", "orderNumber": "1001", "orderTotal": "52.95"},
    "items": [
        {
            "ProductName": "Linen shirt",
            "Quantity": 1,
            "ItemPrice": "$39.00",
            "ImageURL": "https://shop.example.com/img/linen-shirt.jpg",
        }
    ],
}
BY_IDS = {
    "emailAddress": "sam.lee@example.com",
    "listId": 300001,
    "transactionalMessageId": 7003,
    "segmentationFieldValues": [
        {"segmentationFieldId": 5101, "value": "Sam"},
        {"segmentationFieldId": 5109, "value": "https://shop.example.com/reset/8f3a"},
    ],
}

# events/api-11: an SMS is told apart by `channel: "sms"` or by its phoneNumber.
SMS_BY_NAME = {
    "message": "shipping-update-sms",
    "phoneNumber": "(555) 123-4567",
    "fields": {"orderNumber": "1001", "carrier": "UPS", "trackingNumber": "1Z999AA10123456784"},
    "reference": "sms-ship-1001",
}


def _channel(body: Any) -> str:
    """An SMS names its channel, or gives a phoneNumber; anything else is an email (as before SMS existed)."""
    if isinstance(body, dict):
        return "sms" if body.get("channel") == "sms" or "phoneNumber" in body else "email"
    return "sms" if isinstance(body, SmsRequest) else "email"


MessageRequest = Annotated[
    Annotated[SendRequest, Tag("email")] | Annotated[SmsRequest, Tag("sms")], Discriminator(_channel)
]


@app.post(
    "/messages",
    summary="Send a transactional email or SMS",
    description="By catalog message name (`message`, with named `fields` and `items`) or by Listrak's raw IDs "
    "(`listId` and `transactionalMessageId`, with `segmentationFieldValues`). One email per reference: a repeat "
    'replays the first answer. A body with `channel: "sms"` or a `phoneNumber` is an SMS (a catalog `[sms.*]` '
    "name with its `fields`, or raw `senderCodeId`, `phoneListId`, `transactionalMessageId` and "
    "`messageContent`), sent at most once per reference; its answer is an `SmsResult`.",
    tags=["send"],
    responses=answers(
        {
            201: ok("Sent: a SendResult, or an SMS's SmsResult", SendResult | SmsResult, example=SENT),
            200: ok("This reference was sent before: the first answer, replayed", SendResult | SmsResult, example=SENT),
            202: ok(
                "Listrak's answer did not say whether the email went (status sending or pending): it is confirmed "
                "from Listrak's Activity, and sent once more only if Activity never shows it; never twice. An SMS: "
                "status unconfirmed (never sent again) or sending (another request holds it)",
                schema=PENDING_BODY,
                headers=PENDING_HEADERS,
            ),
        },
        {
            400: "Invalid request; every problem is listed by field, and nothing was sent",
            404: "The message is not in the catalog",
            409: "The reference was already used for a different payload, or that send is still in flight; or "
            "(an SMS, status skipped) the number has no consent on the phone list, and nothing was sent",
            422: "Listrak knows no list or transactional message under the raw IDs given; each is named; "
            "nothing was sent",
            500: MISCONFIGURED,
            502: LISTRAK_REFUSED + "; or (status failed) Listrak's Activity never showed this send after every attempt",
            503: UNAVAILABLE,
        },
    ),
)
def post_message(
    request: Annotated[
        MessageRequest,
        Body(
            openapi_examples={
                "by catalog name": {"summary": "A catalog message, its fields and items", "value": BY_NAME},
                "by raw IDs": {"summary": "Listrak's list and message IDs", "value": BY_IDS},
                "an SMS": {"summary": "A catalog SMS to a phone number (channel sms)", "value": SMS_BY_NAME},
            }
        ),
    ],
) -> Response[dict]:
    key = app.current_event.headers.get("idempotency-key")
    if isinstance(request, SmsRequest):
        sms = path().sms
        if sms is None:
            raise ConfigurationError("this function sends no SMS")
        return _sms_answer(sms.send(request, idempotency_key=key))
    outcome = path().service.send(request, idempotency_key=key)
    result = outcome.result
    body = result.model_dump()
    headers = None
    if outcome.retry_after is not None:
        # Listrak's answer did not say whether the email went: Activity will, and it is never sent twice.
        location = public_url(app.current_event.raw_event, "messages", result.reference)
        body["statusUrl"] = location
        body["detail"] = "the outcome is being confirmed with Listrak; repeat this request or GET statusUrl"
        if result.status == "unconfirmed":
            body["detail"] = f"whether it was sent cannot be confirmed ({result.failure}); an operator settles it"
        headers = {"Retry-After": str(outcome.retry_after), "Location": location}
    elif result.status == "failed":
        body["message"] = f"reference {result.reference!r} was never sent: {result.failure}"
    return json_response(write_status(result.status, outcome.replayed), body, headers)


def _sms_answer(outcome: SmsOutcome) -> Response[dict]:
    result = outcome.result
    body = result.model_dump()
    location = public_url(app.current_event.raw_event, "messages", result.reference)
    if result.status == "skipped":
        # No consent: nothing was sent, and a transactional SMS never subscribes anyone.
        body["message"] = (
            f"no consent to text {result.to}: {result.reason} on phone list {result.phoneListId}; nothing was sent"
        )
        return json_response(409, body)
    if result.status == "unconfirmed":
        body["statusUrl"] = location
        body["detail"] = f"whether it was sent cannot be confirmed ({result.failure}); an operator settles it"
        return json_response(202, body, {"Location": location})
    if result.status == "sending":
        body["statusUrl"] = location
        body["detail"] = "another request is sending it now; it is sent at most once"
        return json_response(202, body, {"Retry-After": "2", "Location": location})
    return json_response(write_status(result.status, outcome.replayed), body)


snapstart.install(lambda: (path(), snapstart.rehearse(app, "POST", "/messages")), modules=("email_validator",))


@observed(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    path().begin(context)
    return app.resolve(event, context)
