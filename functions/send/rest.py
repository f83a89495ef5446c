"""POST /messages: send a Listrak transactional email, or a transactional SMS (a body with a phoneNumber)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from pydantic import Discriminator, Tag

from listrak_kit import snapstart
from listrak_kit.api import json_response, rest_api, write_status
from listrak_kit.errors import ConfigurationError
from listrak_kit.observability import logger, masks_escaping_errors, metrics, tracer
from listrak_kit.send.models import SendRequest
from listrak_kit.services import send_path
from listrak_kit.settings import SendSettings, load_settings
from listrak_kit.sms.models import SmsRequest
from listrak_kit.sms.service import SmsOutcome

CATALOG = Path(__file__).with_name("catalog.toml")
app = rest_api()


@cache
def path():
    return send_path(load_settings(SendSettings), default_catalog=CATALOG)


def _channel(body: Any) -> str:
    """An SMS names its channel, or gives a phoneNumber; anything else is an email (as before SMS existed)."""
    if isinstance(body, dict):
        return "sms" if body.get("channel") == "sms" or "phoneNumber" in body else "email"
    return "sms" if isinstance(body, SmsRequest) else "email"


MessageRequest = Annotated[
    Annotated[SendRequest, Tag("email")] | Annotated[SmsRequest, Tag("sms")], Discriminator(_channel)
]


@app.post("/messages")
def post_message(request: Annotated[MessageRequest, Body()]) -> Response[dict]:
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
        location = f"/messages/{quote(result.reference, safe='')}"
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
    location = f"/messages/{quote(result.reference, safe='')}"
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


@tracer.capture_lambda_handler(capture_response=False)
@masks_escaping_errors
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict, context) -> dict:
    path().begin(context)
    return app.resolve(event, context)
